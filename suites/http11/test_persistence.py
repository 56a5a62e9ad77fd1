"""HTTP/1.1 persistence: connections are reused unless someone says close.

Reference: RFC 9112 §9 (https://www.rfc-editor.org/rfc/rfc9112#section-9).
"""

from __future__ import annotations

import pytest

from conformance import Level, Violation, check, requires

from ._apps import echo_app, echo_line, raw_request

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]


def _hello(impl):
    web = impl.part("web")

    class Hello(web.RequestHandler):
        def get(self):
            self.write("hello")

    return [("/", Hello)]


@check("RFC 9112 §9.3", Level.SHOULD)
async def test_http11_connection_is_persistent_by_default(impl, server, http):
    """RFC 9112 §9.3: "HTTP/1.1 defaults to the use of persistent connections"; a server
    that does not close after every response lets the client send a second request."""
    srv = server.serve(_hello(impl))
    async with await http.connect(srv) as conn:
        first = await conn.request("GET", "/")
        assert first.status == 200, f"expected 200 for GET /, got {first.describe()}"
        assert first.keep_alive, (
            f"the first response closes the connection ({first.header('connection')!r}); RFC 9112 §9.3 makes "
            "HTTP/1.1 connections persistent unless a 'close' option is sent"
        )
        second = await conn.request("GET", "/")
        assert second.status == 200 and second.body == b"hello", (
            f"second request on the connection got {second.describe()}"
        )


@check("RFC 9112 §9.6", Level.MUST)
@pytest.mark.parametrize(
    "option",
    [
        pytest.param("close", id="close"),
        pytest.param("Close", id="capitalised-Close"),
        pytest.param("CLOSE", id="upper-case-CLOSE"),
        pytest.param("TE, close", id="listed-after-another-option"),
    ],
)
async def test_connection_close_from_the_client_ends_the_connection_after_its_response(impl, server, http, option):
    """RFC 9112 §9.6: "A server that receives a "close" connection option MUST initiate
    closure of the connection after it sends the final response to the request that
    contained the "close" connection option. [...] The server MUST NOT process any further
    requests received on that connection." Connection options are case-insensitive and
    the field is a list of them (RFC 9110 §7.6.1). A second request is pipelined behind
    the closing one: the server must close instead of answering it. (Whether its handler
    runs is not judged: with Tornado it depends on timing, which a check must not.)"""
    srv = server.serve(echo_app(impl))
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("GET", "/closing", f"Connection: {option}") + raw_request("GET", "/after"))
        answer = await conn.receive_response("GET")
        if not (answer.status == 200 and answer.body == echo_line("GET", "/closing")):
            raise Violation(
                f"GET /closing with 'Connection: {option}' got a wrong answer.",
                expected=f"200 with {echo_line('GET', '/closing')!r}",
                observed=f"{answer.describe()} with {answer.body!r}",
                transcript=conn.transcript,
            )
        if not await conn.closed_by_peer():
            raise Violation(
                f"after answering a request that carried 'Connection: {option}' the implementation kept the "
                "connection open and answered the request pipelined behind it; it closes after that response and "
                "processes no further requests (connection options are case-insensitive, RFC 9110 §7.6.1).",
                transcript=conn.transcript,
            )


PIPELINE_DEPTH = 5


@check("RFC 9112 §9.3.2", Level.MUST)
async def test_pipelined_requests_are_answered_in_the_order_received(impl, server, http):
    """RFC 9112 §9.3.2: "A server MAY process a sequence of pipelined requests in parallel if
    they all have safe methods, but it MUST send the corresponding responses in the same
    order that the requests were received." Five requests, one with a body, are sent in a
    single write; each response must echo its own request, in order."""
    srv = server.serve(echo_app(impl))
    requests = [("GET", f"/{i}", b"") for i in range(PIPELINE_DEPTH)]
    requests[2] = ("POST", "/2", b"body of the third request")
    wire = b"".join(
        raw_request(method, path, f"Content-Length: {len(body)}" if body else "", body)
        for method, path, body in requests
    )
    async with await http.connect(srv) as conn:
        await conn.send(wire)
        for i, (method, path, body) in enumerate(requests):
            answer = await conn.response_or_close(method)
            if answer is None:
                raise Violation(
                    f"{PIPELINE_DEPTH} requests were pipelined in one write and the implementation closed the "
                    "connection without announcing 'Connection: close': a server answers pipelined requests, in "
                    "order.",
                    expected=f"{PIPELINE_DEPTH} responses",
                    observed=f"{i} responses, then the connection closed",
                    transcript=conn.transcript,
                )
            expected = echo_line(method, path, body)
            if not (answer.status == 200 and answer.body == expected):
                raise Violation(
                    f"response {i + 1} of {PIPELINE_DEPTH} pipelined requests does not answer request {i + 1} "
                    f"({method} {path}): responses go out in the order the requests were received.",
                    expected=f"200 with {expected!r}",
                    observed=f"{answer.describe()} with {answer.body!r}",
                    transcript=conn.transcript,
                )
            if not answer.keep_alive:
                # Closing after an announced 'Connection: close' is allowed (RFC 9112 §9.6);
                # the requests after it then go unanswered, legitimately.
                if not await conn.closed_by_peer():
                    raise Violation(
                        f"response {i + 1} announced 'Connection: close' but the implementation kept the "
                        f"connection open (RFC 9112 §9.6).",
                        transcript=conn.transcript,
                    )
                return
