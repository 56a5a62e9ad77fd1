"""Unit tests of the kit's wire (`conformance.wire`): its oracles judged on their own.

Rules:

1. No Tornado: each test drives the wire against a small scripted peer written here (raw
   bytes over loopback TCP) or against the wire's other half (the kit's WebSocket client
   against the kit's WebSocket server).
2. Every test runs on anyio with trio, in a fresh event loop (`run`).
3. Nothing sleeps: a peer that must stay silent waits on an event that never fires, and a
   deadline test uses ``SHORT`` (0.2 s) and asserts that the `Timeout` came in time.
   Everything else has ``LONG``, which a passing test never waits out.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import anyio
import anyio.abc
import pytest
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request, TextMessage

from conformance.errors import ProtocolViolation, Timeout, Violation
from conformance.wire import _transcript
from conformance.wire._fields import FieldLookup
from conformance.wire._net import client_scope, receive_some, send_all, with_deadline
from conformance.wire._transcript import Transcript
from conformance.wire.h11_server import ClientRequest, ScriptedHTTPServer
from conformance.wire.h11_server import ServerConnection as HTTPServerConnection
from conformance.wire.http import HTTPConnection, Response, build_request
from conformance.wire.ws import (
    BINARY,
    CLOSE,
    CONTINUATION,
    PING,
    TEXT,
    Closed,
    ConnectionClosedError,
    WebSocketConnection,
    frame,
)
from conformance.wire.ws_server import ServerConnection, WebSocketServer, parse_frames

T = TypeVar("T")
SHORT = 0.2  #: the deadline of the timeout tests
LONG = 5.0  #: the deadline of everything else (never reached when the test passes)
SLACK = 1.5  #: how late after SHORT a Timeout may come on a busy machine

Handler = Callable[[anyio.abc.SocketStream], Awaitable[None]]


def run(test: Callable[[], Awaitable[T]]) -> T:
    """``test()`` on trio; an error from inside a task group is raised as itself."""
    try:
        return anyio.run(test, backend="trio")
    except Exception as exc:
        sole: BaseException = exc
        while len(getattr(sole, "exceptions", ())) == 1:
            sole = sole.exceptions[0]  # type: ignore[attr-defined]
        if sole is exc:
            raise
        raise sole from None


async def forever() -> None:
    """Wait until cancelled (a peer that never answers)."""
    await anyio.Event().wait()


@asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[tuple[str, int]]:
    """A loopback listener that serves one connection with ``handler``; yields (host, port)."""
    multi = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    listener = multi.listeners[0]
    assert isinstance(listener, anyio.abc.SocketListener)
    host, port = listener.extra(anyio.abc.SocketAttribute.local_address)[:2]

    async def serve() -> None:
        stream = await listener.accept()
        async with stream:
            await handler(stream)

    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(serve)
        yield str(host), int(port)
        tg.cancel_scope.cancel()


@asynccontextmanager
async def raw_client(handler: Handler) -> AsyncIterator[anyio.abc.SocketStream]:
    """A loopback connection whose far end ``handler`` plays; yields the near end."""
    multi = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    listener = multi.listeners[0]
    assert isinstance(listener, anyio.abc.SocketListener)
    host, port = listener.extra(anyio.abc.SocketAttribute.local_address)[:2]

    async def play() -> None:
        async with await anyio.connect_tcp(str(host), int(port)) as stream:
            await handler(stream)

    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(play)
        accepted = await listener.accept()
        async with accepted:
            yield accepted
        tg.cancel_scope.cancel()


async def read_until(stream: anyio.abc.SocketStream, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        data += await stream.receive()
    return data


def replies(*segments: bytes, close: bool = True) -> Handler:
    """A peer that reads one request head, sends ``segments`` and closes (or stays silent)."""

    async def handler(stream: anyio.abc.SocketStream) -> None:
        await read_until(stream, b"\r\n\r\n")
        for segment in segments:
            await stream.send(segment)
        if not close:
            await forever()

    return handler


def assert_in_time(started: float) -> None:
    elapsed = time.monotonic() - started
    assert SHORT <= elapsed + 0.01 < SHORT + SLACK, f"the Timeout came after {elapsed:.3f}s, deadline {SHORT}s"


# -- transcripts ----------------------------------------------------------------------------


def test_transcript_records_both_directions_in_order() -> None:
    t = Transcript()
    t.sent(b"GET")
    t.received(b"HTTP")
    t.note("closed")
    t.sent(b"more")
    assert t.entries == [(">>", b"GET"), ("<<", b"HTTP"), ("--", "closed"), (">>", b"more")]
    assert t.format().splitlines() == ["   >> b'GET'", "   << b'HTTP'", "   -- closed", "   >> b'more'"]


def test_transcript_merges_consecutive_reads_only() -> None:
    t = Transcript()
    t.received(b"HTTP/1.1 ")
    t.received(b"200 OK")
    t.sent(b"a")
    t.sent(b"b")
    t.received(b"x")
    t.note("between")
    t.received(b"y")
    assert t.entries == [
        ("<<", b"HTTP/1.1 200 OK"),
        (">>", b"a"),
        (">>", b"b"),
        ("<<", b"x"),
        ("--", "between"),
        ("<<", b"y"),
    ]


def test_transcript_of_nothing() -> None:
    assert Transcript().format() == "   (no bytes exchanged)"


def test_transcript_shortens_a_long_entry() -> None:
    t = Transcript()
    t.received(b"x" * (_transcript._ENTRY_LIMIT + 1))
    shown = t.format()
    assert shown.endswith(f"... ({_transcript._ENTRY_LIMIT + 1} bytes in all)")
    assert len(shown) < _transcript._ENTRY_LIMIT


def test_transcript_stops_at_its_total_limit() -> None:
    t = Transcript()
    entry = b"y" * (_transcript._ENTRY_LIMIT - 10)
    count = 2 * _transcript._TOTAL_LIMIT // len(entry)
    for _ in range(count):
        t.sent(entry)
    lines = t.format().splitlines()
    shown = len(lines) - 1
    assert 0 < shown < count
    assert lines[-1] == f"   ... ({count - shown} more entries not shown)"
    assert sum(len(line) for line in lines) < _transcript._TOTAL_LIMIT + 200


def test_a_violation_carries_the_transcript_as_a_field() -> None:
    t = Transcript()
    t.sent(b"ping")
    exc = Violation("the implementation did X.", expected="Y", observed="X", transcript=t)
    assert exc.fields() == {"expected": "Y", "observed": "X", "transcript": "   >> b'ping'"}
    assert str(exc) == "the implementation did X.\nexpected: Y\nobserved: X\nbytes exchanged:\n   >> b'ping'"


# -- field lookup ---------------------------------------------------------------------------


def test_field_lookup_joins_repeats_and_ignores_case() -> None:
    response = Response(200, "OK", "1.1", [("set-cookie", "a=1"), ("x-one", "1"), ("set-cookie", "b=2")])
    assert isinstance(response, FieldLookup)
    assert response.header("Set-Cookie") == "a=1, b=2"
    assert response.header_list("SET-COOKIE") == ["a=1", "b=2"]
    assert response.header("X-One") == "1"
    assert response.header("x-absent") is None
    assert response.header_list("x-absent") == []


# -- raw WebSocket frames -------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536])
@pytest.mark.parametrize("mask", [True, False])
def test_frame_lengths_round_trip(size: int, mask: bool) -> None:
    payload = bytes(i % 251 for i in range(size))
    data = frame(BINARY, payload, mask=mask)
    header = 2 + (2 if 126 <= size < 65536 else 8 if size >= 65536 else 0) + (4 if mask else 0)
    assert len(data) == header + size
    assert data[1] & 0x80 == (0x80 if mask else 0)
    (parsed,) = parse_frames(data)
    assert (parsed.fin, parsed.rsv, parsed.opcode, parsed.masked, parsed.payload) == (True, 0, BINARY, mask, payload)


def test_frame_bits() -> None:
    assert frame(TEXT, b"hi", mask=False) == b"\x81\x02hi"
    assert frame(CONTINUATION, b"", fin=False, mask=False) == b"\x00\x00"
    assert frame(PING, b"", rsv=0b101, mask=False) == b"\xd9\x00"
    masked = frame(TEXT, b"hello")
    assert masked[:2] == b"\x81\x85"
    key = masked[2:6]
    assert bytes(b ^ key[i % 4] for i, b in enumerate(masked[6:])) == b"hello"


def test_parse_frames_keeps_fragments_apart_and_stops_at_an_incomplete_frame() -> None:
    whole = frame(TEXT, b"hel", fin=False) + frame(CONTINUATION, b"lo", mask=False) + frame(CLOSE, b"\x03\xe8")
    frames = parse_frames(whole)
    assert [(f.fin, f.opcode, f.payload) for f in frames] == [
        (False, TEXT, b"hel"),
        (True, CONTINUATION, b"lo"),
        (True, CLOSE, b"\x03\xe8"),
    ]
    assert [f.masked for f in frames] == [True, False, True]
    long = frame(BINARY, b"z" * 300)
    for cut in (1, 3, 7, len(long) - 1):  # in the head, the 16-bit length, the key, the payload
        assert parse_frames(frame(PING, mask=False) + long[:cut]) == parse_frames(frame(PING, mask=False))


def test_a_frame_is_what_wsproto_reads() -> None:
    server = WSConnection(ConnectionType.SERVER)
    client = WSConnection(ConnectionType.CLIENT)
    server.receive_data(client.send(Request(host="h", target="/")))
    assert [type(e) for e in server.events()] == [Request]
    client.receive_data(server.send(AcceptConnection()))
    server.receive_data(frame(TEXT, b"he", fin=False) + frame(CONTINUATION, b"llo"))
    assert [(e.data, e.message_finished) for e in server.events() if isinstance(e, TextMessage)] == [
        ("he", False),
        ("llo", True),
    ]


# -- deadlines and the socket helpers -------------------------------------------------------


def test_with_deadline_returns_what_the_operation_returns() -> None:
    async def main() -> int:
        async def quick() -> int:
            return 7

        return await with_deadline(LONG, "answer", None, quick)

    assert run(main) == 7


def test_with_deadline_times_out_in_time_with_the_transcript() -> None:
    transcript = Transcript()
    transcript.sent(b"hello?")

    async def main() -> None:
        await with_deadline(SHORT, "answer", transcript, forever)

    started = time.monotonic()
    with pytest.raises(Timeout) as caught:
        run(main)
    assert_in_time(started)
    assert caught.value.what == (
        f"the implementation did not answer within {SHORT:g}s (--conformance-timeout); "
        "a conforming server answers at once."
    )
    assert caught.value.transcript == "   >> b'hello?'"


def test_receive_some_and_send_all_report_a_closed_peer() -> None:
    async def closes(stream: anyio.abc.SocketStream) -> None:
        await stream.send(b"bye")

    async def main() -> Transcript:
        transcript = Transcript()
        async with raw_client(closes) as stream:
            assert await receive_some(stream, transcript) == b"bye"
            assert await receive_some(stream, transcript) == b""
            await stream.aclose()
            assert await send_all(stream, b"late", transcript) is False
        return transcript

    transcript = run(main)
    assert transcript.entries == [
        ("<<", b"bye"),
        ("--", "connection closed by the implementation"),
        (">>", b"late"),
        ("--", "send failed: connection closed by the implementation"),
    ]


def test_client_scope_closes_the_connections_a_failed_check_left_open() -> None:
    opened: list[HTTPConnection] = []

    async def main() -> None:
        async with raw_server(replies(close=False)) as (host, port):
            with pytest.raises(Timeout):
                async with client_scope():
                    conn = await HTTPConnection.open(host, port, SHORT)  # never closed by the "check"
                    opened.append(conn)
                    await conn.request("GET", "/x")
            # Closed by the scope: using the stream now says so.
            with pytest.raises(anyio.ClosedResourceError):
                await opened[0].stream.send(b"late")

    run(main)
    assert opened


# -- the HTTP/1.1 client (http.py) ----------------------------------------------------------


async def exchange(handler: Handler, method: str = "GET", timeout: float = LONG) -> tuple[Response | None, Transcript]:
    async with raw_server(handler) as (host, port), await HTTPConnection.open(host, port, timeout) as conn:
        await conn.send_request(method, "/x")
        response = await conn.response_or_close(method)
        return response, conn.transcript


def test_http_content_length_response_split_across_segments() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\n"
    response, transcript = run(lambda: exchange(replies(head + b"hel", b"lo", close=False)))
    assert response is not None
    assert (response.status, response.reason, response.http_version, response.body) == (200, "OK", "1.1", b"hello")
    assert response.header("content-length") == "5"
    assert response.keep_alive
    assert response.describe() == "HTTP/1.1 200 OK"
    # The request went out first; the two segments of the answer are one entry.
    assert [way for way, _ in transcript.entries] == [">>", "<<"]
    assert transcript.entries[1][1] == head + b"hello"


def test_http_chunked_response() -> None:
    body = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;ext=1\r\n!\r\n0\r\nX-T: 1\r\n\r\n"
    response, _ = run(lambda: exchange(replies(body, close=False)))
    assert response is not None
    assert response.body == b"hello!"
    assert response.keep_alive


def test_http_close_delimited_response() -> None:
    response, _ = run(lambda: exchange(replies(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil ", b"the end")))
    assert response is not None
    assert response.body == b"until the end"
    assert not response.keep_alive


def test_http_interim_responses_and_head() -> None:
    interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
    response, _ = run(lambda: exchange(replies(interim + b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"), "HEAD"))
    assert response is not None
    assert response.informational == [100, 103]
    assert response.body == b""  # HEAD: the Content-Length announces what GET would send


def test_http_pipelined_responses_in_one_segment() -> None:
    two = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nb"

    async def main() -> list[tuple[int, bytes]]:
        async with (
            raw_server(replies(two, close=False)) as (host, port),
            await HTTPConnection.open(host, port, LONG) as conn,
        ):
            await conn.send([build_request("GET", "/1"), build_request("GET", "/2")])
            first = await conn.receive_response()
            second = await conn.receive_response()
            assert conn.responses_received == 2
            return [(first.status, first.body), (second.status, second.body)]

    assert run(main) == [(200, b"a"), (404, b"b")]


def test_http_malformed_response_is_a_protocol_violation_with_the_transcript() -> None:
    with pytest.raises(ProtocolViolation) as caught:
        run(lambda: exchange(replies(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", close=False)))
    assert caught.value.what.startswith("h11 rejected the response: ")
    assert caught.value.transcript is not None
    assert "<< b'HTTP/1.1 200 OK\\r\\nContent-Length: x" in caught.value.transcript


def test_http_truncated_body_is_a_protocol_violation() -> None:
    with pytest.raises(ProtocolViolation):
        run(lambda: exchange(replies(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")))


def test_http_close_without_a_response() -> None:
    response, transcript = run(lambda: exchange(replies()))
    assert response is None
    assert transcript.entries[-1] == ("--", "connection closed by the implementation")

    async def main() -> None:
        async with raw_server(replies()) as (host, port), await HTTPConnection.open(host, port, LONG) as conn:
            await conn.request("GET", "/")

    with pytest.raises(ProtocolViolation, match="without sending a response to the GET request"):
        run(main)


def test_http_closed_by_peer() -> None:
    async def main() -> tuple[bool, bool]:
        no_content = replies(b"HTTP/1.1 204 No Content\r\n\r\n")
        async with raw_server(no_content) as (host, port), await HTTPConnection.open(host, port, LONG) as conn:
            await conn.request("GET", "/")
            return await conn.closed_by_peer(), await conn.closed_by_peer()

    assert run(main) == (True, True)


def test_http_silent_server_times_out_in_time() -> None:
    started = time.monotonic()
    with pytest.raises(Timeout) as caught:
        run(lambda: exchange(replies(close=False), timeout=SHORT))
    assert_in_time(started)
    assert "did not send a complete response within 0.2s" in caught.value.what
    assert caught.value.transcript is not None and caught.value.transcript.startswith("   >> b'GET /x HTTP/1.1")


def test_http_build_request_adds_host_and_length() -> None:
    data = build_request("POST", "/p", [("X-A", "1")], b"body", host="example:1")
    assert data == b"POST /p HTTP/1.1\r\nHost: example:1\r\nX-A: 1\r\nContent-Length: 4\r\n\r\nbody"
    assert build_request("GET", "/", [("host", "h")]).startswith(b"GET / HTTP/1.1\r\nhost: h\r\n")


# -- the scripted HTTP/1.1 server (h11_server.py) -------------------------------------------


def client_sends(*segments: bytes, then: str = "wait") -> Handler:
    """The implementation's client, scripted: send ``segments``, then wait, close or read."""

    async def handler(stream: anyio.abc.SocketStream) -> None:
        for segment in segments:
            await stream.send(segment)
        if then == "close":
            await stream.send_eof()
        await forever()

    return handler


