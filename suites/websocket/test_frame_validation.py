"""Frame validation: a frame with a reserved bit set or a reserved opcode fails the
connection instead of being processed, and so does a client frame that is not masked.

Reference: RFC 6455 §5.1, §5.2 (https://www.rfc-editor.org/rfc/rfc6455#section-5.2) and §7.1.7.
"""

from __future__ import annotations

import pytest

from conformance import Level, Trace, Violation, check, requires
from conformance.wire.ws import TEXT, ConnectionClosedError, frame

from ._support import PROBE, describe_message, echo_handler, expect_failed_connection, how_it_ended, recorder_handler

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


UNMASKED = "an unmasked text frame"


@check("RFC 6455 §5.1", Level.MUST)
async def test_unmasked_client_frame_closes_the_connection(impl, server, ws):
    """RFC 6455 §5.1: "The server MUST close the connection upon receiving a frame that is not
    masked. In this case, a server MAY send a Close frame with a status code of 1002 (protocol
    error) as defined in Section 7.4.1." After the handshake the client sends the text
    'an unmasked text frame' unmasked, then a masked probe: the server closes the connection
    (a close frame first, with whatever code, is its choice), and neither text reaches
    on_message."""
    received = Trace()
    srv = server.serve([("/ws", recorder_handler(impl, received))])
    async with await ws.open(srv, "/ws") as conn:
        await conn.send_raw(frame(TEXT, UNMASKED.encode(), mask=False))
        await conn.send_text(PROBE)
        try:
            message = await conn.receive_message()
        except ConnectionClosedError as exc:
            closed = exc.closed
        else:
            raise Violation(
                f"the client sent the text {UNMASKED!r} in a frame that is not masked, then the masked text "
                f"{PROBE!r}; the implementation processed the frame and kept the connection open.",
                expected="the connection closed (a close frame with 1002 allowed first), nothing delivered",
                observed=f"an answer: {describe_message(message)}",
                transcript=conn.transcript,
            )
    server.barrier()
    if received.events:
        raise Violation(
            f"the client sent the text {UNMASKED!r} in a frame that is not masked; the implementation closed the "
            "connection, but only after delivering what it received to the application.",
            expected="the connection closed, on_message never called",
            observed=f"on_message calls {received.events!r}, then {how_it_ended(closed)}",
            transcript=conn.transcript,
        )
