"""gen.multi: waiting for several asynchronous operations in parallel.

Reference: Tornado docs, ``tornado.gen.multi``
(https://www.tornadoweb.org/en/stable/gen.html#tornado.gen.multi).

The children are Futures of the implementation, resolved by ``IOLoop.call_later`` with
different delays so that they complete in an order other than the input order. The
delays are only inputs: the checks judge orders and values, never durations.
"""

from __future__ import annotations

import pytest

from conformance import Level, check, requires

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
        assert result == expected, (
            f"gen.multi over a list of three futures that completed last-to-first resolved to {result!r}, "
            f"expected {expected!r}: Tornado documents that a list of children gives a list of results "
            "in the same order as the input, not in the order the children completed."
        )
    else:
        expected_dict = {key: f"result of {key}" for key in keys}
        assert isinstance(result, dict) and result == expected_dict, (
            f"gen.multi over a dict of three futures that completed last-to-first resolved to {result!r}, "
            f"expected {expected_dict!r}: Tornado documents that a dict of children gives a dict with the same "
            "keys, each mapped to the result of its own child."
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
