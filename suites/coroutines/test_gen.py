"""tornado.gen in detail: gen.Return, convert_yielded and BadYieldError, maybe_future,
run_on_executor, with_timeout (quiet_exceptions, absolute deadlines, message), contextvars
across decorated coroutines, WaitIterator's harder cases, cancelled children of gen.multi,
exception chaining through a decorated coroutine, gen.sleep(0) and is_coroutine_function.

Reference: Tornado docs, ``tornado.gen`` (https://www.tornadoweb.org/en/stable/gen.html) and
``tornado.concurrent.run_on_executor``
(https://www.tornadoweb.org/en/stable/concurrent.html#tornado.concurrent.run_on_executor).

No check waits on a clock for synchronisation. Where the judged outcome is "times out", the
check arms a short timeout and a marker timer due later on the same loop: timers run in
deadline order, so when the marker has run the timeout has had its turn, whatever the load.
Results of decorated coroutines travel through lists rather than their return value wherever
the return value is not what the check judges (other checks judge that).
"""

from __future__ import annotations

import contextvars
import datetime
import threading
from concurrent import futures
from typing import Any

import pytest

from conformance import Level, Violation, check, not_provided, requires

from ._support import describe as _describe
from ._support import later as _later
from ._support import outcome as _outcome
from ._support import timeout_error as _timeout_error
from ._support import turns as _turns

pytestmark = [pytest.mark.coroutines, requires("gen", "ioloop", "concurrent")]


def _is_future(impl: Any, value: Any) -> bool:
    concurrent = impl.part("concurrent")
    is_future = getattr(concurrent, "is_future", None)
    return bool(is_future(value)) if is_future is not None else isinstance(value, concurrent.Future)


# -- gen.Return --------------------------------------------------------------------------------


@check("Tornado docs: gen.Return", Level.MUST)
@pytest.mark.parametrize("when", ["after-a-yield", "before-any-yield"])
def test_gen_return_value_is_the_coroutine_result(impl, ioloop, when):
    """gen.Return: "Special exception to return a value from a `coroutine`. [...] If this
    exception is raised, its value argument is used as the result of the coroutine." The
    coroutine raises ``gen.Return("the value")`` after suspending once, or before its first
    yield (it runs synchronously to that point)."""
    gen = impl.part("gen")

    @gen.coroutine
    def work():
        if when == "after-a-yield":
            yield _later(impl)
        raise gen.Return("the value")
        yield  # a generator either way

    outcome = ioloop.call(lambda: _outcome(impl, work()))
    if outcome != ("returned", "the value"):
        raise Violation(
            f"a @gen.coroutine that raised gen.Return('the value') {when.replace('-', ' ')} did not resolve to that "
            "value: the value argument of gen.Return is the result of the coroutine.",
            expected="returned 'the value'",
            observed=_describe(outcome),
        )


@check("Tornado docs: gen.Return", Level.MUST)
def test_return_without_a_value_resolves_to_none(impl, ioloop):
    """gen.Return: "By analogy with the return statement, the value argument is optional."
    Three decorated coroutines end after a yield with ``raise gen.Return()``, a bare
    ``return`` and by running off their end: each resolves to None, without an error."""
    gen = impl.part("gen")

    @gen.coroutine
    def raises_return():
        yield _later(impl)
        raise gen.Return()

    @gen.coroutine
    def bare_return():
        yield _later(impl)
        return

    @gen.coroutine
    def runs_off_its_end():
        yield _later(impl)

    async def scenario():
        return {
            "raise gen.Return()": _describe(await _outcome(impl, raises_return())),
            "bare return": _describe(await _outcome(impl, bare_return())),
            "end of the body": _describe(await _outcome(impl, runs_off_its_end())),
        }

    got = ioloop.call(scenario)
    expected = dict.fromkeys(got, "returned None")
    if got != expected:
        raise Violation(
            "a @gen.coroutine that ended without a value did not resolve to None.",
            expected=expected,
            observed=got,
        )


# -- convert_yielded, BadYieldError, maybe_future --------------------------------------------


class _Awaitable:
    """An object that is not a Future but has ``__await__``: awaitable by the protocol."""

    def __init__(self, future: Any) -> None:
        self.future = future

    def __await__(self) -> Any:
        return (yield from self.future.__await__())


