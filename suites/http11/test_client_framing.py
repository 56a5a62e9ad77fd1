"""The client side, message framing: where the implementation's HTTP client ends a response.

The implementation's ``AsyncHTTPClient`` fetches from the kit's scripted server
(``conformance.wire.h11_server``, fixture ``h11_server``), which keeps the connection open
after each response unless the case is about the close: a client that reads past the end
of a response, or waits for a body that is not there, does not finish its fetch.

References: RFC 9112 §6.3, §7.1, §8 (https://www.rfc-editor.org/rfc/rfc9112#section-6.3);
RFC 9110 §15.2 (https://www.rfc-editor.org/rfc/rfc9110#section-15.2).
"""

from __future__ import annotations

import pytest

from conformance import Level, Violation, check, requires

pytestmark = [pytest.mark.http11, requires("httpclient")]

BODY = b"The quick brown fox jumps over the lazy dog. " * 4


@check("RFC 9112 §6.3", Level.MUST)
async def test_client_reads_a_content_length_body(h11_server):
    """RFC 9112 §6.3 (rule 6): "If a valid Content-Length header field is present without
    Transfer-Encoding, its decimal value defines the expected message body length in
    octets." The kit's server keeps the connection open after the body, so only the
    Content-Length tells the client that the response is complete."""

    async def respond(request, conn):
        await conn.respond(200, [("Content-Type", "text/plain")], BODY, keep_open=True)

    origin = await h11_server.listen(respond)
    fetched = await h11_server.fetch(origin.url("/content-length"))
    if fetched.code != 200 or fetched.body != BODY:
        raise Violation(
            f"the client misread a {len(BODY)}-octet body framed by Content-Length: the Content-Length value is "
            "the body length.",
            expected=f"a 200 response with the {len(BODY)}-octet body",
            observed=fetched.describe(),
            transcript=h11_server.transcripts(),
        )


#: (raw chunked body after the head, or None to let h11 write ``CHUNKS``; trailer fields)
CHUNKS = [b"Wiki", b"pedia ", b"in\r\n\r\nchunks."]
CHUNKED_BODIES = [
    pytest.param(None, (), id="chunks"),
    pytest.param(None, (("X-Checksum", "7f3a"), ("X-Count", "3")), id="trailer-fields"),
    pytest.param(
        b'4;name=value\r\nWiki\r\n6 ; quoted="a;b"\r\npedia \r\nd;flag\r\nin\r\n\r\nchunks.\r\n0\r\n\r\n',
        (),
        id="chunk-extensions",
    ),
]


@check("RFC 9112 §7.1", Level.MUST)
@pytest.mark.parametrize(("raw", "trailers"), CHUNKED_BODIES)
async def test_client_reads_a_chunked_body(h11_server, raw, trailers):
    """RFC 9112 §7.1: "A recipient MUST be able to parse and decode the chunked transfer
    coding." Its grammar includes chunk extensions, which "A recipient MUST ignore" when it
    does not recognise them (§7.1.1), and a trailer section (§7.1.2). The last chunk, not the
    end of the connection, ends the body: the kit's server keeps the connection open."""
    expected = b"".join(CHUNKS)

    async def respond(request, conn):
        if raw is None:
            await conn.respond(200, [("Content-Type", "text/plain")], chunks=CHUNKS, trailers=trailers, keep_open=True)
        else:
            await conn.send_raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + raw)

    origin = await h11_server.listen(respond)
    fetched = await h11_server.fetch(origin.url("/chunked"))
    if fetched.code != 200 or fetched.body != expected:
        raise Violation(
            "the client misread a chunked body: a recipient decodes the chunked coding, ignoring unrecognised "
            "chunk extensions (§7.1.1) and accepting a trailer section (§7.1.2).",
            expected=f"a 200 response with body {expected!r}",
            observed=fetched.describe(),
            transcript=h11_server.transcripts(),
        )


@check("RFC 9112 §6.3", Level.MUST)
async def test_client_reads_a_close_delimited_body(h11_server):
    """RFC 9112 §6.3 (rule 8): "Otherwise, this is a response message without a declared
    message body length, so the message body length is determined by the number of octets
    received prior to the server closing the connection." The response has neither
    Content-Length nor Transfer-Encoding; the kit's server sends the body and closes."""

    async def respond(request, conn):
        await conn.send_raw(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + BODY, close=True)

    origin = await h11_server.listen(respond)
    fetched = await h11_server.fetch(origin.url("/close-delimited"))
    if fetched.code != 200 or fetched.body != BODY:
        raise Violation(
            f"the client misread a close-delimited {len(BODY)}-octet body (no Content-Length or Transfer-Encoding): "
            "every octet before the close is part of the body (rule 8).",
            expected=f"a 200 response with the {len(BODY)}-octet body",
            observed=fetched.describe(),
            transcript=h11_server.transcripts(),
        )


TRUNCATED = [
    pytest.param(b"Content-Length: 100\r\n\r\n" + BODY[:40], id="content-length"),
    pytest.param(b"Transfer-Encoding: chunked\r\n\r\n10\r\n" + BODY[:16] + b"\r\n20\r\n" + BODY[:7], id="chunked"),
]


