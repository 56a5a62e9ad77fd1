"""A request whose method is not a token is a malformed request (400), not a request for
an unsupported method (405).

Reference: RFC 9110 §9.1 (https://www.rfc-editor.org/rfc/rfc9110#section-9.1): method =
token; RFC 9112 §3 (invalid request-line: 400 or 301) and the Tornado 6.5.0 release notes
(``tornado.httputil``).
"""

from __future__ import annotations

import pytest

from conformance import Level, NonStrict, Trace, Violation, check, requires

from ._apps import attributes_app

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]

INVALID_METHODS = [
    pytest.param(b"GE(T", id="separator-in-method"),
    pytest.param(b"GE\x01T", id="control-character-in-method"),
    pytest.param(b"G\xc3\xa9T", id="non-ascii-in-method"),
]


@check("RFC 9110 §9.1; RFC 9112 §3 (SHOULD 400 or 301); Tornado 6.5.0 release notes (tornado.httputil)", Level.TORNADO)
@pytest.mark.parametrize("method", INVALID_METHODS)
async def test_method_that_is_not_a_token_is_answered_400(impl, server, http, method):
    """RFC 9110 §9.1: "method = token"; RFC 9112 §3: "Recipients of an invalid request-line
    SHOULD respond with either a 400 (Bad Request) error or a 301 (Moved Permanently)
    redirect". Tornado 6.5.0 release notes (tornado.httputil): "Method names containing
    invalid characters now return error code 400 instead of 405" (6.4 routed the request
    and answered 405 Method Not Allowed, as for a well-formed method it does not support).
    The handler never runs."""
    trace = Trace()
    srv = server.serve(attributes_app(impl, trace))
    async with await http.connect(srv) as conn:
        await conn.send(method + b" / HTTP/1.1\r\nHost: conformance\r\n\r\n")
        answer = await conn.response_or_close("GET")
    server.barrier()
    if answer is None and not trace.events:
        # Refused by closing: the rule's intent, not its form (neither sentence requires an answer).
        raise NonStrict(
            f"the request line with method {method!r} was refused by closing the connection without a response.",
            expected="400 Bad Request, no handler call",
            observed="the connection closed",
            transcript=conn.transcript,
        )
    if answer is None or answer.status != 400 or trace.events:
        raise Violation(
            f"the request line with method {method!r} was not refused as malformed: a method that is not a token "
            "makes the request line invalid, whatever methods the application supports.",
            expected="400 Bad Request, no handler call",
            observed=f"{'the connection closed' if answer is None else answer.describe()}; handler calls "
            f"{trace.events}",
            transcript=conn.transcript,
        )