@check("Tornado docs: gen.convert_yielded", Level.MUST)
@pytest.mark.parametrize("kind", ["native-coroutine", "awaitable-object", "list", "dict"])
def test_convert_yielded_turns_yieldables_into_a_future(impl, ioloop, kind):
    """gen.convert_yielded: "Convert a yielded object into a `.Future`. The default
    implementation accepts lists, dictionaries, and Futures. This has the side effect of
    starting any coroutines that did not start themselves, similar to
    `asyncio.ensure_future`." (Awaitables other than Futures since 4.3/4.4, through the
    same function: a decorated coroutine may yield a native one.) Each kind of yieldable is
    converted; the result must be a Future that resolves to the value it stands for."""
    gen = impl.part("gen")

    async def native(value):
        await _later(impl)
        return value

    def make():
        if kind == "native-coroutine":
            return native("from the coroutine"), "from the coroutine"
        if kind == "awaitable-object":
            return _Awaitable(_later(impl, "from the awaitable")), "from the awaitable"
        if kind == "list":
            return [_later(impl, 1), native(2)], [1, 2]
        return {"a": _later(impl, 1), "b": native(2)}, {"a": 1, "b": 2}

    async def scenario():
        yielded, expected = make()
        try:
            converted = gen.convert_yielded(yielded)
        except Exception as exc:
            return f"convert_yielded raised {type(exc).__name__}: {exc}", expected
        if not _is_future(impl, converted):
            return f"convert_yielded returned a {type(converted).__name__}, not a Future", expected
        return _describe(await _outcome(impl, converted)), expected

    got, expected = ioloop.call(scenario)
    if got != f"returned {expected!r}":
        raise Violation(
            f"gen.convert_yielded of a {kind.replace('-', ' ')} did not give a Future resolving to its value.",
            expected=f"returned {expected!r}",
            observed=got,
        )


@check("Tornado docs: gen.BadYieldError, gen.convert_yielded", Level.TORNADO)
@pytest.mark.parametrize("how", ["yield-int", "yield-str", "convert_yielded-int", "convert_yielded-object"])
def test_a_non_yieldable_raises_bad_yield_error(impl, ioloop, how):
    """gen.convert_yielded accepts "lists, dictionaries, and Futures" (and awaitables); for
    anything else Tornado raises ``gen.BadYieldError`` ("yielded unknown object"), both from
    convert_yielded and into a @gen.coroutine that yields it, so the mistake (a forgotten
    call, a plain value) is reported where it was made rather than passing the value back as
    if it had been awaited. The docs list BadYieldError without stating when it is raised,
    hence TORNADO."""
    gen = impl.part("gen")
    value: Any = {"yield-int": 42, "yield-str": "text", "convert_yielded-int": 42, "convert_yielded-object": object()}[
        how
    ]

    async def scenario():
        if how.startswith("convert_yielded"):
            try:
                converted = gen.convert_yielded(value)
            except Exception as exc:
                return "raised", exc
            return "returned", converted
        resumed = []

        @gen.coroutine
        def work():
            got = yield value
            resumed.append(got)

        outcome = await _outcome(impl, work())
        if resumed:
            return "resumed with", resumed[0]
        return outcome

    how_, what = ioloop.call(scenario)
    if not (how_ == "raised" and isinstance(what, gen.BadYieldError)):
        raise Violation(
            f"{'gen.convert_yielded' if how.startswith('convert') else 'a @gen.coroutine yielding'} {value!r} did not "
            "raise gen.BadYieldError: a non-yieldable object was taken for an awaited result.",
            expected="raised gen.BadYieldError",
            observed=f"{how_} {what!r}",
        )


