"""Property checks of tornado.queues and tornado.locks: random schedules of calls, judged
against a model of what Tornado documents.

References: Tornado docs, ``tornado.queues`` (https://www.tornadoweb.org/en/stable/queues.html)
and ``tornado.locks`` (https://www.tornadoweb.org/en/stable/locks.html).

Hypothesis draws a schedule: a list of calls (a producer's ``put``, a consumer's ``get``,
an ``acquire``, a ``release``, a ``notify``...) with "turns" between some of them, where the
check lets the loop run a few callbacks. Calls between two turns happen within one loop
iteration, which is where a port that defers its wake-ups to a callback loses or reorders
them. Every call takes effect when it is made: Tornado's ``put``/``get``/``acquire``/``wait``
return a Future already resolved, or resolved by the later call that satisfies it. A model
written from the docs replays the schedule and says which Futures are resolved and to what;
the check compares, after letting the loop settle (loop turns, never time), once at the end
of the drawn schedule and once after completing it (every waiter satisfied).
"""

from __future__ import annotations

import collections
import heapq
from typing import Any

import pytest

from conformance import Level, Violation, check, hypothesis_property, requires

pytestmark = [pytest.mark.coroutines]

#: Loop turns the check lets pass before reading the Futures (a port may resolve through a callback or two).
SETTLE = 4


async def _turns(impl: Any, count: int) -> None:
    Future = impl.part("concurrent").Future
    loop = impl.part("ioloop").IOLoop.current()
    for _ in range(count):  # loop turns, not time
        step = Future()
        loop.add_callback(step.set_result, None)
        await step


def _state(future: Any) -> Any:
    """How a Future stands: "pending", ("returned", value) or ("raised", exception class name)."""
    if not future.done():
        return "pending"
    if future.exception() is not None:
        return ("raised", type(future.exception()).__name__)
    return ("returned", future.result())


# -- queues -----------------------------------------------------------------------------------

KINDS = ["queue", "lifo", "priority"]
_CLASS = {"queue": "Queue", "lifo": "LifoQueue", "priority": "PriorityQueue"}


class _QueueModel:
    """tornado.queues as documented: waiting getters and putters are served first come, first
    served; a put that finds a getter waiting hands its item over; a get that frees a slot
    lets the first waiting put's item in before it takes the queue's next item."""

    def __init__(self, kind: str, maxsize: int) -> None:
        self.kind, self.maxsize = kind, maxsize
        self.items: list[Any] = []
        self.getters: collections.deque[int] = collections.deque()  # indexes of waiting get calls
        self.putters: collections.deque[tuple[int, Any]] = collections.deque()
        self.outcome: dict[int, Any] = {}  # call index -> expected state

    def _put(self, item: Any) -> None:
        if self.kind == "priority":
            heapq.heappush(self.items, item)
        else:
            self.items.append(item)

    def _get(self) -> Any:
        if self.kind == "priority":
            return heapq.heappop(self.items)
        return self.items.pop() if self.kind == "lifo" else self.items.pop(0)

    def full(self) -> bool:
        return self.maxsize > 0 and len(self.items) >= self.maxsize

    def put(self, index: int, item: Any, *, nowait: bool) -> None:
        if self.getters:
            self._put(item)
            self.outcome[self.getters.popleft()] = ("returned", self._get())
            self.outcome[index] = ("returned", None)
        elif self.full():
            if nowait:
                self.outcome[index] = ("raised", "QueueFull")
            else:
                self.putters.append((index, item))
                self.outcome[index] = "pending"
        else:
            self._put(item)
            self.outcome[index] = ("returned", None)

    def get(self, index: int, *, nowait: bool) -> None:
        if self.putters:
            putter, item = self.putters.popleft()
            self._put(item)
            self.outcome[putter] = ("returned", None)
            self.outcome[index] = ("returned", self._get())
        elif self.items:
            self.outcome[index] = ("returned", self._get())
        elif nowait:
            self.outcome[index] = ("raised", "QueueEmpty")
        else:
            self.getters.append(index)
            self.outcome[index] = "pending"


def _queue_calls(st: Any) -> Any:
    """A schedule: ("put", priority), ("put_nowait", priority), ("get",), ("get_nowait",), ("turn",)."""
    call = st.one_of(
        st.tuples(st.sampled_from(["put", "put_nowait"]), st.integers(0, 9)),
        st.tuples(st.sampled_from(["get", "get_nowait", "turn"])),
    )
    return st.lists(call, max_size=24)


