"""Ending the request in prepare(): the verb method is skipped, on_finish still runs.

Reference: Tornado user's guide, "Overriding RequestHandler methods"
(https://www.tornadoweb.org/en/stable/guide/structure.html#overriding-requesthandler-methods);
RequestHandler.prepare and on_finish (https://www.tornadoweb.org/en/stable/web.html#entry-points).
"""

from __future__ import annotations

import pytest

from conformance import Level, Trace, Violation, check, requires

from ._support import style_params, styled, summary

pytestmark = [pytest.mark.lifecycle, requires("web", "httpserver")]


@check("Tornado docs: Overriding RequestHandler methods (prepare)", Level.MUST)
async def test_finish_in_prepare_skips_the_verb_method_but_not_on_finish(impl, server, http):
    """Tornado's guide: "prepare may produce output; if it calls finish (or redirect, etc),
    processing stops here." RequestHandler.on_finish is "Called after the end of a request" and
    is "a counterpart to prepare", so it runs although the verb method did not."""
    web = impl.part("web")
    trace = Trace()

    class Handler(web.RequestHandler):
        def prepare(self):
            trace.add("prepare: finish()")
            self.finish("finished in prepare")

        def get(self):
            trace.add("get")
            self.write("written by get")

        def on_finish(self):
            trace.add("on_finish")

    srv = server.serve([("/", Handler)])
    response = await http.request(srv, "GET", "/")
    server.barrier()
    trace.assert_equal(
        ["prepare: finish()", "on_finish"],
        "prepare() called finish(), so Tornado stops processing there: get() must not be called, and "
        "on_finish() must still run once the response is finished; the implementation's hooks ran otherwise.",
    )
    if not (response.status == 200 and response.body == b"finished in prepare"):
        raise Violation(
            "the response is not the one prepare() finished.",
            expected="200 with b'finished in prepare'",
            observed=f"{response.describe()} with body {response.body[:200]!r}",
        )


@check("Tornado docs: RequestHandler.prepare; Overriding RequestHandler methods", Level.MUST)
@pytest.mark.parametrize("style", style_params("async-def", "gen-coroutine"))
async def test_finish_in_a_coroutine_prepare_skips_the_verb_method_but_not_on_finish(impl, server, http, style):
    """RequestHandler.prepare: "If this method returns an Awaitable execution will not proceed
    until the Awaitable is done", and the guide: "prepare may produce output; if it calls finish
    (or redirect, etc), processing stops here." A coroutine prepare() that finishes after a
    suspension ends processing just as a plain one does: no verb method, then on_finish()."""
    web = impl.part("web")
    trace = Trace()

    def finish_in_prepare(self):
        trace.add("prepare: finish()")
        self.finish("finished in prepare")

    class Handler(web.RequestHandler):
        prepare = styled(impl, style, finish_in_prepare)

        def get(self):
            trace.add("get")
            self.write("written by get")

        def on_finish(self):
            trace.add("on_finish")

    srv = server.serve([("/", Handler)])
    response = await http.request(srv, "GET", "/")
    server.barrier()
    trace.add(summary(response))
    trace.assert_equal(
        ["prepare: finish()", "on_finish", "200 OK, body b'finished in prepare'"],
        f"prepare() ({style}) called finish() after a suspension; the framework must await it, then stop: "
        "get() must not be called and on_finish() must run once. The hooks (and the response, last row) were:",
    )
