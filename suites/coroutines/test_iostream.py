"""tornado.iostream: what an IOStream reads and writes, seen from the other end of a socket.

Reference: Tornado docs, ``tornado.iostream`` (https://www.tornadoweb.org/en/stable/iostream.html)
and the release notes that changed it (4.5.0, 5.0.0, 6.0.4, 6.2.0, 6.5.9, 6.6.0).

Each check connects an ``IOStream`` made on the implementation's loop to one end of a
``socket.socketpair()``; the kit holds the other end, a blocking socket with the
``--conformance-timeout`` deadline. What the kit sends is already in the socket (and closed,
where the check says so) before the stream reads; what the stream writes is judged once its
write futures resolved and it closed its end, by reading up to the end of the stream.
"""

from __future__ import annotations

import array
import socket
import ssl
from typing import Any

import pytest

from conformance import Level, Violation, check, not_provided, requires

from ._support import turns as _turns

pytestmark = [pytest.mark.coroutines, requires("iostream", "ioloop", "concurrent")]


def _socketpair(timeout: float) -> tuple[socket.socket, socket.socket]:
    """(the kit's end, blocking with the deadline; the end the stream is given)."""
    kit, theirs = socket.socketpair()
    kit.settimeout(timeout)
    return kit, theirs


def _read_to_eof(kit: socket.socket) -> bytes:
    received = bytearray()
    while True:
        chunk = kit.recv(65536)
        if not chunk:
            return bytes(received)
        received += chunk


def _describe(outcome: tuple[str, Any]) -> str:
    how, what = outcome
    if how == "raised":
        return f"raised {type(what).__module__}.{type(what).__qualname__}: {what}"
    return f"returned {what!r}"


async def _outcome(start: Any) -> tuple[str, Any]:
    """What ``start()`` and the awaitable it returns came to; a read may raise at the call."""
    try:
        return ("returned", await start())
    except Exception as exc:
        return ("raised", exc)


# -- writes ------------------------------------------------------------------------------------------


def _memoryview_of_bytes() -> list[Any]:
    return [memoryview(b"abc")]


def _typed_memoryview() -> list[Any]:
    return [memoryview(array.array("i", [1, 2]))]


WRITES = [
    pytest.param(
        _memoryview_of_bytes,
        id="memoryview-of-bytes",
        marks=check(
            "Tornado docs: BaseIOStream.write, versionchanged 4.5; 4.5.0 release notes, tornado.iostream", Level.TORNADO
        ),
    ),
    pytest.param(
        _typed_memoryview,
        id="typed-memoryview",
        marks=check("Tornado 6.2.0 release notes, tornado.iostream; Tornado docs: BaseIOStream.write", Level.TORNADO),
    ),
]


@check("Tornado docs: BaseIOStream.write", Level.TORNADO)
@pytest.mark.parametrize("pieces", WRITES)
def test_write_delivers_every_octet_of_a_memoryview(impl, ioloop, conformance_timeout, pieces):
    """BaseIOStream.write: "Asynchronously write the given data to this stream. [...] The
    ``data`` argument may be of type `bytes` or `memoryview`" (versionchanged 4.5: "Added
    support for `memoryview` arguments"; 4.5.0 release notes: "`memoryview` objects are now
    permitted as arguments to `~.BaseIOStream.write`"). 6.2.0 release notes:
    "``IOStream.write`` now supports typed `memoryview` objects" (itemsize > 1, whose
    ``len`` counts items, not octets: ``array('i', [1, 2])`` is 8 octets).

    The stream writes the pieces, awaits every write future and closes; the peer must have
    received every octet of every piece, in order, and no write may raise."""
    iostream = impl.part("iostream")
    chunks = pieces()
    expected = b"".join(bytes(piece) for piece in chunks)
    kit, theirs = _socketpair(conformance_timeout)

    async def scenario() -> tuple[str, Any]:
        stream = iostream.IOStream(theirs)
        try:
            futures = [stream.write(piece) for piece in chunks]
            for future in futures:
                await future
        except Exception as exc:
            return ("raised", exc)
        finally:
            stream.close()
        return ("returned", None)

    with kit:
        outcome = ioloop.call(scenario)
        received = _read_to_eof(kit)
    shown = ", ".join(f"memoryview({p.obj!r})" if isinstance(p, memoryview) else repr(p) for p in chunks)
    if outcome[0] == "raised" or received != expected:
        raise Violation(
            f"IOStream.write was given {shown}; the peer must receive every octet of each, in order, "
            "and no write may fail.",
            expected=f"writes resolved, peer received {expected!r}",
            observed=f"the writes {_describe(outcome)}, peer received {received!r}",
        )


