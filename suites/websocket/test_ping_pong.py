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


@check("RFC 6455 §5.5.3", Level.MUST)
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
                f"implementation ended the connection with {how_it_ended(closed)} without sending a pong. RFC 6455 "
                f"§5.5.2 requires a pong in response to every ping received before a close frame.\n"
                f"bytes exchanged:\n{conn.transcript.format()}"
            )
        if PAYLOAD not in conn.pongs:
            raise Violation(
                f"the client sent one ping with application data {PAYLOAD!r}; the implementation answered with "
                f"pongs carrying {conn.pongs!r}. RFC 6455 §5.5.3 requires the pong to carry the ping's "
                f"application data unchanged (unsolicited pongs may come too, but one must match).\n"
                f"bytes exchanged:\n{conn.transcript.format()}"
            )


@check("RFC 6455 §5.5.3; Tornado docs: WebSocketHandler.on_pong", Level.MUST)
async def test_unsolicited_pong_is_tolerated_and_reported_to_on_pong(impl, server, ws):
    """RFC 6455 §5.5.3: "A Pong frame MAY be sent unsolicited. This serves as a unidirectional
    heartbeat. A response to an unsolicited Pong frame is not expected." Tornado docs,
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
                f"the client sent an unsolicited pong, then a text; the implementation ended the connection with "
                f"{how_it_ended(exc.closed)}. RFC 6455 §5.5.3 allows unsolicited pongs.\n"
                f"bytes exchanged:\n{conn.transcript.format()}"
            ) from None
    assert echoed == "after the pong", f"the text after an unsolicited pong came back as {echoed!r}"
    if pongs.events != [b"heartbeat"]:
        raise Violation(
            f"the client sent an unsolicited pong with b'heartbeat' before a text that was echoed; on_pong was called "
            f"with {pongs.events!r}, where Tornado documents one call with the pong's data."
        )


BAD_CONTROL = [
    pytest.param(frame(PING, b"x" * 126), "a ping with 126 bytes of payload", id="ping-126-bytes"),
    pytest.param(frame(PONG, b"x" * 200), "a pong with 200 bytes of payload", id="pong-200-bytes"),
    pytest.param(frame(PING, b"fragmented ", fin=False), "a ping frame with FIN clear", id="ping-fragmented"),
    pytest.param(frame(PONG, b"fragmented ", fin=False), "a pong frame with FIN clear", id="pong-fragmented"),
]


@check("RFC 6455 §5.5", Level.MUST)
@pytest.mark.parametrize(("bad_frame", "sent"), BAD_CONTROL)
async def test_oversized_or_fragmented_control_frame_fails_the_connection(impl, server, ws, bad_frame, sent):
    """RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less and
    MUST NOT be fragmented." A peer that sends one has broken the protocol: the connection is
    failed (§7.1.7), strictly with close code 1002 (§7.4.1)."""
    srv = server.serve([("/ws", echo_handler(impl))])
    async with await ws.open(srv, "/ws") as conn:
        await conn.send_raw(bad_frame)
        await expect_failed_connection(conn, code=1002, sent=sent, rule="RFC 6455 §5.5")


@check("Tornado docs: WebSocketHandler.ping; RFC 6455 §5.5.2", Level.MUST)
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
                f"the handler called self.ping(b'ping me back'); the connection ended with {how_it_ended(exc.closed)} "
                f"after the client received pings {conn.pings!r}.\nbytes exchanged:\n{conn.transcript.format()}"
            ) from None
    if conn.pings != [b"ping me back"] or pongs.events != [b"ping me back"]:
        raise Violation(
            f"the handler called self.ping(b'ping me back'); the client received pings {conn.pings!r} and answered "
            f"each, and on_pong saw {pongs.events!r}. Tornado documents that ping() sends its data in a ping frame "
            f"and on_pong receives the answer's data.\nbytes exchanged:\n{conn.transcript.format()}"
        )
