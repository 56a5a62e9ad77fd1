"""The request line: method SP request-target SP HTTP-version, nothing looser.

Reference: RFC 9112 §3 (https://www.rfc-editor.org/rfc/rfc9112#section-3) and §2.3 for
the version. A server that guesses what a malformed request line meant parses requests
differently from the proxies in front of it.
"""

from __future__ import annotations

import pytest

from conformance import Level, Trace, check, requires

from ._apps import SHOULD_400_OR_301, assert_rejected, echo_app

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]

MALFORMED_REQUEST_LINES = [
    pytest.param(b"GET / HTTP/1.1x", id="version-with-trailing-garbage"),
    pytest.param(b"GET / HTTP/1.12", id="version-with-three-digits"),
    pytest.param(b"GET / http/1.1", id="lower-case-version"),
    pytest.param(b"GET / HTTP/1", id="version-without-minor"),
    pytest.param(b"GET /a b HTTP/1.1", id="space-in-target"),
    pytest.param(b"GET /\x00 HTTP/1.1", id="nul-in-target"),
    pytest.param(b"GET HTTP/1.1", id="missing-target"),
]


@check("RFC 9112 §3", Level.SHOULD)
@pytest.mark.parametrize("line", MALFORMED_REQUEST_LINES)
async def test_malformed_request_line_is_rejected(impl, server, http, line):
    """RFC 9112 §3: "Recipients of an invalid request-line SHOULD respond with either a
    400 (Bad Request) error or a 301 (Moved Permanently) redirect with the request-target
    properly encoded." (RFC 9112 §2.3: HTTP-version is "HTTP/" DIGIT "." DIGIT, case-
    sensitive.) A 4xx other than 400, or a close without a response, is non-strict;
    running the handler, or failing with an unhandled exception, fails the check."""
    trace = Trace()
    srv = server.serve(echo_app(impl, trace))
    async with await http.connect(srv) as conn:
        await conn.send(line + b"\r\nHost: conformance\r\n\r\n")
        await assert_rejected(conn, server, trace, f"the malformed request line {line!r}", refusal=SHOULD_400_OR_301)
