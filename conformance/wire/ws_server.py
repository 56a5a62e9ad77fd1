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

This module holds only the server's side of the opening handshake; what follows it
(messages, pings, the closing handshake) is `_ws_peer.WebSocketPeer`, shared with the
kit's client (`ws`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import anyio
import anyio.abc
import anyio.to_thread
from wsproto import ConnectionType
from wsproto.events import AcceptConnection, Event, Ping, RejectConnection, Request
from wsproto.extensions import Extension
from wsproto.utilities import LocalProtocolError, generate_accept_token

from ..errors import LoopUnresponsive, ProtocolViolation
from ._net import with_deadline
from ._transcript import Transcript
from ._ws_frames import RawFrame as RawFrame
from ._ws_frames import parse_frames as parse_frames
from ._ws_peer import Closed as Closed
from ._ws_peer import WebSocketPeer

T = TypeVar("T")


class ServerConnection(WebSocketPeer):
    """One connection from the implementation's client, judged by a wsproto server."""

    peer = "the implementation's client"
    opening = "the implementation client's opening handshake"

    def __init__(self, stream: anyio.abc.ByteStream, timeout: float) -> None:
        super().__init__(stream, timeout, Transcript(), ConnectionType.SERVER)
        self.received = bytearray()  #: every byte the client sent, handshake included
        self.request: Request | None = None
        self._head_end: int | None = None
        #: Whether pings are answered (set False to play a peer that never answers them).
        self.answer_pings = True

    async def _read(self) -> bytes:
        data = await super()._read()
        self.received.extend(data)
        return data

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
                        "(RFC 6455 §4.1).",
                        transcript=self.transcript,
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

    async def _process(self, event: Event) -> None:
        if isinstance(event, Ping) and not self.answer_pings:
            self.pings.append(bytes(event.payload))  # recorded, never answered
            return
        await super()._process(event)

    async def receive_ping(self) -> bytes:
        """Wait for the next ping from the client and return its payload; messages on the way are kept."""
        seen = len(self.pings)

        async def read() -> bytes:
            while len(self.pings) == seen:
                if self.closed is not None:
                    raise self._ended("a ping", self.closed)
                await self._step()
            return self.pings[seen]

        return await with_deadline(self.timeout, "send a ping", self.transcript, read)

    def frames(self) -> list[RawFrame]:
        """The frames the client sent after the opening handshake, as they were on the wire."""
        start = self._head_end if self._head_end is not None else len(self.received)
        return parse_frames(bytes(self.received[start:]))

    async def wait_eof(self) -> None:
        """Read raw bytes until the client closes TCP (after `respond_raw`)."""

        async def read() -> None:
            while not self._eof:
                await self._read()

        await with_deadline(self.timeout, "close the connection", self.transcript, read)


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
