"""Receiving a burst of messages yields to the event loop now and then, so a peer that sends
small messages faster than the handler takes them cannot hold the loop (Tornado 6.6).

References: Tornado 6.6.0 release notes (tornado.websocket,
https://www.tornadoweb.org/en/stable/releases/v6.6.0.html); Tornado docs,
WebSocketHandler.open ("on_message will not be called until open has returned").
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance import Level, Trace, Violation, check, requires
from conformance.wire.ws import TEXT, frame

pytestmark = [pytest.mark.websocket, requires("web", "httpserver", "websocket", "ioloop", "concurrent")]

#: Messages in the burst: one byte each, 7 bytes on the wire, 21 KB in all (so all of it
#: sits in the server's socket buffer before the handler reads any).
BURST = 3000


@check("Tornado 6.6.0 release notes (tornado.websocket)", Level.TORNADO)
async def test_a_burst_of_messages_lets_other_callbacks_run_before_its_end(impl, server, ws):
    """Tornado 6.6.0 release notes: "Receiving messages now yields to the event loop
    periodically, so a peer that sends many small messages faster than they can be
    processed can no longer block the event loop indefinitely." A coroutine open() waits
    until the peer has sent 3000 one-byte messages in one write; the first on_message
    schedules a callback on the loop (IOLoop.add_callback). The callback runs before the
    3000th message is processed: the loop got a turn while the burst was read."""
    websocket = impl.part("websocket")
    ioloop = impl.part("ioloop")
    concurrent = impl.part("concurrent")
    events = Trace()
    gates: list[Any] = []
    scheduled: list[bool] = []

    class Burst(websocket.WebSocketHandler):
        async def open(self):
            gate = concurrent.Future()
            gates.append(gate)
            events.add("open")
            await gate

        def on_message(self, message):
            events.add("message")
            if not scheduled:
                scheduled.append(True)
                ioloop.IOLoop.current().add_callback(events.add, "callback")

    srv = server.serve([("/ws", Burst)])
    async with await ws.open(srv, "/ws") as conn:
        events.wait_for(1, conn.timeout, "open() to be called")
        await conn.send_raw(b"".join(frame(TEXT, b"m") for _ in range(BURST)))
        server.call(lambda: gates[0].set_result(None))  # every message is in the socket buffer now
        events.wait_for(BURST + 2, conn.timeout, f"{BURST} messages and the callback")
    seen = events.events[1:]
    position = seen.index("callback") if "callback" in seen else None
    if position is None or position >= BURST:
        raise Violation(
            f"the peer sent {BURST} one-byte messages in one write; a callback the first on_message scheduled did not "
            "run until every message had been processed: the loop got no turn while the burst was read.",
            expected=f"the callback before message {BURST}",
            observed="the callback after every message" if position is not None else "no callback",
            transcript=conn.transcript,
        )
