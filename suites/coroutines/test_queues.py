"""tornado.queues in detail: the three queue kinds, maxsize, the non-blocking calls, timeouts
given as deadlines and as timedeltas, task_done/join, ``async for`` and the order waiters are
served in.

Reference: Tornado docs, ``tornado.queues`` (https://www.tornadoweb.org/en/stable/queues.html).

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

KINDS = ["queue", "lifo", "priority"]
_CLASS = {"queue": "Queue", "lifo": "LifoQueue", "priority": "PriorityQueue"}


def _needs():
    return requires("queues", "ioloop", "concurrent", "gen", "util")


def _kind(impl: Any, kind: str) -> Any:
    return getattr(impl.part("queues"), _CLASS[kind])


# -- order ----------------------------------------------------------------------------------

_PUT = [5, 1, 4, 2, 3]
_ORDER = {"queue": [5, 1, 4, 2, 3], "lifo": [3, 2, 4, 1, 5], "priority": [1, 2, 3, 4, 5]}


@check("Tornado docs: queues.Queue, queues.PriorityQueue, queues.LifoQueue", Level.TORNADO)
@_needs()
@pytest.mark.parametrize("kind", KINDS)
def test_each_queue_kind_hands_out_items_in_its_order(impl, ioloop, kind):
    """Queue: the documented example puts 0..4 and the consumer works on them "0, 1, 2, 3, 4"
    (first in, first out). PriorityQueue: "A Queue that retrieves entries in priority order,
    lowest first." LifoQueue: "A Queue that retrieves the most recently put items first."
    Five items are put with put_nowait and taken with get_nowait."""
    cls = _kind(impl, kind)

    async def scenario():
        queue = cls()
        for item in _PUT:
            queue.put_nowait(item)
        return [queue.get_nowait() for _ in _PUT]

    got = ioloop.call(scenario)
    if got != _ORDER[kind]:
        raise Violation(
            f"{_CLASS[kind]} given {_PUT} with put_nowait handed them out in another order than its documented one.",
            expected=_ORDER[kind],
            observed=got,
        )


@check("Tornado docs: queues.Queue (async for), queues.PriorityQueue, queues.LifoQueue", Level.TORNADO)
@_needs()
@pytest.mark.parametrize("kind", KINDS)
def test_async_for_iterates_a_queue_in_its_order(impl, ioloop, kind):
    """Queue's documented consumer is ``async for item in q`` ("Added ``async for`` support
    in Python 3.5", 4.3): each iteration is a ``get``, so the loop sees the items in the
    queue's own order, and waits while the queue is empty. Five items put beforehand are
    read with ``async for``; then a second ``async for`` starts on the empty queue and must
    wait for the next item put."""
    cls = _kind(impl, kind)

    async def scenario():
        queue, seen = cls(), []
        for item in _PUT:
            queue.put_nowait(item)
        async for item in queue:
            seen.append(item)
            if len(seen) == len(_PUT):
                break

        async def next_item():
            async for item in queue:
                return item
            return "the iteration ended"

        late = impl.part("gen").convert_yielded(next_item())
        await _turns(impl, 3)
        waited = not late.done()
        queue.put_nowait("late")
        return seen, waited, await _outcome(impl, late)

    seen, waited, late = ioloop.call(scenario)
    if seen != _ORDER[kind] or not waited or late != ("returned", "late"):
        raise Violation(
            f"``async for`` over a {_CLASS[kind]} did not yield the items in the queue's order, or did not wait "
            "on the empty queue for the next item.",
            expected=f"{_ORDER[kind]}; waits while empty; then returned 'late'",
            observed=f"{seen}; {'waits' if waited else 'did not wait'} while empty; then {_describe(late)}",
        )


# -- maxsize, qsize, empty, full, the nowait calls -------------------------------------------


@check("Tornado docs: queues.Queue (maxsize), Queue.put_nowait", Level.TORNADO)
@_needs()
@pytest.mark.parametrize("maxsize", [1, 3])
@pytest.mark.parametrize("kind", KINDS)
def test_put_nowait_raises_queue_full_at_maxsize(impl, ioloop, kind, maxsize):
    """Queue.put_nowait: "Put an item into the queue without blocking. If no free slot is
    immediately available, raise `QueueFull`." ``maxsize``: "Number of items allowed in the
    queue." ``maxsize`` items go in; the next put_nowait raises QueueFull."""
    cls, queues = _kind(impl, kind), impl.part("queues")

    async def scenario():
        queue, facts = cls(maxsize=maxsize), {}
        facts["maxsize"] = queue.maxsize
        for n in range(maxsize):
            queue.put_nowait(n)
        try:
            queue.put_nowait("one too many")
            facts["extra put_nowait"] = "accepted"
        except queues.QueueFull:
            facts["extra put_nowait"] = "QueueFull"
        except Exception as exc:
            facts["extra put_nowait"] = f"raised {type(exc).__name__}"
        facts["qsize"] = queue.qsize()
        return facts

    facts = ioloop.call(scenario)
    expected = {"maxsize": maxsize, "extra put_nowait": "QueueFull", "qsize": maxsize}
    if facts != expected:
        raise Violation(
            f"{_CLASS[kind]}(maxsize={maxsize}) filled with {maxsize} items did not refuse one more with QueueFull.",
            expected=expected,
            observed=facts,
        )


