"""Routers and rules: declaration order, anchoring, nested routers, add_handlers, reverse_url's
refusals, the slash decorators, ErrorHandler and FallbackHandler around a WSGI application.

Complements test_routing.py (capture groups, reverse_url's escaping, RedirectHandler, the
default handler, HostMatches and the port) without repeating it.

Reference: Tornado docs, tornado.routing (https://www.tornadoweb.org/en/stable/routing.html),
Application and add_handlers, URLSpec, addslash/removeslash, ErrorHandler, FallbackHandler
(https://www.tornadoweb.org/en/stable/web.html) and WSGIContainer
(https://www.tornadoweb.org/en/stable/wsgi.html); Tornado 6.6.1 release notes.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest

from conformance import Level, Trace, Violation, check, requires

from ._support import summary

pytestmark = [pytest.mark.lifecycle, requires("web", "httpserver")]


def _answering(web: Any, text: str) -> Any:
    """A handler class whose GET answers ``text`` and the path it saw."""

    class Handler(web.RequestHandler):
        def get(self, *args: Any) -> None:
            self.write(f"{text} {self.request.path}")

    Handler.__name__ = text.replace(" ", "_")
    return Handler


async def _observe(http: Any, srv: Any, requests: list[tuple[str, str, str | None]], *headers: str) -> Trace:
    """One trace row per (method, path, Host) request: what the server answered."""
    observed = Trace()
    for method, path, host in requests:
        response = await http.request(srv, method, path, headers=[("Host", host)] if host else [])
        where = f" (Host: {host})" if host else ""
        observed.add(f"{method} {path}{where} -> {summary(response, *headers)}")
    return observed


# -- rules: order and anchoring ----------------------------------------------------------------


@check("Tornado docs: web.Application (handlers); routing.RuleRouter", Level.TORNADO)
async def test_first_matching_rule_wins_in_declaration_order(impl, server, http):
    """Application: "The constructor for this class takes in a list of Rule objects or tuples
    of values corresponding to the arguments of Rule constructor"; RuleRouter.add_rules:
    "Appends new rules to the router." Tornado tries the rules in that order and the first
    whose matcher matches takes the request: of two overlapping patterns, the one declared
    first answers, whichever is more specific."""
    web = impl.part("web")
    special, generic = _answering(web, "special"), _answering(web, "generic")
    specific_first = server.serve([(r"/items/special", special), (r"/items/([^/]+)", generic)])
    generic_first = server.serve([(r"/items/([^/]+)", generic), (r"/items/special", special)])
    observed = Trace()
    for label, srv in (("specific first", specific_first), ("generic first", generic_first)):
        for path in ("/items/special", "/items/other"):
            response = await http.request(srv, "GET", path)
            observed.add(f"{label}: GET {path} -> {summary(response)}")
    observed.assert_equal(
        [
            "specific first: GET /items/special -> 200 OK, body b'special /items/special'",
            "specific first: GET /items/other -> 200 OK, body b'generic /items/other'",
            "generic first: GET /items/special -> 200 OK, body b'generic /items/special'",
            "generic first: GET /items/other -> 200 OK, body b'generic /items/other'",
        ],
        "the first declared rule whose pattern matches handles the request. The responses were:",
    )


@pytest.mark.parametrize(
    ("pattern", "path"),
    [
        pytest.param(r"/a", "/ab", id="path-continues-after-the-pattern"),
        pytest.param(r"/a", "/x/a", id="pattern-inside-the-path"),
        pytest.param(r"/items/([0-9]+)", "/items/12/edit", id="group-then-more-path"),
    ],
)
@check("Tornado docs: web.Application (handlers); routing.PathMatches", Level.TORNADO)
async def test_path_patterns_are_anchored_at_both_ends(impl, server, http, pattern, path):
    """PathMatches: "Matches requests with paths specified by path_pattern regex"; Tornado
    matches the whole path: the pattern is anchored at the start (re.match) and "$" is
    appended when it does not end with one. A path that merely contains the pattern, or
    continues after it, reaches no handler (404)."""
    web = impl.part("web")
    srv = server.serve([(pattern, _answering(web, "matched"))])
    response = await http.request(srv, "GET", path)
    if response.status != 404:
        raise Violation(
            f"GET {path} was handled by the rule {pattern!r}, whose pattern matches only part of the path.",
            expected="404 Not Found (the pattern must match the whole path)",
            observed=summary(response),
        )


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        pytest.param("api.example.com.evil.test", "www", id="suffix-added"),
        pytest.param("evil-api.example.com", "www", id="prefix-added"),
        pytest.param("API.Example.COM", "api", id="upper-case"),
        pytest.param("Api.Example.Com:8443", "api", id="upper-case-with-port"),
    ],
)
@check("Tornado docs: routing.HostMatches; RFC 9110 §4.2.3 (host case-insensitive)", Level.TORNADO)
@requires("routing")
async def test_host_patterns_match_the_whole_host_case_insensitively(impl, server, http, host, expected):
    """routing.HostMatches: "Matches requests from hosts specified by host_pattern regex". As
    with paths, Tornado matches the whole host name (the pattern is anchored at the start and
    "$" is appended), and host names are case-insensitive (RFC 9110 §4.2.3: "The scheme and
    host are case-insensitive"; Tornado lower-cases the host before matching). A host that
    merely contains the pattern must not reach that rule's handlers."""
    web, routing = impl.part("web"), impl.part("routing")
    srv = server.serve(
        [
            routing.Rule(routing.HostMatches(r"api\.example\.com"), [(r"/", _answering(web, "api"))]),
            routing.Rule(routing.HostMatches(r".*"), [(r"/", _answering(web, "www"))]),
        ]
    )
    response = await http.request(srv, "GET", "/", headers=[("Host", host)])
    if (response.status, response.body) != (200, f"{expected} /".encode()):
        raise Violation(
            f"GET / with Host: {host} was not served by the {expected!r} rule: the rule for api\\.example\\.com "
            + ("must match that host whatever its case." if expected == "api" else "matches only that whole host."),
            expected=f"200 OK, body {f'{expected} /'.encode()!r}",
            observed=summary(response),
        )


# -- nested routers ------------------------------------------------------------------------------


@check("Tornado docs: routing (Rule targets: another Router, a nested RuleRouter or Application)", Level.TORNADO)
@requires("routing")
async def test_rule_targets_can_be_routers_and_applications(impl, server, http):
    """tornado.routing: a Rule's target "can be one of the following ... 3) Another Router
    instance ... Of course a nested RuleRouter or a web.Application is allowed", e.g.
    ``Rule(HostMatches("example.com"), RuleRouter([Rule(PathMatches("/app1/.*"),
    Application([(r"/app1/handler", Handler)]))]))``. A nested Application answers what it
    does not match with its own default handler."""
    web, routing = impl.part("web"), impl.part("routing")

    class App1Missing(web.RequestHandler):
        def get(self):
            self.set_status(404)
            self.write("app1 has no such page")

    api = web.Application([(r"/v1/items", _answering(web, "api"))])
    app1 = web.Application([(r"/app1/handler", _answering(web, "app1"))], default_handler_class=App1Missing)
    srv = server.serve(
        [
            routing.Rule(
                routing.HostMatches(r"api\.example\.com"),
                routing.RuleRouter([routing.Rule(routing.PathMatches(r"/v1/.*"), api)]),
            ),
            routing.Rule(routing.PathMatches(r"/app1/.*"), app1),
            (r"/.*", _answering(web, "main")),
        ]
    )
    observed = await _observe(
        http,
        srv,
        [
            ("GET", "/v1/items", "api.example.com"),
            ("GET", "/v1/items", "www.example.com"),
            ("GET", "/app1/handler", None),
            ("GET", "/app1/other", None),
            ("GET", "/elsewhere", None),
        ],
    )
    observed.assert_equal(
        [
            "GET /v1/items (Host: api.example.com) -> 200 OK, body b'api /v1/items'",
            "GET /v1/items (Host: www.example.com) -> 200 OK, body b'main /v1/items'",
            "GET /app1/handler -> 200 OK, body b'app1 /app1/handler'",
            "GET /app1/other -> 404 Not Found, body b'app1 has no such page'",
            "GET /elsewhere -> 200 OK, body b'main /elsewhere'",
        ],
        "a rule whose target is a RuleRouter or an Application hands the request to it (the host rule's nested "
        "router, then its Application; the /app1 Application with its own default handler). The responses were:",
    )


@check("Tornado docs: Application.add_handlers", Level.TORNADO)
@requires("routing")
async def test_add_handlers_groups_are_tried_in_order_before_the_default_host(impl, server, http):
    """Application.add_handlers: "Appends the given handlers to our handler list. Host patterns
    are processed sequentially in the order they were added. All matching patterns will be
    considered." The handlers given to the constructor serve every host, after the host
    groups added later; a host group without a matching path lets the next matching group
    (and finally the constructor's handlers) answer. The Application is the target of the
    served rule (a nested Application, see tornado.routing)."""
    web, routing = impl.part("web"), impl.part("routing")
    app = web.Application([(r"/", _answering(web, "default")), (r"/default-only", _answering(web, "default"))])
    app.add_handlers(r"api\.example\.com", [(r"/", _answering(web, "api"))])
    app.add_handlers(r".*\.example\.com", [(r"/", _answering(web, "wild")), (r"/wild-only", _answering(web, "wild"))])
    srv = server.serve([routing.Rule(routing.AnyMatches(), app)])
    observed = await _observe(
        http,
        srv,
        [
            ("GET", "/", "api.example.com"),
            ("GET", "/", "shop.example.com"),
            ("GET", "/", "localhost"),
            ("GET", "/wild-only", "api.example.com"),
            ("GET", "/default-only", "api.example.com"),
        ],
    )
    observed.assert_equal(
        [
            "GET / (Host: api.example.com) -> 200 OK, body b'api /'",
            "GET / (Host: shop.example.com) -> 200 OK, body b'wild /'",
            "GET / (Host: localhost) -> 200 OK, body b'default /'",
            "GET /wild-only (Host: api.example.com) -> 200 OK, body b'wild /wild-only'",
            "GET /default-only (Host: api.example.com) -> 200 OK, body b'default /default-only'",
        ],
        "host groups are tried in the order add_handlers added them, before the constructor's handlers, and a "
        "group without a matching path passes the request on to the next matching one. The responses were:",
    )


@check("Tornado docs: web.Application (default_host); routing.DefaultHostMatches", Level.TORNADO)
@requires("routing")
async def test_default_host_serves_hosts_no_pattern_matches(impl, server, http):
    """Application: "If there's no match for the current request's host, then default_host
    parameter value is matched against host regular expressions." routing.DefaultHostMatches:
    "Matches requests from host that is equal to application's default_host. Always returns
    no match if X-Real-Ip header is present." The handlers given to the constructor still
    come first for every host."""
    web, routing = impl.part("web"), impl.part("routing")
    app = web.Application([(r"/", _answering(web, "default"))], default_host="main.example")
    app.add_handlers(r"main\.example", [(r"/main", _answering(web, "main"))])
    srv = server.serve([routing.Rule(routing.AnyMatches(), app)])
    observed = Trace()
    for host, extra in (
        ("main.example", []),
        ("other.example", []),
        ("other.example", [("X-Real-Ip", "192.0.2.7")]),
    ):
        for path in ("/main", "/"):
            response = await http.request(srv, "GET", path, headers=[("Host", host), *extra])
            behind = " behind a proxy (X-Real-Ip)" if extra else ""
            answer = f"{response.status} {response.body!r}" if response.status == 200 else str(response.status)
            observed.add(f"GET {path} (Host: {host}){behind} -> {answer}")
    observed.assert_equal(
        [
            "GET /main (Host: main.example) -> 200 b'main /main'",
            "GET / (Host: main.example) -> 200 b'default /'",
            "GET /main (Host: other.example) -> 200 b'main /main'",
            "GET / (Host: other.example) -> 200 b'default /'",
            "GET /main (Host: other.example) behind a proxy (X-Real-Ip) -> 404",
            "GET / (Host: other.example) behind a proxy (X-Real-Ip) -> 200 b'default /'",
        ],
        "a host no add_handlers pattern matches is served by the group whose pattern matches default_host, unless the "
        "request carries X-Real-Ip; the constructor's handlers answer every host. The responses were:",
    )


# -- reverse_url ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("item",), id="missing-argument"),
        pytest.param(("item", 7, 8), id="extra-argument"),
        pytest.param(("pair", 1), id="one-of-two-arguments"),
        pytest.param(("no-such-name",), id="unknown-name"),
    ],
)
@check("Tornado docs: Application.reverse_url, URLSpec", Level.TORNADO)
async def test_reverse_url_refuses_what_it_cannot_fill(impl, server, http, args):
    """Application.reverse_url: "Returns a URL path for handler named name. The handler must be
    added to the application as a named URLSpec. Args will be substituted for capturing groups
    in the URLSpec regex." With fewer or more arguments than the pattern has groups, or a name
    no URLSpec carries, there is no such URL: Tornado raises (AssertionError for the count,
    KeyError for the name) rather than return a path that leads elsewhere. Both web.URLSpec
    and web.url(name=...) name a route; a control call with the right arguments must work."""
    web = impl.part("web")
    trace = Trace()

    def attempt(handler: Any, call: tuple[Any, ...]) -> None:
        try:
            trace.add(f"reverse_url{call!r} returned {handler.reverse_url(*call)!r}")
        except Exception:  # any refusal will do; the check judges that one came
            trace.add(f"reverse_url{call!r} raised")

    class Reverser(web.RequestHandler):
        def get(self, *path_args):
            attempt(self, ("item", 7))
            attempt(self, args)
            self.write("ok")

    srv = server.serve(
        [
            web.URLSpec(r"/item/([0-9]+)", Reverser, name="item"),
            web.url(r"/pair/([0-9]+)/([0-9]+)", Reverser, name="pair"),
        ]
    )
    response = await http.request(srv, "GET", "/item/1")
    server.barrier()
    if response.status != 200:
        raise Violation("the handler calling reverse_url failed.", expected="200", observed=summary(response))
    trace.assert_equal(
        ["reverse_url('item', 7) returned '/item/7'", f"reverse_url{args!r} raised"],
        "reverse_url fills a named URLSpec's groups with exactly as many arguments, and raises when the count or "
        "the name does not fit. What the handler saw:",
    )


