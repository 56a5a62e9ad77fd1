"""The HTTP/1.1 oracle server: h11 on the server side, for judging the implementation's client.

Rules:

1. The kit's server runs on anyio in the check's own thread; the implementation's client
   runs on its own loop in its own thread. `ScriptedHTTPServer.run` serves while the client
   runs and never lets one block the other: the client's call is scheduled on its loop,
   and the kit waits for its result from a worker thread.
2. h11 judges every byte the client sends: each request is parsed by a fresh h11 server
   connection, and a request h11 refuses is the client's protocol violation (the verdict
   of the check, raised once the client has finished).
3. Responses are scripted per request by the check's responder: well-formed ones are
   serialised by h11 (so the kit cannot get them wrong), malformed ones are raw bytes.
   After a response the connection stays open for the next request unless the response
   or the request closes it (as h11 says), or the responder asks otherwise.
4. With ``listen(..., ssl_context=)`` a server speaks HTTPS: each connection starts with
   the TLS handshake (its deadline is the request's). A handshake the client abandons
   (it refused the kit's certificate) is no violation: the connection records it in
   ``tls_error`` and ends, and the check judges the client by what it did.
5. Deadlines: sending, and reading the rest of a request once it has started, have the
   deadline ``timeout``. The exchange as a whole has it too: a client that has not
   finished by then fails the check with a *timeout* verdict, after the kit has closed
   every connection (so a client waiting on the kit sees the end) and waited once more
   for it to finish.
"""

from __future__ import annotations

import concurrent.futures
import http
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.abc
import anyio.to_thread
import h11
from anyio.streams.tls import TLSStream

from ..errors import LoopUnresponsive, ProtocolViolation, Timeout
from ._fields import FieldLookup
from ._h11 import read_message
from ._net import receive_some, send_all, with_deadline
from ._transcript import Transcript

Headers = Sequence[tuple[str, str]]


@dataclass
class ClientRequest(FieldLookup):
    """One request of the implementation's client, as h11 parsed it."""

    method: str
    target: str
    http_version: str
    headers: list[tuple[str, str]]  #: names lower-cased, as h11 normalises them
    body: bytes
    origin: int  #: which of the check's servers received it (0, 1... in order of `listen`)
    connection: int  #: the connection it came on (0, 1... per origin, in order of accept)
    number: int  #: its place on that connection (0 for the first request)

    def connection_options(self) -> set[str]:
        """The options of the Connection field, lower-cased (RFC 9110 §7.6.1)."""
        return {o.strip().lower() for o in ",".join(self.header_list("connection")).split(",") if o.strip()}

    def describe(self) -> str:
        return (
            f"{self.method} {self.target} (server {self.origin + 1}, connection {self.connection + 1}, "
            f"request {self.number + 1} on it)"
        )


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


#: How a timeout names the implementation's client (see `_net.with_deadline`).
CLIENT = ("the implementation's HTTP client", "a conforming client does it at once")


