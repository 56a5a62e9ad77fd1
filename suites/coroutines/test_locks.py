"""tornado.locks in detail: Lock, Semaphore, BoundedSemaphore, Event and Condition, as
``async with``, with timeouts given as deadlines, timedeltas and zero, and the order waiters
are served in.

Reference: Tornado docs, ``tornado.locks`` (https://www.tornadoweb.org/en/stable/locks.html).

No check waits on a clock for synchronisation. Where the judged outcome is "times out", the
check arms a short timeout and a marker timer due later on the same loop: timers run in
deadline order, so when the marker has run the timeout has had its turn, whatever the load.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from conformance import Level, Violation, check, requires

from ._support import describe as _describe
from ._support import outcome as _outcome
from ._support import timeout_error as _timeout_error
from ._support import turns as _turns

pytestmark = [pytest.mark.coroutines]

LOCKS = ["lock", "semaphore", "bounded-semaphore"]


def _needs():
    return requires("locks", "ioloop", "concurrent", "gen", "util")


def _make(impl: Any, kind: str) -> Any:
    locks = impl.part("locks")
    return {"lock": locks.Lock, "semaphore": locks.Semaphore, "bounded-semaphore": locks.BoundedSemaphore}[kind]()


def _short_timeout(loop: Any, form: str) -> Any:
    if form == "timedelta":
        return datetime.timedelta(milliseconds=10)
    return loop.time() + 0.01  # an absolute deadline on the IOLoop's clock


class _Planned(Exception):
    pass


# -- Lock, Semaphore, BoundedSemaphore ----------------------------------------------------------


@check("Tornado docs: locks.Lock, locks.Semaphore (async with)", Level.TORNADO)
@_needs()
@pytest.mark.parametrize("kind", LOCKS)
def test_async_with_releases_on_exit_and_on_exception(impl, ioloop, kind):
    """locks.Lock: "A Lock can be used as an async context manager with the ``async with``
    statement ... # Now the lock is released." locks.Semaphore: "The semaphore can be used
    as an async context manager ... # Now the semaphore has been released." The block is
    left once normally and once by an exception; after each, an acquire succeeds at once."""

    async def scenario():
        lock, facts, later = _make(impl, kind), {}, datetime.timedelta(seconds=30)
        async with lock:
            inside = lock.acquire(timeout=later)
            await _turns(impl, 2)
            facts["held inside the block"] = not impl.part("gen").convert_yielded(inside).done()
        facts["acquire after a normal exit"] = (await _outcome(impl, inside))[0]
        lock.release()
        try:
            async with lock:
                raise _Planned("raised inside async with")
        except _Planned:
            pass
        facts["acquire after an exception"] = (await _outcome(impl, lock.acquire(timeout=later)))[0]
        return facts

    facts = ioloop.call(scenario)
    expected = {
        "held inside the block": True,
        "acquire after a normal exit": "returned",
        "acquire after an exception": "returned",
    }
    if facts != expected:
        raise Violation(
            f"a {kind} used with ``async with`` was not held inside the block and released when the block was left "
            "(an acquire with a 30 s timeout waits while it is held).",
            expected=expected,
            observed=facts,
        )


@check("Tornado docs: locks.Lock.release, locks.Semaphore.release", Level.TORNADO)
@_needs()
@pytest.mark.parametrize("kind", LOCKS)
def test_waiters_acquire_first_come_first_served(impl, ioloop, kind):
    """locks.Lock.release: "Unlock. The first coroutine in line waiting for `acquire` gets the
    lock." Semaphore.release: "Increment the counter and wake one waiter", the one that has
    waited longest, as for a Lock. Three acquires wait behind a holder; it is released and
    each new holder releases in turn."""

    async def scenario():
        lock, order = _make(impl, kind), []
        await lock.acquire()
        waiters = []
        for name in ("first", "second", "third"):
            waiter = impl.part("gen").convert_yielded(lock.acquire())
            waiter.add_done_callback(lambda _f, name=name: order.append(name))
            waiters.append(waiter)
        for waiter in waiters:
            lock.release()
            await _outcome(impl, waiter)
        lock.release()
        await _turns(impl, 2)
        return order

    order = ioloop.call(scenario)
    if order != ["first", "second", "third"]:
        raise Violation(
            f"three coroutines waiting on a {kind} did not acquire it in the order they started waiting.",
            expected=["first", "second", "third"],
            observed=order,
        )


@check("Tornado docs: locks.BoundedSemaphore", Level.TORNADO)
@_needs()
@pytest.mark.parametrize("history", ["value-1-fresh", "value-2-one-cycle", "value-0"])
def test_bounded_semaphore_released_too_often_raises_value_error(impl, ioloop, history):
    """locks.BoundedSemaphore: "A semaphore that prevents release() being called too many
    times. If `.release` would increment the semaphore's value past the initial value, it
    raises `ValueError`." """
    locks = impl.part("locks")

    async def scenario():
        value = {"value-1-fresh": 1, "value-2-one-cycle": 2, "value-0": 0}[history]
        semaphore = locks.BoundedSemaphore(value)
        if history == "value-2-one-cycle":
            await semaphore.acquire()
            semaphore.release()
        try:
            semaphore.release()
            return "accepted"
        except ValueError:
            return "ValueError"
        except Exception as exc:
            return f"raised {type(exc).__name__}"

    got = ioloop.call(scenario)
    if got != "ValueError":
        raise Violation(
            f"a BoundedSemaphore released past its initial value ({history}) did not raise ValueError.",
            expected="ValueError",
            observed=got,
        )


