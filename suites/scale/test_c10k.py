"""C10K: thousands of open connections held at once, and the implementation still answers.

Tornado's documentation opens with the claim these checks hold an implementation to:
"By using non-blocking network I/O, Tornado can scale to tens of thousands of open
connections, making it ideal for long polling, WebSockets, and other applications that
require a long-lived connection to each user."
Reference: Tornado docs, overview (https://www.tornadoweb.org/en/stable/).

A load generator in a process of its own (`conformance.wire.loadgen`, on trio) holds N
connections (``--scale-connections``, 10,000 by default) to the implementation, one
phase at a time so neither process needs more than N descriptors. What is judged: a
fresh request is answered within the deadline while the N are held, and a broadcast
reaches all N. What is measured and only reported (the record's ``metrics``): memory per
connection, requests per second of a small keep-alive load, how long a broadcast takes
to reach everyone, and the same figures for Tornado, loaded as a reference on a loop
thread of its own in the same run. Opt-in: ``pytest --impl=MODULE -m scale`` (see
docs/scale.md).
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from conformance import Implementation, Level, Listening, Timeout, Violation, check, requires
from conformance.errors import LoopUnresponsive
from conformance.impl import ImplementationError, load
from conformance.server import LoopThread, Server, ServerLog
from conformance.wire import HTTPClient, WebSocketClient
from conformance.wire.loadgen import LoadGenerator, LoadGeneratorError, Phase, fd_limit

try:
    import tracemalloc
except ImportError:  # PyPy has no tracemalloc: memory per connection is then not measured
    tracemalloc = None  # type: ignore[assignment]

pytestmark = [pytest.mark.scale, requires("web", "httpserver")]

REFERENCE = "Tornado docs: overview (tens of thousands of open connections)"
#: Why a phase that stops serving fails (the reference and level are the check's ``@check``).
RULE = (
    'A compatible implementation keeps serving while it holds them ("By using non-blocking network I/O, '
    'Tornado can scale to tens of thousands of open connections")'
)
#: The keep-alive load whose rate is reported, while the N idle connections are held:
#: RATE_REQUESTS GETs over RATE_CONNECTIONS connections, each sending its next GET once the
#: last was answered; the best of RATE_ROUNDS rounds is reported.
RATE_CONNECTIONS = 16
RATE_REQUESTS = 1000
RATE_ROUNDS = 3


# -- the application every phase serves ------------------------------------------------------
class Members:
    """The open WebSocket handlers: changed on the loop thread, counted from the check's."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._open: set[Any] = set()

    def joined(self, handler: Any) -> None:
        with self._cond:
            self._open.add(handler)
            self._cond.notify_all()

    def left(self, handler: Any) -> None:
        with self._cond:
            self._open.discard(handler)
            self._cond.notify_all()

    def count(self) -> int:
        with self._cond:
            return len(self._open)

    def wait_until(self, test: Callable[[int], bool], timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: test(len(self._open)), timeout)

    def broadcast(self, message: str) -> tuple[int, list[str]]:
        """On the loop thread: ``write_message`` to every open handler; (how many, errors)."""
        with self._cond:
            handlers = list(self._open)
        errors = []
        for handler in handlers:
            try:
                handler.write_message(message)
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
        return len(handlers), errors


def site(impl: Implementation, members: Members) -> list[Any]:
    """``/`` answers GET with a short body; ``/ws`` registers its WebSocket handlers in ``members``."""
    web: Any = impl.part("web")

    class Hello(web.RequestHandler):
        def get(self) -> None:
            self.write("hello")

    routes: list[Any] = [("/", Hello)]
    websocket: Any = impl.part("websocket")
    if websocket is not None:

        class Member(websocket.WebSocketHandler):
            def open(self) -> None:
                members.joined(self)

            def on_message(self, message: Any) -> None:
                pass

            def on_close(self) -> None:
                members.left(self)

        routes.append(("/ws", Member))
    return routes


