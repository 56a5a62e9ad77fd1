"""IOLoop.add_callback: running code on the loop, from the loop and from other threads.

Reference: Tornado docs, ``tornado.ioloop.IOLoop.add_callback``
(https://www.tornadoweb.org/en/stable/ioloop.html#tornado.ioloop.IOLoop.add_callback).
"""

from __future__ import annotations

import threading

import pytest

from conformance import Level, Violation, check, requires

pytestmark = [pytest.mark.coroutines, requires("ioloop", "concurrent")]

_CALLBACKS = 8
_THREADS = 4
_PER_THREAD = 25


@check("Tornado docs: IOLoop.add_callback", Level.TORNADO)
def test_add_callback_runs_callbacks_in_fifo_order(impl, ioloop):
    """IOLoop.add_callback "Calls the given callback on the next I/O loop iteration":
    never inside the call itself, and on the loop's thread. Tornado runs the callbacks
    added from the loop thread in the order they were added; code that queues steps with
    add_callback relies on it."""
    Future = impl.part("concurrent").Future
    IOLoop = impl.part("ioloop").IOLoop

    async def scenario():
        loop = IOLoop.current()
        ran, threads, all_ran = [], set(), Future()

        def record(number):
            ran.append(number)
            threads.add(threading.get_ident())
            if len(ran) == _CALLBACKS:
                all_ran.set_result(None)

        for number in range(_CALLBACKS):
            loop.add_callback(record, number)
        ran_inside_add_callback = list(ran)
        await all_ran
        return ran, ran_inside_add_callback, threads, threading.get_ident()

    ran, early, threads, loop_thread = ioloop.call(scenario)
    assert not early, (
        f"callbacks {early!r} ran inside IOLoop.add_callback itself: Tornado documents that add_callback calls "
        "the callback on the next I/O loop iteration, so the code that scheduled it finishes first."
    )
    expected = list(range(_CALLBACKS))
    if ran != expected:
        raise Violation(
            f"{_CALLBACKS} callbacks added with IOLoop.add_callback from the loop thread did not run in the order "
            "they were added: Tornado runs callbacks first in, first out, and code that splits work into successive "
            "add_callback steps relies on it.",
            expected=expected,
            observed=ran,
        )
    assert threads == {loop_thread}, (
        "callbacks added with IOLoop.add_callback ran on a thread other than the loop's: the callback must run "
        "on the IOLoop's own thread."
    )


@check("Tornado docs: IOLoop.add_callback", Level.MUST)
def test_add_callback_from_other_threads_runs_each_once_on_loop_thread(impl, ioloop, conformance_timeout):
    """IOLoop.add_callback: "It is safe to call this method from any thread at any time
    [...] ``add_callback()`` may be used to transfer control from other threads to the
    ``IOLoop``'s thread." Several threads add callbacks while the loop thread is busy
    (it waits for those threads), so the callbacks pile up; each must then run exactly
    once, on the loop thread."""
    IOLoop = impl.part("ioloop").IOLoop
    expected = {(thread, number) for thread in range(_THREADS) for number in range(_PER_THREAD)}
    lock = threading.Lock()
    runs: list[tuple[int, int, int]] = []
    all_ran = threading.Event()

    def record(thread, number):
        with lock:
            runs.append((thread, number, threading.get_ident()))
            if len(runs) >= len(expected):
                all_ran.set()

    def scenario():
        loop = IOLoop.current()

        def add_from_thread(thread):
            for number in range(_PER_THREAD):
                loop.add_callback(record, thread, number)

        workers = [threading.Thread(target=add_from_thread, args=(t,), name=f"adder-{t}") for t in range(_THREADS)]
        for worker in workers:
            worker.start()
        for worker in workers:  # block the loop thread: nothing added can run before this returns
            worker.join(conformance_timeout)
        return threading.get_ident()

    loop_thread = ioloop.call(scenario)
    all_ran.wait(conformance_timeout)
    ioloop.barrier()
    with lock:
        seen = list(runs)
    calls = [(thread, number) for thread, number, _ in seen]
    missing = sorted(expected - set(calls))
    repeated = sorted({call for call in calls if calls.count(call) > 1})
    assert not missing and not repeated, (
        f"{_THREADS} threads each added {_PER_THREAD} callbacks with IOLoop.add_callback; "
        f"{len(seen)} runs were observed, {len(missing)} callbacks never ran (e.g. {missing[:3]!r}) and "
        f"{len(repeated)} ran more than once (e.g. {repeated[:3]!r}): Tornado documents add_callback as safe "
        "to call from any thread, so every callback added must run, exactly once."
    )
    elsewhere = sorted({ident for _, _, ident in seen} - {loop_thread})
    assert not elsewhere, (
        f"callbacks added from other threads with IOLoop.add_callback ran on {len(elsewhere)} thread(s) other "
        "than the loop's: add_callback exists to transfer control to the IOLoop's thread."
    )
