"""Pings that arrive while the server's writes are backed up: a peer that sends pings
faster than it reads the pongs gets a pong for the newest one, not a pong for each.

References: RFC 6455 §5.5.3 (https://www.rfc-editor.org/rfc/rfc6455#section-5.5.3), whose
MAY lets an endpoint answer only the most recent of the pings it has not answered yet, and
Tornado's 6.6.0 release notes (``tornado.websocket``), where Tornado takes that option so
that the pongs a peer never reads cannot pile up in the server's memory.

Rules of this module:

1. The backlog is made, never waited for with a clock: the check serves the application
   itself, on a listening socket whose send buffer is pinned small (SO_SNDBUF, which the
   accepted connection inherits, and which turns the kernel's autotuning off), and the
   handler writes a message many times larger than the kernel can then hold while the
   client reads nothing. Every ping the server reads after that write is read while the
   write is pending, whatever the machine's TCP settings.
2. The client reads nothing until the handler has seen a text sent after the last ping:
   by then the implementation has decided what to answer to every ping.
3. The pongs are counted up to the echo of a text the client sends once it has read the
   backlog and the first pong: a pong the implementation still owed was written before.
"""

from __future__ import annotations

import socket
from types import SimpleNamespace
from typing import Any

import pytest

from conformance import Level, Trace, Violation, check, requires
from conformance.wire.ws import PING, TEXT, frame

pytestmark = [pytest.mark.websocket, requires("web", "httpserver", "websocket")]

#: SO_SNDBUF of the listening socket (Linux doubles it: 16 KiB), inherited by the connection.
SEND_BUFFER = 8192
#: The message that backs the server's writes up: what 16 KiB of send buffer and a receive
#: buffer that has read nothing (128 KiB on Linux) hold, several times over.
BACKLOG = 1 << 20
#: Pings sent behind it, in the same write.
PINGS = 100


def _start(impl: Any, handler: type) -> tuple[Any, Any]:
    """The application on a listening socket with a small, fixed send buffer (rule 1)."""
    web, httpserver = impl.part("web"), impl.part("httpserver")
    srv = httpserver.HTTPServer(web.Application([("/ws", handler)]))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    srv.add_sockets([sock])
    return srv, SimpleNamespace(host="127.0.0.1", port=sock.getsockname()[1])


def _stop(srv: Any) -> Any:
    srv.stop()
    close_all = getattr(srv, "close_all_connections", None)
    return close_all() if close_all is not None else None


@check("RFC 6455 §5.5.3 (MAY); Tornado 6.6.0 release notes (tornado.websocket)", Level.TORNADO)
async def test_pings_read_while_writes_are_backed_up_get_one_pong_for_the_newest(impl, server, ws):
    """RFC 6455 §5.5.3: "If an endpoint receives a Ping frame and has not yet sent Pong
    frame(s) in response to previous Ping frame(s), the endpoint MAY elect to send a Pong
    frame for only the most recently processed Ping frame(s)." Tornado 6.6.0 release notes:
    when pings come faster than the pongs can be written, only the newest ping not yet
    answered gets a pong, so the memory they take is bounded. The handler writes a 1 MiB
    message the client does not read, then reads 100 pings: at most two pongs come back
    (the one already being written when the backlog began, and the newest), and the last
    one carries the last ping's data."""
    websocket: Any = impl.part("websocket")
    marks = Trace()

    class Backlogged(websocket.WebSocketHandler):
        def on_message(self, message):
            if message == "fill":
                self.write_message(bytes(BACKLOG), binary=True)
            elif message == "mark":
                marks.add(message)
            else:
                self.write_message(message)

    sent = [f"ping {i:03d}".encode() for i in range(PINGS)]
    srv, address = server.call(_start, impl, Backlogged)
    try:
        async with await ws.open(address, "/ws") as conn:
            burst = frame(TEXT, b"fill") + b"".join(frame(PING, payload) for payload in sent) + frame(TEXT, b"mark")
            await conn.send_raw(burst)
            marks.wait_for(1, ws.timeout, "receive the text sent after the pings")
            backlog = await conn.receive_message()
            assert len(backlog) == BACKLOG, f"the 1 MiB message came as {len(backlog)} bytes"
            if not conn.pongs:
                await conn.receive_pong()
            await conn.send_text("after")
            await conn.receive_message()  # its echo: a pong still owed came before it (rule 3)
            pongs = list(conn.pongs)
    finally:
        server.call(_stop, srv)
    if len(pongs) > 2 or pongs[-1] != sent[-1]:
        shown = pongs if len(pongs) <= 4 else [*pongs[:2], "...", *pongs[-2:]]
        raise Violation(
            f"the handler wrote a {BACKLOG >> 20} MiB message the client did not read, then read {PINGS} pings: "
            "it should answer at most the ping whose pong was already being written and the newest one, so "
            "that pongs a peer never reads cannot pile up, and the newest ping must be answered.",
            expected=f"at most 2 pongs, the last with {sent[-1]!r}",
            observed=f"{len(pongs)} pongs: {shown}",
        )
