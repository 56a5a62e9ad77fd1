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
4. TLS (``ssl_context=``) is anyio's: the handshake is part of `connect` and has its
   deadline; a handshake that fails is `TLSHandshakeFailed`, a violation the check may
   catch when a refusal is what it expects. The end of the TCP stream ends a TLS stream
   too (no close_notify needed: servers rarely send one).
5. On Linux the kit's end of every connection acknowledges each segment at once
   (``TCP_QUICKACK``, set before every `receive_some`: the kernel leaves quick-ACK mode on
   its own). An implementation that writes twice in a row with Nagle's algorithm on
   otherwise holds its second write until the kit's delayed ACK, about 40 ms later: time
   spent, never a verdict (no check judges how the implementation's writes are timed).
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import anyio
import anyio.abc
from anyio.streams.tls import TLSStream

from ..errors import ProtocolViolation, Timeout
from ._transcript import Transcript

T = TypeVar("T")

#: How a timeout names the implementation, and what it should have done, by default.
SERVER = ("the implementation", "a conforming server answers at once")

#: The streams `connect` opened in the current `client_scope` (None outside one).
_OPENED: ContextVar[list[anyio.abc.ByteStream] | None] = ContextVar("conformance_opened_streams", default=None)


@asynccontextmanager
async def client_scope() -> AsyncIterator[None]:
    """Close, when the block ends, every stream `connect` opened inside it (and its tasks)."""
    opened: list[anyio.abc.ByteStream] = []
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


class TLSHandshakeFailed(ProtocolViolation):
    """The TLS handshake on a new connection failed (``error`` is what the TLS layer said)."""

    def __init__(self, what: str, error: BaseException, transcript: Transcript) -> None:
        self.error = error
        super().__init__(what, transcript=transcript)


#: What a failed handshake raises, by backend and by how far it got.
_HANDSHAKE_ERRORS = (ssl.SSLError, anyio.BrokenResourceError, anyio.EndOfStream, ConnectionError)


async def connect(
    host: str,
    port: int,
    timeout: float,
    transcript: Transcript,
    *,
    ssl_context: ssl.SSLContext | None = None,
    server_hostname: str | None = None,
) -> anyio.abc.ByteStream:
    """A TCP connection to ``host:port``; with ``ssl_context``, a TLS connection on it whose
    SNI name and checked identity are ``server_hostname`` (default: ``host``)."""

    async def go() -> Any:
        return await anyio.connect_tcp(host, port)

    stream: anyio.abc.ByteStream = await with_deadline(
        timeout, f"accept a TCP connection on {host}:{port}", transcript, go
    )
    opened = _OPENED.get()
    if opened is not None:
        opened.append(stream)
    if ssl_context is not None:
        name = server_hostname or host

        async def handshake() -> Any:
            return await TLSStream.wrap(stream, hostname=name, ssl_context=ssl_context, standard_compatible=False)

        try:
            stream = await with_deadline(timeout, "finish the TLS handshake", transcript, handshake)
        except _HANDSHAKE_ERRORS as exc:
            await anyio.aclose_forcefully(stream)
            transcript.note(f"TLS handshake failed: {type(exc).__name__}: {exc}")
            raise TLSHandshakeFailed(
                f"the TLS handshake with {host}:{port} (server name {name!r}) failed: {type(exc).__name__}: {exc}",
                exc,
                transcript,
            ) from None
        transcript.note(f"TLS handshake done (server name {name!r})")
        if opened is not None:
            opened.append(stream)
    return stream


#: Linux's TCP_QUICKACK (rule 5); None elsewhere.
_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)


def _acknowledge_at_once(stream: anyio.abc.ByteStream) -> None:
    """Rule 5: the next segments the kit receives on ``stream`` are acknowledged at once."""
    if _QUICKACK is None:
        return
    sock = stream.extra(anyio.abc.SocketAttribute.raw_socket, None)
    if sock is None:
        return
    try:
        sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
    except OSError:
        pass  # closed already: the receive says so


async def receive_some(stream: anyio.abc.ByteStream, transcript: Transcript) -> bytes:
    """Receive what is there; b"" means the peer closed (or reset) the connection."""
    _acknowledge_at_once(stream)
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
