"""WebSocketHandler hook order: initialize, prepare, open, on_message..., on_close once.

Reference: Tornado docs, tornado.websocket.WebSocketHandler
(https://www.tornadoweb.org/en/stable/websocket.html#event-handlers).
"""

from __future__ import annotations

import pytest

from conformance import Level, Trace, check, requires

pytestmark = [pytest.mark.lifecycle, requires("web", "httpserver", "websocket", "gen")]

#: A timer used as an input: open() stays suspended this long, so the messages the client
#: sends right after the handshake are already waiting when it resumes.
OPEN_DELAY = 0.05


@check("Tornado docs: WebSocketHandler.open, on_message, on_close", Level.TORNADO)
@pytest.mark.parametrize("ending", ["client-closes", "handler-closes"])
async def test_websocket_hooks_run_in_documented_order(impl, server, ws, ending):
    """WebSocketHandler.open: "Invoked when a new WebSocket is opened. The arguments to open are
    extracted from the tornado.web.URLSpec regular expression, just like the arguments to
    tornado.web.RequestHandler.get. open may be a coroutine. on_message will not be called until
    open has returned." on_close: "Invoked when the WebSocket is closed." initialize() and
    prepare() run first, as for every RequestHandler ("prepare" is where to reject a
    connection). on_close runs once however the connection ends."""
    websocket = impl.part("websocket")
    gen = impl.part("gen")
    trace = Trace()

    class Handler(websocket.WebSocketHandler):
        def initialize(self, label):
            trace.add(f"initialize(label={label!r})")

        def prepare(self):
            trace.add("prepare")

        async def open(self, room):
            trace.add(f"open({room!r}): before await")
            await gen.sleep(OPEN_DELAY)
            trace.add(f"open({room!r}): after await")

        def on_message(self, message):
            trace.add(f"on_message({message!r})")
            if message == "bye":
                self.close(4000, "bye")
            elif message == "two":
                # One reply for both messages: a second small write right after the first
                # waits for the client's delayed ACK (Nagle's algorithm, about 40 ms).
                self.write_message(f"echo {message}")

        def on_close(self):
            trace.add("on_close")

    srv = server.serve([("/ws/([a-z]+)", Handler, {"label": "lifecycle"})])
    async with await ws.open(srv, "/ws/lobby") as conn:
        await conn.send_text("one")
        await conn.send_text("two")
        replies = [await conn.receive_message()]
        if ending == "client-closes":
            await conn.close(1000)
        else:
            await conn.send_text("bye")
            await conn.wait_closed()
    expected = [
        "initialize(label='lifecycle')",
        "prepare",
        "open('lobby'): before await",
        "open('lobby'): after await",
        "on_message('one')",
        "on_message('two')",
        *(["on_message('bye')"] if ending == "handler-closes" else []),
        "on_close",
    ]
    trace.wait_for(len(expected), ws.timeout, "call on_close once the connection ended")
    server.barrier()  # a second, erroneous on_close scheduled meanwhile is recorded too
    trace.add(f"client received {replies!r}")
    trace.assert_equal(
        [*expected, "client received ['echo two']"],
        f"the client sent two messages right after the handshake, then {ending.replace('-', ' ')}: the hooks must "
        "run initialize, prepare, open (awaited to its end before any on_message), on_message per message in "
        "order, then on_close exactly once. The hooks (and the client's view, last row) were:",
    )
