"""tornado.tcpserver, tornado.tcpclient and IOStream writes, with the kit as the other end.

Reference: Tornado docs, ``tornado.tcpserver`` (https://www.tornadoweb.org/en/stable/tcpserver.html),
``tornado.tcpclient`` (https://www.tornadoweb.org/en/stable/tcpclient.html), ``tornado.iostream``
(https://www.tornadoweb.org/en/stable/iostream.html), and the release notes that changed them
(4.5.0, 5.0.0, 6.6.0).

The kit's end of each connection is a plain blocking socket with the ``--conformance-timeout``
deadline: a listener the implementation's ``TCPClient`` connects to, or the client of its
``TCPServer``. ``TCPClient`` is given a resolver (``netutil.Resolver``, the documented
``resolver`` argument) that answers at once with the address it was asked about, so that a
connection attempt starts on the loop's next turns and not after a thread's DNS look-up.

Two listeners never let a connection attempt finish: a *full* listener (Linux only) whose
accept queue the kit filled with a connection it never accepts, so that the kernel drops
every further SYN and the client's connection stays in SYN_SENT; and a *silent* listener whose
kernel completes the TCP handshake but whose owner never reads, so that a TLS handshake waits
for a ServerHello that never comes. Neither depends on timing.
"""

from __future__ import annotations

import errno
import select
import socket
import ssl
import struct
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from conformance import Level, Violation, check, not_provided, requires

from ._support import describe, outcome, timeout_error, turns

pytestmark = [pytest.mark.coroutines, requires("iostream", "ioloop", "concurrent", "gen")]

#: A timeout given as an input: only its elapsing matters.
SHORT = 0.01
#: How long the kit allows for what the implementation must already have done (a socket
#: closed in the loop thread reaches its loopback peer at once): a bound only a failing
#: implementation waits out.
SETTLE = 0.25


# -- the kit's side ------------------------------------------------------------------------------


def _resolver(impl: Any) -> Any:
    """A ``netutil.Resolver`` that answers every look-up at once with the IPv4 address asked."""
    netutil, concurrent = impl.part("netutil"), impl.part("concurrent")

    class AtOnce(netutil.Resolver):  # type: ignore[name-defined]
        def resolve(self, host: str, port: int, family: Any = socket.AF_UNSPEC) -> Any:
            answer = concurrent.Future()
            answer.set_result([(socket.AF_INET, (host, port))])
            return answer

        def close(self) -> None:
            pass

    return AtOnce()


