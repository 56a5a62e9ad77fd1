"""gen.multi: waiting for several asynchronous operations in parallel.

Reference: Tornado docs, ``tornado.gen.multi``
(https://www.tornadoweb.org/en/stable/gen.html#tornado.gen.multi).

The children are Futures of the implementation, resolved by ``IOLoop.call_later`` with
different delays so that they complete in an order other than the input order. The
delays are only inputs: the checks judge orders and values, never durations.
"""

from __future__ import annotations

import pytest

from conformance import Level, Violation, check, not_provided, requires

pytestmark = [pytest.mark.coroutines, requires("gen", "ioloop", "concurrent")]

#: Position i completes after position i + 1: the last child completes first.
_DELAYS = (0.03, 0.02, 0.01)


@pytest.mark.parametrize("form", ["list", "dict"])
@check("Tornado docs: gen.multi", Level.MUST)
def test_multi_results_follow_input_order(impl, ioloop, form):
    """gen.multi: "If ``children`` is a list, the result is a list of results in the same
    order; if it is a dict, the result is a dict with the same keys." The children here
    complete in reverse order, so a result built in completion order is caught."""
    gen, Future = impl.part("gen"), impl.part("concurrent").Future
    IOLoop = impl.part("ioloop").IOLoop
    keys = ["first", "second", "third"]

    async def scenario():
        loop = IOLoop.current()
        futures = [Future() for _ in keys]
        for future, delay, key in zip(futures, _DELAYS, keys):
            loop.call_later(delay, future.set_result, f"result of {key}")
        children = futures if form == "list" else dict(zip(keys, futures))
        return await gen.multi(children)

    result = ioloop.call(scenario)
    if form == "list":
        expected = [f"result of {key}" for key in keys]
        if result != expected:
            raise Violation(
                "gen.multi over a list of three futures that completed last-to-first did not give a list of results "
                "in the same order as the input, as Tornado documents.",
                expected=expected,
                observed=result,
            )
    else:
        expected_dict = {key: f"result of {key}" for key in keys}
        if not (isinstance(result, dict) and result == expected_dict):
            raise Violation(
                "gen.multi over a dict of three futures that completed last-to-first did not give a dict with the "
                "same keys, each mapped to the result of its own child, as Tornado documents.",
                expected=expected_dict,
                observed=repr(result),
            )


@check("Tornado docs: gen.multi", Level.MUST)
def test_multi_raises_first_exception(impl, ioloop):
    """gen.multi: "If any children raise exceptions, ``multi()`` will raise the first one.
    All others will be logged, unless they are of types contained in the
    ``quiet_exceptions`` argument." The child that fails first, both in time and in the
    input list, raises ``ValueError``; a later one raises ``KeyError`` (quiet); the one
    child that succeeds does so last."""
    gen, Future = impl.part("gen"), impl.part("concurrent").Future
    IOLoop = impl.part("ioloop").IOLoop

    async def scenario():
        loop = IOLoop.current()
        succeeds, fails_first, fails_later = Future(), Future(), Future()
        loop.call_later(0.03, succeeds.set_result, "fine")
        loop.call_later(0.01, fails_first.set_exception, ValueError("the first failure"))
        loop.call_later(0.02, fails_later.set_exception, KeyError("a later failure"))
        try:
            value = await gen.multi([succeeds, fails_first, fails_later], quiet_exceptions=KeyError)
        except Exception as exc:  # the check judges the type below
            return "raised", exc
        return "returned", value

    how, what = ioloop.call(scenario)
    assert how == "raised", (
        f"awaiting gen.multi over three children, two of which failed (ValueError first, then KeyError), "
        f"returned {what!r} instead of raising: Tornado documents that multi() raises the first exception "
        "of its children, so a failure cannot pass for a result."
    )
    assert type(what) is ValueError and str(what) == "the first failure", (
        f"awaiting gen.multi raised {type(what).__name__}: {what} where the first child to fail raised "
        "ValueError('the first failure'): Tornado documents that multi() raises the first exception of its "
        "children, with its own type, so callers can catch what the failing operation raised."
    )


@check("Tornado docs: gen.multi, gen.convert_yielded", Level.MUST)
def test_multi_resolves_nested_structures(impl, ioloop):
    """gen.multi: "``children`` may either be a list or a dict whose values are yieldable
    objects. ``multi()`` returns a new yieldable object that resolves to a parallel structure
    containing their results"; lists and dicts are themselves yieldable (gen.convert_yielded:
    "The default implementation accepts lists, dictionaries, and Futures"), so a nested
    structure resolves to the same structure of results."""
    gen, Future = impl.part("gen"), impl.part("concurrent").Future
    IOLoop = impl.part("ioloop").IOLoop

    async def scenario():
        loop = IOLoop.current()

        def later(delay, value):
            future = Future()
            loop.call_later(delay, future.set_result, value)
            return future

        children = {
            "flat": later(0.02, 1),
            "list": [later(0.01, 2), [later(0.03, 3)], {"deep": later(0.0, 4)}],
            "dict": {"inner": later(0.02, 5), "empty": []},
        }
        return await gen.multi(children)

    result = ioloop.call(scenario)
    expected = {"flat": 1, "list": [2, [3], {"deep": 4}], "dict": {"inner": 5, "empty": []}}
    if result != expected:
        raise Violation(
            "gen.multi over a dict nesting lists and dicts of futures did not resolve to the same structure of "
            "results: lists and dicts of yieldables are yieldable themselves.",
            expected=expected,
            observed=result,
        )


