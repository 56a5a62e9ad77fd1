"""The closing handshake with keep-alive pings on: once the server has sent its close frame,
its periodic pings stop, so nothing follows the close frame on the wire (Tornado 6.0).

References: RFC 6455 §1.4, §5.5.1 (https://www.rfc-editor.org/rfc/rfc6455#section-5.5.1);
Tornado 6.0.0 release notes (tornado.websocket, https://www.tornadoweb.org/en/stable/releases/v6.0.0.html);
Tornado docs, WebSocketHandler.ping_interval and WebSocketHandler.close.
"""

from __future__ import annotations

import contextlib
from typing import Any

import anyio
import pytest

from conformance import Level, Violation, check, requires
from conformance.wire import receive_some, with_deadline
from conformance.wire.ws import CLOSE, PING, PONG, frame
from conformance.wire.ws_server import parse_frames

pytestmark = [pytest.mark.websocket, requires("web", "httpserver", "websocket", "ioloop")]

#: websocket_ping_interval (an input: a ping every 50 ms while the connection is open; the
#: ping timeout is as long, so the peer has 50 ms to answer the pings before the close).
_INTERVAL = 0.05
#: The marker connection's message goes out this long after it opens, which is after the
#: server's close frame: four ping intervals, longer than the longest gap between two pings
#: of any Tornado since 4.5 (three intervals in 6.5.0-6.5.1, whose periodic_ping slept the
#: timeout twice plus the interval), so the closing connection's next ping, had it been
#: scheduled, is due on the loop before the marker's message.
_MARKER_DELAY = 4 * _INTERVAL
_OPCODES = {0x0: "continuation", 0x1: "text", 0x2: "binary", 0x8: "close", 0x9: "ping", 0xA: "pong"}


async def _read_raw(conn: Any, received: bytearray, *, until_close: bool) -> None:
    """Read raw bytes into ``received`` (no wsproto: the kit must not answer the close by
    itself): up to the server's close frame, answering the pings before it with pongs (so a
    slow start cannot end in a ping timeout), or, with ``until_close`` false, to the end of
    the stream. The kit's deadline bounds it."""

    async def read() -> None:
        answered = 0
        while True:
            frames = parse_frames(bytes(received))
            kinds = [f.opcode for f in frames]
            if until_close and CLOSE in kinds:
                return
            if until_close:
                pings = [f.payload for f in frames if f.opcode == PING]
                for payload in pings[answered:]:
                    await conn.send_raw(frame(PONG, payload))
                answered = len(pings)
            data = await receive_some(conn.stream, conn.transcript)
            if not data:
                return
            received.extend(data)

    what = "send its close frame" if until_close else "close the connection after the peer's close frame"
    await with_deadline(conn.timeout, what, conn.transcript, read)


@check("Tornado 6.0.0 release notes (tornado.websocket); RFC 6455 §1.4, §5.5.1", Level.TORNADO)
async def test_no_ping_follows_the_servers_close_frame(impl, server, ws):
    """Tornado 6.0.0 release notes: "Pings and other messages sent while the connection is
    closing are now silently dropped instead of logging exceptions." RFC 6455 §1.4: "After
    sending a control frame indicating the connection should be closed, a peer does not
    send any further data" (browsers report a "Ping received after close"). With
    websocket_ping_interval=0.05, the handler closes the connection; the peer holds its
    own close frame back while four ping intervals pass on the server's loop (a second
    connection's message, timed by the server, marks them), then answers. Nothing follows
    the server's close frame."""
    websocket = impl.part("websocket")
    ioloop = impl.part("ioloop")

    class Closer(websocket.WebSocketHandler):
        def on_message(self, message):
            self.close(1000, "closing")

    class Marker(websocket.WebSocketHandler):
        @property
        def ping_interval(self):
            return 0  # no keep-alive here: the kit reads this connection only at the end

        def open(self):
            ioloop.IOLoop.current().call_later(_MARKER_DELAY, self.write_message, "four intervals later")

    srv = server.serve([("/ws", Closer), ("/marker", Marker)], {"websocket_ping_interval": _INTERVAL})
    received = bytearray()
    async with await ws.open(srv, "/ws") as conn:
        await conn.send_text("close, please")
        await _read_raw(conn, received, until_close=True)
        async with await ws.open(srv, "/marker") as marker:
            await marker.receive_message()
        # Four intervals have passed on the server's loop: now answer the close, read to the end.
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, ConnectionError):
            await conn.send_raw(frame(CLOSE, (1000).to_bytes(2, "big")))
        await _read_raw(conn, received, until_close=False)
    frames = parse_frames(bytes(received))
    kinds = [_OPCODES.get(f.opcode, hex(f.opcode)) for f in frames]
    after = kinds[kinds.index("close") + 1 :] if "close" in kinds else []
    if after:
        raise Violation(
            f"with websocket_ping_interval={_INTERVAL:g} the handler closed the connection; while the peer held its "
            "close frame back for four intervals, the server sent more frames after its close frame.",
            expected="the close frame last",
            observed=f"frames {kinds!r}",
            transcript=conn.transcript,
        )