@contextmanager
def _silent_listener(timeout: float) -> Iterator[socket.socket]:
    """A loopback listener: the kernel completes handshakes, the kit reads only if asked."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.settimeout(timeout)
        yield listener
    finally:
        listener.close()


def _accept_queue(listener: socket.socket) -> tuple[int, int]:
    """(connections waiting in ``listener``'s accept queue, its limit), from Linux's TCP_INFO
    (for a listening socket ``tcpi_unacked`` and ``tcpi_sacked`` hold those two)."""
    info = listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    queued, limit = struct.unpack_from("8x4x4x4x4xII", info)
    return queued, limit


@contextmanager
def _full_listener(timeout: float) -> Iterator[socket.socket]:
    """A loopback listener whose accept queue is full: Linux drops every SYN sent to it, so a
    connection to it stays in SYN_SENT for as long as the kit holds the queue (the kit's own
    connection, never accepted). Fullness is read from the kernel, not guessed from time."""
    if not sys.platform.startswith("linux") or not hasattr(socket, "TCP_INFO"):
        not_provided("a connection that certainly never completes is made this way on Linux only")
    fillers: list[socket.socket] = []
    with _silent_listener(timeout) as listener:
        listener.listen(0)
        try:
            for _ in range(8):
                queued, limit = _accept_queue(listener)
                if queued > limit:
                    yield listener
                    return
                fillers.append(socket.create_connection(listener.getsockname(), timeout=timeout))
                # Readable once a connection waits in the queue (the kernel has queued the filler).
                select.select([listener], [], [], timeout)
            not_provided("the kit could not fill a loopback listener's accept queue here")
        finally:
            for filler in fillers:
                filler.close()


def _syn_sent_to(port: int) -> list[int]:
    """The local ports of this host's TCP sockets in SYN_SENT towards 127.0.0.1:``port``
    (``/proc/net/tcp``: a closed socket leaves it in the close call)."""
    try:
        with open("/proc/net/tcp") as table:
            rows = table.read().splitlines()[1:]
    except OSError:
        not_provided("this host has no /proc/net/tcp to see a connection attempt in")
    ports = []
    for row in rows:
        fields = row.split()
        local, remote, state = fields[1], fields[2], fields[3]
        address, _, remote_port = remote.partition(":")
        if state == "02" and address in ("0100007F", "7F000001") and int(remote_port, 16) == port:
            ports.append(int(local.partition(":")[2], 16))
    return ports


def _read_client_hello(conn: socket.socket) -> bytes:
    """One TLS record from ``conn`` (the ClientHello): its 5-octet header gives its length."""
    received = bytearray()
    while len(received) < 5 or len(received) < 5 + int.from_bytes(received[3:5], "big"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        received += chunk
    return bytes(received)


def _closed_within(conn: socket.socket, bound: float) -> bool:
    """Whether ``conn``'s peer closed its end (EOF or reset) within ``bound`` seconds."""
    while True:
        readable, _, _ = select.select([conn], [], [], bound)
        if not readable:
            return False
        try:
            if not conn.recv(65536):
                return True
        except ConnectionResetError:
            return True


def _said(result: tuple[str, Any]) -> str:
    """`describe`, where "pending" means: once the loop had served everything ready."""
    if result[0] == "pending":
        return "was still pending once the loop had served everything that was ready"
    return describe(result)


def _client_context() -> ssl.SSLContext:
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


# -- IOStream.write ------------------------------------------------------------------------------


@check(
    "Tornado docs: BaseIOStream.write; 4.5.0 release notes, tornado.iostream",
    Level.TORNADO,
)
def test_every_write_future_resolves_when_writes_overlap(impl, ioloop, conformance_timeout):
    """BaseIOStream.write: "This method returns a `.Future` that resolves (with a result of
    ``None``) when the write has been completed." The 4.5.0 release notes: the Future of a
    write is no longer left unresolved when ``write`` is called again before that write has
    finished.

    A stream over a Unix socket pair writes 1 MiB (more than the socket buffers hold, so the
    write is still in progress) and then 6 octets more. The kit reads every octet; both
    Futures must then have resolved, and the octets must be the two writes in order."""
    iostream = impl.part("iostream")
    first, second = b"x" * (1 << 20), b"second"
    kit, theirs = socket.socketpair()
    kit.settimeout(conformance_timeout)

    def start() -> tuple[Any, Any, Any]:
        stream = iostream.IOStream(theirs)
        return stream, stream.write(first), stream.write(second)

    with kit:
        stream, first_written, second_written = ioloop.call(start)
        received = bytearray()
        while len(received) < len(first) + len(second) and (chunk := kit.recv(1 << 20)):
            received += chunk

        async def judge() -> tuple[tuple[str, Any], tuple[str, Any]]:
            try:
                return await outcome(impl, first_written), await outcome(impl, second_written)
            finally:
                stream.close()

        outcomes = ioloop.call(judge)
    if [state for state, _ in outcomes] != ["returned", "returned"] or bytes(received) != first + second:
        raise Violation(
            "two IOStream.write calls were made back to back, the first still in progress; the Future of "
            "each must resolve once its octets are written.",
            expected=f"both Futures resolved; the kit received {len(first) + len(second)} octets, the writes in order",
            observed=(
                f"the first write's Future {_said(outcomes[0])}, the second's {_said(outcomes[1])}; "
                f"the kit received {len(received)} octets"
                + ("" if bytes(received) == first + second else " (not the two writes in order)")
            ),
        )


# -- TCPServer -----------------------------------------------------------------------------------


@check(
    "Tornado docs: TCPServer.handle_stream; 4.5.0 release notes, tornado.tcpserver",
    Level.TORNADO,
)
@requires("tcpserver", "netutil")
def test_tcp_server_serves_with_a_native_coroutine_handle_stream(impl, ioloop, conformance_timeout):
    """TCPServer.handle_stream: "Override to handle a new `.IOStream` from an incoming
    connection. This method may be a coroutine; if so any exceptions it raises asynchronously
    will be logged." The 4.5.0 release notes: ``handle_stream`` may now be a native coroutine
    (``async def``).

    A TCPServer whose ``handle_stream`` is an ``async def`` reads a line and writes it back
    behind ``echo: ``. The kit connects and sends ``ping``; once the loop has served what was
    ready (the connection and the line were there before the check looked), the coroutine
    must have finished, and the kit must read the echo."""
    tcpserver, netutil, concurrent = impl.part("tcpserver"), impl.part("netutil"), impl.part("concurrent")

    def start() -> tuple[Any, Any, int]:
        served = concurrent.Future()

        class Echo(tcpserver.TCPServer):  # type: ignore[name-defined]
            async def handle_stream(self, stream: Any, address: Any) -> None:
                line = await stream.read_until(b"\n")
                await stream.write(b"echo: " + line)
                stream.close()
                if not served.done():
                    served.set_result(line)

        sockets = netutil.bind_sockets(0, "127.0.0.1", family=socket.AF_INET)
        server = Echo()
        server.add_sockets(sockets)
        return server, served, sockets[0].getsockname()[1]

    server, served, port = ioloop.call(start)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=conformance_timeout) as kit:
            kit.sendall(b"ping\n")
            finished = ioloop.call(lambda: outcome(impl, served))
            echoed = bytearray()
            if finished[0] == "returned":
                while chunk := kit.recv(65536):
                    echoed += chunk
    finally:
        ioloop.call(server.stop)
    if finished[0] != "returned" or bytes(echoed) != b"echo: ping\n":
        raise Violation(
            "a TCPServer whose handle_stream is a native coroutine did not serve the kit's connection: the "
            "coroutine must be run (awaited) by the server, not called and dropped.",
            expected="handle_stream finished; the kit read b'echo: ping\\n'",
            observed=f"handle_stream {_said(finished)}; the kit read {bytes(echoed)!r}",
        )


