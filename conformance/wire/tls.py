"""Certificates for the TLS checks, made at run time by trustme: nothing is read from disk.

Rules:

1. Each `Authority` is a fresh certificate authority of its own: a certificate it issues is
   trusted only by a context (or a CA file) that trusts that authority, so a check controls
   exactly what the peer may trust.
2. The APIs that take file names (Tornado's ``ssl_options`` dict, ``ca_certs``,
   ``client_cert``) get PEM files written into the directory the check gives (pytest's
   ``tmp_path``); the APIs that take an ``ssl.SSLContext`` get one.
3. trustme (and the cryptography package under it) is imported when a check asks for an
   authority: without it the check is *not provided*, never an error.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any


class Authority:
    """A throw-away certificate authority and the certificates it issues.

    Example::

        ca = Authority(tmp_path)
        srv = server.serve(handlers, ssl_options=ca.server_context("127.0.0.1"))
        conn = await http.connect(srv, ssl_context=ca.client_context())
    """

    def __init__(self, directory: Path) -> None:
        try:
            import trustme
        except ImportError as exc:  # pragma: no cover - trustme is a dependency of the kit
            from .._meta import not_provided

            not_provided(f"the TLS checks make their certificates with trustme, which does not import here ({exc})")
        self._trustme: Any = trustme
        self.ca: Any = trustme.CA()
        self.directory = directory
        self._written = 0

    def _write(self, blob: Any, stem: str) -> str:
        self._written += 1
        path = self.directory / f"{stem}-{self._written}.pem"
        blob.write_to_path(str(path))
        return str(path)

    # -- the server's side ----------------------------------------------------------------
    def issue(self, *names: str) -> Any:
        """A certificate (trustme ``LeafCert``) for ``names`` (DNS names or IP addresses)."""
        return self.ca.issue_cert(*names)

    def server_context(self, *names: str, client_certificates: bool = False) -> ssl.SSLContext:
        """A server-side context presenting a certificate for ``names``; with
        ``client_certificates``, one that requires a client certificate this authority issued."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.issue(*names).configure_cert(context)
        if client_certificates:
            self.ca.configure_trust(context)
            context.verify_mode = ssl.CERT_REQUIRED
        return context

    def cert_files(self, *names: str) -> tuple[str, str]:
        """``(certfile, keyfile)``: the PEM files of a certificate for ``names``."""
        cert = self.issue(*names)
        return self._write(cert.cert_chain_pems[0], "cert"), self._write(cert.private_key_pem, "key")

    # -- the client's side ----------------------------------------------------------------
    def ca_file(self) -> str:
        """The authority's certificate as a PEM file (what ``ca_certs`` names)."""
        return self._write(self.ca.cert_pem, "ca")

    def client_context(self, *, check_hostname: bool = True, certificate_for: str | None = None) -> ssl.SSLContext:
        """A client-side context that trusts this authority only (and checks the server's
        name unless ``check_hostname`` is false; the certificate is verified either way);
        ``certificate_for`` gives it a client certificate for that name."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, and trusts no one yet
        self.ca.configure_trust(context)
        context.check_hostname = check_hostname
        if certificate_for is not None:
            self.issue(certificate_for).configure_cert(context)
        return context


def names_in(certificate: dict[str, Any] | None) -> list[str]:
    """The subjectAltName values of a peer certificate as ``ssl.SSLSocket.getpeercert()`` gives it."""
    if not certificate:
        return []
    return [str(value) for _kind, value in certificate.get("subjectAltName", ())]


def peer_names(stream: Any) -> list[str]:
    """The names in the certificate the peer presented on a TLS stream the kit opened
    (`conformance.wire.HTTPConnection.stream`); [] when it presented none or is not TLS."""
    from anyio.streams.tls import TLSAttribute

    return names_in(stream.extra(TLSAttribute.peer_certificate, None))
