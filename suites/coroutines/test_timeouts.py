"""Timed callbacks and timeouts: IOLoop.call_later/call_at/remove_timeout and gen.with_timeout.

Reference: Tornado docs, ``tornado.ioloop.IOLoop.call_at``
(https://www.tornadoweb.org/en/stable/ioloop.html#tornado.ioloop.IOLoop.call_at) and
``tornado.gen.with_timeout`` (https://www.tornadoweb.org/en/stable/gen.html#tornado.gen.with_timeout).

Delays of 2 to 30 ms are inputs only. Each scenario is arranged so that a slow or
preempted test machine can only delay the timer that is expected to run last, so
the judged orders hold however loaded the machine is.
"""

from __future__ import annotations

import datetime
import time

import pytest

from conformance import Level, Violation, check, requires

pytestmark = [pytest.mark.coroutines, requires("ioloop", "concurrent")]


@check("Tornado docs: IOLoop.call_at, IOLoop.call_later", Level.MUST)
def test_timeouts_run_in_deadline_order(impl, ioloop):
    """IOLoop.call_at "Runs the ``callback`` at the absolute time designated by
    ``when``"; call_later "Runs the ``callback`` after ``delay`` seconds have passed".
    Timers scheduled in an order other than their deadlines must therefore run in
    deadline order."""
    Future = impl.part("concurrent").Future
    IOLoop = impl.part("ioloop").IOLoop

    async def scenario():
        loop = IOLoop.current()
        ran, all_ran = [], Future()

        def record(name):
            ran.append(name)
            if len(ran) == 3:
                all_ran.set_result(None)

        now = loop.time()
        loop.call_at(now + 0.02, record, "call_at(+20ms)")
        loop.call_at(now + 0.01, record, "call_at(+10ms)")
        loop.call_later(0.03, record, "call_later(30ms)")  # added last: delays only push it later
        await all_ran
        return ran

    ran = ioloop.call(scenario)
    expected = ["call_at(+10ms)", "call_at(+20ms)", "call_later(30ms)"]
    if ran != expected:
        raise Violation(
            "timers added in the order call_at(+20ms), call_at(+10ms), call_later(30ms) did not run in deadline "
            "order: call_at runs a callback at the time it designates, so an earlier deadline does not wait behind "
            "a later one.",
            expected=expected,
            observed=ran,
        )


@check("Tornado docs: IOLoop.remove_timeout, IOLoop.call_later", Level.MUST)
def test_remove_timeout_cancels_pending_timeout(impl, ioloop):
    """IOLoop.call_later and call_at return "an opaque handle that may be passed to
    `remove_timeout` to cancel"; remove_timeout "Cancels a pending timeout". Two timers
    are removed right after being added; a third, due later, marks the end."""
    Future = impl.part("concurrent").Future
    IOLoop = impl.part("ioloop").IOLoop

    async def scenario():
        loop = IOLoop.current()
        ran: list[str] = []
        end = Future()
        later = loop.call_later(0.01, ran.append, "call_later(10ms)")
        at = loop.call_at(loop.time() + 0.01, ran.append, "call_at(+10ms)")
        loop.remove_timeout(later)
        loop.remove_timeout(at)
        loop.call_later(0.03, end.set_result, None)
        await end
        return ran

    ran = ioloop.call(scenario)
    assert ran == [], (
        f"timers removed with IOLoop.remove_timeout right after being added still ran: {ran!r}; a timer due "
        "20 ms after them has already fired. Tornado documents remove_timeout as cancelling the pending "
        "timeout whose handle call_later or call_at returned."
    )


@check("Tornado docs: gen.with_timeout", Level.MUST)
def test_with_timeout_raises_timeout_error_and_leaves_future_running(impl, ioloop):
    """gen.with_timeout "Raises `TimeoutError` if the input future does not complete
    before ``timeout``" and "The wrapped `.Future` is not canceled when the timeout
    expires, permitting it to be reused. `asyncio.wait_for` is similar to this function
    but it does cancel the wrapped `.Future` on timeout.\""""
    gen, Future = impl.part("gen"), impl.part("concurrent").Future
    timeout_error = getattr(gen, "TimeoutError", TimeoutError)

    async def scenario():
        inner = Future()
        try:
            value = await gen.with_timeout(datetime.timedelta(milliseconds=10), inner)
        except Exception as exc:  # judged below
            outcome = ("raised", exc)
        else:
            outcome = ("returned", value)
        state = "cancelled" if inner.cancelled() else "done" if inner.done() else "pending"
        reused = None
        if state == "pending":
            inner.set_result("finished late")
            reused = inner.result()
        return outcome, state, reused

    (how, what), state, reused = ioloop.call(scenario)
    if not (how == "raised" and isinstance(what, timeout_error)):
        raise Violation(
            "awaiting gen.with_timeout(10 ms, a Future nobody resolves) did not raise TimeoutError when the timeout "
            "expired.",
            expected=f"raised {timeout_error.__module__}.{timeout_error.__qualname__}",
            observed=f"{how} {what!r}",
        )
    assert state == "pending" and reused == "finished late", (
        f"after gen.with_timeout expired, the wrapped Future was {state}; expected it still pending and "
        "resolvable: Tornado documents that the wrapped Future is not cancelled when the timeout expires, "
        "permitting it to be reused (unlike asyncio.wait_for, which cancels it)."
    )


