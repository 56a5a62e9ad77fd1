"""HTTPS: the implementation's HTTPServer with ``ssl_options``, and its AsyncHTTPClient
against the kit's HTTPS server. Certificates are made per check by a throw-away authority
(`conformance.wire.tls.Authority`, trustme), so each check decides what is trusted.

The server side: ``ssl_options`` as an ``ssl.SSLContext`` and as the dict of file names
serve HTTPS; a request says it came over https (``protocol``, ``full_url()``); a plain-HTTP
request to the HTTPS port gets no HTTP response; the context's ``sni_callback`` picks the
certificate by server name; connections persist over TLS; a client certificate reaches
``get_ssl_certificate()``. The client side: certificates are verified by default
(``validate_cert``), ``ca_certs`` adds a trust anchor, the name is checked, ``validate_cert=
False`` turns both off, ``ssl_options`` (a context) overrides the rest, and ``client_cert``
is presented.

References: RFC 9110 §4.3.4 (https://www.rfc-editor.org/rfc/rfc9110#section-4.3.4), RFC 9112
§9.3 and §9.7; Tornado docs: httpserver.HTTPServer, httputil.HTTPServerRequest,
httpclient.HTTPRequest (https://www.tornadoweb.org/en/stable/httpclient.html).
"""

from __future__ import annotations

import json

import pytest

from conformance import Level, Violation, check, requires
from conformance.wire import build_request, receive_some, with_deadline
from conformance.wire.tls import Authority, peer_names

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]


def _scheme_app(impl):
    web = impl.part("web")

    class Scheme(web.RequestHandler):
        def get(self):
            self.set_header("Content-Type", "application/json")
            self.write(json.dumps({"protocol": self.request.protocol, "full_url": self.request.full_url()}))

    return [("/.*", Scheme)]


def _hello_app(impl):
    web = impl.part("web")

    class Hello(web.RequestHandler):
        def get(self):
            self.write("hello over tls")

    return [("/.*", Hello)]


async def _https_request(http, srv, ca, *, path="/", server_hostname=None, check_hostname=True):
    """One GET over TLS: (response, the names in the server's certificate, the transcript).
    A failed handshake (`TLSHandshakeFailed`) or a missing response fails the check."""
    context = ca.client_context(check_hostname=check_hostname)
    async with await http.connect(srv, ssl_context=context, server_hostname=server_hostname) as conn:
        names = peer_names(conn.stream)
        await conn.send_request("GET", path)
        response = await conn.response_or_close("GET")
    if response is None:
        raise Violation(
            f"the implementation completed the TLS handshake but closed the connection without answering GET {path}.",
            expected="a response over TLS",
            observed="the connection closed",
            transcript=conn.transcript,
        )
    return response, names, conn.transcript


# -- the server: ssl_options --------------------------------------------------------------


@check("Tornado docs: httpserver.HTTPServer (ssl_options)", Level.TORNADO)
@pytest.mark.parametrize("form", ["ssl-context", "dict"])
async def test_https_server_serves_requests(impl, server, http, tmp_path, form):
    """Tornado docs, HTTPServer: "To make this server serve SSL traffic, send the
    ``ssl_options`` keyword argument with an ``ssl.SSLContext`` object. For compatibility with
    older versions of Python ``ssl_options`` may also be a dictionary of keyword arguments for
    the ``ssl.SSLContext.wrap_socket`` method." The kit trusts only the check's authority and
    checks the certificate's name (127.0.0.1) before it sends GET."""
    ca = Authority(tmp_path)
    if form == "ssl-context":
        ssl_options = ca.server_context("127.0.0.1")
    else:
        certfile, keyfile = ca.cert_files("127.0.0.1")
        ssl_options = {"certfile": certfile, "keyfile": keyfile}
    srv = server.serve(_hello_app(impl), ssl_options=ssl_options)
    response, _names, transcript = await _https_request(http, srv, ca)
    if response.status != 200 or response.body != b"hello over tls":
        raise Violation(
            f"the HTTPS server built with ssl_options as {'an SSLContext' if form == 'ssl-context' else 'a dict'} "
            "did not serve the handler's response.",
            expected="200 with body b'hello over tls'",
            observed=f"{response.describe()} with body {response.body[:80]!r}",
            transcript=transcript,
        )


