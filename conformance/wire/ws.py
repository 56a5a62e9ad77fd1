"""The WebSocket oracle peer: wsproto on the client side of every connection.

Rules:

1. The opening handshake and every frame the implementation sends are judged by
   wsproto; a frame wsproto refuses fails the check as a `ProtocolViolation`.
2. Negative checks inject raw frames (`frame`) that wsproto would never send, then
   observe how the implementation fails the connection: a close frame with a code
   (`Closed.code`) or a dropped TCP connection (`Closed.dropped`).
3. Every network operation has the deadline ``timeout``.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio.abc
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Message,
    Ping,
    Pong,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)
from wsproto.extensions import Extension
from wsproto.utilities import RemoteProtocolError

from ..errors import ProtocolViolation
from ._net import connect, receive_some, send_all, with_deadline
from ._transcript import Transcript

# Opcodes, RFC 6455 §5.2.
CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0, mask: bool = True) -> bytes:
    """One raw frame as RFC 6455 §5.2 lays it out, for injecting what wsproto would refuse.

    ``rsv`` is the three RSV bits as an int (0b100 = RSV1). Client frames are masked.
    """
    first = (0x80 if fin else 0) | ((rsv & 0b111) << 4) | (opcode & 0x0F)
    length = len(payload)
    mask_bit = 0x80 if mask else 0
    if length < 126:
        head = struct.pack("!BB", first, mask_bit | length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", first, mask_bit | 126, length)
    else:
        head = struct.pack("!BBQ", first, mask_bit | 127, length)
    if not mask:
        return head + payload
    key = os.urandom(4)
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return head + key + masked


@dataclass
class Handshake:
    """The implementation's answer to the opening handshake."""

    accepted: bool
    status: int
    headers: list[tuple[str, str]]
    subprotocol: str | None = None
    extensions: list[Extension] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k == name.lower()]
        return ", ".join(values) if values else None


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

    def __init__(self, message: str, closed: Closed) -> None:
        super().__init__(message)
        self.closed = closed