@check("Tornado docs: queues.Queue (maxsize 0)", Level.TORNADO)
@_needs()
@pytest.mark.parametrize("kind", KINDS)
def test_maxsize_zero_is_unbounded(impl, ioloop, kind):
    """queues.Queue: "If maxsize is 0 (the default) the queue size is unbounded." A queue
    built with maxsize=0 and one built with no argument take 1000 items with put_nowait
    and never report themselves full."""
    cls = _kind(impl, kind)

    async def scenario():
        facts = {}
        for label, queue in (("maxsize=0", cls(maxsize=0)), ("default", cls())):
            try:
                for n in range(1000):
                    queue.put_nowait(n)
                facts[label] = (queue.qsize(), queue.full())
            except Exception as exc:
                facts[label] = f"put_nowait #{queue.qsize() + 1} raised {type(exc).__name__}"
        return facts

    facts = ioloop.call(scenario)
    expected = {"maxsize=0": (1000, False), "default": (1000, False)}
    if facts != expected:
        raise Violation(
            f"a {_CLASS[kind]} with maxsize 0 was bounded: (qsize, full()) after 1000 put_nowait calls.",
            expected=expected,
            observed=facts,
        )


@check("Tornado docs: queues.Queue.get_nowait", Level.TORNADO)
@_needs()
@pytest.mark.parametrize("when", ["never-filled", "drained"])
@pytest.mark.parametrize("kind", KINDS)
def test_get_nowait_on_an_empty_queue_raises_queue_empty(impl, ioloop, kind, when):
    """Queue.get_nowait: "Remove and return an item from the queue without blocking. Return
    an item if one is immediately available, else raise `QueueEmpty`." """
    cls, queues = _kind(impl, kind), impl.part("queues")

    async def scenario():
        queue = cls()
        if when == "drained":
            queue.put_nowait(1)
            queue.get_nowait()
        try:
            return f"returned {queue.get_nowait()!r}"
        except queues.QueueEmpty:
            return "QueueEmpty"
        except Exception as exc:
            return f"raised {type(exc).__name__}"

    got = ioloop.call(scenario)
    if got != "QueueEmpty":
        raise Violation(
            f"get_nowait on an empty ({when}) {_CLASS[kind]} did not raise QueueEmpty.",
            expected="queues.QueueEmpty",
            observed=got,
        )


@check("Tornado docs: queues.Queue.qsize, Queue.empty, Queue.full", Level.TORNADO)
@_needs()
@pytest.mark.parametrize("kind", KINDS)
def test_qsize_empty_and_full_follow_the_contents(impl, ioloop, kind):
    """Queue.qsize: "Number of items in the queue." ``maxsize``: "Number of items allowed in
    the queue." empty() and full() answer for those two numbers. A Queue(maxsize=2) is
    read after each of: nothing, one put, two puts, one get, another get."""
    cls = _kind(impl, kind)

    async def scenario():
        queue, states = cls(maxsize=2), []

        def note():
            states.append((queue.qsize(), queue.empty(), queue.full()))

        note()
        for step in (lambda: queue.put_nowait(1), lambda: queue.put_nowait(2), queue.get_nowait, queue.get_nowait):
            step()
            note()
        return states

    states = ioloop.call(scenario)
    expected = [(0, True, False), (1, False, False), (2, False, True), (1, False, False), (0, True, False)]
    if states != expected:
        raise Violation(
            f"(qsize, empty(), full()) of a {_CLASS[kind]}(maxsize=2) did not follow its contents through "
            "put, put, get, get.",
            expected=expected,
            observed=states,
        )


# -- timeouts -------------------------------------------------------------------------------

OPERATIONS = ["get-empty", "put-full", "join-unfinished"]


def _operation(queue: Any, operation: str, timeout: Any) -> Any:
    if operation == "get-empty":
        return queue.get(timeout=timeout)
    if operation == "put-full":
        queue.put_nowait("occupying")
        return queue.put("more", timeout=timeout)
    queue.put_nowait("unfinished")  # never marked done
    return queue.join(timeout=timeout)


