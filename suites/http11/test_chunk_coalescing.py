"""How a chunked request body reaches a ``@stream_request_body`` handler: the chunk
boundaries the client chose are not passed on, small chunks that arrived together reach
``data_received`` joined.

The kit writes the whole request (head, one hundred one-octet chunks, the last-chunk) in a
single write, so every chunk is already in the server's hands when it parses the first.

References: Tornado 6.6.0 release notes, ``tornado.http1connection``
(https://www.tornadoweb.org/en/stable/releases/v6.6.0.html); Tornado docs,
``web.stream_request_body`` and ``RequestHandler.data_received``
(https://www.tornadoweb.org/en/stable/web.html#tornado.web.stream_request_body); RFC 9112
§7.1 (https://www.rfc-editor.org/rfc/rfc9112#section-7.1).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance import Level, Violation, check, requires

from ._apps import raw_request

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]

#: One hundred distinct octets, each sent as a chunk of its own.
OCTETS = bytes(range(0x30, 0x30 + 100))


@check(
    "Tornado 6.6.0 release notes (tornado.http1connection); Tornado docs: RequestHandler.data_received", Level.TORNADO
)
async def test_small_chunks_arriving_together_reach_data_received_joined(impl, server, http):
    """Tornado 6.6.0 release notes: the contents of consecutive small chunks of a chunked
    request body are now joined before they are handed to ``data_received``, so the
    boundaries between chunks can no longer be seen by the application (RFC 9112 §7.1 gives
    them no meaning). One hundred one-octet chunks sent in one write reach a streaming
    handler in fewer than one hundred ``data_received`` calls, which together are the body."""
    web: Any = impl.part("web")
    pieces: list[bytes] = []

    @web.stream_request_body
    class Streamed(web.RequestHandler):
        def data_received(self, chunk: bytes) -> None:
            pieces.append(bytes(chunk))

        def post(self) -> None:
            self.finish(json.dumps(len(pieces)))

    body = b"".join(b"1\r\n%c\r\n" % octet for octet in OCTETS) + b"0\r\n\r\n"
    srv = server.serve([("/upload", Streamed)])
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("POST", "/upload", "Transfer-Encoding: chunked", body))
        response = await conn.receive_response("POST")
    calls = json.loads(response.body) if response.status == 200 else None
    if calls is None or calls >= len(OCTETS) or b"".join(pieces) != OCTETS:
        raise Violation(
            f"{len(OCTETS)} one-octet chunks sent together reached data_received one call per chunk (or not whole): "
            "the chunk boundaries the client chose showed through.",
            expected=f"fewer than {len(OCTETS)} data_received calls, joining to the {len(OCTETS)} octets",
            observed=f"{response.describe()}; {len(pieces)} calls joining to {b''.join(pieces)!r}",
            transcript=conn.transcript,
        )
