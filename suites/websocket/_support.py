"""Shared pieces of the WebSocket checks: handlers, payloads, how a connection ended.

Rule: a check never sleeps to let a handler catch up. What a handler observed goes into
a `conformance.Trace`, and the check waits for it with ``Trace.wait_for`` (the kit's
deadline) or ``server.barrier()``.
"""

from __future__ import annotations

from typing import Any

from conformance import Implementation
from conformance.wire.ws import Closed

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
