"""write() after finish() is an error, not a silent no-op.

Reference: Tornado docs, RequestHandler.write and finish
(https://www.tornadoweb.org/en/stable/web.html#output).
"""

from __future__ import annotations

import pytest

from conformance import Level, Trace, Violation, check, requires

pytestmark = [pytest.mark.lifecycle, requires("web", "httpserver")]


@check("Tornado docs: RequestHandler.finish", Level.TORNADO)
async def test_write_after_finish_raises_runtime_error(impl, server, http):
    """RequestHandler.finish: "Finishes this response, ending the HTTP request." Nothing can be
    added to an ended response: Tornado's write() raises RuntimeError("Cannot write() after
    finish()"), so handler code that writes too late fails loudly instead of losing output."""
    web = impl.part("web")
    trace = Trace()

    class Handler(web.RequestHandler):
        def get(self):
            self.finish("done")
            try:
                self.write("too late")
            except RuntimeError:
                trace.add("write() after finish() raised RuntimeError")
            except Exception as exc:
                trace.add(f"write() after finish() raised {type(exc).__name__}, not a RuntimeError")
            else:
                trace.add("write() after finish() returned normally")

    srv = server.serve([("/", Handler)])
    response = await http.request(srv, "GET", "/")
    server.barrier()
    trace.assert_equal(
        ["write() after finish() raised RuntimeError"],
        "write() called after finish() must raise RuntimeError as Tornado's does; the implementation's did not.",
    )
    if not (response.status == 200 and response.body == b"done"):
        raise Violation(
            "the response is not exactly what finish() sent.",
            expected="200 with b'done'",
            observed=f"{response.describe()} with body {response.body[:200]!r}",
        )


@check("Tornado docs: RequestHandler.finish", Level.TORNADO)
async def test_finish_twice_raises_runtime_error(impl, server, http):
    """RequestHandler.finish: "Finishes this response, ending the HTTP request." A response ends
    once: Tornado's second finish() raises RuntimeError("finish() called twice"), and on_finish
    runs once."""
    web = impl.part("web")
    trace = Trace()

    class Handler(web.RequestHandler):
        def get(self):
            self.finish("done")
            try:
                self.finish("again")
            except RuntimeError:
                trace.add("second finish() raised RuntimeError")
            except Exception as exc:
                trace.add(f"second finish() raised {type(exc).__name__}, not a RuntimeError")
            else:
                trace.add("second finish() returned normally")

        def on_finish(self):
            trace.add("on_finish")

    srv = server.serve([("/", Handler)])
    response = await http.request(srv, "GET", "/")
    server.barrier()
    observed = Trace()
    outcomes = [e for e in trace.events if e != "on_finish"]
    for event in outcomes:
        observed.add(event)
    observed.add(f"on_finish called {trace.events.count('on_finish')} time(s)")
    observed.add(f"{response.status}, body {response.body!r}")
    observed.assert_equal(
        ["second finish() raised RuntimeError", "on_finish called 1 time(s)", "200, body b'done'"],
        "finish() called a second time must raise RuntimeError as Tornado's does, on_finish must run once, and "
        "the response is what the first finish() sent. What happened:",
    )