@check("Tornado docs: gen.sleep", Level.MUST)
def test_sleep_waits_its_delay_without_blocking_the_loop(impl, ioloop):
    """gen.sleep: "Return a `.Future` that resolves after the given number of seconds. When
    used with ``yield`` in a coroutine, this is a non-blocking analogue to `time.sleep`
    (which should not be used in coroutines because it is blocking)." While one coroutine
    sleeps, a callback added just before must run; and the sleep lasts at least its delay
    (a lower bound, which no load can break)."""
    gen = impl.part("gen")
    IOLoop = impl.part("ioloop").IOLoop
    delay = 0.05

    async def scenario():
        loop = IOLoop.current()
        trace = []
        loop.add_callback(trace.append, "callback ran")
        started = time.monotonic()
        await gen.sleep(delay)
        trace.append("sleep returned")
        return trace, time.monotonic() - started

    trace, slept = ioloop.call(scenario)
    assert trace == ["callback ran", "sleep returned"], (
        f"a callback was added, then a coroutine awaited gen.sleep({delay}); the order was {trace!r}: the "
        "callback must run while the coroutine sleeps. Tornado documents gen.sleep as the non-blocking "
        "analogue of time.sleep, which blocks the loop."
    )
    assert slept >= delay * 0.99, (
        f"gen.sleep({delay}) resolved after {slept:.4f}s: it must resolve after the given number of seconds."
    )


@check("Tornado docs: ioloop.PeriodicCallback", Level.MUST)
def test_periodic_callback_runs_while_started_and_never_after_stop(impl, ioloop):
    """PeriodicCallback: "Schedules the given callback to be called periodically"; ``start``
    "Starts the timer", ``stop`` "Stops the timer" and ``is_running`` "Returns ``True`` if
    this `.PeriodicCallback` has been started." After stop() the callback must not run again,
    checked over three more periods (ended by a timer, not a sleep of the check). The period
    is 2 ms; the wait after stop() is four times the longer of the period and the gap seen
    between the first two ticks (at most 40 ms), so a loop that ticks slower than asked is
    watched for as many of its own ticks."""
    Future = impl.part("concurrent").Future
    ioloop_part = impl.part("ioloop")

    async def scenario():
        loop = ioloop_part.IOLoop.current()
        calls, twice, states = [], Future(), {}

        def tick():
            calls.append(loop.time())
            if len(calls) == 2 and not twice.done():
                twice.set_result(None)

        periodic = ioloop_part.PeriodicCallback(tick, 2)
        states["before start"] = periodic.is_running()
        periodic.start()
        states["after start"] = periodic.is_running()
        await twice
        periodic.stop()
        states["after stop"] = periodic.is_running()
        stopped_at = len(calls)
        wait = min(0.04, 4 * max(0.002, calls[1] - calls[0]))
        end = Future()
        loop.call_later(wait, end.set_result, None)
        await end
        return states, stopped_at, len(calls), wait

    states, stopped_at, total, wait = ioloop.call(scenario)
    expected_states = {"before start": False, "after start": True, "after stop": False}
    if states != expected_states:
        raise Violation(
            "PeriodicCallback.is_running() was not True exactly from start() until stop().",
            expected=expected_states,
            observed=states,
        )
    assert total == stopped_at, (
        f"a PeriodicCallback of 2 ms had run {stopped_at} times when stop() was called, and {total} times "
        f"{wait * 1000:.0f} ms later: stop() stops the timer, so the callback must not run again."
    )


@check("Tornado docs: ioloop.PeriodicCallback", Level.TORNADO)
def test_periodic_coroutine_callback_does_not_overlap_itself(impl, ioloop):
    """PeriodicCallback: "If the callback runs for longer than ``callback_time`` milliseconds,
    subsequent invocations will be skipped to get back on schedule" and, since 6.2, "If the
    ``callback`` argument is a coroutine, and a callback runs for longer than
    ``callback_time``, subsequent invocations will be skipped." A coroutine callback that
    takes three periods (6 ms, of a 2 ms PeriodicCallback) must never run twice at once:
    the next tick of an implementation that does not wait for it is due while it sleeps,
    and timers run in deadline order however loaded the machine is."""
    gen, Future = impl.part("gen"), impl.part("concurrent").Future
    ioloop_part = impl.part("ioloop")

    async def scenario():
        state = {"active": 0, "most active": 0, "runs": 0}
        three_runs = Future()

        async def tick():
            state["active"] += 1
            state["most active"] = max(state["most active"], state["active"])
            state["runs"] += 1
            try:
                await gen.sleep(0.006)
            finally:
                state["active"] -= 1
            if state["runs"] >= 3 and not three_runs.done():
                three_runs.set_result(None)

        periodic = ioloop_part.PeriodicCallback(tick, 2)
        periodic.start()
        try:
            await three_runs
        finally:
            periodic.stop()
        return state["most active"]

    most_active = ioloop.call(scenario)
    assert most_active == 1, (
        f"a PeriodicCallback of 2 ms whose coroutine callback takes 6 ms had {most_active} invocations "
        "running at once: Tornado awaits a coroutine callback before scheduling the next run, skipping the "
        "periods it overran, so invocations never overlap."
    )
