"""Deadlines around every network operation, on anyio (trio or asyncio)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import anyio.abc

from ..errors import Timeout
from ._transcript import Transcript

T = TypeVar("T")


async def with_deadline(
    timeout: float, what: str, transcript: Transcript | None, operation: Callable[[], Awaitable[T]]
) -> T:
    """Run ``operation`` or fail the check with a *timeout* verdict after ``timeout`` s."""
    __tracebackhide__ = True
    with anyio.move_on_after(timeout) as scope:
        return await operation()
    assert scope.cancel_called
    shown = f"\nbytes exchanged:\n{transcript.format()}" if transcript is not None else ""
    raise Timeout(
        f"the implementation did not {what} within {timeout:g}s "
        f"(--conformance-timeout); a conforming server answers at once.{shown}"
    )


async def connect(host: str, port: int, timeout: float, transcript: Transcript) -> anyio.abc.SocketStream:
    async def go() -> Any:
        return await anyio.connect_tcp(host, port)

    stream: anyio.abc.SocketStream = await with_deadline(
        timeout, f"accept a TCP connection on {host}:{port}", transcript, go
    )
    return stream


async def receive_some(stream: anyio.abc.SocketStream, transcript: Transcript) -> bytes:
    """Receive what is there; b"" means the peer closed (or reset) the connection."""
    try:
        data = await stream.receive(65536)
    except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, ConnectionError):
        transcript.note("connection closed by the implementation")
        return b""
    transcript.received(data)
    return data


async def send_all(stream: anyio.abc.SocketStream, data: bytes, transcript: Transcript) -> bool:
    """Send ``data``; False when the peer had already closed the connection."""
    transcript.sent(data)
    try:
        await stream.send(data)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError, ConnectionError):
        transcript.note("send failed: connection closed by the implementation")
        return False
    return True
