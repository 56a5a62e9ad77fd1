"""HEAD: the headers of a GET, never its content.

Reference: RFC 9110 §9.3.2 (https://www.rfc-editor.org/rfc/rfc9110#section-9.3.2) and
§8.6 (https://www.rfc-editor.org/rfc/rfc9110#section-8.6); the framing consequence is
RFC 9112 §6.3 rule 1.
"""

from __future__ import annotations

import pytest

from conformance import Level, Violation, check, requires

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]

CONTENT = b"the representation a GET would carry\n"


def _document(impl):
    web = impl.part("web")

    class Document(web.RequestHandler):
        def get(self):
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.write(CONTENT)

        # Tornado's documented way to serve HEAD like GET: the handler writes the same
        # content and the framework withholds it (as StaticFileHandler does).
        head = get

    return [("/doc", Document)]


@check("RFC 9110 §9.3.2", Level.MUST)
async def test_head_response_has_the_get_headers_and_no_content(impl, server, http):
    """RFC 9110 §9.3.2: "The HEAD method is identical to GET except that the server MUST NOT
    send content in the response." RFC 9110 §8.6: a server "MUST NOT send Content-Length in
    such a response unless its field value equals the decimal number of octets that would
    have been sent in the content of a response if the same request had used the GET
    method." A GET follows the HEAD on the connection, so content sent after the HEAD
    response would be read in its place."""
    srv = server.serve(_document(impl))
    async with await http.connect(srv) as conn:
        head = await conn.request("HEAD", "/doc")
        if head.keep_alive:
            get = await conn.request("GET", "/doc")
        else:
            # The server closes after the HEAD response (allowed once announced, RFC 9112
            # §9.6): content sent after that response shows up as bytes before the close.
            if not await conn.closed_by_peer():
                raise Violation(
                    "the HEAD /doc response announced 'Connection: close' and was followed by more bytes: a server "
                    "sends no content in a HEAD response.",
                    transcript=conn.transcript,
                )
            get = await http.request(srv, "GET", "/doc")
    assert head.status == 200, f"HEAD /doc got {head.describe()}, expected 200 like the GET"
    if not (get.status == 200 and get.body == CONTENT):
        raise Violation(
            "the GET sent after HEAD /doc on the same connection got a wrong answer; if these bytes are the "
            "document, the HEAD response carried content and it was read as this response.",
            expected=f"200 with {CONTENT!r}",
            observed=f"{get.describe()} with {get.body[:120]!r}",
            transcript=conn.transcript,
        )
    length = head.header("content-length")
    if not (length is None or length == str(len(CONTENT))):
        raise Violation(
            "the Content-Length of the HEAD /doc response is not the GET's content length (RFC 9110 §8.6).",
            expected=f"Content-Length: {len(CONTENT)}",
            observed=f"Content-Length: {length}",
            transcript=conn.transcript,
        )