class ServerConnection:
    """One connection from the implementation's client, served by the kit."""

    def __init__(self, stream: anyio.abc.ByteStream, origin: int, index: int, timeout: float) -> None:
        self.stream = stream
        self.origin = origin
        self.index = index
        self.timeout = timeout
        self.transcript = Transcript()
        self.requests: list[ClientRequest] = []
        self.closed = False
        self.eof = False  #: the client closed its side
        self._buffer = b""  # bytes received after the last complete request
        self._h11: h11.Connection | None = None  # the h11 connection of the current request
        self._close_after = False
        self.tls_error: str | None = None  #: why the TLS handshake failed (an HTTPS server only)

    async def start_tls(self, ssl_context: ssl.SSLContext) -> bool:
        """The server side of the TLS handshake; False (and `tls_error`) when it failed."""

        async def handshake() -> Any:
            return await TLSStream.wrap(
                self.stream, server_side=True, ssl_context=ssl_context, standard_compatible=False
            )

        try:
            self.stream = await with_deadline(
                self.timeout, "finish the TLS handshake", self.transcript, handshake, actor=CLIENT
            )
        except (ssl.SSLError, anyio.BrokenResourceError, anyio.EndOfStream, ConnectionError) as exc:
            self.tls_error = f"{type(exc).__name__}: {exc}"
            self.transcript.note(f"TLS handshake failed: {self.tls_error}")
            await self.close()
            return False
        self.transcript.note("TLS handshake done")
        return True

    # -- reading requests ---------------------------------------------------------------
    async def _receive(self) -> bytes:
        data = await receive_some(self.stream, self.transcript)
        if not data:
            self.eof = True
        return data

    async def read_request(self) -> ClientRequest | None:
        """The next request, or None when the client closes the connection between requests.

        Waiting for a request to start has no deadline of its own (an idle persistent
        connection is normal; the exchange's deadline bounds it); once its first byte has
        arrived, the rest must follow within the deadline.
        """
        conn = h11.Connection(our_role=h11.SERVER)
        self._h11 = conn
        if self._buffer:
            conn.receive_data(self._buffer)
            self._buffer = b""
        else:
            while True:
                if self.eof or self.closed:
                    return None
                data = await self._receive()
                if data:
                    conn.receive_data(data)
                    break
        return await with_deadline(
            self.timeout, "finish sending its request", self.transcript, self._parse, actor=CLIENT
        )

    async def _parse(self) -> ClientRequest:
        conn = self._h11
        assert conn is not None
        continued = False

        async def more() -> bool:
            nonlocal continued
            if conn.they_are_waiting_for_100_continue and not continued:
                # The client asked for leave to send its body (RFC 9110 §10.1.1): grant it.
                continued = True
                go_on = h11.InformationalResponse(status_code=100, headers=[], reason=b"Continue")
                await self._send(conn.send(go_on) or b"")
            if self.eof:
                raise ProtocolViolation(
                    "the implementation's client closed the connection in the middle of its request "
                    "(RFC 9112 §8: the message is incomplete).",
                    transcript=self.transcript,
                )
            conn.receive_data(await self._receive() or b"")
            return True

        message = await read_message(
            conn, more, what="the request the implementation's client sent", transcript=self.transcript
        )
        if message is None:  # pragma: no cover - h11 reports the end as NEED_DATA first (``more``)
            raise ProtocolViolation(
                "the implementation's client closed the connection in the middle of its request.",
                transcript=self.transcript,
            )
        head = message.head
        assert isinstance(head, h11.Request)
        self._buffer = bytes(conn.trailing_data[0])
        request = ClientRequest(
            method=head.method.decode("ascii"),
            target=head.target.decode("latin-1"),
            http_version=head.http_version.decode("ascii"),
            headers=message.fields,
            body=bytes(message.body),
            origin=self.origin,
            connection=self.index,
            number=len(self.requests),
        )
        self.requests.append(request)
        return request

    # -- responding ---------------------------------------------------------------------
    async def _send(self, data: bytes) -> bool:
        if self.closed:
            return False

        async def go() -> bool:
            return await send_all(self.stream, data, self.transcript)

        return await with_deadline(
            self.timeout, "read the bytes the kit's server sent", self.transcript, go, actor=CLIENT
        )

    async def respond(
        self,
        status: int,
        headers: Headers = (),
        body: bytes = b"",
        *,
        reason: str | None = None,
        informational: Sequence[tuple[int, Headers]] = (),
        chunks: Sequence[bytes] | None = None,
        trailers: Headers = (),
        keep_open: bool = False,
    ) -> None:
        """Answer the current request with a well-formed response, serialised by h11.

        Args:
            status: the final status code.
            headers: its header fields; Content-Length is added for ``body`` unless
                ``chunks`` is given or a framing field is already there.
            body: the content (not sent in answer to HEAD, nor for 204 and 304).
            informational: 1xx responses (status, headers) sent first.
            chunks: send the content in these chunks, with ``Transfer-Encoding: chunked``.
            trailers: trailer fields after the last chunk.
            keep_open: keep the connection open even when the response or the request
                announced its close (to see whether the client uses it again).
        """
        conn = self._h11
        assert conn is not None, "respond() answers a request: call it from a responder"
        names = {k.lower() for k, _ in headers}
        all_headers = list(headers)
        if chunks is not None:
            if "transfer-encoding" not in names:
                all_headers.append(("Transfer-Encoding", "chunked"))
        elif "content-length" not in names and "transfer-encoding" not in names and status not in (204, 304):
            all_headers.append(("Content-Length", str(len(body))))
        out = b""
        try:
            for code, fields in informational:
                interim = h11.InformationalResponse(
                    status_code=code, headers=list(fields), reason=_phrase(code).encode()
                )
                out += conn.send(interim) or b""
            if reason is None:
                reason = _phrase(status)
            out += conn.send(h11.Response(status_code=status, headers=all_headers, reason=reason.encode())) or b""
            for piece in chunks if chunks is not None else [body]:
                if piece:
                    out += conn.send(h11.Data(data=piece)) or b""
            out += conn.send(h11.EndOfMessage(headers=list(trailers))) or b""
        except h11.LocalProtocolError as exc:  # pragma: no cover - a misuse of the kit
            raise AssertionError(f"the kit's server could not build the response with h11: {exc}") from None
        await self._send(out)
        if conn.our_state is h11.MUST_CLOSE and not keep_open:
            self._close_after = True

    async def send_raw(self, data: bytes, *, close: bool = False) -> None:
        """Answer with hand-written bytes (a response h11 would refuse to send).

        The connection stays open for another request unless ``close`` is true.
        """
        await self._send(data)
        if close:
            await self.close()

    async def close(self) -> None:
        """Close the connection (the client reads the end of the stream)."""
        if not self.closed:
            self.closed = True
            self.transcript.note("the kit's server closed the connection")
            await self.stream.aclose()


