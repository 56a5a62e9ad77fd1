"""The client side, redirects: following them, bounding them, and what the next request carries.

The kit's scripted servers (fixture ``h11_server``) answer with 3xx responses; a second
server on another port is another origin (RFC 6454: scheme, host and port), for the
cross-origin cases. Every request the client sends is parsed by h11 and kept, so a check
judges the redirected request itself, not only the final response.

References: RFC 9110 §10.2.2, §15.4 (https://www.rfc-editor.org/rfc/rfc9110#section-15.4);
Tornado docs, HTTPRequest (``follow_redirects``, ``max_redirects``) and HTTPClientError
(https://www.tornadoweb.org/en/stable/httpclient.html); Tornado 6.5.6 release notes
(https://www.tornadoweb.org/en/stable/releases/v6.5.6.html).
"""

from __future__ import annotations

import pytest

from conformance import Level, Violation, check, requires

pytestmark = [pytest.mark.http11, requires("httpclient")]

FINAL = b"you have arrived"


def routes(table):
    """A responder answering each request target from ``table``: target -> (status, fields)."""

    async def respond(request, conn):
        status, fields = table.get(request.target, (404, []))
        body = FINAL if status == 200 else b""
        await conn.respond(status, [*fields, ("Content-Type", "text/plain")], body)

    return respond


def requests_seen(h11_server):
    return ", ".join(r.describe() for r in h11_server.requests) or "none"


@check("Tornado docs: HTTPRequest (follow_redirects), HTTPResponse (effective_url)", Level.TORNADO)
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_client_follows_redirects_by_default(h11_server, status):
    """Tornado docs, HTTPRequest: "``follow_redirects`` -- Should redirects be followed
    automatically or return the 3xx response? Default True." HTTPResponse: "``effective_url``
    -- final location of the resource after following any redirects"."""
    origin = await h11_server.listen(routes({"/start": (status, [("Location", "/final")]), "/final": (200, [])}))
    fetched = await h11_server.fetch(origin.url("/start"))
    targets = [r.target for r in h11_server.requests]
    if fetched.code != 200 or fetched.body != FINAL or targets != ["/start", "/final"]:
        raise Violation(
            f"the client did not follow a {status} to /final: Tornado documents that redirects are followed by "
            "default (follow_redirects=True).",
            expected="GET /start, GET /final, then a 200 response",
            observed=f"{requests_seen(h11_server)}, then {fetched.describe()}",
            transcript=h11_server.transcripts(),
        )
    if fetched.effective_url != origin.url("/final"):
        raise Violation(
            "the redirect to /final was followed, but the response's effective_url is not the final location.",
            expected=repr(origin.url("/final")),
            observed=repr(fetched.effective_url),
        )


RELATIVE_LOCATIONS = [
    pytest.param("/c/final", "/c/final", id="absolute-path"),
    pytest.param("final", "/a/b/final", id="relative-path"),
    pytest.param("../c/./final", "/a/c/final", id="dot-segments"),
    pytest.param("?y=2", "/a/b/start?y=2", id="query-only"),
]


@check("RFC 9110 §10.2.2", Level.MUST)
@pytest.mark.parametrize(("location", "resolved"), RELATIVE_LOCATIONS)
async def test_client_resolves_a_relative_location_against_the_target_uri(h11_server, location, resolved):
    """RFC 9110 §10.2.2: the Location field value "consists of a single URI-reference. When it
    has the form of a relative reference ([URI], Section 4.2), the final value is computed by
    resolving it against the target URI ([URI], Section 5)." The target URI is ``/a/b/start?x=1`` on the kit's server; RFC 3986
    §5.2 gives the resolved target of each case."""
    origin = await h11_server.listen(routes({"/a/b/start?x=1": (302, [("Location", location)]), resolved: (200, [])}))
    fetched = await h11_server.fetch(origin.url("/a/b/start?x=1"))
    targets = [r.target for r in h11_server.requests]
    if targets != ["/a/b/start?x=1", resolved] or fetched.code != 200:
        raise Violation(
            f"the client did not follow a 302 with 'Location: {location}' to its resolution against "
            "/a/b/start?x=1 (RFC 3986 §5.2).",
            expected=f"GET /a/b/start?x=1, GET {resolved}, then a 200 response",
            observed=f"{requests_seen(h11_server)}, then {fetched.describe()}",
            transcript=h11_server.transcripts(),
        )


