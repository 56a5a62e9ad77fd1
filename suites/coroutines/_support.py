"""Shared pieces of the coroutine checks: loop turns, and how an awaitable stood once its
timeouts had their turn.

Rule: a check orders things with the loop (callbacks, Futures, a marker timer), never by
sleeping; an outcome is read after a marker timer set later than any short timeout the
check armed, so "pending" means the timeout never fired.
"""

from __future__ import annotations

import asyncio
import threading
import warnings
from typing import Any

from conformance import Violation


def later(impl: Any, value: Any = None, delay: float | None = None) -> Any:
    """A Future the loop resolves with ``value`` on its next turn (or after ``delay``)."""
    future = impl.part("concurrent").Future()
    loop = impl.part("ioloop").IOLoop.current()
    if delay is None:
        loop.add_callback(future.set_result, value)
    else:
        loop.call_later(delay, future.set_result, value)
    return future


async def turns(impl: Any, count: int) -> None:
    """Let the loop turn ``count`` times (loop turns, not time)."""
    for _ in range(count):
        await later(impl)


async def outcome(impl: Any, awaitable: Any, marker_delay: float = 0.25) -> tuple[str, Any]:
    """("returned", value), ("raised", exception) or ("pending", None): how ``awaitable``
    stands once it settled, or once a marker timer ``marker_delay`` seconds ahead on the
    loop has run (later than any short timeout the check armed, so that had its turn)."""
    gen, Future = impl.part("gen"), impl.part("concurrent").Future
    loop = impl.part("ioloop").IOLoop.current()
    future = gen.convert_yielded(awaitable)
    settled = Future()

    def settle(*_: Any) -> None:
        if not settled.done():
            settled.set_result(None)

    loop.add_future(future, settle)
    handle = loop.call_at(loop.time() + marker_delay, settle)
    await settled
    loop.remove_timeout(handle)
    if not future.done():
        await turns(impl, 3)  # an implementation may settle through a callback or two
    if not future.done():
        return "pending", None
    if future.cancelled():
        return "raised", asyncio.CancelledError()
    if future.exception() is not None:
        return "raised", future.exception()
    return "returned", future.result()


def describe(outcome: tuple[str, Any]) -> str:
    """An `outcome` in words, to follow "it" in a message."""
    state, value = outcome
    if state == "raised":
        return f"raised {type(value).__module__}.{type(value).__qualname__}({value})"
    if state == "returned":
        return f"returned {value!r}"
    return "was still pending after its timeout had passed"


def timeout_error(impl: Any) -> type[BaseException]:
    """The timeout exception of the implementation's release."""
    # tornado.util.TimeoutError since 5.0; gen.TimeoutError (the same class later) before.
    return getattr(impl.part("util"), "TimeoutError", None) or impl.part("gen").TimeoutError


def in_fresh_loop(impl, body, timeout):
    """Run ``body(loop)`` in a new thread with a new ``IOLoop()``; return what it returned.

    The loop is closed (with its fds) in that thread before it ends; what ``body`` raised
    is re-raised here."""
    IOLoop = impl.part("ioloop").IOLoop
    outcome = {}

    def main():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            loop = IOLoop()
            try:
                outcome["value"] = body(loop)
            except BaseException as exc:
                outcome["error"] = exc
            finally:
                loop.close(all_fds=True)

    thread = threading.Thread(target=main, name="conformance-run-sync", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise Violation(f"a fresh IOLoop's run_sync did not return within {timeout:g}s (--conformance-timeout)")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
