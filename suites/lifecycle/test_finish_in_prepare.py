"""Ending the request in prepare(): the verb method is skipped, on_finish still runs.

Reference: Tornado user's guide, "Overriding RequestHandler methods"
(https://www.tornadoweb.org/en/stable/guide/structure.html#overriding-requesthandler-methods);
RequestHandler.prepare and on_finish (https://www.tornadoweb.org/en/stable/web.html#entry-points).
"""

from __future__ import annotations

import pytest

from conformance import Level, Trace, check, requires

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
    assert response.status == 200 and response.body == b"finished in prepare", (
        f"the response should be the one prepare() finished (200, 'finished in prepare'), got "
        f"{response.describe()} with body {response.body[:200]!r}"
    )