def _short_timeout(loop: Any, form: str) -> Any:
    if form == "timedelta":
        return datetime.timedelta(milliseconds=10)
    return loop.time() + 0.01  # an absolute deadline on the IOLoop's clock


@check("Tornado docs: queues.Queue.get, Queue.put, Queue.join (timeout)", Level.TORNADO)
@_needs()
@pytest.mark.parametrize("form", ["timedelta", "deadline"])
@pytest.mark.parametrize("operation", OPERATIONS)
def test_operation_that_cannot_complete_raises_timeout_error(impl, ioloop, operation, form):
    """Queue.get: "Returns an awaitable which resolves once an item is available, or raises
    `TimeoutError` after a timeout. ``timeout`` may be a number denoting a time (on the
    same scale as `tornado.ioloop.IOLoop.time`, normally `time.time`), or a
    `datetime.timedelta` object for a deadline relative to the current time." Queue.put
    says the same; Queue.join: "Returns an awaitable, which raises `TimeoutError` after a
    timeout." The number is a deadline, not a duration ("this one interprets them as
    absolute deadlines"): here ``IOLoop.time() + 0.01``."""
    timeout_error = _timeout_error(impl)

    async def scenario():
        loop = impl.part("ioloop").IOLoop.current()
        queue = impl.part("queues").Queue(maxsize=1)
        return await _outcome(impl, _operation(queue, operation, _short_timeout(loop, form)))

    outcome = ioloop.call(scenario)
    if not (outcome[0] == "raised" and isinstance(outcome[1], timeout_error)):
        raise Violation(
            f"a {operation} with a 10 ms timeout given as a {form} did not raise TimeoutError once it passed: it "
            f"{_describe(outcome)}.",
            expected=f"{timeout_error.__module__}.{timeout_error.__qualname__}",
            observed=_describe(outcome),
        )


@check("Tornado docs: queues.Queue.get, Queue.put, Queue.join (timeout of zero, 6.6)", Level.TORNADO)
@_needs()
@pytest.mark.parametrize("form", ["timedelta-zero", "number-zero"])
@pytest.mark.parametrize("operation", OPERATIONS)
def test_queue_zero_timeout_gives_up_at_once(impl, ioloop, operation, form):
    """Queue.get, Queue.put, Queue.join: ".. versionchanged:: 6.6 A ``timeout`` argument of
    zero will either return or raise immediately. Previously, zero was treated equivalent
    to ``None`` (wait forever)." Zero is given as ``timedelta(0)`` and as the number 0."""
    timeout_error = _timeout_error(impl)
    zero = datetime.timedelta(0) if form == "timedelta-zero" else 0

    async def scenario():
        queue = impl.part("queues").Queue(maxsize=1)
        return await _outcome(impl, _operation(queue, operation, zero))

    outcome = ioloop.call(scenario)
    if not (outcome[0] == "raised" and isinstance(outcome[1], timeout_error)):
        raise Violation(
            f"a {operation} with a timeout of zero ({form}) did not raise TimeoutError at once: it {_describe(outcome)}.",
            expected=f"{timeout_error.__module__}.{timeout_error.__qualname__} at once",
            observed=_describe(outcome),
        )


@check("Tornado docs: queues.Queue.get, Queue.put (timeout)", Level.TORNADO)
@_needs()
@pytest.mark.parametrize("form", ["timedelta", "deadline"])
@pytest.mark.parametrize("operation", ["get", "put"])
def test_timed_out_waiter_takes_no_part_afterwards(impl, ioloop, operation, form):
    """Queue.get "raises `TimeoutError` after a timeout"; Queue.put "Returns a Future, which
    raises `TimeoutError` after a timeout." A get that timed out gave up: the next item put
    goes to the next get, not to the expired one. A put that timed out did not put its item:
    once there is room, only the items of puts that succeeded come out."""
    timeout_error = _timeout_error(impl)

    async def scenario():
        loop = impl.part("ioloop").IOLoop.current()
        if operation == "get":
            queue = impl.part("queues").Queue()
            expired = await _outcome(impl, queue.get(timeout=_short_timeout(loop, form)))
            queue.put_nowait("after the timeout")
            later = await _outcome(impl, queue.get(timeout=datetime.timedelta(seconds=30)))
            return expired, [later]
        queue = impl.part("queues").Queue(maxsize=1)
        queue.put_nowait("first")
        expired = await _outcome(impl, queue.put("expired", timeout=_short_timeout(loop, form)))
        got = [queue.get_nowait()]
        queue.put_nowait("second")
        got.append(queue.get_nowait())
        got.append("empty" if queue.empty() else f"also {queue.get_nowait()!r}")
        return expired, got

    expired, later = ioloop.call(scenario)
    timed_out = expired[0] == "raised" and isinstance(expired[1], timeout_error)
    expected = [("returned", "after the timeout")] if operation == "get" else ["first", "second", "empty"]
    if not timed_out or later != expected:
        raise Violation(
            f"a {operation} that timed out (given a {form}) still took part in the queue afterwards.",
            expected=f"TimeoutError, then {expected!r}",
            observed=f"{_describe(expired)}, then {later!r}",
        )


