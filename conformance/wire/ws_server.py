"""The WebSocket oracle server: wsproto on the server side, for judging the implementation's client.

Rules:

1. The server runs on anyio in the check's own thread; the implementation's client runs
   on its own loop in its own thread. `WebSocketServer.converse` runs both at once and
   never lets one block the other: the kit's side is an anyio task, the implementation's
   side a blocking ``ioloop.call`` moved to a worker thread.
2. Every network operation has the deadline ``timeout``; when the kit's side fails it
   closes its socket, so the implementation's client sees the end of the connection
   instead of waiting for the loop deadline.
3. Every byte the client sent is kept (``ServerConnection.received``) and its frames can
   be parsed as they were on the wire (`RawFrame`), to judge what wsproto tolerates or
   never reports, such as the masking of client frames.
"""

from __future__ import annotations

import struct
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import anyio
import anyio.abc
import anyio.to_thread
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
    Request,
    TextMessage,
)
from wsproto.extensions import Extension
from wsproto.utilities import LocalProtocolError, RemoteProtocolError, generate_accept_token

from ..errors import LoopUnresponsive, ProtocolViolation
from ._net import receive_some, send_all, with_deadline
from ._transcript import Transcript
from .ws import Closed, ConnectionClosedError

T = TypeVar("T")


@dataclass
class RawFrame:
    """One frame as the client put it on the wire (RFC 6455 §5.2)."""

    fin: bool
    rsv: int
    opcode: int
    masked: bool
    payload: bytes  #: unmasked


def parse_frames(data: bytes) -> list[RawFrame]:
    """The complete frames in ``data`` (bytes sent after the opening handshake)."""
    frames: list[RawFrame] = []
    pos = 0
    while len(data) - pos >= 2:
        first, second = data[pos], data[pos + 1]
        length, head = second & 0x7F, 2
        if length == 126:
            if len(data) - pos < 4:
                break
            (length,) = struct.unpack("!H", data[pos + 2 : pos + 4])
            head = 4
        elif length == 127:
            if len(data) - pos < 10:
                break
            (length,) = struct.unpack("!Q", data[pos + 2 : pos + 10])
            head = 10
        masked = bool(second & 0x80)
        key = data[pos + head : pos + head + 4] if masked else b""
        start = pos + head + len(key)
        if len(data) < start + length:
            break
        payload = data[start : start + length]
        if masked:
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        frames.append(RawFrame(bool(first & 0x80), (first >> 4) & 0b111, first & 0x0F, masked, payload))
        pos = start + length
    return frames