@check("Tornado docs: Application.reverse_url; routing.ReversibleRuleRouter, routing.Rule (name)", Level.TORNADO)
@requires("routing")
async def test_reverse_url_finds_names_in_host_groups_and_rules(impl, server, http):
    """Application.reverse_url: "Returns a URL path for handler named name"; routing.Rule:
    "name: the name of the rule that can be used to find it in ReversibleRouter.reverse_url
    implementation"; ReversibleRuleRouter: "Each rule added to this router may have a name
    attribute that can be used to reconstruct an original uri." Names given in a host rule's
    handler list, in add_handlers, and to a plain Rule are all found (Tornado looks in the
    named rules, then in nested reversible routers)."""
    web, routing = impl.part("web"), impl.part("routing")
    trace = Trace()

    class Reverser(web.RequestHandler):
        def get(self, *path_args):
            for call in (("home",), ("api-item", 7), ("added", "ab"), ("plain-rule", "x")):
                try:
                    trace.add(f"reverse_url{call!r} = {self.reverse_url(*call)!r}")
                except Exception as exc:
                    trace.add(f"reverse_url{call!r} raised {type(exc).__name__}")
            self.write("ok")

    app = web.Application(
        [
            routing.Rule(
                routing.HostMatches(r"api\.example\.com"), [web.url(r"/v1/items/([0-9]+)", Reverser, name="api-item")]
            ),
            routing.Rule(routing.PathMatches(r"/r/([a-z]+)"), Reverser, name="plain-rule"),
            web.url(r"/", Reverser, name="home"),
        ]
    )
    app.add_handlers(r"shop\.example\.com", [web.url(r"/added/([^/]+)", Reverser, name="added")])
    srv = server.serve([routing.Rule(routing.AnyMatches(), app)])
    response = await http.request(srv, "GET", "/")
    server.barrier()
    if response.status != 200:
        raise Violation("the handler calling reverse_url failed.", expected="200", observed=summary(response))
    trace.assert_equal(
        [
            "reverse_url('home',) = '/'",
            "reverse_url('api-item', 7) = '/v1/items/7'",
            "reverse_url('added', 'ab') = '/added/ab'",
            "reverse_url('plain-rule', 'x') = '/r/x'",
        ],
        "reverse_url finds a name wherever the application declares it: in a host rule's list, in add_handlers, "
        "on a plain Rule. What the handler saw:",
    )


