"""HEAD to a handler that flushes part of its response before finishing: headers only,
no chunk of the chunked coding.

Reference: RFC 9110 §9.3.2 (https://www.rfc-editor.org/rfc/rfc9110#section-9.3.2), RFC
9112 §6.3 rule 1 (a response to HEAD ends with its header section) and the Tornado 6.1.0
release notes (``tornado.http1connection``).
"""

from __future__ import annotations

import pytest

from conformance import Level, Violation, check, requires

from ._apps import raw_request

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]

PARTS = (b"first part, flushed\n", b"second part\n")


def _app(impl):
    web = impl.part("web")

    class Streaming(web.RequestHandler):
        async def get(self):
            self.set_header("Content-Type", "text/plain")
            self.write(PARTS[0])
            await self.flush()
            self.write(PARTS[1])

        head = get

    class Next(web.RequestHandler):
        def get(self):
            self.write(b"next")

    return [("/stream", Streaming), ("/next", Next)]


@check("RFC 9110 §9.3.2; RFC 9112 §6.3; Tornado 6.1.0 release notes (tornado.http1connection)", Level.MUST)
async def test_head_to_a_streaming_handler_sends_no_chunks(impl, server, http):
    """RFC 9110 §9.3.2: "The HEAD method is identical to GET except that the server MUST
    NOT send content in the response"; RFC 9112 §6.3: a response to HEAD is "always
    terminated by the first empty line after the header fields". Tornado 6.1.0 release
    notes: "``HEAD`` requests to handlers that used chunked encoding no longer produce
    malformed output." A handler that flushes one part and then finishes answers HEAD
    with headers only: no chunk (not even the last, empty one) precedes the answer to the
    GET pipelined behind it (both requests in one write: they arrive together, as a
    pipelining client's requests may)."""
    srv = server.serve(_app(impl))
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("HEAD", "/stream") + raw_request("GET", "/next"))
        head = await conn.response_or_close("HEAD")
        if head is None or head.status != 200:
            raise Violation(
                "HEAD to a handler that flushes before finishing was not answered 200.",
                expected="200 OK, headers only",
                observed="the connection closed" if head is None else head.describe(),
                transcript=conn.transcript,
            )
        after = await conn.response_or_close("GET") if head.keep_alive else None
    if head.keep_alive and (after is None or after.status != 200 or after.body != b"next"):
        raise Violation(
            "the GET pipelined behind a HEAD to a streaming handler got a wrong answer: bytes of the chunked "
            "coding (a chunk, or the last chunk) followed the HEAD response's header section.",
            expected="200 OK with b'next'",
            observed="the connection closed" if after is None else f"{after.describe()} with {after.body[:80]!r}",
            transcript=conn.transcript,
        )
