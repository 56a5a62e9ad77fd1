"""Decorated (``@gen.coroutine``) coroutines and their interplay with native ones.

Reference: Tornado docs, ``tornado.gen.coroutine``
(https://www.tornadoweb.org/en/stable/gen.html#tornado.gen.coroutine) and the
coroutines guide, "Native vs decorated coroutines"
(https://www.tornadoweb.org/en/stable/guide/coroutines.html#native-vs-decorated-coroutines).
"""

from __future__ import annotations

import pytest

from conformance import Level, Violation, check, requires

pytestmark = [pytest.mark.coroutines, requires("gen", "ioloop", "concurrent")]


def _is_future(impl, value):
    concurrent = impl.part("concurrent")
    is_future = getattr(concurrent, "is_future", None)
    return is_future(value) if is_future is not None else isinstance(value, concurrent.Future)


@check("Tornado docs: gen.coroutine; guide: Native vs decorated coroutines", Level.TORNADO)
def test_coroutine_runs_synchronously_until_first_yield(impl, ioloop):
    """gen.coroutine: "Functions with this decorator return a Future." The coroutines guide:
    native coroutines "do not run at all until you await or yield them. Decorated
    coroutines can start running 'in the background' as soon as they are called."
    Tornado runs the body up to its first ``yield`` inside the call, so the caller sees
    its side effects at once; code written for Tornado relies on that ordering."""
    gen, Future = impl.part("gen"), impl.part("concurrent").Future
    IOLoop = impl.part("ioloop").IOLoop

    async def scenario():
        trace = []
        release = Future()

        @gen.coroutine
        def work():
            trace.append("body runs up to its first yield")
            value = yield release
            trace.append(f"body resumed with {value}")

        returned = work()
        trace.append("call returned")
        facts = {"is_future": _is_future(impl, returned), "done_at_return": returned.done()}
        IOLoop.current().add_callback(release.set_result, "x")
        await returned
        return trace, facts, type(returned).__name__

    trace, facts, type_name = ioloop.call(scenario)
    assert facts["is_future"], (
        f"calling a @gen.coroutine function returned a {type_name}, not a Future: Tornado documents that "
        "functions with this decorator return a Future, which callers may pass to add_future or yield."
    )
    expected = ["body runs up to its first yield", "call returned", "body resumed with x"]
    if trace != expected:
        raise Violation(
            "a @gen.coroutine function did not run synchronously up to its first yield when called, so its first "
            "side effects did not happen before the call returned (the guide: decorated coroutines start running "
            "as soon as they are called, unlike native ones).",
            expected=expected,
            observed=trace,
        )
    assert not facts["done_at_return"], (
        "the Future returned by a @gen.coroutine function paused at a yield on an unresolved Future was "
        "already done when the call returned; it must stay pending until the coroutine finishes."
    )


@pytest.mark.parametrize("nesting", ["native-awaits-decorated", "decorated-yields-native"])
@check("Tornado docs: gen.coroutine; guide: Native vs decorated coroutines", Level.MUST)
def test_coroutine_result_reaches_caller(impl, ioloop, nesting):
    """The coroutines guide translates ``b = yield c()`` into ``b = await c()`` and a
    decorated coroutine's return into a native ``return b``: both forms call each other
    and the value a coroutine returns (with a plain ``return`` since Python 3.3) is the
    result its caller receives. Each coroutine here suspends before returning, so the
    value travels through a Future rather than a synchronous shortcut."""
    gen, Future = impl.part("gen"), impl.part("concurrent").Future
    IOLoop = impl.part("ioloop").IOLoop

    def later(value):
        future = Future()
        IOLoop.current().add_callback(future.set_result, value)
        return future

    if nesting == "native-awaits-decorated":

        @gen.coroutine
        def inner():
            value = yield later(41)
            return value + 1

        async def outer():
            return await inner()

    else:

        async def inner():
            value = await later(41)
            return value + 1

        @gen.coroutine
        def outer():
            value = yield inner()
            return value

    result = ioloop.call(outer)
    caller, callee = (
        ("a native coroutine", "a @gen.coroutine")
        if nesting == "native-awaits-decorated"
        else ("a @gen.coroutine", "a native coroutine")
    )
    if result != 42:
        raise Violation(
            f"{caller} awaiting {callee} that returns 42 after suspending once did not get that value: the value a "
            "coroutine returns is the result its caller gets, whichever of the native and decorated forms each side "
            "uses.",
            expected=42,
            observed=repr(result),
        )