# -- addslash / removeslash ------------------------------------------------------------------


def _slash_app(web: Any) -> list[Any]:
    class AddSlash(web.RequestHandler):
        @web.addslash
        def get(self):
            self.write(f"added {self.request.uri}")

        @web.addslash
        def head(self):
            self.set_header("X-Handled", "added")

        @web.addslash
        def post(self):
            self.write(f"added {self.request.uri}")

        @web.addslash
        def put(self):
            self.write(f"added {self.request.uri}")

    class RemoveSlash(web.RequestHandler):
        @web.removeslash
        def get(self):
            self.write(f"removed {self.request.uri}")

        @web.removeslash
        def head(self):
            self.set_header("X-Handled", "removed")

        @web.removeslash
        def post(self):
            self.write(f"removed {self.request.uri}")

        @web.removeslash
        def delete(self):
            self.write(f"removed {self.request.uri}")

    return [
        (r"/dir/?", AddSlash),
        (r"/file/*", RemoveSlash),
        (r"/+", RemoveSlash),
        (r"//evil\.example/+", RemoveSlash),
        (r"/.*", AddSlash),
    ]


SLASH_REDIRECTS = [
    pytest.param("GET", "/dir?page=2&q=a%20b", "/dir/?page=2&q=a%20b", id="addslash-get"),
    pytest.param("HEAD", "/dir?page=2", "/dir/?page=2", id="addslash-head"),
    pytest.param("GET", "/dir", "/dir/", id="addslash-get-without-query"),
    pytest.param("GET", "/file/?page=2&q=a%20b", "/file?page=2&q=a%20b", id="removeslash-get"),
    pytest.param("HEAD", "/file//?page=2", "/file?page=2", id="removeslash-head-several-slashes"),
    pytest.param("GET", "/file/", "/file", id="removeslash-get-without-query"),
]