async def served(handler: Handler, timeout: float = LONG) -> tuple[list[Any], HTTPServerConnection]:
    """Read requests from ``handler`` until it closes between them (None) or one fails."""
    async with raw_client(handler) as stream:
        conn = HTTPServerConnection(stream, 0, 0, timeout)
        requests: list[Any] = []
        while (request := await conn.read_request()) is not None:
            requests.append(request)
        return requests, conn


def test_server_reads_pipelined_requests_with_bodies() -> None:
    one = b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nConnection: keep-alive, Upgrade\r\n\r\nabc"
    two = b"PUT /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n"
    requests, _ = run(lambda: served(client_sends(one + two[:20], two[20:], then="close")))
    assert [(r.method, r.target, r.body, r.number) for r in requests] == [
        ("POST", "/a", b"abc", 0),
        ("PUT", "/b", b"xy", 1),
    ]
    assert requests[0].connection_options() == {"keep-alive", "upgrade"}
    assert requests[0].header("HOST") == "h"
    assert requests[1].describe() == "PUT /b (server 1, connection 1, request 2 on it)"


def test_server_grants_100_continue() -> None:
    head = b"POST /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"

    async def client(stream: anyio.abc.SocketStream) -> None:
        await stream.send(head)
        assert await read_until(stream, b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
        await stream.send(b"ok")
        await stream.send_eof()
        await forever()

    requests, _ = run(lambda: served(client))
    assert [r.body for r in requests] == [b"ok"]


def test_server_refuses_to_answer_a_request_twice() -> None:
    async def main() -> None:
        async with raw_client(client_sends(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")) as stream:
            conn = HTTPServerConnection(stream, 0, 0, LONG)
            await conn.read_request()
            await conn.respond(204)
            await conn.respond(404, body=b"nope")  # a misuse of the kit, not the client's fault

    with pytest.raises(AssertionError, match="could not build the response with h11"):
        run(main)


def test_server_response_is_what_the_kit_client_reads() -> None:
    async def main() -> Response:
        result: list[Response] = []
        done = anyio.Event()

        async def kit_client(stream: anyio.abc.SocketStream) -> None:
            await stream.send(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
            conn = HTTPConnection(stream, "127.0.0.1", 0, LONG, Transcript())
            result.append(await conn.receive_response())
            done.set()
            await forever()

        async with raw_client(kit_client) as stream:
            conn = HTTPServerConnection(stream, 0, 0, LONG)
            await conn.read_request()
            trailers = [("X-T", "2")]
            await conn.respond(200, [("X-A", "1")], chunks=[b"ab", b"c"], trailers=trailers, informational=[(103, [])])
            with anyio.fail_after(LONG):
                await done.wait()
        return result[0]

    response = run(main)
    assert (response.status, response.reason, response.body, response.informational) == (200, "OK", b"abc", [103])
    assert response.header("transfer-encoding") == "chunked"
    assert response.header("x-a") == "1"


def test_server_request_cut_short_is_a_protocol_violation() -> None:
    cut = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9\r\n\r\nabc"
    with pytest.raises(ProtocolViolation, match="without sending complete message body") as caught:
        run(lambda: served(client_sends(cut, then="close")))
    assert caught.value.transcript is not None and "Content-Length: 9" in caught.value.transcript


def test_server_malformed_request_is_a_protocol_violation() -> None:
    with pytest.raises(ProtocolViolation, match="h11 rejected the request the implementation's client sent"):
        run(lambda: served(client_sends(b"GET / HTTP/1.1\r\nHost: h\r\nBad Name: 1\r\n\r\n")))


def test_server_stalled_request_times_out_in_time() -> None:
    started = time.monotonic()
    with pytest.raises(Timeout) as caught:
        run(lambda: served(client_sends(b"GET / HTTP/1.1\r\nHost"), timeout=SHORT))
    assert_in_time(started)
    assert caught.value.what.startswith("the implementation's HTTP client did not finish sending its request within")


class AsyncioLoop:
    """Stands in for the harness's `LoopThread` (and its implementation): a plain asyncio
    loop in a thread of its own, where the "implementation's client" of these tests runs."""

    wedged = False
    name = "asyncio"

    def __init__(self) -> None:
        self.impl = self
        self.tasks: list[asyncio.Task[Any]] = []  # asyncio keeps only weak references
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call_soon_threadsafe(self, loop: asyncio.AbstractEventLoop, fn: Callable[[], Any]) -> None:
        def start() -> None:
            result = fn()
            if inspect.isawaitable(result):
                self.tasks.append(loop.create_task(result))  # type: ignore[arg-type]

        loop.call_soon_threadsafe(start)

    def barrier(self) -> None:
        async def nothing() -> None:
            pass

        asyncio.run_coroutine_threadsafe(nothing(), self.loop).result(LONG)

    def stop(self) -> None:
        def cancel_and_stop() -> None:
            for task in asyncio.all_tasks(self.loop):
                task.cancel()
            self.loop.call_soon(self.loop.stop)

        self.loop.call_soon_threadsafe(cancel_and_stop)
        self.thread.join(LONG)
        self.loop.close()


def scripted(responder: Any, client: Callable[[int], Awaitable[Any]], timeout: float = LONG) -> Any:
    """``client(port)`` on the asyncio loop against a `ScriptedHTTPServer` answering with ``responder``."""
    loop = AsyncioLoop()

    async def main() -> Any:
        kit = ScriptedHTTPServer(timeout, loop)
        origin = await kit.listen(responder)
        try:
            return await kit.run(lambda: client(origin.port), "the test's fetch"), kit.requests
        finally:
            await kit.aclose()

    try:
        return run(main)
    finally:
        loop.stop()


async def asyncio_get(port: int, request: bytes = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n") -> bytes:
    """A client on asyncio: send ``request``, read until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    data = await reader.read()
    writer.close()
    return data


def test_scripted_server_serves_the_client_on_its_own_loop() -> None:
    async def respond(request: ClientRequest, conn: HTTPServerConnection) -> None:
        await conn.respond(200, [("Connection", "close")], b"hi " + request.target.encode())

    answer, requests = scripted(respond, asyncio_get)
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and answer.endswith(b"\r\n\r\nhi /a")
    assert [(r.method, r.target, r.origin, r.connection, r.number) for r in requests] == [("GET", "/a", 0, 0, 0)]


def test_scripted_server_times_out_a_stalled_request_in_time() -> None:
    async def respond(request: ClientRequest, conn: HTTPServerConnection) -> None:
        raise AssertionError("no request is complete")

    started = time.monotonic()
    with pytest.raises(Timeout) as caught:
        scripted(respond, lambda port: asyncio_get(port, b"GET / HTTP/1.1\r\nHo"), SHORT)
    assert_in_time(started)
    # Two deadlines of the same length race here (the server's read of the request and the
    # fetch as a whole); either may name the stall, and both show the bytes that came.
    assert caught.value.what.startswith("the implementation's HTTP client did not finish"), caught.value.what
    assert "   << b'GET / HTTP/1.1\\r\\nHo'" in (caught.value.transcript or ""), caught.value.transcript


def test_scripted_server_times_out_a_client_that_never_ends() -> None:
    async def respond(request: ClientRequest, conn: HTTPServerConnection) -> None:
        raise AssertionError("no request comes")

    async def never(port: int) -> None:
        await asyncio.Event().wait()

    started = time.monotonic()
    with pytest.raises(Timeout) as caught:
        scripted(respond, never, SHORT)
    elapsed = time.monotonic() - started
    assert 2 * SHORT <= elapsed + 0.01 < 2 * SHORT + SLACK  # the deadline, then one more for the client to end
    assert "did not finish the test's fetch within 0.2s" in caught.value.what
    assert caught.value.transcript == "   (the client opened no connection to the kit's servers)"


# -- WebSocket: the kit's client (ws.py) against the kit's server (ws_server.py) ------------

Side = Callable[[Any], Awaitable[Any]]


async def ws_pair(server_side: Side, client_side: Side, timeout: float = LONG, path: str = "/") -> tuple[Any, Any]:
    """Run both halves of the wire against each other; returns (server's, client's) results."""
    results: dict[str, Any] = {}
    async with await WebSocketServer.listen(timeout) as kit, anyio.create_task_group() as tg:

        async def serve() -> None:
            results["server"] = await server_side(await kit.accept())

        tg.start_soon(serve)
        async with await WebSocketConnection.open(kit.host, kit.port, path, timeout=timeout) as client:
            results["client"] = await client_side(client)
    return results.get("server"), results.get("client")


async def accepted(conn: ServerConnection) -> ServerConnection:
    await conn.accept()
    return conn


def test_ws_handshake_and_messages_both_ways() -> None:
    async def server(conn: ServerConnection) -> list[Any]:
        request = await conn.receive_request()
        await conn.accept(subprotocol="chat")
        got = [request.target, request.subprotocols, conn.header("sec-websocket-version"), await conn.receive_message()]
        got.append(await conn.receive_message())
        await conn.send_text("héllo")
        await conn.send_bytes(b"\x00\xff")
        return got

    async def client(conn: WebSocketConnection) -> list[Any]:
        await conn.send_text("hi")
        await conn.send_bytes(b"\x01")
        assert conn.handshake is not None and conn.handshake.accepted
        return [conn.handshake.subprotocol, await conn.receive_message(), await conn.receive_message()]

    async def main() -> tuple[Any, Any]:
        results: dict[str, Any] = {}
        async with await WebSocketServer.listen(LONG) as kit, anyio.create_task_group() as tg:

            async def serve() -> None:
                results["server"] = await server(await kit.accept())

            tg.start_soon(serve)
            async with await WebSocketConnection.open(
                kit.host, kit.port, "/chat", timeout=LONG, subprotocols=["chat"]
            ) as conn:
                results["client"] = await client(conn)
        return results["server"], results["client"]

    server_saw, client_saw = run(main)
    assert server_saw == ["/chat", ["chat"], "13", "hi", b"\x01"]
    assert client_saw == ["chat", "héllo", b"\x00\xff"]


def test_ws_fragments_are_assembled_on_both_sides() -> None:
    async def server(conn: ServerConnection) -> Any:
        await conn.accept()
        message = await conn.receive_message()
        # Unmasked, as a server sends; a ping between the fragments (RFC 6455 §5.4).
        await conn.send_raw(frame(TEXT, b"fra", fin=False, mask=False) + frame(PING, b"p", mask=False))
        await conn.send_raw(frame(CONTINUATION, b"gm", fin=False, mask=False))
        await conn.send_raw(frame(CONTINUATION, b"ents", mask=False))
        return message, [(f.opcode, f.fin, f.masked) for f in conn.frames()]

    async def client(conn: WebSocketConnection) -> Any:
        await conn.send_fragments([b"a", b"b", b"c"])
        return await conn.receive_message(), conn.pings

    (message, frames), (assembled, pings) = run(lambda: ws_pair(server, client))
    assert message == b"abc"
    assert frames == [(BINARY, False, True), (CONTINUATION, False, True), (CONTINUATION, True, True)]
    assert assembled == "fragments"
    assert pings == [b"p"]


def test_ws_pings_are_answered_and_pongs_recorded() -> None:
    async def server(conn: ServerConnection) -> Any:
        await conn.accept()
        await conn.ping(b"are you there")
        await conn.send_text("after the ping")
        pong = await conn.receive_pong()
        return pong, await conn.receive_message(), conn.pings

    async def client(conn: WebSocketConnection) -> Any:
        message = await conn.receive_message()  # answers the ping on the way
        await conn.ping(b"and you?")
        await conn.send_text("bye")
        return message, conn.pings, await conn.receive_pong()

    (pong, message, server_pings), (client_message, client_pings, client_pong) = run(lambda: ws_pair(server, client))
    assert (pong, message, server_pings) == (b"are you there", "bye", [b"and you?"])
    assert (client_message, client_pings, client_pong) == ("after the ping", [b"are you there"], b"and you?")


def test_ws_closing_handshake_from_the_client() -> None:
    async def server(conn: ServerConnection) -> Closed:
        await conn.accept()
        return await conn.wait_closed()

    async def client(conn: WebSocketConnection) -> Closed:
        return await conn.close(4000, "done")

    server_saw, client_saw = run(lambda: ws_pair(server, client))
    assert server_saw == Closed(4000, "done")
    assert client_saw == Closed(4000, "done")
    assert client_saw.describe() == "a close frame with code 4000 and reason 'done'"


def test_ws_close_instead_of_a_message_fails_with_the_code_and_the_transcript() -> None:
    async def server(conn: ServerConnection) -> Closed:
        await conn.accept()
        return await conn.close(1001)

    async def client(conn: WebSocketConnection) -> ConnectionClosedError:
        with pytest.raises(ConnectionClosedError) as caught:
            await conn.receive_message()
        return caught.value

    server_saw, error = run(lambda: ws_pair(server, client))
    assert server_saw == Closed(1001, "")
    assert error.closed == Closed(1001, "")
    assert (
        error.what
        == "expected a message but the implementation ended the connection with " + Closed(1001, "").describe() + "."
    )
    assert error.transcript is not None and error.transcript.startswith("   >> b'GET / HTTP/1.1")


def test_ws_dropped_connection_is_told_from_a_close_frame() -> None:
    async def server(conn: ServerConnection) -> None:
        await conn.accept()
        await conn.aclose()

    async def client(conn: WebSocketConnection) -> Closed:
        return await conn.wait_closed()

    _, closed = run(lambda: ws_pair(server, client))
    assert closed == Closed(None, "", dropped=True)
    assert closed.describe() == "the TCP connection was dropped without a close frame"


def test_ws_server_rejects_an_unmasked_client_frame() -> None:
    async def server(conn: ServerConnection) -> ProtocolViolation:
        await conn.accept()
        with pytest.raises(ProtocolViolation) as caught:
            await conn.receive_message()
        return caught.value

    async def client(conn: WebSocketConnection) -> None:
        await conn.send_raw(frame(TEXT, b"bare", mask=False))

    error, _ = run(lambda: ws_pair(server, client))
    assert error.what.startswith("wsproto rejected a frame from the implementation's client: ")
    assert error.transcript is not None and "\\x81\\x04bare" in error.transcript


def test_ws_client_rejects_a_masked_server_frame() -> None:
    async def server(conn: ServerConnection) -> None:
        await conn.accept()
        await conn.send_raw(frame(TEXT, b"hidden", mask=True))
        await conn.wait_closed()

    async def client(conn: WebSocketConnection) -> ProtocolViolation:
        with pytest.raises(ProtocolViolation) as caught:
            await conn.receive_message()
        return caught.value

    _, error = run(lambda: ws_pair(server, client))
    assert error.what.startswith("wsproto rejected a frame from the implementation: ")


def test_ws_refused_handshake() -> None:
    async def server(conn: ServerConnection) -> None:
        await conn.reject(403)

    async def client(conn: WebSocketConnection) -> Any:
        assert conn.handshake is not None
        return conn.handshake.accepted, conn.handshake.status

    _, handshake = run(lambda: ws_pair(server, client))
    assert handshake == (False, 403)


def test_ws_frames_sent_with_the_101_are_not_lost() -> None:
    async def server(stream: anyio.abc.SocketStream) -> None:
        ws = WSConnection(ConnectionType.SERVER)
        ws.receive_data(await read_until(stream, b"\r\n\r\n"))
        assert [type(e) for e in ws.events()] == [Request]
        await stream.send(ws.send(AcceptConnection()) + frame(TEXT, b"early", mask=False))
        await forever()

    async def main() -> str | bytes:
        async with raw_server(server) as (host, port), await WebSocketConnection.open(host, port, timeout=LONG) as conn:
            return await conn.receive_message()

    assert run(main) == "early"


def test_ws_handshake_without_an_answer_times_out_in_time() -> None:
    async def main() -> None:
        async with raw_server(replies(close=False)) as (host, port):
            await WebSocketConnection.open(host, port, timeout=SHORT)

    started = time.monotonic()
    with pytest.raises(Timeout) as caught:
        run(main)
    assert_in_time(started)
    assert "did not answer the WebSocket opening handshake within 0.2s" in caught.value.what
    assert caught.value.transcript is not None and "Sec-WebSocket-Key" in caught.value.transcript


def test_ws_silent_peer_times_out_in_time_on_both_sides() -> None:
    # Either side's deadline may expire first (the client may start waiting before the
    # server does): the client keeps the connection open until the server's own timeout
    # has come, so the server never sees the client's close instead.
    server_timed_out = anyio.Event()

    async def server(conn: ServerConnection) -> Any:
        await conn.accept()
        started = time.monotonic()
        try:
            with pytest.raises(Timeout) as caught:
                await conn.receive_message()
        finally:
            server_timed_out.set()
        return started, caught.value

    async def client(conn: WebSocketConnection) -> Any:
        started = time.monotonic()
        with pytest.raises(Timeout) as caught:
            await conn.receive_message()
        with anyio.fail_after(LONG):
            await server_timed_out.wait()
        return started, caught.value

    (server_started, server_error), (client_started, client_error) = run(lambda: ws_pair(server, client, SHORT))
    assert_in_time(server_started)
    assert_in_time(client_started)
    for error in (server_error, client_error):
        assert "did not send a WebSocket message within 0.2s" in error.what


def test_ws_server_without_a_client_times_out_in_time() -> None:
    async def main() -> None:
        async with await WebSocketServer.listen(SHORT) as kit:
            await kit.accept()

    started = time.monotonic()
    with pytest.raises(Timeout, match="did not connect to the kit's server"):
        run(main)
    assert_in_time(started)


def test_ws_raw_answer_and_eof() -> None:
    async def server(conn: ServerConnection) -> bytes:
        await conn.respond_raw(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        await conn.wait_eof()
        return bytes(conn.received)

    async def client(stream: anyio.abc.SocketStream) -> None:
        await stream.send(WSConnection(ConnectionType.CLIENT).send(Request(host="h", target="/")))
        await read_until(stream, b"\r\n\r\n")
        await stream.send(frame(CLOSE, b""))

    async def main() -> Any:
        async with raw_client(client) as stream:
            conn = ServerConnection(stream, LONG)
            return await server(conn), conn.frames()

    received, frames = run(main)
    assert received.startswith(b"GET / HTTP/1.1\r\n")
    assert [(f.opcode, f.masked) for f in frames] == [(CLOSE, True)]
