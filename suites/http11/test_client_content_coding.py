"""The client side, content coding: the implementation's HTTP client asks for gzip and decodes it.

References: Tornado docs, HTTPRequest (``decompress_response``)
(https://www.tornadoweb.org/en/stable/httpclient.html#tornado.httpclient.HTTPRequest);
RFC 9110 §8.4 and §12.5.3 (https://www.rfc-editor.org/rfc/rfc9110#section-8.4).
"""

from __future__ import annotations

import gzip

import pytest

from conformance import Level, Violation, check, requires

pytestmark = [pytest.mark.http11, requires("httpclient")]

TEXT = b"gzip me, gzip me, gzip me: the same words over and over compress well. " * 20
CODED = gzip.compress(TEXT)


@check("Tornado docs: HTTPRequest (decompress_response); RFC 9110 §8.4", Level.TORNADO)
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_client_asks_for_gzip_and_decodes_it_by_default(h11_server, framing):
    """Tornado docs, HTTPRequest: "``decompress_response`` -- Request a compressed response
    from the server and decompress it after downloading. Default is True." RFC 9110 §8.4:
    Content-Encoding indicates "what decoding mechanisms have to be applied in order to
    obtain data in the media type referenced by the Content-Type header field"; the request
    asks for a coding with Accept-Encoding (§12.5.3). The coded body arrives in one
    Content-Length body or spread over several chunks."""

    async def respond(request, conn):
        fields = [("Content-Type", "text/plain"), ("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
        if framing == "chunked":
            chunks = [CODED[i : i + 40] for i in range(0, len(CODED), 40)]
            await conn.respond(200, fields, chunks=chunks)
        else:
            await conn.respond(200, fields, CODED)

    origin = await h11_server.listen(respond)
    fetched = await h11_server.fetch(origin.url("/gzip"))
    requests = h11_server.requests
    accepted = requests[0].header("accept-encoding") if requests else None
    codings = {c.split(";")[0].strip().lower() for c in (accepted or "").split(",")}
    if "gzip" not in codings or fetched.code != 200 or fetched.body != TEXT:
        raise Violation(
            f"the client did not ask for gzip or did not decode the kit's gzip-coded {framing} body of "
            f"{len(CODED)} octets ({len(TEXT)} decoded); Tornado documents that decompress_response (default True) "
            "asks for a compressed response and decodes it.",
            expected=f"Accept-Encoding with gzip, then a 200 response with the {len(TEXT)} decoded octets",
            observed=f"Accept-Encoding {accepted!r}, then {fetched.describe()}",
            transcript=h11_server.transcripts(),
        )
