"""The client side, which redirects are followed and with what request: a 3xx without Location,
a 303 after any method, a redirect of a body written by ``body_producer``.

The kit's scripted server (fixture ``h11_server``) answers with the 3xx; every request the
client sends is parsed by h11 and kept, so each check judges the redirected request itself.

References: Tornado 6.0.0 and 6.1.0 release notes, ``tornado.simple_httpclient``
(https://www.tornadoweb.org/en/stable/releases/v6.0.0.html,
https://www.tornadoweb.org/en/stable/releases/v6.1.0.html); Tornado docs, HTTPRequest
(``follow_redirects``, ``body_producer``) (https://www.tornadoweb.org/en/stable/httpclient.html);
RFC 9110 §10.2.2, §15.4 (https://www.rfc-editor.org/rfc/rfc9110#section-15.4).
"""

from __future__ import annotations

import pytest

from conformance import Level, Violation, check, requires

pytestmark = [pytest.mark.http11, requires("httpclient")]

FINAL = b"you have arrived"
NO_LOCATION = b"moved, but not saying where"
PRODUCED = [b"the produced body"]  # one write: the check is about the producer being called again


def _seen(h11_server) -> str:
    return ", ".join(f"{r.describe()} with body {r.body!r}" for r in h11_server.requests) or "no request"


def _redirect_first(status: int, location: str):
    """``status`` to ``location`` for the first request, 200 with FINAL for the next."""

    async def respond(request, conn):
        if request.target != location:
            await conn.respond(status, [("Location", location), ("Content-Type", "text/plain")], b"")
        else:
            await conn.respond(200, [("Content-Type", "text/plain")], FINAL)

    return respond


@check("Tornado 6.0.0 release notes (tornado.simple_httpclient); RFC 9110 §15.4", Level.TORNADO)
@pytest.mark.parametrize("status", [301, 302, 303, 307])
async def test_client_returns_a_3xx_without_location_as_is(h11_server, status):
    """Tornado 6.0.0 release notes: "If a server returns a 3xx response code without a
    ``Location`` header, the response is raised or returned directly instead of trying and
    failing to follow the redirect." (RFC 9110 §15.4: "If a Location header field is
    provided, the user agent MAY automatically redirect": with none there is nothing to
    follow.) With ``raise_error=False`` the 3xx comes back as the response, body included (an
    HTTPClientError of that code carrying it is read as "raised directly" too)."""

    async def respond(request, conn):
        await conn.respond(status, [("Content-Type", "text/plain")], NO_LOCATION)

    origin = await h11_server.listen(respond)
    fetched = await h11_server.fetch(origin.url("/nowhere"), raise_error=False)
    # "raised or returned directly": a port that raises every unfollowed 3xx (an HTTPClientError
    # of that code carrying the response) also leaves the redirect alone.
    raised = fetched.error_response if fetched.error_is_http_client_error and fetched.error_code == status else None
    answer = raised if raised is not None else fetched
    if not answer.ok or answer.code != status or answer.body != NO_LOCATION or len(h11_server.requests) != 1:
        raise Violation(
            f"a {status} without Location was not returned (or raised) as it is: there is no redirect to follow, "
            "so the 3xx itself is the outcome.",
            expected=f"one request, then the {status} response with body {NO_LOCATION!r} (or an HTTPClientError "
            "carrying it)",
            observed=f"{_seen(h11_server)}; then {fetched.describe()}",
            transcript=h11_server.transcripts(),
        )


@check("Tornado 6.1.0 release notes (tornado.httpclient); RFC 9110 §15.4.4", Level.TORNADO)
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_client_follows_a_303_with_get_whatever_the_method(h11_server, method):
    """Tornado 6.1.0 release notes: "After a 303 redirect, ``tornado.simple_httpclient``
    always uses ``GET``. Previously this would use ``GET`` if the original request was a
    ``POST`` and would otherwise reuse the original request method." RFC 9110 §15.4.4: a 303
    "indicates that the server is redirecting the user agent to a different resource ... a
    user agent can perform a retrieval request targeting that URI (a GET or HEAD request if
    using HTTP)". The redirected GET carries none of the first request's content."""
    body = b"the first request's content" if method != "DELETE" else None
    origin = await h11_server.listen(_redirect_first(303, "/see-other"))
    fetched = await h11_server.fetch(origin.url("/resource"), method=method, body=body)
    requests = h11_server.requests
    second = requests[1] if len(requests) == 2 else None
    if (
        second is None
        or (second.method, second.target, second.body) != ("GET", "/see-other", b"")
        or fetched.code != 200
    ):
        raise Violation(
            f"the client did not follow a 303 to {method} /resource with a GET of /see-other without content.",
            expected=f"{method} /resource, GET /see-other without a body, then a 200 response",
            observed=f"{_seen(h11_server)}; then {fetched.describe()}",
            transcript=h11_server.transcripts(),
        )


@check("Tornado 6.0.0 release notes (tornado.simple_httpclient); RFC 9110 §15.4.8", Level.TORNADO)
@pytest.mark.parametrize("status", [307, 308])
async def test_client_follows_a_redirect_of_a_body_producer_request(h11_server, status):
    """Tornado 6.0.0 release notes: "Following redirects now works with ``body_producer``."
    Tornado docs, HTTPRequest: "``body_producer`` -- Callable used for lazy/asynchronous
    request bodies. It is called with one argument, a ``write`` function". RFC 9110 §15.4.8
    and §15.4.9: a 307 or 308 keeps the method, so the redirected POST carries the produced
    body again (the producer is called for each request)."""
    whole = b"".join(PRODUCED)
    origin = await h11_server.listen(_redirect_first(status, "/moved"))

    async def producer(write):
        for piece in PRODUCED:
            await write(piece)

    fetched = await h11_server.fetch(
        origin.url("/upload"),
        method="POST",
        body_producer=producer,
        headers={"Content-Length": str(len(whole))},
    )
    requests = h11_server.requests
    shapes = [(r.method, r.target, r.body) for r in requests]
    if shapes != [("POST", "/upload", whole), ("POST", "/moved", whole)] or fetched.code != 200:
        raise Violation(
            f"a POST whose body came from body_producer was not followed through the {status} with the same "
            "produced body.",
            expected=f"POST /upload and POST /moved, each with body {whole!r}, then a 200 response",
            observed=f"{_seen(h11_server)}; then {fetched.describe()}",
            transcript=h11_server.transcripts(),
        )