@check("Tornado docs: HTTPRequest (follow_redirects), HTTPClientError", Level.TORNADO)
async def test_client_returns_the_redirect_when_follow_redirects_is_false(h11_server):
    """Tornado docs, HTTPClientError: "Note that if ``follow_redirects`` is False, redirects
    become HTTPErrors, and you can look at ``error.response.headers['Location']`` to see the
    destination of the redirect." The fetch uses the default ``raise_error=True``."""
    origin = await h11_server.listen(routes({"/start": (302, [("Location", "/final")]), "/final": (200, [])}))
    fetched = await h11_server.fetch(origin.url("/start"), follow_redirects=False, raise_error=True)
    location = fetched.error_response.header("Location") if fetched.error_response else None
    if len(h11_server.requests) != 1 or fetched.error_code != 302 or location != "/final":
        raise Violation(
            "with follow_redirects=False, a 302 with 'Location: /final' did not end the fetch with an "
            "HTTPClientError with code 302 whose response carries the Location, as Tornado documents.",
            expected="GET /start only, then an HTTPClientError with code 302 and Location '/final'",
            observed=f"{requests_seen(h11_server)}, then {fetched.describe()} (Location {location!r})",
            transcript=h11_server.transcripts(),
        )


def endless_redirects(stop_after=12):
    """/hop/0 -> /hop/1 -> ... ; a 200 only after ``stop_after`` hops (so no client loops forever)."""

    async def respond(request, conn):
        hop = int(request.target.rsplit("/", 1)[-1]) if request.target.startswith("/hop/") else 0
        if hop >= stop_after:
            await conn.respond(200, [("Content-Type", "text/plain")], FINAL)
        else:
            await conn.respond(302, [("Location", f"/hop/{hop + 1}")])

    return respond


@check("Tornado docs: HTTPRequest (max_redirects)", Level.TORNADO)
@pytest.mark.parametrize("limit", [pytest.param(2, id="limit-2"), pytest.param(None, id="default-5")])
async def test_client_stops_after_max_redirects(h11_server, limit):
    """Tornado docs, HTTPRequest: "``max_redirects`` -- Limit for ``follow_redirects``, default
    5." The kit's server redirects /hop/N to /hop/N+1 a dozen times: the client follows
    ``max_redirects`` of them, then its fetch ends with the last 3xx response (returned, as
    ``raise_error=False``, or as an HTTPClientError with that code)."""
    origin = await h11_server.listen(endless_redirects())
    kwargs = {} if limit is None else {"max_redirects": limit}
    fetched = await h11_server.fetch(origin.url("/hop/0"), **kwargs)
    expected = (5 if limit is None else limit) + 1
    code = fetched.code if fetched.ok else fetched.error_code
    if len(h11_server.requests) != expected or code != 302:
        raise Violation(
            f"with max_redirects={'the default' if limit is None else limit}, the client did not stop at the "
            "limit along a chain of redirects; Tornado documents max_redirects (default 5) as the limit.",
            expected=f"{expected} requests, then the last 302",
            observed=f"{len(h11_server.requests)} requests ({requests_seen(h11_server)}), then {fetched.describe()}",
        )


def post_then_redirect(status, location):
    async def respond(request, conn):
        if request.target == "/form":
            await conn.respond(status, [("Location", location)])
        else:
            await conn.respond(200, [("Content-Type", "text/plain")], FINAL)

    return respond


def describe_second(h11_server):
    if len(h11_server.requests) < 2:
        return "no second request"
    second = h11_server.requests[1]
    return f"{second.method} {second.target} with a body of {second.body!r}"


@check("RFC 9110 §15.4; RFC 9110 §15.4.4", Level.SHOULD)
async def test_client_turns_a_post_into_a_get_on_303(h11_server):
    """RFC 9110 §15.4: when following a redirect automatically, the user agent SHOULD resend
    the request with modifications, among them "Change the request method according to the
    status code-specific semantics." §15.4.4: a 303 "indicates that the server is
    redirecting the user agent to a different resource ... a user agent can perform a
    retrieval request targeting that URI (a GET or HEAD request if using HTTP)"."""
    origin = await h11_server.listen(post_then_redirect(303, "/result"))
    fetched = await h11_server.fetch(origin.url("/form"), method="POST", body=b"name=value")
    second = h11_server.requests[1] if len(h11_server.requests) == 2 else None
    if second is None or second.method != "GET" or second.body or fetched.code != 200:
        raise Violation(
            "the client did not follow a 303 to POST /form with a retrieval request (GET) without the POST's content.",
            expected="GET /result without a body, then a 200 response",
            observed=f"{describe_second(h11_server)}, then {fetched.describe()}",
            transcript=h11_server.transcripts(),
        )


