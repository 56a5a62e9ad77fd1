"""The end of a chunked request body: what follows the zero-size chunk belongs to the body
(a trailer section, then an empty line), and text that is neither makes the message invalid.

Reference: RFC 9112 §7.1 and §7.1.2 (https://www.rfc-editor.org/rfc/rfc9112#section-7.1).
Tornado before 4.5.3 ended a chunked request at its ``0`` line and left the rest on the
connection (4.5.3 release notes: the final CRLF of a chunked request is now read).
"""

from __future__ import annotations

import pytest

from conformance import Level, Trace, check, requires

from ._apps import SHOULD_400_AND_CLOSE, assert_rejected, echo_app, raw_request

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]

#: Chunked bodies whose last chunk is followed by a line that is not a field line (no
#: colon), so neither a trailer section nor the final CRLF.
UNTERMINATED = [
    pytest.param(b"5\r\nhello\r\n0\r\nnot a field line\r\n\r\n", id="text-without-colon"),
    pytest.param(b"5\r\nhello\r\n0\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n", id="request-line-after-last-chunk"),
    pytest.param(b"0\r\nXY\r\n\r\n", id="empty-body-then-two-octets"),
]


@check("RFC 9112 §7.1; RFC 9112 §7.1.2; Tornado 4.5.3 release notes", Level.MUST)
@pytest.mark.parametrize("chunked", UNTERMINATED)
async def test_text_after_the_last_chunk_is_not_a_valid_end_of_the_body(impl, server, http, chunked):
    """RFC 9112 §7.1: "A recipient MUST be able to parse and decode the chunked transfer
    coding", whose grammar ends chunked-body = *chunk last-chunk trailer-section CRLF;
    §7.1.2: trailer-section = *( field-line CRLF ), a field line being field-name ":" OWS
    field-value OWS (§5). After the zero-size chunk comes a field line or the final CRLF;
    a line without a colon is neither, so the message does not match the grammar and the
    handler must not run on it (Tornado 4.5.3 began reading that final CRLF and refusing
    a body without it; before, the body ended at the ``0`` line and whatever followed was
    parsed as the next request). The response is RFC 9112 §2.2's: "the server SHOULD
    respond with a 400 (Bad Request) response and close the connection" (a silent close
    is non-strict)."""
    trace = Trace()
    srv = server.serve(echo_app(impl, trace))
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("POST", "/", "Transfer-Encoding: chunked", chunked))
        await assert_rejected(
            conn, server, trace, f"the chunked body {chunked!r}", "POST", refusal=SHOULD_400_AND_CLOSE
        )
