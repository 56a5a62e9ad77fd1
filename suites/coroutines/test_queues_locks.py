"""Coordination between coroutines: tornado.queues and tornado.locks.

Reference: Tornado docs, ``tornado.queues`` (https://www.tornadoweb.org/en/stable/queues.html)
and ``tornado.locks`` (https://www.tornadoweb.org/en/stable/locks.html).

Every wait here ends by an event of the scenario itself; the timeouts given to ``get``
and ``put`` are inputs whose expiry is the behaviour judged.
"""

from __future__ import annotations

import datetime

import pytest

from conformance import Level, Violation, check, requires

pytestmark = [pytest.mark.coroutines]


def _needs(part):
    # One requires() per check (the closest mark wins), naming every part it uses.
    return requires(part, "ioloop", "concurrent", "gen")


def _turns(impl, count):
    Future = impl.part("concurrent").Future
    loop = impl.part("ioloop").IOLoop.current()

    async def turns():
        for _ in range(count):  # loop turns, not time
            step = Future()
            loop.add_callback(step.set_result, None)
            await step

    return turns()


@check("Tornado docs: queues.Queue", Level.MUST)
@_needs("queues")
def test_queue_put_waits_while_full_and_items_come_out_in_order(impl, ioloop):
    """queues.Queue: "Coordinate producer and consumer coroutines. If maxsize is 0 (the
    default) the queue size is unbounded"; ``put``: "Put an item into the queue, perhaps
    waiting until there is room"; ``get``: "Remove and return an item from the queue."
    Items leave in the order they were put: the Queue's documented example prints them so,
    and LifoQueue ("retrieves the most recently put items first") and PriorityQueue are the
    documented alternatives to that order. A producer puts four items into a queue of
    maxsize 2: the third put waits until the consumer takes one."""
    queues = impl.part("queues")

    async def scenario():
        queue = queues.Queue(maxsize=2)
        puts = [queue.put(f"item {n}") for n in range(4)]
        await _turns(impl, 3)
        pending_when_full = [not p.done() for p in puts]
        got = [await queue.get()]
        await _turns(impl, 3)
        third_done_after_one_get = puts[2].done()
        got += [await queue.get() for _ in range(3)]
        return pending_when_full, third_done_after_one_get, got

    pending, third_after_get, got = ioloop.call(scenario)
    if pending != [False, False, True, True]:
        raise Violation(
            "four puts into a Queue(maxsize=2) with no consumer did not leave the first two done and the last two "
            "waiting: Tornado documents that put waits until there is room.",
            expected="pending flags [False, False, True, True]",
            observed=f"pending flags {pending!r}",
        )
    assert third_after_get and got == [f"item {n}" for n in range(4)], (
        f"after one get the third put was {'done' if third_after_get else 'still waiting'} and the consumer got "
        f"{got!r}: a get makes room for one waiting put, and items come out in the order they were put."
    )


@check("Tornado docs: queues.Queue.get, Queue.put", Level.MUST)
@_needs("queues")
def test_queue_get_and_put_time_out(impl, ioloop):
    """Queue.get: "Returns an awaitable which resolves once an item is available, or raises
    `tornado.util.TimeoutError` after a timeout." Queue.put: "Returns a Future, which raises
    `tornado.util.TimeoutError` after a timeout." """
    queues, gen = impl.part("queues"), impl.part("gen")
    timeout_error = getattr(gen, "TimeoutError", TimeoutError)

    async def scenario():
        observed = {}
        empty, full = queues.Queue(), queues.Queue(maxsize=1)
        full.put_nowait("occupying")
        for name, call in (
            ("get on an empty queue", lambda: empty.get(timeout=datetime.timedelta(milliseconds=10))),
            ("put on a full queue", lambda: full.put("more", timeout=datetime.timedelta(milliseconds=10))),
        ):
            try:
                observed[name] = ("returned", await call())
            except Exception as exc:
                observed[name] = ("raised", exc)
        return observed

    observed = ioloop.call(scenario)
    wrong = {k: v for k, v in observed.items() if not (v[0] == "raised" and isinstance(v[1], timeout_error))}
    if wrong:
        raise Violation(
            "Queue operations with a 10 ms timeout that could not complete did not raise TimeoutError after their "
            "timeout.",
            expected=f"{timeout_error.__module__}.{timeout_error.__qualname__}",
            observed=wrong,
        )


