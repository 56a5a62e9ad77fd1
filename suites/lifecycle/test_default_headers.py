"""set_default_headers() applies to every response, error pages included.

Reference: Tornado docs, RequestHandler.set_default_headers and clear
(https://www.tornadoweb.org/en/stable/web.html#output).
"""

from __future__ import annotations

import pytest

from conformance import Level, Trace, check, requires

pytestmark = [pytest.mark.lifecycle, requires("web", "httpserver")]

HEADER = "X-Conformance-Default"


@check("Tornado docs: RequestHandler.set_default_headers", Level.TORNADO)
async def test_set_default_headers_apply_to_normal_and_error_responses(impl, server, http):
    """RequestHandler.set_default_headers: "Override this to set HTTP headers at the beginning of
    the request ... Note that setting such headers in the normal flow of request processing may
    not do what you want, since headers may be reset during error handling." Headers set here are
    the ones that survive that reset: Tornado's clear(), which send_error() calls before the error
    page, applies set_default_headers() again."""
    web = impl.part("web")

    class Handler(web.RequestHandler):
        def set_default_headers(self):
            self.set_header(HEADER, "applied")

        def get(self, outcome):
            if outcome == "fail":
                raise web.HTTPError(404)
            self.write("ok")

    srv = server.serve([("/(ok|fail)", Handler)])
    observed = Trace()
    for path in ("/ok", "/fail"):
        response = await http.request(srv, "GET", path)
        observed.add(f"GET {path}: {response.status}, {HEADER}: {response.header(HEADER) or '(absent)'}")
    observed.assert_equal(
        [f"GET /ok: 200, {HEADER}: applied", f"GET /fail: 404, {HEADER}: applied"],
        f"the handler's set_default_headers() sets {HEADER}; Tornado applies it to the normal response and "
        "again when an error resets the headers, so the error page carries it too. The responses were:",
    )
