"""The client side, persistent connections: reuse only what may be reused, announce what is not.

One client instance fetches twice from the kit's scripted server (fixture ``h11_server``),
which records on which connection each request arrived. A client may keep connections for
reuse or close them after each response, but it must say so, and it must never send a
request on a connection the server announced it will close.

Reference: RFC 9112 §9.3, §9.6 (https://www.rfc-editor.org/rfc/rfc9112#section-9.3).
"""

from __future__ import annotations

import pytest

from conformance import Level, Violation, check, requires

pytestmark = [pytest.mark.http11, requires("httpclient")]


def where(h11_server):
    return (
        ", ".join(f"{r.describe()} with Connection {r.header('connection')!r}" for r in h11_server.requests) or "none"
    )


@check("RFC 9112 §9.6", Level.MUST)
async def test_client_opens_a_new_connection_after_connection_close(h11_server):
    """RFC 9112 §9.6: "A client that receives a "close" connection option MUST cease sending
    requests on that connection and close the connection after reading the response message
    containing the "close" connection option". The kit's server announces the close but
    leaves the connection open, so a client that reuses it is seen doing so."""

    async def respond(request, conn):
        # Chunked: the end of the body is in the bytes, whatever the client makes of the close.
        fields = [("Connection", "close"), ("Content-Type", "text/plain")]
        await conn.respond(200, fields, chunks=[b"ok"], keep_open=True)

    origin = await h11_server.listen(respond)
    fetched = await h11_server.fetch_each([(origin.url("/one"), {}), (origin.url("/two"), {})])
    requests = h11_server.requests
    if len(requests) != 2 or any(not f.ok or f.code != 200 for f in fetched):
        raise Violation(
            f"two fetches from the kit's server ended with {[f.describe() for f in fetched]} after the requests "
            f"{where(h11_server)}.",
            transcript=h11_server.transcripts(),
        )
    if requests[1].connection == requests[0].connection:
        raise Violation(
            f"the response to {requests[0].describe()} carried 'Connection: close', yet the client sent its next "
            "request on the same connection: a client that receives the close option ceases sending requests on "
            "that connection.",
            expected="the second request on a new connection",
            observed=requests[1].describe(),
            transcript=h11_server.transcripts(),
        )


@check("RFC 9112 §9.3", Level.MUST)
async def test_client_announces_close_unless_it_reuses_the_connection(h11_server):
    """RFC 9112 §9.3: "A client that does not support persistent connections MUST send the
    "close" connection option in every request message." HTTP/1.1 connections persist by
    default, so the kit's server keeps each one open after its response: a client that
    neither sent "close" nor used the connection again for its next request to the same
    server left a connection it never meant to reuse open on the server."""

    async def respond(request, conn):
        await conn.respond(200, [("Content-Type", "text/plain")], b"ok")

    origin = await h11_server.listen(respond)
    fetched = await h11_server.fetch_each([(origin.url("/one"), {}), (origin.url("/two"), {})])
    requests = h11_server.requests
    if len(requests) != 2 or any(not f.ok or f.code != 200 for f in fetched):
        raise Violation(
            f"two fetches from the kit's server ended with {[f.describe() for f in fetched]} after the requests "
            f"{where(h11_server)}.",
            transcript=h11_server.transcripts(),
        )
    reused = requests[1].connection == requests[0].connection
    announced = all("close" in r.connection_options() for r in requests)
    if not (reused or announced):
        raise Violation(
            "not every request carried the 'close' option, yet the client's second request to the same server "
            "came on a new connection: a client that does not keep connections for reuse sends 'Connection: close' "
            "in every request.",
            expected="the second request on the first connection, or 'Connection: close' in every request",
            observed=where(h11_server),
            transcript=h11_server.transcripts(),
        )