@check("Tornado docs: locks.Lock", Level.TORNADO)
@_needs()
@pytest.mark.parametrize("history", ["never-acquired", "released-twice"])
def test_releasing_an_unlocked_lock_raises_runtime_error(impl, ioloop, history):
    """locks.Lock: "Releasing an unlocked lock raises `RuntimeError`." Lock.release: "If not
    locked, raise a `RuntimeError`." """
    locks = impl.part("locks")

    async def scenario():
        lock = locks.Lock()
        if history == "released-twice":
            await lock.acquire()
            lock.release()
        try:
            lock.release()
            return "accepted"
        except RuntimeError:
            return "RuntimeError"
        except Exception as exc:
            return f"raised {type(exc).__name__}"

    got = ioloop.call(scenario)
    if got != "RuntimeError":
        raise Violation(
            f"Lock.release on an unlocked lock ({history}) did not raise RuntimeError.",
            expected="RuntimeError",
            observed=got,
        )


@check("Tornado docs: locks.Semaphore (initial value)", Level.TORNADO)
@_needs()
@pytest.mark.parametrize("case", ["zero-blocks-until-release", "negative-semaphore", "negative-bounded"])
def test_semaphore_initial_value(impl, ioloop, case):
    """locks.Semaphore: "A Semaphore manages a counter representing the number of `.release`
    calls minus the number of `.acquire` calls, plus an initial value. The `.acquire`
    method blocks if necessary until it can return without making the counter negative."
    An initial value of 0 admits nobody until a release; a negative one has no meaning and
    Tornado refuses it with ValueError, as ``threading.Semaphore`` does."""
    locks = impl.part("locks")

    async def scenario():
        if case == "zero-blocks-until-release":
            semaphore = locks.Semaphore(0)
            waiter = impl.part("gen").convert_yielded(semaphore.acquire())
            await _turns(impl, 3)
            blocked = not waiter.done()
            semaphore.release()
            return f"blocked: {blocked}; after release: {(await _outcome(impl, waiter))[0]}"
        cls = locks.Semaphore if case == "negative-semaphore" else locks.BoundedSemaphore
        try:
            cls(-1)
            return "accepted"
        except ValueError:
            return "ValueError"
        except Exception as exc:
            return f"raised {type(exc).__name__}"

    got = ioloop.call(scenario)
    expected = "blocked: True; after release: returned" if case == "zero-blocks-until-release" else "ValueError"
    if got != expected:
        raise Violation(
            f"a semaphore's initial value was not honoured ({case}).",
            expected=expected,
            observed=got,
        )


@check("Tornado docs: locks.Lock.acquire, locks.Semaphore.acquire (timeout)", Level.TORNADO)
@_needs()
@pytest.mark.parametrize("form", ["timedelta", "deadline"])
@pytest.mark.parametrize("kind", LOCKS)
def test_timed_acquire_raises_timeout_error(impl, ioloop, kind, form):
    """Lock.acquire: "Attempt to lock. Returns an awaitable. Returns an awaitable, which
    raises `TimeoutError` after a timeout." Semaphore.acquire: "Block if the counter is zero
    and wait for a `.release`. The awaitable raises `TimeoutError` after the deadline."
    Timeouts are an absolute ``IOLoop.time()`` deadline or a ``timedelta`` (locks.Condition:
    "either an absolute timestamp ... or a `datetime.timedelta` for a timeout relative to the
    current time")."""
    timeout_error = _timeout_error(impl)

    async def scenario():
        loop, lock = impl.part("ioloop").IOLoop.current(), _make(impl, kind)
        await lock.acquire()
        return await _outcome(impl, lock.acquire(timeout=_short_timeout(loop, form)))

    outcome = ioloop.call(scenario)
    if not (outcome[0] == "raised" and isinstance(outcome[1], timeout_error)):
        raise Violation(
            f"acquire on a held {kind} with a 10 ms timeout given as a {form} did not raise TimeoutError once it "
            f"passed: it {_describe(outcome)}.",
            expected=f"{timeout_error.__module__}.{timeout_error.__qualname__}",
            observed=_describe(outcome),
        )


