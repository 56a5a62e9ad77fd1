"""Shared pieces of the WebSocket checks: handlers, payloads, how a connection ended.

Rule: a check never sleeps to let a handler catch up. What a handler observed goes into
a `conformance.Trace`, and the check waits for it with ``Trace.wait_for`` (the kit's
deadline) or ``server.barrier()``.
"""

from __future__ import annotations

from typing import Any

from conformance import Implementation, NonStrict, Violation
from conformance.wire.ws import Closed, ConnectionClosedError, WebSocketConnection

#: RFC 6455 §7.4.1: "designated for use in applications expecting a status code to indicate
#: that the connection was closed abnormally"; never sent in a close frame.
ABNORMAL_CLOSURE = 1006

#: Bytes that are not UTF-8, so a binary payload delivered as text cannot pass unnoticed.
_BINARY_PATTERN = bytes(range(256))
_TEXT_PATTERN = "The quick brown fox jumps over the lazy dog. 0123456789 "


def text_payload(size: int) -> str:
    """An ASCII text of exactly ``size`` bytes (so ``size`` is also its frame length)."""
    return (_TEXT_PATTERN * (size // len(_TEXT_PATTERN) + 1))[:size]


def binary_payload(size: int) -> bytes:
    """``size`` bytes cycling through every byte value (not valid UTF-8 from 128 on)."""
    return (_BINARY_PATTERN * (size // len(_BINARY_PATTERN) + 1))[:size]


def describe_message(message: str | bytes) -> str:
    """``a text message of 5 bytes ('hello')``: how failure messages name a message."""
    kind = "text" if isinstance(message, str) else "binary"
    size = len(message.encode("utf-8")) if isinstance(message, str) else len(message)
    shown = repr(message) if size <= 40 else f"{message[:20]!r}...{message[-8:]!r}"
    return f"a {kind} message of {size} bytes ({shown})"


def echo_handler(impl: Implementation) -> type:
    """A handler that sends every message back with the type it arrived with."""
    websocket: Any = impl.part("websocket")

    class Echo(websocket.WebSocketHandler):
        def on_message(self, message: Any) -> None:
            self.write_message(message, binary=isinstance(message, bytes))

    return Echo


def dropped(closed: Closed) -> bool:
    """Whether the connection ended without a close frame from the implementation.

    wsproto reports a TCP close as a close event with code 1006, which the kit's peer
    passes on as if it were a close frame; RFC 6455 §7.4.1 forbids 1006 in a close frame,
    so a 1006 can only mean a dropped connection.
    """
    return closed.dropped or closed.code == ABNORMAL_CLOSURE


def how_it_ended(closed: Closed) -> str:
    """``closed.describe()``, with a dropped connection told as such (see `dropped`)."""
    if dropped(closed):
        return "the TCP connection dropped without a close frame"
    return closed.describe()


def recorder_handler(impl: Implementation, trace: Any) -> type:
    """An echo handler that also records every message ``on_message`` receives in ``trace``."""
    websocket: Any = impl.part("websocket")

    class Recorder(websocket.WebSocketHandler):
        def on_message(self, message: Any) -> None:
            trace.add(message)
            self.write_message(message, binary=isinstance(message, bytes))

    return Recorder


#: The text sent after a defective frame: an echo of it means the connection was not failed.
PROBE = "probe sent after the defect"


async def expect_failed_connection(conn: WebSocketConnection, *, code: int, sent: str) -> Closed:
    """Judge a connection that ``sent`` should have failed, strictly with close ``code``.

    A probe message follows the defect; an echo of it means the connection went on (a
    failure). How it ended is then judged by `judge_failed_connection`.
    """
    __tracebackhide__ = True
    await conn.send_text(PROBE)
    try:
        message = await conn.receive_message()
    except ConnectionClosedError as exc:
        return judge_failed_connection(conn, exc.closed, code=code, sent=sent)
    raise Violation(
        f"the client sent {sent}, then the text {PROBE!r}; the implementation kept the connection open.",
        expected=f"the connection failed with a close frame carrying {code}",
        observed=f"an answer to the probe: {describe_message(message)}",
        transcript=conn.transcript,
    )


def judge_failed_connection(conn: WebSocketConnection, closed: Closed, *, code: int, sent: str) -> Closed:
    """Judge how a connection that ``sent`` should have failed ended, strictly with ``code``.

    A close frame with ``code`` passes; a TCP drop, or a close frame with another error
    code, met the rule's intent but not its strict form (`NonStrict`); a normal closure
    (1000, 1001, no code) is a failure. The rule is the check's own ``@check``.
    """
    __tracebackhide__ = True
    expected = f"the connection failed with a close frame carrying {code}"
    if dropped(closed):
        raise NonStrict(
            f"the client sent {sent}; the implementation failed the connection by dropping TCP without a close "
            "frame (strictly, a close frame: RFC 6455 §7.1.7, §7.4.1).",
            expected=expected,
            observed=how_it_ended(closed),
            transcript=conn.transcript,
        )
    if closed.code in (1000, 1001, None, 1005):
        raise Violation(
            f"the client sent {sent}; the implementation ended the connection with a normal closure instead of "
            "failing it (RFC 6455 §7.4.1).",
            expected=expected,
            observed=how_it_ended(closed),
            transcript=conn.transcript,
        )
    if closed.code != code:
        raise NonStrict(
            f"the client sent {sent}; the implementation failed the connection with another close code than the "
            "strict one (RFC 6455 §7.4.1).",
            expected=expected,
            observed=how_it_ended(closed),
            transcript=conn.transcript,
        )
    return closed


def compressing_echo_handler(impl: Implementation, **options: Any) -> type:
    """An echo handler that enables permessage-deflate (``get_compression_options``)."""
    base = echo_handler(impl)

    class CompressingEcho(base):  # type: ignore[valid-type,misc]
        def get_compression_options(self) -> dict[str, Any]:
            return dict(options)

    return CompressingEcho


def handshake_fields(conn: WebSocketConnection) -> dict[str, str]:
    """The header fields of the implementation's 101 as sent (names lower-cased, repeats joined).

    wsproto keeps the negotiation fields (subprotocol, extensions) to itself, so the checks
    of negotiation read them from the bytes received.
    """
    received = b"".join(d for direction, d in conn.transcript.entries if direction == "<<" and isinstance(d, bytes))
    head = received.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    fields: dict[str, str] = {}
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        fields[key] = f"{fields[key]}, {value.strip()}" if key in fields else value.strip()
    return fields


async def answer_the_handshake_with_a_redirect(kit: Any, status: str, location: str) -> None:
    """Serve ``kit`` (a `WebSocketServer`): the first opening handshake gets a complete
    ``status`` response with ``Location: location`` and ``Content-Length: 0``; a client that
    follows it is served (and so connects) on every later connection, for as long as the
    caller's task group runs."""
    from conformance.wire.ws_server import ServerConnection

    conn = await kit.accept()
    await conn.receive_request()
    await conn.respond_raw(f"HTTP/1.1 {status}\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode())
    while True:
        follower = ServerConnection(await kit.listener.accept(), kit.timeout)
        kit.connections.append(follower)
        await follower.accept()