class WebSocketConnection:
    """A wsproto client connection to a WebSocket handler of the implementation."""

    def __init__(self, stream: anyio.abc.SocketStream, timeout: float, transcript: Transcript) -> None:
        self.stream = stream
        self.timeout = timeout
        self.transcript = transcript
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.pongs: list[bytes] = []  #: payloads of pongs received
        self.pings: list[bytes] = []  #: payloads of pings received (each answered)
        self.handshake: Handshake | None = None
        self.closed: Closed | None = None
        self._eof = False
        self._pending: list[Event] = []  # data events read but not yet consumed
        self._backlog: list[Event] = []  # wsproto events read but not yet processed

    # -- the opening handshake ----------------------------------------------------------
    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        path: str = "/",
        *,
        timeout: float,
        subprotocols: Sequence[str] = (),
        extensions: Sequence[Extension] = (),
        headers: Sequence[tuple[str, str]] = (),
    ) -> WebSocketConnection:
        transcript = Transcript()
        stream = await connect(host, port, timeout, transcript)
        conn = cls(stream, timeout, transcript)
        await conn._handshake(f"{host}:{port}", path, subprotocols, extensions, headers)
        return conn

    async def _handshake(
        self,
        host: str,
        path: str,
        subprotocols: Sequence[str],
        extensions: Sequence[Extension],
        headers: Sequence[tuple[str, str]],
    ) -> None:
        request = Request(
            host=host,
            target=path,
            subprotocols=list(subprotocols),
            extensions=list(extensions),
            extra_headers=[(k.encode(), v.encode()) for k, v in headers],
        )
        await self._send(self.ws.send(request))

        async def read() -> Handshake:
            rejected: Handshake | None = None
            while True:
                events = await self._events()
                while events:
                    event = events.pop(0)
                    if isinstance(event, AcceptConnection):
                        # Frames the handler sent in open() may share the 101's segment.
                        self._backlog.extend(events)
                        return Handshake(
                            True,
                            101,
                            [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in event.extra_headers],
                            event.subprotocol,
                            list(event.extensions),
                        )
                    if isinstance(event, RejectConnection):
                        rejected = Handshake(
                            False,
                            event.status_code,
                            [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in event.headers],
                        )
                        if not event.has_body:
                            return rejected
                    if isinstance(event, RejectData) and rejected is not None:
                        rejected.body += event.data
                        if event.body_finished:
                            return rejected
                if self._eof:
                    if rejected is not None:
                        return rejected
                    raise ProtocolViolation(
                        "the implementation closed the connection during the opening handshake without a response "
                        f"(RFC 6455 §4.2.2).\nbytes exchanged:\n{self.transcript.format()}"
                    )

        self.handshake = await with_deadline(
            self.timeout, "answer the WebSocket opening handshake", self.transcript, read
        )

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
    async def _events(self) -> list[Event]:
        data = await receive_some(self.stream, self.transcript)
        if not data:
            self._eof = True
        self.ws.receive_data(data or None)
        try:
            return list(self.ws.events())
        except RemoteProtocolError as exc:
            raise ProtocolViolation(
                f"wsproto rejected the implementation's handshake response: {exc}.\n"
                f"bytes exchanged:\n{self.transcript.format()}"
            ) from None

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
            if self._eof and event.code == 1006:
                # wsproto's stand-in for "TCP closed without a close frame" (RFC 6455 §7.1.5).
                self.closed = Closed(None, "", dropped=True)
            elif self.ws.state not in (ConnectionState.REMOTE_CLOSING, ConnectionState.CLOSED):
                raise ProtocolViolation(
                    f"wsproto rejected a frame from the implementation: {event.reason} "
                    f"(wsproto would fail the connection with {event.code}).\n"
                    f"bytes exchanged:\n{self.transcript.format()}"
                )
            else:
                if self.ws.state is ConnectionState.REMOTE_CLOSING:
                    await self._send(self.ws.send(event.response()))
                self.closed = Closed(event.code, event.reason or "")
        elif isinstance(event, (TextMessage, BytesMessage)):
            self._pending.append(event)

    async def _next_data_or_close(self) -> Event | Closed:
        """The next text/bytes event, or how the connection ended."""
        while True:
            if self._pending:
                return self._pending.pop(0)
            if self.closed is not None:
                return self.closed
            event = await self._next_event()
            if event is None:
                self.closed = Closed(None, "", dropped=True)
            else:
                await self._process(event)

    async def receive_pong(self) -> bytes:
        """Wait for the next pong and return its payload; messages on the way are kept."""
        __tracebackhide__ = True
        seen = len(self.pongs)

        async def read() -> bytes:
            while len(self.pongs) == seen:
                if self.closed is not None:
                    raise ConnectionClosedError(
                        f"expected a pong but the implementation ended the connection with {self.closed.describe()}.\n"
                        f"bytes exchanged:\n{self.transcript.format()}",
                        self.closed,
                    )
                event = await self._next_event()
                if event is None:
                    self.closed = Closed(None, "", dropped=True)
                else:
                    await self._process(event)
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
                    raise ConnectionClosedError(
                        f"expected a message but the implementation ended the connection with {event.describe()}.\n"
                        f"bytes exchanged:\n{self.transcript.format()}",
                        event,
                    )
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

    async def __aenter__(self) -> WebSocketConnection:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class WebSocketClient:
    """The ``ws`` fixture: opens wsproto connections to the check's server.

    Example::

        async def test_x(ws, server):
            srv = server.serve([("/ws", Echo)])
            async with await ws.connect(srv, "/ws") as conn:
                await conn.send_text("hi")
                assert await conn.receive_message() == "hi"
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.connections: list[WebSocketConnection] = []

    async def connect(self, target: Any, path: str = "/", **kwargs: Any) -> WebSocketConnection:
        conn = await WebSocketConnection.open(target.host, target.port, path, timeout=self.timeout, **kwargs)
        self.connections.append(conn)
        return conn

    async def open(self, target: Any, path: str = "/", **kwargs: Any) -> WebSocketConnection:
        """Like `connect`, but a refused handshake fails the check."""
        __tracebackhide__ = True
        conn = await self.connect(target, path, **kwargs)
        assert conn.handshake is not None
        if not conn.handshake.accepted:
            await conn.aclose()
            raise ProtocolViolation(
                f"the implementation refused the WebSocket handshake on {path} with status "
                f"{conn.handshake.status}; a 101 response was expected (RFC 6455 §4.2.2).\n"
                f"bytes exchanged:\n{conn.transcript.format()}"
            )
        return conn
