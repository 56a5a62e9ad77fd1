"""Futures: callbacks on completion.

Reference: Tornado docs, ``tornado.concurrent.future_add_done_callback``
(https://www.tornadoweb.org/en/stable/concurrent.html#tornado.concurrent.future_add_done_callback).
"""

from __future__ import annotations

import threading
import traceback
from concurrent import futures

import pytest

from conformance import Level, Violation, check, not_provided, requires
from conformance.report import NOT_PROVIDED

pytestmark = [pytest.mark.coroutines, requires("concurrent", "ioloop")]


@check("Tornado docs: concurrent.future_add_done_callback", Level.MUST)
def test_future_add_done_callback_runs_immediately_on_done_future(impl, ioloop):
    """future_add_done_callback: "``callback`` is invoked with one argument, the
    ``future``. If ``future`` is already done, ``callback`` is invoked immediately.
    This may differ from the behavior of ``Future.add_done_callback``, which makes no
    such guarantee.\""""
    concurrent = impl.part("concurrent")
    add_done_callback = getattr(concurrent, "future_add_done_callback", None)
    if add_done_callback is None:
        pytest.skip(f"{NOT_PROVIDED}: {impl.name}'s concurrent part has no future_add_done_callback")

    def scenario():
        future = concurrent.Future()
        future.set_result("the result")
        calls = []
        add_done_callback(future, lambda done: calls.append((done is future, done.result())))
        return list(calls)

    calls = ioloop.call(scenario)
    if calls != [(True, "the result")]:
        raise Violation(
            "future_add_done_callback on a Future that was already done did not invoke the callback once, with the "
            "future itself, before returning: Tornado documents that the callback is invoked immediately when the "
            "future is already done, unlike Future.add_done_callback.",
            expected=[(True, "the result")],
            observed=calls,
        )


def _loop_iterations(impl, count):
    """Let the loop run ``count`` iterations: each step awaits a Future that a callback
    added with ``IOLoop.add_callback`` resolves. Loop turns, not wall-clock time."""
    Future = impl.part("concurrent").Future
    loop = impl.part("ioloop").IOLoop.current()

    async def turns():
        for _ in range(count):
            step = Future()
            loop.add_callback(step.set_result, None)
            await step

    return turns()


@check("Tornado docs: concurrent.Future (alias for asyncio.Future: set_result, set_exception)", Level.MUST)
def test_future_can_be_resolved_only_once(impl, ioloop):
    """concurrent.Future: "``tornado.concurrent.Future`` is an alias for `asyncio.Future`";
    asyncio.Future ``set_result``: "Mark the Future as done and set its result. Raises an
    InvalidStateError error if the Future is already done." (``set_exception`` likewise).
    A Future resolved a second time must refuse, keeping its first outcome."""
    Future = impl.part("concurrent").Future

    def scenario():
        observed = {}
        for first, second in (("result", "result"), ("result", "exception"), ("exception", "result")):
            future = Future()
            resolve = {
                "result": lambda f: f.set_result("first"),
                "exception": lambda f: f.set_exception(KeyError("first")),
            }
            resolve[first](future)
            try:
                resolve[second](future)
            except Exception as exc:
                refused = type(exc).__name__
            else:
                refused = None
            kept = repr(future.exception()) if future.exception() is not None else repr(future.result())
            observed[f"set_{first} then set_{second}"] = (refused, kept)
        return observed

    observed = ioloop.call(scenario)
    wrong = {case: got for case, got in observed.items() if got[0] is None or "first" not in got[1]}
    assert not wrong, (
        f"resolving an already-done Future a second time was accepted or changed its outcome: {wrong!r} "
        "(case: (exception raised by the second call, outcome kept)); a Future is resolved once: the second "
        "set_result/set_exception must raise (asyncio's InvalidStateError) and the first outcome must stay."
    )


@check(
    "Tornado docs: concurrent.Future (alias for asyncio.Future; the traceback is not a documented guarantee)",
    Level.TORNADO,
)
def test_future_exception_carries_its_traceback(impl, ioloop):
    """concurrent.Future: "``tornado.concurrent.Future`` is an alias for `asyncio.Future`",
    whose ``set_exception`` stores the exception object itself, so the awaiting caller
    re-raises it with the traceback of the place that raised it. Neither Tornado's docs nor
    asyncio's state that the traceback survives: it is what Tornado (through asyncio and
    Python's exception objects) exhibits, hence TORNADO. A failure that reaches the caller
    without the frame that raised it cannot be debugged."""
    Future = impl.part("concurrent").Future

    def raise_deep_in_the_operation():
        raise LookupError("raised deep in the operation")

    async def scenario():
        future = Future()
        try:
            raise_deep_in_the_operation()
        except LookupError as exc:
            future.set_exception(exc)
        try:
            await future
        except LookupError as exc:
            return [frame.name for frame in traceback.extract_tb(exc.__traceback__)]
        return None

    frames = ioloop.call(scenario)
    assert frames is not None and "raise_deep_in_the_operation" in frames, (
        f"a Future failed with an exception raised in raise_deep_in_the_operation(); awaiting it re-raised it "
        f"with a traceback through {frames!r}: the frame that raised it is missing. A Future keeps the exception "
        "with its traceback, so the caller sees where the failure happened."
    )


