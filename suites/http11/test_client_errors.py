"""The client side, malformed and oversized responses: the fetch fails, promptly.

The kit's scripted server (fixture ``h11_server``) sends responses whose framing is invalid,
or whose body is larger than the client's ``max_body_size``, and keeps the connection open:
the client must raise from ``fetch``, and must not guess a length nor wait for the close.

References: RFC 9112 §6.3, §7.1, §8 (https://www.rfc-editor.org/rfc/rfc9112#section-6.3);
Tornado docs, SimpleAsyncHTTPClient (``max_body_size``)
(https://www.tornadoweb.org/en/stable/httpclient.html#tornado.simple_httpclient.SimpleAsyncHTTPClient).
"""

from __future__ import annotations

import gzip

import pytest

from conformance import Level, Violation, check, requires

pytestmark = [pytest.mark.http11, requires("httpclient")]

#: 12 octets: what a lenient reading of each invalid Content-Length below finds.
TWELVE = b"hello world!"

INVALID_CONTENT_LENGTHS = [
    pytest.param(b"Content-Length: 12abc\r\n", id="digits-then-letters"),
    pytest.param(b"Content-Length: +12\r\n", id="plus-sign"),
    pytest.param(b"Content-Length: 12, 5\r\n", id="differing-values-in-one-field"),
    pytest.param(b"Content-Length: 12\r\nContent-Length: 5\r\n", id="two-differing-fields"),
]


@check("RFC 9112 §6.3", Level.MUST)
@pytest.mark.parametrize("fields", INVALID_CONTENT_LENGTHS)
async def test_client_refuses_an_invalid_content_length(h11_server, fields):
    """RFC 9112 §6.3 (rule 5): "If a message is received without Transfer-Encoding and with
    an invalid Content-Length header field, then the message framing is invalid and the
    recipient MUST treat it as an unrecoverable error ... If it is a response message
    received by a user agent, the user agent MUST close the connection to the server and
    discard the received response." RFC 9110 §8.6: ``Content-Length = 1*DIGIT``; differing
    values are invalid."""

    async def respond(request, conn):
        await conn.send_raw(b"HTTP/1.1 200 OK\r\n" + fields + b"Content-Type: text/plain\r\n\r\n" + TWELVE)

    origin = await h11_server.listen(respond)
    fetched = await h11_server.fetch(origin.url("/invalid-content-length"))
    if fetched.ok:
        raise Violation(
            f"the client returned a response the kit's server framed with {fields.decode().strip()!r}: an invalid "
            "Content-Length is an unrecoverable error (rule 5), so the user agent discards the response.",
            expected="fetch raises",
            observed=fetched.describe(),
            transcript=h11_server.transcripts(),
        )


INVALID_CHUNK_SIZES = [
    pytest.param(b"5zz\r\nhello\r\n0\r\n\r\n", id="trailing-garbage"),
    pytest.param(b"0x5\r\nhello\r\n0\r\n\r\n", id="hex-prefix"),
    pytest.param(b" 5\r\nhello\r\n0\r\n\r\n", id="leading-whitespace"),
]


@check("RFC 9112 §7.1; RFC 9112 §8", Level.MUST)
@pytest.mark.parametrize("chunked", INVALID_CHUNK_SIZES)
async def test_client_refuses_an_invalid_chunk_size(h11_server, chunked):
    """RFC 9112 §7.1: ``chunk-size = 1*HEXDIG``, followed by optional chunk extensions that
    begin with ";". §8: "A client that receives an incomplete response message, which can
    occur ... when decoding a supposedly chunked transfer coding fails, MUST record the
    message as incomplete." A size line that is not a chunk size cannot be decoded; reading
    it as a number (as ``strtol`` would) guesses the framing."""

    async def respond(request, conn):
        await conn.send_raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked)

    origin = await h11_server.listen(respond)
    fetched = await h11_server.fetch(origin.url("/invalid-chunk-size"))
    if fetched.ok:
        size_line = chunked.split(b"\r\n", 1)[0]
        raise Violation(
            f"the client returned a response whose chunk-size line {size_line!r} is not 1*HEXDIG: a chunked coding "
            "that cannot be decoded makes an incomplete message.",
            expected="fetch raises",
            observed=fetched.describe(),
            transcript=h11_server.transcripts(),
        )


LIMIT = 1024
LARGE = bytes(range(256)) * 16  # 4096 octets
#: 64 KiB of zeros compress to well under LIMIT: only the decoded size is over it.
BOMB = gzip.compress(b"\0" * 65536)


async def _send_large(conn, framing):
    if framing == "content-length":
        await conn.respond(200, [("Content-Type", "application/octet-stream")], LARGE, keep_open=True)
    elif framing == "chunked":
        chunks = [LARGE[i : i + 512] for i in range(0, len(LARGE), 512)]
        await conn.respond(200, [("Content-Type", "application/octet-stream")], chunks=chunks, keep_open=True)
    elif framing == "close-delimited":
        await conn.send_raw(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n" + LARGE, close=True)
    else:
        fields = [("Content-Type", "application/octet-stream"), ("Content-Encoding", "gzip")]
        await conn.respond(200, fields, BOMB, keep_open=True)


@check("Tornado docs: SimpleAsyncHTTPClient (max_body_size)", Level.TORNADO)
@pytest.mark.parametrize("framing", ["content-length", "chunked", "close-delimited", "gzip-decoded"])
async def test_client_refuses_a_body_larger_than_max_body_size(h11_server, framing):
    """Tornado docs, SimpleAsyncHTTPClient: "``max_body_size`` (defaults to
    ``max_buffer_size``) is the largest response body that the client will accept." It holds
    however the body is framed, and for a gzip-coded body it is the decoded body that counts
    (a small compressed body can decode to any size). The client is built with
    ``max_body_size=1024``; the body is 4096 octets (64 KiB once decoded for gzip)."""

    async def respond(request, conn):
        await _send_large(conn, framing)

    origin = await h11_server.listen(respond)
    fetched = await h11_server.fetch(origin.url(f"/large/{framing}"), client_kwargs={"max_body_size": LIMIT})
    if fetched.ok:
        size = 65536 if framing == "gzip-decoded" else len(LARGE)
        raise Violation(
            f"the client, built with max_body_size={LIMIT}, accepted a {framing} body of {size} "
            f"octets{' once decoded' if framing == 'gzip-decoded' else ''}: max_body_size is the largest response "
            "body the client accepts.",
            expected="fetch raises",
            observed=fetched.describe(),
            transcript=h11_server.transcripts(),
        )