@pytest.mark.parametrize("form", ["list", "dict"])
@check("Tornado docs: gen.multi", Level.MUST)
def test_multi_of_no_children_resolves_to_empty_result(impl, ioloop, form):
    """gen.multi: "If ``children`` is a list, the result is a list of results in the same
    order; if it is a dict, the result is a dict with the same keys." With no children there
    is nothing to wait for: the result is an empty list (dict), within a loop iteration."""
    gen, Future = impl.part("gen"), impl.part("concurrent").Future
    loop_class = impl.part("ioloop").IOLoop

    async def scenario():
        combined = gen.multi([] if form == "list" else {})
        for _ in range(3):  # loop turns, not time
            step = Future()
            loop_class.current().add_callback(step.set_result, None)
            await step
        if not combined.done():
            return "pending"
        return combined.result()

    result = ioloop.call(scenario)
    expected = [] if form == "list" else {}
    if not (result == expected and type(result) is type(expected)):
        raise Violation(
            f"gen.multi({expected!r}) did not resolve at once to an empty result of the same type (checked three loop "
            "iterations later).",
            expected=repr(expected),
            observed=repr(result),
        )


@check("Tornado docs: gen.multi", Level.TORNADO)
def test_multi_logs_later_exceptions_except_quiet_ones(impl, ioloop):
    """gen.multi: "If any children raise exceptions, ``multi()`` will raise the first one.
    All others will be logged, unless they are of types contained in the
    ``quiet_exceptions`` argument." Three children fail in turn: ValueError (raised),
    OverflowError (must be logged) and KeyError (quiet, must not be logged); the check
    waits for a timer due after all of them before reading the log."""
    gen, Future = impl.part("gen"), impl.part("concurrent").Future
    IOLoop = impl.part("ioloop").IOLoop

    async def scenario():
        loop = IOLoop.current()
        first, logged, quiet, end = Future(), Future(), Future(), Future()
        loop.call_later(0.01, first.set_exception, ValueError("raised to the caller"))
        loop.call_later(0.02, logged.set_exception, OverflowError("must be logged"))
        loop.call_later(0.03, quiet.set_exception, KeyError("quiet, not logged"))
        loop.call_later(0.04, end.set_result, None)
        try:
            await gen.multi([first, logged, quiet], quiet_exceptions=KeyError)
        except ValueError:
            pass
        await end

    ioloop.call(scenario)
    ioloop.barrier()
    text = ioloop.log.format()
    mentions = {name: name in text for name in ("OverflowError", "KeyError")}
    assert mentions["OverflowError"] and not mentions["KeyError"], (
        "gen.multi over three children that failed with ValueError, then OverflowError, then KeyError "
        "(quiet_exceptions=KeyError) raised the ValueError; the implementation then logged:\n"
        f"{text}\nTornado documents that the other exceptions are logged, unless their type is in "
        "quiet_exceptions: OverflowError must be logged, KeyError must not."
    )


@check("Tornado docs: gen.WaitIterator", Level.MUST)
def test_wait_iterator_yields_in_completion_order(impl, ioloop):
    """gen.WaitIterator: "Provides an iterator to yield the results of awaitables as they
    finish. [...] If you need to get the result of each awaitable as soon as possible, or if
    you need the result of some awaitables even if others produce errors, you can use
    ``WaitIterator``"; "``current_index`` [...] the index of the awaitable" and
    ``current_future`` the awaitable that finished. The inputs finish last-to-first."""
    gen, Future = impl.part("gen"), impl.part("concurrent").Future
    IOLoop = impl.part("ioloop").IOLoop
    if not hasattr(gen, "WaitIterator"):
        not_provided(f"{impl.name}'s gen part has no WaitIterator")

    async def scenario():
        loop = IOLoop.current()
        futures = [Future() for _ in _DELAYS]
        for index, (future, delay) in enumerate(zip(futures, _DELAYS)):
            loop.call_later(delay, future.set_result, f"result {index}")
        seen = []
        waiter = gen.WaitIterator(*futures)
        while not waiter.done():
            result = await waiter.next()
            index = waiter.current_index
            seen.append((index, result, waiter.current_future is futures[index]))
        return seen

    seen = ioloop.call(scenario)
    expected = [(2, "result 2", True), (1, "result 1", True), (0, "result 0", True)]
    if seen != expected:
        raise Violation(
            "gen.WaitIterator over three futures that finished last-to-first did not yield results as they finished, "
            "with current_index and current_future naming the one that finished (entries: current_index, result, "
            "current_future is that input).",
            expected=expected,
            observed=seen,
        )
