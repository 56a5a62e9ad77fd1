"""Routing into handlers: capture groups as arguments, reverse_url, RedirectHandler, hosts, 404s.

Reference: Tornado docs, Application and URLSpec (https://www.tornadoweb.org/en/stable/web.html#application-configuration),
RequestHandler.decode_argument and reverse_url, RedirectHandler
(https://www.tornadoweb.org/en/stable/web.html#tornado.web.RedirectHandler), and the user's guide,
"The Application object" (https://www.tornadoweb.org/en/stable/guide/structure.html#the-application-object).
"""

from __future__ import annotations

import pytest

from conformance import Level, Trace, Violation, check, not_provided, requires

from ._support import summary

pytestmark = [pytest.mark.lifecycle, requires("web", "httpserver")]


@check("Tornado docs: guide, The Application object; RequestHandler.decode_argument", Level.MUST)
async def test_capture_groups_become_percent_decoded_method_arguments(impl, server, http):
    """The guide: "If the regular expression contains capturing groups, these groups are passed
    to the HTTP verb methods as arguments ... named capture groups are passed as keyword
    arguments". RequestHandler.decode_argument: "The argument has been percent-decoded and is now
    a byte string ... This method is used as a filter for both get_argument() and for values
    extracted from the url and passed to get()/post()/etc. The name of the argument is provided
    if known, but may be None (e.g. for unnamed groups in the url regex)." """
    web = impl.part("web")
    trace = Trace()

    class Positional(web.RequestHandler):
        def get(self, first, second):
            trace.add(f"positional: get({first!r}, {second!r})")

    class Named(web.RequestHandler):
        def get(self, first, second):
            trace.add(f"named: get(first={first!r}, second={second!r})")

    class Decoding(web.RequestHandler):
        def decode_argument(self, value, name=None):
            trace.add(f"decode_argument({value!r}, name={name!r})")
            return value.decode("utf-8").upper()

        def get(self, *args, **kwargs):
            trace.add(f"decoding: get(*{args!r}, **{kwargs!r})")

    srv = server.serve(
        [
            (r"/pos/([^/]+)/([^/]+)", Positional),
            (r"/named/(?P<second>[^/]+)/(?P<first>[^/]+)", Named),
            (r"/decode/([^/]+)", Decoding),
            (r"/decode-named/(?P<key>[^/]+)", Decoding),
        ]
    )
    for path in ("/pos/caf%C3%A9/a%20b", "/named/two%2F2/one%3F1", "/decode/x%2By", "/decode-named/z%25"):
        response = await http.request(srv, "GET", path)
        if response.status != 200:
            raise Violation(f"GET {path} did not reach its handler.", expected="200", observed=response.describe())
    server.barrier()
    trace.assert_equal(
        [
            "positional: get('café', 'a b')",
            "named: get(first='one?1', second='two/2')",
            "decode_argument(b'x+y', name=None)",
            "decoding: get(*('X+Y',), **{})",
            "decode_argument(b'z%', name='key')",
            "decoding: get(*(), **{'key': 'Z%'})",
        ],
        "unnamed groups must arrive as positional arguments and named groups as keyword arguments, percent-decoded "
        "and passed through decode_argument (which the last handler overrides; name None for unnamed groups). "
        "What the handlers received:",
    )


@check("Tornado docs: RequestHandler.reverse_url, Application.reverse_url, URLSpec", Level.TORNADO)
async def test_reverse_url_fills_and_escapes_the_arguments(impl, server, http):
    """URLSpec: "name: A name for this handler. Used by reverse_url." Application.reverse_url:
    "Returns a URL path for handler named name. The handler must be added to the application as a
    named URLSpec. Args will be substituted for capturing groups in the URLSpec regex. They will
    be converted to strings if necessary, encoded as utf8, and url-escaped." The URLSpec's dict
    reaches initialize()."""
    web = impl.part("web")
    trace = Trace()

    class Item(web.RequestHandler):
        def initialize(self, label):
            trace.add(f"initialize(label={label!r})")

        def get(self, *args):
            trace.add(f"reverse_url('item', 42, 'a b') = {self.reverse_url('item', 42, 'a b')!r}")
            trace.add(f"reverse_url('home') = {self.reverse_url('home')!r}")
            self.write("ok")

    srv = server.serve(
        [
            web.url(r"/", Item, {"label": "home"}, name="home"),
            web.url(r"/item/([0-9]+)/([^/]+)", Item, {"label": "item"}, name="item"),
        ]
    )
    await http.request(srv, "GET", "/")
    server.barrier()
    trace.assert_equal(
        ["initialize(label='home')", "reverse_url('item', 42, 'a b') = '/item/42/a%20b'", "reverse_url('home') = '/'"],
        "initialize() receives the URLSpec's dict, and reverse_url substitutes its arguments (as strings, "
        "url-escaped) for the groups of the named URLSpec. What the handler saw:",
    )