# -- Event ----------------------------------------------------------------------------------


@check("Tornado docs: locks.Event.wait (timeout)", Level.TORNADO)
@_needs()
@pytest.mark.parametrize("form", ["timedelta", "deadline"])
def test_event_wait_times_out_with_timeout_error(impl, ioloop, form):
    """Event.wait: "Block until the internal flag is true. Returns an awaitable, which raises
    `TimeoutError` after a timeout." """
    timeout_error = _timeout_error(impl)

    async def scenario():
        loop, event = impl.part("ioloop").IOLoop.current(), impl.part("locks").Event()
        return await _outcome(impl, event.wait(timeout=_short_timeout(loop, form)))

    outcome = ioloop.call(scenario)
    if not (outcome[0] == "raised" and isinstance(outcome[1], timeout_error)):
        raise Violation(
            f"Event.wait on an event never set, with a 10 ms timeout given as a {form}, did not raise TimeoutError: "
            f"it {_describe(outcome)}.",
            expected=f"{timeout_error.__module__}.{timeout_error.__qualname__}",
            observed=_describe(outcome),
        )


@check("Tornado docs: locks.Event.set", Level.TORNADO)
@_needs()
def test_event_set_wakes_every_waiter(impl, ioloop):
    """Event.set: "Set the internal flag to ``True``. All waiters are awakened. Calling
    `.wait` once the flag is set will not block." Three coroutines wait, one with a long
    timeout; set() wakes all three, and a fourth wait after it resolves at once."""

    async def scenario():
        event = impl.part("locks").Event()
        waiters = [event.wait(), event.wait(), event.wait(timeout=datetime.timedelta(seconds=30))]
        await _turns(impl, 2)
        event.set()
        woken = [(await _outcome(impl, w))[0] for w in waiters]
        return woken, (await _outcome(impl, event.wait()))[0]

    woken, later = ioloop.call(scenario)
    if woken != ["returned"] * 3 or later != "returned":
        raise Violation(
            "Event.set did not wake every coroutine waiting, or a wait after set blocked.",
            expected="three waiters woken; the later wait resolves",
            observed=f"waiters {woken}; the later wait {later}",
        )


@check("Tornado docs: locks.Event.clear, Event.is_set", Level.TORNADO)
@_needs()
def test_event_clear_makes_wait_block_again(impl, ioloop):
    """Event.is_set: "Return ``True`` if the internal flag is true." Event.clear: "Reset the
    internal flag to ``False``. Calls to `.wait` will block until `.set` is called." The
    event is set, waited on, cleared, waited on again (this wait must block), then set."""

    async def scenario():
        event, facts = impl.part("locks").Event(), []
        facts.append(("new", event.is_set()))
        event.set()
        facts.append(("set", event.is_set(), (await _outcome(impl, event.wait()))[0]))
        event.clear()
        waiter = impl.part("gen").convert_yielded(event.wait())
        await _turns(impl, 3)
        facts.append(("cleared", event.is_set(), "pending" if not waiter.done() else "resolved at once"))
        event.set()
        facts.append(("set again", event.is_set(), (await _outcome(impl, waiter))[0]))
        return facts

    facts = ioloop.call(scenario)
    expected = [
        ("new", False),
        ("set", True, "returned"),
        ("cleared", False, "pending"),
        ("set again", True, "returned"),
    ]
    if facts != expected:
        raise Violation(
            "Event.is_set/clear/wait did not follow the flag: (step, is_set(), the wait).",
            expected=expected,
            observed=facts,
        )


# -- Condition ------------------------------------------------------------------------------


@check("Tornado docs: locks.Condition.notify", Level.TORNADO)
@_needs()
@pytest.mark.parametrize("n", [0, 1, 2])
def test_condition_notify_wakes_exactly_n_waiters(impl, ioloop, n):
    """Condition.notify: "Wake ``n`` waiters." Three coroutines wait; notify(n) wakes n of
    them, the rest keep waiting."""

    async def scenario():
        condition = impl.part("locks").Condition()
        waiters = [impl.part("gen").convert_yielded(condition.wait()) for _ in range(3)]
        await _turns(impl, 2)
        condition.notify(n)
        await _turns(impl, 3)
        woken = sum(w.done() for w in waiters)
        condition.notify_all()
        return woken

    woken = ioloop.call(scenario)
    if woken != n:
        raise Violation(
            f"notify({n}) with three coroutines waiting on a Condition did not wake exactly {n}.",
            expected=f"{n} woken",
            observed=f"{woken} woken",
        )