@check("Tornado docs: httputil.HTTPServerRequest.protocol, full_url", Level.TORNADO)
@pytest.mark.parametrize("attribute", ["protocol", "full-url"])
async def test_request_over_tls_reports_the_https_scheme(impl, server, http, tmp_path, attribute):
    """Tornado docs, HTTPServerRequest.protocol: "The protocol used, either "http" or
    "https"." ``full_url()`` "Reconstructs the full URL for this request" from it. A request
    that came over TLS says https, or redirects and absolute links built from it send the
    client to plain HTTP."""
    ca = Authority(tmp_path)
    srv = server.serve(_scheme_app(impl), ssl_options=ca.server_context("127.0.0.1"))
    response, _names, transcript = await _https_request(http, srv, ca, path="/where?x=1")
    try:
        seen = json.loads(response.body)
    except ValueError:
        seen = {}
    if attribute == "protocol":
        expected, observed = "https", seen.get("protocol")
    else:
        expected, observed = f"https://127.0.0.1:{srv.port}/where?x=1", seen.get("full_url")
    if response.status != 200 or observed != expected:
        raise Violation(
            f"a request received over TLS reports {'its protocol' if attribute == 'protocol' else 'its full URL'} "
            "without the https scheme.",
            expected=repr(expected),
            observed=f"{observed!r} ({response.describe()}, body {response.body[:120]!r})",
            transcript=transcript,
        )


@check("RFC 9112 §9.7; Tornado docs: httpserver.HTTPServer (ssl_options)", Level.TORNADO)
async def test_plain_http_request_to_the_https_port_gets_no_http_response(
    impl, server, http, tmp_path, conformance_timeout
):
    """RFC 9112 §9.7: over HTTP/TLS the client "sends the TLS ClientHello to begin the TLS
    handshake"; a server given ``ssl_options`` speaks TLS on its port. A plain-HTTP request
    sent there must not be served in clear text (that would hand an https resource to an
    unprotected connection): the server ends the connection, with a TLS alert at most."""
    ca = Authority(tmp_path)
    srv = server.serve(_hello_app(impl), ssl_options=ca.server_context("127.0.0.1"))
    received = b""
    async with await http.connect(srv) as conn:
        await conn.send(build_request("GET", "/", host=f"127.0.0.1:{srv.port}"))

        async def until_closed_or_answered() -> None:
            nonlocal received
            while not (received.startswith(b"HTTP/") and b"\r\n\r\n" in received):
                data = await receive_some(conn.stream, conn.transcript)
                if not data:
                    return
                received += data

        await with_deadline(conformance_timeout, "close the connection", conn.transcript, until_closed_or_answered)
        if received.startswith(b"HTTP/"):
            raise Violation(
                "the implementation answered a plain-HTTP request on its HTTPS port in clear text.",
                expected="the connection closed (a TLS alert at most), no HTTP response",
                observed=received.split(b"\r\n", 1)[0].decode("latin-1"),
                transcript=conn.transcript,
            )


@check(
    "Tornado docs: httpserver.HTTPServer (ssl_options is an ssl.SSLContext); Python docs: ssl.SSLContext.sni_callback",
    Level.TORNADO,
)
async def test_sni_callback_picks_the_certificate_by_server_name(impl, server, http, tmp_path):
    """Tornado docs, HTTPServer: ``ssl_options`` is "an ssl.SSLContext object", used as it is;
    the context's ``sni_callback`` "will be called after the TLS Client Hello handshake
    message has been received" and may replace the connection's context. The callback here
    gives the name alt.example its own certificate; any other name gets the default one. The
    kit connects once with each name and reads the certificate presented."""
    ca = Authority(tmp_path)
    default = ca.server_context("default.example")
    alternative = ca.server_context("alt.example")

    def pick(connection, name, context):
        if name == "alt.example":
            connection.context = alternative

    default.sni_callback = pick
    srv = server.serve(_hello_app(impl), ssl_options=default)
    presented = {}
    for name in ("alt.example", "www.example"):
        response, names, _transcript = await _https_request(http, srv, ca, server_hostname=name, check_hostname=False)
        presented[name] = (names, response.status)
    expected = {"alt.example": (["alt.example"], 200), "www.example": (["default.example"], 200)}
    if presented != expected:
        raise Violation(
            "the certificate the server presented does not follow the SSLContext's sni_callback.",
            expected=f"server name -> (certificate names, status): {expected}",
            observed=str(presented),
            transcript="\n".join(c.transcript.format() for c in http.connections),
        )


@check("RFC 9112 §9.3", Level.SHOULD)
async def test_https_connection_is_persistent(impl, server, http, tmp_path):
    """RFC 9112 §9.3: "HTTP/1.1 defaults to the use of "persistent connections", allowing
    multiple requests and responses to be carried over a single connection." TLS changes
    nothing there, and a new TLS handshake per request is costly: the second request on the
    TLS connection is answered on it."""
    ca = Authority(tmp_path)
    srv = server.serve(_hello_app(impl), ssl_options=ca.server_context("127.0.0.1"))
    conn = await http.connect(srv, ssl_context=ca.client_context())
    async with conn:
        answers = []
        for _ in range(2):
            sent = await conn.send_request("GET", "/")
            response = await conn.response_or_close("GET")
            answers.append(response.describe() if response is not None else "the connection closed")
            if not sent or response is None or response.status != 200 or not response.keep_alive:
                break
    if answers != ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK"]:
        raise Violation(
            "the server did not answer a second request on the same TLS connection.",
            expected="two 200 responses on one connection",
            observed=str(answers),
            transcript=conn.transcript,
        )