@check("Tornado docs: RedirectHandler", Level.TORNADO)
async def test_redirect_handler_substitutes_groups_and_honours_permanent(impl, server, http):
    """RedirectHandler: "Redirects the client to the given URL for all GET requests" with "regular
    expression substitutions" ("/{1}/{0}/{2}"); "If any query arguments are present, they will be
    copied to the destination URL" (5.0); ``permanent`` defaults to True (301), False gives 302."""
    web = impl.part("web")
    srv = server.serve(
        [
            (r"/swap/([a-z]+)/([a-z]+)", web.RedirectHandler, {"url": "/{1}/{0}"}),
            (r"/temporary", web.RedirectHandler, {"url": "/elsewhere", "permanent": False}),
        ]
    )
    observed = Trace()
    for path in ("/swap/left/right", "/swap/left/right?page=2", "/temporary"):
        response = await http.request(srv, "GET", path)
        observed.add(f"GET {path} -> {summary(response, 'Location')}")
    observed.assert_equal(
        [
            "GET /swap/left/right -> 301 Moved Permanently, Location: /right/left, body b''",
            "GET /swap/left/right?page=2 -> 301 Moved Permanently, Location: /right/left?page=2, body b''",
            "GET /temporary -> 302 Found, Location: /elsewhere, body b''",
        ],
        "RedirectHandler formats its url with the captured groups, copies the query, and answers 301 unless "
        "permanent=False (302). The responses were:",
    )


@check("Tornado 4.5.0 release notes (tornado.web); Tornado docs: RedirectHandler", Level.TORNADO)
async def test_redirect_handler_formats_matched_groups_into_its_url(impl, server, http):
    """RedirectHandler "supports regular expression substitutions": "The final URL is formatted
    with str.format and the substrings that match the capturing groups" (new in 4.5), so
    "/{1}/{0}/{2}" sends /a/b/c/d to /b/a/c/d; ``permanent`` defaults to True (301) and False
    gives 302. Requests without a query only: the query copy (5.0) is judged by
    redirect_handler_substitutes_groups_and_honours_permanent."""
    web = impl.part("web")
    srv = server.serve(
        [
            (r"/swap/(.*?)/(.*?)/(.*)", web.RedirectHandler, {"url": "/{1}/{0}/{2}"}),
            (r"/temporary/([a-z]+)", web.RedirectHandler, {"url": "/elsewhere/{0}", "permanent": False}),
        ]
    )
    observed = Trace()
    for path in ("/swap/a/b/c/d", "/temporary/page"):
        response = await http.request(srv, "GET", path)
        observed.add(f"GET {path} -> {summary(response, 'Location')}")
    observed.assert_equal(
        [
            "GET /swap/a/b/c/d -> 301 Moved Permanently, Location: /b/a/c/d, body b''",
            "GET /temporary/page -> 302 Found, Location: /elsewhere/page, body b''",
        ],
        "RedirectHandler formats its url with the captured groups (str.format) and answers 301 unless "
        "permanent=False (302). The responses were:",
    )


@check("Tornado docs: Application settings default_handler_class, default_handler_args", Level.TORNADO)
async def test_default_handler_class_answers_unmatched_paths(impl, server, http):
    """Application: "default_handler_class and default_handler_args: This handler will be used if
    no other match is found; use this to implement custom 404 pages (new in Tornado 3.2)." The
    default handler runs the full lifecycle, initialize() receiving default_handler_args."""
    web = impl.part("web")
    trace = Trace()

    class Found(web.RequestHandler):
        def get(self):
            trace.add("Found.get")

    class NotFound(web.RequestHandler):
        def initialize(self, page):
            trace.add(f"initialize(page={page!r})")
            self.page = page

        def prepare(self):
            trace.add("prepare: raise HTTPError(404)")
            raise web.HTTPError(404)

        def write_error(self, status_code, **kwargs):
            trace.add(f"write_error({status_code})")
            self.finish(self.page)

        def on_finish(self):
            trace.add(f"on_finish: status {self.get_status()}")

    srv = server.serve(
        [("/found", Found)], {"default_handler_class": NotFound, "default_handler_args": {"page": "custom 404"}}
    )
    response = await http.request(srv, "GET", "/missing")
    server.barrier()
    trace.add(summary(response))
    trace.assert_equal(
        [
            "initialize(page='custom 404')",
            "prepare: raise HTTPError(404)",
            "write_error(404)",
            "on_finish: status 404",
            "404 Not Found, body b'custom 404'",
        ],
        "no route matches /missing, so the default_handler_class must handle it with default_handler_args; its "
        "hooks (and the response, last row) were:",
    )


@check("Tornado docs: routing.HostMatches; Application.add_handlers", Level.TORNADO)
async def test_host_rules_route_by_the_host_header_without_its_port(impl, server, http):
    """Application.add_handlers: "Host patterns are processed sequentially in the order they were
    added. All matching patterns will be considered." routing.HostMatches: "Matches requests from
    hosts specified by host_pattern regex"; the port of the Host header is not part of the host.
    Checked where the implementation's web part offers Rule and HostMatches."""
    web = impl.part("web")
    rule, host_matches = getattr(web, "Rule", None), getattr(web, "HostMatches", None)
    if rule is None or host_matches is None:
        not_provided(f"{impl.name}'s web part has no Rule/HostMatches (host-based routing)")

    def answering(text):
        class Handler(web.RequestHandler):
            def get(self):
                self.write(text)

        return Handler

    srv = server.serve(
        [
            rule(host_matches(r"api\.example\.com"), [("/", answering("api"))]),
            rule(host_matches(r".*"), [("/", answering("www"))]),
        ]
    )
    observed = Trace()
    for host in ("api.example.com", "api.example.com:8080", "www.example.com"):
        response = await http.request(srv, "GET", "/", headers=[("Host", host)])
        observed.add(f"Host: {host} -> {response.status} {response.body!r}")
    observed.assert_equal(
        [
            "Host: api.example.com -> 200 b'api'",
            "Host: api.example.com:8080 -> 200 b'api'",
            "Host: www.example.com -> 200 b'www'",
        ],
        "requests must reach the handlers of the first host rule matching the Host header's host (its port "
        "ignored). The responses were:",
    )
