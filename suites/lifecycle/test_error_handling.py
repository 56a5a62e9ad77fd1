"""Uncaught exceptions become an error page by write_error(), then on_finish() runs.

Reference: Tornado docs, RequestHandler.write_error and send_error
(https://www.tornadoweb.org/en/stable/web.html#output), HTTPError
(https://www.tornadoweb.org/en/stable/web.html#tornado.web.HTTPError), RequestHandler.on_finish
(https://www.tornadoweb.org/en/stable/web.html#entry-points).
"""

from __future__ import annotations

import pytest

from conformance import Level, Trace, Violation, check, requires

from ._support import COROUTINE_PARTS, STYLES, styled, summary

pytestmark = [pytest.mark.lifecycle, requires("web", "httpserver")]


def _raise_in_get(web, trace):
    class Handler(_traced_base(web, trace)):
        def get(self):
            trace.add("get: raise ZeroDivisionError")
            self.write("partial output that the error page replaces")
            1 / 0  # noqa: B018 - the uncaught exception under test

    return Handler


def _http_error_in_prepare(web, trace):
    class Handler(_traced_base(web, trace)):
        def prepare(self):
            trace.add("prepare: raise HTTPError(403)")
            raise web.HTTPError(403)

        def get(self):
            trace.add("get")

    return Handler


def _traced_base(web, trace):
    class Traced(web.RequestHandler):
        def write_error(self, status_code, **kwargs):
            exc_info = kwargs.get("exc_info")
            name = type(exc_info[1]).__name__ if exc_info else None
            trace.add(f"write_error({status_code}, exc_info={name})")
            self.finish(f"custom error page {status_code}")

        def on_finish(self):
            trace.add("on_finish")

    return Traced


@check("Tornado docs: RequestHandler.write_error; guide: Error Handling", Level.MUST)
@pytest.mark.parametrize(
    ("make_handler", "status", "expected"),
    [
        pytest.param(
            _raise_in_get,
            500,
            ["get: raise ZeroDivisionError", "write_error(500, exc_info=ZeroDivisionError)", "on_finish"],
            id="exception-in-get",
        ),
        pytest.param(
            _http_error_in_prepare,
            403,
            ["prepare: raise HTTPError(403)", "write_error(403, exc_info=HTTPError)", "on_finish"],
            id="http-error-in-prepare",
        ),
    ],
)
async def test_uncaught_exception_is_rendered_by_write_error_before_on_finish(
    impl, server, http, make_handler, status, expected
):
    """RequestHandler.write_error: "If this error was caused by an uncaught exception (including
    HTTPError), an exc_info triple will be available as kwargs["exc_info"]"; send_error: "If output
    has been written but not yet flushed, it will be discarded and replaced with the error page";
    HTTPError: "Raising an HTTPError is a convenient alternative to calling
    RequestHandler.send_error since it automatically ends the current function"; the guide,
    "Error Handling": "all other exceptions return a 500 status". on_finish is "Called after the
    end of a request", error or not."""
    web = impl.part("web")
    trace = Trace()
    srv = server.serve([("/", make_handler(web, trace))])
    response = await http.request(srv, "GET", "/")
    server.barrier()
    trace.assert_equal(
        expected,
        f"an exception escaping the handler must reach write_error({status}) with the exception as "
        "kwargs['exc_info'], and on_finish() must run after the error page is finished; the implementation's "
        "hooks ran otherwise.",
    )
    page = f"custom error page {status}".encode()
    if not (response.status == status and response.body == page):
        raise Violation(
            "the response is not write_error's page.",
            expected=f"{status} with {page!r}",
            observed=f"{response.describe()} with body {response.body[:200]!r}",
        )


REASON = "Edit Conflict"
_CASES = [
    pytest.param(
        where,
        kind,
        style,
        id=f"{kind}-in-{where}-{style}",
        marks=() if style == "sync" else COROUTINE_PARTS,
    )
    for where in ("prepare", "get")
    for kind in ("http-error", "exception")
    for style in STYLES
]


