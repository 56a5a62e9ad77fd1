"""IOLoops and threads: work finished or prepared on one thread and run by a loop on another,
a loop built on one thread and started on another, the asyncio loop a started IOLoop stands
for, clear_current on a thread that never had a loop, and when Condition.notify wakes its
waiters.

Reference: Tornado 5.0.0 release notes (https://www.tornadoweb.org/en/stable/releases/v5.0.0.html),
Tornado 6.2.0 release notes (https://www.tornadoweb.org/en/stable/releases/v6.2.0.html), and the
docs of ``tornado.ioloop`` (https://www.tornadoweb.org/en/stable/ioloop.html),
``tornado.concurrent`` (https://www.tornadoweb.org/en/stable/concurrent.html) and
``tornado.locks`` (https://www.tornadoweb.org/en/stable/locks.html).

The checks that need a loop of their own build it in threads of their own, close it there
and join every thread with the ``--conformance-timeout`` deadline. No check sleeps: where a
wake-up may be missing, a marker timer on the same loop ends the wait, and the verdict is
the order in which things ran.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import warnings
from collections.abc import Callable
from typing import Any

import pytest

from conformance import Level, Violation, check, not_provided, requires

from ._support import describe as _describe
from ._support import outcome as _outcome
from ._support import turns as _turns

pytestmark = [pytest.mark.coroutines, requires("ioloop", "concurrent", "gen")]

_GIVE_UP = 0.25  # a marker timer this far ahead ends a wait for what never comes


class _Planned(Exception):
    """Raised by the functions under test: a type of the check's own."""


