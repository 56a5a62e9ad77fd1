"""The asyncio integration of Tornado 5.0: Futures are asyncio Futures, the IOLoop wraps
asyncio's loop, and the timeout exceptions are one class.

Reference: Tornado 5.0.0 release notes (https://www.tornadoweb.org/en/stable/releases/v5.0.0.html),
Tornado 6.2.0 release notes (https://www.tornadoweb.org/en/stable/releases/v6.2.0.html), and
the docs of ``tornado.concurrent`` (https://www.tornadoweb.org/en/stable/concurrent.html),
``tornado.ioloop`` (https://www.tornadoweb.org/en/stable/ioloop.html) and ``tornado.util``
(https://www.tornadoweb.org/en/stable/util.html).

``run_sync`` needs a loop that is not running, so the check of it creates a fresh
``IOLoop()`` in a worker thread of its own and closes it there.
"""

from __future__ import annotations

import asyncio
import datetime
import threading
import warnings
from concurrent import futures

import pytest

from conformance import Level, Violation, check, not_provided, requires

from ._support import in_fresh_loop as _in_fresh_loop
from ._support import turns as _turns

pytestmark = [pytest.mark.coroutines, requires("concurrent", "ioloop", "gen", "locks")]


def _name(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


@check(
    "Tornado 5.0.0 release notes (tornado.gen, tornado.ioloop, tornado.util); Tornado docs: util.TimeoutError",
    Level.TORNADO,
)
def test_gen_and_ioloop_timeout_errors_are_util_timeout_error(impl, ioloop, conformance_timeout):
    """util.TimeoutError: "Exception raised by `.gen.with_timeout` and `.IOLoop.run_sync`.
    [...] Changed in version 5.0: Unified ``tornado.gen.TimeoutError`` and
    ``tornado.ioloop.TimeoutError`` as ``tornado.util.TimeoutError``. Both former names
    remain as aliases." The 5.0.0 release notes: "``tornado.gen.TimeoutError`` is now an
    alias for `tornado.util.TimeoutError`" (likewise ``tornado.ioloop.TimeoutError``). Code
    that catches ``tornado.util.TimeoutError`` catches the timeouts of both."""
    util, gen, ioloop_part = impl.part("util"), impl.part("gen"), impl.part("ioloop")
    unified = getattr(util, "TimeoutError", None) if util is not None else None
    if unified is None:
        not_provided(f"{impl.name}'s util part has no TimeoutError (added in Tornado 5.0)")
    Future = impl.part("concurrent").Future

    async def with_timeout():
        try:
            await gen.with_timeout(datetime.timedelta(milliseconds=10), Future())
        except Exception as exc:  # judged below
            return exc
        return None

    def run_sync(loop):
        async def never():
            await impl.part("locks").Event().wait()

        try:
            loop.run_sync(never, timeout=0.01)
        except Exception as exc:  # judged below
            return exc
        return None

    observed = {
        "gen.TimeoutError": getattr(gen, "TimeoutError", None),
        "ioloop.TimeoutError": getattr(ioloop_part, "TimeoutError", None),
        "raised by gen.with_timeout": type(ioloop.call(with_timeout)),
    }
    raised_by_run_sync = _in_fresh_loop(impl, run_sync, conformance_timeout)
    if raised_by_run_sync is not None:  # a run_sync that raises nothing is judged by run_sync's own check
        observed["raised by IOLoop.run_sync"] = type(raised_by_run_sync)
    wrong = {
        what: _name(cls) if cls is not None else None
        for what, cls in observed.items()
        if cls is None or not issubclass(cls, unified) or (what.endswith(".TimeoutError") and cls is not unified)
    }
    if wrong:
        raise Violation(
            "the timeout exceptions of gen and ioloop are not tornado.util.TimeoutError: code that catches "
            "util.TimeoutError lets some timeouts through.",
            expected=f"gen.TimeoutError and ioloop.TimeoutError are util.TimeoutError ({_name(unified)}), and both "
            "timeouts raise it",
            observed=wrong,
        )


@check("Tornado 6.2.0 release notes (tornado.gen); Tornado docs: gen.with_timeout, util.TimeoutError", Level.TORNADO)
def test_with_timeout_raises_asyncio_timeout_error(impl, ioloop):
    """The 6.2.0 release notes (tornado.gen): "``TimeoutError`` is now an alias for
    `asyncio.TimeoutError`"; util.TimeoutError: "Changed in version 6.2: ``tornado.util.
    TimeoutError`` is an alias to `asyncio.TimeoutError`". So the exception
    ``gen.with_timeout`` raises is caught by ``except asyncio.TimeoutError``, as
    ``asyncio.wait_for``'s is."""
    gen, Future = impl.part("gen"), impl.part("concurrent").Future

    async def scenario():
        try:
            await gen.with_timeout(datetime.timedelta(milliseconds=10), Future())
        except Exception as exc:  # judged below
            return exc
        return None

    raised = ioloop.call(scenario)
    if not isinstance(raised, asyncio.TimeoutError):
        raise Violation(
            "gen.with_timeout on a Future nobody resolves did not raise an asyncio.TimeoutError: code that catches "
            "asyncio's timeout (as around asyncio.wait_for) lets it through.",
            expected="an instance of asyncio.TimeoutError",
            observed=f"{_name(type(raised))}({raised})" if raised is not None else "returned",
        )


@check("Tornado 5.0.0 release notes (tornado.concurrent); Tornado docs: concurrent.Future", Level.TORNADO)
def test_future_cancel_cancels_a_pending_future(impl, ioloop):
    """concurrent.Future: "``tornado.concurrent.Future`` is an alias for `asyncio.Future`.
    [...] Changed in version 5.0: Tornado's implementation of ``Future`` has been replaced
    by the version from `asyncio` when available. [...] Cancellation is now partially
    supported (only on Python 3)"; the 5.0.0 release notes: "Cancellation is now partially
    supported, via `asyncio.Future.cancel`". asyncio.Future.cancel:
    "If the Future is already done or cancelled, return False. Otherwise, change the
    Future's state to cancelled, schedule the callbacks, and return True"."""
    Future = impl.part("concurrent").Future

    def scenario():
        future = Future()
        returned = future.cancel()
        return returned, future.cancelled(), future.done()

    returned, cancelled, done = ioloop.call(scenario)
    if (returned, cancelled, done) != (True, True, True):
        raise Violation(
            "cancel() on a pending Future did not cancel it: a coroutine cannot be stopped through its Future.",
            expected="cancel() returns True; then cancelled() and done() are True",
            observed=f"cancel() returned {returned!r}; then cancelled() is {cancelled!r}, done() is {done!r}",
        )


@check("Tornado 5.0.0 release notes (tornado.concurrent); Tornado docs: concurrent.Future", Level.TORNADO)
def test_future_done_callbacks_run_after_set_result_returns(impl, ioloop):
    """The 5.0.0 release notes (tornado.concurrent): "Setting the result of a ``Future``
    no longer blocks while callbacks are being run. Instead, the callbacks are scheduled
    on the next `.IOLoop` iteration." concurrent.Future, "Changed in version 5.0: [...]
    The timing of callbacks scheduled with ``Future.add_done_callback`` has changed"
    (asyncio.Future schedules its callbacks with ``call_soon``)."""
    Future = impl.part("concurrent").Future

    async def scenario():
        future, calls = Future(), []
        future.add_done_callback(lambda done: calls.append(done.result()))
        future.set_result("the result")
        inside = list(calls)
        await _turns(impl, 2)
        return inside, list(calls)

    inside, after = ioloop.call(scenario)
    if inside != [] or after != ["the result"]:
        raise Violation(
            "a done callback added to a pending Future "
            + ("ran inside set_result" if inside else "did not run once on the following loop iterations")
            + ": set_result must return before its callbacks run, which then run on the next loop iteration.",
            expected="calls [] when set_result returns, ['the result'] two loop iterations later",
            observed=f"calls {inside!r} when set_result returns, {after!r} two loop iterations later",
        )


@check("Tornado 5.0.0 release notes (tornado.ioloop); Tornado docs: IOLoop.instance", Level.TORNADO)
def test_instance_is_the_current_loop(impl, ioloop):
    """IOLoop.instance: "Deprecated alias for `IOLoop.current()`. Changed in version 5.0:
    Previously, this method returned a global singleton `IOLoop`, in contrast with the
    per-thread `IOLoop` returned by `current()`. In nearly all cases the two were the same
    [...]. This distinction is not present in `asyncio`, so in order to facilitate
    integration with that package `instance()` was changed to be an alias to `current()`."
    Inside the running loop it is
    that loop (the same object, or one wrapping the same asyncio loop)."""
    IOLoop = impl.part("ioloop").IOLoop
    if not hasattr(IOLoop, "instance"):
        not_provided(f"{impl.name}'s IOLoop has no instance() (a deprecated alias)")

    def scenario():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            instance, current = IOLoop.instance(), IOLoop.current()
        # the same loop, or two views of it (an adapter may hand out a wrapper of the loop)
        aloop = getattr(current, "asyncio_loop", None)
        same = instance is current or (aloop is not None and getattr(instance, "asyncio_loop", None) is aloop)
        return same, repr(instance), repr(current)

    same, instance, current = ioloop.call(scenario)
    if not same:
        raise Violation(
            "IOLoop.instance() inside the running loop is not IOLoop.current(): callbacks scheduled through "
            "instance() go to a loop that is not running them.",
            expected=f"IOLoop.instance() is IOLoop.current() ({current})",
            observed=f"IOLoop.instance() is {instance}",
        )


@check("Tornado 5.0.0 release notes (tornado.ioloop); Tornado docs: IOLoop.run_sync", Level.TORNADO)
def test_run_sync_cancels_its_coroutine_on_timeout(impl, conformance_timeout):
    """The 5.0.0 release notes (tornado.ioloop): "`~.IOLoop.run_sync` cancels its argument
    on a timeout. This results in better stack traces (and avoids log messages about
    leaks) in native coroutines." The coroutine sees CancelledError where it waits (what run_sync then raises is judged by
    ``run_sync_returns_result_raises_exception_and_times_out``)."""
    locks = impl.part("locks")

    def body(loop):
        seen = []

        async def waits_forever():
            try:
                await locks.Event().wait()
            except BaseException as exc:
                seen.append(type(exc).__name__)
                raise

        try:
            loop.run_sync(waits_forever, timeout=0.01)
        except Exception as exc:  # judged below
            raised = type(exc).__name__
        else:
            raised = None
        return raised, seen

    raised, seen = _in_fresh_loop(impl, body, conformance_timeout)
    if seen != ["CancelledError"]:
        raise Violation(
            "IOLoop.run_sync(coroutine, timeout=0.01) on a coroutine that never finishes did not cancel it: the "
            "coroutine stays suspended, holding what it holds, after run_sync gave up on it.",
            expected="the coroutine sees ['CancelledError']",
            observed=f"run_sync {'raised ' + raised if raised else 'returned'}; the coroutine saw {seen!r}",
        )


@check("Tornado 5.0.0 release notes (tornado.ioloop, tornado.platform.asyncio); Tornado docs: IOLoop", Level.TORNADO)
def test_run_sync_runs_on_the_asyncio_loop_it_wraps(impl, conformance_timeout):
    """tornado.ioloop: "`.IOLoop` is a wrapper around the `asyncio` event loop [...]. The
    `IOLoop.current` class method provides the `IOLoop` instance corresponding to the
    running `asyncio` event loop"; IOLoop, "Changed in version 5.0: Uses the `asyncio`
    event loop by default". A coroutine that ``run_sync`` runs on an IOLoop runs on that
    IOLoop's ``asyncio_loop`` (that ``IOLoop.current()`` there is that IOLoop is judged by
    ``current_inside_a_coroutine_is_the_loop_running_it``)."""

    def body(loop):
        async def where():
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            return {
                "asyncio.get_running_loop() is loop.asyncio_loop": running is not None
                and running is getattr(loop, "asyncio_loop", None),
            }

        return loop.run_sync(where)

    observed = _in_fresh_loop(impl, body, conformance_timeout)
    if not all(observed.values()):
        raise Violation(
            "a coroutine run by loop.run_sync did not run on loop's asyncio event loop: what was scheduled on the "
            "IOLoop does not run alongside it, and asyncio code it awaits runs on another loop.",
            expected={what: True for what in observed},
            observed=observed,
        )


@check("Tornado 5.0.0 release notes (tornado.gen); Tornado docs: gen.convert_yielded", Level.TORNADO)
def test_cancelling_a_started_native_coroutine_cancels_it(impl, ioloop):
    """The 5.0.0 release notes (tornado.gen): "On Python 3, `asyncio.Task` is used instead
    of the Tornado coroutine runner. This improves compatibility with some `asyncio`
    libraries and adds support for cancellation"; (compatibility notes) "In native
    coroutines, cancellation will cause an exception to be raised in the coroutine".
    gen.convert_yielded starts a coroutine "similar to `asyncio.ensure_future`": cancelling
    the Future it returns raises CancelledError where the coroutine waits, and the Future
    ends cancelled."""
    gen, locks = impl.part("gen"), impl.part("locks")

    async def scenario():
        seen = []

        async def waits_forever():
            try:
                await locks.Event().wait()
            except BaseException as exc:
                seen.append(type(exc).__name__)
                raise

        future = gen.convert_yielded(waits_forever())
        await _turns(impl, 2)
        accepted = future.cancel()
        await _turns(impl, 3)
        return accepted, future.cancelled(), seen

    accepted, cancelled, seen = ioloop.call(scenario)
    if (accepted, cancelled, seen) != (True, True, ["CancelledError"]):
        raise Violation(
            "cancelling the Future of a native coroutine started by gen.convert_yielded did not cancel the "
            "coroutine: it stays suspended, holding what it holds.",
            expected="cancel() returns True; the coroutine sees ['CancelledError']; the Future ends cancelled",
            observed=f"cancel() returned {accepted!r}; the coroutine saw {seen!r}; the Future "
            + ("ended cancelled" if cancelled else "is not cancelled"),
        )


@check("Tornado 5.0.0 release notes (tornado.util); Tornado docs: util.Configurable", Level.TORNADO)
def test_configurable_is_configured_at_each_level(impl):
    """util.Configurable: "A configurable interface is an (abstract) class whose
    constructor acts as a factory function for one of its implementation subclasses. The
    implementation subclass as well as optional keyword arguments to its initializer can
    be set globally at runtime with `configure`. [...] Changed in version 5.0: It is now
    possible for configuration to be specified at multiple levels of a class hierarchy."
    When the implementation configured on a base is itself configurable, the base's
    constructor builds what that class is configured to build."""
    util = impl.part("util")
    Configurable = getattr(util, "Configurable", None) if util is not None else None
    if Configurable is None:
        not_provided(f"{impl.name}'s util part has no Configurable")

    class Interface(Configurable):
        @classmethod
        def configurable_base(cls):
            return Interface

        @classmethod
        def configurable_default(cls):
            return Plain

        def initialize(self, **kwargs):
            self.kwargs = kwargs

    class Plain(Interface):
        pass

    class Family(Interface):  # an implementation of Interface that is configurable itself
        @classmethod
        def configurable_base(cls):
            return Family

        @classmethod
        def configurable_default(cls):
            return FamilyDefault

    class FamilyDefault(Family):
        pass

    class FamilyOther(Family):
        pass

    def built():
        instance = Interface()
        return type(instance).__name__, instance.kwargs

    observed = {}
    Interface.configure(Family, a=1)
    observed["Interface.configure(Family, a=1)"] = built()
    Interface.configure(Family)
    Family.configure(FamilyOther, b=2)
    observed["Interface.configure(Family); Family.configure(FamilyOther, b=2)"] = built()
    expected = {
        "Interface.configure(Family, a=1)": ("FamilyDefault", {"a": 1}),
        "Interface.configure(Family); Family.configure(FamilyOther, b=2)": ("FamilyOther", {"b": 2}),
    }
    if observed != expected:
        raise Violation(
            "Interface() built an instance of the configurable class configured on Interface rather than of the "
            "implementation that class is configured to build: configuration at the second level is ignored.",
            expected=expected,
            observed=observed,
        )


@check("Tornado 6.2.0 release notes (tornado.ioloop); Tornado docs: IOLoop", Level.TORNADO)
def test_ioloop_wraps_the_asyncio_loop_it_is_given(impl, conformance_timeout):
    """The 6.2.0 release notes (tornado.ioloop): "The `.IOLoop` constructor now accepts an
    ``asyncio_loop`` keyword argument to initialize with a specfied asyncio event loop."
    IOLoop(asyncio_loop=L) wraps L: its ``asyncio_loop`` is L, and a callback added to it
    runs on L."""
    IOLoop, Future = impl.part("ioloop").IOLoop, impl.part("concurrent").Future
    outcome = {}

    def main():
        aloop = asyncio.new_event_loop()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                try:
                    loop = IOLoop(asyncio_loop=aloop)
                except TypeError as exc:
                    outcome["refused"] = exc
                    return

            async def probe():
                # a marker L runs after the callback (both queued in turn): a callback that
                # went to another loop has not run by then
                ran, marker = [], Future()
                loop.add_callback(lambda: ran.append(asyncio.get_running_loop() is aloop))
                aloop.call_soon(lambda: aloop.call_soon(marker.set_result, None))
                await marker
                return {
                    "loop.asyncio_loop is L": getattr(loop, "asyncio_loop", None) is aloop,
                    "a callback added to loop runs on L": ran == [True],
                }

            try:
                outcome["value"] = aloop.run_until_complete(probe())
            except BaseException as exc:
                outcome["error"] = exc
            finally:
                loop.close(all_fds=True)
        finally:
            if not aloop.is_closed():
                aloop.close()
            asyncio.set_event_loop(None)

    thread = threading.Thread(target=main, name="conformance-asyncio-loop", daemon=True)
    thread.start()
    thread.join(conformance_timeout)
    if thread.is_alive():
        raise Violation(f"IOLoop(asyncio_loop=L) driven by L did not finish within {conformance_timeout:g}s")
    if "refused" in outcome:
        not_provided(
            f"{impl.name}'s IOLoop() refuses the asyncio_loop keyword (added in Tornado 6.2): {outcome['refused']}"
        )
    if "error" in outcome:
        raise outcome["error"]
    observed = outcome["value"]
    if not all(observed.values()):
        raise Violation(
            "IOLoop(asyncio_loop=L) does not wrap L: code that schedules through the IOLoop does not run on the "
            "asyncio loop the application drives.",
            expected={what: True for what in observed},
            observed=observed,
        )


@check("Tornado 6.2.0 release notes (tornado.gen); Tornado docs: gen.WaitIterator", Level.TORNADO)
def test_wait_iterator_names_each_executor_future_it_yields(impl, ioloop):
    """gen.WaitIterator: "If you need to know which future produced the current result, you
    can use the attributes ``WaitIterator.current_future``, or ``WaitIterator.current_index``
    to get the index of the awaitable from the input list"; the 6.2.0 release notes
    (tornado.gen): "Fixed a bug in which `.WaitIterator.current_index` could be incorrect".
    Over ``concurrent.futures`` Futures (what ``executor.submit`` returns, whose outcome
    reaches the loop a turn later), two that finish in the same loop callback while
    ``next()`` waits are still yielded one at a time, each named by its own index."""
    gen, loop_part = impl.part("gen"), impl.part("ioloop")
    if not hasattr(gen, "WaitIterator"):
        not_provided(f"{impl.name}'s gen part has no WaitIterator")

    async def scenario():
        first, second, third = futures.Future(), futures.Future(), futures.Future()
        waiter, seen = gen.WaitIterator(first, second, third), []
        loop = loop_part.IOLoop.current()

        def finish_two():
            third.set_result("third")
            first.set_result("first")

        loop.add_callback(finish_two)
        while not waiter.done() and len(seen) < 4:
            result = await waiter.next()
            seen.append((waiter.current_index, result))
            if len(seen) == 1:
                loop.add_callback(second.set_result, "second")
        return seen

    seen = ioloop.call(scenario)
    expected = [(0, "first"), (1, "second"), (2, "third")]
    if sorted(seen) != expected:
        raise Violation(
            "gen.WaitIterator over concurrent.futures Futures, two of which finished in the same loop callback, did "
            "not yield each result once under its own current_index: (current_index, result) in the order yielded.",
            expected="each of " + repr(expected) + " once, in any order",
            observed=seen,
        )
