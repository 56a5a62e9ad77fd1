"""Frame validation: a frame with a reserved bit set or a reserved opcode fails the
connection instead of being processed.

Reference: RFC 6455 §5.2 (https://www.rfc-editor.org/rfc/rfc6455#section-5.2) and §7.1.7.
"""

from __future__ import annotations

import pytest

from conformance import Level, Violation, check, requires
from conformance.wire.ws import TEXT, ConnectionClosedError, frame

from ._support import describe_message, dropped, echo_handler, how_it_ended

pytestmark = [pytest.mark.websocket, requires("web", "httpserver", "websocket")]

# (what the frame breaks, the frame): each is a complete, masked, final frame carrying "probe".
CASES = [
    pytest.param("RSV1 set", frame(TEXT, b"probe", rsv=0b100), id="rsv1"),
    pytest.param("RSV2 set", frame(TEXT, b"probe", rsv=0b010), id="rsv2"),
    pytest.param("RSV3 set", frame(TEXT, b"probe", rsv=0b001), id="rsv3"),
    pytest.param("the reserved non-control opcode 0x3", frame(0x3, b"probe"), id="opcode-0x3"),
    pytest.param("the reserved control opcode 0xB", frame(0xB, b"probe"), id="opcode-0xb"),
]


@check("RFC 6455 §5.2", Level.MUST)
@pytest.mark.parametrize(("defect", "bad_frame"), CASES)
async def test_reserved_frame_header_field_fails_the_connection(impl, server, ws, defect, bad_frame):
    """RFC 6455 §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated that defines meanings
    for non-zero values. If a nonzero value is received and none of the negotiated extensions
    defines the meaning of such a nonzero value, the receiving endpoint MUST _Fail the
    WebSocket Connection_." Opcode: "If an unknown opcode is received, the receiving endpoint
    MUST _Fail the WebSocket Connection_." (§7.1.7: close the TCP connection, after a close
    frame if it likes.)"""
    srv = server.serve([("/ws", echo_handler(impl))])
    async with await ws.open(srv, "/ws") as conn:  # no extension is negotiated
        await conn.send_raw(bad_frame)
        await conn.send_text("after")
        try:
            message = await conn.receive_message()
        except ConnectionClosedError as exc:
            # Failed as required: by a close frame (1002 is the apt code) or a TCP drop.
            if not dropped(exc.closed) and exc.closed.code == 1000:
                raise Violation(
                    f"after a frame with {defect}, the implementation closed with {how_it_ended(exc.closed)}: 1000 "
                    f"means a normal closure, but RFC 6455 §7.1.7 fails the connection (1002, protocol error, "
                    f"§7.4.1).\nbytes exchanged:\n{conn.transcript.format()}"
                ) from None
            return
        raise Violation(
            f"the client sent a frame with {defect} (no extension was negotiated), then the text 'after'; "
            f"the implementation kept the connection open and echoed {describe_message(message)}. RFC 6455 §5.2 "
            f"requires it to fail the connection (a close frame with 1002 or a TCP drop).\n"
            f"bytes exchanged:\n{conn.transcript.format()}"
        )