@check("Tornado docs: gen.maybe_future (deprecated since 4.3)", Level.TORNADO)
def test_maybe_future_wraps_values_and_passes_futures_through(impl, ioloop):
    """gen.maybe_future: "Converts ``x`` into a `.Future`. If ``x`` is already a `.Future`,
    it is simply returned; otherwise it is wrapped in a new `.Future`." (Deprecated since 4.3,
    still provided; where it is gone the check is not provided.)"""
    gen = impl.part("gen")
    maybe_future = getattr(gen, "maybe_future", None)
    if maybe_future is None:
        not_provided(f"{impl.name}'s gen part has no maybe_future")

    async def scenario():
        facts = {}
        wrapped = maybe_future("a value")
        facts["value"] = (
            "a done Future of 'a value'"
            if _is_future(impl, wrapped) and wrapped.done() and wrapped.result() == "a value"
            else repr(wrapped)
        )
        future = impl.part("concurrent").Future()
        facts["future"] = "the same Future" if maybe_future(future) is future else "another object"
        return facts

    facts = ioloop.call(scenario)
    expected = {"value": "a done Future of 'a value'", "future": "the same Future"}
    if facts != expected:
        raise Violation(
            "gen.maybe_future did not wrap a plain value in a done Future, or did not return a Future unchanged.",
            expected=expected,
            observed=facts,
        )


# -- run_on_executor -----------------------------------------------------------------------------


class _Pools:
    def __init__(self) -> None:
        self.executor = futures.ThreadPoolExecutor(1, thread_name_prefix="conformance-default-pool")
        self._named = futures.ThreadPoolExecutor(1, thread_name_prefix="conformance-named-pool")

    def shutdown(self) -> None:
        self.executor.shutdown(wait=True)
        self._named.shutdown(wait=True)


@check("Tornado docs: concurrent.run_on_executor", Level.MUST)
@pytest.mark.parametrize("which", ["default-attribute", "named-attribute"])
def test_run_on_executor_runs_on_the_chosen_executor_and_is_awaitable(impl, ioloop, which):
    """run_on_executor: "Decorator to run a synchronous method asynchronously on an executor.
    Returns a future. The executor to be used is determined by the ``executor`` attributes of
    ``self``. To use a different attribute name, pass a keyword argument to the decorator:
    ``@run_on_executor(executor='_thread_pool')``"; since 5.1 it "Returns a `.Future`
    compatible with ``await``". The object has two pools whose threads are named apart; the
    method, awaited from a native coroutine, reports the thread it ran on."""
    concurrent = impl.part("concurrent")
    run_on_executor = getattr(concurrent, "run_on_executor", None)
    if run_on_executor is None:
        not_provided(f"{impl.name}'s concurrent part has no run_on_executor")

    class Worker(_Pools):
        @run_on_executor
        def on_default(self, value):
            return value, threading.current_thread().name

        @run_on_executor(executor="_named")
        def on_named(self, value):
            return value, threading.current_thread().name

    worker = Worker()
    method = worker.on_default if which == "default-attribute" else worker.on_named
    prefix = "conformance-default-pool" if which == "default-attribute" else "conformance-named-pool"

    async def scenario():
        try:
            return "returned", await method("the value")
        except Exception as exc:
            return "raised", f"{type(exc).__name__}: {exc}"

    try:
        how, what = ioloop.call(scenario)
    finally:
        worker.shutdown()
    if how != "returned" or what[0] != "the value" or not what[1].startswith(prefix):
        raise Violation(
            f"a @run_on_executor method ({which.replace('-', ' ')}) awaited from a native coroutine did not run on "
            "the executor its decorator names, or its Future could not be awaited for the method's result.",
            expected=f"returned ('the value', '{prefix}_0')",
            observed=f"{how} {what!r}",
        )


@check("Tornado docs: concurrent.run_on_executor", Level.MUST)
def test_run_on_executor_exception_arrives_through_the_future(impl, ioloop):
    """run_on_executor: "Decorator to run a synchronous method asynchronously on an executor.
    Returns a future." A method that raises must not raise from the call (the work happens
    elsewhere, later): its exception is the outcome of the returned Future, with its type.
    The Future is yielded from a @gen.coroutine, which waits for it on every release."""
    gen, concurrent = impl.part("gen"), impl.part("concurrent")
    run_on_executor = getattr(concurrent, "run_on_executor", None)
    if run_on_executor is None:
        not_provided(f"{impl.name}'s concurrent part has no run_on_executor")

    class Failure(Exception):
        pass

    class Worker(_Pools):
        @run_on_executor
        def fails(self):
            raise Failure("raised in the pool")

    worker = Worker()
    facts: dict[str, str] = {}

    @gen.coroutine
    def scenario():
        try:
            future = worker.fails()
        except Exception as exc:
            facts["call"] = f"raised {type(exc).__name__}"
            return
        facts["call"] = "returned a Future"
        try:
            yield future
            facts["outcome"] = "no exception"
        except Failure as exc:
            facts["outcome"] = f"Failure: {exc}"
        except Exception as exc:
            facts["outcome"] = f"{type(exc).__name__}: {exc}"

    try:
        ioloop.call(scenario)
    finally:
        worker.shutdown()
    expected = {"call": "returned a Future", "outcome": "Failure: raised in the pool"}
    if facts != expected:
        raise Violation(
            "a @run_on_executor method that raises did not hand its exception over through the returned Future.",
            expected=expected,
            observed=facts,
        )


