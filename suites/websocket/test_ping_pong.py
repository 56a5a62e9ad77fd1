"""Ping and pong: the server answers every ping with a pong carrying the same data.

Reference: RFC 6455 §5.5.2 and §5.5.3 (https://www.rfc-editor.org/rfc/rfc6455#section-5.5.2).
"""

from __future__ import annotations

import pytest

from conformance import Level, Violation, check, requires

from ._support import echo_handler, how_it_ended

pytestmark = [pytest.mark.websocket, requires("web", "httpserver", "websocket")]

#: Not UTF-8, with a NUL: a pong must carry the bytes, not a decoded or trimmed copy.
PAYLOAD = b"conformance ping \x00\xff\xfe" + bytes(range(16))


@check("RFC 6455 §5.5.3", Level.MUST)
async def test_ping_is_answered_by_a_pong_with_the_same_payload(impl, server, ws):
    """RFC 6455 §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
    response, unless it already received a Close frame." §5.5.3: "A Pong frame sent in
    response to a Ping frame must have identical "Application data" as found in the message
    body of the Ping frame being replied to." The ping is sent before the close frame, so
    its pong must arrive before the closing handshake completes."""
    srv = server.serve([("/ws", echo_handler(impl))])
    async with await ws.open(srv, "/ws") as conn:
        await conn.ping(PAYLOAD)
        closed = await conn.close(1000)
        if not conn.pongs:
            raise Violation(
                f"the client sent a ping with {len(PAYLOAD)} bytes of application data, then a close frame; the "
                f"implementation ended the connection with {how_it_ended(closed)} without sending a pong. RFC 6455 "
                f"§5.5.2 requires a pong in response to every ping received before a close frame.\n"
                f"bytes exchanged:\n{conn.transcript.format()}"
            )
        if PAYLOAD not in conn.pongs:
            raise Violation(
                f"the client sent one ping with application data {PAYLOAD!r}; the implementation answered with "
                f"pongs carrying {conn.pongs!r}. RFC 6455 §5.5.3 requires the pong to carry the ping's "
                f"application data unchanged (unsolicited pongs may come too, but one must match).\n"
                f"bytes exchanged:\n{conn.transcript.format()}"
            )