#: Tried first, whatever the seed: a put that finds a getter waiting, followed in the same
#: loop iteration by a get_nowait (the item is the waiting getter's); a full queue whose
#: waiting putters are let in by gets, some in one iteration; and priorities put out of order.
QUEUE_EXAMPLES = [
    {"maxsize": 0, "calls": [("get",), ("put", 1), ("get_nowait",), ("put", 2), ("turn",)]},
    {
        "maxsize": 1,
        "calls": [
            ("put", 5),
            ("put", 3),
            ("put", 4),
            ("get",),
            ("get_nowait",),
            ("turn",),
            ("get",),
            ("put_nowait", 1),
        ],
    },
    {"maxsize": 2, "calls": [("put", 7), ("put", 2), ("put", 9), ("get_nowait",), ("put", 0), ("get",), ("get",)]},
]


@check(
    "Tornado docs: queues.Queue, queues.PriorityQueue, queues.LifoQueue (put, get, put_nowait, get_nowait)",
    Level.TORNADO,
)
@requires("queues", "ioloop", "concurrent", "gen")
@hypothesis_property(
    {"maxsize": lambda st: st.integers(0, 3), "calls": _queue_calls},
    seed=8_2026_1205,
    examples=QUEUE_EXAMPLES,
    ci_max_examples=8,
)
@pytest.mark.parametrize("kind", KINDS)
def test_random_puts_and_gets_hand_out_every_item_once_in_the_queue_order(impl, ioloop, kind, maxsize, calls):
    """queues.Queue: "Coordinate producer and consumer coroutines"; ``put``: "Put an item
    into the queue, perhaps waiting until there is room"; ``get``: "Remove and return an
    item from the queue. Returns an awaitable which resolves once an item is available";
    ``put_nowait``: "If no free slot is immediately available, raise `QueueFull`";
    ``get_nowait``: "Return an item if one is immediately available, else raise
    `QueueEmpty`". PriorityQueue "retrieves entries in priority order, lowest first",
    LifoQueue "the most recently put items first"; waiters are served first come, first
    served. Whatever the interleaving of producers and consumers, every item put is handed
    out exactly once, to the get the queue's order gives it to."""
    queues, gen = impl.part("queues"), impl.part("gen")
    cls = getattr(queues, _CLASS[kind])
    # Items are (priority, call number): distinct, ordered by priority, then by call number.
    schedule = [(call[0], (call[1], n) if len(call) > 1 else None) for n, call in enumerate(calls)]
    model = _QueueModel(kind, maxsize)
    for index, (name, item) in enumerate(schedule):
        if name in ("put", "put_nowait"):
            model.put(index, item, nowait=name == "put_nowait")
        elif name in ("get", "get_nowait"):
            model.get(index, nowait=name == "get_nowait")
    expected_drawn = dict(model.outcome)
    # Completing the schedule: an item for every waiting get, then gets until nothing is left.
    completion = [("put_nowait", (10, len(schedule) + n)) for n in range(len(model.getters))]
    completion += [("get_nowait", None)] * (len(model.items) + len(model.putters))
    for index, (name, item) in enumerate(completion, len(schedule)):
        model.put(index, item, nowait=True) if name == "put_nowait" else model.get(index, nowait=True)

    async def scenario():
        queue, futures, observed = cls(maxsize=maxsize), {}, {}

        def states() -> dict[int, Any]:
            return {**observed, **{index: _state(future) for index, future in futures.items()}}

        def run(index: int, name: str, item: Any) -> None:
            if name == "put":
                futures[index] = gen.convert_yielded(queue.put(item))
            elif name == "get":
                futures[index] = gen.convert_yielded(queue.get())
            else:
                try:
                    value = queue.put_nowait(item) if name == "put_nowait" else queue.get_nowait()
                    observed[index] = ("returned", value)
                except (queues.QueueFull, queues.QueueEmpty) as exc:
                    observed[index] = ("raised", type(exc).__name__)

        for index, (name, item) in enumerate(schedule):
            if name == "turn":
                await _turns(impl, 1)
            else:
                run(index, name, item)
        await _turns(impl, SETTLE)
        drawn = states()
        for index, (name, item) in enumerate(completion, len(schedule)):
            run(index, name, item)
        await _turns(impl, SETTLE)
        return drawn, states(), queue.qsize()

    drawn, completed, qsize = ioloop.call(scenario)
    if drawn == expected_drawn and completed == model.outcome and qsize == 0:
        return
    calls_made = [*schedule, *completion]
    put = [item for name, item in calls_made if name in ("put", "put_nowait")]
    handed = [
        value[1]
        for index, value in sorted(completed.items())
        if calls_made[index][0] in ("get", "get_nowait") and value != "pending" and value[0] == "returned"
    ]
    lost = [item for item in put if item not in handed]
    twice = sorted({item for item in handed if handed.count(item) > 1 or item not in put}, key=repr)
    raise Violation(
        f"{_CLASS[kind]}(maxsize={maxsize}) given the calls {_show(schedule)}, then {_show(completion, len(schedule))} to satisfy "
        "every waiter (a put's item is (priority, call number); 'turn' lets the loop run a callback), did not hand "
        "out every item exactly once, to the get the queue's order gives it to"
        + (f"; items never handed out: {lost}" if lost else "")
        + (f"; items handed out twice or never put: {twice}" if twice else "")
        + ". Shown per call number: its Future's state (or what the nowait call did), after the drawn calls and "
        "after the completing ones, and qsize() at the end.",
        expected=f"{_differences(expected_drawn, drawn)}; then {_differences(model.outcome, completed)}; qsize 0",
        observed=f"{_differences(drawn, expected_drawn)}; then {_differences(completed, model.outcome)}; qsize {qsize}",
    )