# -- with_timeout ------------------------------------------------------------------------------


class _LateFailure(Exception):
    """What the wrapped Future fails with once with_timeout has given up on it."""


@check("Tornado docs: gen.with_timeout (quiet_exceptions; CancelledError quiet since 6.0.3)", Level.TORNADO)
@pytest.mark.parametrize("case", ["quiet-type", "quiet-tuple", "not-quiet", "cancelled"])
def test_with_timeout_logs_a_late_failure_unless_it_is_quiet(impl, ioloop, case):
    """gen.with_timeout: "If the wrapped `.Future` fails after it has timed out, the exception
    will be logged unless it is either of a type contained in ``quiet_exceptions`` (which may
    be an exception type or a sequence of types), or an ``asyncio.CancelledError``." The
    wrapped Future is failed (or cancelled) after with_timeout raised TimeoutError; the log
    of the loop thread is read a few turns later."""
    gen, Future = impl.part("gen"), impl.part("concurrent").Future
    quiet: Any = {
        "quiet-type": _LateFailure,
        "quiet-tuple": (KeyError, _LateFailure),
        "not-quiet": KeyError,
        "cancelled": (),
    }[case]

    async def scenario():
        inner = Future()
        outcome = await _outcome(
            impl, gen.with_timeout(datetime.timedelta(seconds=0.01), inner, quiet_exceptions=quiet)
        )
        if inner.done():
            return outcome, "done"
        if case == "cancelled":
            if not inner.cancel():
                return outcome, False
        else:
            inner.set_exception(_LateFailure("failed after the timeout"))
        await _turns(impl, 3)
        return outcome, True

    outcome, ended = ioloop.call(scenario)
    if ended == "done":
        raise Violation(
            "gen.with_timeout ended the wrapped Future when the timeout expired, so no late failure could follow: "
            "the wrapped Future is not canceled when the timeout expires.",
            expected="the wrapped Future still pending after the TimeoutError",
            observed="the wrapped Future done (cancelled)",
        )
    if not ended:
        not_provided(f"{impl.name}'s Futures cannot be cancelled")
    ioloop.barrier()
    if not (outcome[0] == "raised" and isinstance(outcome[1], _timeout_error(impl))):
        raise Violation(
            "gen.with_timeout(10 ms, a Future nobody resolves) did not raise TimeoutError.",
            expected="raised TimeoutError",
            observed=_describe(outcome),
        )
    text = ioloop.log.format()
    mentioned = "_LateFailure" in text or "CancelledError" in text
    if mentioned != (case == "not-quiet"):
        raise Violation(
            f"after gen.with_timeout timed out, the wrapped Future {'was cancelled' if case == 'cancelled' else 'failed'}"
            f" (quiet_exceptions={quiet!r}); the late failure was "
            f"{'logged' if mentioned else 'not logged'}.",
            expected="logged" if case == "not-quiet" else "nothing logged",
            observed=text,
        )


@check("Tornado docs: gen.with_timeout, IOLoop.add_timeout", Level.MUST)
def test_with_timeout_takes_an_absolute_deadline(impl, ioloop):
    """gen.with_timeout: "Raises `TimeoutError` if the input future does not complete before
    ``timeout``, which may be specified in any form allowed by `.IOLoop.add_timeout` (i.e. a
    `datetime.timedelta` or an absolute time relative to `.IOLoop.time`)". A float is a
    deadline, not a duration: ``IOLoop.time() + 0.01`` expires 10 ms from now."""
    gen, Future = impl.part("gen"), impl.part("concurrent").Future
    loop_class = impl.part("ioloop").IOLoop

    async def scenario():
        deadline = loop_class.current().time() + 0.01
        return await _outcome(impl, gen.with_timeout(deadline, Future()))

    outcome = ioloop.call(scenario)
    if not (outcome[0] == "raised" and isinstance(outcome[1], _timeout_error(impl))):
        raise Violation(
            "gen.with_timeout(IOLoop.time() + 0.01, a Future nobody resolves) had not raised TimeoutError once a timer "
            "due 0.2 s after that deadline had run: the float was not read as an absolute deadline.",
            expected="raised TimeoutError",
            observed=_describe(outcome),
        )


