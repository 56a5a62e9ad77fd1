"""Compression (permessage-deflate): compressed messages of every size round-trip, context
takeover is kept or dropped as negotiated, and compressed frames without the extension fail
the connection.

References: RFC 7692 §6, §7.1.1 and §7.2 (https://www.rfc-editor.org/rfc/rfc7692#section-7.2);
Autobahn TestSuite cases 12.x and 13.x.
"""

from __future__ import annotations

import zlib

import pytest
from wsproto.extensions import PerMessageDeflate

from conformance import Level, Violation, check, requires
from conformance.wire.ws import BINARY, frame

from ._support import (
    binary_payload,
    compressing_echo_handler,
    describe_message,
    echo_handler,
    expect_failed_connection,
    handshake_fields,
    text_payload,
)

pytestmark = [pytest.mark.websocket, requires("web", "httpserver", "websocket")]

SIZES = (0, 1, 125, 1000, 65536, 262144)


@check("RFC 7692 §7.2", Level.MUST)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s}-bytes")
@pytest.mark.parametrize("kind", ["text", "binary"])
async def test_compressed_message_round_trips(impl, server, ws, kind, size):
    """RFC 7692 §7.2: with permessage-deflate negotiated, a message is compressed with DEFLATE
    and its first frame has RSV1 set; §7.2.2 the receiver decompresses it. An echo handler
    with compression enabled returns every size intact (each message sent three times, so
    the second and third use the sliding window of the first)."""
    srv = server.serve([("/ws", compressing_echo_handler(impl))])
    sent = text_payload(size) if kind == "text" else binary_payload(size)
    async with await ws.open(srv, "/ws", extensions=[PerMessageDeflate()]) as conn:
        header = handshake_fields(conn).get("sec-websocket-extensions", "")
        if "permessage-deflate" not in header:
            raise Violation(
                "a handler whose get_compression_options returns {} did not accept permessage-deflate.",
                expected="Sec-WebSocket-Extensions: permessage-deflate...",
                observed=f"Sec-WebSocket-Extensions {header!r}",
                transcript=conn.transcript,
            )
        for _ in range(3):
            await (conn.send_text(sent) if isinstance(sent, str) else conn.send_bytes(sent))
            echoed = await conn.receive_message()
            if echoed != sent:
                raise Violation(
                    "with permessage-deflate negotiated, a message did not come back intact.",
                    expected=describe_message(sent),
                    observed=describe_message(echoed),
                    transcript=conn.transcript,
                )


@check("RFC 7692 §7.1.1", Level.MUST)
@pytest.mark.parametrize(
    "offer",
    [
        pytest.param({}, id="context-takeover"),
        pytest.param({"server_no_context_takeover": True}, id="server-no-context-takeover"),
    ],
)
async def test_context_takeover_follows_the_negotiation(impl, server, ws, offer):
    """RFC 7692 §7.1.1: without "no_context_takeover" each side may compress a message with
    the sliding window of earlier ones, and the receiver MUST keep its window to decompress
    them; with "server_no_context_takeover" agreed "the server MUST start compressing each
    new message with an empty LZ77 sliding window". wsproto, the peer, compresses with
    context takeover unless told otherwise and decompresses by what the server agreed; the
    same text sent five times must come back five times."""
    srv = server.serve([("/ws", compressing_echo_handler(impl))])
    sent = text_payload(4000)
    async with await ws.open(srv, "/ws", extensions=[PerMessageDeflate(**offer)]) as conn:
        header = handshake_fields(conn).get("sec-websocket-extensions", "")
        for i in range(5):
            await conn.send_text(sent)
            echoed = await conn.receive_message()
            if echoed != sent:
                raise Violation(
                    f"with Sec-WebSocket-Extensions {header!r} agreed, echo {i + 1} of the same text did not come "
                    "back intact.",
                    expected=describe_message(sent),
                    observed=describe_message(echoed),
                    transcript=conn.transcript,
                )


@check("RFC 7692 §6; RFC 6455 §5.2", Level.MUST)
async def test_compressed_frame_without_negotiation_fails_the_connection(impl, server, ws):
    """RFC 7692 §6: permessage-deflate uses RSV1 only once negotiated; RFC 6455 §5.2: "If a
    nonzero value is received and none of the negotiated extensions defines the meaning of
    such a nonzero value, the receiving endpoint MUST _Fail the WebSocket Connection_." A
    real DEFLATE payload with RSV1 set is sent on a connection without the extension."""
    srv = server.serve([("/ws", echo_handler(impl))])
    compressor = zlib.compressobj(wbits=-15)
    payload = (compressor.compress(b"compressed without negotiation") + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]
    async with await ws.open(srv, "/ws") as conn:
        await conn.send_raw(frame(BINARY, payload, rsv=0b100))
        await expect_failed_connection(
            conn,
            code=1002,
            sent="a compressed binary frame (RSV1 set) while no extension was negotiated",
        )