@pytest.mark.parametrize(("method", "path", "location"), SLASH_REDIRECTS)
@check("Tornado docs: web.addslash, web.removeslash", Level.TORNADO)
async def test_slash_decorators_redirect_get_and_head_permanently_keeping_the_query(
    impl, server, http, method, path, location
):
    """addslash: "Use this decorator to add a missing trailing slash to the request path. For
    example, a request to /foo would redirect to /foo/ with this decorator"; removeslash: "a
    request to /foo/ would redirect to /foo". Tornado redirects GET and HEAD permanently (301)
    and carries the query string over to the new location."""
    web = impl.part("web")
    srv = server.serve(_slash_app(web))
    response = await http.request(srv, method, path)
    observed = summary(response, "Location")
    expected = f"301 Moved Permanently, Location: {location}, body b''"
    if observed != expected:
        raise Violation(
            f"{method} {path} was not redirected permanently to the same path with its trailing slash "
            f"{'added' if location.startswith('/dir') else 'removed'} and its query kept.",
            expected=expected,
            observed=observed,
        )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        pytest.param("GET", "/dir/?x=1", b"added /dir/?x=1", id="addslash-slashed-with-query"),
        pytest.param("GET", "/file?next=/", b"removed /file?next=/", id="removeslash-query-ending-in-slash"),
        pytest.param("GET", "/", b"removed /", id="removeslash-root-kept"),
    ],
)
@check("Tornado docs: web.addslash, web.removeslash", Level.TORNADO)
async def test_slash_decorators_run_the_method_when_the_path_already_fits(impl, server, http, method, path, body):
    """addslash and removeslash only redirect a path that lacks (or has) the trailing slash; a
    path that already fits runs the decorated method. The query is not part of the path (a
    ``/`` at the end of the query changes nothing), and removeslash leaves the root, ``/``,
    alone: there is no shorter path to redirect it to."""
    web = impl.part("web")
    srv = server.serve(_slash_app(web))
    response = await http.request(srv, method, path, body=b"x" if method == "POST" else b"")
    if (response.status, response.body) != (200, body):
        raise Violation(
            f"{method} {path} already has the path the decorator asks for, yet the method did not answer.",
            expected=f"200 OK, body {body!r}",
            observed=summary(response, "Location"),
        )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("POST", "/dir?x=1", id="addslash-post"),
        pytest.param("PUT", "/dir", id="addslash-put"),
        pytest.param("POST", "/file/?x=1", id="removeslash-post"),
        pytest.param("DELETE", "/file/", id="removeslash-delete"),
    ],
)
@check("Tornado docs: web.addslash, web.removeslash (Tornado redirects GET and HEAD only)", Level.TORNADO)
async def test_slash_decorators_answer_404_to_other_methods(impl, server, http, method, path):
    """The slash decorators redirect GET and HEAD; any other method on a path that would need
    the redirect is answered 404 (Tornado raises HTTPError(404)): a 301 would make clients
    re-send a POST as a GET without its body. The decorated method never runs."""
    web = impl.part("web")
    srv = server.serve(_slash_app(web))
    response = await http.request(srv, method, path, body=b"payload" if method in ("POST", "PUT") else b"")
    if response.status != 404:
        raise Violation(
            f"{method} {path} was answered {response.status}: the slash decorators redirect only GET and HEAD, and "
            "refuse other methods on a path that lacks (or has) the slash.",
            expected="404 Not Found",
            observed=summary(response, "Location"),
        )


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("//evil.example", id="addslash-double-slash"),
        pytest.param("//evil.example/", id="removeslash-double-slash"),
        pytest.param("//evil.example//?next=1", id="removeslash-double-slash-with-query"),
    ],
)
@check(
    "Tornado 6.6.1 release notes (open redirects in @addslash and @removeslash); Tornado docs: web.addslash, web.removeslash",
    Level.TORNADO,
)
async def test_slash_decorators_never_redirect_to_another_host(impl, server, http, path):
    """Tornado 6.6.1 release notes: "Open redirects in @addslash and @removeslash have been
    fixed." A path starting with two slashes, given a slash or stripped of it, becomes
    ``//evil.example/``, which a browser reads as another host: Tornado refuses the request
    (403) instead of redirecting there."""
    web = impl.part("web")
    srv = server.serve(_slash_app(web))
    response = await http.request(srv, "GET", path)
    location = response.header("Location")
    if location is not None and _names_another_host(location):
        raise Violation(
            f"GET {path} was redirected to {location!r}, a protocol-relative URL naming another host (an open "
            "redirect).",
            expected="no redirect off-site (Tornado: 403)",
            observed=summary(response, "Location"),
        )