@check("Tornado docs: gen.with_timeout (message, 6.6)", Level.TORNADO)
@pytest.mark.parametrize("form", ["string", "callable"])
def test_with_timeout_message_becomes_the_timeout_error_message(impl, ioloop, form):
    """gen.with_timeout: "``message`` is used as the message of the `TimeoutError`. It may be
    a string or a callable returning a string; a callable is only called if the timeout
    expires, so it may be used to defer the cost of formatting the message." (6.6; before,
    the keyword is refused and the check is not provided.) One Future resolves in time, one
    expires."""
    gen, Future = impl.part("gen"), impl.part("concurrent").Future
    calls: list[str] = []

    def message() -> str:
        calls.append("called")
        return "slow probe"

    given: Any = "slow probe" if form == "string" else message

    async def scenario():
        try:
            in_time = gen.with_timeout(datetime.timedelta(seconds=0.05), _later(impl, "in time"), message=given)
        except TypeError:
            return None
        facts = {"in time": _describe(await _outcome(impl, in_time)), "calls after in time": len(calls)}
        # the Future that expires waits 10 ms; the one in time has 50 ms, room for a loaded machine
        expired = await _outcome(impl, gen.with_timeout(datetime.timedelta(seconds=0.01), Future(), message=given))
        facts["expired"] = f"{type(expired[1]).__name__}: {expired[1]}" if expired[0] == "raised" else expired[0]
        facts["calls"] = len(calls)
        return facts

    facts = ioloop.call(scenario)
    if facts is None:
        not_provided(f"{impl.name}'s gen.with_timeout takes no message argument")
    expected = {"in time": "returned 'in time'", "calls after in time": 0, "expired": "TimeoutError: slow probe"}
    expected["calls"] = 1 if form == "callable" else 0
    if facts != expected:
        raise Violation(
            f"gen.with_timeout(..., message={'a callable' if form == 'callable' else repr(given)}) did not use the "
            "message for the TimeoutError, or called the callable when the Future finished in time.",
            expected=expected,
            observed=facts,
        )


# -- contextvars -------------------------------------------------------------------------------

_PROBE: contextvars.ContextVar[str] = contextvars.ContextVar("conformance_gen_probe", default="unset")


@check("Tornado docs: releases v6.1.0 and v6.3.0 (tornado.gen: contextvars)", Level.TORNADO)
@pytest.mark.parametrize(
    "case",
    [
        "decorated-after-yield",
        "decorated-into-native",
        "native-into-decorated",
        "reset-after-yield",
        "into-add_callback",
    ],
)
def test_context_variables_follow_a_decorated_coroutine(impl, ioloop, case):
    """Tornado 6.1: "@gen.coroutine now supports contextvars, including ContextVar.reset";
    6.3: contextvars propagate when a decorated coroutine calls a native one. A ContextVar
    set in a coroutine is the coroutine's own context: it keeps its value across yields, a
    native coroutine it yields first sees it (before and after its own first await), a decorated
    coroutine called by a native one that set it sees it, the token of a ``set`` resets it
    after a yield, and callbacks added with IOLoop.add_callback after a yield run with it
    (asyncio runs callbacks in the context current when they were scheduled)."""
    gen = impl.part("gen")
    loop_class = impl.part("ioloop").IOLoop
    seen: list[str] = []

    async def native_reader():
        seen.append(_PROBE.get())
        await _later(impl)
        seen.append(_PROBE.get())

    @gen.coroutine
    def decorated_reader():
        seen.append(_PROBE.get())
        yield _later(impl)
        seen.append(_PROBE.get())

    @gen.coroutine
    def decorated():
        token = _PROBE.set("set in the coroutine")
        if case == "decorated-into-native":
            yield native_reader()  # its first yield: the native coroutine starts from there
            return
        yield _later(impl)
        if case == "decorated-after-yield":
            seen.extend([_PROBE.get(), _PROBE.get()])
        elif case == "reset-after-yield":
            try:
                _PROBE.reset(token)
                seen.extend(["reset", _PROBE.get()])
            except Exception as exc:
                seen.extend([f"reset raised {type(exc).__name__}", _PROBE.get()])
        else:
            done = impl.part("concurrent").Future()
            loop_class.current().add_callback(lambda: (seen.extend([_PROBE.get()] * 2), done.set_result(None)))
            yield done

    async def native_setter():
        _PROBE.set("set in the coroutine")
        await decorated_reader()

    async def scenario():
        await _outcome(impl, native_setter() if case == "native-into-decorated" else decorated())
        return seen

    got = ioloop.call(scenario)
    expected = ["reset", "unset"] if case == "reset-after-yield" else ["set in the coroutine", "set in the coroutine"]
    if got != expected:
        raise Violation(
            f"a ContextVar set in a coroutine ({case.replace('-', ' ')}) did not keep its value where the coroutine's "
            "context reaches.",
            expected=expected,
            observed=got,
        )


