"""RequestHandler.finish returns a Future that resolves once the response has been sent.

Reference: Tornado docs, RequestHandler.finish and render
(https://www.tornadoweb.org/en/stable/web.html#tornado.web.RequestHandler.finish), and the
Tornado 5.1.0 and 5.1.1 release notes, tornado.web.

Rule: the handler records what ``finish()`` returned and when its Future resolved; the kit
reads the whole response first, then runs loop barriers (a bounded number of FIFO rounds,
never a sleep) so the callbacks that resolve the Future have run before it is judged.
"""

from __future__ import annotations

import inspect

import pytest

from conformance import Level, Trace, Violation, check, not_provided, requires

pytestmark = [pytest.mark.lifecycle, requires("web", "httpserver")]

#: FIFO rounds of the loop a resolved write may take to reach the awaiting coroutine.
ROUNDS = 20

BODIES = [
    pytest.param(b"short body", id="short-body"),
    pytest.param(b"0123456789abcdef" * 65536, id="one-megabyte-body"),
]


@check("Tornado 5.1.0 and 5.1.1 release notes (tornado.web); Tornado docs: RequestHandler.finish", Level.TORNADO)
@pytest.mark.parametrize("body", BODIES)
async def test_finish_returns_a_future_that_resolves_once_the_response_is_sent(impl, server, http, body):
    """RequestHandler.finish: "Returns a Future which may optionally be awaited to track the
    sending of the response to the client. This Future resolves when all the response data has
    been sent" (changed in 5.1: "Now returns a Future instead of None"). The 5.1.0 release notes:
    "RequestHandler.finish and RequestHandler.render now return Futures that can be used to wait
    for the last part of the response to be sent to the client." The 5.1.1 release notes: "Fixed
    an case in which the Future returned by RequestHandler.finish could fail to resolve" (in
    5.1.0 it never resolved). A handler that awaits finish() resumes once the kit has received
    the whole response."""
    web = impl.part("web")
    trace = Trace()

    class Finishing(web.RequestHandler):
        async def get(self):
            self.write(body)
            result = self.finish()
            if not inspect.isawaitable(result):
                trace.add(f"finish() returned {result!r}")
                return
            trace.add("finish() returned an awaitable")
            await result
            trace.add("the Future resolved")

    srv = server.serve([("/", Finishing)])
    response = await http.request(srv, "GET", "/")
    for _ in range(ROUNDS):
        server.barrier()
        if len(trace.events) >= 2 or (trace.events and trace.events[0] != "finish() returned an awaitable"):
            break
    if trace.events and trace.events[0].startswith("finish() returned") and trace.events[0].endswith("None"):
        not_provided(f"{impl.name}'s RequestHandler.finish returns None (before Tornado 5.1)")
    if not (response.status == 200 and response.body == body):
        raise Violation(
            "the handler wrote the body and called finish(), yet the response is not that body.",
            expected=f"200 with {len(body)} octets",
            observed=f"{response.describe()} with {len(response.body)} octets",
        )
    trace.assert_equal(
        ["finish() returned an awaitable", "the Future resolved"],
        f"the Future finish() returned must resolve once the response is sent (the kit had received all of it, "
        f"and the loop then ran {ROUNDS} rounds). What the handler saw:",
    )