# -- reads -------------------------------------------------------------------------------------------


@check(
    "Tornado 6.5.9 release notes, tornado.iostream; Tornado docs: BaseIOStream.read_until_close, StreamBufferFullError",
    Level.TORNADO,
)
def test_read_until_close_beyond_max_buffer_size_fails(impl, ioloop, conformance_timeout):
    """Tornado 6.5.9 release notes: "``.IOStream.read_until_close`` now reports errors
    correctly when a stream is closed due to an error or exceeds a memory limit. Previously
    it would report a successful read of whatever was in the buffer."
    BaseIOStream.read_until_close: "This will buffer all available data until
    ``max_buffer_size`` is reached"; `StreamBufferFullError`: "Exception raised by
    `IOStream` methods when the buffer is full".

    The peer sends 4096 octets and closes; ``IOStream(max_buffer_size=1024).read_until_close()``
    cannot hold them, so it must fail (with StreamBufferFullError, or StreamClosedError whose
    ``real_error`` is one) rather than resolve with part of the data."""
    iostream = impl.part("iostream")
    kit, theirs = _socketpair(conformance_timeout)
    sent = b"x" * 4096
    with kit:

        async def scenario() -> tuple[str, Any]:
            stream = iostream.IOStream(theirs, max_buffer_size=1024)
            try:
                # The read waits before anything came, so the limit is reached as the
                # stream reads from the socket, not in the call.
                try:
                    reading = stream.read_until_close()
                except Exception as exc:
                    return ("raised", exc)
                kit.sendall(sent)  # 4 KiB into a local socket's buffer: does not block
                kit.shutdown(socket.SHUT_WR)
                return await _outcome(lambda: reading)
            finally:
                stream.close()

        outcome = ioloop.call(scenario)
    if outcome[0] == "returned":
        data = outcome[1]
        raise Violation(
            "IOStream(max_buffer_size=1024).read_until_close() resolved while the peer sent 4096 octets: the caller "
            "takes a truncated body for the whole of it.",
            expected="read_until_close fails (StreamBufferFullError, or StreamClosedError with it as real_error)",
            observed=f"returned {len(data)} of {len(sent)} octets",
        )


@check(
    "Tornado 6.0.4 release notes, Bug fixes; Tornado docs: BaseIOStream.read_bytes",
    Level.TORNADO,
)
def test_buffered_data_is_readable_after_the_peer_closed(impl, ioloop, conformance_timeout):
    """Tornado 6.0.4 release notes: "Fixed an issue in IOStream (introduced in 6.0.0) that
    resulted in ``StreamClosedError`` being incorrectly raised if a stream is closed
    mid-read but there is enough buffered data to satisfy the read."

    The peer sends ``0123456789`` and closes. A ``read_until(b"!")`` reads all ten octets
    and fails when the stream reaches the close (no ``!`` came); the ten octets stay in the
    read buffer, and a ``read_bytes(10)`` issued then must return them rather than raise
    StreamClosedError."""
    iostream = impl.part("iostream")
    kit, theirs = _socketpair(conformance_timeout)
    with kit:
        kit.sendall(b"0123456789")
        kit.shutdown(socket.SHUT_WR)

        async def scenario() -> tuple[tuple[str, Any], tuple[str, Any]]:
            stream = iostream.IOStream(theirs)
            try:
                first = await _outcome(lambda: stream.read_until(b"!"))
                second = await _outcome(lambda: stream.read_bytes(10))
                return first, second
            finally:
                stream.close()

        first, second = ioloop.call(scenario)
    if first[0] == "returned":
        raise Violation(
            "IOStream.read_until(b'!') resolved although the peer sent '0123456789' and closed without a '!'.",
            expected="read_until fails with StreamClosedError",
            observed=_describe(first),
        )
    if second != ("returned", b"0123456789"):
        raise Violation(
            "the peer sent '0123456789' and closed; after a read_until(b'!') failed at the close, read_bytes(10) did "
            "not return the ten octets still buffered.",
            expected="returned b'0123456789'",
            observed=_describe(second),
        )