@contextmanager
def python_heap() -> Iterator[Callable[[], int | None]]:
    """Bytes allocated through Python's allocators since entering and still live, as a function.

    Memory per connection is measured with tracemalloc, not with the RSS of the process: a
    phase that runs after another reuses the heap pages the first one freed (CPython keeps
    them), so its RSS hardly grows (measured here: 9 KiB per Tornado connection in a
    session's first phase, 1-3 KiB in later ones). tracemalloc counts every block the
    interpreter allocates (objects, buffers, raw allocations), whichever page it lands on;
    memory an extension allocates with its own malloc is not counted.

    Where the runtime has no tracemalloc (PyPy), the function returns None: the figure is
    reported as not measured, and the checks still judge what they judge.
    """
    if tracemalloc is None:
        yield lambda: None
        return
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start(1)
    gc.collect()
    baseline = tracemalloc.get_traced_memory()[0]

    def held() -> int:
        gc.collect()  # what is left is what the connections hold
        return tracemalloc.get_traced_memory()[0] - baseline

    try:
        yield held
    finally:
        if started:
            tracemalloc.stop()


@dataclass
class Run:
    """One implementation holding N connections: what it served and the figures."""

    name: str
    n: int
    figures: dict[str, float] = field(default_factory=dict)
    #: figures that could not be measured on this runtime, with why
    not_measured: dict[str, str] = field(default_factory=dict)


def record_memory(run: Run, held: int | None, n: int) -> None:
    if held is None:
        run.not_measured["memory_per_connection"] = "not measured: this Python has no tracemalloc"
    else:
        run.figures["memory_per_connection"] = held / n / 1024


# -- judging a phase ---------------------------------------------------------------------------
async def fresh_request(listening: Listening, timeout: float) -> None:
    """GET / on a new connection, judged by the kit's h11 client, with the deadline."""
    response = await HTTPClient(timeout).request(listening, "GET", "/")
    if response.status != 200 or response.body != b"hello":
        raise Violation(
            "a fresh GET / got a wrong answer.",
            expected="200 with b'hello'",
            observed=f"{response.describe()} with {response.body!r}",
        )


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


async def not_held(what: str, opened: Phase, n: int, listening: Listening, timeout: float) -> Violation:
    """The verdict when the load generator could not open all N connections."""
    errors = f" (errors: {'; '.join(opened.errors)})" if opened.errors else ""
    if opened.failed:
        return Violation(
            f"the load generator opened {opened.done} of {n} {what}; {opened.failed} failed{errors}. {RULE}."
        )
    waiting = n - opened.done - opened.failed
    try:
        await fresh_request(listening, timeout)
    except Timeout:
        return Timeout(
            f"the load generator opened {opened.done} of {n} {what}; the other {waiting} got no answer for "
            f"{timeout:g}s, and a fresh GET / on a new connection got none within {timeout:g}s either. The "
            f"implementation's loop stopped serving once {_plural(opened.done, 'connection was', 'connections were')} "
            f"open, as a loop that "
            f"blocks on one connection does (a blocking read, sleep or lookup per connection). {RULE}."
        )
    return Violation(
        f"the load generator opened {opened.done} of {n} {what}; a fresh GET / was still answered, but "
        f"{waiting} connections got no answer for {timeout:g}s: the implementation does not hold {n} "
        f"connections at once (a connection limit, or a listen backlog it never drains?). {RULE}."
    )


