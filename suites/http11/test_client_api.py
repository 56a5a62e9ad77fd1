"""The client side, the documented API of ``AsyncHTTPClient``: timeouts, callbacks, options and the response.

Each check drives the implementation's client (a fresh ``AsyncHTTPClient(force_instance=True)``)
against the kit's h11-judged scripted server (fixture ``h11_server``), or, where a check must
see bytes the client sends before any answer (``expect_100_continue``) or a listener that
never accepts (``connect_timeout``), against a bare socket of the kit. What the client
returns is summarised on its loop into plain values, then judged here.

References: Tornado docs, ``tornado.httpclient`` (``HTTPRequest``, ``HTTPResponse``,
``HTTPClientError``, ``AsyncHTTPClient``, ``HTTPClient``) and ``SimpleAsyncHTTPClient``
(https://www.tornadoweb.org/en/stable/httpclient.html); RFC 9110 §10.1.1 (Expect),
§11.7.1 and RFC 7617 §2 (Basic credentials).
"""

from __future__ import annotations

import base64
import datetime
import gzip
import socket
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.abc
import anyio.to_thread
import pytest

from conformance import Level, Violation, check, not_provided, requires

pytestmark = [pytest.mark.http11, requires("httpclient")]

#: A timeout that must elapse (the server never answers): short, judged by the outcome only.
SHORT = 0.01
#: The request_timeout of a request queued behind max_clients busy ones: a client that does
#: not queue it must have sent it to the kit's server before this elapses, even on a loaded
#: machine, for the defect to be seen.
QUEUED_TIMEOUT = 0.2
BODY = b"the body of the kit's response, " * 8