@check("Tornado docs: locks.Condition.notify_all", Level.TORNADO)
@_needs()
def test_condition_notify_all_wakes_every_waiter(impl, ioloop):
    """Condition.notify_all: "Wake all waiters." Three coroutines wait, one with a long
    timeout; notify_all wakes all three, each with True."""

    async def scenario():
        condition = impl.part("locks").Condition()
        waiters = [condition.wait(), condition.wait(), condition.wait(timeout=datetime.timedelta(seconds=30))]
        await _turns(impl, 2)
        condition.notify_all()
        return [await _outcome(impl, w) for w in waiters]

    woken = ioloop.call(scenario)
    if woken != [("returned", True)] * 3:
        raise Violation(
            "notify_all() with three coroutines waiting on a Condition did not wake them all with True.",
            expected=[("returned", True)] * 3,
            observed=woken,
        )


@check("Tornado docs: locks.Condition.wait", Level.TORNADO)
@_needs()
@pytest.mark.parametrize("how", ["notified", "timedelta", "deadline"])
def test_condition_wait_resolves_true_when_notified_and_false_on_timeout(impl, ioloop, how):
    """Condition.wait: "Returns a `.Future` that resolves ``True`` if the condition is
    notified, or ``False`` after a timeout." locks.Condition: "The method returns False if
    there's no notification before the deadline." The timeout is a ``timedelta`` or an
    absolute ``IOLoop.time()`` deadline; the notified waiter has a 30 s timeout."""

    async def scenario():
        loop, condition = impl.part("ioloop").IOLoop.current(), impl.part("locks").Condition()
        if how == "notified":
            waiter = condition.wait(timeout=datetime.timedelta(seconds=30))
            await _turns(impl, 2)
            condition.notify()
            return await _outcome(impl, waiter)
        return await _outcome(impl, condition.wait(timeout=_short_timeout(loop, how)))

    outcome = ioloop.call(scenario)
    expected = ("returned", how == "notified")
    if outcome != expected:
        raise Violation(
            f"Condition.wait ({how}) did not resolve {expected[1]}: it {_describe(outcome)}.",
            expected=f"resolves {expected[1]}",
            observed=_describe(outcome),
        )


# -- a timeout of zero (6.6) ----------------------------------------------------------------


@check("Tornado docs: locks (timeout of zero, 6.6)", Level.TORNADO)
@_needs()
@pytest.mark.parametrize("form", ["timedelta-zero", "number-zero"])
@pytest.mark.parametrize("primitive", ["lock", "semaphore", "event", "condition"])
def test_lock_zero_timeout_gives_up_at_once(impl, ioloop, primitive, form):
    """Lock.acquire, Semaphore.acquire, Event.wait, Condition.wait: ".. versionchanged:: 6.6
    A ``timeout`` argument of zero will either return or raise immediately. Previously, zero
    was treated equivalent to ``None`` (wait forever)." Each primitive is in a state where
    the call must wait: a held Lock, a Semaphore(0), an Event not set, a Condition nobody
    notifies. Condition.wait answers a timeout with False, the others raise TimeoutError."""
    timeout_error = _timeout_error(impl)
    zero = datetime.timedelta(0) if form == "timedelta-zero" else 0
    locks = impl.part("locks")

    async def scenario():
        if primitive == "lock":
            lock = locks.Lock()
            await lock.acquire()
            call = lock.acquire(timeout=zero)
        elif primitive == "semaphore":
            call = locks.Semaphore(0).acquire(timeout=zero)
        elif primitive == "event":
            call = locks.Event().wait(timeout=zero)
        else:
            call = locks.Condition().wait(timeout=zero)
        return await _outcome(impl, call)

    outcome = ioloop.call(scenario)
    if primitive == "condition":
        ok, expected = outcome == ("returned", False), "resolves False at once"
    else:
        ok = outcome[0] == "raised" and isinstance(outcome[1], timeout_error)
        expected = f"{timeout_error.__module__}.{timeout_error.__qualname__} at once"
    if not ok:
        raise Violation(
            f"a {primitive} wait with a timeout of zero ({form}) did not give up at once: it {_describe(outcome)}.",
            expected=expected,
            observed=_describe(outcome),
        )