Responder = Callable[[ClientRequest, ServerConnection], Awaitable[None]]


@dataclass
class Origin:
    """One listening server of the check: its own port, hence its own origin (RFC 6454)."""

    listener: anyio.abc.SocketListener
    index: int
    responder: Responder
    host: str
    port: int
    connections: list[ServerConnection] = field(default_factory=list)
    ssl_context: ssl.SSLContext | None = None  #: an HTTPS server's (see rule 4)

    @property
    def authority(self) -> str:
        return f"{self.host}:{self.port}"

    def url(self, path: str = "/", *, host: str | None = None) -> str:
        """The URL of ``path`` here (``host`` replaces the address, e.g. a name that resolves to it)."""
        scheme = "http" if self.ssl_context is None else "https"
        return f"{scheme}://{host or self.host}:{self.port}{path}"

    @property
    def requests(self) -> list[ClientRequest]:
        return [r for c in self.connections for r in c.requests]


class ScriptedHTTPServer:
    """Scripted HTTP/1.1 servers on loopback for the implementation's HTTP client.

    Example::

        async def respond(request, conn):
            await conn.respond(200, [("Content-Type", "text/plain")], b"hello")

        kit = ScriptedHTTPServer(timeout, loop)      # loop: the LoopThread of ``ioloop``
        origin = await kit.listen(respond)
        result = await kit.run(lambda: client.fetch(origin.url("/")), "fetch /")
        await kit.aclose()
    """

    def __init__(self, timeout: float, loop: Any) -> None:
        self.timeout = timeout
        self.loop = loop  #: a `conformance.server.LoopThread`
        self.origins: list[Origin] = []
        self.requests: list[ClientRequest] = []  #: every request, in the order they arrived
        self.errors: list[BaseException] = []  #: violations seen while serving
        self._closed = False
        self._deadline_passed = False

    async def listen(self, responder: Responder, *, ssl_context: ssl.SSLContext | None = None) -> Origin:
        """Start one more server on 127.0.0.1 (a free port) answering with ``responder``;
        HTTPS with ``ssl_context`` (a server-side context: rule 4)."""
        multi = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
        listener = multi.listeners[0]  # one address (127.0.0.1): one socket listener
        assert isinstance(listener, anyio.abc.SocketListener)
        address: Any = listener.extra(anyio.abc.SocketAttribute.local_address)
        origin = Origin(
            listener, len(self.origins), responder, str(address[0]), int(address[1]), ssl_context=ssl_context
        )
        self.origins.append(origin)
        return origin

    def connections(self) -> list[ServerConnection]:
        return [c for o in self.origins for c in o.connections]

    def transcripts(self) -> str:
        """Every connection's bytes, for failure messages."""
        parts = [
            f" server {o.index + 1} ({o.authority}), connection {c.index + 1}:\n{c.transcript.format()}"
            for o in self.origins
            for c in o.connections
        ]
        return "\n".join(parts) if parts else "   (the client opened no connection to the kit's servers)"

    # -- serving ------------------------------------------------------------------------
    async def _accept_loop(self, origin: Origin, tg: anyio.abc.TaskGroup) -> None:
        while True:
            try:
                stream = await origin.listener.accept()
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                return
            conn = ServerConnection(stream, origin.index, len(origin.connections), self.timeout)
            origin.connections.append(conn)
            tg.start_soon(self._serve, origin, conn)

    async def _serve(self, origin: Origin, conn: ServerConnection) -> None:
        try:
            if origin.ssl_context is not None and not await conn.start_tls(origin.ssl_context):
                return
            while not conn.closed:
                request = await conn.read_request()
                if request is None:
                    break
                self.requests.append(request)
                conn._close_after = False
                await origin.responder(request, conn)
                if conn._close_after:
                    await conn.close()
        except Exception as exc:
            if not self._deadline_passed:  # after it, the kit itself closed the connection
                self.errors.append(exc)
            # Rule 5: a client waiting for the kit must see the connection end now.
            await conn.close()

    async def run(self, impl_side: Callable[[], Any], what: str) -> Any:
        """Run ``impl_side`` on the implementation's loop while the kit's servers serve.

        Args:
            impl_side: what the implementation does (a function returning an awaitable,
                usually one or more ``fetch`` calls); it runs on the loop thread.
            what: how failure messages name it ("fetch http://.../").

        Returns:
            What ``impl_side`` returned; what it raised is raised here.

        Raises:
            The first violation the kit's servers saw (an h11-rejected request...), then
            `Timeout` when ``impl_side`` did not finish within the deadline, or
            `LoopUnresponsive` when the loop did not answer at all.
        """
        if self._closed:  # pragma: no cover - a misuse of the kit
            raise AssertionError("a ScriptedHTTPServer serves one run; listen on a new one")
        done: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def start() -> Any:
            async def runner() -> None:
                try:
                    value = impl_side()
                    if hasattr(value, "__await__"):
                        value = await value
                except BaseException as exc:
                    done.set_exception(exc)
                else:
                    done.set_result(value)

            return runner()

        if self.loop.wedged:
            raise LoopUnresponsive(f"{self.loop.impl.name}'s event loop is wedged by an earlier check")

        def finished_within(limit: float) -> bool:
            concurrent.futures.wait([done], limit)
            return done.done()

        ended_in_time = True
        async with anyio.create_task_group() as tg:
            for origin in self.origins:
                tg.start_soon(self._accept_loop, origin, tg)
            self.loop.impl.call_soon_threadsafe(self.loop.loop, start)
            if not await anyio.to_thread.run_sync(finished_within, self.timeout):
                ended_in_time = False
                self._deadline_passed = True
                for conn in self.connections():
                    await conn.close()
                await anyio.to_thread.run_sync(finished_within, self.timeout)
            tg.cancel_scope.cancel()
        await self.aclose()  # one run per server: what it recorded stays readable
        if self.errors:
            raise self.errors[0]
        if not ended_in_time:
            if done.done():
                try:
                    outcome = f"returned {done.result()!r}"
                except BaseException as exc:
                    outcome = f"raised {exc!r}"
                after = f"it ended only when the kit's server closed the connections: it {outcome}"
            else:
                try:
                    await anyio.to_thread.run_sync(self.loop.barrier)
                except LoopUnresponsive:
                    raise LoopUnresponsive(
                        f"{self.loop.impl.name}'s event loop stopped answering during {what}: the client blocked "
                        "the loop.",
                        transcript=self.transcripts(),
                    ) from None
                after = "it had still not ended when the kit's server closed the connections"
            raise Timeout(
                f"the implementation's HTTP client did not finish {what} within {self.timeout:g}s "
                f"(--conformance-timeout); {after}.",
                transcript=self.transcripts(),
            )
        return done.result()

    async def aclose(self) -> None:
        """Close every connection and listener (idempotent)."""
        if self._closed:
            return
        self._closed = True
        for conn in self.connections():
            await conn.close()
        for origin in self.origins:
            await origin.listener.aclose()

    def close_sockets(self) -> None:
        """Close what is left open from outside the anyio run (the fixture's teardown)."""
        if self._closed:
            return
        self._closed = True
        for origin in self.origins:
            for conn in origin.connections:
                _close_raw(conn.stream)
            _close_raw(origin.listener)


def _close_raw(resource: Any) -> None:
    try:
        sock = resource.extra(anyio.abc.SocketAttribute.raw_socket)
    except Exception:
        return
    try:
        sock.close()
    except OSError:
        pass
