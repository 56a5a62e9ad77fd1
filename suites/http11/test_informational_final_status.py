"""A handler whose status is informational (1xx): the head it sends carries no body framing.

Reference: RFC 9110 §8.6 (https://www.rfc-editor.org/rfc/rfc9110#section-8.6) for
Content-Length and RFC 9112 §6.1 (https://www.rfc-editor.org/rfc/rfc9112#section-6.1)
for Transfer-Encoding. Tornado stopped framing such heads in 4.5.3 (release note: no
Content-Length or Transfer-Encoding on 1xx responses, as already for 204 and 304).

A 1xx head is interim to an HTTP client, which would go on waiting for the final
response; the client here reads the first head as raw bytes (with the deadline) and has
h11 parse that head alone. What the server does with the connection afterwards is not
judged: no sentence of the RFCs covers a handler that ends its exchange on a 1xx.
"""

from __future__ import annotations

from typing import Any

import h11
import pytest

from conformance import Level, Violation, check, requires

from ._apps import raw_request, read_through_head

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]

#: 102 (Processing): known to ``http.client.responses``, so ``set_status`` needs no reason.
STATUS = 102


def _app(impl):
    web: Any = impl.part("web")

    class Finished(web.RequestHandler):
        def get(self):
            self.set_status(STATUS)

    class Flushed(web.RequestHandler):
        async def get(self):
            self.set_status(STATUS)
            await self.flush()

    return [("/finished", Finished), ("/flushed", Flushed)]


async def _first_head(conn) -> bytes:
    """The bytes up to the end of the first head the server sends (all it sent, if it closed first)."""
    data = await read_through_head(conn, "send a response head")
    return data.partition(b"\r\n\r\n")[0] + b"\r\n\r\n" if b"\r\n\r\n" in data else data


def _parse_head(head: bytes, conn) -> tuple[int, list[tuple[str, str]]] | None:
    """The status and fields of ``head`` as h11 reads it, or None when it is not a whole head."""
    parser = h11.Connection(our_role=h11.CLIENT)
    parser.send(h11.Request(method="GET", target="/", headers=[("Host", "conformance")]))
    parser.send(h11.EndOfMessage())
    parser.receive_data(head)
    try:
        event = parser.next_event()
    except h11.RemoteProtocolError as exc:
        raise Violation(
            "h11 could not parse the response head the handler's 1xx status produced.",
            expected=f"HTTP/1.1 {STATUS} ... (a well-formed head)",
            observed=f"{exc}",
            transcript=conn.transcript,
        ) from None
    if not isinstance(event, (h11.InformationalResponse, h11.Response)):
        return None
    fields = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers]
    return event.status_code, fields


@check("RFC 9110 §8.6; RFC 9112 §6.1", Level.MUST)
@pytest.mark.parametrize(
    "path",
    [pytest.param("/finished", id="finished"), pytest.param("/flushed", id="flushed-then-finished")],
)
async def test_handler_with_1xx_status_sends_no_content_length_or_transfer_encoding(impl, server, http, path):
    """RFC 9110 §8.6: "A server MUST NOT send a Content-Length header field in any response
    with a status code of 1xx (Informational) or 204 (No Content)"; RFC 9112 §6.1: "A
    server MUST NOT send a Transfer-Encoding header field in any response with a status
    code of 1xx (Informational) or 204 (No Content)". A handler sets 102 with
    ``RequestHandler.set_status`` and ends without content, either finishing at once (the
    length would be known: Content-Length) or after flushing its head (the length would be
    unknown: chunked). Either way the 102 head it produces carries neither field."""
    srv = server.serve(_app(impl))
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("GET", path))
        head = await _first_head(conn)
    parsed = _parse_head(head, conn)
    if parsed is None or parsed[0] != STATUS:
        raise Violation(
            f"the handler set status {STATUS} with RequestHandler.set_status and ended without content, but that "
            "status was not what the server sent: nothing here can be judged of a 1xx head.",
            expected=f"HTTP/1.1 {STATUS} ...",
            observed=head.partition(b"\r\n")[0].decode("latin-1") or "no head",
            transcript=conn.transcript,
        )
    forbidden = [f"{name}: {value}" for name, value in parsed[1] if name in ("content-length", "transfer-encoding")]
    if forbidden:
        raise Violation(
            f"the {STATUS} head carries body framing: an informational response has no content, so neither "
            "Content-Length nor Transfer-Encoding may appear in it.",
            expected="no Content-Length, no Transfer-Encoding",
            observed=", ".join(forbidden),
            transcript=conn.transcript,
        )
