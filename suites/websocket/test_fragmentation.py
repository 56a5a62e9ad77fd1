"""Fragmentation: a message sent as several frames, with a control frame between two of
them, is one message to the application.

Reference: RFC 6455 §5.4 (https://www.rfc-editor.org/rfc/rfc6455#section-5.4).
"""

from __future__ import annotations

import pytest

from conformance import Level, Trace, Violation, check, requires
from conformance.wire.ws import CONTINUATION, PING, TEXT, ConnectionClosedError, frame

from ._support import describe_message, how_it_ended

pytestmark = [pytest.mark.websocket, requires("web", "httpserver", "websocket")]

FRAGMENTS = ("first fragment, ", "second fragment, ", "last fragment")


@check("RFC 6455 §5.4", Level.MUST)
async def test_fragmented_message_with_an_interleaved_ping_reaches_on_message_whole(impl, server, ws):
    """RFC 6455 §5.4: "The fragments of one message MUST NOT be interleaved between the
    fragments of another message" but "Control frames MAY be injected in the middle of a
    fragmented message", and "An endpoint MUST be capable of handling control frames in the
    middle of a fragmented message." The message is then delivered to on_message once, whole."""
    websocket = impl.part("websocket")
    received = Trace()

    class Recorder(websocket.WebSocketHandler):
        def on_message(self, message):
            received.add(message)
            self.write_message(message, binary=isinstance(message, bytes))

    srv = server.serve([("/ws", Recorder)])
    whole = "".join(FRAGMENTS)
    async with await ws.open(srv, "/ws") as conn:
        await conn.send_raw(frame(TEXT, FRAGMENTS[0].encode(), fin=False))
        await conn.send_raw(frame(PING, b"between fragments"))
        await conn.send_raw(frame(CONTINUATION, FRAGMENTS[1].encode(), fin=False))
        await conn.send_raw(frame(CONTINUATION, FRAGMENTS[2].encode(), fin=True))
        # A second, unfragmented message: once its echo is back, every on_message call the
        # fragmented one caused has been recorded.
        await conn.send_text("end")
        try:
            first = await conn.receive_message()
            second = await conn.receive_message()
        except ConnectionClosedError as exc:
            raise Violation(
                f"the client sent the text {whole!r} as three frames (text, continuation, continuation) with a ping "
                f"after the first, then the text 'end'; the implementation ended the connection with "
                f"{how_it_ended(exc.closed)} after on_message received {received.events!r}. RFC 6455 §5.4 allows control "
                f"frames in the middle of a fragmented message and requires endpoints to handle them.\n"
                f"bytes exchanged:\n{conn.transcript.format()}"
            ) from None
        calls = received.events
        if not (calls == [whole, "end"] and first == whole and second == "end"):
            raise Violation(
                f"the client sent the text {whole!r} as three frames (text, continuation, continuation) with a "
                f"ping after the first, then the text 'end'. on_message was called with {calls!r} and the echoes were "
                f"{describe_message(first)} then {describe_message(second)}; one call with the whole text, then "
                f"one with 'end', was expected (RFC 6455 §5.4: a fragmented message is one message; control frames "
                f"may be interleaved).\nbytes exchanged:\n{conn.transcript.format()}"
            )
