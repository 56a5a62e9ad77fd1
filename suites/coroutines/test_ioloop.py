"""The IOLoop: run_sync, IOLoop.current, spawn_callback and run_in_executor.

Reference: Tornado docs, ``tornado.ioloop.IOLoop``
(https://www.tornadoweb.org/en/stable/ioloop.html) and the coroutines guide, "How to call
a coroutine" (https://www.tornadoweb.org/en/stable/guide/coroutines.html#how-to-call-a-coroutine).

``run_sync`` needs a loop that is not running, so those checks create a fresh ``IOLoop()``
in a worker thread of their own and close it there, leaving no thread or fd behind.
"""

from __future__ import annotations

import threading

import pytest

from conformance import Level, Violation, check, requires

from ._support import in_fresh_loop as _in_fresh_loop

pytestmark = [pytest.mark.coroutines, requires("ioloop", "concurrent", "gen")]


class OperationFailed(Exception):
    """Raised by the functions under test: a type of the check's own."""


@check("Tornado docs: IOLoop.run_sync", Level.MUST)
def test_run_sync_returns_result_raises_exception_and_times_out(impl, conformance_timeout):
    """IOLoop.run_sync: "Starts the `IOLoop`, runs the given function, and stops the loop.
    [...] If the function returns an awaitable object, the `IOLoop` will run until the
    awaitable is resolved (and `run_sync()` will return the awaitable's result). If it raises
    an exception, the `IOLoop` will stop and the exception will be re-raised to the caller.
    The keyword-only argument ``timeout`` may be used to set a maximum duration for the
    function. If the timeout expires, a `TimeoutError` is raised." """
    gen = impl.part("gen")
    timeout_error = getattr(impl.part("ioloop"), "TimeoutError", None) or getattr(gen, "TimeoutError", TimeoutError)

    async def returns():
        await gen.sleep(0)
        return "the result"

    async def raises():
        await gen.sleep(0)
        raise OperationFailed("the failure")

    async def never():
        await impl.part("concurrent").Future()

    def body(loop):
        observed = {}
        for name, func, kwargs in (
            ("returns", returns, {}),
            ("raises", raises, {}),
            ("never", never, {"timeout": 0.01}),
        ):
            try:
                observed[name] = ("returned", loop.run_sync(func, **kwargs))
            except Exception as exc:
                observed[name] = ("raised", exc)
        return observed

    observed = _in_fresh_loop(impl, body, conformance_timeout)
    assert observed["returns"] == ("returned", "the result"), (
        f"IOLoop.run_sync(a coroutine returning 'the result') {observed['returns'][0]} {observed['returns'][1]!r}: "
        "Tornado documents that run_sync returns the awaitable's result."
    )
    how, what = observed["raises"]
    assert how == "raised" and isinstance(what, OperationFailed), (
        f"IOLoop.run_sync(a coroutine raising OperationFailed) {how} {what!r}: Tornado documents that the "
        "exception is re-raised to the caller, with its type."
    )
    how, what = observed["never"]
    if not (how == "raised" and isinstance(what, timeout_error)):
        raise Violation(
            "IOLoop.run_sync(a coroutine that never finishes, timeout=0.01) did not raise a TimeoutError when the "
            "timeout expired.",
            expected=f"raised {timeout_error.__module__}.{timeout_error.__qualname__}",
            observed=f"{how} {what!r}",
        )


@check("Tornado docs: IOLoop.current", Level.MUST)
def test_current_inside_a_coroutine_is_the_loop_running_it(impl, conformance_timeout):
    """IOLoop.current: "Returns the current thread's `IOLoop`. If an `IOLoop` is currently
    running or has been marked as current by `make_current`, returns that instance."
    A coroutine run by ``run_sync`` on a new IOLoop in another thread must find that loop."""
    IOLoop = impl.part("ioloop").IOLoop

    async def which():
        return IOLoop.current()

    def body(loop):
        return loop, loop.run_sync(which)

    created, current = _in_fresh_loop(impl, body, conformance_timeout)
    assert current is created, (
        f"inside a coroutine run by run_sync on a new IOLoop ({created!r}) in a new thread, IOLoop.current() "
        f"returned {current!r}: Tornado documents that current() returns the IOLoop that is running in the "
        "current thread."
    )


@check("Tornado docs: guide: How to call a coroutine (spawn_callback)", Level.TORNADO)
def test_spawn_callback_logs_the_exception_of_a_failing_coroutine(impl, ioloop):
    """The coroutines guide on ``IOLoop.spawn_callback``: "The IOLoop will catch the exception
    and print a stack trace in the logs." The caller of spawn_callback is not affected: the
    exception never reaches it."""
    Future = impl.part("concurrent").Future
    IOLoop = impl.part("ioloop").IOLoop

    async def divide(x, y):
        return x / y

    async def scenario():
        loop = IOLoop.current()
        loop.spawn_callback(divide, 1, 0)
        for _ in range(3):  # loop turns, not time
            step = Future()
            loop.add_callback(step.set_result, None)
            await step
        return "caller went on"

    outcome = ioloop.call(scenario)
    ioloop.barrier()
    records = [r for r in ioloop.log.records if r.exc_info and r.exc_info[0] is ZeroDivisionError]
    assert outcome == "caller went on" and records, (
        "IOLoop.spawn_callback(a coroutine dividing by zero) left this in the implementation's log:\n"
        f"{ioloop.log.format()}\nTornado's coroutines guide documents that the IOLoop catches the exception "
        "and prints a stack trace in the logs; a failure of spawned work must not pass silently."
    )


@check("Tornado docs: IOLoop.run_in_executor", Level.MUST)
@requires(features=["run_in_executor"])
def test_run_in_executor_runs_off_the_loop_thread(impl, ioloop, conformance_timeout):
    """IOLoop.run_in_executor: "Runs a function in a ``concurrent.futures.Executor``. If
    ``executor`` is ``None``, the IO loop's default executor will be used." The function runs
    on another thread while the loop goes on; the call returns an awaitable at once. The
    function waits for a callback that only the running loop can deliver."""
    IOLoop = impl.part("ioloop").IOLoop

    async def scenario():
        loop = IOLoop.current()
        loop_ran = threading.Event()

        def blocking():
            # Only returns True if the loop kept running while this function ran.
            return threading.get_ident(), loop_ran.wait(conformance_timeout)

        awaitable = loop.run_in_executor(None, blocking)
        loop.add_callback(loop_ran.set)
        ident, loop_went_on = await awaitable
        return ident, loop_went_on, threading.get_ident()

    ident, loop_went_on, loop_thread = ioloop.call(scenario, timeout=conformance_timeout * 2)
    assert ident != loop_thread and loop_went_on, (
        f"IOLoop.run_in_executor(None, fn) ran fn on {'the loop thread' if ident == loop_thread else 'another thread'}"
        f"{'' if loop_went_on else ' and the loop did not run a callback while fn waited for it'}: Tornado runs "
        "fn in an executor, off the loop thread, so the loop goes on serving other work meanwhile."
    )
