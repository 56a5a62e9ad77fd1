"""Deadlines around every network operation, on anyio (trio or asyncio).

Rules:

1. Every wait on the implementation goes through `with_deadline`; a wait that outlives
   ``timeout`` is the implementation's *timeout* verdict (`conformance.Timeout`), with
   the bytes exchanged so far as the violation's transcript.
2. A connection the implementation closed or reset is not an error here: `receive_some`
   returns b"" and `send_all` False, and the transcript notes it; the caller judges.
3. Every connection `connect` opens inside a `client_scope` is closed when the scope
   ends, however it ends (a check that timed out included): the kit leaves no socket
   behind, even when a check never reached its own ``aclose``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import anyio
import anyio.abc

from ..errors import Timeout
from ._transcript import Transcript

T = TypeVar("T")

#: How a timeout names the implementation, and what it should have done, by default.
SERVER = ("the implementation", "a conforming server answers at once")

#: The streams `connect` opened in the current `client_scope` (None outside one).
_OPENED: ContextVar[list[anyio.abc.SocketStream] | None] = ContextVar("conformance_opened_streams", default=None)


@asynccontextmanager
async def client_scope() -> AsyncIterator[None]:
    """Close, when the block ends, every stream `connect` opened inside it (and its tasks)."""
    opened: list[anyio.abc.SocketStream] = []
    token = _OPENED.set(opened)
    try:
        yield
    finally:
        _OPENED.reset(token)
        for stream in opened:
            await anyio.aclose_forcefully(stream)  # closing a closed stream does nothing


async def with_deadline(
    timeout: float,
    what: str,
    transcript: Transcript | None,
    operation: Callable[[], Awaitable[T]],
    *,
    actor: tuple[str, str] = SERVER,
) -> T:
    """Run ``operation`` or fail the check with a *timeout* verdict after ``timeout`` s.

    ``actor`` is (who did not act, what a conforming one does), for the message.
    """
    __tracebackhide__ = True
    with anyio.move_on_after(timeout) as scope:
        return await operation()
    assert scope.cancel_called
    who, norm = actor
    raise Timeout(f"{who} did not {what} within {timeout:g}s (--conformance-timeout); {norm}.", transcript=transcript)


async def connect(host: str, port: int, timeout: float, transcript: Transcript) -> anyio.abc.SocketStream:
    async def go() -> Any:
        return await anyio.connect_tcp(host, port)

    stream: anyio.abc.SocketStream = await with_deadline(
        timeout, f"accept a TCP connection on {host}:{port}", transcript, go
    )
    opened = _OPENED.get()
    if opened is not None:
        opened.append(stream)
    return stream


async def receive_some(stream: anyio.abc.ByteStream, transcript: Transcript) -> bytes:
    """Receive what is there; b"" means the peer closed (or reset) the connection."""
    try:
        data = await stream.receive(65536)
    except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, ConnectionError):
        transcript.note("connection closed by the implementation")
        return b""
    transcript.received(data)
    return data


async def send_all(stream: anyio.abc.ByteStream, data: bytes, transcript: Transcript) -> bool:
    """Send ``data``; False when the peer had already closed the connection."""
    transcript.sent(data)
    try:
        await stream.send(data)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError, ConnectionError):
        transcript.note("send failed: connection closed by the implementation")
        return False
    return True
