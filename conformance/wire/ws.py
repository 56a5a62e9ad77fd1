"""The WebSocket oracle peer: wsproto on the client side of every connection.

Rules:

1. The opening handshake and every frame the implementation sends are judged by
   wsproto; a frame wsproto refuses fails the check as a `ProtocolViolation`.
2. Negative checks inject raw frames (`frame`) that wsproto would never send, then
   observe how the implementation fails the connection: a close frame with a code
   (`Closed.code`) or a dropped TCP connection (`Closed.dropped`).
3. Every network operation has the deadline ``timeout``.

This module holds only the client's side of the opening handshake; what follows it
(messages, pings, the closing handshake) is `_ws_peer.WebSocketPeer`, shared with the
kit's server (`ws_server`).
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio.abc
from wsproto import ConnectionType
from wsproto.events import AcceptConnection, RejectConnection, RejectData, Request
from wsproto.extensions import Extension

from ..errors import ProtocolViolation
from ._fields import FieldLookup
from ._net import connect, with_deadline
from ._transcript import Transcript
from ._ws_frames import BINARY as BINARY
from ._ws_frames import CLOSE as CLOSE
from ._ws_frames import CONTINUATION as CONTINUATION
from ._ws_frames import PING as PING
from ._ws_frames import PONG as PONG
from ._ws_frames import TEXT as TEXT
from ._ws_frames import frame as frame
from ._ws_peer import Closed as Closed
from ._ws_peer import ConnectionClosedError as ConnectionClosedError
from ._ws_peer import WebSocketPeer


def _fields(headers: Sequence[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in headers]


@dataclass
class Handshake(FieldLookup):
    """The implementation's answer to the opening handshake."""

    accepted: bool
    status: int
    headers: list[tuple[str, str]]  #: names lower-cased
    subprotocol: str | None = None
    extensions: list[Extension] = field(default_factory=list)
    body: bytes = b""


class WebSocketConnection(WebSocketPeer):
    """A wsproto client connection to a WebSocket handler of the implementation."""

    opening = "the implementation's handshake response"

    def __init__(self, stream: anyio.abc.ByteStream, timeout: float, transcript: Transcript) -> None:
        super().__init__(stream, timeout, transcript, ConnectionType.CLIENT)
        self.handshake: Handshake | None = None

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
        ssl_context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
    ) -> WebSocketConnection:
        """Connect and send the opening handshake (over TLS, wss, with ``ssl_context``)."""
        transcript = Transcript()
        stream = await connect(
            host, port, timeout, transcript, ssl_context=ssl_context, server_hostname=server_hostname
        )
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
                        fields = _fields(event.extra_headers)
                        return Handshake(True, 101, fields, event.subprotocol, list(event.extensions))
                    if isinstance(event, RejectConnection):
                        rejected = Handshake(False, event.status_code, _fields(event.headers))
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
                        "(RFC 6455 §4.2.2).",
                        transcript=self.transcript,
                    )

        self.handshake = await with_deadline(
            self.timeout, "answer the WebSocket opening handshake", self.transcript, read
        )


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
                f"the implementation refused the WebSocket handshake on {path}; a 101 response was expected "
                "(RFC 6455 §4.2.2).",
                expected="status 101",
                observed=f"status {conn.handshake.status}",
                transcript=conn.transcript,
            )
        return conn