# -- WaitIterator ----------------------------------------------------------------------------


@check("Tornado docs: gen.WaitIterator; releases v6.6.0 (the same Future more than once)", Level.TORNADO)
def test_wait_iterator_yields_a_repeated_future_once_per_position(impl, ioloop):
    """gen.WaitIterator: "``current_index`` [is] the index of the awaitable from the input
    list"; each awaitable given yields its result once. Tornado 6.6: "WaitIterator now
    supports passing the same Future multiple times". ``WaitIterator(f, g, f)``: three
    results, positions 0, 1 and 2 each named once."""
    gen = impl.part("gen")
    if not hasattr(gen, "WaitIterator"):
        not_provided(f"{impl.name}'s gen part has no WaitIterator")

    async def scenario():
        f, g = _later(impl, "f", 0.01), _later(impl, "g")
        waiter, seen = gen.WaitIterator(f, g, f), []
        while not waiter.done() and len(seen) < 4:
            outcome = await _outcome(impl, waiter.next())
            seen.append((waiter.current_index, _describe(outcome)))
        return seen

    seen = ioloop.call(scenario)
    got = sorted(seen, key=repr)
    expected = [(0, "returned 'f'"), (1, "returned 'g'"), (2, "returned 'f'")]
    if got != expected:
        raise Violation(
            "gen.WaitIterator(f, g, f) did not yield one result per position: (current_index, outcome) in the order "
            "yielded.",
            expected=[(1, "returned 'g'"), (0, "returned 'f'"), (2, "returned 'f'")],
            observed=seen,
        )


@check("Tornado docs: gen.WaitIterator", Level.MUST)
def test_wait_iterator_index_with_awaitables_done_before_iterating(impl, ioloop):
    """gen.WaitIterator: "If you need to know which future produced the current result, you
    can use the attributes ``WaitIterator.current_future``, or ``WaitIterator.current_index``
    to get the index of the awaitable from the input list." Two inputs are done before the
    iteration starts, a third finishes just as the first ``next()`` is called (its done
    callback is pending then) and the fourth finishes later; each result must come with its
    own index and Future."""
    gen, Future = impl.part("gen"), impl.part("concurrent").Future
    if not hasattr(gen, "WaitIterator"):
        not_provided(f"{impl.name}'s gen part has no WaitIterator")

    async def scenario():
        inputs = [Future() for _ in range(4)]
        inputs[1].set_result("result 1")
        inputs[3].set_result("result 3")
        waiter = gen.WaitIterator(*inputs)
        await _turns(impl, 2)
        impl.part("ioloop").IOLoop.current().call_later(0.01, inputs[0].set_result, "result 0")
        inputs[2].set_result("result 2")
        seen = []
        while not waiter.done() and len(seen) < 5:
            outcome = await _outcome(impl, waiter.next())
            index = waiter.current_index
            named = isinstance(index, int) and 0 <= index < 4 and waiter.current_future is inputs[index]
            seen.append((index, outcome[1] if outcome[0] == "returned" else _describe(outcome), named))
        return seen

    seen = ioloop.call(scenario)
    ok = sorted(seen[:3]) == [(1, "result 1", True), (2, "result 2", True), (3, "result 3", True)] and seen[3:] == [
        (0, "result 0", True)
    ]
    if not ok:
        raise Violation(
            "gen.WaitIterator over four Futures, two done before iterating, one finishing as the iteration starts and "
            "one later, did not name each result's own input: (current_index, result, current_future is that input).",
            expected="(1, 'result 1', True), (3, 'result 3', True), (2, 'result 2', True) in any order, then "
            "(0, 'result 0', True)",
            observed=seen,
        )