@check(
    "Tornado docs: TCPServer.stop; 4.5.0 release notes, tornado.tcpserver",
    Level.TORNADO,
)
@requires("tcpserver", "netutil")
def test_tcp_server_stopped_twice_raises_nothing(impl, ioloop):
    """TCPServer.stop: "Stops listening for new connections." The 4.5.0 release notes: stopping
    a TCPServer twice no longer raises an exception. A TCPServer listening on a port of
    127.0.0.1 is stopped, then stopped again; neither call may raise."""
    tcpserver, netutil = impl.part("tcpserver"), impl.part("netutil")

    def scenario() -> list[tuple[str, Any]]:
        server = tcpserver.TCPServer()
        server.add_sockets(netutil.bind_sockets(0, "127.0.0.1", family=socket.AF_INET))
        calls = []
        for _ in range(2):
            try:
                calls.append(("returned", server.stop()))
            except Exception as exc:
                calls.append(("raised", exc))
        return calls

    calls = ioloop.call(scenario)
    if any(state == "raised" for state, _ in calls):
        raise Violation(
            "TCPServer.stop raised when the server was stopped a second time.",
            expected="both stop() calls return",
            observed=f"the first {describe(calls[0])}; the second {describe(calls[1])}",
        )


# -- TCPClient -----------------------------------------------------------------------------------