def _in_threads(targets: dict[str, Callable[[], Any]], timeout: float, what: str) -> dict[str, Any]:
    """Run each target in a new thread of its own (DeprecationWarning silenced there: the
    loop APIs these checks exercise are deprecated in some releases) and join them all
    within ``timeout``; return what each returned. What a target raised is re-raised here."""
    outcomes: dict[str, Any] = {}
    errors: dict[str, BaseException] = {}

    def run(name: str, target: Callable[[], Any]) -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                outcomes[name] = target()
        except BaseException as exc:
            errors[name] = exc

    threads = [
        threading.Thread(target=run, args=(name, target), name=f"conformance-{name}", daemon=True)
        for name, target in targets.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    stuck = [thread.name for thread in threads if thread.is_alive()]
    if stuck:
        raise Violation(
            f"{what} did not end within {timeout:g}s (--conformance-timeout): {', '.join(stuck)} still running"
        )
    for error in errors.values():
        raise error
    return outcomes


# -- chain_future from an executor thread (5.0.0) ---------------------------------------------


@check("Tornado 5.0.0 release notes (tornado.concurrent); Tornado docs: concurrent.chain_future", Level.TORNADO)
@pytest.mark.parametrize("outcome", ["result", "exception"])
def test_chain_future_from_a_thread_completes_b_on_the_loop(impl, ioloop, outcome, conformance_timeout):
    """The 5.0.0 release notes (tornado.concurrent): "`tornado.concurrent.chain_future` now
    works with all three kinds of ``Futures`` (Tornado, `asyncio`, and
    `concurrent.futures`)"; chain_future, "Changed in version 5.0: Now accepts both
    Tornado/asyncio `Future` objects and `concurrent.futures.Future`." With ``a`` a
    ``concurrent.futures.Future`` that another thread completes (as an executor's worker
    does) and ``b`` the loop's own Future, b gets a's outcome, and b is completed on the
    loop's thread: the loop's Futures are not thread-safe, so the thread that finished ``a``
    must not complete ``b`` itself."""
    concurrent_part = impl.part("concurrent")
    chain_future: Any = getattr(concurrent_part, "chain_future", None)
    if chain_future is None:
        not_provided(f"{impl.name}'s concurrent part has no chain_future")
    LoopFuture: Any = concurrent_part.Future

    class Observed(LoopFuture):
        """The loop's Future, noting the thread that completes it."""

        completed_on: list[int] = []

        def set_result(self, result: Any) -> None:
            self.completed_on.append(threading.get_ident())
            super().set_result(result)

        def set_exception(self, exception: Any) -> None:
            self.completed_on.append(threading.get_ident())
            super().set_exception(exception)

    async def scenario():
        a: concurrent.futures.Future[Any] = concurrent.futures.Future()
        b = Observed()
        b.completed_on = []
        chain_future(a, b)

        def finish() -> None:  # on another thread, as an executor's worker does
            if outcome == "result":
                a.set_result("the result of a")
            else:
                a.set_exception(_Planned("the failure of a"))

        worker = threading.Thread(target=finish, name="conformance-finisher", daemon=True)
        worker.start()
        worker.join(conformance_timeout)
        settled = await _outcome(impl, b)
        return settled, list(b.completed_on), worker.ident, threading.get_ident()

    settled, completed_on, worker, loop_thread = ioloop.call(scenario)
    state, value = settled
    if outcome == "result":
        copied = state == "returned" and value == "the result of a"
        expected = "returned 'the result of a'"
    else:
        copied = state == "raised" and isinstance(value, _Planned) and str(value) == "the failure of a"
        expected = "raised _Planned('the failure of a')"
    where = [
        "the loop thread" if ident == loop_thread else "the finishing thread" if ident == worker else "another thread"
        for ident in completed_on
    ]
    if not copied or where != ["the loop thread"]:
        raise Violation(
            f"chain_future(a, b) with a a concurrent.futures.Future that another thread finished ({outcome}) did not "
            "complete b once, on the loop's thread, with a's outcome: a Future of the loop completed from another "
            "thread runs its callbacks there, or wakes nobody.",
            expected={"b": expected, "b completed on": ["the loop thread"]},
            observed={"b": _describe(settled), "b completed on": where},
        )


# -- PeriodicCallback made on one thread, started on another (5.0.0) ---------------------------


@check("Tornado 5.0.0 release notes (tornado.ioloop); Tornado docs: ioloop.PeriodicCallback", Level.TORNADO)
def test_periodic_callback_made_on_a_worker_thread_runs_on_the_loop_that_starts_it(impl, ioloop, conformance_timeout):
    """The 5.0.0 release notes (tornado.ioloop): "It is now possible to create a
    `.PeriodicCallback` in one thread and start it in another without passing an explicit
    event loop"; PeriodicCallback: "`start` must be called after the `PeriodicCallback` is
    created." A PeriodicCallback of 5 ms made on a thread that has no loop, then started on
    the loop's thread, ticks there."""
    ioloop_part = impl.part("ioloop")
    Future = impl.part("concurrent").Future

    async def scenario():
        loop = ioloop_part.IOLoop.current()
        ticks: list[int] = []
        ticked = Future()

        def tick() -> None:
            ticks.append(threading.get_ident())
            if not ticked.done():
                ticked.set_result(None)

        made: dict[str, Any] = {}

        def make() -> None:
            try:
                made["periodic"] = ioloop_part.PeriodicCallback(tick, 5)
            except Exception as exc:
                made["error"] = exc

        worker = threading.Thread(target=make, name="conformance-maker", daemon=True)
        worker.start()
        worker.join(conformance_timeout)
        if "periodic" not in made:
            error = made.get("error")
            return f"PeriodicCallback(tick, 5) on the worker thread {_raised(error) if error else 'did not return'}"
        periodic = made["periodic"]
        try:
            periodic.start()
        except Exception as exc:
            return f"start() on the loop thread {_raised(exc)}"
        give_up = loop.call_later(_GIVE_UP, lambda: ticked.done() or ticked.set_result(None))
        await ticked
        loop.remove_timeout(give_up)
        periodic.stop()
        loop_thread = threading.get_ident()
        if not ticks:
            return f"no tick within {_GIVE_UP:g}s of start()"
        if any(ident != loop_thread for ident in ticks):
            return "ticked on another thread than the loop's"
        return "ticked on the loop thread"

    observed = ioloop.call(scenario)
    if observed != "ticked on the loop thread":
        raise Violation(
            "a PeriodicCallback made on a thread without a loop and started on the loop's thread did not tick "
            "there: it is bound to the loop current where start() is called, not where it was made.",
            expected="ticked on the loop thread",
            observed=observed,
        )


def _raised(exc: BaseException) -> str:
    return f"raised {type(exc).__name__}: {exc}"


# -- clear_current before any loop (5.0.0) --------------------------------------------------------


@check(
    "Tornado 5.0.0 release notes (tornado.ioloop); Tornado docs: IOLoop.clear_current (deprecated since 6.2)",
    Level.TORNADO,
)
def test_clear_current_on_a_thread_without_a_loop_raises_nothing(impl, conformance_timeout):
    """The 5.0.0 release notes (tornado.ioloop): "`.IOLoop.clear_current` now works if it is
    called before any current loop is established"; IOLoop.clear_current: "Clears the
    `IOLoop` for the current thread." On a new thread that never had a loop it returns
    without raising (whether a loop is current afterwards is judged by
    ``current_without_instance_is_none_on_a_thread_without_a_loop``). Deprecated since 6.2:
    its DeprecationWarning is silenced around the call."""
    IOLoop = impl.part("ioloop").IOLoop
    if not callable(getattr(IOLoop, "clear_current", None)):
        not_provided(f"{impl.name}'s IOLoop has no clear_current (deprecated since Tornado 6.2)")

    def body() -> str:
        try:
            IOLoop.clear_current()
        except Exception as exc:
            return _raised(exc)
        return "returned"

    observed = _in_threads({"fresh-thread": body}, conformance_timeout, "clear_current on a new thread")["fresh-thread"]
    if observed != "returned":
        raise Violation(
            "IOLoop.clear_current() on a new thread that never had a loop did not simply return: code that clears "
            "the current loop defensively (test set-ups, thread pools) fails there.",
            expected="returned",
            observed=observed,
        )


# -- Condition.notify wakes asynchronously (5.0.0) ---------------------------------------------


@check("Tornado 5.0.0 release notes (tornado.locks); Tornado docs: locks.Condition.notify", Level.TORNADO)
@requires("locks")
def test_condition_notify_returns_before_any_waiter_runs(impl, ioloop):
    """The 5.0.0 release notes (tornado.locks): "As a side effect of the ``Future`` changes,
    waiters are always notified asynchronously with respect to `.Condition.notify`."
    Condition.notify: "Wake ``n`` waiters." A coroutine waits on the Condition, and a done
    callback waits on the Future of another ``wait()``; ``notify(2)`` returns before either
    runs, and both run on the following loop iterations."""
    locks, IOLoop = impl.part("locks"), impl.part("ioloop").IOLoop

    async def scenario():
        condition, ran = locks.Condition(), []

        async def waiter() -> None:
            await condition.wait()
            ran.append("coroutine resumed")

        IOLoop.current().spawn_callback(waiter)
        await _turns(impl, 2)
        condition.wait().add_done_callback(lambda _: ran.append("done callback"))
        condition.notify(2)
        at_return = list(ran)
        await _turns(impl, 3)
        return at_return, sorted(ran)

    at_return, after = ioloop.call(scenario)
    expected: tuple[list[str], list[str]] = ([], ["coroutine resumed", "done callback"])
    if (at_return, after) != expected:
        raise Violation(
            "Condition.notify(2) with a coroutine and a done callback waiting "
            + ("ran a waiter before it returned" if at_return else "did not wake both on the next loop iterations")
            + ": the code after notify() must run before any woken waiter does.",
            expected={"when notify returned": expected[0], "three loop iterations later": expected[1]},
            observed={"when notify returned": at_return, "three loop iterations later": after},
        )


# -- a started IOLoop and its asyncio loop (5.0.0) -------------------------------------------------


@check(
    "Tornado 5.0.0 release notes (tornado.platform.asyncio); Tornado docs: IOLoop, IOLoop.close",
    Level.TORNADO,
)
def test_started_loop_is_the_threads_asyncio_loop_and_close_closes_it(impl, conformance_timeout):
    """The 5.0.0 release notes (tornado.platform.asyncio): "Starting an `.IOLoop` or making
    it current now also sets the `asyncio` event loop for the current thread"; tornado.ioloop:
    "`.IOLoop` is a wrapper around the `asyncio` event loop"; IOLoop.close: "Closes the
    `IOLoop`, freeing any resources used." An ``IOLoop(make_current=False)`` started on a new
    thread: inside one of its callbacks ``asyncio.get_event_loop()`` answers the asyncio loop
    it runs on (its ``asyncio_loop``); after ``close()`` that asyncio loop is closed."""
    IOLoop = impl.part("ioloop").IOLoop

    def body() -> dict[str, Any]:
        loop = IOLoop(make_current=False)
        seen: dict[str, Any] = {}

        def inside() -> None:
            try:
                seen["aloop"] = asyncio.get_event_loop()
            except RuntimeError as exc:
                seen["error"] = _raised(exc)
            loop.stop()

        try:
            loop.add_callback(inside)
            loop.start()
        finally:
            loop.close()
        aloop = seen.get("aloop")
        facts: dict[str, Any] = {}
        if aloop is None:
            facts["asyncio.get_event_loop() in a callback"] = seen.get("error", "never ran")
            return facts
        facts["asyncio.get_event_loop() in a callback"] = (
            "the IOLoop's asyncio_loop"
            if getattr(loop, "asyncio_loop", aloop) is aloop
            else "another asyncio loop than asyncio_loop"
        )
        facts["that asyncio loop after IOLoop.close()"] = "closed" if aloop.is_closed() else "open"
        if not aloop.is_closed():
            aloop.close()  # the check's own clean-up
        return facts

    facts = _in_threads({"own-loop": body}, conformance_timeout, "an IOLoop started on a new thread")["own-loop"]
    expected = {
        "asyncio.get_event_loop() in a callback": "the IOLoop's asyncio_loop",
        "that asyncio loop after IOLoop.close()": "closed",
    }
    if facts != expected:
        raise Violation(
            "an IOLoop(make_current=False) started on a new thread did not run as that thread's asyncio event loop, "
            "or its close() left the asyncio loop open: asyncio code called from its callbacks finds no loop or "
            "another one, and closing the IOLoop leaks the loop's selector.",
            expected=expected,
            observed=facts,
        )


# -- a loop built on one thread and started on another (6.2.0) --------------------------------------

#: The margin of the marker timer, short first; a run in the wrong order is judged again with
#: the longer one, whose verdict stands (a preempted machine can only make the marker early).
_MARGINS = (0.05, 0.5)


@check("Tornado 6.2.0 release notes (tornado.ioloop); Tornado docs: IOLoop.add_callback", Level.TORNADO)
@pytest.mark.parametrize("first", ["built-only", "run-there-first"])
def test_loop_built_on_one_thread_runs_callbacks_on_the_thread_that_starts_it(impl, first, conformance_timeout):
    """The 6.2.0 release notes (tornado.ioloop): "It is now possible to construct an
    `.IOLoop` on one thread (with ``make_current=False``) and start it on a different
    thread"; IOLoop.add_callback: "It is safe to call this method from any thread at any
    time [...] `add_callback()` may be used to transfer control from other threads to the
    `IOLoop`'s thread." Thread A builds ``IOLoop(make_current=False)`` (and, in one case,
    runs it there first with ``run_sync``); thread B starts it; A then calls
    ``add_callback``. The callback must run on B at once: before a marker timer due shortly
    after, and a loop iteration ahead of it (a callback that ran only when the marker woke
    the loop runs in the marker's iteration)."""
    IOLoop = impl.part("ioloop").IOLoop

    def attempt(margin: float) -> dict[str, Any]:
        running, handed = threading.Event(), threading.Event()
        shared: dict[str, Any] = {"order": []}

        def on_running() -> None:
            # Hand over from a timer's iteration, which has no I/O left to do: thread B then
            # goes straight back to waiting for events while A adds its callback.
            shared["loop"].call_later(0.01, settled)

        def settled() -> None:
            shared["marker"] = shared["loop"].call_later(margin, on_marker)
            running.set()

        def from_builder() -> None:
            shared["order"].append("callback")
            shared["callback thread"] = threading.get_ident()
            shared["loop"].add_callback(probe)

        def probe() -> None:
            shared["order"].append("probe")
            loop = shared["loop"]
            if "marker" not in shared["order"]:
                loop.remove_timeout(shared["marker"])
            loop.stop()

        def on_marker() -> None:
            shared["order"].append("marker")
            if "callback" not in shared["order"]:
                shared["loop"].call_later(margin, shared["loop"].stop)  # give up a margin later

        def builder() -> str:
            try:
                loop = shared["loop"] = IOLoop(make_current=False)
                if first == "run-there-first":

                    async def prepare() -> str:
                        return "prepared"

                    loop.run_sync(prepare)
            finally:
                handed.set()
            if not running.wait(conformance_timeout):
                return "the loop did not start on thread B"
            loop.add_callback(from_builder)
            return "added"

        def starter() -> int:
            if not handed.wait(conformance_timeout) or "loop" not in shared:
                return 0
            loop = shared["loop"]
            try:
                loop.add_callback(on_running)
                loop.start()
            finally:
                loop.close()
            return threading.get_ident()

        ended = _in_threads(
            {"builder": builder, "starter": starter}, conformance_timeout * 2, "a loop built on A and started on B"
        )
        facts: dict[str, Any] = {"builder": ended["builder"], "order": shared["order"]}
        if "callback thread" in shared:
            facts["callback ran on"] = "thread B" if shared["callback thread"] == ended["starter"] else "another thread"
        return facts

    expected = {"builder": "added", "order": ["callback", "probe"], "callback ran on": "thread B"}
    for margin in _MARGINS:
        facts = attempt(margin)
        if facts == expected:
            return
    raise Violation(
        f"an IOLoop(make_current=False) built on thread A ({first.replace('-', ' ')}) and started on thread B did "
        f"not run a callback that A added with add_callback at once: it waited for something else to wake the "
        f"loop (a marker timer {margin:g}s ahead) or never ran.",
        expected={**expected, "order": "callback, then probe (its next iteration), before the marker"},
        observed=facts,
    )
