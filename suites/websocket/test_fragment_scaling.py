"""Reassembling a message sent in many fragments costs time linear in its size: a message
in 8 times as many fragments may cost about 8 times more, not 64 times (Tornado 6.3 made
it so; before, each fragment copied everything received so far).

Reference: Tornado 6.3.0 release notes (Highlights and tornado.websocket,
https://www.tornadoweb.org/en/stable/releases/v6.3.0.html); RFC 6455 §5.4 (fragmentation).

Rules of this module (those of ``suites/http11/test_security_scaling.py``):

1. Cost is the CPU time of the implementation's loop thread (``time.thread_time()`` read
   on that thread before and after one message), never wall-clock time.
2. Only the ratio of two costs is judged (8 times the fragments), against a bound of
   twice linear (16). Tornado 6.3 and later measure about 8 at these sizes; the copying
   reassembly of 6.2 and earlier did not answer the large message within the kit's 3 s
   deadline on a loaded machine (a ratio of 100 or more, judged from the small message's
   cost). Each size is measured several times, alternately, and the minimum kept; the
   garbage collector is paused while measuring; a ratio over the bound is measured again
   before the check fails.
"""

from __future__ import annotations

import gc
import time
from typing import Any

import pytest

from conformance import Level, Timeout, Violation, check, requires
from conformance.wire.ws import BINARY, CONTINUATION, frame

pytestmark = [pytest.mark.websocket, requires("web", "httpserver", "websocket")]

#: Bytes per fragment, and the fragments of the small message: 400 x 1 KiB; the large one
#: has GROWTH times more (3.2 MiB in all, under the default 10 MiB limit).
FRAGMENT = 1024
N1 = 400
GROWTH = 8
MAX_RATIO = 2 * GROWTH
DECISIVE_RATIO = 1.5 * MAX_RATIO
SCHEDULE = (1, 2, 1, 2, 1)
ATTEMPTS = 3


def _fragmented(n: int) -> bytes:
    """One binary message of ``n`` fragments of FRAGMENT bytes, as masked frames in one
    buffer; the message ends with "!". Binary, so that the cost judged is the reassembly
    alone, whatever the implementation's UTF-8 validation of text fragments costs."""
    payload = b"f" * FRAGMENT
    frames = [frame(BINARY, payload, fin=False)]
    frames += [frame(CONTINUATION, payload, fin=False) for _ in range(n - 2)]
    frames.append(frame(CONTINUATION, payload[:-1] + b"!", fin=True))
    return b"".join(frames)


async def _loop_cpu(server: Any, conn: Any, wire: bytes, n: int) -> float:
    """CPU seconds the implementation's loop thread spent receiving one message."""
    before = server.call(time.thread_time)
    await conn.send_raw(wire)
    reply = await conn.receive_message()
    after = server.call(time.thread_time)
    reply = reply.decode("latin-1") if isinstance(reply, bytes) else reply  # the reply's type is not judged here
    assert reply == str(n * FRAGMENT), (
        f"the handler received {reply!r} bytes of a binary message of {n} fragments ({n * FRAGMENT} bytes)."
    )
    return after - before


def _too_slow_to_answer(n1: int, n2: int, small: float, deadline: float, exc: Timeout) -> None:
    """The message of n2 fragments was not answered within the deadline, though the one of
    n1 took ``small`` seconds of the loop's CPU: the growth is at least deadline / small (a
    wall-clock bound, since the loop is still busy), the finding when it exceeds the bound."""
    __tracebackhide__ = True
    at_least = deadline / max(small, 1e-6)
    if at_least <= MAX_RATIO:
        raise exc
    raise Violation(
        f"the implementation's loop thread spent {small * 1000:.2f} ms of CPU receiving a binary message of {n1} "
        f"fragments, and did not answer one of {n2} within {deadline:g}s: a ratio of at least {at_least:.0f} for "
        f"{GROWTH} times the fragments (bound {MAX_RATIO}). Reassembly that copies the message received so far on "
        "every fragment is quadratic: a peer can use it to block the event loop.",
        transcript=exc.transcript,
    )


@check("Tornado 6.3.0 release notes (Highlights; tornado.websocket)", Level.TORNADO)
async def test_reassembling_many_fragments_grows_linearly(impl, server, ws):
    """Tornado 6.3.0 release notes: "WebSockets are now much faster at receiving large
    messages split into many fragments"; tornado.websocket: "It is now much faster (no
    longer quadratic) to receive large messages that have been split into many fragments."
    The loop thread's CPU time for a binary message of 3200 fragments of 1 KiB may be at most
    16 times that for one of 400 fragments (linear reassembly measures about 8; one
    that copies the message so far on every fragment, as 6.2 did, 30 or more)."""
    websocket = impl.part("websocket")

    class Length(websocket.WebSocketHandler):
        """Answers the length received up to the message's final "!" (whether it came whole is
        test_fragmentation.py's matter, not this check's)."""

        received = 0

        def on_message(self, message):
            self.received += len(message)
            if message[-1:] in (b"!", "!"):  # the type a binary message arrives as is not judged here
                self.write_message(str(self.received))
                self.received = 0

    srv = server.serve([("/ws", Length)])
    n1, n2 = N1, N1 * GROWTH
    wires = {n1: _fragmented(n1), n2: _fragmented(n2)}
    attempts: list[tuple[float, float]] = []
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        async with await ws.open(srv, "/ws") as conn:
            smallest = await _loop_cpu(server, conn, wires[n1], n1)  # warm-up: the first message is slower
            for _attempt in range(ATTEMPTS):
                costs: dict[int, list[float]] = {n1: [], n2: []}
                for which in SCHEDULE:
                    n = n1 if which == 1 else n2
                    try:
                        costs[n].append(await _loop_cpu(server, conn, wires[n], n))
                    except Timeout as exc:
                        if n == n1:
                            raise
                        _too_slow_to_answer(n1, n2, smallest, conn.timeout, exc)
                    if n == n1:
                        smallest = min(smallest, costs[n][-1])
                attempts.append((min(costs[n1]), min(costs[n2])))
                ratio = attempts[-1][1] / max(attempts[-1][0], 1e-6)
                if ratio <= MAX_RATIO or ratio > DECISIVE_RATIO:
                    break
    finally:
        if was_enabled:
            gc.enable()
    best1, best2 = min(attempts, key=lambda a: a[1] / max(a[0], 1e-6))
    ratio = best2 / max(best1, 1e-6)
    assert ratio <= MAX_RATIO, (
        f"the implementation's loop thread spent {best1 * 1000:.2f} ms of CPU receiving a binary message of {n1} "
        f"fragments and {best2 * 1000:.2f} ms for one of {n2}, a ratio of {ratio:.1f} for {GROWTH} times the "
        f"fragments (bound {MAX_RATIO}; minimum of {SCHEDULE.count(1)} and {SCHEDULE.count(2)} measurements, best "
        f"of {len(attempts)} attempt(s)). Reassembly that copies the message received so far on every fragment "
        "is quadratic: a peer can use it to block the event loop (fixed in Tornado 6.3.0)."
    )