class ServerConnection:
    """One connection from the implementation's client, judged by a wsproto server."""

    def __init__(self, stream: anyio.abc.SocketStream, timeout: float) -> None:
        self.stream = stream
        self.timeout = timeout
        self.transcript = Transcript()
        self.ws = WSConnection(ConnectionType.SERVER)
        self.received = bytearray()  #: every byte the client sent, handshake included
        self.request: Request | None = None
        self.closed: Closed | None = None
        self.pongs: list[bytes] = []
        self._eof = False
        self._backlog: list[Event] = []
        self._head_end: int | None = None

    # -- the opening handshake ----------------------------------------------------------
    async def receive_request(self) -> Request:
        """Read the client's opening handshake."""

        async def read() -> Request:
            while True:
                for event in await self._events():
                    if isinstance(event, Request):
                        self.request = event
                        return event
                    self._backlog.append(event)
                if self._eof:
                    raise ProtocolViolation(
                        "the implementation's client closed the connection before sending an opening handshake "
                        f"(RFC 6455 §4.1).\nbytes exchanged:\n{self.transcript.format()}"
                    )

        return await with_deadline(self.timeout, "send its opening handshake", self.transcript, read)

    def header(self, name: str) -> str | None:
        """A header field of the client's opening handshake (repeats joined with ", ")."""
        assert self.request is not None, "receive_request() first"
        values = [
            v.decode("latin-1") for k, v in self.request.extra_headers if k.decode("latin-1").lower() == name.lower()
        ]
        return ", ".join(values) if values else None

    async def accept(self, subprotocol: str | None = None, extensions: Sequence[Extension] = ()) -> None:
        """Answer the handshake with wsproto's 101 (reading the request first if need be)."""
        if self.request is None:
            await self.receive_request()
        try:
            data = self.ws.send(AcceptConnection(subprotocol=subprotocol, extensions=list(extensions)))
        except LocalProtocolError as exc:  # pragma: no cover - a misuse of the kit
            raise AssertionError(f"the kit's server could not accept the handshake: {exc}") from None
        self._head_end = len(self.received)
        await self._send(data)

    async def reject(self, status: int = 403) -> None:
        if self.request is None:
            await self.receive_request()
        await self._send(self.ws.send(RejectConnection(status_code=status)))

    def accept_token(self) -> str:
        """The Sec-WebSocket-Accept value the client's key calls for (RFC 6455 §4.2.2)."""
        key = self.header("Sec-WebSocket-Key") or ""
        return generate_accept_token(key.encode("latin-1")).decode("ascii")

    async def respond_raw(self, head: bytes) -> None:
        """Answer the handshake with hand-written bytes (a response wsproto would not send).

        After this, wsproto does not frame the connection; only `wait_eof` and `frames` apply.
        """
        if self.request is None:
            await self.receive_request()
        self._head_end = len(self.received)
        await self._send(head)

    # -- frames -------------------------------------------------------------------------
    async def _send(self, data: bytes) -> None:
        await with_deadline(
            self.timeout,
            "read the bytes sent to it",
            self.transcript,
            lambda: send_all(self.stream, data, self.transcript),
        )

    async def send_text(self, text: str) -> None:
        await self._send(self.ws.send(Message(data=text)))

    async def send_bytes(self, data: bytes) -> None:
        await self._send(self.ws.send(Message(data=data)))

    async def send_raw(self, data: bytes) -> None:
        await self._send(data)

    async def ping(self, payload: bytes = b"") -> None:
        await self._send(self.ws.send(Ping(payload=payload)))

    async def close(self, code: int = 1000, reason: str = "") -> Closed:
        """Start the closing handshake and return the client's answer."""
        await self._send(self.ws.send(CloseConnection(code=code, reason=reason)))
        return await self.wait_closed()

    def frames(self) -> list[RawFrame]:
        """The frames the client sent after the opening handshake, as they were on the wire."""
        start = self._head_end if self._head_end is not None else len(self.received)
        return parse_frames(bytes(self.received[start:]))

    # -- receiving ----------------------------------------------------------------------
    async def _events(self) -> list[Event]:
        data = await receive_some(self.stream, self.transcript)
        if not data:
            self._eof = True
        self.received.extend(data)
        self.ws.receive_data(data or None)
        try:
            return list(self.ws.events())
        except RemoteProtocolError as exc:
            raise ProtocolViolation(
                f"wsproto rejected the implementation client's opening handshake: {exc}.\n"
                f"bytes exchanged:\n{self.transcript.format()}"
            ) from None

    async def _next(self) -> Event | Closed:
        """The next text/bytes event (pings answered, pongs kept), or how the connection ended."""
        while True:
            if self.closed is not None:
                return self.closed
            while not self._backlog:
                if self._eof:
                    self.closed = Closed(None, "", dropped=True)
                    return self.closed
                self._backlog.extend(await self._events())
            event = self._backlog.pop(0)
            if isinstance(event, Ping):
                if self.ws.state is ConnectionState.OPEN:
                    await self._send(self.ws.send(event.response()))
            elif isinstance(event, Pong):
                self.pongs.append(bytes(event.payload))
            elif isinstance(event, CloseConnection):
                if self._eof and event.code == 1006:
                    self.closed = Closed(None, "", dropped=True)
                elif self.ws.state not in (ConnectionState.REMOTE_CLOSING, ConnectionState.CLOSED):
                    raise ProtocolViolation(
                        f"wsproto rejected a frame from the implementation's client: {event.reason} "
                        f"(wsproto would fail the connection with {event.code}).\n"
                        f"bytes exchanged:\n{self.transcript.format()}"
                    )
                else:
                    if self.ws.state is ConnectionState.REMOTE_CLOSING:
                        await self._send(self.ws.send(event.response()))
                    self.closed = Closed(event.code, event.reason or "")
            elif isinstance(event, (TextMessage, BytesMessage)):
                return event

    async def receive_message(self) -> str | bytes:
        """The next whole message from the client. A close instead fails the check."""
        __tracebackhide__ = True

        async def read() -> str | bytes:
            parts: list[Any] = []
            while True:
                event = await self._next()
                if isinstance(event, Closed):
                    raise ConnectionClosedError(
                        f"expected a message but the implementation's client ended the connection with "
                        f"{event.describe()}.\nbytes exchanged:\n{self.transcript.format()}",
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
                event = await self._next()
                if isinstance(event, Closed):
                    return event

        return await with_deadline(self.timeout, "close the WebSocket connection", self.transcript, read)

    async def wait_eof(self) -> None:
        """Read raw bytes until the client closes TCP (after `respond_raw`)."""

        async def read() -> None:
            while not self._eof:
                data = await receive_some(self.stream, self.transcript)
                self.received.extend(data)
                self._eof = not data

        await with_deadline(self.timeout, "close the connection", self.transcript, read)

    async def aclose(self) -> None:
        await self.stream.aclose()


@dataclass
class Conversation(Generic[T]):
    """What both sides of `WebSocketServer.converse` ended with."""

    kit: T  #: what the kit's side returned
    impl: Any  #: what the implementation's side returned (None if it raised)
    impl_error: BaseException | None  #: what the implementation's side raised


class WebSocketServer:
    """A wsproto server on loopback for the implementation's ``websocket_connect``.

    Example::

        async def test_x(impl, ioloop, conformance_timeout):
            websocket = impl.part("websocket")
            async with await WebSocketServer.listen(conformance_timeout) as kit:
                async def server_side(conn):
                    await conn.accept()
                    return await conn.receive_message()

                async def client_side():
                    client = await websocket.websocket_connect(kit.url("/"))
                    client.write_message("hi")

                talk = await kit.converse(server_side, client_side, ioloop.call)
                assert talk.kit == "hi"
    """

    def __init__(self, listener: anyio.abc.SocketListener, timeout: float) -> None:
        self.listener = listener
        self.timeout = timeout
        self.connections: list[ServerConnection] = []
        sockname = listener.extra(anyio.abc.SocketAttribute.local_address)
        self.host, self.port = str(sockname[0]), int(sockname[1])

    @classmethod
    async def listen(cls, timeout: float) -> WebSocketServer:
        multi = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
        listener = multi.listeners[0]  # one address (127.0.0.1): one socket listener
        assert isinstance(listener, anyio.abc.SocketListener)
        return cls(listener, timeout)

    def url(self, path: str = "/") -> str:
        return f"ws://{self.host}:{self.port}{path}"

    async def accept(self) -> ServerConnection:
        """The next TCP connection, with the deadline."""

        async def go() -> ServerConnection:
            stream = await self.listener.accept()
            return ServerConnection(stream, self.timeout)

        conn = await with_deadline(self.timeout, f"connect to the kit's server on {self.url()}", None, go)
        self.connections.append(conn)
        return conn

    async def converse(
        self,
        kit_side: Callable[[ServerConnection], Awaitable[T]],
        impl_side: Callable[[], Any],
        run_on_loop: Callable[[Callable[[], Any]], Any],
    ) -> Conversation[T]:
        """Run ``kit_side`` on the next connection while ``impl_side`` runs on the implementation's loop.

        Args:
            kit_side: the kit's server for one connection (an anyio coroutine function).
            impl_side: what the implementation does (usually a coroutine function calling
                ``websocket_connect``); it runs through ``run_on_loop``.
            run_on_loop: the blocking call that runs a function on the implementation's
                loop with the deadline: ``ioloop.call``. It runs in a worker thread.

        Returns:
            A `Conversation`; what the implementation's side raised is returned, not raised.

        Raises:
            Whatever the kit's side raised (a `Violation` or a `Timeout`), and
            `LoopUnresponsive` when the implementation's side never finished.
        """
        kit_result: list[T] = []
        kit_error: list[BaseException] = []
        accepted = anyio.Event()

        async def kit() -> None:
            conn = await self.accept()
            accepted.set()
            try:
                kit_result.append(await kit_side(conn))
            except Exception as exc:
                kit_error.append(exc)
                # Rule 2: a client waiting for the kit must see the connection end now.
                await conn.aclose()

        async with anyio.create_task_group() as tg:
            tg.start_soon(kit)
            impl_value: Any = None
            impl_error: BaseException | None = None
            try:
                impl_value = await anyio.to_thread.run_sync(run_on_loop, impl_side)
            except Exception as exc:
                impl_error = exc
            if not accepted.is_set():
                # The client gave up (or never tried) before connecting: nothing to serve.
                tg.cancel_scope.cancel()
        if kit_error:
            raise kit_error[0]
        if isinstance(impl_error, LoopUnresponsive):
            raise impl_error
        if not kit_result:
            raise ProtocolViolation(
                f"the implementation's client did not connect to {self.url()}; it ended with "
                f"{impl_error!r} before the kit's server could accept a connection"
            )
        return Conversation(kit_result[0], impl_value, impl_error)

    async def aclose(self) -> None:
        for conn in self.connections:
            await conn.aclose()
        await self.listener.aclose()

    async def __aenter__(self) -> WebSocketServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
