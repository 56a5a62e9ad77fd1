"""Request body framing beyond a single valid Content-Length: chunked bodies, transfer
codings, repeated or conflicting lengths, body limits and ``Expect: 100-continue``.

Reference: RFC 9112 §6-§7 (https://www.rfc-editor.org/rfc/rfc9112#section-6) and RFC
9110 §10.1.1 (https://www.rfc-editor.org/rfc/rfc9110#section-10.1.1). The strictness
of Tornado's own parser here comes from its advisories GHSA-qppv-j76h-2rpx (6.3.3:
Content-Length and chunk sizes) and GHSA-753j-mpmx-qq6g (6.4.1: Transfer-Encoding).
"""

from __future__ import annotations

import anyio
import pytest

from conformance import Level, Trace, Violation, check, requires
from conformance.wire import Response, receive_some

from ._apps import (
    MUST_400_AND_CLOSE,
    SHOULD_400_AND_CLOSE,
    UNREAD,
    Refusal,
    assert_rejected,
    echo_app,
    echo_line,
    raw_request,
    read_through_head,
)

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]

CHUNKED_BODIES = [
    pytest.param(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", b"hello world", id="two-chunks"),
    pytest.param(b"A\r\n0123456789\r\n0\r\n\r\n", b"0123456789", id="upper-case-hex"),
    pytest.param(b"000005\r\nhello\r\n0\r\n\r\n", b"hello", id="leading-zeros"),
    pytest.param(b"5;name=value\r\nhello\r\n0;last\r\n\r\n", b"hello", id="chunk-extensions"),
    pytest.param(b'5 ; q="a;b"\r\nhello\r\n0\r\n\r\n', b"hello", id="extension-with-bws-and-quoted-string"),
    pytest.param(b"5\r\nhello\r\n0\r\nX-Trailer: t\r\nX-Other: o\r\n\r\n", b"hello", id="trailer-fields"),
]


@check("RFC 9112 §7.1", Level.MUST)
@pytest.mark.parametrize("chunked, body", CHUNKED_BODIES)
async def test_chunked_body_is_decoded_before_the_next_request(impl, server, http, chunked, body):
    """RFC 9112 §7.1: chunked-body = *chunk last-chunk trailer-section CRLF, chunk-size
    being 1*HEXDIG (either case); §7.1.1: "A recipient MUST ignore unrecognized chunk
    extensions"; §7.1.2 allows a trailer section. The handler sees the decoded content,
    and the request pipelined behind it is answered on its own."""
    srv = server.serve(echo_app(impl))
    async with await http.connect(srv) as conn:
        await conn.send(
            raw_request("POST", "/chunked", "Transfer-Encoding: chunked", chunked) + raw_request("GET", "/next")
        )
        first = await conn.receive_response("POST")
        expected = echo_line("POST", "/chunked", body)
        if not (first.status == 200 and first.body == expected):
            raise Violation(
                "the handler did not see the decoded content of a chunked POST: the chunked coding is decoded "
                "(extensions ignored, trailers not content).",
                expected=f"200 OK with {expected!r}",
                observed=f"{first.describe()} with {first.body!r}",
                transcript=conn.transcript,
            )
        second = await conn.receive_response("GET") if first.keep_alive else None
    if not (second is None or second.body == echo_line("GET", "/next")):
        raise Violation(
            "the request pipelined after the chunked body got a wrong answer: the chunked body was not consumed "
            "exactly.",
            expected=repr(echo_line("GET", "/next")),
            observed=f"{second.describe()} with {second.body!r}",
            transcript=conn.transcript,
        )


INVALID_CHUNKED = [
    pytest.param(b"0x5\r\nhello\r\n0\r\n\r\n", id="hex-prefix"),
    pytest.param(b"+5\r\nhello\r\n0\r\n\r\n", id="plus-sign"),
    pytest.param(b"-5\r\nhello\r\n0\r\n\r\n", id="minus-sign"),
    pytest.param(b"0_5\r\nhello\r\n0\r\n\r\n", id="digit-separator"),
    pytest.param(b" 5\r\nhello\r\n0\r\n\r\n", id="leading-space"),
    pytest.param(b"g\r\nhello\r\n0\r\n\r\n", id="not-hex"),
    pytest.param(b"\r\nhello\r\n0\r\n\r\n", id="empty-size"),
    pytest.param(b"5\r\nhelloXX0\r\n\r\n", id="chunk-data-without-crlf"),
]


@check("RFC 9112 §7.1", Level.MUST)
@pytest.mark.parametrize("chunked", INVALID_CHUNKED)
async def test_invalid_chunked_body_is_rejected(impl, server, http, chunked):
    """RFC 9112 §7.1: "A recipient MUST be able to parse and decode the chunked transfer
    coding", whose grammar is chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF,
    chunk-size = 1*HEXDIG. A size with a sign, prefix or separator (Tornado before 6.3.3
    read them with ``int(x, 16)``: GHSA-qppv-j76h-2rpx), or chunk data not followed by
    CRLF, is not a chunked body: the handler must not run on a guessed framing. The
    response is RFC 9112 §2.2's: "the server SHOULD respond with a 400 (Bad Request)
    response and close the connection" (a silent close, or no close, is non-strict)."""
    trace = Trace()
    srv = server.serve(echo_app(impl, trace))
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("POST", "/", "Transfer-Encoding: chunked", chunked))
        await assert_rejected(
            conn, server, trace, f"the chunked body {chunked!r}", "POST", refusal=SHOULD_400_AND_CLOSE
        )