@check("Tornado docs: gen.WaitIterator (async for)", Level.MUST)
@pytest.mark.parametrize("form", ["positional", "keywords"])
def test_wait_iterator_async_for_yields_in_completion_order(impl, ioloop, form):
    """gen.WaitIterator: "`WaitIterator` implements the async iterator protocol, so it can be
    used with the ``async for`` statement"; "if keyword arguments were used in the
    construction of the `WaitIterator`, ``current_index`` will use the corresponding
    keyword." Three inputs finish last to first."""
    gen = impl.part("gen")
    if not hasattr(gen, "WaitIterator"):
        not_provided(f"{impl.name}'s gen part has no WaitIterator")
    keys = ["first", "second", "third"]

    async def scenario():
        inputs = [_later(impl, f"result of {key}", delay) for key, delay in zip(keys, (0.03, 0.02, 0.01))]
        waiter = gen.WaitIterator(*inputs) if form == "positional" else gen.WaitIterator(**dict(zip(keys, inputs)))
        seen = []
        async for result in waiter:
            seen.append((waiter.current_index, result))
        return seen

    seen = ioloop.call(scenario)
    names: list[Any] = [2, 1, 0] if form == "positional" else ["third", "second", "first"]
    expected = [(name, f"result of {key}") for name, key in zip(names, reversed(keys))]
    if seen != expected:
        raise Violation(
            f"``async for`` over gen.WaitIterator ({form} inputs) did not yield results as they finished, each with "
            "its current_index.",
            expected=expected,
            observed=seen,
        )


# -- gen.multi and cancellation --------------------------------------------------------------


@check("Tornado docs: gen.multi; releases v6.6.0 (CancelledError handled in multi)", Level.TORNADO)
@pytest.mark.parametrize("case", ["cancelled-child", "cancelled-after-a-failure"])
def test_multi_treats_a_cancelled_child_as_a_quiet_failure(impl, ioloop, case):
    """gen.multi: "If any children raise exceptions, ``multi()`` will raise the first one.
    All others will be logged, unless they are of types contained in the
    ``quiet_exceptions`` argument." Tornado treats a cancelled child like asyncio.gather
    does: as a failure (CancelledError raised to the caller, the combined Future not itself
    cancelled) and never as one to log. Either a child is cancelled while the other one
    finishes later, or a first child fails and the second one is cancelled afterwards."""
    gen, Future = impl.part("gen"), impl.part("concurrent").Future

    async def scenario():
        first, second = Future(), Future()
        combined = gen.multi([first, second])
        if case == "cancelled-child":
            if not first.cancel():
                return None
            second.set_result("finished")
        else:
            first.set_exception(LookupError("the first failure"))
            await _turns(impl, 2)
            if not second.cancel():
                return None
        outcome = await _outcome(impl, combined)
        await _turns(impl, 2)
        return _describe(outcome)

    got = ioloop.call(scenario)
    if got is None:
        not_provided(f"{impl.name}'s Futures cannot be cancelled")
    ioloop.barrier()
    text = ioloop.log.format()
    expected = (
        "raised asyncio.exceptions.CancelledError()"
        if case == "cancelled-child"
        else "raised builtins.LookupError(the first failure)"
    )
    if got != expected or "CancelledError" in text:
        raise Violation(
            f"gen.multi over two children ({case.replace('-', ' ')}) did not raise the first failure, treating "
            "cancellation as a failure that is never logged.",
            expected=f"{expected}; nothing logged",
            observed=f"{got}; log: {text}",
        )


# -- exception chaining --------------------------------------------------------------------------


class _Cause(Exception):
    pass


class _Raised(Exception):
    pass