@dataclass
class Outcome:
    """What one ``fetch`` ended with, summarised on the implementation's loop."""

    code: int | None = None
    reason: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    effective_url: str | None = None
    request_time: Any = None
    time_info: Any = None
    error: str | None = None  #: ``Type(message)`` of the exception the fetch ended with
    client_error: bool = False  #: that exception is the client's HTTPClientError
    response: Outcome | None = None  #: the response an HTTPClientError carries

    @property
    def ok(self) -> bool:
        return self.error is None

    def header_list(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def describe(self) -> str:
        if self.error is not None:
            kind = "an HTTPClientError" if self.client_error else "an exception that is no HTTPClientError"
            code = f" with code {self.code}" if self.code is not None else ""
            return f"{kind}{code}: {self.error}"
        body = self.body or b""
        shown = repr(body) if len(body) <= 60 else f"{body[:40]!r}... ({len(body)} bytes)"
        return f"a {self.code} response with body {shown}"


def _summary(httpclient: Any, response: Any = None, exc: BaseException | None = None, carried: bool = False) -> Outcome:
    client_error_class = getattr(httpclient, "HTTPClientError", None) or getattr(httpclient, "HTTPError", None)
    if response is not None and not carried:
        error = getattr(response, "error", None)
        # Before Tornado 6.0, raise_error=False also returned transport errors (a 599 response
        # carrying them): the same outcome in an older spelling, read as the error it is.
        if response.code == 599 and isinstance(error, Exception):
            exc, response = error, None
    if exc is not None:
        is_client_error = client_error_class is not None and isinstance(exc, client_error_class)
        response = getattr(exc, "response", None) if is_client_error else None
        return Outcome(
            code=getattr(exc, "code", None) if is_client_error else None,
            error=f"{type(exc).__name__}({exc})",
            client_error=is_client_error,
            response=_summary(httpclient, response, carried=True) if response is not None else None,
        )
    headers = response.headers
    pairs = list(headers.get_all()) if hasattr(headers, "get_all") else list(headers.items())
    return Outcome(
        code=response.code,
        reason=getattr(response, "reason", None),
        headers=[(str(k), str(v)) for k, v in pairs],
        body=response.body,
        effective_url=getattr(response, "effective_url", None),
        request_time=getattr(response, "request_time", None),
        time_info=getattr(response, "time_info", None),
    )


async def _settle(httpclient: Any, pending: Any) -> Outcome:
    """Await a ``fetch`` Future on the loop; its response or exception, summarised."""
    try:
        response = await pending
    except Exception as exc:
        return _summary(httpclient, exc=exc)
    return _summary(httpclient, response)


async def _with_client(h11_server: Any, what: str, body: Any, **client_kwargs: Any) -> Any:
    """Run ``body(httpclient, client)`` on the implementation's loop while the kit serves."""
    httpclient: Any = h11_server.impl.part("httpclient")
    if not hasattr(httpclient, "AsyncHTTPClient"):
        not_provided(f"{h11_server.impl.name}'s httpclient part has no AsyncHTTPClient")

    async def impl_side() -> Any:
        client = httpclient.AsyncHTTPClient(force_instance=True, **client_kwargs)
        try:
            return await body(httpclient, client)
        finally:
            client.close()

    return await h11_server.kit.run(impl_side, what)


async def _fetch(h11_server: Any, request: Any, *, client_kwargs: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """One ``fetch(request, raise_error=False, **kwargs)``; ``request`` may be a function of
    the httpclient part (to build an HTTPRequest)."""
    kwargs.setdefault("raise_error", False)

    async def body(httpclient: Any, client: Any) -> Outcome:
        target = request(httpclient) if callable(request) else request
        try:
            pending = client.fetch(target, **kwargs)
        except Exception as exc:
            return _summary(httpclient, exc=exc)
        return await _settle(httpclient, pending)

    return await _with_client(h11_server, "fetch", body, **(client_kwargs or {}))


def _silent():
    """A responder that reads the request and never answers it."""

    async def respond(request, conn):
        return None

    return respond


def _answer(status=200, fields=(), body=BODY, reason=None):
    async def respond(request, conn):
        await conn.respond(status, [("Content-Type", "text/plain"), *fields], body, reason=reason)

    return respond


def _seen(h11_server) -> str:
    return ", ".join(r.describe() for r in h11_server.requests) or "no request"


def _is_timeout(outcome: Outcome) -> bool:
    return outcome.client_error and outcome.code == 599


# -- timeouts ---------------------------------------------------------------------------


@check("Tornado docs: HTTPRequest (request_timeout), HTTPClientError (code 599)", Level.TORNADO)
@pytest.mark.parametrize("raise_error", [True, False], ids=["raise-error", "raise-error-false"])
async def test_client_request_timeout_ends_the_fetch_with_code_599(h11_server, raise_error):
    """Tornado docs, HTTPRequest: "``request_timeout`` -- Timeout for entire request in
    seconds". HTTPClientError: "``code`` - HTTP error integer error code, e.g. 404. Error
    code 599 is used when no HTTP response was received, e.g. for a timeout." AsyncHTTPClient.
    fetch: "The ``raise_error=False`` argument only affects the ``HTTPError`` raised when a
    non-200 response code is used, instead of suppressing all errors" (before 6.0 the 599
    came back as a response carrying the error: read as the same outcome). The kit's server
    reads the request and never answers; ``request_timeout`` is 0.01 s."""
    origin = await h11_server.listen(_silent())
    outcome = await _fetch(h11_server, origin.url("/silent"), request_timeout=SHORT, raise_error=raise_error)
    if not _is_timeout(outcome):
        raise Violation(
            f"a request the server never answered did not end, after request_timeout={SHORT}, with the "
            "HTTPClientError of code 599 Tornado documents for 'no HTTP response was received, e.g. for a timeout'.",
            expected="an HTTPClientError with code 599",
            observed=f"{outcome.describe()} (requests: {_seen(h11_server)})",
            transcript=h11_server.transcripts(),
        )


def _fill_the_accept_queue(listener: socket.socket, fillers: list[socket.socket]) -> bool:
    """Connect to ``listener`` (which never accepts) until a connection does not complete:
    its accept queue is then full. Loopback completes a handshake in the kernel at once, so a
    connection still pending after 0.1 s is one whose SYN was dropped. The pending probe is
    closed; the completed ones are kept in ``fillers`` (closed by the caller)."""
    import select

    for _ in range(64):
        probe = socket.socket()
        probe.setblocking(False)
        probe.connect_ex(listener.getsockname())
        _, writable, _ = select.select([], [probe], [], 0.1)
        if not writable:
            probe.close()
            return True
        fillers.append(probe)
    return False


@check("Tornado docs: HTTPRequest (connect_timeout), HTTPClientError (code 599)", Level.TORNADO)
async def test_client_connect_timeout_ends_the_fetch_with_code_599(h11_server):
    """Tornado docs, HTTPRequest: "``connect_timeout`` -- Timeout for initial connection in
    seconds"; HTTPClientError: "Error code 599 is used when no HTTP response was received,
    e.g. for a timeout." The kit listens with a backlog of 0 and fills its accept queue with
    connections it never accepts, until one more connection does not complete (on Linux the
    client's SYN is then dropped: how many fit depends on the runtime's listen(), 1 on
    CPython, more on PyPy); elsewhere the check is not run. ``connect_timeout`` is 0.01 s;
    ``request_timeout`` keeps its default."""
    if not sys.platform.startswith("linux"):
        not_provided("a listener that never completes a connection is deterministic on Linux loopback only")
    listener = socket.socket()
    fillers: list[socket.socket] = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        if not _fill_the_accept_queue(listener, fillers):
            not_provided("the kit could not fill a loopback listener's accept queue here (every connection completed)")
        url = "http://{}:{}/never-accepted".format(*listener.getsockname())
        outcome = await _fetch(h11_server, url, connect_timeout=SHORT)
    finally:
        for filler in fillers:
            filler.close()
        listener.close()
    if not _is_timeout(outcome):
        raise Violation(
            f"a connection that never completed did not end the fetch, after connect_timeout={SHORT}, with the "
            "HTTPClientError of code 599 Tornado documents for a timeout.",
            expected="an HTTPClientError with code 599",
            observed=outcome.describe(),
        )


@check("Tornado docs: HTTPRequest (connect_timeout, request_timeout)", Level.TORNADO)
@pytest.mark.parametrize("option", ["request_timeout", "connect_timeout"])
async def test_client_zero_timeout_means_no_timeout(h11_server, option):
    """Tornado docs, HTTPRequest: "``connect_timeout`` -- Timeout for initial connection in
    seconds, default 20 seconds (0 means no timeout)"; "``request_timeout`` -- Timeout for
    entire request in seconds, default 20 seconds (0 means no timeout)" (Tornado 6.1 release
    notes). The kit's server answers at once: a 0 read as a deadline already past ends the
    fetch with a timeout instead. A fetch that has not ended 1 s later (a 0 read as "never
    start") is reported as such, without waiting out the kit's deadline."""
    origin = await h11_server.listen(_answer())

    async def body(httpclient, client):
        gen: Any = h11_server.impl.part("gen")
        pending = client.fetch(origin.url("/prompt"), raise_error=False, **{option: 0})
        try:
            response = await gen.with_timeout(datetime.timedelta(seconds=1), pending)
        except gen.TimeoutError:
            return Outcome(error="nothing: the fetch had not ended 1 s after it started")
        except Exception as exc:
            return _summary(httpclient, exc=exc)
        return _summary(httpclient, response)

    outcome = await _with_client(h11_server, "fetch", body)
    if outcome.code != 200 or outcome.body != BODY:
        raise Violation(
            f"with {option}=0 (documented as no timeout), a request the server answered at once did not return.",
            expected="a 200 response with the kit's body",
            observed=f"{outcome.describe()} (requests: {_seen(h11_server)})",
            transcript=h11_server.transcripts(),
        )


# -- max_clients: the queue -------------------------------------------------------------


@check("Tornado docs: AsyncHTTPClient.configure, SimpleAsyncHTTPClient (max_clients)", Level.TORNADO)
@pytest.mark.parametrize("max_clients", [1, 2], ids=["max-clients-1", "max-clients-2"])
async def test_client_queues_requests_beyond_max_clients(h11_server, max_clients):
    """Tornado docs, SimpleAsyncHTTPClient: "``max_clients`` is the number of concurrent
    requests that can be in progress; when this limit is reached additional requests will be
    queued. Note that time spent waiting in this queue still counts against the
    ``request_timeout``." ``max_clients`` fetches hold every slot (the kit's server answers
    them only once the last fetch has ended), and one more, started last with a
    ``request_timeout`` of 0.2 s, must time out in the queue (code 599) without ever reaching
    the server."""
    settled = threading.Event()

    async def respond(request, conn):
        if request.target.startswith("/busy/"):
            await anyio.to_thread.run_sync(settled.wait, h11_server.kit.timeout)
        await conn.respond(200, [("Content-Type", "text/plain")], BODY)

    origin = await h11_server.listen(respond)

    async def body(httpclient, client):
        busy = [client.fetch(origin.url(f"/busy/{i}"), raise_error=False) for i in range(max_clients)]
        queued = client.fetch(origin.url("/queued"), request_timeout=QUEUED_TIMEOUT, raise_error=False)
        try:
            last = await _settle(httpclient, queued)
        finally:
            settled.set()
        return [*[await _settle(httpclient, p) for p in busy], last]

    outcomes = await _with_client(h11_server, "fetch", body, max_clients=max_clients)
    targets = sorted(r.target for r in h11_server.requests)
    if "/queued" in targets or not _is_timeout(outcomes[-1]):
        raise Violation(
            f"with max_clients={max_clients} and {max_clients} requests in progress, one more request was not "
            "queued until its request_timeout ran out (queue time counts against it).",
            expected="/queued never sent; its fetch an HTTPClientError with code 599",
            observed=f"requests {targets}; the last fetch {outcomes[-1].describe()}",
            transcript=h11_server.transcripts(),
        )


@check("Tornado docs: SimpleAsyncHTTPClient (max_clients)", Level.TORNADO)
async def test_client_runs_a_queued_request_once_a_slot_frees(h11_server):
    """Tornado docs, SimpleAsyncHTTPClient: "when this limit is reached additional requests
    will be queued". A queued request runs once a request in progress ends: with
    ``max_clients=1``, /busy (never answered, ``request_timeout`` 0.01 s) ends with its
    timeout, and /next, queued behind it, must then be sent and answered."""

    async def respond(request, conn):
        if request.target != "/busy":
            await conn.respond(200, [("Content-Type", "text/plain")], BODY)

    origin = await h11_server.listen(respond)

    async def body(httpclient, client):
        busy = client.fetch(origin.url("/busy"), request_timeout=SHORT, raise_error=False)
        queued = client.fetch(origin.url("/next"), request_timeout=1.0, raise_error=False)
        return [await _settle(httpclient, busy), await _settle(httpclient, queued)]

    busy, queued = await _with_client(h11_server, "fetch", body, max_clients=1)
    if queued.code != 200 or queued.body != BODY:
        raise Violation(
            "with max_clients=1, the request queued behind one that timed out was not served once the slot freed.",
            expected="/busy times out (599), then /next is sent and returns 200",
            observed=f"/busy: {busy.describe()}; /next: {queued.describe()} (requests: {_seen(h11_server)})",
            transcript=h11_server.transcripts(),
        )


# -- callbacks ------------------------------------------------------------------------


async def _respond_framed(conn, framing, fields, body):
    if framing == "chunked":
        await conn.respond(200, fields, chunks=[body[i : i + 50] for i in range(0, len(body), 50)])
    elif framing == "close-delimited":
        head = b"".join(f"{k}: {v}\r\n".encode() for k, v in fields)
        await conn.send_raw(b"HTTP/1.1 200 OK\r\n" + head + b"\r\n" + body, close=True)
    else:
        await conn.respond(200, fields, body)


@check("Tornado docs: HTTPRequest (header_callback)", Level.TORNADO)
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_client_header_callback_gets_the_status_line_each_field_then_a_blank_line(h11_server, framing):
    """Tornado docs, HTTPRequest: "``header_callback`` -- If set, ``header_callback`` will be
    run with each header line as it is received (including the first line, e.g. ``HTTP/1.0
    200 OK\\r\\n``, and a final line containing only ``\\r\\n``. All lines include the
    trailing newline characters)." The kit's response has X-One and X-Two (in that order)."""
    fields = [("Content-Type", "text/plain"), ("X-One", "first"), ("X-Two", "second")]

    async def respond(request, conn):
        await _respond_framed(conn, framing, fields, BODY)

    origin = await h11_server.listen(respond)

    async def body(httpclient, client):
        lines: list[str] = []
        outcome = await _settle(
            httpclient, client.fetch(origin.url("/headers"), header_callback=lines.append, raise_error=False)
        )
        return outcome, [line if isinstance(line, str) else line.decode("latin-1") for line in lines]

    outcome, lines = await _with_client(h11_server, "fetch", body)
    middle = [line.lower() for line in lines[1:-1]]
    fine = (
        outcome.code == 200
        and len(lines) >= 2
        and lines[0].startswith("HTTP/1.1 200")
        and lines[0].endswith("\r\n")
        and lines[-1] == "\r\n"
        and all(line.endswith("\r\n") and ": " in line for line in middle)
        and "x-one: first\r\n" in middle
        and "x-two: second\r\n" in middle
        and middle.index("x-one: first\r\n") < middle.index("x-two: second\r\n")
    )
    if not fine:
        raise Violation(
            "header_callback was not called with the status line first, then each field line in order, then a "
            "line containing only CRLF, each with its trailing CRLF.",
            expected="['HTTP/1.1 200 OK\\r\\n', ..., 'X-One: first\\r\\n', 'X-Two: second\\r\\n', ..., '\\r\\n']",
            observed=f"{lines!r}, then {outcome.describe()}",
            transcript=h11_server.transcripts(),
        )


CODED_BODY = gzip.compress(BODY * 4)


@check("Tornado docs: HTTPRequest (streaming_callback)", Level.TORNADO)
@pytest.mark.parametrize("framing", ["content-length", "chunked", "close-delimited", "gzip-coded"])
async def test_client_streaming_callback_gets_the_body_in_order_and_keeps_none(h11_server, framing):
    """Tornado docs, HTTPRequest: "``streaming_callback`` -- If set, ``streaming_callback``
    will be run with each chunk of data as it is received, and ``HTTPResponse.body`` and
    ``HTTPResponse.buffer`` will be empty in the final response." The chunks, joined, are the
    body (decoded, for the gzip-coded case: ``decompress_response`` defaults to True)."""
    expected = BODY * 4 if framing == "gzip-coded" else BODY

    async def respond(request, conn):
        if framing == "gzip-coded":
            await _respond_framed(conn, "chunked", [("Content-Encoding", "gzip")], CODED_BODY)
        else:
            await _respond_framed(conn, framing, [("Content-Type", "text/plain")], BODY)

    origin = await h11_server.listen(respond)

    async def body(httpclient, client):
        chunks: list[bytes] = []
        outcome = await _settle(
            httpclient, client.fetch(origin.url("/stream"), streaming_callback=chunks.append, raise_error=False)
        )
        return outcome, [bytes(c) for c in chunks]

    outcome, chunks = await _with_client(h11_server, "fetch", body)
    if outcome.code != 200 or b"".join(chunks) != expected or outcome.body:
        raise Violation(
            f"streaming_callback did not receive the {framing} body in order, or the final response still "
            "carried a body.",
            expected=f"chunks joining to the {len(expected)} octets of the body; response.body empty",
            observed=f"{len(chunks)} chunks joining to {b''.join(chunks)[:40]!r}... "
            f"({len(b''.join(chunks))} octets); {outcome.describe()}",
            transcript=h11_server.transcripts(),
        )


PIECES = [b"first piece|", b"second piece|", b"third and last piece"]


@check("Tornado docs: HTTPRequest (body_producer)", Level.TORNADO)
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_client_body_producer_streams_the_request_body(h11_server, framing):
    """Tornado docs, HTTPRequest: "``body_producer`` -- Callable used for lazy/asynchronous
    request bodies. It is called with one argument, a ``write`` function, and should return a
    ``Future``. It should call the write function with new data as it becomes available. The
    write function returns a ``Future`` which can be used for flow control. ... When using
    ``body_producer`` it is recommended to pass a ``Content-Length`` in the headers as
    otherwise chunked encoding will be used". h11 reads the request body either way."""
    origin = await h11_server.listen(_answer())
    whole = b"".join(PIECES)
    headers = {"Content-Length": str(len(whole))} if framing == "content-length" else {}

    async def producer(write):
        for piece in PIECES:
            await write(piece)

    outcome = await _fetch(h11_server, origin.url("/upload"), method="POST", body_producer=producer, headers=headers)
    requests = h11_server.requests
    chunked = bool(requests) and "chunked" in (requests[0].header("transfer-encoding") or "").lower()
    if len(requests) != 1 or requests[0].body != whole or (framing == "chunked") != chunked or outcome.code != 200:
        raise Violation(
            f"a request body written by body_producer in {len(PIECES)} pieces did not reach the server whole "
            f"({'with the given Content-Length' if framing == 'content-length' else 'chunked'}).",
            expected=f"POST /upload with body {whole!r}, then 200",
            observed=(
                f"{requests[0].describe()} with body {requests[0].body!r}, Transfer-Encoding "
                f"{requests[0].header('transfer-encoding')!r}; {outcome.describe()}"
                if requests
                else f"no request; {outcome.describe()}"
            ),
            transcript=h11_server.transcripts(),
        )


# -- raise_error, redirects -------------------------------------------------------------


@check("Tornado docs: AsyncHTTPClient.fetch (raise_error)", Level.TORNADO)
@pytest.mark.parametrize("status", [404, 500])
async def test_client_returns_an_error_status_with_raise_error_false(h11_server, status):
    """Tornado docs, AsyncHTTPClient.fetch: "If it is an error, an ``HTTPError`` is raised
    unless the ``raise_error`` keyword argument is set to False, in which case the response
    is returned"."""
    origin = await h11_server.listen(_answer(status))
    outcome = await _fetch(h11_server, origin.url("/missing"), raise_error=False)
    if outcome.code != status or not outcome.ok or outcome.body != BODY:
        raise Violation(
            f"with raise_error=False, a {status} response was not returned as the response.",
            expected=f"a {status} response with the kit's body",
            observed=outcome.describe(),
            transcript=h11_server.transcripts(),
        )


@check("Tornado docs: AsyncHTTPClient.fetch (raise_error), HTTPClientError (response)", Level.TORNADO)
@pytest.mark.parametrize("status", [404, 500])
async def test_client_raises_an_error_status_by_default(h11_server, status):
    """Tornado docs, AsyncHTTPClient.fetch: "If it is an error, an ``HTTPError`` is raised
    unless the ``raise_error`` keyword argument is set to False". HTTPClientError: "``code``
    - HTTP error integer error code, e.g. 404 ... ``response`` - ``HTTPResponse`` object, if
    any."."""
    origin = await h11_server.listen(_answer(status))
    outcome = await _fetch(h11_server, origin.url("/missing"), raise_error=True)
    carried = outcome.response
    if not outcome.client_error or outcome.code != status or carried is None or carried.body != BODY:
        raise Violation(
            f"with the default raise_error=True, a {status} response did not raise an HTTPClientError with that "
            "code carrying the response.",
            expected=f"an HTTPClientError with code {status} whose response has the kit's body",
            observed=outcome.describe() + (f" carrying {carried.describe()}" if carried else ""),
            transcript=h11_server.transcripts(),
        )


@check("Tornado docs: HTTPRequest (follow_redirects), AsyncHTTPClient.fetch (raise_error)", Level.TORNADO)
async def test_client_returns_the_redirect_with_raise_error_false(h11_server):
    """Tornado docs, HTTPRequest: "``follow_redirects`` -- Should redirects be followed
    automatically or return the 3xx response?"; AsyncHTTPClient.fetch: with ``raise_error``
    False "the response is returned" (a 3xx is an error status once not followed)."""
    origin = await h11_server.listen(_answer(302, [("Location", "/elsewhere")], b""))
    outcome = await _fetch(h11_server, origin.url("/moved"), follow_redirects=False, raise_error=False)
    if not outcome.ok or outcome.code != 302 or outcome.header_list("Location") != ["/elsewhere"]:
        raise Violation(
            "with follow_redirects=False and raise_error=False, the 302 was not returned as the response.",
            expected="a 302 response with 'Location: /elsewhere'",
            observed=f"{outcome.describe()} (requests: {_seen(h11_server)})",
            transcript=h11_server.transcripts(),
        )


def _hops(stop_after):
    async def respond(request, conn):
        hop = int(request.target.rsplit("/", 1)[-1])
        if hop >= stop_after:
            await conn.respond(200, [("Content-Type", "text/plain")], BODY)
        else:
            await conn.respond(302, [("Location", f"/hop/{hop + 1}")])

    return respond


@check("Tornado docs: HTTPRequest (max_redirects)", Level.TORNADO)
@pytest.mark.parametrize(
    ("limit", "chain"), [pytest.param(0, 3, id="zero-follows-none"), pytest.param(3, 3, id="exactly-the-limit")]
)
async def test_client_follows_exactly_max_redirects(h11_server, limit, chain):
    """Tornado docs, HTTPRequest: "``max_redirects`` -- Limit for ``follow_redirects``, default
    5." A chain of ``chain`` redirects ends in a 200: with ``max_redirects`` equal to its
    length it is followed to the end; with 0, no redirect is followed and the first 302 ends
    the fetch (returned, or raised as an HTTPClientError with that code)."""
    origin = await h11_server.listen(_hops(chain))
    outcome = await _fetch(h11_server, origin.url("/hop/0"), max_redirects=limit)
    code = outcome.code
    want_requests, want_code = (chain + 1, 200) if limit >= chain else (limit + 1, 302)
    if len(h11_server.requests) != want_requests or code != want_code:
        raise Violation(
            f"with max_redirects={limit} along a chain of {chain} redirects, the client did not follow exactly "
            f"{min(limit, chain)} of them.",
            expected=f"{want_requests} requests, then {want_code}",
            observed=f"{len(h11_server.requests)} requests ({_seen(h11_server)}), then {outcome.describe()}",
            transcript=h11_server.transcripts(),
        )


# -- content coding ---------------------------------------------------------------------


@check("Tornado docs: HTTPRequest (decompress_response)", Level.TORNADO)
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_client_keeps_the_coded_body_with_decompress_response_false(h11_server, framing):
    """Tornado docs, HTTPRequest: "``decompress_response`` -- Request a compressed response
    from the server and decompress it after downloading. Default is True." With False, the
    gzip-coded body the kit's server sends anyway is returned as it came, Content-Encoding
    and all."""

    async def respond(request, conn):
        await _respond_framed(conn, framing, [("Content-Encoding", "gzip")], CODED_BODY)

    origin = await h11_server.listen(respond)
    outcome = await _fetch(h11_server, origin.url("/coded"), decompress_response=False)
    if outcome.code != 200 or outcome.body != CODED_BODY:
        raise Violation(
            "with decompress_response=False, the gzip-coded body was not returned as the coded octets.",
            expected=f"a 200 response with the {len(CODED_BODY)} coded octets",
            observed=outcome.describe(),
            transcript=h11_server.transcripts(),
        )


_GOOD = gzip.compress(BODY)
CORRUPT_GZIP = [
    pytest.param(b"\x1f\x8b\x08\x00" + b"this is not deflate data at all" * 3, id="bad-deflate-data"),
    pytest.param(_GOOD[:-8] + bytes(b ^ 0xFF for b in _GOOD[-8:-4]) + _GOOD[-4:], id="bad-crc"),
]


@check("RFC 9110 §8.4.1.3; Tornado docs: HTTPRequest (decompress_response)", Level.TORNADO)
@pytest.mark.parametrize("coded", CORRUPT_GZIP)
async def test_client_refuses_a_corrupt_gzip_body(h11_server, coded):
    """Tornado docs, HTTPRequest: "``decompress_response`` -- ... decompress it after
    downloading." RFC 9110 §8.4.1.3 names gzip as "An LZ77 coding with a 32-bit Cyclic
    Redundancy Check (CRC)": a body that does not decode, or whose CRC does not match, is no
    gzip-coded body, and returning it (or part of it) as the content hides the damage."""

    async def respond(request, conn):
        await conn.respond(200, [("Content-Encoding", "gzip")], coded)

    origin = await h11_server.listen(respond)
    outcome = await _fetch(h11_server, origin.url("/corrupt"))
    if outcome.ok:
        raise Violation(
            "the client returned a response whose gzip-coded body does not decode.",
            expected="fetch raises",
            observed=outcome.describe(),
            transcript=h11_server.transcripts(),
        )


# -- what the request carries -----------------------------------------------------------


@check("Tornado docs: HTTPRequest (user_agent, headers)", Level.TORNADO)
@pytest.mark.parametrize("case", ["user-agent", "repeated-field"])
async def test_client_sends_the_user_agent_and_the_header_fields(h11_server, case):
    """Tornado docs, HTTPRequest: "``user_agent`` -- String to send as ``User-Agent``
    header"; "``headers`` -- Additional HTTP headers to pass on the request" (an
    ``HTTPHeaders``, which holds a field given twice as two values)."""
    origin = await h11_server.listen(_answer())
    if case == "user-agent":
        outcome = await _fetch(h11_server, origin.url("/ua"), user_agent="conformance-agent/1.0")
        field_name, want = "user-agent", ["conformance-agent/1.0"]
    else:

        def request(httpclient):
            httputil: Any = h11_server.impl.part("httputil")
            headers = httputil.HTTPHeaders()
            headers.add("X-Many", "first")
            headers.add("X-Many", "second")
            return httpclient.HTTPRequest(origin.url("/many"), headers=headers)

        outcome = await _fetch(h11_server, request)
        field_name, want = "x-many", ["first", "second"]
    got = h11_server.requests[0].header_list(field_name) if h11_server.requests else None
    if got != want or outcome.code != 200:
        raise Violation(
            f"the request did not carry the {field_name} field{'s' if len(want) > 1 else ''} it was given.",
            expected=f"{field_name}: {want}",
            observed=f"{field_name}: {got} ({_seen(h11_server)}); {outcome.describe()}",
            transcript=h11_server.transcripts(),
        )


CREDENTIALS = [
    pytest.param("alice", "secret", id="plain"),
    pytest.param("bob", "pass:with:colons", id="colon-in-password"),
    pytest.param("zoë", "pässwörd", id="utf-8"),
]


@check("RFC 7617 §2; Tornado docs: HTTPRequest (auth_username, auth_password, auth_mode)", Level.TORNADO)
@pytest.mark.parametrize(("username", "password"), CREDENTIALS)
async def test_client_sends_basic_credentials(h11_server, username, password):
    """Tornado docs, HTTPRequest: "``auth_username`` -- Username for HTTP authentication";
    "``auth_mode`` -- Authentication mode; default is "basic"." RFC 7617 §2: "the user-id
    and password are ... concatenated with a single colon (":") character" and encoded with
    Base64; "The user-id and password MUST NOT contain any control characters" (a colon in
    the password is fine, only the first one splits). Tornado encodes them in UTF-8 (RFC
    7617 §2.1 charset="UTF-8")."""
    origin = await h11_server.listen(_answer())
    outcome = await _fetch(h11_server, origin.url("/private"), auth_username=username, auth_password=password)
    want = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    got = h11_server.requests[0].header("authorization") if h11_server.requests else None
    if got != want or outcome.code != 200:
        raise Violation(
            "the request did not carry the Basic credentials of auth_username and auth_password.",
            expected=f"Authorization: {want}",
            observed=f"Authorization: {got!r}; {outcome.describe()}",
            transcript=h11_server.transcripts(),
        )


@check("Tornado docs: HTTPRequest (auth_mode)", Level.TORNADO)
async def test_client_never_sends_basic_credentials_for_digest(h11_server):
    """Tornado docs, HTTPRequest: "``auth_mode`` -- Authentication mode; default is "basic".
    Allowed values are implementation-defined; ``CurlAsyncHTTPClient`` supports "basic" and
    "digest"; ``simple_httpclient`` only supports "basic"". A client asked for digest either
    refuses the fetch or does digest; sending the password in clear as Basic is neither."""
    origin = await h11_server.listen(_answer())
    outcome = await _fetch(
        h11_server, origin.url("/private"), auth_username="alice", auth_password="secret", auth_mode="digest"
    )
    sent = [r.header("authorization") for r in h11_server.requests]
    if any((value or "").lower().startswith("basic") for value in sent):
        raise Violation(
            "asked for auth_mode='digest', the client sent the credentials as Basic (the password in clear).",
            expected="fetch refused (simple_httpclient raises ValueError), or digest",
            observed=f"Authorization {sent}; {outcome.describe()}",
            transcript=h11_server.transcripts(),
        )


NONSTANDARD = [
    pytest.param("PROPFIND", None, id="unknown-method"),
    pytest.param("POST", None, id="post-without-body"),
    pytest.param("GET", b"a body on GET", id="get-with-body"),
]


@check("Tornado docs: HTTPRequest (allow_nonstandard_methods)", Level.TORNADO)
@pytest.mark.parametrize(("method", "body"), NONSTANDARD)
async def test_client_sends_nonstandard_requests_when_allowed(h11_server, method, body):
    """Tornado docs, HTTPRequest: "``allow_nonstandard_methods`` -- Allow unknown values for
    ``method`` argument? Default is False." With it True, the client sends what it is given:
    an unknown method, a POST without a body, a GET with one."""
    origin = await h11_server.listen(_answer())
    outcome = await _fetch(h11_server, origin.url("/odd"), method=method, body=body, allow_nonstandard_methods=True)
    requests = h11_server.requests
    if len(requests) != 1 or requests[0].method != method or requests[0].body != (body or b""):
        raise Violation(
            f"with allow_nonstandard_methods=True, a {method} request{' with a body' if body else ''} was not sent "
            "as given.",
            expected=f"{method} /odd with body {body or b''!r}",
            observed=f"{_seen(h11_server)} with body {requests[0].body if requests else None!r}; {outcome.describe()}",
            transcript=h11_server.transcripts(),
        )


@check("Tornado docs: HTTPRequest (allow_nonstandard_methods)", Level.TORNADO)
async def test_client_refuses_an_unknown_method_by_default(h11_server):
    """Tornado docs, HTTPRequest: "``allow_nonstandard_methods`` -- Allow unknown values for
    ``method`` argument? Default is False." Without it, PROPFIND is refused: the fetch
    raises, and nothing is sent."""
    origin = await h11_server.listen(_answer())
    outcome = await _fetch(h11_server, origin.url("/odd"), method="PROPFIND")
    if outcome.ok or h11_server.requests:
        raise Violation(
            "without allow_nonstandard_methods, the client sent the unknown method PROPFIND.",
            expected="fetch raises, no request sent",
            observed=f"{_seen(h11_server)}; {outcome.describe()}",
            transcript=h11_server.transcripts(),
        )


async def _read_head_then_answer(listener, timeout, answer):
    """Accept one connection, read its request head, send ``answer``, then read to the end."""
    with anyio.fail_after(timeout):
        stream = await listener.accept()
        async with stream:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = await stream.receive()
                data += chunk
            head, _, early = data.partition(b"\r\n\r\n")
            await stream.send(answer)
            rest = b""
            try:
                while True:
                    rest += await stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError, ConnectionError):
                pass
    return head, early + rest


@check("Tornado docs: HTTPRequest (expect_100_continue); RFC 9110 §10.1.1", Level.TORNADO)
@pytest.mark.parametrize("answer", ["continue-granted", "final-response-first"])
async def test_client_waits_for_100_continue_before_the_body(h11_server, answer):
    """Tornado docs, HTTPRequest: "``expect_100_continue`` -- If true, send the ``Expect:
    100-continue`` header and wait for a continue response before sending the request body."
    RFC 9110 §10.1.1: "A client that sends a 100-continue expectation is not required to wait"
    (hence TORNADO: Tornado documents that it waits). Granted, the body follows the 100
    (the kit's h11 server grants it); answered at once with a final 417, the body is never
    sent: the kit reads the head, answers, and reads until the client closes."""
    whole = b"a body held back until the server says so"
    if answer == "continue-granted":
        origin = await h11_server.listen(_answer())
        outcome = await _fetch(h11_server, origin.url("/upload"), method="PUT", body=whole, expect_100_continue=True)
        requests = h11_server.requests
        expect = requests[0].header("expect") if requests else None
        if len(requests) != 1 or (expect or "").lower() != "100-continue" or requests[0].body != whole:
            raise Violation(
                "with expect_100_continue=True, the request did not carry 'Expect: 100-continue' and its body "
                "after the server's 100.",
                expected=f"PUT /upload with Expect: 100-continue and body {whole!r}",
                observed=f"{_seen(h11_server)}, Expect {expect!r}; {outcome.describe()}",
                transcript=h11_server.transcripts(),
            )
        return
    multi = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    listener = multi.listeners[0]
    port = listener.extra(anyio.abc.SocketAttribute.local_address)[1]
    final = b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    seen: dict[str, Any] = {}

    async def serve():
        seen["head"], seen["body"] = await _read_head_then_answer(listener, h11_server.kit.timeout, final)

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(serve)
            outcome = await _fetch(
                h11_server, f"http://127.0.0.1:{port}/upload", method="PUT", body=whole, expect_100_continue=True
            )
    finally:
        await listener.aclose()
    head, sent_body = seen.get("head", b""), seen.get("body", b"")
    if b"expect: 100-continue" not in head.lower() or sent_body:
        raise Violation(
            "with expect_100_continue=True, the client sent its body although the server answered the head with a "
            "final 417 and never a 100 (or the head carried no 'Expect: 100-continue').",
            expected="a head with Expect: 100-continue, then no body",
            observed=f"head {head!r}; body {sent_body!r}; {outcome.describe()}",
        )


@check("Tornado docs: HTTPRequest (proxy_host)", Level.TORNADO)
async def test_client_does_not_bypass_a_proxy_it_was_given(h11_server):
    """Tornado docs, HTTPRequest: "``proxy_host`` -- HTTP proxy hostname. To use proxies,
    ``proxy_host`` and ``proxy_port`` must be set ... proxies are currently only supported
    with ``curl_httpclient``." A client given a proxy either uses it or refuses the fetch
    (simple_httpclient raises NotImplementedError); it never sends the request straight to
    the origin as if no proxy were set. The proxy is a second kit server."""
    target = await h11_server.listen(_answer())
    proxy = await h11_server.listen(_answer())
    outcome = await _fetch(h11_server, target.url("/through-proxy"), proxy_host=proxy.host, proxy_port=proxy.port)
    if target.requests:
        raise Violation(
            "given proxy_host and proxy_port, the client sent the request straight to the origin server.",
            expected="the request through the proxy, or the fetch refused",
            observed=f"{_seen(h11_server)}; {outcome.describe()}",
            transcript=h11_server.transcripts(),
        )


# -- the API's shapes --------------------------------------------------------------------


@check("Tornado docs: HTTPClient", Level.TORNADO)
async def test_client_synchronous_wrapper_fetches_and_raises(h11_server):
    """Tornado docs, HTTPClient: "A blocking HTTP client. This interface is provided to make it
    easier to share code between synchronous and asynchronous applications"; its ``fetch``
    "Executes a request, returning an ``HTTPResponse``. ... If it is an error, an
    ``HTTPError`` is raised unless the ``raise_error`` keyword argument is set to False";
    ``close``: "Closes the HTTPClient, freeing any resources used." It runs in a thread of
    its own (it may not run on a thread whose loop is running)."""

    async def respond(request, conn):
        await conn.respond(200 if request.target == "/ok" else 404, [("Content-Type", "text/plain")], BODY)

    origin = await h11_server.listen(respond)
    httpclient: Any = h11_server.impl.part("httpclient")
    if not hasattr(httpclient, "HTTPClient"):
        not_provided("the httpclient part has no HTTPClient")
    results: list[Outcome] = []

    def blocking():
        client = httpclient.HTTPClient()
        try:
            for path in ("/ok", "/missing"):
                try:
                    results.append(_summary(httpclient, client.fetch(origin.url(path))))
                except Exception as exc:
                    results.append(_summary(httpclient, exc=exc))
        finally:
            client.close()

    def impl_side():
        ioloop: Any = h11_server.impl.part("ioloop")
        concurrent: Any = h11_server.impl.part("concurrent")
        loop = ioloop.IOLoop.current()
        done = concurrent.Future()

        def run():
            try:
                blocking()
            finally:
                loop.add_callback(done.set_result, None)

        threading.Thread(target=run, daemon=True).start()
        return done

    await h11_server.kit.run(impl_side, "HTTPClient.fetch")
    ok = len(results) == 2 and results[0].code == 200 and results[0].body == BODY
    if not ok or not results[1].client_error or results[1].code != 404:
        raise Violation(
            "HTTPClient did not return the 200 response, then raise an HTTPClientError for the 404.",
            expected="a 200 response with the kit's body; an HTTPClientError with code 404",
            observed="; ".join(r.describe() for r in results) or "nothing",
            transcript=h11_server.transcripts(),
        )


@check("Tornado docs: AsyncHTTPClient.fetch", Level.TORNADO)
async def test_client_fetch_of_a_url_string_equals_fetch_of_an_httprequest(h11_server):
    """Tornado docs, AsyncHTTPClient.fetch: "The request argument may be either a string URL
    or an ``HTTPRequest`` object. If it is a string, we construct an ``HTTPRequest`` using any
    additional kwargs: ``HTTPRequest(request, **kwargs)``". The same request made both ways
    reaches the server as the same bytes (method, target, fields, body)."""
    origin = await h11_server.listen(_answer())
    options = {"method": "PUT", "body": b"same either way", "headers": {"X-Way": "same"}}

    async def body(httpclient, client):
        first = await _settle(httpclient, client.fetch(origin.url("/same"), raise_error=False, **options))
        request = httpclient.HTTPRequest(origin.url("/same"), **options)
        second = await _settle(httpclient, client.fetch(request, raise_error=False))
        return first, second

    await _with_client(h11_server, "fetch", body)
    requests = h11_server.requests
    shapes = [(r.method, r.target, sorted(r.headers), r.body) for r in requests]
    if len(shapes) != 2 or shapes[0] != shapes[1] or shapes[0][0] != "PUT":
        raise Violation(
            "fetch(url, **kwargs) and fetch(HTTPRequest(url, **kwargs)) did not send the same request.",
            expected="two identical PUT /same requests",
            observed="; ".join(repr(s) for s in shapes) or "no request",
            transcript=h11_server.transcripts(),
        )


@check("Tornado docs: AsyncHTTPClient.fetch", Level.TORNADO)
async def test_client_fetch_refuses_kwargs_with_an_httprequest(h11_server):
    """Tornado docs, AsyncHTTPClient.fetch: "If it is a string, we construct an
    ``HTTPRequest`` using any additional kwargs" (kwargs are for a string URL only; Tornado
    raises ``ValueError`` for kwargs beside an HTTPRequest rather than silently dropping
    them, here ``method="DELETE"``)."""
    origin = await h11_server.listen(_answer())

    def body(httpclient, client):
        async def go():
            try:
                pending = client.fetch(httpclient.HTTPRequest(origin.url("/given")), method="DELETE")
            except Exception as exc:
                return _summary(httpclient, exc=exc)
            return await _settle(httpclient, pending)

        return go()

    outcome = await _with_client(h11_server, "fetch", body)
    if outcome.ok or "ValueError" not in (outcome.error or ""):
        raise Violation(
            "fetch(HTTPRequest(...), method='DELETE') did not raise ValueError: the keyword was silently dropped "
            "or applied.",
            expected="ValueError",
            observed=f"{outcome.describe()} ({_seen(h11_server)})",
            transcript=h11_server.transcripts(),
        )


RESPONSE_FIELDS = ["request-time", "reason", "effective-url", "time-info"]


@check("Tornado docs: HTTPResponse", Level.TORNADO)
@pytest.mark.parametrize("attribute", RESPONSE_FIELDS)
async def test_client_response_fields(h11_server, attribute):
    """Tornado docs, HTTPResponse: "``request_time``: seconds from request start to finish";
    "``reason``: human-readable reason phrase describing the status code"; "``effective_url``:
    final location of the resource after following any redirects"; "``time_info``:
    dictionary of diagnostic timing information from the request". The kit answers
    ``HTTP/1.1 200 Totally Fine`` without a redirect."""
    origin = await h11_server.listen(_answer(reason="Totally Fine"))
    url = origin.url("/fields")
    outcome = await _fetch(h11_server, url)
    value = {
        "request-time": outcome.request_time,
        "reason": outcome.reason,
        "effective-url": outcome.effective_url,
        "time-info": outcome.time_info,
    }[attribute]
    fine = {
        "request-time": isinstance(value, float) and value > 0,
        "reason": value == "Totally Fine",
        "effective-url": value == url,
        "time-info": isinstance(value, dict),
    }[attribute]
    want = {
        "request-time": "a float > 0 (seconds)",
        "reason": "'Totally Fine' (the phrase the server sent)",
        "effective-url": repr(url),
        "time-info": "a dict (empty on simple_httpclient)",
    }[attribute]
    if outcome.code != 200 or not fine:
        raise Violation(
            f"the response's {attribute.replace('-', '_')} is not what Tornado documents.",
            expected=want,
            observed=f"{value!r} ({outcome.describe()})",
            transcript=h11_server.transcripts(),
        )
