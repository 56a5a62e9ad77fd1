"""WebSocket over TLS (wss://): a WebSocketHandler behind an HTTPServer with ``ssl_options``,
reached by the kit's wsproto client over TLS and by the implementation's own
``websocket_connect``, which verifies the server's certificate as its HTTP client does.
Certificates are made per check by a throw-away authority (`conformance.wire.tls`).

References: RFC 6455 §4.1 (https://www.rfc-editor.org/rfc/rfc6455#section-4.1), RFC 9110
§4.3.4; Tornado docs: websocket.websocket_connect, httpclient.HTTPRequest (ca_certs).
"""

from __future__ import annotations

import datetime

import pytest

from conformance import Level, Violation, check, requires
from conformance.wire.tls import Authority

from ._support import echo_handler

pytestmark = [pytest.mark.websocket, requires("web", "httpserver", "websocket")]


def _wss_exchange(impl, server, port, timeout, **request_kwargs):
    """``websocket_connect`` to wss://127.0.0.1:port/ws, one message each way; on the loop.

    Returns ("opened", the echoed message), ("refused", what websocket_connect raised) or
    ("no echo", what waiting for it raised). The echo is awaited with ``gen.with_timeout``
    where the implementation has it, so a silent server costs a verdict, not the loop.
    """
    websocket = impl.part("websocket")
    httpclient = impl.part("httpclient")
    gen = impl.part("gen")
    url = f"wss://127.0.0.1:{port}/ws"

    def bounded(future):
        if gen is None or not hasattr(gen, "with_timeout"):
            return future
        return gen.with_timeout(datetime.timedelta(seconds=timeout / 2), future)

    async def client_side():
        request = httpclient.HTTPRequest(
            url, connect_timeout=timeout / 2, request_timeout=timeout / 2, **request_kwargs
        )
        try:
            conn = await websocket.websocket_connect(request)
        except Exception as exc:
            return ("refused", f"{type(exc).__name__}: {exc}")
        try:
            sent = conn.write_message("over wss")
            if sent is not None:
                await bounded(sent)
            message = await bounded(conn.read_message())
        except Exception as exc:
            return ("no echo", f"{type(exc).__name__}: {exc}")
        finally:
            conn.close()
        return ("opened", message)

    return server.call(client_side)


@check("RFC 6455 §4.1; Tornado docs: websocket.WebSocketHandler, httpserver.HTTPServer (ssl_options)", Level.TORNADO)
async def test_websocket_handler_serves_over_tls(impl, server, ws, tmp_path):
    """RFC 6455 §4.1: "If /secure/ is true, the client MUST perform a TLS handshake over the
    connection after opening the connection and before sending the handshake data". A
    WebSocketHandler behind an HTTPServer given ``ssl_options`` accepts the opening
    handshake sent over TLS and echoes a message there."""
    ca = Authority(tmp_path)
    srv = server.serve([("/ws", echo_handler(impl))], ssl_options=ca.server_context("127.0.0.1"))
    conn = await ws.open(srv, "/ws", ssl_context=ca.client_context())
    async with conn:
        await conn.send_text("over tls")
        echoed = await conn.receive_message()
    if echoed != "over tls":
        raise Violation(
            "the WebSocketHandler behind the TLS server did not echo the message sent over wss.",
            expected="'over tls'",
            observed=repr(echoed),
            transcript=conn.transcript,
        )


@check("Tornado docs: websocket.websocket_connect; httpclient.HTTPRequest (ca_certs)", Level.TORNADO)
@requires("httpclient")
def test_client_connects_over_wss_with_ca_certs(impl, server, tmp_path, conformance_timeout):
    """Tornado docs, websocket_connect: "url may also be an HTTPRequest [...] in which case
    [...] the HTTPRequest's options are used"; HTTPRequest: "ca_certs (str) - filename of CA
    certificates in PEM format". The client reaches a WebSocketHandler behind a TLS server
    whose certificate comes from the authority ``ca_certs`` names, and a message goes both
    ways."""
    ca = Authority(tmp_path)
    srv = server.serve([("/ws", echo_handler(impl))], ssl_options=ca.server_context("127.0.0.1"))
    outcome = _wss_exchange(impl, server, srv.port, conformance_timeout, ca_certs=ca.ca_file())
    if outcome != ("opened", "over wss"):
        raise Violation(
            "websocket_connect did not open a wss:// connection to a server whose authority is its ca_certs "
            "and exchange a message on it.",
            expected="('opened', 'over wss')",
            observed=repr(outcome),
        )


@check("RFC 6455 §4.1; RFC 9110 §4.3.4", Level.MUST)
@pytest.mark.parametrize("certificate", ["untrusted", "other-host"])
@requires("httpclient")
def test_client_refuses_a_wss_server_it_cannot_verify(impl, server, tmp_path, conformance_timeout, certificate):
    """RFC 6455 §4.1: for /secure/ the client "MUST perform a TLS handshake", the TLS of HTTP
    over TLS; RFC 9110 §4.3.4: "a client MUST verify that the service's identity is an
    acceptable match for the URI's origin server." websocket_connect is refused by a server
    whose certificate comes from an authority the client does not trust (untrusted), or
    names other.example while the URL names 127.0.0.1 (other-host, with ``ca_certs``)."""
    ca = Authority(tmp_path)
    if certificate == "untrusted":
        srv = server.serve([("/ws", echo_handler(impl))], ssl_options=ca.server_context("127.0.0.1"))
        outcome = _wss_exchange(impl, server, srv.port, conformance_timeout)
    else:
        srv = server.serve([("/ws", echo_handler(impl))], ssl_options=ca.server_context("other.example"))
        outcome = _wss_exchange(impl, server, srv.port, conformance_timeout, ca_certs=ca.ca_file())
    if outcome[0] != "refused":
        raise Violation(
            f"websocket_connect opened a wss:// connection to a server whose certificate it cannot verify ({certificate}).",
            expected="websocket_connect raises (a certificate error)",
            observed=repr(outcome),
        )
