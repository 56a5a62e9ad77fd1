"""Non-blocking server behaviour: what Tornado exists for.

Reference: Tornado docs, "Asynchronous and non-Blocking I/O"
(https://www.tornadoweb.org/en/stable/guide/async.html) and the guide "Queue example" /
"Running in the background" (https://www.tornadoweb.org/en/stable/guide/coroutines.html).

Concurrency is judged by events (how many requests reached their handlers at once) and
orders, never by elapsed time.
"""

from __future__ import annotations

import threading
import time

import anyio
import pytest

from conformance import Level, Timeout, Trace, Violation, check, requires

pytestmark = [pytest.mark.coroutines, requires("web", "httpserver", "ioloop", "gen", "concurrent")]

_CONCURRENT = 6


@check("Tornado docs: gen.sleep; guide: Asynchronous handlers, Asynchronous and non-Blocking I/O", Level.MUST)
async def test_sleeping_requests_are_served_concurrently(impl, server, http, conformance_timeout):
    """gen.sleep: "When used with ``yield`` in a coroutine, this is a non-blocking analogue to
    `time.sleep` (which should not be used in coroutines because it is blocking)"; the guide,
    "Asynchronous handlers": the HTTP verb methods "may be overridden as coroutines to make
    the handler asynchronous", and "An **asynchronous** function returns before it is
    finished" ("Asynchronous and non-Blocking I/O").

    N requests are sent at once to a handler that waits, in short ``gen.sleep`` steps, until
    all N have arrived, and answers how many it saw. While one request sleeps, the others
    must be read and reach their handlers: every answer is N. A sleep that held the loop (or
    a server that served one request at a time) leaves the first request alone until its
    patience runs out, and it answers 1. Judged by what the handlers saw, never by how long
    anything took; the patience only bounds a broken implementation's run."""
    web, gen = impl.part("web"), impl.part("gen")
    patience = conformance_timeout / 2
    arrived: list[int] = []
    gave_up: list[bool] = []  # once one handler gave up, the others answer at once

    class Sleeper(web.RequestHandler):
        async def get(self):
            arrived.append(1)
            give_up = time.monotonic() + patience
            while len(arrived) < _CONCURRENT and not gave_up and time.monotonic() < give_up:
                await gen.sleep(0.005)
            if len(arrived) < _CONCURRENT:
                gave_up.append(True)
            self.write(str(len(arrived)))

    srv = server.serve([("/sleep", Sleeper)])
    answers: list[str] = []

    async def one():
        response = await http.request(srv, "GET", "/sleep")
        answers.append(f"{response.status} {response.text}")
        if response.text != str(_CONCURRENT):
            group.cancel_scope.cancel()  # the first lonely answer says it all

    async with anyio.create_task_group() as group:
        for _ in range(_CONCURRENT):
            group.start_soon(one)
    if len(answers) != _CONCURRENT or any(a != f"200 {_CONCURRENT}" for a in answers):
        raise Violation(
            f"{_CONCURRENT} requests sent at once to a handler that sleeps in gen.sleep steps until all "
            f"{_CONCURRENT} have arrived: a request waited {patience:g}s without the others reaching their "
            "handlers; a coroutine waiting in gen.sleep must not hold up the other requests.",
            expected=f"every answer '200 {_CONCURRENT}' (all {_CONCURRENT} handlers running at once)",
            observed=f"answers (status, requests the handler saw) {answers!r}",
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