async def hold_keep_alive(server: Server, listening: Listening, members: Members, n: int, timeout: float) -> Run:
    """N idle keep-alive connections, then a fresh request, then the rate of a small load."""
    run = Run("", n)
    await fresh_request(listening, timeout)  # warm-up: what a first request creates once is not per connection
    async with LoadGenerator.running(stall=timeout) as gen:
        with python_heap() as held:
            opened = await gen.open("http", listening.host, listening.port, "/", n)
            if opened.stalled or opened.done < n:
                what = "idle keep-alive connections (each after one answered GET /)"
                raise await not_held(what, opened, n, listening, timeout)
            record_memory(run, held(), n)
        try:
            await fresh_request(listening, timeout)
        except Timeout as exc:
            raise Timeout(
                f"while {n} idle keep-alive connections were held, a fresh GET / on a new connection got no "
                f"answer: {exc}\n{RULE}."
            ) from None
        still, closed = await gen.held("http")
        if closed:
            raise Violation(
                f"the implementation closed {closed} of the {n} idle keep-alive connections within seconds of "
                f"answering them ({still} still open); they were to be held. {RULE}."
            )
        # The best of a few rounds: the machine's other work only ever slows a round down.
        for _ in range(RATE_ROUNDS):
            rate = await gen.rps(listening.host, listening.port, "/", RATE_CONNECTIONS, RATE_REQUESTS)
            if rate.stalled or rate.failed:
                errors = f" (errors: {'; '.join(rate.errors)})" if rate.errors else ""
                raise Timeout(
                    f"while {n} idle keep-alive connections were held, a load of {RATE_REQUESTS} GET / over "
                    f"{RATE_CONNECTIONS} keep-alive connections got {rate.done} answers; "
                    + (f"{rate.failed} failed{errors}. " if rate.failed else f"then none for {timeout:g}s. ")
                    + f"{RULE}."
                )
            best = max(run.figures.get("requests_per_second", 0.0), rate.done / rate.seconds)
            run.figures["requests_per_second"] = best
    server.close()  # its connections are closed before the next phase needs descriptors
    return run


async def hold_websockets(server: Server, listening: Listening, members: Members, n: int, timeout: float) -> Run:
    """N WebSocket connections, a fresh one judged by wsproto, then a broadcast to all of them."""
    run = Run("", n)
    async with await WebSocketClient(timeout).open(listening, "/ws"):
        pass  # warm-up, as for the keep-alive connections
    if not members.wait_until(lambda count: count == 0, timeout):
        raise Timeout(f"on_close() did not run within {timeout:g}s for a WebSocket connection the client closed")
    async with LoadGenerator.running(stall=timeout) as gen:
        with python_heap() as held:
            opened = await gen.open("ws", listening.host, listening.port, "/ws", n)
            if opened.stalled or opened.done < n:
                raise await not_held("WebSocket connections", opened, n, listening, timeout)
            if not members.wait_until(lambda count: count >= n, timeout):
                raise Timeout(
                    f"{n} WebSocket handshakes were answered with 101, but open() had run for only "
                    f"{members.count()} handlers after {timeout:g}s. {RULE}."
                )
            record_memory(run, held(), n)
        try:
            fresh = await WebSocketClient(timeout).open(listening, "/ws")
        except Timeout as exc:
            raise Timeout(
                f"while {n} WebSocket connections were open, a fresh WebSocket connection got no answer to its "
                f"opening handshake: {exc}\n{RULE}."
            ) from None
        async with fresh:
            if not members.wait_until(lambda count: count >= n + 1, timeout):
                raise Timeout(f"open() did not run for a fresh WebSocket connection within {timeout:g}s. {RULE}.")
            message = f"broadcast to {n + 1} clients"
            started = time.perf_counter()
            # The deadline grows with N: handing a message to each of N clients is N writes.
            sent, errors = server.call(members.broadcast, message, timeout=timeout + n / 1000)
            if errors:
                raise Violation(
                    f"write_message() raised for {len(errors)} of {sent} open WebSocket handlers during a "
                    f"broadcast: {'; '.join(errors[:3])}. {RULE}."
                )
            got = await fresh.receive_message()
            if got != message:
                raise Violation(
                    "the fresh WebSocket client did not receive the broadcast.",
                    expected=repr(message),
                    observed=repr(got),
                )
            delivered = await gen.await_message(message, n)
            if delivered.done < n:
                others = f" (it received other messages: {delivered.others})" if delivered.others else ""
                raise Timeout(
                    f"the server called write_message({message!r}) on each of the {sent} open WebSocket "
                    f"handlers; {delivered.done} of the load generator's {n} clients received it, the others "
                    f"nothing more for {timeout:g}s{others}. {RULE}."
                )
            run.figures["broadcast_seconds"] = time.perf_counter() - started
    # The clients are gone: wait for the handlers to see it, so the descriptors are free.
    members.wait_until(lambda count: count == 0, timeout + n / 1000)
    server.close()
    return run


