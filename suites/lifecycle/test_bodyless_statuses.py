"""A handler's body with a status that has none (1xx, 204, 304): refused by ``finish()``
with ``RuntimeError``, and ``HTTPError(204)`` answered without an error page.

Reference: RFC 9110 §15.2, §15.3.5, §15.4.5 (https://www.rfc-editor.org/rfc/rfc9110#section-15.3.5):
1xx, 204 and 304 responses end after their header section; Tornado docs,
``RequestHandler.finish`` and ``send_error`` (https://www.tornadoweb.org/en/stable/web.html#output),
and the release notes of Tornado 4.5.3 and 5.0.0 (a body can no longer be sent with a 1xx or
204 response) and 6.6.0 (``tornado.web``: ``RuntimeError`` instead of ``AssertionError``;
``raise HTTPError(204)`` no longer tries to send a body).
"""

from __future__ import annotations

import pytest

from conformance import Level, Trace, Violation, check, requires

pytestmark = [pytest.mark.lifecycle, requires("web", "httpserver")]

STATUSES = [
    pytest.param(204, "No Content", id="204"),
    pytest.param(304, "Not Modified", id="304"),
    pytest.param(103, "Early Hints", id="1xx"),
]


def _app(impl, trace: Trace, status: int, reason: str):
    web = impl.part("web")

    class WritesABody(web.RequestHandler):
        def get(self):
            self.set_status(status, reason)
            self.write(b"x")
            try:
                self.finish()
            except Exception as exc:
                trace.add(type(exc).__name__)
                # What a handler does after the refusal: start over with a bodiless 204.
                self.clear()
                self.set_status(204)
                self.finish()
            else:
                trace.add("finish() returned normally")

    class Next(web.RequestHandler):
        def get(self):
            self.write(b"next")

    return [("/body", WritesABody), ("/next", Next)]


async def _outcome(impl, server, http, status: int, reason: str) -> list[str]:
    trace = Trace()
    srv = server.serve(_app(impl, trace, status, reason))
    async with await http.connect(srv) as conn:
        await conn.send_request("GET", "/body")
        trace.wait_for(1, conn.timeout, f"run the handler that sets {status} and writes a body")
    return list(trace.events)


@check(
    "RFC 9110 §15.2, §15.3.5, §15.4.5; Tornado docs: RequestHandler.finish; Tornado 4.5.3 and 5.0.0 release notes "
    "(tornado.web)",
    Level.TORNADO,
)
@pytest.mark.parametrize("status, reason", STATUSES)
async def test_a_body_written_with_a_bodyless_status_is_refused(impl, server, http, status, reason):
    """RFC 9110 §15.3.5: "A 204 response is terminated by the end of the header section; it
    cannot contain content or trailers" (§15.4.5 says the same of 304, §15.2 of 1xx).
    Tornado 4.5.3 and 5.0.0 release notes (tornado.web): "It is no longer allowed to send a
    body with 1xx or 204 responses." A handler that
    sets such a status and writes a body sees ``finish()`` raise instead of the body being
    sent or silently dropped."""
    events = await _outcome(impl, server, http, status, reason)
    if events == ["finish() returned normally"]:
        raise Violation(
            f"finish() accepted a body written with status {status}: the body is either sent where the status "
            "forbids one or dropped without the handler learning of it.",
            expected="finish() raises",
            observed=events,
        )


@check("Tornado docs: RequestHandler.finish; Tornado 6.6.0 release notes (tornado.web)", Level.TORNADO)
@pytest.mark.parametrize("status, reason", STATUSES[:2])
async def test_a_body_written_with_204_or_304_raises_runtime_error(impl, server, http, status, reason):
    """Tornado 6.6.0 release notes (tornado.web): "Writing a response body with a status code
    that does not allow one (such as 204 or 304) now raises `RuntimeError` instead of
    `AssertionError` (so the check is no longer skipped when Python runs with ``-O``)." The handler's ``finish()`` raises ``RuntimeError``."""
    events = await _outcome(impl, server, http, status, reason)
    if events != ["RuntimeError"]:
        raise Violation(
            f"finish() with a body written under status {status} did not raise RuntimeError.",
            expected=["RuntimeError"],
            observed=events,
        )


@check(
    "RFC 9110 §15.3.5; Tornado docs: RequestHandler.send_error, write_error; Tornado 6.6.0 release notes (tornado.web)",
    Level.TORNADO,
)
async def test_http_error_204_is_answered_without_a_body(impl, server, http):
    """RFC 9110 §15.3.5: a 204 response "cannot contain content". Tornado 6.6.0 release notes:
    "``raise HTTPError(204)`` no longer attempts to incorrectly send a response body"
    (``send_error`` skips the error
    page for statuses that have no content). The client gets a bodiless 204, the request
    pipelined behind it is answered, and nothing is logged as an uncaught exception."""
    web = impl.part("web")

    class NoContent(web.RequestHandler):
        def get(self):
            raise web.HTTPError(204)

    class Next(web.RequestHandler):
        def get(self):
            self.write(b"next")

    srv = server.serve([("/none", NoContent), ("/next", Next)])
    async with await http.connect(srv) as conn:
        await conn.send_request("GET", "/none")
        await conn.send_request("GET", "/next")
        # A request answered on another connection, sent after these: by then the server has
        # run the handler that raised (an event loop serves what is readable in turn), so an
        # uncaught exception is already logged and no deadline is spent on a hung response.
        async with await http.connect(srv) as later:
            await later.request("GET", "/next")
        server.barrier()
        unhandled = server.log.unhandled_exceptions()
        if unhandled:
            raise Violation(
                "raise HTTPError(204) made the implementation log an uncaught exception: it tried to send an error "
                f"page with a status that has no content:\n{server.log.format(unhandled)}",
                transcript=conn.transcript,
            )
        first = await conn.response_or_close("GET")
        second = await conn.response_or_close("GET") if first is not None and first.keep_alive else None
        if first is None or first.status != 204 or first.body:
            raise Violation(
                "raise HTTPError(204) was not answered with a bodiless 204.",
                expected="204 No Content without content",
                observed="the connection closed" if first is None else f"{first.describe()} with {first.body[:80]!r}",
                transcript=conn.transcript,
            )
        if first.keep_alive and (second is None or second.status != 200 or second.body != b"next"):
            raise Violation(
                "the request pipelined behind the one that raised HTTPError(204) was not answered: the 204 did not "
                "end cleanly.",
                expected="200 OK with b'next'",
                observed="no response (the connection closed)"
                if second is None
                else f"{second.describe()} with {second.body[:80]!r}",
                transcript=conn.transcript,
            )
