"""Coding names of a request in any letter case, gzip request bodies made of several
members or spoiled at the end (``decompress_request``), and ``max_body_size=0``.

Reference: RFC 9112 §7 (https://www.rfc-editor.org/rfc/rfc9112#section-7): "All
transfer-coding names are case-insensitive"; RFC 9110 §8.4.1
(https://www.rfc-editor.org/rfc/rfc9110#section-8.4.1): "All content codings are
case-insensitive"; RFC 1952 §2.2: "A gzip file consists of a series of 'members'";
Tornado docs, ``HTTPServer`` (``decompress_request``, ``max_body_size``,
https://www.tornadoweb.org/en/stable/httpserver.html) and the release notes of Tornado
4.5.0, 6.2.0 and 6.6.0 (``tornado.http1connection``).
"""

from __future__ import annotations

import gzip

import pytest

from conformance import Level, Trace, Violation, check, requires

from ._apps import Refusal, assert_rejected, echo_app, echo_line, raw_request

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]

CHUNKED = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"


@check("RFC 9112 §7, §7.1 (MUST); Tornado 4.5.0 release notes (tornado.http1connection)", Level.MUST)
@pytest.mark.parametrize("spelling", ["Chunked", "CHUNKED"], ids=["capitalised", "upper-case"])
async def test_chunked_transfer_coding_is_recognised_in_any_case(impl, server, http, spelling):
    """RFC 9112 §7: "All transfer-coding names are case-insensitive"; §7.1: "A recipient
    MUST be able to parse the chunked transfer coding". Tornado 4.5.0 release notes:
    "The ``Transfer-Encoding`` header is now parsed case-insensitively." A body sent with
    ``Transfer-Encoding: Chunked`` reaches the handler decoded, and the request pipelined
    behind it is answered on its own."""
    srv = server.serve(echo_app(impl))
    async with await http.connect(srv) as conn:
        await conn.send(
            raw_request("POST", "/chunked", f"Transfer-Encoding: {spelling}", CHUNKED) + raw_request("GET", "/next")
        )
        first = await conn.response_or_close("POST")
        expected = echo_line("POST", "/chunked", b"hello world")
        if first is None or first.body != expected:
            raise Violation(
                f"a chunked body sent with 'Transfer-Encoding: {spelling}' did not reach the handler decoded: the "
                "coding name was matched case-sensitively, so the chunks were not read as the body.",
                expected=f"200 OK with {expected!r}",
                observed="the connection closed" if first is None else f"{first.describe()} with {first.body!r}",
                transcript=conn.transcript,
            )
        second = await conn.response_or_close("GET") if first.keep_alive else None
    if second is not None and second.body != echo_line("GET", "/next"):
        raise Violation(
            "the request pipelined after the chunked body got a wrong answer: the body was not consumed exactly.",
            expected=repr(echo_line("GET", "/next")),
            observed=f"{second.describe()} with {second.body!r}",
            transcript=conn.transcript,
        )


def _gzip_post(coding: str, body: bytes) -> bytes:
    return raw_request("POST", "/gz", f"Content-Encoding: {coding}\r\nContent-Length: {len(body)}", body) + raw_request(
        "GET", "/next"
    )


@check(
    "RFC 9110 §8.4.1 (content codings are case-insensitive); Tornado docs: HTTPServer (decompress_request); "
    "Tornado 6.2.0 release notes (tornado.http1connection)",
    Level.TORNADO,
)
@pytest.mark.parametrize("spelling", ["GZIP", "Gzip"], ids=["upper-case", "capitalised"])
async def test_gzip_content_coding_is_recognised_in_any_case(impl, server, http, spelling):
    """RFC 9110 §8.4.1: "All content codings are case-insensitive". Tornado docs,
    ``HTTPServer``: "If ``decompress_request`` is True, ... the server will decompress
    request bodies with ``Content-Encoding: gzip``"; Tornado 6.2.0 release notes: "``Content-Encoding:
    gzip`` is now recognized case-insensitively." The handler
    sees the decompressed body whatever the letter case of the coding name."""
    srv = server.serve(echo_app(impl), decompress_request=True)
    plain = b"decompressed content"
    async with await http.connect(srv) as conn:
        await conn.send(_gzip_post(spelling, gzip.compress(plain)))
        answer = await conn.response_or_close("POST")
    expected = echo_line("POST", "/gz", plain)
    if answer is None or answer.body != expected:
        raise Violation(
            f"a gzip body sent with 'Content-Encoding: {spelling}' did not reach the handler decompressed with "
            "decompress_request=True: the coding name was matched case-sensitively.",
            expected=f"200 OK with {expected!r}",
            observed="the connection closed" if answer is None else f"{answer.describe()} with {answer.body[:80]!r}",
            transcript=conn.transcript,
        )


GZIP_RULE = (
    "RFC 1952 §2.2 (a gzip file is a series of members); Tornado docs: HTTPServer (decompress_request); "
    "Tornado 6.6.0 release notes (tornado.http1connection)"
)