# -- ErrorHandler, FallbackHandler ------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "status", "settings"),
    [
        pytest.param("GET", 410, {}, id="get-410"),
        pytest.param("HEAD", 404, {}, id="head-404"),
        pytest.param("POST", 404, {"xsrf_cookies": True}, id="post-404-xsrf-cookies-on"),
        pytest.param("DELETE", 503, {}, id="delete-503"),
    ],
)
@check("Tornado docs: web.ErrorHandler", Level.TORNADO)
async def test_error_handler_answers_its_status_code_to_every_method(impl, server, http, method, status, settings):
    """ErrorHandler: "Generates an error response with status_code for all requests." Whatever
    the method, the answer is the status_code given in the rule's kwargs (a POST to an
    ErrorHandler is not refused for its missing XSRF token: it has no side effects)."""
    web = impl.part("web")
    srv = server.serve([(r"/err", web.ErrorHandler, {"status_code": status})], settings)
    response = await http.request(srv, method, "/err", body=b"a=1" if method == "POST" else b"")
    if response.status != status:
        raise Violation(
            f"{method} /err, routed to ErrorHandler with status_code={status}, was answered {response.status}.",
            expected=str(status),
            observed=summary(response),
        )


def _environ_echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    fields = ("REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING")
    text = " ".join(f"{name}={environ.get(name)!r}" for name in fields) + f" body={body!r}"
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"), ("X-Wsgi", "yes")])
    return [text.encode("utf-8")]