@check("Tornado docs: RequestHandler.write_error; HTTPError; guide: Error Handling", Level.MUST)
@pytest.mark.parametrize(("where", "kind", "style"), _CASES)
async def test_error_reaches_write_error_with_exc_info_status_and_reason(impl, server, http, where, kind, style):
    """RequestHandler.write_error: "If this error was caused by an uncaught exception (including
    HTTPError), an exc_info triple will be available as kwargs["exc_info"]." HTTPError: "Raising
    an HTTPError is a convenient alternative to calling RequestHandler.send_error since it
    automatically ends the current function", and its ``reason`` is "the reason phrase to pass
    in the status line". The guide, "Error Handling": "If a handler raises an exception, Tornado
    will call RequestHandler.write_error to generate an error page. tornado.web.HTTPError can be
    used to generate a specified status code; all other exceptions return a 500 status."
    on_finish is "Called after the end of a request", error or not. The same holds whether the hook is plain, ``async def`` or
    ``@gen.coroutine``."""
    web = impl.part("web")
    trace = Trace()
    error = web.HTTPError(409, reason=REASON) if kind == "http-error" else ZeroDivisionError("boom")
    status, reason = (409, REASON) if kind == "http-error" else (500, "Internal Server Error")

    def step(name):
        def body(self):
            if name == where:
                trace.add(f"{name}: raise {type(error).__name__}")
                raise error
            trace.add(name)
            if name == "get":
                self.write("ok")

        return body

    class Handler(web.RequestHandler):
        prepare = styled(impl, style, step("prepare"))
        get = styled(impl, style, step("get"))

        def write_error(self, status_code, **kwargs):
            exc_info = kwargs.get("exc_info")
            name = type(exc_info[1]).__name__ if exc_info else None
            trace.add(f"write_error({status_code}, exc_info={name})")
            self.finish(f"error page {status_code}")

        def on_finish(self):
            trace.add(f"on_finish: status {self.get_status()}")

    srv = server.serve([("/", Handler)])
    response = await http.request(srv, "GET", "/")
    server.barrier()
    trace.add(summary(response))
    expected = ["prepare"] if where == "get" else []
    expected += [
        f"{where}: raise {type(error).__name__}",
        f"write_error({status}, exc_info={type(error).__name__})",
        f"on_finish: status {status}",
        f"{status} {reason}, body {f'error page {status}'.encode()!r}",
    ]
    trace.assert_equal(
        expected,
        f"{where}() ({style}) raised {type(error).__name__}; the framework must stop there, call write_error({status}) "
        f"with the exception in kwargs['exc_info'], send status {status} with the reason {reason!r}, then call "
        "on_finish(). The hooks (and the response, last row) were:",
    )


@check("Tornado docs: RequestHandler.send_error", Level.MUST)
async def test_send_error_discards_output_written_but_not_flushed(impl, server, http):
    """RequestHandler.send_error: "If output has been written but not yet flushed, it will be
    discarded and replaced with the error page." """
    web = impl.part("web")
    trace = Trace()

    class Handler(web.RequestHandler):
        def get(self):
            trace.add("get: write(), then send_error(503)")
            self.write("output the error page replaces")
            self.send_error(503)

        def write_error(self, status_code, **kwargs):
            trace.add(f"write_error({status_code})")
            self.write(f"error page {status_code}")

        def on_finish(self):
            trace.add(f"on_finish: status {self.get_status()}")

    srv = server.serve([("/", Handler)])
    response = await http.request(srv, "GET", "/")
    server.barrier()
    trace.add(summary(response))
    trace.assert_equal(
        [
            "get: write(), then send_error(503)",
            "write_error(503)",
            "on_finish: status 503",
            "503 Service Unavailable, body b'error page 503'",
        ],
        "get() wrote output without flushing it, then called send_error(503): the unflushed output must be "
        "discarded and replaced by write_error's page. The hooks (and the response, last row) were:",
    )


@check("Tornado docs: RequestHandler.send_error", Level.MUST)
async def test_send_error_after_flush_terminates_the_response_without_replacing_it(impl, server, http):
    """RequestHandler.send_error: "If flush() has already been called, it is not possible to send
    an error, so this method will simply terminate the response." The status line and the
    flushed output have left: no error page follows them, and the response is ended (the last
    chunk sent), so the client is not left waiting."""
    web = impl.part("web")
    trace = Trace()

    class Handler(web.RequestHandler):
        def get(self):
            trace.add("get: write(), flush(), then send_error(503)")
            self.write("streamed")
            self.flush()
            self.send_error(503)

        def write_error(self, status_code, **kwargs):
            trace.add(f"write_error({status_code})")
            self.write(f"error page {status_code}")

        def on_finish(self):
            trace.add(f"on_finish: status {self.get_status()}")

    srv = server.serve([("/", Handler)])
    response = await http.request(srv, "GET", "/")
    server.barrier()
    trace.add(summary(response))
    trace.assert_equal(
        ["get: write(), flush(), then send_error(503)", "on_finish: status 200", "200 OK, body b'streamed'"],
        "get() flushed output, then called send_error(503): the head is already sent, so the framework can only "
        "terminate the response as it is (no write_error, nothing appended), and on_finish() runs. The hooks "
        "(and the response, last row) were:",
    )