# -- the reference -----------------------------------------------------------------------------
@asynccontextmanager
async def reference_tornado(timeout: float) -> AsyncIterator[tuple[Implementation, Server]]:
    """Tornado, on a loop thread of its own beside the implementation's."""
    tornado = load("tornado")
    loop = LoopThread(tornado, timeout).start()
    server = Server(loop, ServerLog())
    try:
        with loop.capture(server.log):
            yield tornado, server
    finally:
        server.close()
        loop.stop()


async def measure_reference(
    phase: Callable[..., Any], n: int, timeout: float, record_metric: Callable[..., None]
) -> Run | None:
    """The same phase against Tornado; None (and a note in the figures) when it could not run."""
    try:
        async with reference_tornado(timeout) as (tornado, server):
            members = Members()
            listening = server.serve(site(tornado, members))
            run = await phase(server, listening, members, n, timeout)
            run.name = f"tornado {tornado.version}"
            return run
    except (Violation, LoadGeneratorError, ImplementationError, LoopUnresponsive) as exc:
        record_metric("reference", f"not measured: {str(exc).splitlines()[0][:200]}")
        return None


def report(run: Run, reference: Run | None, record_metric: Callable[..., None]) -> None:
    units = {
        "memory_per_connection": "KiB",
        "requests_per_second": "requests/s",
        "broadcast_seconds": "s",
    }
    for name, value in run.figures.items():
        record_metric(name, value, units[name])
    for name, why in run.not_measured.items():
        record_metric(name, why)
    if reference is None:
        return
    record_metric("reference", reference.name)
    for name, value in reference.figures.items():
        record_metric(f"tornado_{name}", value, units[name])
    for name, why in reference.not_measured.items():
        record_metric(f"tornado_{name}", why)
    # No ratio for the broadcast time: one broadcast to N clients is a single sample, and for
    # Tornado against itself it varied by up to a factor of two between phases of one process.
    for name in ("memory_per_connection", "requests_per_second"):
        mine, theirs = run.figures.get(name), reference.figures.get(name)
        if mine is not None and theirs:
            record_metric(f"{name}_vs_tornado", mine / theirs, "x Tornado")


# -- the checks --------------------------------------------------------------------------------
@check(REFERENCE, Level.TORNADO)
async def test_fresh_request_is_answered_while_idle_keep_alive_connections_are_held(
    impl, server, scale_connections, conformance_timeout, record_metric
):
    """Tornado docs: "By using non-blocking network I/O, Tornado can scale to tens of thousands
    of open connections". The load generator opens N connections, each sending one GET and
    keeping the connection open and idle once answered (HTTP/1.1 keep-alive, RFC 9112 §9.3);
    while they are held, a fresh GET on a new connection must be answered within the
    deadline, and the held connections must still be open. Reported, not judged: memory per
    connection, the request rate of 16 keep-alive clients while the N are held (best of 3
    rounds), and the same for Tornado."""
    n = scale_connections
    with fd_limit(n):
        record_metric("connections", n, "connections")
        members = Members()
        listening = server.serve(site(impl, members))
        run = await hold_keep_alive(server, listening, members, n, conformance_timeout)
        reference = await measure_reference(hold_keep_alive, n, conformance_timeout, record_metric)
    report(run, reference, record_metric)


@check(REFERENCE, Level.TORNADO)
@requires("websocket")
async def test_broadcast_reaches_every_client_while_websocket_connections_are_held(
    impl, server, scale_connections, conformance_timeout, record_metric
):
    """Tornado docs: Tornado's non-blocking I/O makes it "ideal for long polling, WebSockets,
    and other applications that require a long-lived connection to each user". The load
    generator opens N WebSocket connections and keeps them open; a fresh connection (judged
    by wsproto) must still complete its handshake within the deadline, and a message the
    server writes to every open handler (``write_message``) must reach all N + 1 clients.
    Reported, not judged: memory per connection, how long the broadcast took to reach
    everyone, and the same for Tornado."""
    n = scale_connections
    with fd_limit(n):
        record_metric("connections", n, "connections")
        members = Members()
        listening = server.serve(site(impl, members))
        run = await hold_websockets(server, listening, members, n, conformance_timeout)
        reference = await measure_reference(hold_websockets, n, conformance_timeout, record_metric)
    report(run, reference, record_metric)