@check("Tornado docs: httputil.HTTPServerRequest.get_ssl_certificate", Level.TORNADO)
async def test_client_certificate_reaches_the_handler(impl, server, http, tmp_path):
    """Tornado docs, HTTPServerRequest.get_ssl_certificate: "Returns the client's SSL
    certificate, if any. To use client certificates, the HTTPServer's
    ``ssl.SSLContext.verify_mode`` field must be set [...] By default, the return value is a
    dictionary (or None, if no client certificate is present)." The kit presents a
    certificate for client.example; the handler answers with its subjectAltName."""
    web = impl.part("web")

    class Peer(web.RequestHandler):
        def get(self):
            certificate = self.request.get_ssl_certificate()
            names = [value for _kind, value in (certificate or {}).get("subjectAltName", ())]
            self.write(json.dumps({"certificate": certificate is not None, "names": names}))

    ca = Authority(tmp_path)
    srv = server.serve([("/", Peer)], ssl_options=ca.server_context("127.0.0.1", client_certificates=True))
    conn = await http.connect(srv, ssl_context=ca.client_context(certificate_for="client.example"))
    async with conn:
        await conn.send_request("GET", "/")
        response = await conn.response_or_close("GET")
    body = response.body if response is not None else b""
    if response is None or response.status != 200 or json.loads(body or b"{}").get("names") != ["client.example"]:
        raise Violation(
            "the handler did not get the client certificate the kit presented from get_ssl_certificate().",
            expected='200 with {"certificate": true, "names": ["client.example"]}',
            observed=f"{response.describe()} with body {body[:160]!r}" if response else "the connection closed",
            transcript=conn.transcript,
        )


# -- the client: AsyncHTTPClient against the kit's HTTPS server ---------------------------


async def _https_origin(h11_server, context):
    async def respond(request, conn):
        await conn.respond(200, [("Content-Type", "text/plain")], b"secret")

    return await h11_server.listen(respond, ssl_context=context)


def _fetched_over(h11_server, fetched) -> str:
    tls = [c.tls_error for c in h11_server.kit.connections() if c.tls_error]
    return (
        f"{fetched.describe()}; requests the kit's server received: {[r.describe() for r in h11_server.requests]}"
        + (f"; TLS handshakes the client abandoned: {tls}" if tls else "")
    )


def _expect_refused(h11_server, fetched, what):
    if fetched.ok or h11_server.requests:
        raise Violation(
            what,
            expected="the fetch fails before any request is sent (a certificate error)",
            observed=_fetched_over(h11_server, fetched),
            transcript=h11_server.transcripts(),
        )


def _expect_served(h11_server, fetched, what):
    if not fetched.ok or fetched.code != 200 or fetched.body != b"secret":
        raise Violation(
            what,
            expected="a 200 response with body b'secret'",
            observed=_fetched_over(h11_server, fetched),
            transcript=h11_server.transcripts(),
        )


@check("RFC 9110 §4.3.4; Tornado docs: httpclient.HTTPRequest (validate_cert)", Level.MUST)
@pytest.mark.parametrize(
    "kwargs", [pytest.param({}, id="default"), pytest.param({"validate_cert": True}, id="validate-cert-true")]
)
@requires("httpclient")
async def test_client_refuses_a_certificate_it_does_not_trust(h11_server, tmp_path, kwargs):
    """RFC 9110 §4.3.4: "To establish a secured connection to dereference a URI, a client
    MUST verify that the service's identity is an acceptable match for the URI's origin
    server." Tornado docs, HTTPRequest: "validate_cert (bool) - For HTTPS requests, validate
    the server's certificate? Default is True." The kit's certificate comes from an authority
    the client was never told about."""
    origin = await _https_origin(h11_server, Authority(tmp_path).server_context("127.0.0.1"))
    fetched = await h11_server.fetch(origin.url("/"), **kwargs)
    _expect_refused(
        h11_server, fetched, "the client accepted a server certificate from an authority it does not trust."
    )