def _show(schedule: list[tuple[str, Any]], start: int = 0) -> str:
    """``[#0 put(3, 0), #1 get(), ...]``: calls with their numbers."""
    shown = (f"#{n} {name}{item if item is not None else '()'}" for n, (name, item) in enumerate(schedule, start))
    return "[" + ", ".join(shown) + "]"


def _differences(these: dict[int, Any], others: dict[int, Any]) -> str:
    """``these`` where they differ from ``others`` (every call number of either)."""
    shown = [
        f"#{n}: {these.get(n, 'not made')}" for n in sorted(set(these) | set(others)) if these.get(n) != others.get(n)
    ]
    return "{" + ", ".join(shown) + "}" if shown else "as expected"


# -- locks ----------------------------------------------------------------------------------------

LOCKS = ["lock", "semaphore", "bounded-semaphore"]


def _lock_calls(st: Any) -> Any:
    return st.lists(st.sampled_from(["acquire", "acquire", "release", "turn"]), max_size=24)


#: Tried first, whatever the seed: a release that hands the lock to a waiter, followed in the
#: same loop iteration by an acquire (which must wait); the same across a turn; waiters queued deep.
LOCK_EXAMPLES = [
    {"value": 1, "calls": ["acquire", "acquire", "release", "acquire", "turn", "release"]},
    {"value": 2, "calls": ["acquire", "acquire", "acquire", "turn", "release", "turn", "acquire", "release"]},
    {"value": 1, "calls": ["acquire", "acquire", "acquire", "acquire", "release", "release", "acquire", "release"]},
]


