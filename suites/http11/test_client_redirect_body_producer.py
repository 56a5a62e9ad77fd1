"""The client side: a ``body_producer`` request without Content-Length (so sent chunked) that
is redirected by a 307 or 308 goes out again, framed as chunked again, with the produced body.

The kit's scripted server (fixture ``h11_server``) answers the first request with the
redirect and parses every request with h11, so a redirected request whose framing is wrong
(a ``Transfer-Encoding: chunked`` field over an unchunked body) is a protocol violation.

References: Tornado 6.0.0 release notes, ``tornado.simple_httpclient``
(https://www.tornadoweb.org/en/stable/releases/v6.0.0.html); Tornado docs, HTTPRequest
``body_producer`` (https://www.tornadoweb.org/en/stable/httpclient.html); RFC 9110 §15.4.8,
§15.4.9 (https://www.rfc-editor.org/rfc/rfc9110#section-15.4.8); RFC 9112 §7.1
(https://www.rfc-editor.org/rfc/rfc9112#section-7.1).
"""

from __future__ import annotations

import pytest

from conformance import Level, Violation, check, requires

pytestmark = [pytest.mark.http11, requires("httpclient")]

PRODUCED = b"first line of the upload\r\nsecond line\r\n"  # lines: an unchunked body is refused at once
FINAL = b"arrived at the new place"


@check("Tornado 6.0.0 release notes (tornado.simple_httpclient); RFC 9110 §15.4.8; RFC 9112 §7.1", Level.TORNADO)
@pytest.mark.parametrize("status", [307, 308])
async def test_client_redirects_a_chunked_body_producer_request_framed_again(h11_server, status):
    """Tornado 6.0.0 release notes: following redirects now works with ``body_producer``.
    Tornado docs, HTTPRequest: ``body_producer`` is called with a ``write`` function and
    produces the body lazily; with no Content-Length given, the client frames what it writes
    with the chunked coding. RFC 9110 §15.4.8 and §15.4.9: a 307 or 308 is followed with the
    same method and content, so the redirected POST is again a well-framed request carrying
    the produced body (RFC 9112 §7.1: a chunked body is a series of chunks ended by a
    last-chunk)."""

    async def respond(request, conn):
        if request.target == "/first":
            await conn.respond(status, [("Location", "/second"), ("Content-Type", "text/plain")], b"")
        else:
            await conn.respond(200, [("Content-Type", "text/plain")], FINAL)

    origin = await h11_server.listen(respond)

    async def producer(write):
        await write(PRODUCED)

    fetched = await h11_server.fetch(origin.url("/first"), method="POST", body_producer=producer)
    shapes = [(r.method, r.target, r.body) for r in h11_server.requests]
    wanted = [("POST", "/first", PRODUCED), ("POST", "/second", PRODUCED)]
    if shapes != wanted or fetched.code != 200 or fetched.body != FINAL:
        seen = ", ".join(f"{r.describe()} with body {r.body!r}" for r in h11_server.requests) or "no request"
        raise Violation(
            f"a POST whose body came from body_producer (no Content-Length) was not followed through the {status} "
            "with the produced body sent again.",
            expected=f"POST /first and POST /second, each with body {PRODUCED!r}, then the 200 response",
            observed=f"{seen}; then {fetched.describe()}",
            transcript=h11_server.transcripts(),
        )
