"""HTTP/1.1 message body length: Content-Length frames a request body, exactly.

Reference: RFC 9112 §6.2-§6.3 (https://www.rfc-editor.org/rfc/rfc9112#section-6.3).
A server that reads one octet too many or too few, or that guesses a length from an
invalid field, desynchronises the connection: the bytes it misreads become the next
request (request smuggling).
"""

from __future__ import annotations

import pytest

from conformance import Level, Trace, Violation, check, requires

from ._apps import MUST_400_AND_CLOSE, assert_rejected, echo_app, echo_line, raw_request

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]

#: A body that is itself a complete request: if the server does not consume it as
#: the body, it answers it as a request of its own, and the check sees which.
SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: conformance\r\n\r\n"


@check("RFC 9112 §6.3", Level.MUST)
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "GET", "OPTIONS"])
async def test_content_length_body_is_read_exactly_before_the_next_request(impl, server, http, method):
    """RFC 9112 §6.3: "If a valid Content-Length header field is present without
    Transfer-Encoding, its decimal value defines the expected message body length in
    octets." The rule holds for every method: a GET or DELETE with content is framed the
    same way as a POST (RFC 9110 §9.3.1 only says such content has no defined meaning).
    The body, which looks like a request, and a second request follow in the same write."""
    srv = server.serve(echo_app(impl))
    first = raw_request(method, "/first", f"Content-Length: {len(SMUGGLED)}", SMUGGLED)
    second = raw_request("GET", "/second")
    async with await http.connect(srv) as conn:
        await conn.send(first + second)
        answer = await conn.receive_response(method)
        expected = echo_line(method, "/first", SMUGGLED)
        if not (answer.status == 200 and answer.body == expected):
            raise Violation(
                f"the handler did not see exactly the {len(SMUGGLED)}-octet body of a {method} framed by "
                "Content-Length: its value is the body length, whatever the method; reading another length lets "
                "the body be taken as a request of its own.",
                expected=f"200 with {expected!r}",
                observed=f"{answer.describe()} with {answer.body!r}",
                transcript=conn.transcript,
            )
        if not answer.keep_alive:
            # The server announced it closes after this response (RFC 9112 §9.6 allows it):
            # the body was still read exactly, and the pipelined request is legitimately dropped.
            if not await conn.closed_by_peer():
                raise Violation(
                    f"the response to {method} /first announced 'Connection: close' but the implementation "
                    f"kept the connection open (RFC 9112 §9.6).",
                    transcript=conn.transcript,
                )
            return
        answer = await conn.receive_response("GET")
        expected = echo_line("GET", "/second")
        if not (answer.status == 200 and answer.body == expected):
            raise Violation(
                f"the request pipelined after the {method} body got a wrong answer: the body was not consumed as "
                "exactly Content-Length octets, so its bytes were parsed as a request.",
                expected=f"200 with {expected!r}",
                observed=f"{answer.describe()} with {answer.body!r}",
                transcript=conn.transcript,
            )


#: Content-Length values RFC 9110 §8.6 (``Content-Length = 1*DIGIT``) forbids, each with
#: a 5-octet body behind it, so a lenient parser has something to read.
INVALID_CONTENT_LENGTHS = [
    pytest.param("+5", id="plus-sign"),
    pytest.param("-5", id="minus-sign"),
    pytest.param("0x5", id="hexadecimal"),
    pytest.param("0_5", id="digit-separator"),
    pytest.param("5.0", id="decimal-point"),
    pytest.param("5 5", id="two-numbers"),
    pytest.param("5, 6", id="differing-list"),
    pytest.param("five", id="word"),
]


@check("RFC 9112 §6.3", Level.MUST)
@pytest.mark.parametrize("value", INVALID_CONTENT_LENGTHS)
async def test_invalid_content_length_is_rejected(impl, server, http, value):
    """RFC 9112 §6.3: "If a message is received without Transfer-Encoding and with an
    invalid Content-Length header field, then the message framing is invalid and the
    recipient MUST treat it as an unrecoverable error ... If it is a request message, the
    server MUST respond with a 400 (Bad Request) status code and then close the
    connection." Closing without the 400 fails the check, as does keeping the connection
    open after it; the handler never runs."""
    trace = Trace()
    srv = server.serve(echo_app(impl, trace))
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("POST", "/", f"Content-Length: {value}", b"hello"))
        await assert_rejected(
            conn, server, trace, f"a request with 'Content-Length: {value}'", "POST", refusal=MUST_400_AND_CLOSE
        )
