"""The closing handshake, started by either side: close frames are answered, and the
status code and reason reach the other side.

References: RFC 6455 §5.5.1 and §7 (https://www.rfc-editor.org/rfc/rfc6455#section-5.5.1);
Tornado docs, WebSocketHandler.on_close and close
(https://www.tornadoweb.org/en/stable/websocket.html).
"""

from __future__ import annotations

import pytest

from conformance import Level, Trace, Violation, check, requires

from ._support import dropped, how_it_ended

pytestmark = [pytest.mark.websocket, requires("web", "httpserver", "websocket")]


@check("RFC 6455 §5.5.1; Tornado docs: WebSocketHandler.on_close", Level.MUST)
async def test_client_close_is_answered_and_its_code_and_reason_reach_on_close(impl, server, ws):
    """RFC 6455 §5.5.1: "If an endpoint receives a Close frame and did not previously send a
    Close frame, the endpoint MUST send a Close frame in response." Tornado docs,
    WebSocketHandler.on_close: "If the connection was closed cleanly and a status code or
    reason phrase was supplied, these values will be available as the attributes
    ``self.close_code`` and ``self.close_reason``."""
    websocket = impl.part("websocket")
    closes = Trace()

    class Handler(websocket.WebSocketHandler):
        def on_close(self):
            closes.add((self.close_code, self.close_reason))

    srv = server.serve([("/ws", Handler)])
    async with await ws.open(srv, "/ws") as conn:
        closed = await conn.close(4001, "client says bye")
        if dropped(closed):
            raise Violation(
                f"the client sent a close frame with code 4001 and reason 'client says bye'; the implementation "
                f"answered with {how_it_ended(closed)}. RFC 6455 §5.5.1 requires a close frame in response.\n"
                f"bytes exchanged:\n{conn.transcript.format()}"
            )
    closes.wait_for(1, ws.timeout, "call on_close after a clean closing handshake")
    server.barrier()  # a second, erroneous on_close call scheduled meanwhile is recorded too
    observed = closes.events
    assert observed == [(4001, "client says bye")], (
        f"the client closed cleanly with code 4001 and reason 'client says bye'; on_close was called "
        f"{len(observed)} time(s), seeing (close_code, close_reason) = {', '.join(map(repr, observed))}. Tornado documents that both are "
        f"available as self.close_code and self.close_reason in on_close, and on_close runs once."
    )


@check("Tornado docs: WebSocketHandler.close; RFC 6455 §5.5.1", Level.MUST)
async def test_server_close_sends_its_code_and_reason_to_the_client(impl, server, ws):
    """Tornado docs, WebSocketHandler.close: "``code`` may be a numeric status code ...
    ``reason`` may be a textual message about why the connection is closing. These values
    are made available to the client". RFC 6455 §5.5.1: "If there is a body, the first two
    bytes of the body MUST be a 2-byte unsigned integer ... representing a status code", the
    rest a UTF-8 reason."""
    websocket = impl.part("websocket")

    class Closer(websocket.WebSocketHandler):
        def on_message(self, message):
            self.close(4000, "bye")

    srv = server.serve([("/ws", Closer)])
    async with await ws.open(srv, "/ws") as conn:
        # Asked for by a message rather than done in open(), so the close frame cannot
        # arrive in the same read as the 101 response.
        await conn.send_text("please close")
        closed = await conn.wait_closed()
        if dropped(closed) or (closed.code, closed.reason) != (4000, "bye"):
            raise Violation(
                f"the handler called self.close(4000, 'bye'); the client saw {how_it_ended(closed)}. Tornado "
                f"documents that the code and reason are made available to the client, which RFC 6455 §5.5.1 "
                f"carries in the close frame's body.\nbytes exchanged:\n{conn.transcript.format()}"
            )