@check("Tornado docs: queues.Queue.join, Queue.task_done", Level.MUST)
@_needs("queues")
def test_queue_join_waits_until_every_item_is_marked_done(impl, ioloop):
    """Queue.task_done: "Indicate that a formerly enqueued task is complete. Used by queue
    consumers. For each get used to fetch a task, a subsequent call to task_done tells the
    queue that the processing on the task is complete." Queue.join: "Block until all items
    in the queue are processed." """
    queues = impl.part("queues")

    async def scenario():
        queue = queues.Queue()
        for n in range(3):
            queue.put_nowait(n)
        joined = queue.join()
        states = []
        for _ in range(3):
            await queue.get()
            await _turns(impl, 2)
            states.append(joined.done())
            queue.task_done()
        await _turns(impl, 2)
        states.append(joined.done())
        return states

    states = ioloop.call(scenario)
    if states != [False, False, False, True]:
        raise Violation(
            "Queue.join() over three items, checked before each task_done and after the last, did not resolve once "
            "every item fetched had been marked done with task_done (not when the queue is merely empty).",
            expected="done flags [False, False, False, True]",
            observed=f"done flags {states!r}",
        )


@check("Tornado docs: locks.Condition.notify", Level.TORNADO)
@_needs("locks")
def test_condition_notify_wakes_waiters_in_the_order_they_waited(impl, ioloop):
    """locks.Condition: "A condition allows one or more coroutines to wait until notified.
    Like a standard `threading.Condition`, but does not need an underlying lock"; ``notify``
    "Wake ``n`` waiters." Tornado wakes them first come, first served, as threading does."""
    locks = impl.part("locks")

    async def scenario():
        condition, woken = locks.Condition(), []
        waiters = []
        for name in ("first", "second", "third"):
            waiter = condition.wait()
            waiter.add_done_callback(lambda _f, name=name: woken.append(name))
            waiters.append(waiter)
        condition.notify(2)
        await _turns(impl, 3)
        condition.notify_all()
        for waiter in waiters:
            await waiter
        await _turns(impl, 3)  # let the done callbacks of the last waiter run
        return list(woken)

    woken = ioloop.call(scenario)
    if woken != ["first", "second", "third"]:
        raise Violation(
            "three coroutines waited on a Condition; notify(2) then notify_all() did not wake the waiters that "
            "waited longest first.",
            expected=["first", "second", "third"],
            observed=woken,
        )


@check("Tornado docs: locks.Lock, locks.Semaphore, locks.Event", Level.MUST)
@_needs("locks")
def test_lock_semaphore_and_event_admit_as_documented(impl, ioloop):
    """locks.Lock: "A Lock begins unlocked, and `acquire` locks it immediately. While it is
    locked, a coroutine that yields `acquire` waits until another coroutine calls `release`."
    locks.Semaphore: "A lock that can be acquired a fixed number of times before blocking."
    locks.Event: "An event blocks coroutines until its internal flag is set to True." """
    locks = impl.part("locks")

    async def scenario():
        lock, semaphore, event = locks.Lock(), locks.Semaphore(2), locks.Event()
        first = lock.acquire()
        second = lock.acquire()
        await _turns(impl, 2)
        facts = {"lock: second acquire waits while held": not second.done()}
        lock.release()
        await second
        facts["lock: second acquire succeeds after release"] = second.done()
        lock.release()
        holders = [semaphore.acquire() for _ in range(3)]
        await _turns(impl, 2)
        facts["semaphore(2): two admitted, third waits"] = [h.done() for h in holders] == [True, True, False]
        semaphore.release()
        await holders[2]
        waiting = event.wait()
        await _turns(impl, 2)
        facts["event: wait blocks until set"] = not waiting.done()
        event.set()
        await waiting
        facts["event: set wakes the waiter"] = waiting.done()
        del first
        return facts

    facts = ioloop.call(scenario)
    wrong = [fact for fact, ok in facts.items() if not ok]
    assert not wrong, f"these documented behaviours of tornado.locks did not hold: {wrong!r}."