#: RFC 9112 §6.1: "A server that receives a request message with a transfer coding it does
#: not understand SHOULD respond with 501 (Not Implemented)" (chunked is still final here,
#: so the length is known; §6.3 rule 4 does not apply).
SHOULD_501 = Refusal(
    (501,),
    False,
    None,
    "RFC 9112 §6.1: a server that receives a request with a transfer coding it does not understand SHOULD respond "
    "with 501 (Not Implemented)",
)
#: RFC 9112 §6.3 rule 3: with both Transfer-Encoding and Content-Length, "A server MAY reject
#: [the] request ... Regardless, the server MUST close the connection after responding".
#: Tornado rejects it with 400 (6.4.1, GHSA-753j-mpmx-qq6g).
TE_AND_CL = Refusal(
    (400,),
    False,
    "MUST",
    "RFC 9112 §6.3 rule 3: the server MUST close the connection after responding to a request with both "
    "Transfer-Encoding and Content-Length (Tornado refuses it with 400)",
)

INVALID_TRANSFER_ENCODINGS = [
    pytest.param(
        "Transfer-Encoding: chunked\r\nContent-Length: 5",
        TE_AND_CL,
        id="chunked-and-content-length",
        marks=check("RFC 9112 §6.3 rule 3 (MAY reject; MUST close); Tornado 6.4.1 release notes", Level.TORNADO),
    ),
    pytest.param(
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked",
        SHOULD_400_AND_CLOSE,
        id="chunked-twice-in-two-lines",
        marks=check("RFC 9112 §6.1 (chunked MUST NOT be applied more than once); RFC 9112 §2.2", Level.SHOULD),
    ),
    pytest.param(
        "Transfer-Encoding: chunked, chunked",
        SHOULD_400_AND_CLOSE,
        id="chunked-twice-in-one-line",
        marks=check("RFC 9112 §6.1 (chunked MUST NOT be applied more than once); RFC 9112 §2.2", Level.SHOULD),
    ),
    pytest.param(
        "Transfer-Encoding: gzip, chunked",
        SHOULD_501,
        id="unknown-coding-before-chunked",
        marks=check("RFC 9112 §6.1", Level.SHOULD),
    ),
    pytest.param("Transfer-Encoding: chunked, gzip", MUST_400_AND_CLOSE, id="chunked-not-last"),
    pytest.param("Transfer-Encoding: identity", MUST_400_AND_CLOSE, id="identity"),
    pytest.param("Transfer-Encoding: xchunked", MUST_400_AND_CLOSE, id="unknown-coding"),
    pytest.param(
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: x", MUST_400_AND_CLOSE, id="unknown-coding-in-second-line"
    ),
]


