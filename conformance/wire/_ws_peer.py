"""One WebSocket peer, judged by wsproto, for both oracles: the kit as client and as server.

`WebSocketPeer` holds everything after the opening handshake, written once: sending
messages and control frames, assembling fragmented messages, answering pings, recording
pongs, the closing handshake and telling a close frame from a dropped TCP connection.
`ws.WebSocketConnection` (the kit as client) and `ws_server.ServerConnection` (the kit as
server) add only their side of the opening handshake.

Rules:

1. wsproto judges every frame the implementation sends; a frame it refuses (wsproto
   would fail the connection) fails the check as a `ProtocolViolation`.
2. Every network operation has the deadline ``timeout``; every byte either way goes
   into ``transcript``, which each violation carries as its ``transcript`` field.
3. A ping is answered while the connection is open; a close frame is answered while the
   kit has not sent its own; how the connection ended is kept in ``closed`` (`Closed`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio.abc
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import BytesMessage, CloseConnection, Event, Message, Ping, Pong, TextMessage
from wsproto.utilities import RemoteProtocolError

from ..errors import ProtocolViolation
from ._net import receive_some, send_all, with_deadline
from ._transcript import Transcript

#: wsproto's close event for "TCP closed without a close frame" (RFC 6455 §7.1.5).
_ABNORMAL = 1006

_Peer = TypeVar("_Peer", bound="WebSocketPeer")


@dataclass
class Closed:
    """How the connection ended: a close frame (``code``/``reason``) or a TCP drop."""

    code: int | None
    reason: str
    dropped: bool = False  #: True when TCP closed without a close frame

    def describe(self) -> str:
        if self.dropped:
            return "the TCP connection was dropped without a close frame"
        if self.code is None:
            return "a close frame with no status code"
        return f"a close frame with code {self.code} and reason {self.reason!r}"


class ConnectionClosedError(ProtocolViolation):
    """A message was expected but the connection ended."""

    def __init__(self, message: str, closed: Closed, *, transcript: Any = None) -> None:
        super().__init__(message, transcript=transcript)
        self.closed = closed


class WebSocketPeer:
    """The kit's end of one WebSocket connection, after (and around) the opening handshake.

    Subclasses set ``peer`` (how messages name the implementation's end) and ``opening``
    (what wsproto judged if it raises while reading), and write the handshake.
    """

    peer = "the implementation"
    opening = "the implementation's opening handshake"

    def __init__(
        self, stream: anyio.abc.ByteStream, timeout: float, transcript: Transcript, role: ConnectionType
    ) -> None:
        self.stream = stream
        self.timeout = timeout
        self.transcript = transcript
        self.ws = WSConnection(role)
        self.pongs: list[bytes] = []  #: payloads of pongs received
        self.pings: list[bytes] = []  #: payloads of pings received (each answered while open)
        self.closed: Closed | None = None
        self._eof = False
        self._pending: list[Event] = []  # data events read but not yet consumed
        self._backlog: list[Event] = []  # wsproto events read but not yet processed

    # -- sending ----------------------------------------------------------------------
    async def _send(self, data: bytes) -> bool:
        return await with_deadline(
            self.timeout,
            "read the bytes sent to it",
            self.transcript,
            lambda: send_all(self.stream, data, self.transcript),
        )

    async def send_text(self, text: str) -> None:
        await self._send(self.ws.send(Message(data=text)))

    async def send_bytes(self, data: bytes) -> None:
        await self._send(self.ws.send(Message(data=data)))

    async def send_fragments(self, fragments: Sequence[str] | Sequence[bytes]) -> None:
        """One message sent as ``len(fragments)`` frames (RFC 6455 §5.4)."""
        for i, part in enumerate(fragments):
            event: Message[Any] = Message(data=part, message_finished=i == len(fragments) - 1)
            await self._send(self.ws.send(event))

    async def ping(self, payload: bytes = b"") -> None:
        await self._send(self.ws.send(Ping(payload=payload)))

    async def pong(self, payload: bytes = b"") -> None:
        await self._send(self.ws.send(Pong(payload=payload)))

    async def send_raw(self, data: bytes) -> bool:
        """Inject raw bytes (see `frame`); wsproto's own state is not told."""
        return await self._send(data)

    async def close(self, code: int = 1000, reason: str = "") -> Closed:
        """Start the closing handshake and return the implementation's answer."""
        await self._send(self.ws.send(CloseConnection(code=code, reason=reason)))
        return await self.wait_closed()

    # -- receiving ----------------------------------------------------------------------
    async def _read(self) -> bytes:
        """Bytes from the socket (b"" at the end of the stream, remembered in ``_eof``)."""
        data = await receive_some(self.stream, self.transcript)
        if not data:
            self._eof = True
        return data

    async def _events(self) -> list[Event]:
        data = await self._read()
        self.ws.receive_data(data or None)
        try:
            return list(self.ws.events())
        except RemoteProtocolError as exc:
            raise ProtocolViolation(f"wsproto rejected {self.opening}: {exc}.", transcript=self.transcript) from None

    async def _next_event(self) -> Event | None:
        """The next wsproto event, reading from the socket when none is left; None at EOF."""
        while not self._backlog:
            if self._eof:
                return None
            self._backlog.extend(await self._events())
        return self._backlog.pop(0)

    async def _process(self, event: Event) -> None:
        """Answer pings, record pongs, queue data, and note how the connection ended."""
        if isinstance(event, Ping):
            self.pings.append(bytes(event.payload))
            if self.ws.state is ConnectionState.OPEN:
                await self._send(self.ws.send(event.response()))
        elif isinstance(event, Pong):
            self.pongs.append(bytes(event.payload))
        elif isinstance(event, CloseConnection):
            if self._eof and event.code == _ABNORMAL:
                self.closed = Closed(None, "", dropped=True)
            elif self.ws.state not in (ConnectionState.REMOTE_CLOSING, ConnectionState.CLOSED):
                raise ProtocolViolation(
                    f"wsproto rejected a frame from {self.peer}: {event.reason} "
                    f"(wsproto would fail the connection with {event.code}).",
                    transcript=self.transcript,
                )
            else:
                if self.ws.state is ConnectionState.REMOTE_CLOSING:
                    await self._send(self.ws.send(event.response()))
                self.closed = Closed(event.code, event.reason or "")
        elif isinstance(event, (TextMessage, BytesMessage)):
            self._pending.append(event)

    async def _step(self) -> None:
        """Read and process one event; at EOF, the connection was dropped."""
        event = await self._next_event()
        if event is None:
            self.closed = Closed(None, "", dropped=True)
        else:
            await self._process(event)

    async def _next_data_or_close(self) -> Event | Closed:
        """The next text/bytes event, or how the connection ended."""
        while True:
            if self._pending:
                return self._pending.pop(0)
            if self.closed is not None:
                return self.closed
            await self._step()

    def _ended(self, expected: str, closed: Closed) -> ConnectionClosedError:
        return ConnectionClosedError(
            f"expected {expected} but {self.peer} ended the connection with {closed.describe()}.",
            closed,
            transcript=self.transcript,
        )

    async def receive_pong(self) -> bytes:
        """Wait for the next pong and return its payload; messages on the way are kept."""
        __tracebackhide__ = True
        seen = len(self.pongs)

        async def read() -> bytes:
            while len(self.pongs) == seen:
                if self.closed is not None:
                    raise self._ended("a pong", self.closed)
                await self._step()
            return self.pongs[seen]

        return await with_deadline(self.timeout, "answer a ping with a pong", self.transcript, read)

    async def receive_message(self) -> str | bytes:
        """The next whole message (fragments joined). A close instead fails the check."""
        __tracebackhide__ = True

        async def read() -> str | bytes:
            parts: list[Any] = []
            while True:
                event = await self._next_data_or_close()
                if isinstance(event, Closed):
                    raise self._ended("a message", event)
                assert isinstance(event, (TextMessage, BytesMessage))
                parts.append(event.data)
                if event.message_finished:
                    return "".join(parts) if isinstance(event, TextMessage) else b"".join(parts)

        return await with_deadline(self.timeout, "send a WebSocket message", self.transcript, read)

    async def wait_closed(self) -> Closed:
        """Read until the connection ends; messages on the way are discarded."""

        async def read() -> Closed:
            while True:
                event = await self._next_data_or_close()
                if isinstance(event, Closed):
                    return event

        return await with_deadline(self.timeout, "close the WebSocket connection", self.transcript, read)

    async def aclose(self) -> None:
        await self.stream.aclose()

    async def __aenter__(self: _Peer) -> _Peer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