@pytest.mark.parametrize("outcome", ["result", "exception"])
@check("Tornado docs: concurrent.chain_future", Level.MUST)
def test_chain_future_copies_the_outcome(impl, ioloop, outcome):
    """chain_future(a, b): "Chain two futures together so that when one completes, so does
    the other. The result (success or failure) of ``a`` will be copied to ``b``, unless
    ``b`` has already been completed or cancelled by the time ``a`` finishes." """
    concurrent = impl.part("concurrent")
    chain_future = getattr(concurrent, "chain_future", None)
    if chain_future is None:
        not_provided(f"{impl.name}'s concurrent part has no chain_future")
    Future = concurrent.Future

    async def scenario():
        a, b, already = Future(), Future(), Future()
        chain_future(a, b)
        chain_future(a, already)
        already.set_result("completed first")
        if outcome == "result":
            a.set_result("the result of a")
        else:
            a.set_exception(KeyError("the failure of a"))
        await _loop_iterations(impl, 5)
        if not b.done():
            got_b = "pending"
        elif b.exception() is not None:
            got_b = f"exception {b.exception()!r}"
        else:
            got_b = f"result {b.result()!r}"
        return got_b, already.result()

    got_b, already = ioloop.call(scenario)
    expected = "result 'the result of a'" if outcome == "result" else "exception KeyError('the failure of a')"
    if got_b != expected:
        raise Violation(
            "after chain_future(a, b), the outcome of a was not copied to b (a few loop iterations later): Tornado "
            "documents that the result, success or failure, of a is copied to b.",
            expected=expected,
            observed=got_b,
        )
    assert already == "completed first", (
        f"chain_future(a, b) with b completed before a overwrote b's result with {already!r}: Tornado documents "
        "that the outcome is copied unless b has already been completed."
    )


@check("Tornado docs: concurrent.future_set_result_unless_cancelled", Level.MUST)
def test_future_set_result_unless_cancelled_ignores_a_cancelled_future(impl, ioloop):
    """future_set_result_unless_cancelled: "Set the given ``value`` as the `Future`'s result,
    if not cancelled. Avoids ``asyncio.InvalidStateError`` when calling ``set_result()`` on
    a cancelled `asyncio.Future`." """
    concurrent = impl.part("concurrent")
    helper = getattr(concurrent, "future_set_result_unless_cancelled", None)
    if helper is None:
        not_provided(f"{impl.name}'s concurrent part has no future_set_result_unless_cancelled")

    def scenario():
        cancelled, pending = concurrent.Future(), concurrent.Future()
        cancelled.cancel()
        try:
            helper(cancelled, "ignored")
        except Exception as exc:
            raised = f"{type(exc).__name__}: {exc}"
        else:
            raised = None
        helper(pending, "the value")
        return raised, cancelled.cancelled(), pending.result()

    raised, still_cancelled, value = ioloop.call(scenario)
    assert raised is None and still_cancelled, (
        f"future_set_result_unless_cancelled on a cancelled Future raised {raised} (the Future is "
        f"{'still' if still_cancelled else 'no longer'} cancelled): Tornado documents that it sets the result "
        "only if the Future is not cancelled, precisely to avoid InvalidStateError."
    )
    if value != "the value":
        raise Violation(
            "future_set_result_unless_cancelled on a pending Future did not set the result.",
            expected="'the value'",
            observed=repr(value),
        )


@check("Tornado docs: concurrent.future_add_done_callback", Level.MUST)
def test_future_add_done_callback_on_pending_future_runs_once_when_resolved(impl, ioloop):
    """future_add_done_callback: "Arrange to call ``callback`` when ``future`` is complete.
    ``callback`` is invoked with one argument, the ``future``." On a pending Future it runs
    after the Future is resolved, not before, and once."""
    concurrent = impl.part("concurrent")
    add_done_callback = getattr(concurrent, "future_add_done_callback", None)
    if add_done_callback is None:
        not_provided(f"{impl.name}'s concurrent part has no future_add_done_callback")

    async def scenario():
        future, calls = concurrent.Future(), []
        add_done_callback(future, lambda done: calls.append((done is future, done.done() and done.result())))
        before = list(calls)
        future.set_result("resolved")
        await _loop_iterations(impl, 3)
        return before, calls

    before, calls = ioloop.call(scenario)
    if not (before == [] and calls == [(True, "resolved")]):
        raise Violation(
            "future_add_done_callback on a pending Future did not call the callback once, with the future, when the "
            "future completed.",
            expected="calls [] before it was resolved, [(True, 'resolved')] after",
            observed=f"calls {before!r} before it was resolved, {calls!r} after",
        )


@check("Tornado docs: guide: Native vs decorated coroutines (concurrent.futures)", Level.TORNADO)
def test_executor_future_yielded_from_decorated_coroutine_resolves(impl, ioloop):
    """The coroutines guide, "Native vs decorated coroutines": "Decorated coroutines have
    additional integration with the ``concurrent.futures`` package, allowing the result of
    ``executor.submit`` to be yielded directly." A ``submit()`` to a thread pool is yielded
    from a ``@gen.coroutine``; its result reaches the coroutine, on the loop thread."""
    gen = impl.part("gen")
    if gen is None:
        not_provided(impl.missing_reason("gen"))

    def work():
        return "computed in the pool"

    executor = futures.ThreadPoolExecutor(1, thread_name_prefix="conformance-pool")

    @gen.coroutine
    def waiter():
        value = yield executor.submit(work)
        return value, threading.get_ident()

    try:
        try:
            value, resumed_on = ioloop.call(waiter)
        except Exception as exc:
            raise AssertionError(
                f"a @gen.coroutine yielding a thread pool's concurrent.futures.Future raised "
                f"{type(exc).__name__}: {exc}; Tornado's coroutines guide documents that decorated coroutines "
                "may yield the result of executor.submit directly."
            ) from exc
    finally:
        executor.shutdown(wait=True)
    loop_thread = ioloop.call(threading.get_ident)
    assert value == "computed in the pool" and resumed_on == loop_thread, (
        f"a @gen.coroutine yielding a thread pool Future received {value!r} and resumed on thread "
        f"{resumed_on} (loop thread {loop_thread}): the pool's result must reach the coroutine, on the loop thread."
    )