@check(
    "Python language reference: the raise statement (__cause__, __context__); Tornado docs: gen.coroutine", Level.MUST
)
@pytest.mark.parametrize("case", ["cause-after-a-yield", "cause-before-any-yield", "implicit-context"])
def test_exception_chaining_survives_a_decorated_coroutine(impl, ioloop, case):
    """gen.coroutine: "When exceptions occur inside a coroutine, the exception information
    will be stored in the Future object". The exception the caller receives is the one the
    coroutine raised, so its chaining stays: ``raise X from Y`` sets ``X.__cause__`` to Y,
    and an exception raised while handling another keeps it as ``__context__`` (without
    ``__suppress_context__``)."""
    gen = impl.part("gen")

    @gen.coroutine
    def work():
        if case != "cause-before-any-yield":
            yield _later(impl)
        if case == "implicit-context":
            try:
                raise _Cause("the original failure")
            except _Cause:
                raise _Raised("raised while handling it")  # noqa: B904 - the implicit context is the point
        raise _Raised("raised from it") from _Cause("the original failure")
        yield  # a generator either way

    async def scenario():
        try:
            await work()
        except _Raised as exc:
            link = exc.__context__ if case == "implicit-context" else exc.__cause__
            return {
                "linked": f"{type(link).__name__}({link})" if link is not None else None,
                "suppress_context": exc.__suppress_context__,
            }
        except Exception as exc:
            return {"raised": f"{type(exc).__name__}: {exc}"}
        return {"raised": "nothing"}

    got = ioloop.call(scenario)
    expected = {
        "linked": "_Cause(the original failure)",
        "suppress_context": case != "implicit-context",
    }
    if got != expected:
        attribute = "__context__" if case == "implicit-context" else "__cause__"
        raise Violation(
            f"an exception chained to another inside a @gen.coroutine ({case.replace('-', ' ')}) reached the caller "
            f"without its {attribute}.",
            expected=expected,
            observed=got,
        )


# -- gen.sleep(0), is_coroutine_function ----------------------------------------------------------


@check("Tornado docs: gen.sleep, gen.moment", Level.TORNADO)
@pytest.mark.parametrize("caller", ["native", "decorated"])
def test_sleep_zero_yields_to_the_loop(impl, ioloop, caller):
    """gen.sleep: "Return a `.Future` that resolves after the given number of seconds. When
    used with ``yield`` in a coroutine, this is a non-blocking analogue to `time.sleep`";
    gen.moment: "A special object which may be yielded to allow the IOLoop to run for one
    iteration." A sleep of zero seconds still resolves through the loop (a timer), so a
    callback added before it runs before the coroutine resumes, as with gen.moment."""
    gen = impl.part("gen")
    loop_class = impl.part("ioloop").IOLoop
    trace: list[str] = []

    async def native():
        loop_class.current().add_callback(trace.append, "callback added before the sleep")
        await gen.sleep(0)
        trace.append("coroutine resumed")

    @gen.coroutine
    def decorated():
        loop_class.current().add_callback(trace.append, "callback added before the sleep")
        yield gen.sleep(0)
        trace.append("coroutine resumed")

    ioloop.call(native if caller == "native" else decorated)
    expected = ["callback added before the sleep", "coroutine resumed"]
    if trace != expected:
        raise Violation(
            f"a {caller} coroutine that added a callback and then awaited gen.sleep(0) resumed before the callback "
            "ran: sleeping, even for zero seconds, lets the loop run.",
            expected=expected,
            observed=trace,
        )


@check("Tornado docs: gen.is_coroutine_function (4.5)", Level.MUST)
def test_is_coroutine_function_recognises_decorated_functions(impl, ioloop):
    """gen.is_coroutine_function: "Return whether *func* is a coroutine function, i.e. a
    function wrapped with `~.gen.coroutine`." A @gen.coroutine function is one; a plain
    function is not."""
    gen = impl.part("gen")
    is_coroutine_function = getattr(gen, "is_coroutine_function", None)
    if is_coroutine_function is None:
        not_provided(f"{impl.name}'s gen part has no is_coroutine_function")

    @gen.coroutine
    def decorated():
        yield _later(impl)

    def plain():
        return None

    got = {"@gen.coroutine": bool(is_coroutine_function(decorated)), "plain": bool(is_coroutine_function(plain))}
    expected = {"@gen.coroutine": True, "plain": False}
    if got != expected:
        raise Violation(
            "gen.is_coroutine_function did not tell a @gen.coroutine function from a plain one.",
            expected=expected,
            observed=got,
        )
