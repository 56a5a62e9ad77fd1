"""redirect(): the status it answers with, the Location it sends, and the hooks around it.

Reference: Tornado docs, RequestHandler.redirect
(https://www.tornadoweb.org/en/stable/web.html#tornado.web.RequestHandler.redirect).
"""

from __future__ import annotations

import pytest

from conformance import Level, Trace, check, requires

from ._support import summary

pytestmark = [pytest.mark.lifecycle, requires("web", "httpserver")]


@check("Tornado docs: RequestHandler.redirect", Level.TORNADO)
async def test_redirect_sends_location_with_the_requested_status(impl, server, http):
    """RequestHandler.redirect: "Sends a redirect to the given (optionally relative) URL. If the
    status argument is specified, that value is used as the HTTP status code; otherwise either 301
    (permanent) or 302 (temporary) is chosen based on the permanent argument. The default is 302
    (temporary)." The redirect ends the response; on_finish follows."""
    web = impl.part("web")
    trace = Trace()
    calls = {"temporary": {}, "permanent": {"permanent": True}, "see-other": {"status": 303}}

    class Handler(web.RequestHandler):
        def get(self, case):
            trace.add(f"get: redirect('/target', **{calls[case]!r})")
            self.redirect("/target", **calls[case])

        def on_finish(self):
            trace.add(f"on_finish: status {self.get_status()}")

    srv = server.serve([("/(.+)", Handler)])
    for case in calls:
        response = await http.request(srv, "GET", f"/{case}")
        server.barrier()
        trace.add(summary(response, "Location"))
    trace.assert_equal(
        [
            "get: redirect('/target', **{})",
            "on_finish: status 302",
            "302 Found, Location: /target, body b''",
            "get: redirect('/target', **{'permanent': True})",
            "on_finish: status 301",
            "301 Moved Permanently, Location: /target, body b''",
            "get: redirect('/target', **{'status': 303})",
            "on_finish: status 303",
            "303 See Other, Location: /target, body b''",
        ],
        "redirect() answers 302 by default, 301 with permanent=True and the given status otherwise, with the URL "
        "in Location and no body. The hooks and responses were:",
    )
