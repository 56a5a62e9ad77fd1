"""HEAD: the headers of a GET, never its content.

Reference: RFC 9110 §9.3.2 (https://www.rfc-editor.org/rfc/rfc9110#section-9.3.2) and
§8.6 (https://www.rfc-editor.org/rfc/rfc9110#section-8.6); the framing consequence is
RFC 9112 §6.3 rule 1.
"""

from __future__ import annotations

import pytest

from conformance import Level, check, requires

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
            assert await conn.closed_by_peer(), (
                f"the HEAD /doc response announced 'Connection: close' and was followed by more bytes; "
                f"RFC 9110 §9.3.2 (MUST NOT send content in a HEAD response).\n"
                f"bytes exchanged:\n{conn.transcript.format()}"
            )
            get = await http.request(srv, "GET", "/doc")
    assert head.status == 200, f"HEAD /doc got {head.describe()}, expected 200 like the GET"
    assert get.status == 200 and get.body == CONTENT, (
        f"the GET sent after HEAD /doc on the same connection got {get.describe()} with {get.body[:120]!r}, "
        f"expected 200 with {CONTENT!r}. If these bytes are the document, the HEAD response carried content "
        f"and it was read as this response: RFC 9110 §9.3.2 (MUST NOT send content in a HEAD response).\n"
        f"bytes exchanged:\n{conn.transcript.format()}"
    )
    length = head.header("content-length")
    assert length is None or length == str(len(CONTENT)), (
        f"HEAD /doc answered 'Content-Length: {length}', but the GET carries {len(CONTENT)} octets; "
        f"RFC 9110 §8.6 (MUST NOT): a Content-Length on a HEAD response must equal the GET's content length.\n"
        f"bytes exchanged:\n{conn.transcript.format()}"
    )