@check(GZIP_RULE, Level.TORNADO)
async def test_gzip_body_of_several_members_is_decompressed_whole(impl, server, http):
    """RFC 1952 §2.2: "A gzip file consists of a series of 'members' (compressed data
    sets)". Tornado 6.6.0 release notes (tornado.http1connection): "Gzipped bodies
    containing multiple members are now decompressed correctly." With ``decompress_request=True`` the handler sees the content of both
    members, and the request pipelined behind the body is answered on its own."""
    srv = server.serve(echo_app(impl), decompress_request=True)
    body = gzip.compress(b"first member, ") + gzip.compress(b"second member")
    async with await http.connect(srv) as conn:
        await conn.send(_gzip_post("gzip", body))
        answer = await conn.response_or_close("POST")
        expected = echo_line("POST", "/gz", b"first member, second member")
        if answer is None or answer.body != expected:
            raise Violation(
                "a gzip request body of two members did not reach the handler as the content of both members.",
                expected=f"200 OK with {expected!r}",
                observed="the connection closed"
                if answer is None
                else f"{answer.describe()} with {answer.body[:80]!r}",
                transcript=conn.transcript,
            )
        second = await conn.response_or_close("GET") if answer.keep_alive else None
    if second is not None and second.body != echo_line("GET", "/next"):
        raise Violation(
            "the request pipelined after the gzip body got a wrong answer: the body was not consumed exactly.",
            expected=repr(echo_line("GET", "/next")),
            observed=f"{second.describe()} with {second.body!r}",
            transcript=conn.transcript,
        )


#: Tornado 6.6.0 release notes: "Trailing garbage at the end of a body or in between members
#: is now an error instead of being silently ignored, as is a body that is truncated partway
#: through a member"; the error is an HTTPInputError, which HTTP1ServerConnection answers with 400.
SPOILT_GZIP_400 = Refusal(
    (400,),
    False,  # the release note's choice, no sentence requiring an answer: a silent close is non-strict
    None,
    "Tornado 6.6.0 release notes: data after the last gzip member, or a member cut short, is an error "
    "(an HTTPInputError, answered 400)",
)

SPOILT_GZIP = [
    pytest.param(gzip.compress(b"whole member") + b"trailing garbage", id="trailing-garbage"),
    pytest.param(gzip.compress(b"a member cut short before its trailer")[:-6], id="truncated-member"),
]


@check(GZIP_RULE, Level.TORNADO)
@pytest.mark.parametrize("body", SPOILT_GZIP)
async def test_gzip_body_with_garbage_or_cut_short_is_refused(impl, server, http, body):
    """Tornado 6.6.0 release notes (tornado.http1connection): "Trailing garbage at the end
    of a body or in between members is now an error instead of being silently ignored, as
    is a body that is truncated partway through a member." With ``decompress_request=True`` such a body is refused with 400 and the
    handler never runs (before 6.6 the garbage was ignored and a truncated member was
    delivered as far as it went)."""
    trace = Trace()
    srv = server.serve(echo_app(impl, trace), decompress_request=True)
    async with await http.connect(srv) as conn:
        await conn.send(_gzip_post("gzip", body))
        await assert_rejected(
            conn,
            server,
            trace,
            "a gzip request body that is not a complete series of members",
            "POST",
            refusal=SPOILT_GZIP_400,
        )


@check("Tornado docs: HTTPServer (max_body_size); Tornado 6.2.0 release notes (tornado.http1connection)", Level.TORNADO)
@pytest.mark.parametrize(
    "size, served", [pytest.param(0, True, id="empty-body-served"), pytest.param(1, False, id="one-octet-refused")]
)
async def test_max_body_size_zero_refuses_any_body(impl, server, http, size, served):
    """Tornado 6.2.0 release notes: "``max_body_size`` may now be set to zero to disallow
    a non-empty body." With ``max_body_size=0`` a request with an
    empty body is served and one with a single octet of body never reaches the handler
    (before 6.2, zero was read as "no value" and the default limit applied)."""
    trace = Trace()
    srv = server.serve(echo_app(impl, trace), max_body_size=0)
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("POST", "/bounded", f"Content-Length: {size}", b"b" * size))
        answer = await conn.response_or_close("POST")
    server.barrier()
    expected = echo_line("POST", "/bounded", b"b" * size)
    if served and (answer is None or answer.body != expected):
        raise Violation(
            "a request with an empty body was not served with max_body_size=0; only a non-empty body exceeds it.",
            expected=f"200 OK with {expected!r}",
            observed="the connection closed" if answer is None else f"{answer.describe()} with {answer.body!r}",
            transcript=conn.transcript,
        )
    if not served and (trace.events or (answer is not None and answer.status < 400)):
        raise Violation(
            "a request with a one-octet body was served with max_body_size=0, which refuses any non-empty body.",
            expected="a 4xx response or a close, and no handler call",
            observed=f"{'the connection closed' if answer is None else answer.describe()}; handler calls "
            f"{trace.events}",
            transcript=conn.transcript,
        )