@check("RFC 9112 §6.3", Level.MUST)
@pytest.mark.parametrize("fields, refusal", INVALID_TRANSFER_ENCODINGS)
async def test_unusable_transfer_encoding_is_rejected(impl, server, http, fields, refusal):
    """RFC 9112 §6.3 rule 4: "If a Transfer-Encoding header field is present in a request
    and the chunked transfer coding is not the final encoding, the message body length
    cannot be determined reliably; the server MUST respond with the 400 (Bad Request)
    status code and then close the connection." The other cases carry their own level:
    RFC 9112 §6.1, "A server that receives a request message with a transfer coding it
    does not understand SHOULD respond with 501 (Not Implemented)", and a sender "MUST NOT
    apply the chunked transfer coding more than once" (a request that does is refused as
    §2.2 says: SHOULD 400 and close); with both Transfer-Encoding and Content-Length a
    server MAY reject (§6.3 rule 3), as Tornado does since 6.4.1 (GHSA-753j-mpmx-qq6g),
    and MUST close after responding. The handler never runs on a guessed framing."""
    trace = Trace()
    srv = server.serve(echo_app(impl, trace))
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("POST", "/", fields, b"5\r\nhello\r\n0\r\n\r\n"))
        await assert_rejected(conn, server, trace, f"a request with {fields!r}", "POST", refusal=refusal)


@check("RFC 9112 §6.3", Level.MUST)
@pytest.mark.parametrize(
    "fields, valid",
    [
        pytest.param("Content-Length: 5\r\nContent-Length: 6", False, id="two-lines-unequal"),
        pytest.param("Content-Length: 6\r\nContent-Length: 5", False, id="two-lines-unequal-larger-first"),
        pytest.param("Content-Length: 5, 5", True, id="equal-list"),
    ],
)
async def test_repeated_content_length_is_rejected_unless_all_equal(impl, server, http, fields, valid):
    """RFC 9110 §8.6: a recipient that receives "a Content-Length header field value
    consisting of the same decimal value repeated as a comma-separated list ... MAY either
    reject the message as invalid or replace that invalid field value with a single
    instance of the decimal value"; RFC 9112 §6.3 rule 5: any other invalid length is an
    unrecoverable error, and "the server MUST respond with a 400 (Bad Request) status code
    and then close the connection". Unequal lengths are never resolved by
    picking one (the first- or last-wins disagreement between proxy and server is a
    classic smuggling vector)."""
    trace = Trace()
    srv = server.serve(echo_app(impl, trace))
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("POST", "/", fields, b"hello!"))
        if not valid:
            await assert_rejected(conn, server, trace, f"a request with {fields!r}", "POST", refusal=MUST_400_AND_CLOSE)
            return
        answer = await conn.response_or_close("POST")
    if answer is not None and answer.status != 400 and answer.body != echo_line("POST", "/", b"hello"):
        raise Violation(
            f"a request with {fields!r} was answered with a wrong body: RFC 9110 §8.6 lets identical values be "
            "rejected or read as one length of 5, nothing else.",
            expected=f"400, or {echo_line('POST', '/', b'hello')!r}",
            observed=f"{answer.describe()} with {answer.body!r}",
            transcript=conn.transcript,
        )


@check("RFC 9112 §8", Level.MUST)
@pytest.mark.parametrize(
    "framing, body",
    [
        pytest.param("Content-Length: 10", b"hello", id="content-length-short"),
        pytest.param("Transfer-Encoding: chunked", b"5\r\nhello\r\n", id="chunked-without-last-chunk"),
    ],
)
async def test_incomplete_body_never_reaches_the_handler(impl, server, http, framing, body):
    """RFC 9112 §8: "A message body that uses the chunked transfer coding is incomplete if
    the zero-sized chunk that terminates the encoding has not been received. A message
    that uses a valid Content-Length is incomplete if the size of the message body
    received ... is less than the value given by Content-Length." A server that receives
    an incomplete request cannot treat it as complete; the client closes its sending half
    and the handler must not have run."""
    trace = Trace()
    srv = server.serve(echo_app(impl, trace))
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("POST", "/", framing, body))
        await conn.stream.send_eof()
        answer = await conn.response_or_close("POST")
        if not (answer is None or 400 <= answer.status < 500):
            raise Violation(
                f"an incomplete body ({framing!r}, then end of stream) was processed as complete.",
                expected="a 4xx status, or the connection closed",
                observed=answer.describe(),
                transcript=conn.transcript,
            )
    server.barrier()
    assert trace.events == [], f"the handler ran ({trace.events}) for an incomplete body ({framing!r})"