# -- task_done and join -----------------------------------------------------------------------


@check("Tornado docs: queues.Queue.task_done", Level.TORNADO)
@_needs()
@pytest.mark.parametrize("history", ["fresh", "every-put-done", "put-but-not-got"])
def test_task_done_called_too_many_times_raises_value_error(impl, ioloop, history):
    """Queue.task_done: "If a `.join` is blocking, it resumes when all items have been
    processed; that is, when every `.put` is matched by a `.task_done`. Raises `ValueError`
    if called more times than `.put`." """
    queues = impl.part("queues")

    async def scenario():
        queue = queues.Queue()
        allowed = {"fresh": 0, "every-put-done": 2, "put-but-not-got": 1}[history]
        for n in range(allowed):
            queue.put_nowait(n)
        if history == "every-put-done":
            for _ in range(allowed):
                queue.get_nowait()
        for _ in range(allowed):
            queue.task_done()
        try:
            queue.task_done()
            return "accepted"
        except ValueError:
            return "ValueError"
        except Exception as exc:
            return f"raised {type(exc).__name__}"

    got = ioloop.call(scenario)
    if got != "ValueError":
        raise Violation(
            f"task_done called once more than put ({history}) did not raise ValueError.",
            expected="ValueError",
            observed=got,
        )


@check("Tornado docs: queues.Queue.join", Level.TORNADO)
@_needs()
@pytest.mark.parametrize("history", ["never-used", "every-put-done"])
def test_join_with_nothing_unfinished_resolves_before_its_timeout(impl, ioloop, history):
    """Queue.join: "Block until all items in the queue are processed." With nothing put, or
    every put matched by a task_done, there is nothing to wait for: join resolves (to None)
    rather than waiting out its 30 s timeout."""
    queues = impl.part("queues")

    async def scenario():
        queue = queues.Queue()
        if history == "every-put-done":
            for n in range(3):
                queue.put_nowait(n)
            for _ in range(3):
                queue.get_nowait()
                queue.task_done()
        return await _outcome(impl, queue.join(timeout=datetime.timedelta(seconds=30)))

    outcome = ioloop.call(scenario)
    if outcome != ("returned", None):
        raise Violation(
            f"join() on a queue with nothing unfinished ({history}) did not resolve at once: it {_describe(outcome)}.",
            expected="resolves to None",
            observed=_describe(outcome),
        )


# -- fairness -------------------------------------------------------------------------------


@check("Tornado docs: queues.Queue.get, Queue.put (waiters)", Level.TORNADO)
@_needs()
@pytest.mark.parametrize("side", ["getters", "putters"])
def test_waiting_getters_and_putters_are_served_first_come_first_served(impl, ioloop, side):
    """Queue.get "Remove and return an item from the queue", resolving "once an item is
    available"; Queue.put "Put an item into the queue, perhaps waiting until there is
    room". Tornado serves the coroutines waiting in the order they started waiting, as the
    standard library's queues do. Three getters wait on an empty queue and three items are
    put; or three putters wait on a full Queue(maxsize=1) and the items are taken."""
    queues = impl.part("queues")

    async def scenario():
        if side == "getters":
            queue = queues.Queue()
            getters = [queue.get() for _ in range(3)]
            for item in ("a", "b", "c"):
                queue.put_nowait(item)
            return [await _outcome(impl, g) for g in getters]
        queue = queues.Queue(maxsize=1)
        queue.put_nowait("first")
        putters = [queue.put(item) for item in ("a", "b", "c")]
        got = []
        for _ in range(4):
            got.append(queue.get_nowait())
            await _turns(impl, 2)
        del putters
        return got

    got = ioloop.call(scenario)
    expected = [("returned", x) for x in "abc"] if side == "getters" else ["first", "a", "b", "c"]
    if got != expected:
        raise Violation(
            f"three waiting {side} were not served in the order they started waiting.",
            expected=expected,
            observed=got,
        )