@check("Tornado docs: web.FallbackHandler; wsgi.WSGIContainer (PEP 3333 environ)", Level.TORNADO)
@requires("web", "httpserver", "wsgi")
async def test_fallback_handler_hands_the_request_to_a_wsgi_application(impl, server, http):
    """FallbackHandler: "A RequestHandler that wraps another HTTP server callback. The fallback
    is a callable object that accepts an HTTPServerRequest, such as an Application or
    tornado.wsgi.WSGIContainer. This is most useful to use both Tornado RequestHandlers and
    WSGI in the same server", with the documented ``(r".*", FallbackHandler,
    dict(fallback=wsgi_app))``. The WSGI application sees the request's method, its path
    (PATH_INFO, percent-decoded as PEP 3333 has it, SCRIPT_NAME empty), its query string
    and its body; routes declared before the fallback keep their own handlers."""
    web, wsgi = impl.part("web"), impl.part("wsgi")
    srv = server.serve(
        [
            (r"/native", _answering(web, "native")),
            (r".*", web.FallbackHandler, {"fallback": wsgi.WSGIContainer(_environ_echo)}),
        ]
    )
    observed = Trace()
    for method, path, body in (
        ("GET", "/native", b""),
        ("GET", "/legacy/a%20b?x=1&y=%C3%A9", b""),
        ("POST", "/legacy/form", b"name=value"),
    ):
        response = await http.request(
            srv,
            method,
            path,
            headers=[("Content-Type", "application/x-www-form-urlencoded")] if body else [],
            body=body,
        )
        observed.add(f"{method} {path} -> {summary(response)}")
    observed.assert_equal(
        [
            "GET /native -> 200 OK, body b'native /native'",
            "GET /legacy/a%20b?x=1&y=%C3%A9 -> 200 OK, body b\"REQUEST_METHOD='GET' SCRIPT_NAME='' "
            "PATH_INFO='/legacy/a b' QUERY_STRING='x=1&y=%C3%A9' body=b''\"",
            "POST /legacy/form -> 200 OK, body b\"REQUEST_METHOD='POST' SCRIPT_NAME='' PATH_INFO='/legacy/form' "
            "QUERY_STRING='' body=b'name=value'\"",
        ],
        "the native route answers itself and FallbackHandler hands every other request to the WSGIContainer, whose "
        "application sees the method, the decoded path, the query and the body. The responses were:",
    )