#: RFC 9110 §10.1.1: the final status is a MUST (immediately, or after the 100 and the body).
EXPECTED_REFUSAL = Refusal(
    (400, 413),
    True,
    None,
    "RFC 9110 §10.1.1: a request with a 100-continue expectation MUST get a final status (or a 100 first); Tornado "
    "refuses a body over max_body_size with 400 (RFC 9110 §15.5.14: 413)",
)
#: Tornado answers 400; RFC 9110 §15.5.14 names 413 and lets the server close instead.
OVER_MAX_BODY_SIZE = Refusal(
    (400, 413), False, None, "Tornado refuses a body over max_body_size with 400 (RFC 9110 §15.5.14: 413)"
)


@check("Tornado docs: HTTPServer max_body_size", Level.TORNADO)
@pytest.mark.parametrize(
    "framing, body",
    [
        pytest.param("Content-Length: 2048", b"x" * 2048, id="content-length"),
        pytest.param(
            "Transfer-Encoding: chunked",
            b"400\r\n" + b"x" * 1024 + b"\r\n" + b"400\r\n" + b"x" * 1024 + b"\r\n0\r\n\r\n",
            id="chunked",
        ),
    ],
)
async def test_body_larger_than_max_body_size_is_refused(impl, server, http, framing, body):
    """Tornado's ``HTTPServer`` documents ``max_body_size``: bodies larger than it are
    refused; Tornado answers 400, and RFC 9110 §15.5.14 names 413 (Content Too Large) for
    it, either is strict. The same section lets the server close the connection instead
    ("the server MAY close the connection"), so a silent close is non-strict; the handler
    must never see the body."""
    trace = Trace()
    srv = server.serve(echo_app(impl, trace), max_body_size=1024)
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("POST", "/", framing, body))
        await assert_rejected(
            conn, server, trace, f"a 2 KiB body ({framing}, max_body_size=1024)", "POST", refusal=OVER_MAX_BODY_SIZE
        )


#: RFC 9110 §10.1.1: "The Expect field value is case-insensitive."
EXPECTATIONS = [
    pytest.param("100-continue", id="lower-case"),
    pytest.param("100-Continue", id="capitalised"),
    pytest.param("100-CONTINUE", id="upper-case"),
]


async def _served_after(http, srv) -> None:
    """Return once the server has answered two requests sent, each on a fresh connection,
    after what the client already sent.

    An event loop serves what is readable in turn: by the time it has answered a request
    that arrived later, and then another one, it has read everything sent before them. So
    a server that answers "immediately" (RFC 9110 §10.1.1) has answered by now, and the
    client learns that without waiting out a deadline. (A fresh connection each: a server
    may close after every response.)"""
    for _ in range(2):
        async with await http.connect(srv) as later:
            await later.request("GET", "/served-after")


#: How long the client reads for an answer that, after `_served_after`, is already on its
#: way (bytes written before the later answers): it bounds a wait, never decides a verdict.
_ALREADY_SENT = 0.01


async def _answer_so_far(conn) -> bytes:
    """The head the server has sent (an interim or a final one), or b"" when it sent nothing."""
    data = b""
    with anyio.move_on_after(_ALREADY_SENT):
        while b"\r\n\r\n" not in data:
            more = await receive_some(conn.stream, conn.transcript)
            if not more:
                return data
            data += more
    if not data or b"\r\n\r\n" in data:
        return data
    return await read_through_head(conn, "finish its response head", data)  # the head is on its way


