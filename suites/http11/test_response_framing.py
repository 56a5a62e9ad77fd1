"""Responses: how their length is framed, which carry no content, the default fields,
and persistence with HTTP/1.0 clients and across split requests.

Reference: RFC 9112 §6-§9 (https://www.rfc-editor.org/rfc/rfc9112#section-6), RFC 9110
§6.6.1 (Date), §8.6 (Content-Length), §15.3.5 (204) and §15.4.5 (304). Every response is
parsed by h11, so a framing h11 cannot follow fails the check on its own.
"""

from __future__ import annotations

import email.utils

import pytest

from conformance import Level, Violation, check, requires

from ._apps import echo_app, echo_line, raw_request

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]

PARTS = [b"first part, ", b"second part"]


def _streaming(impl):
    web = impl.part("web")

    class Streaming(web.RequestHandler):
        async def get(self):
            self.write(PARTS[0])
            await self.flush()
            self.write(PARTS[1])

    class Whole(web.RequestHandler):
        def get(self):
            self.write(b"".join(PARTS))

    class NoContent(web.RequestHandler):
        def get(self):
            self.set_status(204)

    class NotModified(web.RequestHandler):
        def get(self):
            self.set_status(304)

    class ServerCloses(web.RequestHandler):
        def get(self):
            self.set_header("Connection", "close")
            self.write(b"bye")

    return [
        ("/stream", Streaming),
        ("/whole", Whole),
        ("/204", NoContent),
        ("/304", NotModified),
        ("/closing", ServerCloses),
    ]


@check("RFC 9112 §6.3 (any valid framing); Tornado docs: RequestHandler.flush", Level.TORNADO)
async def test_streamed_response_to_http11_is_chunked_and_whole_response_has_content_length(impl, server, http):
    """RFC 9112 §6.3: a response's length is known from Content-Length, from the chunked
    coding, or (last resort) from the close; the RFC does not say which a server picks.
    Tornado's choice: a response finished in one piece gets a Content-Length and one
    flushed before ``finish`` is sent with ``Transfer-Encoding: chunked`` to HTTP/1.1
    clients; either way the connection stays open, so h11 must find the exact end of
    both responses on one connection."""
    srv = server.serve(_streaming(impl))
    async with await http.connect(srv) as conn:
        streamed = await conn.request("GET", "/stream")
        whole = await conn.request("GET", "/whole")
    expected = b"".join(PARTS)
    problems = []
    if streamed.body != expected or streamed.header("transfer-encoding") != "chunked":
        problems.append(
            f"the flushed response has Transfer-Encoding {streamed.header('transfer-encoding')!r}, body {streamed.body!r}"
        )
    if whole.body != expected or whole.header("content-length") != str(len(expected)):
        problems.append(
            f"the whole response has Content-Length {whole.header('content-length')!r}, body {whole.body!r}"
        )
    if problems:
        raise Violation(
            "a response of unknown length to an HTTP/1.1 client is chunked, one of known length carries "
            "Content-Length, so the connection can be reused.",
            expected=f"the flushed response chunked, the whole one with Content-Length {len(expected)}; body {expected!r}",
            observed="; ".join(problems),
            transcript=conn.transcript,
        )


@check("RFC 9112 §6.1", Level.MUST)
async def test_streamed_response_to_http10_is_not_chunked_and_ends_with_the_close(impl, server, http):
    """RFC 9112 §6.1: "A server MUST NOT send a response containing Transfer-Encoding
    unless the corresponding request indicates HTTP/1.1 (or later minor revisions)." An
    HTTP/1.0 client cannot decode chunks; the length is then delimited by closing the
    connection (RFC 9112 §6.3 rule 8)."""
    srv = server.serve(_streaming(impl))
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("GET", "/stream", version="HTTP/1.0"))
        answer = await conn.receive_response("GET")
        closed = await conn.closed_by_peer() if answer.header("content-length") is None else True
    if not (answer.header("transfer-encoding") is None and answer.body == b"".join(PARTS) and closed):
        raise Violation(
            "a streamed response to an HTTP/1.0 request was not sent as is with the close ending it: no transfer "
            "coding towards HTTP/1.0.",
            expected=f"no Transfer-Encoding, body {b''.join(PARTS)!r}, then the close",
            observed=f"Transfer-Encoding {answer.header('transfer-encoding')!r}, body {answer.body!r}, "
            f"{'closed' if closed else 'left open'}",
            transcript=conn.transcript,
        )


@check("RFC 9110 §8.6", Level.MUST)
@pytest.mark.parametrize("status", [204, 304])
async def test_204_and_304_responses_carry_no_content_or_body_framing(impl, server, http, status):
    """RFC 9110 §15.3.5: "A 204 response is terminated by the end of the header section;
    it cannot contain content or trailers"; §8.6: "A server MUST NOT send a Content-Length
    header field in any response with a status code of 1xx (Informational) or 204 (No
    Content)", and RFC 9112 §6.1: "A server MUST NOT send a Transfer-Encoding header field
    in any response with a status code of 1xx (Informational) or 204 (No Content)". A 304
    has no content either (§15.4.5). A request pipelined behind proves no bytes followed."""
    srv = server.serve(_streaming(impl))
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("GET", f"/{status}") + raw_request("GET", "/whole"))
        answer = await conn.receive_response("GET")
        after = await conn.receive_response("GET") if answer.keep_alive else None
    framing = {name: answer.header(name) for name in ("content-length", "transfer-encoding")}
    forbidden = {k: v for k, v in framing.items() if v is not None and (status == 204 or k == "transfer-encoding")}
    if not (answer.status == status and not forbidden):
        raise Violation(
            f"the {status} response carries body framing: a {status} has no content and no Transfer-Encoding (RFC "
            "9112 §6.1), nor, for 204, Content-Length.",
            expected=f"{status}, no forbidden framing",
            observed=f"{answer.describe()}, {forbidden}",
            transcript=conn.transcript,
        )
    if not (after is None or after.body == b"".join(PARTS)):
        raise Violation(
            f"the request after the {status} got a wrong answer: bytes followed the {status} head.",
            expected=repr(b"".join(PARTS)),
            observed=f"{after.describe()} with {after.body!r}",
        )