@check("Tornado docs: locks.Lock, locks.Semaphore, locks.BoundedSemaphore (acquire, release)", Level.TORNADO)
@requires("locks", "ioloop", "concurrent", "gen")
@hypothesis_property(
    {"value": lambda st: st.integers(1, 3), "calls": _lock_calls},
    seed=8_2026_1206,
    examples=LOCK_EXAMPLES,
    ci_max_examples=15,
)
@pytest.mark.parametrize("kind", LOCKS)
def test_random_acquires_and_releases_never_exceed_the_bound_nor_lose_a_wakeup(impl, ioloop, kind, value, calls):
    """locks.Semaphore: "A lock that can be acquired a fixed number of times before
    blocking"; ``acquire``: "Decrement the counter. Returns an awaitable. Block if the
    counter is zero and wait for a `.release`"; ``release``: "Increment the counter and wake
    one waiter." locks.Lock: "A lock for coroutines ... Only one coroutine can hold it at a
    time"; its ``release``: "If any coroutines are waiting for `.acquire`, the first in line
    wakes up." Whatever the schedule, no more than the bound hold it at once, every release
    admits the first waiter, and a release is never lost: once every holder released, every
    acquire has been granted. A release is made by a holder (the one that has held longest)."""
    locks, gen = impl.part("locks"), impl.part("gen")
    bound = 1 if kind == "lock" else value
    # The model: who holds (call numbers, in grant order) and who waits.
    holders: collections.deque[int] = collections.deque()
    waiting: collections.deque[int] = collections.deque()
    schedule: list[str] = []
    for name in calls:
        if name == "release" and not holders:
            continue  # only a holder releases
        schedule.append(name)
        if name == "acquire":
            (holders if len(holders) < bound else waiting).append(len(schedule) - 1)
        elif name == "release":
            holders.popleft()
            if waiting:
                holders.append(waiting.popleft())
    expected_drawn = {n: n not in waiting for n, name in enumerate(schedule) if name == "acquire"}
    releases_to_finish = len(holders) + len(waiting)

    def make() -> Any:
        if kind == "lock":
            return locks.Lock()
        return (locks.Semaphore if kind == "semaphore" else locks.BoundedSemaphore)(value)

    async def scenario():
        lock, futures = make(), {}
        for index, name in enumerate(schedule):
            if name == "turn":
                await _turns(impl, 1)
            elif name == "acquire":
                futures[index] = gen.convert_yielded(lock.acquire())
            else:
                lock.release()
        await _turns(impl, SETTLE)
        drawn = {index: future.done() for index, future in futures.items()}
        for _ in range(releases_to_finish):
            lock.release()
            await _turns(impl, 1)
        await _turns(impl, SETTLE)
        return drawn, {index: future.done() for index, future in futures.items()}

    drawn, completed = ioloop.call(scenario)
    if drawn == expected_drawn and all(completed.values()):
        return
    releases = sum(1 for name in schedule if name == "release")
    admitted = sum(drawn.values())
    raise Violation(
        f"a {kind} (bound {bound}) given the calls {_show([(n, None) for n in schedule])} ('turn' lets the loop run a "
        f"callback; each release by the longest holder) "
        + (
            f"admitted {admitted - releases} holders at once"
            if admitted - releases > bound
            else "did not admit exactly the acquires the releases allow, first come first served"
        )
        + (
            "; and after every holder released, some acquires were still waiting (a lost wake-up)"
            if not all(completed.values())
            else ""
        )
        + ". Shown: the acquires granted (call numbers) after the drawn calls, then those still waiting after "
        f"{releases_to_finish} more releases.",
        expected=f"granted {_granted(expected_drawn)}; then none waiting",
        observed=f"granted {_granted(drawn)}; then waiting {[n for n, done in completed.items() if not done] or 'none'}",
    )


def _granted(done: dict[int, bool]) -> list[int]:
    return [n for n, granted in done.items() if granted]


# -- condition ------------------------------------------------------------------------------------


def _condition_calls(st: Any) -> Any:
    call = st.one_of(
        st.tuples(st.just("wait")),
        st.tuples(st.just("notify"), st.integers(1, 3)),
        st.tuples(st.sampled_from(["notify_all", "turn"])),
    )
    return st.lists(call, max_size=24)


#: Tried first, whatever the seed: a notify issued between two waits in one loop iteration
#: (it wakes the first), a notify with nobody waiting (it is not kept for later), notify(n)
#: with fewer than n waiting.
CONDITION_EXAMPLES = [
    {"calls": [("wait",), ("notify", 1), ("wait",), ("turn",), ("wait",)]},
    {"calls": [("notify", 2), ("wait",), ("turn",), ("wait",), ("notify", 1), ("turn",)]},
    {"calls": [("wait",), ("wait",), ("notify", 3), ("wait",), ("notify_all",), ("wait",)]},
]


@check("Tornado docs: locks.Condition (wait, notify, notify_all)", Level.TORNADO)
@requires("locks", "ioloop", "concurrent", "gen")
@hypothesis_property({"calls": _condition_calls}, seed=8_2026_1207, examples=CONDITION_EXAMPLES, ci_max_examples=15)
def test_random_waits_and_notifies_never_lose_a_wakeup(impl, ioloop, calls):
    """locks.Condition: "A condition allows one or more coroutines to wait until notified";
    ``wait``: "Wait for `.notify`. Returns a `.Future` that resolves ``True`` if the condition
    is notified"; ``notify``: "Wake ``n`` waiters"; ``notify_all``: "Wake all waiters." A
    notify wakes the first ``n`` of the coroutines waiting when it is called (a condition
    keeps no notification for later waiters: "the coroutine that is notified ... must have
    been waiting"). Whatever the schedule, exactly those waits resolve to True, none is lost."""
    locks, gen = impl.part("locks"), impl.part("gen")
    waiting: collections.deque[int] = collections.deque()
    woken: set[int] = set()
    for index, call in enumerate(calls):
        if call[0] == "wait":
            waiting.append(index)
        elif call[0] in ("notify", "notify_all"):
            for _ in range(call[1] if call[0] == "notify" else len(waiting)):
                if waiting:
                    woken.add(waiting.popleft())
    expected = {
        index: ("returned", True) if index in woken else "pending"
        for index, call in enumerate(calls)
        if call[0] == "wait"
    }

    async def scenario():
        condition, futures = locks.Condition(), {}
        for index, call in enumerate(calls):
            if call[0] == "turn":
                await _turns(impl, 1)
            elif call[0] == "wait":
                futures[index] = gen.convert_yielded(condition.wait())
            elif call[0] == "notify":
                condition.notify(call[1])
            else:
                condition.notify_all()
        await _turns(impl, SETTLE)
        drawn = {index: _state(future) for index, future in futures.items()}
        condition.notify_all()
        await _turns(impl, SETTLE)
        return drawn, {index: _state(future) for index, future in futures.items()}

    drawn, completed = ioloop.call(scenario)
    if drawn == expected and all(state == ("returned", True) for state in completed.values()):
        return
    raise Violation(
        f"a Condition given the calls {_show([(call[0], call[1:] or None) for call in calls])} ('turn' lets the loop "
        "run a callback) did not wake exactly the waiters each notify was due to wake, the first in line first; "
        "shown per wait (call number): its Future after the drawn calls, then after a final notify_all().",
        expected=f"{_differences(expected, drawn)}; then all ('returned', True)",
        observed=f"{_differences(drawn, expected)}; then {completed}",
    )