@check("RFC 9112 §8", Level.MUST)
@pytest.mark.parametrize("rest", TRUNCATED)
async def test_client_reports_a_truncated_body_as_an_error(h11_server, rest):
    """RFC 9112 §8: "A client that receives an incomplete response message, which can occur
    when a connection is closed prematurely or when decoding a supposedly chunked transfer
    coding fails, MUST record the message as incomplete." The kit's server closes the
    connection in the middle of the body: the fetch must fail (promptly), not return the
    part that arrived as if it were the response."""

    async def respond(request, conn):
        await conn.send_raw(b"HTTP/1.1 200 OK\r\n" + rest, close=True)

    origin = await h11_server.listen(respond)
    fetched = await h11_server.fetch(origin.url("/truncated"))
    if fetched.ok:
        raise Violation(
            "the kit's server closed the connection in the middle of the response body, and the client returned "
            "the response as if it were complete.",
            expected="fetch raises",
            observed=fetched.describe(),
            transcript=h11_server.transcripts(),
        )


@check("RFC 9112 §6.3", Level.MUST)
@pytest.mark.parametrize(
    "framing",
    [
        pytest.param(("Content-Length", "1000"), id="content-length"),
        pytest.param(("Transfer-Encoding", "chunked"), id="chunked"),
    ],
)
async def test_client_reads_no_body_in_a_head_response(h11_server, framing):
    """RFC 9112 §6.3 (rule 1): "Any response to a HEAD request and any response with a 1xx
    (Informational), 204 (No Content), or 304 (Not Modified) status code is always
    terminated by the first empty line after the header fields, regardless of the header
    fields present in the message, and thus cannot contain a message body or trailer section."
    The response to HEAD announces a body (as the response to GET would) and the connection
    stays open."""

    async def respond(request, conn):
        await conn.respond(200, [framing, ("Content-Type", "text/plain")], keep_open=True)

    origin = await h11_server.listen(respond)
    fetched = await h11_server.fetch(origin.url("/head"), method="HEAD")
    if fetched.code != 200 or fetched.body:
        raise Violation(
            f"the client misread a response to HEAD with '{framing[0]}: {framing[1]}' and no body: a response to "
            "HEAD ends at the empty line after its fields (rule 1).",
            expected="a 200 response with an empty body",
            observed=fetched.describe(),
            transcript=h11_server.transcripts(),
        )


@check("RFC 9112 §6.3", Level.MUST)
@pytest.mark.parametrize(
    ("status", "fields"),
    [
        pytest.param(204, [], id="204"),
        pytest.param(304, [("ETag", '"v1"'), ("Content-Length", "1000")], id="304"),
    ],
)
async def test_client_reads_no_body_in_a_204_or_304_response(h11_server, status, fields):
    """RFC 9112 §6.3 (rule 1): a response "with a 1xx (Informational), 204 (No Content), or
    304 (Not Modified) status code is always terminated by the first empty line after the
    header fields". The 204 has no framing field at all (RFC 9110 §8.6 forbids Content-Length
    there), so a client that reads it until the close waits; the 304 carries the
    Content-Length of the representation it validates (RFC 9110 §8.6 allows it). The
    connection stays open."""

    async def respond(request, conn):
        await conn.respond(status, fields, keep_open=True)

    origin = await h11_server.listen(respond)
    headers = {"If-None-Match": '"v1"'} if status == 304 else {}
    fetched = await h11_server.fetch(origin.url(f"/{status}"), headers=headers)
    if fetched.code != status or fetched.body:
        raise Violation(
            f"the client misread a {status} response with the fields {fields!r} and no body: a {status} response "
            "ends at the empty line after its fields (rule 1).",
            expected=f"a {status} response with an empty body",
            observed=fetched.describe(),
            transcript=h11_server.transcripts(),
        )


@check("RFC 9110 §15.2", Level.MUST)
@pytest.mark.parametrize(
    "informational",
    [
        pytest.param([(100, [])], id="100-continue"),
        pytest.param([(103, [("Link", "</style.css>; rel=preload; as=style")]), (102, [])], id="103-then-102"),
    ],
)
async def test_client_skips_1xx_responses_before_the_final_one(h11_server, informational):
    """RFC 9110 §15.2: "A client MUST be able to parse one or more 1xx responses received
    prior to a final response, even if the client does not expect one. A user agent MAY
    ignore unexpected 1xx responses." The fetch's result is the final response."""

    async def respond(request, conn):
        await conn.respond(200, [("Content-Type", "text/plain")], BODY, informational=informational)

    origin = await h11_server.listen(respond)
    fetched = await h11_server.fetch(origin.url("/informational"))
    codes = [code for code, _ in informational]
    if fetched.code != 200 or fetched.body != BODY:
        raise Violation(
            f"the client misread the interim responses {codes} followed by a 200 with a {len(BODY)}-octet body: a "
            "client parses 1xx responses before the final one, which is the response.",
            expected=f"a 200 response with the {len(BODY)}-octet body",
            observed=fetched.describe(),
            transcript=h11_server.transcripts(),
        )
