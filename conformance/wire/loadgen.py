"""The scale suite's load generator: thousands of client connections from a process of its own.

A scale check holds N connections (10,000 by default) to the implementation, whose loop
runs in the pytest process. The client side of those connections lives elsewhere: this
module runs as ``python -m conformance.wire.loadgen`` in a child process, on trio, where a
socket and a parked task cost a few kilobytes; the check drives it with `LoadGenerator`.

Rules:

1. The child generates load and counts; it never judges. It reads one JSON command per
   line on stdin and answers with JSON lines on stdout (the protocol is below, next to
   `_Child`); the check decides the verdict from the counts.
2. Nothing waits on a clock to synchronise. A phase ends when its work is done, or when
   no connection made progress for ``stall`` seconds (the check passes its deadline);
   while it works the child reports its progress four times a second, so the check can
   tell a slow implementation from a stuck child, and a silent child is a kit error.
3. Descriptors: both processes raise their soft RLIMIT_NOFILE to the hard limit
   (`fd_limit`); a check asks for no more connections than `connection_capacity` allows.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

#: Descriptors each process keeps for itself beyond the N held connections: the
#: interpreter's own, the loops, listening sockets, the pipes, the kit's fresh clients
#: and the connections of the requests-per-second load.
RESERVED_FDS = 512
#: At most this many connection attempts are in flight at once, below the listen backlog
#: the kit's servers use (128), so a burst never overflows it and waits for SYN retries.
CONCURRENCY = 100
#: How often the child reports progress while a phase runs, in seconds.
HEARTBEAT = 0.25
#: How long the child may stay silent beyond the stall deadline before the check gives up
#: on it: the child, not the implementation, is then at fault.
CHILD_GRACE = 10.0
#: Interpreter start and imports of the child, on a busy machine.
START_DEADLINE = 60.0
#: RFC 6455 §1.3's example key, and the accept value a server must derive from it.
_WS_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
_WS_ACCEPT = base64.b64encode(
    hashlib.sha1((_WS_KEY + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
).decode()


class LoadGeneratorError(Exception):
    """The load generator (the kit's own child process) failed: not the implementation's fault."""


# -- descriptors ---------------------------------------------------------------------------
def connection_capacity() -> tuple[int, str]:
    """How many connections one phase may hold on this machine, and what bounds it.

    Each process holds one descriptor per connection (the pytest process the server
    side, the child the client side), both raise their soft limit to the hard one, and
    every connection to one server port needs an ephemeral port of its own.
    """
    bounds: list[tuple[int, str]] = []
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return 0, "the scale suite needs a POSIX system (RLIMIT_NOFILE)"
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY:
        bounds.append((hard - RESERVED_FDS, f"the open-file hard limit is {hard} (ulimit -Hn), less {RESERVED_FDS}"))
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(x) for x in f.read().split())
        ports = high - low + 1
        bounds.append(
            (ports - RESERVED_FDS, f"the ephemeral port range {low}-{high} has {ports} ports, less {RESERVED_FDS}")
        )
    except (OSError, ValueError):
        pass
    if not bounds:
        return 1 << 20, "no limit found"
    return min(bounds)


@contextlib.contextmanager
def fd_limit(needed: int) -> Iterator[int]:
    """Raise this process's soft RLIMIT_NOFILE so ``needed`` more descriptors fit; restore it after.

    Yields the soft limit in force. Raises `LoadGeneratorError` when the hard limit is too low.
    """
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed + RESERVED_FDS
    target = hard if hard != resource.RLIM_INFINITY else max(soft, want)
    if target < want:
        raise LoadGeneratorError(
            f"{needed} connections need about {want} descriptors, but the open-file hard limit is {hard}; "
            "lower --scale-connections or raise the limit (ulimit -Hn)"
        )
    if target != soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    try:
        yield target
    finally:
        if target != soft:
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


# -- the check's side ----------------------------------------------------------------------
@dataclass
class Phase:
    """What the child reported at the end of a phase."""

    done: int = 0  #: connections established, requests answered or messages received
    failed: int = 0  #: attempts that ended in an error (refused, reset, malformed answer)
    errors: list[str] = field(default_factory=list)  #: the first few errors, as text
    stalled: bool = False  #: ended because nothing progressed for ``stall`` seconds
    seconds: float = 0.0  #: how long the phase ran, measured by the child
    others: list[str] = field(default_factory=list)  #: unexpected messages (broadcast phase)


class LoadGenerator:
    """The check's handle on the child process.

    Example::

        async with LoadGenerator.running(stall=3.0) as gen:
            opened = await gen.open("http", srv.host, srv.port, "/", 10_000)
            assert opened.done == 10_000 and not opened.stalled
    """

    def __init__(self, process: Any, stderr: Any, stall: float) -> None:
        self._process = process
        self._stderr = stderr
        self._buffer = b""
        self.stall = stall

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, stall: float) -> AsyncIterator[LoadGenerator]:
        """Start the child, wait for it to be ready, and stop it (closing every connection) at exit."""
        import anyio

        with tempfile.TemporaryFile() as stderr:
            process = await anyio.open_process(
                [sys.executable, "-m", "conformance.wire.loadgen"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
            )
            gen = cls(process, stderr, stall)
            try:
                await gen._expect("ready", START_DEADLINE)
                yield gen
            finally:
                with anyio.CancelScope(shield=True):
                    await gen._stop()

    async def open(self, kind: str, host: str, port: int, path: str, count: int) -> Phase:
        """Open ``count`` connections and hold them: ``http`` ones after one answered GET
        (idle keep-alive connections), ``ws`` ones after the opening handshake."""
        return await self._phase(
            "opened", cmd="open", kind=kind, host=host, port=port, path=path, count=count, concurrency=CONCURRENCY
        )

    async def held(self, kind: str) -> tuple[int, int]:
        """How many of the held connections of ``kind`` are still open, and how many the server closed."""
        event = await self._command("held", cmd="held", kind=kind)
        return int(event["open"]), int(event["closed"])

    async def rps(self, host: str, port: int, path: str, connections: int, requests: int) -> Phase:
        """``requests`` GETs over ``connections`` new keep-alive connections, each waiting for its answer."""
        return await self._phase(
            "rps", cmd="rps", host=host, port=port, path=path, connections=connections, requests=requests
        )

    async def await_message(self, message: str, count: int) -> Phase:
        """Wait until ``count`` of the held WebSocket connections have received the text ``message``."""
        return await self._phase("received", cmd="await", message=message, count=count)

    # -- plumbing ------------------------------------------------------------------------
    async def _phase(self, final: str, **command: Any) -> Phase:
        event = await self._command(final, stall=self.stall, **command)
        return Phase(
            done=int(event["done"]),
            failed=int(event.get("failed", 0)),
            errors=list(event.get("errors", [])),
            stalled=bool(event["stalled"]),
            seconds=float(event["seconds"]),
            others=list(event.get("others", [])),
        )

    async def _command(self, final: str, **command: Any) -> dict[str, Any]:
        await self._send(command)
        return await self._expect(final, self.stall + CHILD_GRACE)

    async def _send(self, command: dict[str, Any]) -> None:
        import anyio

        try:
            await self._process.stdin.send(json.dumps(command).encode() + b"\n")
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as exc:
            raise LoadGeneratorError(f"the load generator is gone ({exc!r}){self._stderr_tail()}") from None

    async def _expect(self, final: str, silence: float) -> dict[str, Any]:
        """Read events until ``final``; each must come within ``silence`` seconds of the last."""
        while True:
            event = await self._next_event(silence)
            if event["event"] == final:
                return event
            if event["event"] == "error":
                raise LoadGeneratorError(f"the load generator failed: {event['message']}{self._stderr_tail()}")
            # "progress": a heartbeat; the next event again gets ``silence`` seconds.

    async def _next_event(self, silence: float) -> dict[str, Any]:
        import anyio

        with anyio.move_on_after(silence):
            while b"\n" not in self._buffer:
                try:
                    chunk = await self._process.stdout.receive(65536)
                except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
                    raise LoadGeneratorError(f"the load generator exited{self._stderr_tail()}") from None
                self._buffer += chunk
            line, _, self._buffer = self._buffer.partition(b"\n")
            event: dict[str, Any] = json.loads(line)
            return event
        raise LoadGeneratorError(
            f"the load generator reported nothing for {silence:g}s (it reports four times a second while "
            f"it works); the machine may be overloaded{self._stderr_tail()}"
        )

    def _stderr_tail(self) -> str:
        try:
            self._stderr.seek(0)
            text = self._stderr.read().decode(errors="replace").strip()
        except (OSError, ValueError):
            return ""
        return f"\nits stderr:\n{text[-3000:]}" if text else ""

    async def _stop(self) -> None:
        import anyio

        if self._process.returncode is None:
            with contextlib.suppress(LoadGeneratorError):
                await self._send({"cmd": "close"})
                await self._expect("closed", CHILD_GRACE)
            with anyio.move_on_after(CHILD_GRACE):
                await self._process.wait()
            if self._process.returncode is None:
                self._process.kill()
                await self._process.wait()
        await self._process.aclose()


# -- the child -----------------------------------------------------------------------------
def _emit(event: dict[str, Any]) -> None:
    # One short line per write: the check reads them as they come, and a line below
    # PIPE_BUF reaches the pipe whole. A blocking write of a few bytes is fine on trio.
    os.write(1, json.dumps(event).encode() + b"\n")


class _BadAnswer(Exception):
    """The implementation's answer could not be used (the protocol is judged elsewhere)."""


class _Progress:
    """Counts of one phase, and when they last moved."""

    def __init__(self, target: int) -> None:
        import trio

        self.target = target
        self.done = 0
        self.failed = 0
        self.errors: list[str] = []
        self.finished = trio.Event()
        self.changed_at = trio.current_time()
        self.started_at = self.changed_at
        if target <= 0:
            self.finished.set()

    def ok(self) -> None:
        self.done += 1
        self._moved()

    def fail(self, exc: BaseException) -> None:
        self.failed += 1
        if len(self.errors) < 5:
            self.errors.append(f"{type(exc).__name__}: {exc}")
        self._moved()

    def _moved(self) -> None:
        import trio

        self.changed_at = trio.current_time()
        if self.done + self.failed >= self.target:
            self.finished.set()

    async def supervise(self, stall: float) -> bool:
        """Wait until the phase is finished, reporting progress; True if it stalled first."""
        import trio

        while not self.finished.is_set():
            with trio.move_on_after(HEARTBEAT):
                await self.finished.wait()
            if self.finished.is_set():
                break
            _emit({"event": "progress", "done": self.done, "failed": self.failed})
            if trio.current_time() - self.changed_at >= stall:
                return True
        return False

    def report(self, event: str, stalled: bool, **extra: Any) -> None:
        import trio

        _emit(
            {
                "event": event,
                "done": self.done,
                "failed": self.failed,
                "errors": self.errors,
                "stalled": stalled,
                "seconds": trio.current_time() - self.started_at,
                **extra,
            }
        )


@dataclass
class _WebSocketPeer:
    sock: Any
    open: bool = True


class _Child:
    """The child's state: held connections, and what the WebSocket ones received.

    Commands (one JSON object per line on stdin) and the final event each gets:

    * ``open`` kind=http|ws, host, port, path, count, concurrency, stall -> ``opened``
    * ``held`` kind -> ``held`` open, closed
    * ``rps`` host, port, path, connections, requests, stall -> ``rps``
    * ``await`` message, count, stall -> ``received`` (with ``others``: unexpected messages)
    * ``close`` -> ``closed``, then the child exits (as it does at the end of stdin)

    Phase events carry done, failed, errors, stalled, seconds; ``progress`` events (done,
    failed) come while a phase runs; ``error`` reports a command the child could not run.
    """

    def __init__(self, holder: Any) -> None:
        self.holder = holder  # the nursery the held connections' tasks live in
        self.sockets: list[socket.socket] = []
        self.http: list[socket.socket] = []
        self.ws: list[_WebSocketPeer] = []
        self.received: dict[str, int] = {}
        self.message_waiter: _Progress | None = None
        self.awaited: str | None = None

    # -- connections -----------------------------------------------------------------------
    async def connect(self, host: str, port: int) -> tuple[socket.socket, Any]:
        """A connected socket, as the stdlib object and as trio's wrapper of it."""
        import trio

        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sockets.append(raw)
        sock = trio.socket.from_stdlib_socket(raw)
        await sock.connect((host, port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return raw, sock

    async def cmd_open(self, cmd: dict[str, Any]) -> None:
        import trio

        kind, count = cmd["kind"], int(cmd["count"])
        progress = _Progress(count)
        slots = trio.Semaphore(int(cmd["concurrency"]))
        host, port, path = cmd["host"], int(cmd["port"]), cmd["path"]

        async def one() -> None:
            buf = bytearray()
            try:
                raw, sock = await self.connect(host, port)
                if kind == "http":
                    await _http_exchange(sock, _request(host, port, path), buf)
                    self.http.append(raw)
                else:
                    await _ws_handshake(sock, host, port, path, buf)
                    peer = _WebSocketPeer(sock)
                    self.ws.append(peer)
            except (OSError, _BadAnswer) as exc:
                slots.release()
                progress.fail(exc)
                return
            slots.release()
            progress.ok()
            if kind == "ws":
                await self._ws_read(peer, buf)

        async def spawn() -> None:
            for _ in range(count):
                await slots.acquire()
                self.holder.start_soon(one)

        async with trio.open_nursery() as phase:
            phase.start_soon(spawn)
            stalled = await progress.supervise(float(cmd["stall"]))
            phase.cancel_scope.cancel()
        progress.report("opened", stalled)

    async def cmd_held(self, cmd: dict[str, Any]) -> None:
        if cmd["kind"] == "http":
            still = sum(1 for s in self.http if _still_open(s))
            _emit({"event": "held", "open": still, "closed": len(self.http) - still})
        else:
            still = sum(1 for peer in self.ws if peer.open)
            _emit({"event": "held", "open": still, "closed": len(self.ws) - still})

    async def cmd_rps(self, cmd: dict[str, Any]) -> None:
        import trio

        host, port, path = cmd["host"], int(cmd["port"]), cmd["path"]
        request = _request(host, port, path)
        connections, total = int(cmd["connections"]), int(cmd["requests"])
        socks = []
        for _ in range(connections):
            try:
                socks.append((await self.connect(host, port))[1])
            except OSError as exc:
                _emit({"event": "error", "message": f"could not open the request-rate connections: {exc}"})
                return
        progress = _Progress(total)
        issued = 0
        working = len(socks)

        async def worker(sock: Any) -> None:
            nonlocal issued, working
            buf = bytearray()
            try:
                while issued < total:
                    issued += 1
                    await _http_exchange(sock, request, buf)
                    progress.ok()
            except (OSError, _BadAnswer) as exc:
                progress.fail(exc)  # the connection is unusable; the others take its share
            finally:
                working -= 1
                if not working:
                    progress.finished.set()

        async with trio.open_nursery() as phase:
            for sock in socks:
                phase.start_soon(worker, sock)
            stalled = await progress.supervise(float(cmd["stall"]))
            phase.cancel_scope.cancel()
        for sock in socks:
            _abort(sock)
        progress.report("rps", stalled)

    async def cmd_await(self, cmd: dict[str, Any]) -> None:
        message, count = cmd["message"], int(cmd["count"])
        progress = _Progress(count)
        progress.done = min(self.received.get(message, 0), count)
        if progress.done >= count:
            progress.finished.set()
        self.awaited, self.message_waiter = message, progress
        try:
            stalled = await progress.supervise(float(cmd["stall"]))
        finally:
            self.awaited, self.message_waiter = None, None
        others = [text[:200] for text in self.received if text != message][:5]
        progress.report("received", stalled, others=others)

    # -- WebSocket frames --------------------------------------------------------------------
    async def _ws_read(self, peer: _WebSocketPeer, buf: bytearray) -> None:
        fragments: list[bytes] = []
        try:
            while True:
                for fin, opcode, payload in _frames(buf):
                    if opcode == 0x8:  # close: the connection is over
                        return
                    if opcode == 0x9:  # ping: answer with a pong
                        await _send_all(peer.sock, _client_frame(0xA, payload))
                    elif opcode in (0x0, 0x1, 0x2):
                        fragments.append(payload)
                        if fin:
                            self._delivered(b"".join(fragments))
                            fragments.clear()
                data = await peer.sock.recv(65536)
                if not data:
                    return
                buf += data
        except (OSError, _BadAnswer):
            return
        finally:
            peer.open = False

    def _delivered(self, payload: bytes) -> None:
        text = payload.decode("utf-8", errors="replace")
        self.received[text] = self.received.get(text, 0) + 1
        if text == self.awaited and self.message_waiter is not None:
            self.message_waiter.ok()

    def close(self) -> None:
        for raw in self.sockets:
            _abort(raw)


def _abort(sock: Any) -> None:
    # Close with a reset (SO_LINGER 0): a graceful close would leave every client port in
    # TIME_WAIT for a minute, and four phases of 10,000 connections would then exhaust the
    # ephemeral port range of a machine with ~28,000 of them.
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _request(host: str, port: int, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()


async def _send_all(sock: Any, data: bytes) -> None:
    view = memoryview(data)
    while view:
        sent = await sock.send(view)
        view = view[sent:]


async def _read_head(sock: Any, buf: bytearray) -> tuple[int, dict[str, str]]:
    while (end := buf.find(b"\r\n\r\n")) < 0:
        if len(buf) > 65536:
            raise _BadAnswer("a response head over 64 KiB")
        data = await sock.recv(65536)
        if not data:
            raise _BadAnswer("the connection closed before the response head was complete")
        buf += data
    lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
    del buf[: end + 4]
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise _BadAnswer(f"not a status line: {lines[0][:80]!r}")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


async def _read_exactly(sock: Any, buf: bytearray, size: int) -> bytes:
    while len(buf) < size:
        data = await sock.recv(65536)
        if not data:
            raise _BadAnswer("the connection closed inside a response body")
        buf += data
    chunk = bytes(buf[:size])
    del buf[:size]
    return chunk


async def _read_line(sock: Any, buf: bytearray) -> bytes:
    while (end := buf.find(b"\r\n")) < 0:
        data = await sock.recv(65536)
        if not data:
            raise _BadAnswer("the connection closed inside a chunked body")
        buf += data
    line = bytes(buf[:end])
    del buf[: end + 2]
    return line


async def _http_exchange(sock: Any, request: bytes, buf: bytearray) -> None:
    """Send a GET and read its answer (Content-Length or chunked); a non-2xx is an error."""
    await _send_all(sock, request)
    status, headers = await _read_head(sock, buf)
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            size = int((await _read_line(sock, buf)).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while await _read_line(sock, buf):
                    pass  # trailer fields, up to the empty line
                break
            await _read_exactly(sock, buf, size + 2)
    elif "content-length" in headers:
        await _read_exactly(sock, buf, int(headers["content-length"]))
    elif status not in (204, 304):
        raise _BadAnswer("a response without Content-Length or chunked framing on a keep-alive connection")
    if not 200 <= status < 300:
        raise _BadAnswer(f"status {status}")
    if headers.get("connection", "").lower() == "close":
        raise _BadAnswer("the response closes the connection (Connection: close)")


async def _ws_handshake(sock: Any, host: str, port: int, path: str, buf: bytearray) -> None:
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {_WS_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    await _send_all(sock, request)
    status, headers = await _read_head(sock, buf)
    if status != 101:
        raise _BadAnswer(f"the opening handshake got status {status}, not 101")
    if headers.get("sec-websocket-accept") != _WS_ACCEPT:
        raise _BadAnswer(f"Sec-WebSocket-Accept is {headers.get('sec-websocket-accept')!r}, not {_WS_ACCEPT!r}")


def _frames(buf: bytearray) -> Iterator[tuple[bool, int, bytes]]:
    """Complete frames at the start of ``buf`` (consumed as they are yielded)."""
    while len(buf) >= 2:
        fin, opcode = bool(buf[0] & 0x80), buf[0] & 0x0F
        masked, length, offset = bool(buf[1] & 0x80), buf[1] & 0x7F, 2
        if length == 126:
            if len(buf) < 4:
                return
            (length,) = struct.unpack_from("!H", buf, 2)
            offset = 4
        elif length == 127:
            if len(buf) < 10:
                return
            (length,) = struct.unpack_from("!Q", buf, 2)
            offset = 10
        key = b""
        if masked:
            if len(buf) < offset + 4:
                return
            key, offset = bytes(buf[offset : offset + 4]), offset + 4
        if len(buf) < offset + length:
            return
        payload = bytes(buf[offset : offset + length])
        if key:
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        del buf[: offset + length]
        yield fin, opcode, payload


def _client_frame(opcode: int, payload: bytes) -> bytes:
    # A client frame must be masked (RFC 6455 §5.3); a zero key leaves the payload as is.
    if len(payload) > 125:
        payload = payload[:125]
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + b"\0\0\0\0" + payload


def _still_open(raw: socket.socket) -> bool:
    """An idle keep-alive connection is open while nothing can be read from it: no bytes, no EOF."""
    try:
        raw.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)  # EOF, or bytes nobody asked for
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


async def _child_main() -> None:
    import trio

    with contextlib.ExitStack() as stack:
        stack.enter_context(fd_limit(0))
        commands = trio.lowlevel.FdStream(os.dup(0))
        async with trio.open_nursery() as holder:
            child = _Child(holder)
            _emit({"event": "ready", "pid": os.getpid()})
            pending = b""
            while True:
                while b"\n" not in pending:
                    data = await commands.receive_some(65536)
                    if not data:
                        break
                    pending += data
                if b"\n" not in pending:
                    break  # stdin closed: the check is gone
                line, _, pending = pending.partition(b"\n")
                cmd = json.loads(line)
                if cmd["cmd"] == "close":
                    break
                handler = getattr(child, f"cmd_{cmd['cmd']}", None)
                try:
                    if handler is None:
                        raise ValueError(f"unknown command {cmd['cmd']!r}")
                    await handler(cmd)
                except Exception as exc:
                    _emit({"event": "error", "message": f"{cmd['cmd']}: {type(exc).__name__}: {exc}"})
            holder.cancel_scope.cancel()
        child.close()
        await commands.aclose()
    _emit({"event": "closed"})


def main() -> None:
    import trio

    with contextlib.suppress(BrokenPipeError):  # the check is gone: nobody to report to
        trio.run(_child_main)


if __name__ == "__main__":
    main()
