"""Futures: callbacks on completion.

Reference: Tornado docs, ``tornado.concurrent.future_add_done_callback``
(https://www.tornadoweb.org/en/stable/concurrent.html#tornado.concurrent.future_add_done_callback).
"""

from __future__ import annotations

import pytest

from conformance import Level, check, requires
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
    assert calls == [(True, "the result")], (
        f"future_add_done_callback on a Future that was already done invoked the callback {len(calls)} time(s) "
        f"before returning ({calls!r}), expected once, with the future itself: Tornado documents that "
        "the callback is invoked immediately when the future is already done, unlike Future.add_done_callback."
    )
