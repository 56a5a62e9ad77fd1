"""RequestHandler entry points: initialize, prepare, the HTTP verb method, on_finish.

Reference: Tornado docs, "Entry points" (https://www.tornadoweb.org/en/stable/web.html#entry-points)
and the user's guide, "Overriding RequestHandler methods"
(https://www.tornadoweb.org/en/stable/guide/structure.html#overriding-requesthandler-methods).
"""

from __future__ import annotations

import pytest

from conformance import Level, Trace, Violation, check, requires

pytestmark = [pytest.mark.lifecycle, requires("web", "httpserver")]

GREETING = "hello from initialize"


def _sync_get(impl, trace):
    class Handler(_traced_base(impl, trace)):
        def prepare(self):
            trace.add("prepare")

        def get(self):
            trace.add("get")
            self.write(self.greeting)

    return Handler


def _async_get(impl, trace):
    gen = impl.part("gen")

    class Handler(_traced_base(impl, trace)):
        def prepare(self):
            trace.add("prepare")

        async def get(self):
            trace.add("get: before await")
            await gen.sleep(0)  # a real suspension: the loop runs other callbacks here
            trace.add("get: after await")
            self.write(self.greeting)

    return Handler


def _async_prepare(impl, trace):
    gen = impl.part("gen")

    class Handler(_traced_base(impl, trace)):
        async def prepare(self):
            trace.add("prepare: before await")
            await gen.sleep(0)
            trace.add("prepare: after await")

        def get(self):
            trace.add("get")
            self.write(self.greeting)

    return Handler


def _coroutine_get(impl, trace):
    gen = impl.part("gen")

    class Handler(_traced_base(impl, trace)):
        def prepare(self):
            trace.add("prepare")

        @gen.coroutine
        def get(self):
            trace.add("get: before yield")
            yield gen.sleep(0)
            trace.add("get: after yield")
            self.write(self.greeting)

    return Handler


def _coroutine_prepare(impl, trace):
    gen = impl.part("gen")

    class Handler(_traced_base(impl, trace)):
        @gen.coroutine
        def prepare(self):
            trace.add("prepare: before yield")
            yield gen.sleep(0)
            trace.add("prepare: after yield")

        def get(self):
            trace.add("get")
            self.write(self.greeting)

    return Handler


def _async_prepare_async_get(impl, trace):
    gen = impl.part("gen")

    class Handler(_traced_base(impl, trace)):
        async def prepare(self):
            trace.add("prepare: before await")
            await gen.sleep(0)
            trace.add("prepare: after await")

        async def get(self):
            trace.add("get: before await")
            await gen.sleep(0)
            trace.add("get: after await")
            self.write(self.greeting)

    return Handler


def _traced_base(impl, trace):
    web = impl.part("web")

    class Traced(web.RequestHandler):
        def initialize(self, greeting):
            trace.add(f"initialize(greeting={greeting!r})")
            self.greeting = greeting

        def on_finish(self):
            trace.add("on_finish")

    return Traced


_INIT = f"initialize(greeting={GREETING!r})"
_ASYNC = requires("web", "httpserver", "gen")


@check("Tornado docs: RequestHandler entry points", Level.MUST)
@pytest.mark.parametrize(
    ("make_handler", "expected"),
    [
        pytest.param(_sync_get, [_INIT, "prepare", "get", "on_finish"], id="sync-get"),
        pytest.param(
            _async_get,
            [_INIT, "prepare", "get: before await", "get: after await", "on_finish"],
            id="async-get",
            marks=_ASYNC,
        ),
        pytest.param(
            _async_prepare,
            [_INIT, "prepare: before await", "prepare: after await", "get", "on_finish"],
            id="async-prepare",
            marks=_ASYNC,
        ),
        pytest.param(
            _coroutine_get,
            [_INIT, "prepare", "get: before yield", "get: after yield", "on_finish"],
            id="gen-coroutine-get",
            marks=_ASYNC,
        ),
        pytest.param(
            _coroutine_prepare,
            [_INIT, "prepare: before yield", "prepare: after yield", "get", "on_finish"],
            id="gen-coroutine-prepare",
            marks=_ASYNC,
        ),
        pytest.param(
            _async_prepare_async_get,
            [
                _INIT,
                "prepare: before await",
                "prepare: after await",
                "get: before await",
                "get: after await",
                "on_finish",
            ],
            id="async-prepare-async-get",
            marks=_ASYNC,
        ),
    ],
)
async def test_handler_hooks_run_in_documented_order(impl, server, http, make_handler, expected):
    """Tornado's guide, "Overriding RequestHandler methods": "initialize() is called with the
    initialization arguments from the Application configuration", then "prepare() is called",
    then "One of the HTTP methods is called", and "When the request is finished, on_finish() is
    called". RequestHandler.prepare: "If this method returns an Awaitable execution will not
    proceed until the Awaitable is done"; the verb methods "can be made asynchronous with the
    async def keyword or with the gen.coroutine decorator" (the guide's "Asynchronous handlers")."""
    trace = Trace()
    srv = server.serve([("/", make_handler(impl, trace), {"greeting": GREETING})])
    response = await http.request(srv, "GET", "/")
    server.barrier()  # on_finish may run just after the response bytes leave
    trace.assert_equal(
        expected,
        "Tornado calls initialize() with the URLSpec's keyword arguments, then prepare() (awaiting it "
        "when it returns an awaitable), then the HTTP verb method (awaiting it likewise), then on_finish() "
        "once the response is finished; the implementation called the handler's hooks in another order "
        "or skipped one.",
    )
    if not (response.status == 200 and response.body == GREETING.encode()):
        raise Violation(
            "GET / did not answer with the greeting that initialize() received.",
            expected=f"200 with {GREETING.encode()!r}",
            observed=f"{response.describe()} with body {response.body[:200]!r}",
        )
