"""Ping and pong: the server answers every ping with a pong carrying the same data, takes
unsolicited pongs, fails the connection on malformed control frames, and pings on request.

References: RFC 6455 §5.5, §5.5.2 and §5.5.3 (https://www.rfc-editor.org/rfc/rfc6455#section-5.5.2).
"""

from __future__ import annotations

import pytest

from conformance import Level, Trace, Violation, check, requires
from conformance.wire.ws import PING, PONG, ConnectionClosedError, frame

from ._support import echo_handler, expect_failed_connection, how_it_ended

pytestmark = [pytest.mark.websocket, requires("web", "httpserver", "websocket")]

#: Not UTF-8, with a NUL: a pong must carry the bytes, not a decoded or trimmed copy.
PAYLOAD = b"conformance ping \x00\xff\xfe" + bytes(range(16))


@check("RFC 6455 §5.5.2, §5.5.3", Level.MUST)
async def test_ping_is_answered_by_a_pong_with_the_same_payload(impl, server, ws):
    """RFC 6455 §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
    response, unless it already received a Close frame." §5.5.3: "A Pong frame sent in
    response to a Ping frame must have identical "Application data" as found in the message
    body of the Ping frame being replied to." The ping is sent before the close frame, so
    its pong must arrive before the closing handshake completes."""
    srv = server.serve([("/ws", echo_handler(impl))])
    async with await ws.open(srv, "/ws") as conn:
        await conn.ping(PAYLOAD)
        closed = await conn.close(1000)
        if not conn.pongs:
            raise Violation(
                f"the client sent a ping with {len(PAYLOAD)} bytes of application data, then a close frame; the "
                "implementation sent no pong (RFC 6455 §5.5.2: every ping received before a close frame is answered).",
                expected="a pong, then the close",
                observed=f"no pong, then {how_it_ended(closed)}",
                transcript=conn.transcript,
            )
        if PAYLOAD not in conn.pongs:
            raise Violation(
                "no pong carried the ping's application data unchanged (unsolicited pongs may come too, but one "
                "must match).",
                expected=f"a pong with {PAYLOAD!r}",
                observed=f"pongs with {conn.pongs!r}",
                transcript=conn.transcript,
            )


@check("RFC 6455 §5.5.3; Tornado docs: WebSocketHandler.on_pong", Level.MUST)
async def test_unsolicited_pong_is_tolerated_and_reported_to_on_pong(impl, server, ws):
    """RFC 6455 §5.5.3: "A Pong frame MAY be sent unsolicited. This serves as a unidirectional
    heartbeat. A response to an unsolicited Pong frame is not expected." RFC 2119 §5, on
    MAY: "An implementation which does not include a particular option MUST be prepared to
    interoperate with another implementation which does include the option". Tornado docs,
    on_pong: "Invoked when the response to a ping frame is received" (with its data)."""
    websocket = impl.part("websocket")
    pongs = Trace()

    class Handler(websocket.WebSocketHandler):
        def on_pong(self, data):
            pongs.add(bytes(data))

        def on_message(self, message):
            self.write_message(message)

    srv = server.serve([("/ws", Handler)])
    async with await ws.open(srv, "/ws") as conn:
        await conn.pong(b"heartbeat")
        await conn.send_text("after the pong")
        try:
            echoed = await conn.receive_message()
        except ConnectionClosedError as exc:
            raise Violation(
                "the client sent an unsolicited pong, then a text; the implementation ended the connection, where "
                "unsolicited pongs are allowed.",
                expected="the text echoed",
                observed=how_it_ended(exc.closed),
                transcript=conn.transcript,
            ) from None
    assert echoed == "after the pong", f"the text after an unsolicited pong came back as {echoed!r}"
    if pongs.events != [b"heartbeat"]:
        raise Violation(
            "the client sent an unsolicited pong with b'heartbeat' before a text that was echoed; on_pong did not "
            "receive it as Tornado documents.",
            expected="on_pong calls [b'heartbeat']",
            observed=f"on_pong calls {pongs.events!r}",
        )


BAD_CONTROL = [
    pytest.param(frame(PING, b"x" * 126), "a ping with 126 bytes of payload", id="ping-126-bytes"),
    pytest.param(frame(PONG, b"x" * 200), "a pong with 200 bytes of payload", id="pong-200-bytes"),
    pytest.param(frame(PING, b"fragmented ", fin=False), "a ping frame with FIN clear", id="ping-fragmented"),
    pytest.param(frame(PONG, b"fragmented ", fin=False), "a pong frame with FIN clear", id="pong-fragmented"),
]


@check("RFC 6455 §5.5, §10.7 (Autobahn|Testsuite cases 2.5, 5.1-5.2 reading)", Level.SHOULD)
@pytest.mark.parametrize(("bad_frame", "sent"), BAD_CONTROL)
async def test_oversized_or_fragmented_control_frame_fails_the_connection(impl, server, ws, bad_frame, sent):
    """RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less and
    MUST NOT be fragmented." That binds the sender; what the receiver does is §10.7's:
    "Incoming data MUST always be validated by both clients and servers", and on invalid data
    after the handshake "the endpoint SHOULD send a Close frame with an appropriate status
    code (Section 7.4)" (it "MAY drop the TCP connection"). Failing the connection, strictly
    with 1002 (§7.4.1), is Autobahn's reading (cases 2.5, 5.1-5.2); hence SHOULD."""
    srv = server.serve([("/ws", echo_handler(impl))])
    async with await ws.open(srv, "/ws") as conn:
        await conn.send_raw(bad_frame)
        await expect_failed_connection(conn, code=1002, sent=sent)


@check("Tornado docs: WebSocketHandler.ping, on_pong; RFC 6455 §5.5.2", Level.TORNADO)
async def test_handler_ping_reaches_the_peer_and_its_pong_reaches_on_pong(impl, server, ws):
    """Tornado docs, WebSocketHandler.ping: "Send ping frame to the remote end. The data
    argument allows a small amount of data (up to 125 bytes) to be sent as a part of the
    ping message." The peer answers (RFC 6455 §5.5.2) and on_pong receives the same data."""
    websocket = impl.part("websocket")
    pongs = Trace()

    class Pinger(websocket.WebSocketHandler):
        def on_message(self, message):
            self.ping(message.encode("utf-8"))

        def on_pong(self, data):
            pongs.add(bytes(data))
            self.write_message("pong seen")

    srv = server.serve([("/ws", Pinger)])
    async with await ws.open(srv, "/ws") as conn:
        await conn.send_text("ping me back")
        try:
            await conn.receive_message()  # answers the ping on the way (wsproto's side)
        except ConnectionClosedError as exc:
            raise Violation(
                "the handler called self.ping(b'ping me back'), and the connection ended.",
                expected="a ping with b'ping me back', then the echo",
                observed=f"pings {conn.pings!r}, then {how_it_ended(exc.closed)}",
                transcript=conn.transcript,
            ) from None
    if conn.pings != [b"ping me back"] or pongs.events != [b"ping me back"]:
        raise Violation(
            "the handler called self.ping(b'ping me back') and the client answered every ping: ping() sends its "
            "data in a ping frame, and on_pong receives the answer's data.",
            expected="pings [b'ping me back'], on_pong calls [b'ping me back']",
            observed=f"pings {conn.pings!r}, on_pong calls {pongs.events!r}",
            transcript=conn.transcript,
        )
