"""Data frames: text and binary messages cross the connection whole and keep their type,
at every payload length encoding (7-bit, 16-bit and 64-bit lengths).

References: RFC 6455 §5.2 and §5.6 (https://www.rfc-editor.org/rfc/rfc6455#section-5.6);
Tornado docs, WebSocketHandler.on_message and write_message
(https://www.tornadoweb.org/en/stable/websocket.html).
"""

from __future__ import annotations

import pytest

from conformance import Level, Violation, check, requires

from ._support import binary_payload, describe_message, echo_handler, text_payload

pytestmark = [pytest.mark.websocket, requires("web", "httpserver", "websocket")]

# 0 (empty), 125 (the largest 7-bit length), 126 (the smallest 16-bit one), 127 (the
# 7-bit value that announces a 64-bit length, here as a 16-bit one), 65535 (the largest
# 16-bit one), 65536 (the smallest 64-bit one) and 256 KiB: RFC 6455 §5.2 "Payload length".
SIZES = (0, 125, 126, 127, 65535, 65536, 262144)
CASES = [pytest.param(kind, size, id=f"{kind}-{size}-bytes") for kind in ("text", "binary") for size in SIZES]


@check("RFC 6455 §5.6, §6.2; Tornado docs: WebSocketHandler.on_message, write_message", Level.MUST)
@pytest.mark.parametrize(("kind", "size"), CASES)
async def test_message_arrives_whole_with_its_type(impl, server, ws, kind, size):
    """RFC 6455 §5.6: "Text: The "Payload data" is text data encoded as UTF-8"; "Binary: The
    "Payload data" is arbitrary binary data". §6.2: "Upon receiving a data frame (Section
    5.6), the endpoint MUST note the /type/ of the data as defined by the opcode". Tornado
    docs: on_message receives a str for a
    text message and bytes for a binary one, and ``write_message(message, binary=...)`` sends
    "a binary message if binary is true, a text (utf-8) message otherwise". An echo handler
    built on both must return every message whole, with its type."""
    srv = server.serve([("/ws", echo_handler(impl))])
    sent = text_payload(size) if kind == "text" else binary_payload(size)
    async with await ws.open(srv, "/ws") as conn:
        if kind == "text":
            await conn.send_text(sent)
        else:
            await conn.send_bytes(sent)
        echoed = await conn.receive_message()
        if type(echoed) is not type(sent):
            raise Violation(
                "a handler that echoes with write_message(message, binary=isinstance(message, bytes)) answered with "
                "the other message type: either on_message received the wrong type or write_message sent the wrong "
                "opcode (text is 0x1 and str, binary 0x2 and bytes).",
                expected=describe_message(sent),
                observed=describe_message(echoed),
                transcript=conn.transcript,
            )
        if echoed != sent:
            raise Violation(
                "the echo of a message did not come back whole (RFC 6455 §5.2: payload length).",
                expected=describe_message(sent),
                observed=describe_message(echoed),
                transcript=conn.transcript,
            )
