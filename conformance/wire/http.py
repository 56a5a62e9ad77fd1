"""The HTTP/1.1 oracle client: send structured requests or raw bytes, judge every
response byte with h11.

Rules:

1. Every response is parsed by h11. Anything h11 refuses (bad framing, bad syntax)
   fails the check as a `ProtocolViolation` that quotes h11's error and the bytes.
2. Requests may be sent as raw bytes, split into chosen segments and pipelined; h11
   still parses the responses, because each response is read by a fresh h11 client
   connection told which method it answers (so HEAD and 1xx framing are right).
3. Every network operation has the deadline ``timeout``.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio.abc
import h11

from ..errors import ProtocolViolation
from ._fields import FieldLookup
from ._h11 import read_message
from ._net import connect, receive_some, send_all, with_deadline
from ._transcript import Transcript

Headers = Sequence[tuple[str, str]]


@dataclass
class Response(FieldLookup):
    """One response, as h11 parsed it."""

    status: int
    reason: str
    http_version: str
    headers: list[tuple[str, str]]  #: names lower-cased, as h11 normalises them
    body: bytes = b""
    informational: list[int] = field(default_factory=list)  #: 1xx status codes before it
    keep_alive: bool = True  #: False when h11 reads the response as closing the connection

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def describe(self) -> str:
        return f"HTTP/{self.http_version} {self.status} {self.reason}"


class HTTPConnection:
    """One TCP connection to the implementation, spoken to by an h11-judged client."""

    def __init__(self, stream: anyio.abc.ByteStream, host: str, port: int, timeout: float, transcript: Transcript):
        self.stream = stream
        self.host = host
        self.port = port
        self.timeout = timeout
        self.transcript = transcript
        self._buffer = b""  # bytes received but not yet given to an h11 parser
        self._eof = False
        self.responses_received = 0

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        timeout: float,
        *,
        ssl_context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
    ) -> HTTPConnection:
        """Connect (over TLS with ``ssl_context``; a failed handshake raises `TLSHandshakeFailed`)."""
        transcript = Transcript()
        stream = await connect(
            host, port, timeout, transcript, ssl_context=ssl_context, server_hostname=server_hostname
        )
        return cls(stream, host, port, timeout, transcript)

    async def __aenter__(self) -> HTTPConnection:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.stream.aclose()

    # -- sending ----------------------------------------------------------------------
    async def send(self, data: bytes | Iterable[bytes]) -> bool:
        """Send raw bytes, or several segments one after another (each its own write).

        Returns False when the implementation had already closed the connection.
        """
        segments = [data] if isinstance(data, (bytes, bytearray)) else list(data)
        for segment in segments:
            ok = await with_deadline(
                self.timeout,
                "read the bytes sent to it",
                self.transcript,
                lambda s=segment: send_all(self.stream, bytes(s), self.transcript),  # type: ignore[misc]
            )
            if not ok:
                return False
        return True

    async def send_request(
        self, method: str = "GET", target: str = "/", headers: Headers = (), body: bytes = b""
    ) -> bool:
        """Send a well-formed HTTP/1.1 request built by h11 (Host and framing added when absent)."""
        return await self.send(build_request(method, target, headers, body, host=f"{self.host}:{self.port}"))

    async def request(
        self, method: str = "GET", target: str = "/", headers: Headers = (), body: bytes = b""
    ) -> Response:
        """Send a well-formed request and return its response (a check fails if there is none)."""
        __tracebackhide__ = True
        await self.send_request(method, target, headers, body)
        return await self.receive_response(method)

    # -- receiving --------------------------------------------------------------------
    async def receive_response(self, method: str = "GET") -> Response:
        """The next response; a closed connection instead fails the check."""
        __tracebackhide__ = True
        response = await self.response_or_close(method)
        if response is None:
            raise ProtocolViolation(
                f"the implementation closed the connection without sending a response to the {method} request.",
                transcript=self.transcript,
            )
        return response

    async def response_or_close(self, method: str = "GET") -> Response | None:
        """The next response, or None when the implementation closed the connection first."""
        __tracebackhide__ = True
        return await with_deadline(
            self.timeout, "send a complete response", self.transcript, lambda: self._read_response(method)
        )

    async def closed_by_peer(self) -> bool:
        """Wait for the implementation to close the connection; False if it sends bytes instead."""

        async def wait() -> bool:
            if self._buffer:
                return False
            while not self._eof:
                data = await receive_some(self.stream, self.transcript)
                if not data:
                    self._eof = True
                    return True
                self._buffer += data
                return False
            return True

        return await with_deadline(self.timeout, "close the connection", self.transcript, wait)

    async def _read_response(self, method: str) -> Response | None:
        conn = h11.Connection(our_role=h11.CLIENT)
        # Tell h11 which request the response answers; the bytes it would send are discarded.
        conn.send(h11.Request(method=method, target="/", headers=[("Host", "conformance")]))
        conn.send(h11.EndOfMessage())
        if self._buffer:
            conn.receive_data(self._buffer)
            self._buffer = b""
        elif self._eof:
            return None
        saw_bytes = bool(conn.trailing_data[0])

        async def more() -> bool:
            nonlocal saw_bytes
            if self._eof:
                conn.receive_data(b"")  # h11 reads the end of the stream: closed, or truncated
                return True
            data = await receive_some(self.stream, self.transcript)
            if not data:
                self._eof = True
                if not saw_bytes:
                    return False
            saw_bytes = saw_bytes or bool(data)
            conn.receive_data(data)
            return True

        message = await read_message(conn, more, what="the response", transcript=self.transcript)
        if message is None:
            return None
        head = message.head
        assert isinstance(head, h11.Response)
        self._buffer = bytes(conn.trailing_data[0])
        self.responses_received += 1
        return Response(
            status=head.status_code,
            reason=head.reason.decode("latin-1"),
            http_version=head.http_version.decode("ascii"),
            headers=message.fields,
            body=bytes(message.body),
            informational=message.informational,
            keep_alive=conn.their_state is not h11.MUST_CLOSE,
        )


def build_request(
    method: str, target: str, headers: Headers = (), body: bytes = b"", *, host: str = "127.0.0.1"
) -> bytes:
    """A well-formed HTTP/1.1 request, serialised by h11."""
    names = {name.lower() for name, _ in headers}
    all_headers: list[tuple[str, str]] = []
    if "host" not in names:
        all_headers.append(("Host", host))
    all_headers.extend(headers)
    if body and "content-length" not in names and "transfer-encoding" not in names:
        all_headers.append(("Content-Length", str(len(body))))
    conn = h11.Connection(our_role=h11.CLIENT)
    out = conn.send(h11.Request(method=method, target=target, headers=all_headers)) or b""
    if body:
        out += conn.send(h11.Data(data=body)) or b""
    out += conn.send(h11.EndOfMessage()) or b""
    return out


class HTTPClient:
    """The ``http`` fixture: opens h11-judged connections to a server of the check.

    Example::

        async def test_x(http, server):
            srv = server.serve([("/", Hello)])
            async with await http.connect(srv) as conn:
                response = await conn.request("GET", "/")
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.connections: list[HTTPConnection] = []

    async def connect(
        self, target: Any, *, ssl_context: ssl.SSLContext | None = None, server_hostname: str | None = None
    ) -> HTTPConnection:
        """Open a connection to ``target`` (anything with ``host`` and ``port``); HTTPS with
        ``ssl_context`` (see `HTTPConnection.open`)."""
        conn = await HTTPConnection.open(
            target.host, target.port, self.timeout, ssl_context=ssl_context, server_hostname=server_hostname
        )
        self.connections.append(conn)
        return conn

    async def request(
        self, target: Any, method: str = "GET", path: str = "/", headers: Headers = (), body: bytes = b""
    ) -> Response:
        """One request on a new connection, closed afterwards."""
        __tracebackhide__ = True
        async with await self.connect(target) as conn:
            return await conn.request(method, path, headers, body)

    def transcripts(self) -> str:
        return "\n".join(f" connection {i + 1}:\n{c.transcript.format()}" for i, c in enumerate(self.connections))
