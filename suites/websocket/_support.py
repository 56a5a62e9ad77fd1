"""Shared pieces of the WebSocket checks: handlers, payloads, and a way to read back
what a handler observed on the implementation's loop thread.

Rule: a check never sleeps to let a handler catch up. What a handler observed is put
in an `Observed`, and the check waits for it with the kit's deadline.
"""

from __future__ import annotations

import threading
from typing import Any

import anyio.to_thread

from conformance import Implementation, Timeout

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
    websocket = impl.part("websocket")

    class Echo(websocket.WebSocketHandler):
        def on_message(self, message: Any) -> None:
            self.write_message(message, binary=isinstance(message, bytes))

    return Echo


class Observed:
    """Values a handler records on the loop thread, read by the check on its own thread.

    Example::

        seen = Observed()
        class H(websocket.WebSocketHandler):
            def on_close(self): seen.add((self.close_code, self.close_reason))
        ...
        [(code, reason)] = await seen.wait_for(1, ws.timeout, "call on_close")
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._items: list[Any] = []

    def add(self, item: Any) -> None:
        with self._cond:
            self._items.append(item)
            self._cond.notify_all()

    @property
    def items(self) -> list[Any]:
        with self._cond:
            return list(self._items)

    async def wait_for(self, count: int, timeout: float, what: str) -> list[Any]:
        """The recorded values once there are ``count`` of them.

        Raises:
            Timeout: when fewer than ``count`` were recorded within ``timeout`` seconds;
                ``what`` completes "the implementation did not ...".
        """
        __tracebackhide__ = True

        def wait() -> bool:
            with self._cond:
                return self._cond.wait_for(lambda: len(self._items) >= count, timeout)

        if not await anyio.to_thread.run_sync(wait):
            raise Timeout(
                f"timeout: the implementation did not {what} within {timeout:g}s (--conformance-timeout); "
                f"recorded so far: {self.items!r}"
            )
        return self.items
