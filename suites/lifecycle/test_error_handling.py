"""Uncaught exceptions become an error page by write_error(), then on_finish() runs.

Reference: Tornado docs, RequestHandler.write_error and send_error
(https://www.tornadoweb.org/en/stable/web.html#output), HTTPError
(https://www.tornadoweb.org/en/stable/web.html#tornado.web.HTTPError), RequestHandler.on_finish
(https://www.tornadoweb.org/en/stable/web.html#entry-points).
"""

from __future__ import annotations

import pytest

from conformance import Level, Trace, check, requires

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


@check("Tornado docs: RequestHandler.write_error", Level.MUST)
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
    RequestHandler.send_error since it automatically ends the current function". on_finish is
    "Called after the end of a request", error or not."""
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
    assert response.status == status and response.body == page, (
        f"the response should be write_error's page ({status}, {page!r}), got {response.describe()} "
        f"with body {response.body[:200]!r}"
    )