@check("RFC 9110 §15.4.2; RFC 9110 §15.4.3", Level.TORNADO)
@pytest.mark.parametrize("status", [301, 302])
async def test_client_turns_a_post_into_a_get_on_301_and_302(h11_server, status):
    """RFC 9110 §15.4.2 (301) and §15.4.3 (302): "For historical reasons, a user agent MAY
    change the request method from POST to GET for the subsequent request." Tornado does
    (the choice browsers made), and applications written against it rely on it."""
    origin = await h11_server.listen(post_then_redirect(status, "/result"))
    fetched = await h11_server.fetch(origin.url("/form"), method="POST", body=b"name=value")
    second = h11_server.requests[1] if len(h11_server.requests) == 2 else None
    if second is None or second.method != "GET" or second.body or fetched.code != 200:
        raise Violation(
            f"the client did not turn POST /form into a GET on a {status}: RFC 9110 lets a user agent do so, and "
            "Tornado does.",
            expected="GET /result without a body, then a 200 response",
            observed=f"{describe_second(h11_server)}, then {fetched.describe()}",
            transcript=h11_server.transcripts(),
        )


@pytest.mark.parametrize(
    "status",
    [
        pytest.param(307, id="307", marks=check("RFC 9110 §15.4.8", Level.MUST)),
        pytest.param(308, id="308", marks=check("RFC 9110 §15.4; RFC 9110 §15.4.9", Level.SHOULD)),
    ],
)
async def test_client_keeps_the_method_and_body_on_307_and_308(h11_server, status):
    """RFC 9110 §15.4.8: "The 307 (Temporary Redirect) status code indicates that the target
    resource resides temporarily under a different URI and the user agent MUST NOT change the
    request method if it performs an automatic redirection to that URI." §15.4: 307 and 308
    "were later added to unambiguously indicate method-preserving redirects", and a redirect
    is followed by changing "the request method according to the status code-specific
    semantics" (SHOULD). The redirected POST carries the same content."""
    origin = await h11_server.listen(post_then_redirect(status, "/moved"))
    fetched = await h11_server.fetch(origin.url("/form"), method="POST", body=b"name=value")
    second = h11_server.requests[1] if len(h11_server.requests) == 2 else None
    if second is None or (second.method, second.target, second.body) != ("POST", "/moved", b"name=value"):
        raise Violation(
            f"the client did not repeat POST /form on a {status}: 307 and 308 preserve the method, so the "
            "redirected request is the same POST.",
            expected="POST /moved with the body b'name=value'",
            observed=f"{describe_second(h11_server)} (fetch: {fetched.describe()})",
            transcript=h11_server.transcripts(),
        )


CREDENTIALS = [
    pytest.param(
        {"auth_username": "alice", "auth_password": "secret"},
        "authorization",
        id="auth-username",
        marks=check("RFC 9110 §15.4; Tornado 6.5.6 release notes (CVE-2026-49853)", Level.SHOULD),
    ),
    pytest.param(
        {"headers": {"Authorization": "Bearer token-for-origin-1"}},
        "authorization",
        id="authorization-field",
        marks=check("Tornado 6.5.6 release notes (CVE-2026-49853); RFC 9110 §15.4", Level.TORNADO),
    ),
    pytest.param(
        {"headers": {"Cookie": "session=for-origin-1"}},
        "cookie",
        id="cookie-field",
        marks=check("Tornado 6.5.6 release notes (CVE-2026-49853); RFC 9110 §15.4", Level.TORNADO),
    ),
]


async def cross_origin_pair(h11_server):
    """Server 1 redirects /start to server 2 (another port: another origin), which answers 200."""
    servers = []

    async def redirect(request, conn):
        await conn.respond(302, [("Location", servers[1].url("/landing")), ("Content-Type", "text/plain")])

    servers.append(await h11_server.listen(redirect))
    servers.append(await h11_server.listen(routes({"/landing": (200, [])})))
    return servers


