"""A handler method that raises ``asyncio.CancelledError`` still ends its request: the
client gets a response (or a close), not a connection left hanging.

Reference: Tornado docs, ``RequestHandler`` (https://www.tornadoweb.org/en/stable/web.html:
an exception escaping a handler method is answered through ``send_error``) and the Tornado
6.6.0 release notes (General changes; ``tornado.web``: "`asyncio.CancelledError` is now
handled correctly instead of leaving connections to hang").
"""

from __future__ import annotations

import asyncio

import anyio
import pytest

from conformance import Level, Violation, check, requires
from conformance.wire import receive_some

pytestmark = [pytest.mark.lifecycle, requires("web", "httpserver")]

#: How long the client reads for an answer that is already on its way once later requests
#: on other connections were answered: it bounds a wait, never decides a verdict by itself.
_ALREADY_SENT = 0.05


@check(
    "Tornado docs: RequestHandler.send_error, write_error; Tornado 6.6.0 release notes (General changes; tornado.web)",
    Level.TORNADO,
)
@pytest.mark.parametrize("style", ["sync", "coroutine"])
async def test_cancelled_error_in_a_handler_does_not_leave_the_connection_hanging(impl, server, http, style):
    """Tornado 6.6.0 release notes (tornado.web): "`asyncio.CancelledError` is now handled
    correctly instead of leaving connections to hang" (General changes: "Improved handling
    of `asyncio.CancelledError` in various parts of the framework"). A ``get`` that raises
    ``CancelledError`` (say, from something it awaited that was cancelled) is answered (a
    5xx through ``send_error``) or its connection closed; never left without either. Judged
    without a clock: by the time two requests sent later on other connections have been
    answered, the server has run that handler, so its answer is already on the wire."""
    web = impl.part("web")

    if style == "sync":

        class Cancelled(web.RequestHandler):
            def get(self):
                raise asyncio.CancelledError()

    else:

        class Cancelled(web.RequestHandler):  # type: ignore[no-redef]
            async def get(self):
                await asyncio.sleep(0)
                raise asyncio.CancelledError()

    class Next(web.RequestHandler):
        def get(self):
            self.write(b"next")

    srv = server.serve([("/cancelled", Cancelled), ("/next", Next)])
    async with await http.connect(srv) as conn:
        await conn.send_request("GET", "/cancelled")
        for _ in range(2):
            async with await http.connect(srv) as later:
                served = await later.request("GET", "/next")
            if served.body != b"next":
                raise Violation(
                    "a request on another connection was not served after a handler raised CancelledError.",
                    expected="200 OK with b'next'",
                    observed=f"{served.describe()} with {served.body[:80]!r}",
                    transcript=later.transcript,
                )
        server.barrier()
        answer: bytes | None = None
        with anyio.move_on_after(_ALREADY_SENT):
            answer = await receive_some(conn.stream, conn.transcript)
    if answer is None:
        raise Violation(
            "a handler that raised CancelledError left its connection hanging: no response and no close, although "
            "requests sent later on other connections were answered.",
            expected="a response (5xx) or the connection closed",
            observed="nothing sent, the connection open",
            transcript=conn.transcript,
        )
    if answer and not answer.startswith(b"HTTP/1.1 5"):
        raise Violation(
            "a handler that raised CancelledError was answered with something other than a server error.",
            expected="a 5xx response (or a close)",
            observed=repr(answer[:80]),
            transcript=conn.transcript,
        )
