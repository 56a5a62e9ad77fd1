"""Tornado with its libcurl client: ``--impl=conformance.adapters.curl``.

Tornado has two implementations of ``AsyncHTTPClient``: ``SimpleAsyncHTTPClient`` (the
default) and ``CurlAsyncHTTPClient`` (``tornado.curl_httpclient``, on pycurl and libcurl).
This adapter is the installed Tornado in every part but ``httpclient``, whose
``AsyncHTTPClient`` is ``CurlAsyncHTTPClient``: the client-side checks (``http11.client_*``,
docs/http-client.md) then judge libcurl's client, e.g.::

    pip install pycurl            # or: pip install 'tornado-conformance[curl]'
    tornado-conformance --impl=conformance.adapters.curl --check 'http11.client_*'

Rules:

1. Nothing global is changed: ``AsyncHTTPClient.configure()`` is not called. The part is a
   copy of ``tornado.httpclient`` whose ``AsyncHTTPClient`` names the curl class, which
   Tornado instantiates directly (a subclass of a ``Configurable`` is its own implementation).
2. The report names the client class and libcurl's version; the expectations shipped for it
   are ``deviations/tornado-curl.toml`` (the client-side checks only).
3. Importing this module needs no pycurl; building the adapter does, and says how to get it.
"""

from __future__ import annotations

import types
from dataclasses import replace
from typing import Any

from .._version import version_tuple
from ..errors import ImplementationError
from ..identity import Identity
from ..impl import TornadoLike


class CurlTornado(TornadoLike):
    """The installed Tornado, its ``AsyncHTTPClient`` being ``CurlAsyncHTTPClient``."""

    expectations_family = "tornado-curl"

    def __init__(self) -> None:
        import tornado

        try:
            import pycurl
            from tornado import curl_httpclient, httpclient
        except ImportError as exc:
            raise ImplementationError(
                f"conformance.adapters.curl needs pycurl ({exc}); install it with: pip install pycurl (or 'tornado-conformance[curl]')"
            ) from None
        super().__init__(tornado)
        self.name = "tornado+curl"
        shim = types.ModuleType("tornado.httpclient", httpclient.__doc__)
        shim.__dict__.update({k: v for k, v in vars(httpclient).items() if not k.startswith("__")})
        shim.AsyncHTTPClient = curl_httpclient.CurlAsyncHTTPClient  # type: ignore[attr-defined]
        self._httpclient = shim
        self._curl_version = str(pycurl.version)

    def _release(self) -> tuple[int, ...] | None:
        return version_tuple(self.version)  # the installed Tornado's release, for its API translations

    def _find_part(self, name: str) -> Any | None:
        if name == "httpclient":
            return self._httpclient
        return super()._find_part(name)

    def identity(self) -> Identity:
        ident = super().identity()
        return replace(ident, http_client=f"{ident.http_client} ({self._curl_version})")


conformance_adapter = CurlTornado
