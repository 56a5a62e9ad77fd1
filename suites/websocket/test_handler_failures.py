"""Failures inside a WebSocket handler's callbacks: an exception raised by ``on_message`` is
handed to the handler's ``log_exception``, and a ``CancelledError`` raised there ends the
connection the way any other failure does (closed, ``on_close`` run), not half-way.

References: Tornado 5.1.0 and 6.6.0 release notes (tornado.websocket,
https://www.tornadoweb.org/en/stable/releases.html); Tornado docs, RequestHandler.log_exception
and WebSocketHandler.on_close (https://www.tornadoweb.org/en/stable/websocket.html).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import anyio
import pytest

from conformance import Level, Trace, Violation, check, requires
from conformance.wire.ws import ConnectionClosedError

from ._support import how_it_ended

pytestmark = [pytest.mark.websocket, requires("web", "httpserver", "websocket")]


async def _send_then_wait_for_the_end(conn: Any, text: str) -> str:
    """Send ``text``; read until the connection ends, and say how (messages on the way included)."""
    with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, ConnectionError):
        await conn.send_text(text)
    replies: list[Any] = []
    while True:
        try:
            replies.append(await conn.receive_message())
        except ConnectionClosedError as exc:
            ending = how_it_ended(exc.closed)
            return f"{len(replies)} message(s) {replies!r}, then {ending}" if replies else ending


@check("Tornado 5.1.0 release notes (tornado.websocket); Tornado docs: RequestHandler.log_exception", Level.TORNADO)
@pytest.mark.parametrize("kind", ["plain", "coroutine"])
async def test_exception_in_on_message_is_passed_to_log_exception(impl, server, ws, kind):
    """Tornado 5.1.0 release notes, tornado.websocket: "Exception logging now uses
    RequestHandler.log_exception." RequestHandler.log_exception: "Override to customize
    logging of uncaught exceptions." An on_message (plain, or a coroutine) raises
    ValueError; the handler's log_exception receives that exception (type and value), and
    the connection ends."""
    websocket = impl.part("websocket")
    logged = Trace()

    class Failing(websocket.WebSocketHandler):
        if kind == "plain":

            def on_message(self, message):
                raise ValueError(f"on_message failed on purpose: {message}")

        else:

            async def on_message(self, message):
                raise ValueError(f"on_message failed on purpose: {message}")

        def log_exception(self, typ, value, tb):
            logged.add((getattr(typ, "__name__", repr(typ)), str(value)))

    srv = server.serve([("/ws", Failing)])
    async with await ws.open(srv, "/ws") as conn:
        ending = await _send_then_wait_for_the_end(conn, "boom")
    server.barrier()
    expected = [("ValueError", "on_message failed on purpose: boom")]
    if logged.events != expected:
        raise Violation(
            f"a {kind} on_message raised ValueError; the handler's log_exception did not receive it exactly once.",
            expected=f"log_exception called with {expected!r}",
            observed=f"log_exception called with {logged.events!r}; the connection: {ending}",
            transcript=conn.transcript,
        )


@check("Tornado 6.6.0 release notes (tornado.websocket); Tornado docs: WebSocketHandler.on_close", Level.TORNADO)
@pytest.mark.parametrize("kind", ["plain", "coroutine"])
async def test_cancelled_error_in_on_message_closes_the_connection_and_runs_on_close(impl, server, ws, kind):
    """Tornado 6.6.0 release notes, tornado.websocket: "asyncio.CancelledError no longer
    breaks the websocket loop without closing the connection." WebSocketHandler.on_close:
    "Invoked when the WebSocket is closed." An on_message (plain, or a coroutine) raises
    asyncio.CancelledError: the connection ends (a close frame or a drop, not judged), and
    on_close runs, as for any other exception; a loop broken half-way leaves the handler
    believing its connection open."""
    websocket = impl.part("websocket")
    closed = Trace()

    class Cancelled(websocket.WebSocketHandler):
        if kind == "plain":

            def on_message(self, message):
                raise asyncio.CancelledError()

        else:

            async def on_message(self, message):
                raise asyncio.CancelledError()

        def on_close(self):
            closed.add("on_close")

        def log_exception(self, typ, value, tb):
            pass  # expected here; kept out of the check's log

    srv = server.serve([("/ws", Cancelled)])
    async with await ws.open(srv, "/ws") as conn:
        ending = await _send_then_wait_for_the_end(conn, "cancel me")
    server.barrier()
    if closed.events != ["on_close"]:
        raise Violation(
            f"a {kind} on_message raised asyncio.CancelledError; the connection ended but on_close was not called "
            "once, so the handler was left believing it open.",
            expected="the connection ends, on_close called once",
            observed=f"the connection: {ending}; on_close calls {closed.events!r}",
            transcript=conn.transcript,
        )