@check("Tornado docs: BaseIOStream.read_into, versionadded 5.0; 5.0.0 release notes, tornado.iostream", Level.TORNADO)
def test_read_into_fills_the_given_buffer(impl, ioloop, conformance_timeout):
    """BaseIOStream.read_into: "Asynchronously read a number of bytes. ``buf`` must be a
    writable buffer into which data will be read. [...] Otherwise, it is run when the
    ``buf`` has been entirely filled with read data" (versionadded 5.0; the 5.0.0 release
    notes: "New method `.BaseIOStream.read_into` provides a minimal-copy alternative to
    `.BaseIOStream.read_bytes`"), its future resolving to the number of octets read. The peer
    sends ``hello world``;
    ``read_into(bytearray(5))`` resolves to 5 with ``hello`` in the buffer, and a following
    ``read_bytes(6)`` returns the rest."""
    iostream = impl.part("iostream")
    if not hasattr(iostream.BaseIOStream, "read_into"):
        not_provided(f"{impl.name}'s iostream part has no BaseIOStream.read_into (Tornado >= 5.0)")
    kit, theirs = _socketpair(conformance_timeout)
    with kit:
        kit.sendall(b"hello world")

        async def scenario() -> tuple[tuple[str, Any], bytes, tuple[str, Any]]:
            stream = iostream.IOStream(theirs)
            buf = bytearray(5)
            try:
                first = await _outcome(lambda: stream.read_into(buf))
                rest = await _outcome(lambda: stream.read_bytes(6))
                return first, bytes(buf), rest
            finally:
                stream.close()

        first, buf, rest = ioloop.call(scenario)
    if (first, buf, rest) != (("returned", 5), b"hello", ("returned", b" world")):
        raise Violation(
            "the peer sent 'hello world'; IOStream.read_into(bytearray(5)) must fill the buffer with the first five "
            "octets and resolve to 5, leaving the rest for the next read.",
            expected="read_into returned 5, buffer b'hello', read_bytes(6) returned b' world'",
            observed=f"read_into {_describe(first)}, buffer {buf!r}, read_bytes(6) {_describe(rest)}",
        )


# -- TLS ---------------------------------------------------------------------------------------------


@check(
    "Tornado docs: IOStream.start_tls, versionchanged 6.6; 6.6.0 release notes, tornado.iostream",
    Level.TORNADO,
)
def test_cancelled_tls_handshake_closes_the_socket(impl, ioloop, conformance_timeout):
    """IOStream.start_tls (versionchanged 6.6): "Cancelling the returned `.Future` before
    the handshake completes now closes the new stream and its socket." 6.6.0 release notes:
    "Fixed a socket leak when a timeout occurs during a TLS handshake, or when the
    connection of a `.SSLIOStream` is cancelled."

    A stream over a Unix socket pair starts a client TLS handshake; the kit's end reads the
    ClientHello and never answers. The handshake's Future is cancelled; once the loop has
    turned three times more, the kit's end must read the end of the stream (the socket was
    closed), not find it still open. A closed Unix socket's peer sees the end at once, so
    this is an order, not a race."""
    iostream = impl.part("iostream")
    kit, theirs = _socketpair(conformance_timeout)

    async def scenario() -> tuple[str, int]:
        stream = iostream.IOStream(theirs)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        handshake = stream.start_tls(False, ssl_options=context, server_hostname="localhost")
        await _turns(impl, 2)  # the ClientHello goes out
        handshake.cancel()
        await _turns(impl, 3)
        kit.setblocking(False)
        received = 0
        try:
            while chunk := kit.recv(65536):
                received += len(chunk)
        except BlockingIOError:
            return ("open", received)
        return ("closed", received)

    with kit:
        state, hello = ioloop.call(scenario)
    if state != "closed":
        raise Violation(
            "IOStream.start_tls's Future was cancelled before the handshake completed, and the socket stayed open: "
            "every cancelled or timed-out TLS connection leaks a file descriptor.",
            expected="the kit's end reads the end of the stream (socket closed)",
            observed=f"still open after the ClientHello ({hello} octets)",
        )