@pytest.mark.parametrize(("kwargs", "field"), CREDENTIALS)
async def test_client_strips_credentials_on_a_cross_origin_redirect(h11_server, kwargs, field):
    """RFC 9110 §15.4: a redirected request drops the fields the implementation generated,
    among them "Resource-specific header fields, including (but not limited to) Referer,
    Origin, Authorization, and Cookie", and the user agent should "Consider removing header
    fields that were not automatically generated ... where there are security implications;
    this includes but is not limited to Authorization and Cookie." Tornado 6.5.6 release
    notes: "SimpleAsyncHTTPClient now strips the Authorization and Cookie headers from the
    request when following a redirect to a different origin" (CVE-2026-49853)."""
    first, second = await cross_origin_pair(h11_server)
    fetched = await h11_server.fetch(first.url("/start"), **kwargs)
    sent = h11_server.requests[0].header(field) if h11_server.requests else None
    landed = second.requests
    if sent is None:  # pragma: no cover - the client does not send the credentials at all
        raise Violation(f"the client did not send {field} with {kwargs!r} to the first server.")
    if not landed or fetched.code != 200:
        raise Violation(
            f"the client did not follow a redirect from server 1 to server 2 ({second.authority}), another origin.",
            expected="a request to server 2, then a 200 response",
            observed=f"{requests_seen(h11_server)}, then {fetched.describe()}",
            transcript=h11_server.transcripts(),
        )
    leaked = landed[0].header(field)
    if leaked is not None:
        raise Violation(
            f"the client kept {field} (from {kwargs!r}) on a 302 to server 2 on another port (another origin): "
            "Tornado strips Authorization and Cookie on cross-origin redirects, as RFC 9110 §15.4 advises.",
            expected=f"no {field} on the redirected request",
            observed=f"'{field}: {sent}' to server 1, then '{field}: {leaked}' to server 2",
            transcript=h11_server.transcripts(),
        )


@check("Tornado 6.5.6 release notes (CVE-2026-49853)", Level.TORNADO)
async def test_client_keeps_credentials_on_a_same_origin_redirect(h11_server):
    """Tornado 6.5.6 release notes: Authorization and Cookie are stripped "when following a
    redirect to a different origin"; within the origin they are the application's
    credentials for that origin and are sent again."""
    origin = await h11_server.listen(routes({"/start": (302, [("Location", "/landing")]), "/landing": (200, [])}))
    fetched = await h11_server.fetch(
        origin.url("/start"), auth_username="alice", auth_password="secret", headers={"Cookie": "session=1"}
    )
    requests = h11_server.requests
    first = [(r.header("authorization"), r.header("cookie")) for r in requests[:1]]
    later = [(r.header("authorization"), r.header("cookie")) for r in requests[1:2]]
    if len(requests) != 2 or first != later or fetched.code != 200:
        raise Violation(
            "the client did not keep its credentials on a 302 to /landing on the same origin, as Tornado does.",
            expected="two requests with the same (Authorization, Cookie), then a 200 response",
            observed=f"{requests_seen(h11_server)} with (Authorization, Cookie) {first} then {later}, then "
            f"{fetched.describe()}",
            transcript=h11_server.transcripts(),
        )


@check("RFC 9112 §3.2; RFC 9110 §15.4", Level.MUST)
async def test_client_sends_the_new_host_after_a_redirect(h11_server):
    """RFC 9112 §3.2: "If the target URI includes an authority component, then a client MUST
    send a field value for Host that is identical to that authority component". RFC 9110
    §15.4 names Host among the origin-specific fields a redirected request replaces."""
    first, second = await cross_origin_pair(h11_server)
    fetched = await h11_server.fetch(first.url("/start"))
    landed = second.requests
    host = landed[0].header("host") if landed else None
    if host != second.authority:
        raise Violation(
            f"after a redirect from server 1 ({first.authority}) to {second.url('/landing')}, the request to "
            "server 2 did not carry its authority as Host.",
            expected=f"Host {second.authority!r}",
            observed=f"Host {host!r} (requests: {requests_seen(h11_server)}; fetch: {fetched.describe()})",
            transcript=h11_server.transcripts(),
        )