# -- event ---------------------------------------------------------------------------------------


def _event_calls(st: Any) -> Any:
    return st.lists(st.sampled_from(["wait", "wait", "set", "clear", "turn"]), max_size=24)


#: Tried first, whatever the seed: a set followed by a clear in the same loop iteration (the
#: waiters were woken by the set), a wait after a clear (it waits), a wait on a set event.
EVENT_EXAMPLES = [
    {"calls": ["wait", "set", "clear", "turn", "wait"]},
    {"calls": ["set", "wait", "clear", "wait", "turn", "set", "clear"]},
    {"calls": ["wait", "turn", "wait", "set", "turn", "clear", "wait", "turn"]},
]


@check("Tornado docs: locks.Event (wait, set, clear)", Level.TORNADO)
@requires("locks", "ioloop", "concurrent", "gen")
@hypothesis_property({"calls": _event_calls}, seed=8_2026_1208, examples=EVENT_EXAMPLES, ci_max_examples=15)
def test_random_waits_sets_and_clears_never_lose_a_wakeup(impl, ioloop, calls):
    """locks.Event: "An event blocks coroutines until its internal flag is set to True";
    ``set``: "Set the internal flag to ``True``. All waiters are awakened. Calling `.wait`
    once the flag is set will not block"; ``clear``: "Reset the internal flag to ``False``.
    Calls to `.wait` will block until `.set` is called"; ``wait``: "Block until the internal
    flag is true." A set wakes every coroutine waiting when it is called, even if a clear
    follows at once; a wait resolves at once while the flag is set. Whatever the schedule,
    exactly those waits resolve, and a final set resolves the rest."""
    locks, gen = impl.part("locks"), impl.part("gen")
    flag, waiting, woken = False, [], set()
    for index, name in enumerate(calls):
        if name == "wait":
            (woken.add(index) if flag else waiting.append(index))
        elif name == "set":
            flag = True
            woken.update(waiting)
            waiting.clear()
        elif name == "clear":
            flag = False
    expected = {index: index in woken for index, name in enumerate(calls) if name == "wait"}

    async def scenario():
        event, futures = locks.Event(), {}
        for index, name in enumerate(calls):
            if name == "turn":
                await _turns(impl, 1)
            elif name == "wait":
                futures[index] = gen.convert_yielded(event.wait())
            else:
                getattr(event, name)()
        await _turns(impl, SETTLE)
        drawn = {index: future.done() for index, future in futures.items()}
        event.set()
        await _turns(impl, SETTLE)
        return drawn, {index: future.done() for index, future in futures.items()}

    drawn, completed = ioloop.call(scenario)
    if drawn == expected and all(completed.values()):
        return
    raise Violation(
        f"an Event given the calls {_show([(name, None) for name in calls])} ('turn' lets the loop run a callback) "
        "did not resolve exactly the waits a set (or a set flag) was due to resolve; shown: the waits resolved "
        "(call numbers) after the drawn calls, then those still waiting after a final set().",
        expected=f"resolved {_granted(expected)}; then none waiting",
        observed=f"resolved {_granted(drawn)}; then waiting {[n for n, done in completed.items() if not done] or 'none'}",
    )
