"""The opening handshake: the server's side of the upgrade from HTTP/1.1.

Reference: RFC 6455 §4.2 (https://www.rfc-editor.org/rfc/rfc6455#section-4.2).
"""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from conformance import Level, ProtocolViolation, Violation, check, requires

from ._support import echo_handler

pytestmark = [pytest.mark.websocket, requires("web", "httpserver", "websocket")]

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _response_head(received: bytes) -> tuple[str, dict[str, str]]:
    """The status line and the header fields (names lower-cased, repeats joined) of a response."""
    head = received.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    status, *lines = head.split("\r\n")
    fields: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        fields[key] = f"{fields[key]}, {value.strip()}" if key in fields else value.strip()
    return status, fields


@check("RFC 6455 §4.2.2", Level.MUST)
async def test_opening_handshake_is_accepted_with_101_upgrade_and_accept_key(impl, server, ws):
    """RFC 6455 §4.2.2: if the server accepts the connection it MUST send "A Status-Line with
    a 101 response code", "An |Upgrade| header field with value 'websocket'", "A |Connection|
    header field with value 'Upgrade'" and "A |Sec-WebSocket-Accept| header field" whose value
    is the base64 SHA-1 of the key concatenated with "258EAFA5-E914-47DA-95CA-C5AB0DC85B11".

    The request lists a second token in Connection (``Connection: Upgrade`` and
    ``Connection: keep-alive``), as browsers do: §4.2.1 asks only that Connection
    "includes a token whose value is 'Upgrade'"."""
    srv = server.serve([("/ws", echo_handler(impl))])
    try:
        conn = await ws.connect(srv, "/ws", headers=[("Connection", "keep-alive")])
    except ProtocolViolation as exc:
        raise ProtocolViolation(
            "the implementation's answer to a valid opening handshake is not a valid acceptance (a 101 with "
            f"Upgrade, Connection and a correct Sec-WebSocket-Accept): wsproto refused it.\n{exc}"
        ) from None
    async with conn:
        assert conn.handshake is not None
        transcript = conn.transcript.format()
        if not conn.handshake.accepted:
            raise Violation(
                "the implementation refused a valid opening handshake whose Connection field carried 'Upgrade' and "
                "'keep-alive': RFC 6455 §4.2.1 asks only that it include the token 'Upgrade' (case-insensitive).",
                expected="101 Switching Protocols",
                observed=conn.handshake.status,
                transcript=transcript,
            )
        sent = b"".join(
            data for direction, data in conn.transcript.entries if direction == ">>" and isinstance(data, bytes)
        )
        received = next(data for direction, data in conn.transcript.entries if direction == "<<")
        assert isinstance(received, bytes)
        key = re.search(rb"Sec-WebSocket-Key: *(\S+)", sent)
        assert key is not None, "the kit's request carries no Sec-WebSocket-Key (a bug in the kit)"
        expected_accept = base64.b64encode(hashlib.sha1(key.group(1) + _GUID).digest()).decode("ascii")
        status, fields = _response_head(received)
        problems = []
        if status.split(" ")[1:2] != ["101"]:
            problems.append(f"the status line is {status!r}, not a 101")
        if fields.get("upgrade", "").lower() != "websocket":
            problems.append(f"Upgrade is {fields.get('upgrade')!r}, not 'websocket'")
        if "upgrade" not in [t.strip().lower() for t in fields.get("connection", "").split(",")]:
            problems.append(f"Connection is {fields.get('connection')!r}, without the token 'Upgrade'")
        if fields.get("sec-websocket-accept") != expected_accept:
            problems.append(f"Sec-WebSocket-Accept is {fields.get('sec-websocket-accept')!r}, not {expected_accept!r}")
        if problems:
            raise Violation(
                "the implementation accepted the opening handshake without all four parts of the server's opening "
                "handshake.",
                expected=f"a 101, Upgrade 'websocket', Connection with 'Upgrade', Sec-WebSocket-Accept {expected_accept!r}",
                observed="; ".join(problems),
                transcript=transcript,
            )
        # The connection is usable: the handshake really switched protocols.
        await conn.send_text("after the handshake")
        echoed = await conn.receive_message()
        if echoed != "after the handshake":
            raise Violation(
                "after the 101, the handshake did not leave a working WebSocket connection: an echo came back changed.",
                expected="'after the handshake'",
                observed=repr(echoed),
                transcript=conn.transcript,
            )
