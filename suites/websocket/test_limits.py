"""Limits: messages over ``websocket_max_message_size`` close the connection with 1009
(also when only decompression makes them too big), and ``websocket_ping_interval`` /
``websocket_ping_timeout`` keep a connection alive or close it when the peer is silent.

References: Tornado docs, WebSocketHandler.max_message_size, ping_interval, ping_timeout
(https://www.tornadoweb.org/en/stable/websocket.html); RFC 6455 §7.4.1 (1009).
"""

from __future__ import annotations

import anyio
import pytest
from wsproto.extensions import PerMessageDeflate

from conformance import Level, Timeout, Violation, check, requires
from conformance.wire.ws import BINARY, CONTINUATION, PING, frame
from conformance.wire.ws_server import parse_frames

from ._support import compressing_echo_handler, echo_handler, expect_failed_connection

pytestmark = [pytest.mark.websocket, requires("web", "httpserver", "websocket")]

LIMIT = 1024


@check("Tornado docs: WebSocketHandler.max_message_size; RFC 6455 §7.4.1", Level.TORNADO)
@pytest.mark.parametrize("shape", ["one-frame", "fragmented", "compressed-expansion"])
async def test_message_over_max_message_size_is_refused_with_1009(impl, server, ws, shape):
    """Tornado docs, max_message_size: "Maximum allowed message size. If the remote peer sends
    a message larger than this, the connection will be closed." RFC 6455 §7.4.1: 1009
    "indicates that an endpoint is terminating the connection because it has received a
    message that is too big for it to process". Set with ``websocket_max_message_size``;
    the compressed case is 64 KiB of zeros that crosses the wire in a few hundred bytes."""
    settings = {"websocket_max_message_size": LIMIT}
    handler = compressing_echo_handler(impl) if shape == "compressed-expansion" else echo_handler(impl)
    srv = server.serve([("/ws", handler)], settings)
    extensions = [PerMessageDeflate()] if shape == "compressed-expansion" else []
    async with await ws.open(srv, "/ws", extensions=extensions) as conn:
        if shape == "one-frame":
            await conn.send_raw(frame(BINARY, b"x" * (2 * LIMIT)))
            sent = f"a binary message of {2 * LIMIT} bytes in one frame"
        elif shape == "fragmented":
            await conn.send_raw(frame(BINARY, b"x" * (LIMIT // 2), fin=False))
            await conn.send_raw(frame(CONTINUATION, b"x" * (LIMIT // 2), fin=False))
            await conn.send_raw(frame(CONTINUATION, b"x" * (LIMIT // 2)))
            sent = f"a binary message of {3 * LIMIT // 2} bytes in three frames of {LIMIT // 2}"
        else:
            await conn.send_bytes(bytes(65536))
            sent = "a compressed binary message that expands to 65536 bytes"
        await expect_failed_connection(
            conn,
            code=1009,
            sent=f"{sent} with websocket_max_message_size={LIMIT}",
        )


@check("Tornado docs: WebSocketHandler.ping_interval", Level.TORNADO)
async def test_ping_interval_sends_pings_whose_pongs_reach_on_pong(impl, server, ws):
    """Tornado docs, ping_interval: "If this is non-zero, the websocket will send a ping every
    ping_interval seconds." The peer answers each (RFC 6455 §5.5.2); the handler's on_pong
    then writes a message, so the check waits for that message, not for time."""
    websocket = impl.part("websocket")

    class Handler(websocket.WebSocketHandler):
        def on_pong(self, data):
            self.write_message("pong seen")

    # No ping timeout: the check judges the pings, not how fast a loaded machine answers them.
    srv = server.serve([("/ws", Handler)], {"websocket_ping_interval": 0.02, "websocket_ping_timeout": 0})
    async with await ws.open(srv, "/ws") as conn:
        message = await conn.receive_message()  # pings are answered on the way
    if message != "pong seen" or not conn.pings:
        raise Violation(
            "with websocket_ping_interval=0.02 the handler did not send periodic pings whose pongs reach on_pong.",
            expected="pings, then the message 'pong seen'",
            observed=f"pings {conn.pings!r}, then the message {message!r}",
        )


@check("Tornado docs: WebSocketHandler.ping_timeout", Level.TORNADO)
async def test_ping_timeout_closes_a_peer_that_does_not_answer(impl, server, ws):
    """Tornado docs, ping_timeout: "If the ping is not answered within this many seconds, the
    websocket will be closed." The peer reads the raw frames and never answers a ping."""
    settings = {"websocket_ping_interval": 0.02, "websocket_ping_timeout": 0.02}
    srv = server.serve([("/ws", echo_handler(impl))], settings)
    async with await ws.open(srv, "/ws") as conn:
        # Frames that arrived with the 101 response were read by wsproto: start from those.
        handshake = b"".join(d for way, d in conn.transcript.entries if way == "<<" and isinstance(d, bytes))
        received = handshake.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in handshake else b""
        with anyio.move_on_after(ws.timeout) as scope:
            # bypass wsproto, which would answer the pings; on a slow machine the close may
            # already have come with the handshake (the server then waits for our close reply)
            while not any(f.opcode == 0x8 for f in parse_frames(received)):
                try:
                    data = await conn.stream.receive(65536)
                except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, ConnectionError):
                    break
                received += data
        frames = parse_frames(received)
    if scope.cancel_called:
        raise Timeout(
            "with websocket_ping_interval=0.02 and websocket_ping_timeout=0.02, the connection to a peer that never "
            f"answers pings stayed open for {ws.timeout:g}s; an unanswered ping closes it.",
            expected="pings, then the close",
            observed=f"frames with opcodes {[hex(f.opcode) for f in frames]}, the connection open",
        )
    if not any(f.opcode == PING for f in frames):
        raise Violation(
            "the connection was closed without any ping sent first; Tornado closes for an unanswered ping.",
            expected="a ping (0x9), then the close",
            observed=f"frames with opcodes {[hex(f.opcode) for f in frames]}",
        )
