"""Route patterns that Tornado releases once mishandled: escaped characters reversed by
reverse_url, named groups given to RedirectHandler, and RedirectHandler templates that start
with a substitution.

Reference: Tornado docs, Application.reverse_url and URLSpec
(https://www.tornadoweb.org/en/stable/web.html#tornado.web.Application.reverse_url),
RedirectHandler (https://www.tornadoweb.org/en/stable/web.html#tornado.web.RedirectHandler),
and the release notes of Tornado 6.1.0 and 6.6.1
(https://www.tornadoweb.org/en/stable/releases.html).
"""

from __future__ import annotations

import pytest

from conformance import Level, Trace, check, requires

from ._support import summary

pytestmark = [pytest.mark.lifecycle, requires("web", "httpserver")]


@check("Tornado 6.1.0 release notes (tornado.web); Tornado docs: Application.reverse_url", Level.TORNADO)
async def test_reverse_url_unescapes_the_pattern_around_the_groups(impl, server, http):
    """Application.reverse_url: "Args will be substituted for capturing groups in the URLSpec
    regex." The 6.1.0 release notes: "reverse_url correctly handles escaped characters in the
    regex route." A ``\\.`` in the route is a literal dot in the path, before a group and after
    one; the reversed URL carries the dot, not the backslash."""
    web = impl.part("web")
    trace = Trace()

    class Reverser(web.RequestHandler):
        def get(self, *args):
            for name, arg in (("before", 7), ("after", 7), ("both", "x y")):
                trace.add(f"reverse_url({name!r}, {arg!r}) = {self.reverse_url(name, arg)!r}")

    srv = server.serve(
        [
            web.url(r"/", Reverser),
            web.url(r"/v1\.0/([0-9]+)", Reverser, name="before"),
            web.url(r"/item/([0-9]+)\.json", Reverser, name="after"),
            web.url(r"/a\-b/([^/]+)/c\.d", Reverser, name="both"),
        ]
    )
    await http.request(srv, "GET", "/")
    server.barrier()
    trace.assert_equal(
        [
            "reverse_url('before', 7) = '/v1.0/7'",
            "reverse_url('after', 7) = '/item/7.json'",
            "reverse_url('both', 'x y') = '/a-b/x%20y/c.d'",
        ],
        "reverse_url must unescape the regex's escaped characters wherever they stand (before or after a "
        "group), so that the URL it builds is one the route matches. What the handler got:",
    )


@check("Tornado 6.1.0 release notes (tornado.web); Tornado docs: RedirectHandler", Level.TORNADO)
async def test_redirect_handler_substitutes_named_groups(impl, server, http):
    """RedirectHandler: "You can also use regular expression substitutions" in its url, which is
    formatted with the route's groups; named groups reach the handler "as keyword arguments" (the
    user's guide). The 6.1.0 release notes: "RedirectHandler.get now accepts keyword arguments."
    A route with named groups redirects with ``{name}`` filled in, instead of answering 500."""
    web = impl.part("web")
    srv = server.serve(
        [
            (r"/user/(?P<name>[a-z]+)", web.RedirectHandler, {"url": "/people/{name}"}),
            (r"/swap/(?P<a>[a-z]+)/(?P<b>[a-z]+)", web.RedirectHandler, {"url": "/{b}/{a}", "permanent": False}),
        ]
    )
    observed = Trace()
    for path in ("/user/ada", "/swap/left/right?page=2"):
        response = await http.request(srv, "GET", path)
        observed.add(f"GET {path} -> {summary(response, 'Location')}")
    observed.assert_equal(
        [
            "GET /user/ada -> 301 Moved Permanently, Location: /people/ada, body b''",
            "GET /swap/left/right?page=2 -> 302 Found, Location: /right/left?page=2, body b''",
        ],
        "RedirectHandler must format its url with the route's named groups (keyword arguments to get) and "
        "redirect there. The responses were:",
    )


@check("Tornado 6.6.1 release notes (Bug Fixes); Tornado docs: RedirectHandler", Level.TORNADO)
async def test_redirect_handler_template_may_start_with_a_substitution(impl, server, http):
    """The 6.6.1 release notes: "Certain patterns that worked with RedirectHandler in Tornado 6.5
    and before did not work correctly in Tornado 6.6.0. This was an unintended regression and the
    original behavior has been restored." A relative url template that starts with a substitution
    (``{0}/b``) cannot change the redirect's host when the group is a plain path segment, so the
    redirect goes ahead (6.6.0 refused it with 400: its placeholder made ``//b`` of it, a host)."""
    web = impl.part("web")
    srv = server.serve(
        [
            (r"/lead/([a-z]+)", web.RedirectHandler, {"url": "{0}/b"}),
            (r"/both/([a-z]+)/([a-z]+)", web.RedirectHandler, {"url": "{0}/{1}.html"}),
        ]
    )
    observed = Trace()
    for path in ("/lead/page", "/both/docs/intro"):
        response = await http.request(srv, "GET", path)
        observed.add(f"GET {path} -> {summary(response, 'Location')}")
    observed.assert_equal(
        [
            "GET /lead/page -> 301 Moved Permanently, Location: page/b, body b''",
            "GET /both/docs/intro -> 301 Moved Permanently, Location: docs/intro.html, body b''",
        ],
        "a relative RedirectHandler url that starts with a substitution must redirect (as in 6.5) when what is "
        "substituted is a plain path segment. The responses were:",
    )
