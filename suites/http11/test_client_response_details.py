"""The client side, details Tornado's release notes settled: the default User-Agent, ``start_time``,
the body of a bodiless ``HTTPResponse``, and which errors ``raise_error=False`` returns.

Each check drives the implementation's client (a fresh ``AsyncHTTPClient(force_instance=True)``)
against the kit's scripted server (fixture ``h11_server``), or builds an ``HTTPResponse``
through the public constructor, and judges plain values summarised on the implementation's loop.

References: Tornado docs, ``tornado.httpclient`` (``HTTPRequest``, ``HTTPResponse``,
``AsyncHTTPClient.fetch``) (https://www.tornadoweb.org/en/stable/httpclient.html); Tornado
5.1.0, 6.0.0, 6.0.2 and 6.1.0 release notes (https://www.tornadoweb.org/en/stable/releases.html);
RFC 9110 §10.1.5 (User-Agent).
"""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from conformance import Level, Violation, check, not_provided, requires

pytestmark = [pytest.mark.http11, requires("httpclient")]

BODY = b"the kit's answer"


def _answer():
    async def respond(request, conn):
        await conn.respond(200, [("Content-Type", "text/plain")], BODY)

    return respond


def _httpclient(h11_server) -> Any:
    httpclient = h11_server.impl.part("httpclient")
    if not hasattr(httpclient, "AsyncHTTPClient"):
        not_provided(f"{h11_server.impl.name}'s httpclient part has no AsyncHTTPClient")
    return httpclient


@check("Tornado 6.1.0 release notes (tornado.httpclient); RFC 9110 §10.1.5 (SHOULD)", Level.TORNADO)
async def test_client_sends_a_default_user_agent_naming_tornado(h11_server):
    """Tornado 6.1.0 release notes: "A default ``User-Agent`` of ``Tornado/$VERSION`` is now
    used if the ``user_agent`` parameter is not specified." RFC 9110 §10.1.5: "A user agent
    SHOULD send a User-Agent header field in each request unless specifically configured not
    to do so" (the field's form, ``product/version``, is Tornado's choice)."""
    origin = await h11_server.listen(_answer())
    fetched = await h11_server.fetch(origin.url("/who"))
    agents = h11_server.requests[0].header_list("user-agent") if h11_server.requests else None
    product, _, version = (agents[0] if agents and len(agents) == 1 else "").partition("/")
    if product != "Tornado" or not version.strip() or fetched.code != 200:
        raise Violation(
            "a fetch without user_agent did not send the default 'User-Agent: Tornado/<version>'.",
            expected="one User-Agent field 'Tornado/<version>'",
            observed=f"User-Agent fields {agents!r}; {fetched.describe()}",
            transcript=h11_server.transcripts(),
        )


@check("Tornado 5.1.0 release notes (tornado.httpclient); Tornado docs: HTTPResponse (start_time)", Level.TORNADO)
async def test_client_response_start_time_is_the_wall_clock_at_the_start(h11_server):
    """Tornado docs, HTTPResponse: "``start_time``: Time at which the HTTP operation started,
    based on `time.time` (not the monotonic clock used by `.IOLoop.time`). May be ``None`` if
    the request timed out while in the queue." Tornado 5.1.0 release notes: "New attribute
    ``HTTPResponse.start_time``". The kit reads ``time.time()`` just before ``fetch`` and when
    its server receives the request: the operation started between the two readings (an order
    of readings of one clock, not a duration)."""
    httpclient = _httpclient(h11_server)
    arrivals: list[float] = []

    async def respond(request, conn):
        arrivals.append(time.time())
        await conn.respond(200, [("Content-Type", "text/plain")], BODY)

    origin = await h11_server.listen(respond)

    async def impl_side() -> tuple[float, Any, int, bool]:
        client = httpclient.AsyncHTTPClient(force_instance=True)
        try:
            before = time.time()
            response = await client.fetch(origin.url("/when"), raise_error=False)
        finally:
            client.close()
        has = hasattr(response, "start_time")
        return before, getattr(response, "start_time", None), response.code, has

    before, start_time, code, has = await h11_server.kit.run(impl_side, "fetch, timed")
    if not has:
        not_provided(f"{h11_server.impl.name}'s HTTPResponse has no start_time")
    arrived = arrivals[0] if arrivals else None
    if (
        not isinstance(start_time, (int, float))
        or arrived is None
        or not before <= start_time <= arrived
        or code != 200
    ):
        raise Violation(
            "the response's start_time is not the wall-clock time (time.time()) at which the fetch started.",
            expected=f"a number between {before:.3f} (before fetch) and {arrived} (the kit received the request)",
            observed=f"{start_time!r} (status {code})",
            transcript=h11_server.transcripts(),
        )


