"""FallbackHandler and WSGIContainer: on_finish runs once the fallback has answered, and a
WSGIContainer given an executor runs the WSGI application there.

Reference: Tornado docs, web.FallbackHandler and RequestHandler.on_finish
(https://www.tornadoweb.org/en/stable/web.html#tornado.web.FallbackHandler), wsgi.WSGIContainer
(https://www.tornadoweb.org/en/stable/wsgi.html#tornado.wsgi.WSGIContainer), and the Tornado
5.1.0 and 6.3.0 release notes.
"""

from __future__ import annotations

import concurrent.futures
import inspect
import threading

import pytest

from conformance import Level, Trace, Violation, check, not_provided, requires

from ._support import summary

pytestmark = [pytest.mark.lifecycle, requires("web", "httpserver")]


@check(
    "Tornado 5.1.0 release notes (tornado.web); Tornado docs: web.FallbackHandler, RequestHandler.on_finish",
    Level.TORNADO,
)
async def test_fallback_handler_calls_on_finish_once(impl, server, http):
    """RequestHandler.on_finish: "Called after the end of a request. Override this method to
    perform cleanup, logging, etc." The 5.1.0 release notes: "FallbackHandler now calls
    on_finish for the benefit of subclasses that may have overridden it." A FallbackHandler
    subclass overriding on_finish sees it called once per request it handed to the fallback
    (Tornado calls it as soon as the request is handed over, so the order relative to the
    fallback's own handler is not judged)."""
    web = impl.part("web")
    trace = Trace()

    class Inner(web.RequestHandler):
        def get(self):
            self.write("from the fallback")

    class Counting(web.FallbackHandler):
        def on_finish(self):
            trace.add(f"on_finish {self.request.path}")

    fallback = web.Application([(r"/.*", Inner)])
    srv = server.serve([(r"/.*", Counting, {"fallback": fallback})])
    observed = []
    for path in ("/a", "/b"):
        response = await http.request(srv, "GET", path)
        observed.append(summary(response))
    server.barrier()
    if observed != ["200 OK, body b'from the fallback'"] * 2:
        raise Violation(
            "a FallbackHandler wrapping an Application did not answer with the fallback's response.",
            expected="200 OK, body b'from the fallback' (twice)",
            observed=repr(observed),
        )
    trace.assert_equal(
        ["on_finish /a", "on_finish /b"],
        "FallbackHandler must call on_finish once for each request it handed to the fallback. What ran:",
    )


def _thread_name_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return [threading.current_thread().name.encode("utf-8")]


@check("Tornado 6.3.0 release notes (tornado.wsgi); Tornado docs: wsgi.WSGIContainer (executor)", Level.TORNADO)
@requires("web", "httpserver", "wsgi")
async def test_wsgi_container_runs_the_application_on_its_executor(impl, server, http):
    """WSGIContainer: "If the executor argument is provided, the WSGI application will be
    executed on that executor. This must be an instance of concurrent.futures.Executor,
    typically a ThreadPoolExecutor" (new in 6.3: "WSGIContainer now supports running the
    application in a ThreadPoolExecutor so the event loop is no longer blocked"). Behind a
    FallbackHandler, the WSGI application runs on a thread of the given pool, not on the event
    loop's thread."""
    web, wsgi = impl.part("web"), impl.part("wsgi")
    if "executor" not in inspect.signature(wsgi.WSGIContainer).parameters:
        not_provided(f"{impl.name}'s WSGIContainer takes no executor (before Tornado 6.3)")
    loop_thread = Trace()

    class Native(web.RequestHandler):
        def get(self):
            loop_thread.add(threading.current_thread().name)
            self.write("native")

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="kit-wsgi-pool")
    try:
        container = wsgi.WSGIContainer(_thread_name_app, executor=pool)
        srv = server.serve([(r"/native", Native), (r".*", web.FallbackHandler, {"fallback": container})])
        await http.request(srv, "GET", "/native")
        response = await http.request(srv, "GET", "/wsgi")
    finally:
        pool.shutdown(wait=False)
    ran_on = response.body.decode("utf-8", "replace")
    if not (response.status == 200 and ran_on.startswith("kit-wsgi-pool")):
        raise Violation(
            "WSGIContainer(app, executor=pool) did not run the WSGI application on the pool: a blocking WSGI "
            "application then stops the event loop, and every other request with it.",
            expected="200, the application on a 'kit-wsgi-pool' thread",
            observed=f"{response.describe()}, the application on thread {ran_on!r} (the loop's thread is "
            f"{loop_thread.events[0] if loop_thread.events else '?'!r})",
        )