async def _interim_or_late_answer(
    conn, http, srv, expectation: str, body: bytes, method: str = "POST"
) -> bytes | Response:
    """The head the server answered the head with ``expectation`` with, immediately.

    "Immediately" is judged without a clock: the server has answered later requests on
    another connection (`_served_after`). A server that has sent nothing by then is
    holding the request: the client sends the body anyway (RFC 9110 §10.1.1 lets it) and
    reads what comes. A final response with no 100 (Continue) before it shows the
    expectation was ignored (a violation, with that response); a 100 that comes only
    then was late, but came: the final response that followed it is returned."""
    await _served_after(http, srv)
    answer = await _answer_so_far(conn)
    if answer:
        return answer
    await conn.send(body)
    late = await conn.receive_response(method)
    if 100 in late.informational:
        return late
    raise Violation(
        f"the implementation had answered nothing to a head with 'Expect: {expectation}' by the time it had "
        "served two later requests on another connection; once the client sent the body anyway, it answered "
        "without a 100 (Continue): it ignored the expectation (which is case-insensitive) and waited for a "
        "body the client holds back until it sees '100 (Continue)' or a final status.",
        expected="an immediate HTTP/1.1 100 (Continue), or an immediate final status",
        observed=f"no response until the body was sent, then {late.describe()}",
        transcript=conn.transcript,
    )


@check("RFC 9110 §10.1.1", Level.MUST)
@pytest.mark.parametrize("expectation", EXPECTATIONS)
async def test_expect_100_continue_gets_an_interim_response_before_the_body(impl, server, http, expectation):
    """RFC 9110 §10.1.1: "An origin server MUST, upon receiving an HTTP/1.1 (or later)
    request that has a method, target URI, and complete header section that contains a
    100-continue expectation and an indication that request content will follow, either
    send an immediate response with a final status code ... or send an immediate 100
    (Continue) response to encourage the client to send the request content", and "The
    Expect field value is case-insensitive." The client sends the head only and waits;
    then the body, and reads the final response."""
    srv = server.serve(echo_app(impl))
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("POST", "/upload", f"Expect: {expectation}\r\nContent-Length: 5"))
        interim = await _interim_or_late_answer(conn, http, srv, expectation, b"hello")
        if isinstance(interim, Response):
            final = interim  # a late 100, then this
        elif not interim.startswith(b"HTTP/1.1 100"):
            raise Violation(
                f"the implementation did not answer a head with 'Expect: {expectation}' with an immediate "
                "'100 (Continue)'.",
                expected="HTTP/1.1 100 ...",
                observed=repr(interim),
                transcript=conn.transcript,
            )
        else:
            conn._buffer = interim.split(b"\r\n\r\n", 1)[1]
            await conn.send(b"hello")
            final = await conn.receive_response("POST")
    if not (final.status == 200 and final.body == echo_line("POST", "/upload", b"hello")):
        raise Violation(
            "the body sent after '100 Continue' got a wrong answer.",
            expected=f"200 OK with {echo_line('POST', '/upload', b'hello')!r}",
            observed=f"{final.describe()} with {final.body!r}",
            transcript=conn.transcript,
        )


@check("RFC 9110 §10.1.1", Level.MUST)
async def test_expect_100_continue_over_max_body_size_gets_a_final_refusal(impl, server, http):
    """RFC 9110 §10.1.1: the origin server MUST "either send an immediate response with a
    final status code, if that status can be determined by examining just the method,
    target URI, and header fields, or send an immediate 100 (Continue) response". A head
    announcing 4096 octets to a server with ``max_body_size=1024`` gets one of the two at
    once: a final 4xx (RFC 9110 §15.5.14: 413), or a 100 and, once the body is sent, the
    4xx. Inviting a body that will be refused is allowed (no sentence forbids it, though
    it wastes the upload); answering nothing, or serving the body, is not."""
    trace = Trace()
    # The requests of `_served_after` go to a handler of their own, outside the trace.
    untraced = (r"/served-after", echo_app(impl)[0][1])
    srv = server.serve([untraced, *echo_app(impl, trace)], max_body_size=1024)
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("POST", "/upload", "Expect: 100-continue\r\nContent-Length: 4096"))
        interim = await _interim_or_late_answer(conn, http, srv, "100-continue", b"x" * 4096)
        answer = UNREAD
        if isinstance(interim, Response):
            answer = interim  # a late 100, then this final response
        elif interim.startswith(b"HTTP/1.1 100"):
            conn._buffer = interim.split(b"\r\n\r\n", 1)[1]
            await conn.send(b"x" * 4096)
        else:
            conn._buffer = interim
        await assert_rejected(
            conn,
            server,
            trace,
            "a 4096-octet body announced with 'Expect: 100-continue' (max_body_size=1024)",
            "POST",
            refusal=EXPECTED_REFUSAL,
            answer=answer,
        )
