"""Tornado's security fixes on the client side (``AsyncHTTPClient``), against the kit's
scripted servers: each check is named by the release that fixed it.

Reference: Tornado's release notes, 6.5.9 (https://www.tornadoweb.org/en/stable/releases/v6.5.9.html:
"simple_httpclient now rejects responses that use more than 10 100 Continue responses,
which could previously cause stack overflow errors") and 6.6.1
(https://www.tornadoweb.org/en/stable/releases/v6.6.1.html: "SimpleAsyncHTTPClient no
longer hangs and leaks resources when processing a redirect to URL schemes other than
http and https"). Credentials on cross-origin redirects (6.5.6, CVE-2026-49853) are
checked in ``test_client_redirects.py``.

Rule of this module: a fetch that the implementation never completes is the finding
itself here (the fix is that it ends), so the kit's deadline on the fetch becomes a
violation naming the advisory, not a timeout.
"""

from __future__ import annotations

import pytest

from conformance import Level, Timeout, Violation, check, requires

pytestmark = [pytest.mark.http11, requires("httpclient")]

INTERIM_LIMIT = "Tornado 6.5.9 release notes (at most 10 100 Continue responses)"
REDIRECT_SCHEME = "Tornado 6.6.1 release notes (redirect to a non-http(s) scheme)"
FINAL = b"final response"


def _interim_then_final(count: int):
    async def respond(request, conn):
        interim = b"HTTP/1.1 100 Continue\r\n\r\n" * count
        final = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(FINAL), FINAL)
        await conn.send_raw(interim + final, close=True)

    return respond


@check(f"{INTERIM_LIMIT}; Tornado docs: simple_httpclient", Level.TORNADO)
async def test_client_refuses_more_than_ten_interim_responses(h11_server):
    """Tornado 6.5.9 release notes: "simple_httpclient now rejects responses that use more
    than 10 100 Continue responses, which could previously cause stack overflow errors"
    (each one was read by a recursive call). A response preceded by 11 ``100 Continue``
    fails the fetch; one preceded by 10 is still delivered."""
    ten = await h11_server.listen(_interim_then_final(10))
    eleven = await h11_server.listen(_interim_then_final(11))
    at_limit, over = await h11_server.fetch_each([(ten.url("/"), {}), (eleven.url("/"), {})])
    if at_limit.code != 200 or at_limit.body != FINAL:
        raise Violation(
            "a 200 response after 10 '100 Continue' interim responses was not delivered: interim responses are "
            f"skipped, and 10 are within the limit ({INTERIM_LIMIT}); the check needs that to judge the 11th.",
            expected=f"a 200 response with body {FINAL!r}",
            observed=at_limit.describe(),
            transcript=h11_server.transcripts(),
        )
    if over.error is None:
        raise Violation(
            f"the client accepted 11 '100 Continue' interim responses before the final one ({INTERIM_LIMIT}): a "
            "server can make it read without bound (before 6.5.9, one recursion per interim response).",
            expected="the fetch fails (Tornado: HTTPInputError 'Too many 1xx responses')",
            observed=over.describe(),
            transcript=h11_server.transcripts(),
        )


SCHEMES = [
    pytest.param("ftp://127.0.0.1/file", id="ftp"),
    pytest.param("file:///etc/passwd", id="file"),
    pytest.param("javascript:alert(1)", id="javascript"),
]


@check(f"{REDIRECT_SCHEME}; Tornado docs: HTTPRequest (follow_redirects)", Level.TORNADO)
@pytest.mark.parametrize("location", SCHEMES)
async def test_client_redirect_to_another_scheme_ends_the_fetch(h11_server, location):
    """Tornado 6.6.1 release notes: "SimpleAsyncHTTPClient no longer hangs and leaks
    resources when processing a redirect to URL schemes other than http and https." A 302
    whose Location names another scheme is not followed: the fetch ends at once, with an
    error (Tornado: ValueError 'Unsupported url scheme') or with the 302 itself; it never
    hangs, and nothing else is requested."""

    async def respond(request, conn):
        await conn.respond(302, [("Location", location), ("Content-Type", "text/plain")])

    origin = await h11_server.listen(respond)
    try:
        fetched = await h11_server.fetch(origin.url("/start"))
    except Timeout as exc:
        raise Violation(
            f"a 302 to {location!r} left the fetch hanging ({REDIRECT_SCHEME}): the redirect cannot be followed, "
            "so the fetch ends with an error or the 302; one that never ends keeps its resources forever.",
            expected="the fetch fails at once (or returns the 302)",
            observed=f"no result within the kit's deadline ({exc})",
            transcript=h11_server.transcripts(),
        ) from None
    if len(h11_server.requests) != 1 or (fetched.error is None and fetched.code != 302):
        raise Violation(
            f"a 302 to {location!r} was answered by something other than an error or the 302 ({REDIRECT_SCHEME}).",
            expected="the fetch fails (or returns the 302), one request sent",
            observed=f"{fetched.describe()} after {len(h11_server.requests)} request(s)",
            transcript=h11_server.transcripts(),
        )
