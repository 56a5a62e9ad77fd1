"""Timed callbacks and timeouts: IOLoop.call_later/call_at/remove_timeout and gen.with_timeout.

Reference: Tornado docs, ``tornado.ioloop.IOLoop.call_at``
(https://www.tornadoweb.org/en/stable/ioloop.html#tornado.ioloop.IOLoop.call_at) and
``tornado.gen.with_timeout`` (https://www.tornadoweb.org/en/stable/gen.html#tornado.gen.with_timeout).

Delays of 10 to 30 ms are inputs only. Each scenario is arranged so that a slow or
preempted test machine can only delay the timer that is expected to run last, so
the judged orders hold however loaded the machine is.
"""

from __future__ import annotations

import datetime

import pytest

from conformance import Level, check, requires

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
    assert ran == expected, (
        f"timers added in the order call_at(+20ms), call_at(+10ms), call_later(30ms) ran in the order {ran!r}, "
        f"expected deadline order {expected!r}: Tornado documents that call_at runs a callback at the time it "
        "designates, so an earlier deadline must not wait behind a later one."
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
    assert how == "raised" and isinstance(what, timeout_error), (
        f"awaiting gen.with_timeout(10 ms, a Future nobody resolves) {how} {what!r}, expected "
        f"{timeout_error.__module__}.{timeout_error.__qualname__}: Tornado documents that with_timeout raises "
        "TimeoutError when the wrapped future does not complete before the timeout."
    )
    assert state == "pending" and reused == "finished late", (
        f"after gen.with_timeout expired, the wrapped Future was {state}; expected it still pending and "
        "resolvable: Tornado documents that the wrapped Future is not cancelled when the timeout expires, "
        "permitting it to be reused (unlike asyncio.wait_for, which cancels it)."
    )
