"""Non-blocking server behaviour: what Tornado exists for.

Reference: Tornado docs, "Asynchronous and non-Blocking I/O"
(https://www.tornadoweb.org/en/stable/guide/async.html) and the guide "Queue example" /
"Running in the background" (https://www.tornadoweb.org/en/stable/guide/coroutines.html).

Timing is judged by ratios against a baseline measured in the same check, with margins
wide enough for a loaded machine; orders are judged where an order says it all.
"""

from __future__ import annotations

import threading
import time

import anyio
import pytest

from conformance import Level, Timeout, Trace, check, requires

pytestmark = [pytest.mark.coroutines, requires("web", "httpserver", "ioloop", "gen", "concurrent")]

_CONCURRENT = 6
_DELAY = 0.1


@check("Tornado docs: gen.sleep; guide: Asynchronous handlers, Asynchronous and non-Blocking I/O", Level.MUST)
async def test_sleeping_requests_are_served_concurrently(impl, server, http):
    """gen.sleep: "When used with ``yield`` in a coroutine, this is a non-blocking analogue to
    `time.sleep` (which should not be used in coroutines because it is blocking)"; the guide,
    "Asynchronous handlers": the HTTP verb methods "may be overridden as coroutines to make
    the handler asynchronous", and "An **asynchronous** function returns before it is
    finished" ("Asynchronous and non-Blocking I/O"). N concurrent requests to a handler that awaits
    ``gen.sleep(d)`` must overlap: together they take about one request's time, far below
    N times it. The baseline is one such request, measured in the same check."""
    web, gen = impl.part("web"), impl.part("gen")

    class Sleeper(web.RequestHandler):
        async def get(self, delay):
            await gen.sleep(float(delay))
            self.write("slept")

    srv = server.serve([(r"/sleep/([0-9.]+)", Sleeper)])
    # Warm up (connections, imports) through the same handler and gen.sleep, without the wait.
    await http.request(srv, "GET", "/sleep/0")
    started = time.monotonic()
    await http.request(srv, "GET", f"/sleep/{_DELAY}")
    baseline = time.monotonic() - started

    statuses = []

    async def one():
        response = await http.request(srv, "GET", f"/sleep/{_DELAY}")
        statuses.append(response.status)

    started = time.monotonic()
    async with anyio.create_task_group() as group:
        for _ in range(_CONCURRENT):
            group.start_soon(one)
    together = time.monotonic() - started
    ratio = together / baseline
    assert statuses == [200] * _CONCURRENT and ratio < _CONCURRENT / 2, (
        f"{_CONCURRENT} concurrent requests to a handler awaiting gen.sleep({_DELAY}) took {together:.3f}s "
        f"together, {ratio:.1f} times one such request ({baseline:.3f}s; statuses {statuses!r}); expected well "
        f"under {_CONCURRENT / 2:g} times (serving them one after another takes {_CONCURRENT} times): a "
        "coroutine waiting in gen.sleep must not hold up the other requests."
    )


@check("Tornado docs: IOLoop.run_in_executor; guide: Asynchronous and non-Blocking I/O", Level.MUST)
@requires(features=["run_in_executor"])
async def test_work_offloaded_with_run_in_executor_does_not_stall_other_requests(
    impl, server, http, conformance_timeout
):
    """IOLoop.run_in_executor "Runs a function in a ``concurrent.futures.Executor``"; the
    coroutines guide: blocking work belongs there, so the loop keeps serving. A request
    whose handler waits in the executor until a second request has been answered must not
    stop that second request from being answered."""
    web = impl.part("web")
    IOLoop = impl.part("ioloop").IOLoop
    in_executor, fast_answered = threading.Event(), threading.Event()

    def blocking_work():
        in_executor.set()
        return fast_answered.wait(conformance_timeout)

    class Slow(web.RequestHandler):
        async def get(self):
            released = await IOLoop.current().run_in_executor(None, blocking_work)
            self.write("released" if released else "not released")

    class Fast(web.RequestHandler):
        def get(self):
            self.write("fast")

    srv = server.serve([("/slow", Slow), ("/fast", Fast)])
    order = Trace()
    slow_body = []

    async def slow():
        response = await http.request(srv, "GET", "/slow")
        slow_body.append(response.text)
        order.add("slow answered")

    async with anyio.create_task_group() as group:
        group.start_soon(slow)
        started = await anyio.to_thread.run_sync(in_executor.wait, conformance_timeout)
        fast = await http.request(srv, "GET", "/fast")
        order.add(f"fast answered ({fast.status})")
        fast_answered.set()
    assert started, "the /slow handler's run_in_executor function never started"
    assert slow_body == ["released"], (
        f"a handler waited in IOLoop.run_in_executor for a function that blocks until another request is "
        f"answered; the function gave up after {conformance_timeout:g}s (the handler answered {slow_body!r}): "
        "the other request was not served meanwhile. The function must run off the loop thread, so the loop "
        "keeps serving other requests."
    )
    order.assert_equal(
        ["fast answered (200)", "slow answered"],
        "a handler waited in IOLoop.run_in_executor for a function that blocks until another request is "
        f"answered (it returned {slow_body!r}); the other request must be served meanwhile, because the "
        "function runs off the loop thread. The responses came in this order:",
    )


@check("Tornado docs: guide: Asynchronous handlers; locks.Event", Level.MUST)
async def test_long_poll_does_not_delay_short_requests(impl, server, http):
    """The guide, "Asynchronous handlers": the HTTP verb methods "may be overridden as
    coroutines to make the handler asynchronous", with long polling as its example;
    locks.Event: "An event blocks coroutines until its internal flag is set to True" (the
    waiting coroutine, not the loop). A request that waits for an event (long polling) must
    not hold up short requests: they are answered while it waits. (The guide's introduction,
    Tornado is "ideal for long polling", is description, not the rule relied on.)"""
    web, locks = impl.part("web"), impl.part("locks")
    Future = impl.part("concurrent").Future
    if locks is not None:
        release = locks.Event()
        wait_for_release, set_release = release.wait, release.set
    else:
        # Made on the implementation's loop (a Future made on the kit's thread may belong to
        # no loop, or another one); wrapped in a list so that the call does not await it.
        (waiter,) = server.call(lambda: [Future()])
        wait_for_release, set_release = (lambda: waiter), (lambda: waiter.set_result(None))
    polling = Trace()

    class Poll(web.RequestHandler):
        async def get(self):
            polling.add("poll waiting")
            await wait_for_release()
            self.write("event")

    class Short(web.RequestHandler):
        def get(self):
            self.write("short")

    srv = server.serve([("/poll", Poll), ("/short", Short)])
    order = Trace()

    async def poll():
        try:
            response = await http.request(srv, "GET", "/poll")
        except Timeout:
            order.add("poll timed out")
        else:
            order.add(f"poll answered ({response.text})")

    async with anyio.create_task_group() as group:
        group.start_soon(poll)
        await anyio.to_thread.run_sync(polling.wait_for, 1, http.timeout, "start the long poll")
        try:
            for _ in range(3):
                short = await http.request(srv, "GET", "/short")
                order.add(f"short answered ({short.text})")
        except Timeout:
            order.add("short request timed out")
        finally:
            await anyio.to_thread.run_sync(server.call, set_release)
    order.assert_equal(
        ["short answered (short)"] * 3 + ["poll answered (event)"],
        "a long-poll request waited for an event while three short requests were made; they must be "
        "answered while it waits (the event is set only after them). The responses came in this order:",
    )