# -- RedirectHandler substitutions (6.6) ----------------------------------------------------------


def _names_another_host(location: str) -> bool:
    """Whether a browser following ``location`` from this server would leave it: a
    protocol-relative reference (``//host``, also spelled ``/\\host``) or an absolute URL
    (browsers read ``\\`` as ``/`` and skip leading spaces and control characters)."""
    normalised = location.lstrip("".join(map(chr, range(0x21)))).replace("\\", "/")
    parts = urllib.parse.urlsplit(normalised)
    return normalised.startswith("//") or bool(parts.scheme and parts.netloc)


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/to//evil.example/b", id="double-slash"),
        pytest.param("/to/%2Fevil.example/b", id="percent-encoded-slash"),
        pytest.param("/to/%5Cevil.example/b", id="percent-encoded-backslash"),
        pytest.param("/to//evil.example/b?x=1", id="double-slash-with-query"),
    ],
)
@check("Tornado docs: RedirectHandler (changed in 6.6); Tornado 6.6.0 release notes", Level.TORNADO)
async def test_redirect_handler_substitutions_never_change_the_host(impl, server, http, path):
    """RedirectHandler, changed in 6.6: "Substituted values may no longer change the scheme or
    netloc (user info, host, and port) of the destination URL. For example, with a url of
    "/{0}/b", a request that would redirect to //example.com/b (a protocol-relative URL
    pointing to another host) now fails with a 400 error." The 6.6.0 release notes add
    "variants that browsers treat the same way, such as /\\example.com". Captured groups are
    percent-decoded, so ``%2F`` and ``%5C`` reach the template as ``/`` and ``\\``."""
    web = impl.part("web")
    srv = server.serve([(r"/to/(.*)/b", web.RedirectHandler, {"url": "/{0}/b"})])
    response = await http.request(srv, "GET", path)
    location = response.header("Location")
    if response.status != 400:
        raise Violation(
            f"GET {path} was answered {response.status}{f' to {location!r}' if location else ''}: the value "
            "substituted into the url '/{0}/b' turned it into a reference to another host, which must be refused (400), never redirected to (an open redirect).",
            expected="400 Bad Request, no Location naming another host",
            observed=summary(response, "Location"),
        )


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
@check("Tornado docs: RedirectHandler", Level.TORNADO)
async def test_redirect_handler_redirects_get_requests_only(impl, server, http, method):
    """RedirectHandler: "Redirects the client to the given URL for all GET requests." It has
    no other method: POST, PUT and DELETE are answered 405 (Method Not Allowed), never
    redirected, so a client does not re-send its request (or drop its body) elsewhere."""
    web = impl.part("web")
    srv = server.serve([(r"/old", web.RedirectHandler, {"url": "/new"})])
    response = await http.request(srv, method, "/old", body=b"payload" if method != "DELETE" else b"")
    if response.status != 405:
        raise Violation(
            f"{method} /old, routed to RedirectHandler, was answered {response.status}: RedirectHandler redirects GET "
            "requests only.",
            expected="405 Method Not Allowed",
            observed=summary(response, "Location"),
        )