@check("RFC 9110 §6.6.1", Level.MUST)
@pytest.mark.parametrize(
    "field",
    [
        pytest.param("date", id="date"),
        pytest.param(
            "server",
            id="server",
            marks=check("RFC 9110 §10.2.4 (MAY); Tornado docs: RequestHandler.clear", Level.TORNADO),
        ),
    ],
)
async def test_responses_carry_a_date_and_tornados_server_field(impl, server, http, field):
    """RFC 9110 §6.6.1: "An origin server with a clock ... MUST generate a Date header field
    in all 2xx (Successful), 3xx (Redirection), and 4xx (Client Error) responses", in
    IMF-fixdate form (§5.6.7). ``Server`` is optional (RFC 9110 §10.2.4: "An origin server
    MAY generate a Server header field in its responses"); Tornado's
    ``RequestHandler.clear`` documents the default headers it sets, ``Server`` among them,
    so that case is Tornado's own."""
    srv = server.serve(_streaming(impl))
    async with await http.connect(srv) as conn:
        answers = [await conn.request("GET", "/whole"), await conn.request("GET", "/missing")]
    for answer in answers:
        value = answer.header(field)
        if field == "date":
            parsed = email.utils.parsedate_to_datetime(value) if value else None
            ok = bool(value and parsed is not None and value.endswith(" GMT"))
            expected = "Date '<IMF-fixdate> GMT'"
        else:
            ok, expected = bool(value), "a Server field, as Tornado's RequestHandler.clear sets"
        if not ok:
            raise Violation(
                f"{answer.describe()} lacks {expected}.",
                expected=expected,
                observed=f"{field.capitalize()} {value!r}",
                transcript=conn.transcript,
            )


@check("RFC 9112 §9.6", Level.MUST)
async def test_connection_close_sent_by_the_handler_closes_the_connection(impl, server, http):
    """RFC 9112 §9.6: "A server that sends a "close" connection option MUST initiate
    closure of the connection ... after it sends the response containing "close". The
    server MUST NOT process any further requests received on that connection." A handler
    that sets ``Connection: close`` is answered, then the connection ends."""
    srv = server.serve(_streaming(impl))
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("GET", "/closing") + raw_request("GET", "/whole"))
        answer = await conn.receive_response("GET")
        if not (answer.body == b"bye" and not answer.keep_alive and await conn.closed_by_peer()):
            raise Violation(
                "the implementation did not close the connection after a response carrying 'Connection: close'.",
                expected="body b'bye', 'Connection: close', then the close",
                observed=f"body {answer.body!r}, Connection {answer.header('connection')!r}"
                + (", connection left open" if answer.body == b"bye" and not answer.keep_alive else ""),
                transcript=conn.transcript,
            )


@check("RFC 9112 §9.3", Level.MUST)
async def test_http10_connection_without_keep_alive_closes_after_the_response(impl, server, http):
    """RFC 9112 §9.3: "If the received protocol is HTTP/1.0, the "keep-alive" connection
    option is present, ... the connection will persist after the current response;
    otherwise, the connection will close after the current response." Without
    keep-alive, an HTTP/1.0 client reads the response until the close."""
    srv = server.serve(echo_app(impl))
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("GET", "/one", version="HTTP/1.0"))
        first = await conn.receive_response("GET")
        if not (first.body == echo_line("GET", "/one") and await conn.closed_by_peer()):
            raise Violation(
                f"after answering an HTTP/1.0 request without keep-alive ({first.describe()}) the implementation did "
                "not close the connection (or answered wrongly).",
                expected=f"{echo_line('GET', '/one')!r}, then the close",
                observed=f"{first.body!r}"
                + (", connection left open" if first.body == echo_line("GET", "/one") else ""),
                transcript=conn.transcript,
            )


@check("RFC 9112 §2.1", Level.MUST)
async def test_request_sent_one_octet_at_a_time_parses_as_sent_whole(impl, server, http):
    """RFC 9112 §2.1: a message is a byte stream; TCP may deliver it in any segmentation,
    so a request split at every octet boundary is the same request. Each octet is its own
    write, and the server's loop runs what it received before the next one is sent."""
    srv = server.serve(echo_app(impl))
    wire = raw_request("POST", "/split", "Content-Length: 11", b"hello world")
    async with await http.connect(srv) as conn:
        for i in range(len(wire)):
            await conn.send(wire[i : i + 1])
            server.barrier()
        answer = await conn.receive_response("POST")
    if not (answer.status == 200 and answer.body == echo_line("POST", "/split", b"hello world")):
        raise Violation(
            "a request sent one octet per write was read differently from the same bytes sent whole: segmentation "
            "does not change a message.",
            expected=f"200 with {echo_line('POST', '/split', b'hello world')!r}",
            observed=f"{answer.describe()} with {answer.body!r}",
            transcript=conn.transcript,
        )
