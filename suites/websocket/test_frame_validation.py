"""Frame validation: a frame with a reserved bit set or a reserved opcode fails the
connection instead of being processed.

Reference: RFC 6455 §5.2 (https://www.rfc-editor.org/rfc/rfc6455#section-5.2) and §7.1.7.
"""

from __future__ import annotations

import pytest

from conformance import Level, check, requires
from conformance.wire.ws import TEXT, frame

from ._support import echo_handler, expect_failed_connection

pytestmark = [pytest.mark.websocket, requires("web", "httpserver", "websocket")]

# (what the frame breaks, the frame): each is a complete, masked, final frame carrying "probe".
CASES = [
    pytest.param("RSV1 set", frame(TEXT, b"probe", rsv=0b100), id="rsv1"),
    pytest.param("RSV2 set", frame(TEXT, b"probe", rsv=0b010), id="rsv2"),
    pytest.param("RSV3 set", frame(TEXT, b"probe", rsv=0b001), id="rsv3"),
    pytest.param("the reserved non-control opcode 0x3", frame(0x3, b"probe"), id="opcode-0x3"),
    pytest.param("the reserved non-control opcode 0x7", frame(0x7, b"probe"), id="opcode-0x7"),
    pytest.param("the reserved control opcode 0xB", frame(0xB, b"probe"), id="opcode-0xb"),
    pytest.param("the reserved control opcode 0xF", frame(0xF, b""), id="opcode-0xf-empty"),
]


@check("RFC 6455 §5.2", Level.MUST)
@pytest.mark.parametrize(("defect", "bad_frame"), CASES)
async def test_reserved_frame_header_field_fails_the_connection(impl, server, ws, defect, bad_frame):
    """RFC 6455 §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated that defines meanings
    for non-zero values. If a nonzero value is received and none of the negotiated extensions
    defines the meaning of such a nonzero value, the receiving endpoint MUST _Fail the
    WebSocket Connection_." Opcode: "If an unknown opcode is received, the receiving endpoint
    MUST _Fail the WebSocket Connection_." (§7.1.7: close the TCP connection, after a close
    frame if it likes; the strict verdict is a close frame with 1002, §7.4.1.)"""
    srv = server.serve([("/ws", echo_handler(impl))])
    async with await ws.open(srv, "/ws") as conn:  # no extension is negotiated
        await conn.send_raw(bad_frame)
        await expect_failed_connection(conn, code=1002, sent=f"a frame with {defect} (no extension was negotiated)")