@check("Tornado docs: web.FallbackHandler", Level.TORNADO)
async def test_fallback_handler_hands_the_request_to_another_application(impl, server, http):
    """FallbackHandler: "The fallback is a callable object that accepts an HTTPServerRequest,
    such as an Application or tornado.wsgi.WSGIContainer." Behind it, the other Application
    routes the request by its own rules, on the unchanged path, and writes the response."""
    web = impl.part("web")

    class Inner(web.RequestHandler):
        def get(self, section):
            self.write(f"inner section={section} path={self.request.path} x={self.get_argument('x', '-')}")

    legacy = web.Application([(r"/legacy/([a-z]+)", Inner)])
    srv = server.serve(
        [(r"/native", _answering(web, "native")), (r"/legacy/.*", web.FallbackHandler, {"fallback": legacy})]
    )
    observed = Trace()
    for path in ("/native", "/legacy/books?x=1", "/legacy/42"):
        response = await http.request(srv, "GET", path)
        observed.add(
            f"GET {path} -> {response.status} {response.body!r}"
            if response.status == 200
            else f"GET {path} -> {response.status}"
        )
    observed.assert_equal(
        [
            "GET /native -> 200 b'native /native'",
            "GET /legacy/books?x=1 -> 200 b'inner section=books path=/legacy/books x=1'",
            "GET /legacy/42 -> 404",
        ],
        "FallbackHandler hands the request, path and query unchanged, to the fallback Application, which routes it "
        "by its own rules (404 where none matches). The responses were:",
    )