def _free_port() -> int:
    """A port of 127.0.0.1 free a moment ago (the kernel's choice for a bind to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@check(
    "Tornado docs: TCPClient.connect, versionchanged 4.5; 4.5.0 release notes, tornado.tcpclient",
    Level.TORNADO,
)
@requires("tcpclient", "netutil")
def test_tcp_client_connects_from_the_source_port_it_was_given(impl, ioloop, conformance_timeout):
    """TCPClient.connect: "Using the ``source_ip`` kwarg, one can specify the source IP address
    to use when establishing the connection. [...] Similarly, when the user requires a certain
    source port, it can be specified using the ``source_port`` arg." (versionchanged 4.5:
    "Added the ``source_ip`` and ``source_port`` arguments").

    ``connect("127.0.0.1", L, source_ip="127.0.0.1", source_port=P)`` to the kit's listener on
    port L, P a port that was free a moment before: the kit accepts the connection and its peer
    address must be 127.0.0.1:P. (If another process took P meanwhile, ``connect`` fails with
    EADDRINUSE and the kit tries another port, three times at most.)"""
    tcpclient = impl.part("tcpclient")

    with _silent_listener(conformance_timeout) as listener:
        port = listener.getsockname()[1]

        async def connect(source_port: int) -> tuple[str, Any]:
            client = tcpclient.TCPClient(resolver=_resolver(impl))
            try:
                return (
                    "returned",
                    await client.connect("127.0.0.1", port, source_ip="127.0.0.1", source_port=source_port),
                )
            except Exception as exc:
                return ("raised", exc)

        for _ in range(3):
            source_port = _free_port()
            connected = ioloop.call(connect, source_port)
            if not (connected[0] == "raised" and getattr(connected[1], "errno", None) == errno.EADDRINUSE):
                break
        peer: Any = None
        if connected[0] == "returned":
            conn, peer = listener.accept()
            conn.close()
            ioloop.call(connected[1].close)
    if peer != ("127.0.0.1", source_port):
        raise Violation(
            f"TCPClient.connect(..., source_ip='127.0.0.1', source_port={source_port}) did not connect from "
            "that address and port.",
            expected=f"the kit's listener accepts a connection from 127.0.0.1:{source_port}",
            observed=f"connect {describe(connected)}; the kit accepted a connection from {peer}",
        )


@check(
    "Tornado docs: TCPClient.connect, versionchanged 5.0; 5.0.0 release notes, tornado.tcpclient",
    Level.TORNADO,
)
@requires("tcpclient", "netutil")
@pytest.mark.parametrize("phase", ["connection-never-established", "tls-handshake-never-answered"])
def test_tcp_client_connect_times_out_with_timeout_error(impl, ioloop, conformance_timeout, phase):
    """TCPClient.connect: "Raises `TimeoutError` if the input future does not complete before
    ``timeout``, which may be specified in any form allowed by `.IOLoop.add_timeout` (i.e. a
    `datetime.timedelta` or an absolute time relative to `.IOLoop.time`)" (versionchanged
    5.0: "Added the ``timeout`` argument").

    ``connect(..., timeout=0.01)`` to a listener that never lets the connection finish: a full
    listener, whose kernel drops the SYN (``connection-never-established``, Linux only), or,
    with ``ssl_options``, a silent one, whose kernel completes the TCP handshake but which
    never answers the ClientHello (``tls-handshake-never-answered``). Once a marker timer well
    past the timeout has run, ``connect`` must have raised the release's TimeoutError
    (``tornado.util.TimeoutError``, ``tornado.gen.TimeoutError`` before 5.0)."""
    tcpclient, gen = impl.part("tcpclient"), impl.part("gen")
    expected = timeout_error(impl)
    tls = phase == "tls-handshake-never-answered"
    listening = _silent_listener(conformance_timeout) if tls else _full_listener(conformance_timeout)

    with listening as listener:
        port = listener.getsockname()[1]

        async def scenario() -> tuple[str, Any]:
            client = tcpclient.TCPClient(resolver=_resolver(impl))
            options = {"ssl_options": _client_context()} if tls else {}
            try:
                attempt = gen.convert_yielded(client.connect("127.0.0.1", port, timeout=SHORT, **options))
            except Exception as exc:
                return ("raised", exc)
            result = await outcome(impl, attempt)
            if result[0] == "pending":
                attempt.cancel()
            elif result[0] == "returned":
                result[1].close()
            return result

        result = ioloop.call(scenario)
    if result[0] != "raised" or not isinstance(result[1], expected):
        raise Violation(
            f"TCPClient.connect(..., timeout={SHORT}) to a listener that never "
            + ("answers the TLS handshake" if tls else "completes the TCP handshake")
            + " did not end with the TimeoutError the timeout promises.",
            expected=f"{expected.__module__}.{expected.__qualname__} raised once {SHORT}s had passed",
            observed=f"connect {describe(result)}",
        )


@check(
    "Tornado 6.6.0 release notes, tornado.tcpclient; Tornado docs: TCPClient.connect",
    Level.TORNADO,
)
@requires("tcpclient", "netutil")
@pytest.mark.parametrize("phase", ["tcp-handshake-pending", "tls-handshake-pending"])
def test_cancelled_tcp_client_connect_closes_its_socket(impl, ioloop, conformance_timeout, phase):
    """The 6.6.0 release notes (tornado.tcpclient): when a connection attempt is cancelled, its
    sockets are closed at once, instead of staying open until the connection completes or
    times out.

    ``connect`` is started as a task and cancelled while its connection is pending, then the
    loop turns three times more. ``tcp-handshake-pending`` (Linux only): the listener is full,
    so the attempt's socket stays in SYN_SENT (seen in ``/proc/net/tcp``) until it is closed;
    after the cancel no socket may remain in SYN_SENT towards it. ``tls-handshake-pending``:
    with ``ssl_options``, the kit accepts the connection, reads the ClientHello and never
    answers; after the cancel the kit must read the end of the stream (the socket closed)."""
    tcpclient, gen = impl.part("tcpclient"), impl.part("gen")

    def start(port: int, options: dict[str, Any]) -> list[Any]:
        client = tcpclient.TCPClient(resolver=_resolver(impl))
        # A list, so that ioloop.call does not await the attempt.
        return [gen.convert_yielded(client.connect("127.0.0.1", port, **options))]

    async def cancel(attempt: Any) -> None:
        attempt.cancel()
        await turns(impl, 3)

    if phase == "tcp-handshake-pending":
        with _full_listener(conformance_timeout) as listener:
            port = listener.getsockname()[1]

            async def scenario() -> tuple[list[int], list[int]]:
                (attempt,) = start(port, {})
                for _ in range(20):  # loop turns, until the attempt's SYN is out
                    await turns(impl, 1)
                    if pending := _syn_sent_to(port):
                        break
                await cancel(attempt)
                return pending, _syn_sent_to(port)

            before, after = ioloop.call(scenario)
        if not before:
            raise Violation(
                "TCPClient.connect to a listener that drops SYNs never had a connection attempt under way, "
                "so its cancellation could not be judged.",
                expected="a socket in SYN_SENT towards the kit's listener",
                observed="none after 20 loop turns",
            )
        if after:
            raise Violation(
                "a TCPClient.connect cancelled while its TCP connection was pending left the socket open "
                "(SYN_SENT): it stays until the kernel gives up on the connection.",
                expected="no socket in SYN_SENT towards the kit's listener after the cancel",
                observed=f"still in SYN_SENT from local port(s) {after}",
            )
        return

    with _silent_listener(conformance_timeout) as listener:
        port = listener.getsockname()[1]
        (attempt,) = ioloop.call(start, port, {"ssl_options": _client_context()})
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(conformance_timeout)
            hello = _read_client_hello(conn)
            ioloop.call(cancel, attempt)
            closed = _closed_within(conn, SETTLE)
    if not closed:
        raise Violation(
            "a TCPClient.connect cancelled while its TLS handshake was pending left the socket open: every "
            "cancelled connection leaks a file descriptor until the peer gives up.",
            expected="the kit reads the end of the stream (socket closed) after the cancel",
            observed=f"still open {SETTLE}s after the cancel (ClientHello of {len(hello)} octets read)",
        )