class OperationFailed(Exception):
    """Raised by the coroutines under test: a type of the check's own, never the loop's."""


@pytest.mark.parametrize("nesting", ["native-awaits-decorated", "decorated-yields-native"])
@check("Tornado docs: guide: How to call a coroutine; gen.coroutine", Level.MUST)
def test_coroutine_exception_reaches_caller_with_its_type(impl, ioloop, nesting):
    """The coroutines guide, "How to call a coroutine": "Coroutines do not raise exceptions in
    the normal way: any exception they raise will be trapped in the awaitable object until it
    is yielded", and ``await`` "will unwrap the object returned by divide() and raise the
    exception"; gen.coroutine: "When exceptions occur inside a coroutine, the exception
    information will be stored in the Future object". So callers catch what the operation
    raised, by type. Each coroutine suspends before raising, so the exception travels through
    a Future."""
    gen, Future = impl.part("gen"), impl.part("concurrent").Future
    IOLoop = impl.part("ioloop").IOLoop

    def later():
        future = Future()
        IOLoop.current().add_callback(future.set_result, None)
        return future

    if nesting == "native-awaits-decorated":

        @gen.coroutine
        def inner():
            yield later()
            raise OperationFailed("the operation failed")

        async def outer():
            try:
                await inner()
            except OperationFailed as exc:
                return "caught", str(exc)
            except Exception as exc:
                return "other", f"{type(exc).__name__}: {exc}"
            return "returned", None

    else:

        async def inner():
            await later()
            raise OperationFailed("the operation failed")

        @gen.coroutine
        def outer():
            try:
                yield inner()
            except OperationFailed as exc:
                return "caught", str(exc)
            except Exception as exc:
                return "other", f"{type(exc).__name__}: {exc}"
            return "returned", None

    how, what = ioloop.call(outer)
    assert (how, what) == ("caught", "the operation failed"), (
        f"a caller ({nesting}) waiting for a coroutine that raised OperationFailed('the operation failed') "
        f"{'returned normally' if how == 'returned' else f'got {what}'}: the exception a coroutine raises must "
        "reach the awaiting caller with its own type and message (Tornado coroutines guide)."
    )


@pytest.mark.parametrize("yielded", ["gen.moment", "None"])
@check("Tornado docs: gen.moment", Level.TORNADO)
def test_yielding_moment_lets_the_loop_run_pending_callbacks(impl, ioloop, yielded):
    """gen.moment: "A special object which may be yielded to allow the IOLoop to run for
    one iteration. [...] Usage: ``yield gen.moment``"; Tornado's coroutine runner treats
    ``yield None`` the same way. A callback added before the yield must therefore run
    before the coroutine resumes."""
    gen, Future = impl.part("gen"), impl.part("concurrent").Future
    token = gen.moment if yielded == "gen.moment" else None

    @gen.coroutine
    def scenario():
        trace = []
        # A done callback of a Future resolved now: pending on the loop, by the loop's own
        # means (not through add_callback, which other checks judge).
        resolved = Future()
        resolved.add_done_callback(lambda _: trace.append("callback added before the yield"))
        resolved.set_result(None)
        yield token
        trace.append("coroutine resumed")
        return trace

    trace = ioloop.call(scenario)
    expected = ["callback added before the yield", "coroutine resumed"]
    if trace != expected:
        raise Violation(
            f"a @gen.coroutine that added a callback and then yielded {yielded} resumed before the pending callback "
            "ran: yielding gen.moment (or None) lets the IOLoop run for one iteration.",
            expected=expected,
            observed=trace,
        )