@check("Tornado 6.0.2 release notes (Bug fixes); Tornado docs: HTTPResponse (body)", Level.TORNADO)
async def test_client_response_without_a_body_has_an_empty_body(h11_server):
    """Tornado 6.0.2 release notes: "Accessing ``HTTPResponse.body`` now returns an empty byte
    string instead of raising ``ValueError`` for error responses that don't have a body (it
    returned None in this case in Tornado 5)." Tornado docs, HTTPResponse: "``body``:
    response body as bytes (created on demand from ``self.buffer``)". An HTTPResponse is built
    for an error with no buffer, as the client builds one for a request that got no answer."""
    httpclient = _httpclient(h11_server)

    async def impl_side() -> str:
        error_class = getattr(httpclient, "HTTPClientError", None) or httpclient.HTTPError
        request = httpclient.HTTPRequest("http://127.0.0.1:9/never-answered")
        response = httpclient.HTTPResponse(request, 599, error=error_class(599, "no answer"))
        try:
            return repr(response.body)
        except Exception as exc:
            return f"raised {type(exc).__name__}({exc})"

    body = await h11_server.kit.run(impl_side, "HTTPResponse(request, 599, error=...).body")
    if body != "b''":
        raise Violation(
            "the body of an error HTTPResponse built without a buffer is not the empty byte string.",
            expected="b''",
            observed=body,
        )


@pytest.fixture
def refused_port():
    """A loopback port nothing listens on: bound but never listening, and kept bound (so no
    one else takes it) while the check runs; a connection to it is refused at once."""
    holder = socket.socket()
    try:
        holder.bind(("127.0.0.1", 0))
        yield int(holder.getsockname()[1])
    finally:
        holder.close()


@check(
    "Tornado 6.0.0 release notes (tornado.httpclient); Tornado docs: AsyncHTTPClient.fetch (raise_error)", Level.TORNADO
)
async def test_client_raise_error_false_still_raises_a_connection_error(h11_server, refused_port):
    """Tornado 6.0.0 release notes: "The behavior of ``raise_error=False`` has changed. Now only
    suppresses the errors raised due to completed responses with non-200 status codes
    (previously it suppressed all errors)." Tornado docs, AsyncHTTPClient.fetch: "The
    ``raise_error=False`` argument only affects the ``HTTPError`` raised when a non-200
    response code is used, instead of suppressing all errors." A connection refused has no
    response: the fetch raises, with ``raise_error=False`` too."""
    httpclient = _httpclient(h11_server)
    url = f"http://127.0.0.1:{refused_port}/refused"

    async def impl_side() -> str:
        client = httpclient.AsyncHTTPClient(force_instance=True)
        try:
            response = await client.fetch(url, raise_error=False)
        except Exception as exc:
            return f"raised {type(exc).__name__}({exc})"
        finally:
            client.close()
        return f"returned a {response.code} response (error {getattr(response, 'error', None)!r})"

    outcome = await h11_server.kit.run(impl_side, f"fetch {url}")
    if not outcome.startswith("raised"):
        raise Violation(
            "fetch(raise_error=False) of a port that refuses the connection returned a response instead of "
            "raising: raise_error=False only suppresses the error of a completed non-200 response.",
            expected="fetch raises (ConnectionRefusedError or the like)",
            observed=outcome,
        )