@check("RFC 9110 §4.3.4; Tornado docs: httpclient.HTTPRequest (ca_certs)", Level.MUST)
@requires("httpclient")
async def test_client_refuses_a_certificate_for_another_host(h11_server, tmp_path):
    """RFC 9110 §4.3.4: "The client MUST construct a reference identity from the service's
    host: if the host is a literal IP address, the reference identity is an IP-ID, otherwise
    the host is a name and the reference identity is a DNS-ID." The certificate is trusted
    (its authority is ``ca_certs``) but names other.example, not 127.0.0.1."""
    ca = Authority(tmp_path)
    origin = await _https_origin(h11_server, ca.server_context("other.example"))
    fetched = await h11_server.fetch(origin.url("/"), ca_certs=ca.ca_file())
    _expect_refused(
        h11_server,
        fetched,
        "the client accepted a certificate for other.example from the server at 127.0.0.1: the name was not checked.",
    )


@check("Tornado docs: httpclient.HTTPRequest (ca_certs)", Level.TORNADO)
@requires("httpclient")
async def test_client_trusts_the_ca_certs_it_is_given(h11_server, tmp_path):
    """Tornado docs, HTTPRequest: "ca_certs (str) - filename of CA certificates in PEM
    format, or None to use defaults." The server's certificate comes from the authority
    named there, so the fetch is served."""
    ca = Authority(tmp_path)
    origin = await _https_origin(h11_server, ca.server_context("127.0.0.1"))
    fetched = await h11_server.fetch(origin.url("/"), ca_certs=ca.ca_file())
    _expect_served(h11_server, fetched, "the client refused a certificate from the authority given as ca_certs.")


@check("RFC 9110 §4.3.4 (MAY); Tornado docs: httpclient.HTTPRequest (validate_cert)", Level.TORNADO)
@pytest.mark.parametrize("certificate", ["untrusted", "other-host"])
@requires("httpclient")
async def test_client_with_validate_cert_false_accepts_the_certificate(h11_server, tmp_path, certificate):
    """RFC 9110 §4.3.4: "Automated clients MAY provide a configuration setting that
    disables this check". Tornado's is ``validate_cert=False``: "For HTTPS requests,
    validate the server's certificate?" With it the client accepts a certificate from an
    unknown authority, and one for another name."""
    ca = Authority(tmp_path)
    origin = await _https_origin(
        h11_server, ca.server_context("127.0.0.1" if certificate == "untrusted" else "other.example")
    )
    kwargs = (
        {"validate_cert": False} if certificate == "untrusted" else {"validate_cert": False, "ca_certs": ca.ca_file()}
    )
    fetched = await h11_server.fetch(origin.url("/"), **kwargs)
    _expect_served(
        h11_server, fetched, f"the client refused the certificate ({certificate}) although validate_cert=False."
    )


@check("Tornado docs: httpclient.HTTPRequest (ssl_options)", Level.TORNADO)
@pytest.mark.parametrize("case", ["trusting-context", "overrides-ca-certs"])
@requires("httpclient")
async def test_client_uses_the_ssl_context_given_as_ssl_options(h11_server, tmp_path, case):
    """Tornado docs, HTTPRequest: "ssl_options - ssl.SSLContext object for use in
    simple_httpclient (unsupported by curl_httpclient). Overrides validate_cert, ca_certs,
    client_key, and client_cert." A context trusting the server's authority is served; a
    context trusting another authority is refused even though ``ca_certs`` names the right
    one."""
    ca = Authority(tmp_path)
    origin = await _https_origin(h11_server, ca.server_context("127.0.0.1"))
    if case == "trusting-context":
        fetched = await h11_server.fetch(origin.url("/"), ssl_options=ca.client_context())
        _expect_served(h11_server, fetched, "the client did not use the SSLContext given as ssl_options.")
    else:
        stranger = Authority(tmp_path).client_context()
        fetched = await h11_server.fetch(origin.url("/"), ssl_options=stranger, ca_certs=ca.ca_file())
        _expect_refused(
            h11_server,
            fetched,
            "the client trusted ca_certs although ssl_options (a context trusting another authority) overrides it.",
        )


@check("Tornado docs: httpclient.HTTPRequest (client_cert, client_key)", Level.TORNADO)
@requires("httpclient")
async def test_client_presents_its_client_certificate(h11_server, tmp_path):
    """Tornado docs, HTTPRequest: "client_cert (str) - Filename for client SSL certificate,
    if any." and "client_key (str) - Filename for client SSL key, if any." The kit's server
    requires a client certificate from its authority: the request reaches it only if the
    client presented the one it was given."""
    ca = Authority(tmp_path)
    origin = await _https_origin(h11_server, ca.server_context("127.0.0.1", client_certificates=True))
    certfile, keyfile = ca.cert_files("client.example")
    fetched = await h11_server.fetch(origin.url("/"), ca_certs=ca.ca_file(), client_cert=certfile, client_key=keyfile)
    _expect_served(
        h11_server, fetched, "the client did not complete a handshake that requires the client_cert it was given."
    )
