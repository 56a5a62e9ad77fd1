"""Server options: the ``compress_response`` application setting (and its old spelling
``gzip``) and the ``HTTPServer`` keyword arguments that bound or end connections
(``idle_connection_timeout``, ``body_timeout``, ``no_keep_alive``, ``max_header_size``,
``max_body_size``, ``max_buffer_size``, ``chunk_size``).

References: Tornado docs, web.Application settings (https://www.tornadoweb.org/en/stable/
web.html#tornado.web.Application.settings), httpserver.HTTPServer and
http1connection.HTTP1ConnectionParameters; RFC 9110 §12.5.3 (Accept-Encoding), §12.5.5
(Vary), §15.4.5 (304); RFC 9112 §9.6 (closing). The refusal classes of oversized heads and
request lines and the decoding of request bodies are judged in test_fields.py,
test_request_target.py and test_request_attributes.py; here only where the bounds lie.

Timeouts are judged by events, never by durations: the option is set to 0.01 s (0.1 s, then
1 s, where a request sent right after the connect must beat it) and the check waits, with the run's
deadline, for the close it causes; "still open" is judged by an exchange made after another
connection showed that the timeout had elapsed.
"""

from __future__ import annotations

import gzip
import json
import zlib
from typing import Any
from urllib.parse import quote

import pytest

from conformance import Level, Timeout, Trace, Violation, check, requires

from ._apps import closes, echo_app, echo_line, raw_request

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]

#: The representation served: about 3 KiB of text, well above any sensible minimum.
TEXT = b"".join(b"line %03d of a response body that compresses well\n" % i for i in range(64))

#: The timeout of the cases where nothing is due before it elapses (a connection that sends
#: nothing, half a head, half a body): whenever it elapses, even before the kit's bytes
#: arrive, the verdict is the same, so it can be short; the wait is the run's time.
SHORT = 0.01
#: The idle timeouts tried, shortest first, where a request sent right after the connect
#: must arrive before the timeout elapses (the timer starts at the accept). A pass at the
#: short one is conclusive; a close before the request was served may be a starved loaded
#: machine's slowness, so the next is tried, and the verdict is the longest one's (wide
#: enough for such a machine).
ROOMY = (0.1, 1.0)


def _tokens(response: Any, name: str) -> list[str]:
    """The comma-separated list elements of every ``name`` field line, lower-cased."""
    return [t.strip().lower() for line in response.header_list(name) for t in line.split(",") if t.strip()]


def _content_app(impl: Any) -> list[tuple[str, Any]]:
    """``/`` serves TEXT as ``?type=`` (text/plain by default), ``?size=`` octets of it;
    ``?coding=gzip`` serves it already gzip-coded with ``Content-Encoding: gzip``;
    ``?flush=1`` writes it in two halves with a flush between them."""
    web = impl.part("web")

    class Content(web.RequestHandler):
        def get(self) -> None:
            self.set_header("Content-Type", self.get_argument("type", "text/plain"))
            coding = self.get_argument("coding", None)
            if coding is not None:
                self.set_header("Content-Encoding", coding)
                self.write(gzip.compress(TEXT))
                return
            body = TEXT[: int(self.get_argument("size", str(len(TEXT))))]
            if self.get_argument("flush", None):
                self.write(body[: len(body) // 2])
                self.flush()
                body = body[len(body) // 2 :]
            self.write(body)

        head = get

    return [("/", Content)]


async def _fetch(
    http: Any, srv: Any, accept: str | None, target: str = "/", method: str = "GET", extra: tuple = ()
) -> tuple[Any, Any]:
    """One request with ``Accept-Encoding: accept`` (none when None) and ``Connection:
    close`` (so a wrong Content-Length shows as a truncated body, not a wait)."""
    headers = [("Connection", "close"), *extra]
    if accept is not None:
        headers.append(("Accept-Encoding", accept))
    async with await http.connect(srv) as conn:
        return await conn.request(method, target, headers), conn.transcript


def _decoded(response: Any, transcript: Any, expected: bytes) -> None:
    """The gzip-coded body must decode to ``expected``."""
    try:
        decoded = gzip.decompress(response.body)
    except (OSError, EOFError, zlib.error) as exc:
        raise Violation(
            "the response announces 'Content-Encoding: gzip' but its content is not a valid gzip stream.",
            expected=f"a gzip stream decoding to the {len(expected)} octets served",
            observed=f"{len(response.body)} octets, {type(exc).__name__}: {exc}; first {response.body[:16]!r}",
            transcript=transcript,
        ) from None
    if decoded != expected:
        raise Violation(
            "the gzip-coded content does not decode to the representation the handler wrote.",
            expected=f"{len(expected)} octets starting {expected[:24]!r}",
            observed=f"{len(decoded)} octets starting {decoded[:24]!r}",
            transcript=transcript,
        )


def _assert_gzipped(response: Any, transcript: Any, what: str, expected: bytes = TEXT) -> None:
    if response.status != 200 or _tokens(response, "content-encoding") != ["gzip"]:
        raise Violation(
            f"{what} was not gzip-coded although compress_response is on and the client accepts gzip.",
            expected="200 OK with 'Content-Encoding: gzip'",
            observed=f"{response.describe()}, Content-Encoding {response.header('content-encoding')!r}",
            transcript=transcript,
        )
    length = response.header("content-length")
    if length is not None and int(length) != len(response.body):
        raise Violation(
            "the Content-Length of the gzip-coded response is not the length of the coded content.",
            expected=str(len(response.body)),
            observed=length,
            transcript=transcript,
        )
    _decoded(response, transcript, expected)


def _assert_identity(response: Any, transcript: Any, what: str, why: str, expected: bytes = TEXT) -> None:
    if response.status != 200 or response.header("content-encoding") is not None or response.body != expected:
        raise Violation(
            f"{what} was content-coded; {why}.",
            expected=f"200 OK, no Content-Encoding, the {len(expected)} octets as written",
            observed=f"{response.describe()}, Content-Encoding {response.header('content-encoding')!r}, "
            f"{len(response.body)} octets starting {response.body[:16]!r}",
            transcript=transcript,
        )


# -- compress_response --------------------------------------------------------------------

COMPRESS = {"compress_response": True}


@check("Tornado docs: Application settings (compress_response); RFC 9110 §12.5.3", Level.TORNADO)
@pytest.mark.parametrize(
    "accept",
    [
        pytest.param("gzip", id="gzip"),
        pytest.param("gzip, deflate, br", id="list"),
        pytest.param("deflate;q=0.5, gzip;q=1.0", id="q-values"),
    ],
)
async def test_compress_response_gzips_when_the_client_accepts_gzip(impl, server, http, accept):
    """Tornado docs, Application settings: "``compress_response``: If ``True``, responses
    in textual formats will be compressed automatically." RFC 9110 §12.5.3: the request's
    Accept-Encoding lists the codings the client accepts (coding names are
    case-insensitive, §8.4.1). A text response of about 3 KiB to a client accepting gzip
    is gzip-coded, its Content-Length is the coded length, and it decodes to what the
    handler wrote."""
    srv = server.serve(_content_app(impl), COMPRESS)
    response, transcript = await _fetch(http, srv, accept)
    _assert_gzipped(response, transcript, f"a 3 KiB text/plain response to 'Accept-Encoding: {accept}'")


@check("Tornado docs: Application settings (gzip: deprecated alias for compress_response)", Level.TORNADO)
async def test_gzip_setting_is_an_alias_of_compress_response(impl, server, http):
    """Tornado docs, Application settings: "``gzip``: Deprecated alias for
    ``compress_response`` since Tornado 4.0." An application built with ``gzip=True``
    compresses as one built with ``compress_response=True`` does."""
    srv = server.serve(_content_app(impl), {"gzip": True})
    response, transcript = await _fetch(http, srv, "gzip")
    _assert_gzipped(response, transcript, "a 3 KiB text/plain response of an application built with gzip=True")


_NOT_ACCEPTED_RULE = (
    "RFC 9110 §12.5.3: if none of the available content codings is listed as acceptable, the origin server SHOULD "
    "send a response without any content coding"
)


@check("RFC 9110 §12.5.3", Level.SHOULD)
@pytest.mark.parametrize(
    "accept",
    [
        pytest.param("identity", id="identity"),
        pytest.param("", id="empty"),
        pytest.param("deflate, br", id="other-codings"),
        pytest.param("gzip;q=0", id="gzip-q-0"),
        pytest.param("gzip;q=0, identity", id="gzip-q-0-and-identity"),
        pytest.param(
            None,
            id="absent",
            marks=check(
                "RFC 9110 §12.5.3 (no preference: the coding is the server's choice); Tornado docs: Application "
                "settings (compress_response)",
                Level.TORNADO,
            ),
        ),
    ],
)
async def test_compress_response_sends_no_coding_the_client_did_not_accept(impl, server, http, accept):
    """RFC 9110 §12.5.3: "If a non-empty Accept-Encoding header field is present in a
    request and none of the available content codings for the response are listed as
    acceptable, the origin server SHOULD send a response without any content coding";
    "An Accept-Encoding header field with a field value that is empty implies that the
    user agent does not want any content coding in response"; a weight of 0 means "not
    acceptable" (§12.4.2). Without the field the coding is the server's choice; Tornado
    compresses only for a client that asks for gzip, and that is what is pinned there."""
    srv = server.serve(_content_app(impl), COMPRESS)
    response, transcript = await _fetch(http, srv, accept)
    field = "no Accept-Encoding" if accept is None else f"'Accept-Encoding: {accept}'"
    _assert_identity(response, transcript, f"a text response to {field}", _NOT_ACCEPTED_RULE)


@check("RFC 9110 §12.5.5", Level.SHOULD)
@pytest.mark.parametrize(
    "accept",
    [pytest.param("gzip", id="compressed"), pytest.param("identity", id="identity"), pytest.param(None, id="absent")],
)
async def test_compressible_responses_carry_vary_accept_encoding(impl, server, http, accept):
    """RFC 9110 §12.5.5: "An origin server SHOULD send a Vary header field when its
    algorithm for selecting a representation varies based on aspects of the request
    message other than the method and target URI". With compress_response the coding of a
    text response depends on Accept-Encoding, so every such response, coded or not, says
    ``Vary: Accept-Encoding`` (a cache would otherwise serve gzip to a client that never
    asked for it)."""
    srv = server.serve(_content_app(impl), COMPRESS)
    response, transcript = await _fetch(http, srv, accept)
    if response.status != 200 or "accept-encoding" not in _tokens(response, "vary"):
        raise Violation(
            "a response whose coding depends on Accept-Encoding does not list Accept-Encoding in Vary.",
            expected="200 OK with 'Vary: Accept-Encoding'",
            observed=f"{response.describe()}, Vary {response.header_list('vary')!r}, Content-Encoding "
            f"{response.header('content-encoding')!r}",
            transcript=transcript,
        )


@check("Tornado docs: Application settings (compress_response); web.GZipContentEncoding", Level.TORNADO)
async def test_a_short_response_is_not_compressed(impl, server, http):
    """Tornado's ``GZipContentEncoding`` (the transform behind ``compress_response``):
    "Responses that are too short are unlikely to benefit from gzipping after considering
    the 'Content-Encoding: gzip' header and the header inside the gzip encoding." A
    40-octet text response written at once is sent as it is."""
    srv = server.serve(_content_app(impl), COMPRESS)
    response, transcript = await _fetch(http, srv, "gzip", "/?size=40")
    _assert_identity(response, transcript, "a 40-octet text response", "gzip would make it longer", expected=TEXT[:40])


@check("Tornado docs: Application settings (compress_response: responses in textual formats)", Level.TORNADO)
@pytest.mark.parametrize(
    "ctype",
    [
        pytest.param("text/html; charset=UTF-8", id="text-html"),
        pytest.param("text/css", id="text-css"),
        pytest.param("application/json", id="json"),
        pytest.param("application/javascript", id="javascript"),
        pytest.param("application/xml", id="xml"),
        pytest.param("image/svg+xml", id="svg"),
    ],
)
async def test_textual_content_types_are_compressed(impl, server, http, ctype):
    """Tornado docs: "``compress_response``: If ``True``, responses in textual formats
    will be compressed automatically"; textual means every ``text/*`` type and the
    textual types of other trees (JSON, JavaScript, XML, SVG)."""
    srv = server.serve(_content_app(impl), COMPRESS)
    response, transcript = await _fetch(http, srv, "gzip", f"/?type={quote(ctype, safe='/')}")
    _assert_gzipped(response, transcript, f"a 3 KiB {ctype} response")


@check("Tornado docs: Application settings (compress_response: responses in textual formats)", Level.TORNADO)
@pytest.mark.parametrize(
    "ctype",
    [
        pytest.param("image/png", id="png"),
        pytest.param("application/octet-stream", id="octet-stream"),
        pytest.param("application/zip", id="zip"),
    ],
)
async def test_non_textual_content_types_are_not_compressed(impl, server, http, ctype):
    """Tornado docs: only "responses in textual formats will be compressed"; images and
    archives are already compressed (or binary) and are sent as written."""
    srv = server.serve(_content_app(impl), COMPRESS)
    response, transcript = await _fetch(http, srv, "gzip", f"/?type={ctype}")
    _assert_identity(response, transcript, f"a {ctype} response", "compress_response codes textual formats only")


@check("Tornado docs: Application settings (compress_response); RFC 9110 §8.4", Level.TORNADO)
async def test_a_response_already_content_coded_is_not_coded_again(impl, server, http):
    """RFC 9110 §8.4: Content-Encoding lists the codings applied, in order; a handler that
    sends gzip-coded content with ``Content-Encoding: gzip`` itself gets it on the wire
    as written, not gzip-coded a second time (which a client decoding once would show as
    binary garbage)."""
    srv = server.serve(_content_app(impl), COMPRESS)
    response, transcript = await _fetch(http, srv, "gzip", "/?coding=gzip")
    if _tokens(response, "content-encoding") != ["gzip"]:
        raise Violation(
            "a response the handler had already gzip-coded went out with other codings than its own.",
            expected="'Content-Encoding: gzip' (once)",
            observed=f"Content-Encoding {response.header_list('content-encoding')!r}",
            transcript=transcript,
        )
    _decoded(response, transcript, TEXT)


@check("Tornado docs: Application settings (compress_response); RFC 9112 §7.1", Level.TORNADO)
async def test_a_flushed_compressed_response_decodes_to_the_original(impl, server, http):
    """A response written in two parts with a ``flush()`` between them is still coded as
    one gzip stream (the first part cannot know the length of the whole, so it is sent
    chunked): the content decodes to what the handler wrote, in order."""
    srv = server.serve(_content_app(impl), COMPRESS)
    response, transcript = await _fetch(http, srv, "gzip", "/?flush=1")
    _assert_gzipped(response, transcript, "a 3 KiB text response written in two flushed parts")


@check("RFC 9110 §9.3.2 (SHOULD; MAY omit fields determined while generating the content)", Level.TORNADO)
async def test_head_announces_the_coding_of_the_get(impl, server, http):
    """RFC 9110 §9.3.2: "The server SHOULD send the same header fields in response to a
    HEAD request as it would have sent if the request method had been GET." Tornado codes
    the HEAD response as it codes the GET (same Content-Encoding and Content-Length), and
    sends no content: the next request on the connection (sent once the HEAD response is
    read) is answered on its own."""
    srv = server.serve(_content_app(impl), COMPRESS)
    get, _ = await _fetch(http, srv, "gzip")
    after = None
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("HEAD", "/", "Accept-Encoding: gzip"))
        head = await conn.receive_response("HEAD")
        # Sent only once the HEAD response is read (no pipelining): content after the HEAD
        # response would be read as the start of this one.
        if head.keep_alive:
            await conn.send(raw_request("GET", "/?size=40", "Connection: close"))
            after = await conn.response_or_close("GET")
    announced = [(r.header("content-encoding"), r.header("content-length")) for r in (get, head)]
    if head.status != 200 or announced[0] != announced[1]:
        raise Violation(
            "the HEAD response does not announce the coding and length of the GET response.",
            expected=f"200 OK, Content-Encoding and Content-Length {announced[0]!r}",
            observed=f"{head.describe()}, {announced[1]!r}",
            transcript=conn.transcript,
        )
    if head.keep_alive and (after is None or after.body != TEXT[:40]):
        raise Violation(
            "the request after a HEAD was not answered on its own: the HEAD response carried content.",
            expected=f"200 OK with {TEXT[:40]!r}",
            observed="the connection closed" if after is None else f"{after.describe()} with {after.body[:40]!r}",
            transcript=conn.transcript,
        )


@check("RFC 9110 §15.4.5", Level.MUST)
async def test_not_modified_keeps_vary_accept_encoding(impl, server, http):
    """RFC 9110 §15.4.5: "The server generating a 304 response MUST generate any of the
    following header fields that would have been sent in a 200 (OK) response to the same
    request: Content-Location, Date, ETag, and Vary". The 200 of a compressed text
    response has ``Vary: Accept-Encoding``; its 304 (If-None-Match with the ETag just
    served) has it too."""
    srv = server.serve(_content_app(impl), COMPRESS)
    first, _ = await _fetch(http, srv, "gzip")
    etag = first.header("etag")
    if etag is None:
        raise Violation(
            "a text response of a handler that sets no ETag came without one; RequestHandler computes it.",
            expected="an ETag field",
            observed=f"{first.describe()} {first.headers!r}",
        )
    response, transcript = await _fetch(http, srv, "gzip", extra=(("If-None-Match", etag),))
    if response.status != 304 or "accept-encoding" not in _tokens(response, "vary"):
        raise Violation(
            "the 304 answering If-None-Match drops the Vary of the 200 it stands for.",
            expected="304 Not Modified with 'Vary: Accept-Encoding'",
            observed=f"{response.describe()}, Vary {response.header_list('vary')!r}",
            transcript=transcript,
        )


# -- idle_connection_timeout and body_timeout ------------------------------------------------


async def _closed_or_408(conn: Any, what: str, option: str) -> None:
    """The implementation must end ``conn`` (a 408 first is allowed) within the deadline."""
    try:
        answer = await conn.response_or_close()
    except Timeout:
        raise Timeout(
            f"{what}: the implementation neither closed the connection nor answered within {conn.timeout:g}s, "
            f"although {option} was set"
        ) from None
    if answer is None:
        return
    if answer.status != 408:
        raise Violation(
            f"{what}, and the implementation answered it instead of timing it out ({option}).",
            expected="the connection closed (after a 408 Request Timeout, or without a response)",
            observed=answer.describe(),
            transcript=conn.transcript,
        )
    if answer.keep_alive and not await conn.closed_by_peer():
        raise Violation(
            f"{what}: after its 408 the implementation kept the connection open.",
            expected="the connection closed after the 408",
            observed="bytes after the 408",
            transcript=conn.transcript,
        )


@check("Tornado docs: HTTPServer (idle_connection_timeout)", Level.TORNADO)
@pytest.mark.parametrize("when", ["before-the-first-request", "after-a-response", "inside-a-head"])
async def test_idle_connection_is_closed_after_idle_connection_timeout(impl, server, http, when):
    """Tornado's ``HTTPServer(idle_connection_timeout=...)`` bounds how long a connection
    may wait for a request head (HTTP1ConnectionParameters: "header_timeout: how long to
    wait for all headers (seconds)"): a connection that sends nothing, a keep-alive
    connection idle after its response, and a head that stops half-way are all closed
    once it elapses (here 0.01 s; 0.1 s, then 1 s if the machine was too slow for it, where
    a first request must arrive before it; the check waits for the close with the run's
    deadline)."""
    timeouts = ROOMY if when == "after-a-response" else (SHORT,)
    for timeout in timeouts:
        srv = server.serve(echo_app(impl), idle_connection_timeout=timeout)
        async with await http.connect(srv) as conn:
            if when == "after-a-response":
                await conn.send_request("GET", "/first")
                response = await conn.response_or_close()
                if response is None and timeout != timeouts[-1]:
                    continue  # closed before the first request was served: try a longer timeout
                assert response is not None, f"GET /first was not answered (idle_connection_timeout={timeout})"
                assert response.body == echo_line("GET", "/first"), f"GET /first answered {response.describe()}"
            elif when == "inside-a-head":
                await conn.send(b"GET /stalled HTTP/1.1\r\nHost: conformance\r\nX-Half: ")
            await _closed_or_408(
                conn, f"a connection idle {when.replace('-', ' ')}", f"idle_connection_timeout={timeout}"
            )
        return


def _busy_app(impl: Any) -> tuple[list[tuple[str, Any]], Any, Trace]:
    """``/busy``: records "started", then waits for the returned Event before answering."""
    web = impl.part("web")
    gate = impl.part("locks").Event()
    trace = Trace()

    class Busy(web.RequestHandler):
        async def get(self) -> None:
            trace.add("started")
            await gate.wait()
            self.write("finished")

    return [("/busy", Busy)], gate, trace


@check("Tornado docs: HTTPServer (idle_connection_timeout)", Level.TORNADO)
async def test_a_connection_in_use_outlives_idle_connection_timeout(impl, server, http):
    """``idle_connection_timeout`` is about idle connections: a request whose handler is
    still working is not cut by it. The handler waits until the kit has seen another
    connection, opened after the request started, closed by the idle timeout (so the
    timeout has certainly elapsed for the busy one too); released, its response must
    arrive. The timeout is 0.1 s, then 1 s when the shorter one failed (a starved machine
    may not have read the request before 0.1 s)."""
    for timeout in ROOMY:
        last = timeout == ROOMY[-1]
        handlers, gate, trace = _busy_app(impl)
        srv = server.serve(handlers, idle_connection_timeout=timeout)
        async with await http.connect(srv) as busy:
            await busy.send_request("GET", "/busy")
            try:
                trace.wait_for(1, busy.timeout, "start the handler of GET /busy")
            except Timeout:
                if last:
                    raise
                continue  # the request was not read before the short timeout: try the longer one
            async with await http.connect(srv) as idle:
                await _closed_or_408(
                    idle,
                    "a connection opened after GET /busy started and left idle",
                    f"idle_connection_timeout={timeout}",
                )
            server.call(gate.set)
            response = await busy.response_or_close()
        if response is not None and response.body == b"finished":
            return
        if last:
            raise Violation(
                "a connection whose request was being handled was closed by idle_connection_timeout.",
                expected="200 OK with b'finished' once the handler was released",
                observed="the connection closed" if response is None else f"{response.describe()} {response.body!r}",
                transcript=busy.transcript,
            )


@check("Tornado docs: HTTPServer (body_timeout); RFC 9110 §15.5.9", Level.TORNADO)
@pytest.mark.parametrize(
    "framing, partial",
    [
        pytest.param("Content-Length: 100", b"x" * 10, id="content-length"),
        pytest.param("Transfer-Encoding: chunked", b"64\r\n" + b"x" * 10, id="chunked"),
    ],
)
async def test_a_stalled_body_is_ended_by_body_timeout(impl, server, http, framing, partial):
    """Tornado's ``HTTPServer(body_timeout=...)`` (HTTP1ConnectionParameters: "how long to
    wait while reading body (seconds)"): a body that stops arriving is abandoned and the
    connection closed (RFC 9110 §15.5.9 lets a 408 Request Timeout precede the close);
    the handler never sees the partial body."""
    trace = Trace()
    srv = server.serve(echo_app(impl, trace), body_timeout=SHORT)
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("POST", "/stalled", framing, partial))
        await _closed_or_408(conn, f"a body ({framing}) that stalled after 10 octets", f"body_timeout={SHORT}")
    server.barrier()
    assert trace.events == [], f"the handler ran ({trace.events}) for a body that never completed"


# -- no_keep_alive ---------------------------------------------------------------------------

#: The requests a no_keep_alive server answers and closes after: whatever the client asks for.
_NO_KEEP_ALIVE_REQUESTS = [
    pytest.param("HTTP/1.1", None, id="http11"),
    pytest.param("HTTP/1.1", "keep-alive", id="http11-keep-alive"),
    pytest.param("HTTP/1.0", "keep-alive", id="http10-keep-alive"),
]


@check("RFC 9112 §9.6; Tornado docs: HTTPServer (no_keep_alive)", Level.MUST)
@pytest.mark.parametrize("version, connection", _NO_KEEP_ALIVE_REQUESTS)
async def test_no_keep_alive_closes_after_every_response_and_says_so(impl, server, http, version, connection):
    """RFC 9112 §9.6: "A server that does not support persistent connections MUST send the
    'close' connection option in every response message that does not have a 1xx
    (Informational) status code", and "A server that sends a 'close' connection option
    MUST initiate closure of the connection ... after it sends the response containing
    the 'close'". ``HTTPServer(no_keep_alive=True)`` is such a server, whatever the client
    asks for."""
    srv = server.serve(echo_app(impl), no_keep_alive=True)
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("GET", "/", f"Connection: {connection}" if connection else "", version=version))
        response = await conn.receive_response()
        options = _tokens(response, "connection")
        if "close" not in options or "keep-alive" in options:
            raise Violation(
                f"a response of a no_keep_alive server to a {version} request"
                f"{f' with Connection: {connection}' if connection else ''} does not carry the 'close' option.",
                expected="'Connection: close'",
                observed=f"Connection {response.header_list('connection')!r}",
                transcript=conn.transcript,
            )
        closed = await closes(conn)
    if not closed:
        raise Violation(
            "a no_keep_alive server kept the connection open after a response carrying 'Connection: close'.",
            expected="the connection closed after the response",
            observed=f"still open after {conn.timeout:g}s, or more bytes sent",
            transcript=conn.transcript,
        )


@check(
    "Tornado 4.5.0 release notes (tornado.httpserver); Tornado docs: HTTPServer (no_keep_alive), "
    "HTTP1ConnectionParameters (no_keep_alive)",
    Level.TORNADO,
)
@pytest.mark.parametrize("version, connection", _NO_KEEP_ALIVE_REQUESTS)
async def test_no_keep_alive_closes_after_every_response(impl, server, http, version, connection):
    """HTTP1ConnectionParameters: "no_keep_alive: If true, always close the connection after
    one request", and ``HTTPServer`` passes its ``no_keep_alive`` keyword there (Tornado 4.5.0
    made the option take effect again after it had been ignored). Only the close is judged
    here, whatever the client asked for; what the response says about it (RFC 9112 §9.6's
    'close' option, sent by Tornado from 5.0 on) is judged by
    no_keep_alive_closes_after_every_response_and_says_so."""
    srv = server.serve(echo_app(impl), no_keep_alive=True)
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("GET", "/", f"Connection: {connection}" if connection else "", version=version))
        response = await conn.receive_response()
        assert response.body == echo_line("GET", "/"), f"GET / answered {response.describe()}"
        closed = await closes(conn)
    if not closed:
        raise Violation(
            f"a no_keep_alive server kept the connection open after its response to a {version} request"
            f"{f' with Connection: {connection}' if connection else ''}.",
            expected="the connection closed by the server after the response",
            observed=f"still open after {conn.timeout:g}s, or more bytes sent",
            transcript=conn.transcript,
        )


# -- size bounds: max_header_size, max_body_size, max_buffer_size ------------------------------

LIMIT = 1024


def _head_of(size: int) -> bytes:
    """A GET whose head (request line to the empty line, CRLFs included) is ``size`` octets."""
    bare = raw_request("GET", "/bounded", "Connection: close\r\nX-Pad: ")
    return raw_request("GET", "/bounded", "Connection: close\r\nX-Pad: " + "p" * (size - len(bare)))


async def _not_served(conn: Any, server: Any, trace: Trace, what: str, method: str = "GET") -> None:
    """The request on ``conn`` must be refused (a 4xx, or a close) and its handler not run."""
    answer = await conn.response_or_close(method)
    if answer is not None and not 400 <= answer.status < 500:
        raise Violation(
            f"{what} was served: the bound is inclusive, one octet over it is refused.",
            expected="a 4xx status, or the connection closed",
            observed=f"{answer.describe()} with {answer.body[:60]!r}",
            transcript=conn.transcript,
        )
    server.barrier()
    assert trace.events == [], f"the handler ran ({trace.events}) for {what}"


@check("Tornado docs: HTTPServer (max_header_size); HTTP1ConnectionParameters", Level.TORNADO)
async def test_a_head_of_exactly_max_header_size_is_served(impl, server, http):
    """HTTP1ConnectionParameters: "max_header_size: maximum amount of data for HTTP
    headers"; Tornado counts the whole head, request line to the empty line included. A
    head of exactly ``max_header_size`` octets is within the bound and served."""
    srv = server.serve(echo_app(impl), max_header_size=LIMIT)
    async with await http.connect(srv) as conn:
        await conn.send(_head_of(LIMIT))
        answer = await conn.response_or_close()
    if answer is None or answer.body != echo_line("GET", "/bounded"):
        raise Violation(
            f"a head of exactly max_header_size={LIMIT} octets was refused; the bound is the largest head accepted.",
            expected=f"200 OK with {echo_line('GET', '/bounded')!r}",
            observed="the connection closed" if answer is None else f"{answer.describe()} {answer.body[:60]!r}",
            transcript=conn.transcript,
        )


@check("Tornado docs: HTTPServer (max_header_size); HTTP1ConnectionParameters", Level.TORNADO)
async def test_a_head_one_octet_over_max_header_size_is_not_served(impl, server, http):
    """The other side of the bound: a head of ``max_header_size + 1`` octets (the same
    request with one more octet of padding) is not served (the refusal class itself is
    judged by fields.head_larger_than_max_header_size_is_refused)."""
    trace = Trace()
    srv = server.serve(echo_app(impl, trace), max_header_size=LIMIT)
    async with await http.connect(srv) as conn:
        await conn.send(_head_of(LIMIT + 1))
        await _not_served(conn, server, trace, f"a head of {LIMIT + 1} octets (max_header_size={LIMIT})")


def _body_request(framing: str, size: int) -> bytes:
    body = b"b" * size
    if framing == "chunked":
        return raw_request("POST", "/bounded", "Transfer-Encoding: chunked", b"%x\r\n%s\r\n0\r\n\r\n" % (size, body))
    return raw_request("POST", "/bounded", f"Content-Length: {size}", body)


@check("Tornado docs: HTTPServer (max_body_size); HTTP1ConnectionParameters", Level.TORNADO)
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_a_body_of_exactly_max_body_size_is_served(impl, server, http, framing):
    """HTTP1ConnectionParameters: "max_body_size: maximum amount of data for body": a body
    of exactly ``max_body_size`` octets is within the bound and reaches the handler."""
    srv = server.serve(echo_app(impl), max_body_size=LIMIT)
    async with await http.connect(srv) as conn:
        await conn.send(_body_request(framing, LIMIT))
        answer = await conn.response_or_close("POST")
    expected = echo_line("POST", "/bounded", b"b" * LIMIT)
    if answer is None or answer.body != expected:
        raise Violation(
            f"a {framing} body of exactly max_body_size={LIMIT} octets was refused; the bound is the largest body "
            "accepted.",
            expected=f"200 OK echoing the {LIMIT} octets",
            observed="the connection closed" if answer is None else f"{answer.describe()} {answer.body[:60]!r}",
            transcript=conn.transcript,
        )


@check("Tornado docs: HTTPServer (max_body_size); HTTP1ConnectionParameters", Level.TORNADO)
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_a_body_one_octet_over_max_body_size_is_not_served(impl, server, http, framing):
    """A body of ``max_body_size + 1`` octets is not delivered (the refusal class is judged
    by body_framing.body_larger_than_max_body_size_is_refused)."""
    trace = Trace()
    srv = server.serve(echo_app(impl, trace), max_body_size=LIMIT)
    async with await http.connect(srv) as conn:
        await conn.send(_body_request(framing, LIMIT + 1))
        await _not_served(
            conn, server, trace, f"a {framing} body of {LIMIT + 1} octets (max_body_size={LIMIT})", "POST"
        )


@check("Tornado docs: HTTPServer (max_buffer_size); iostream.BaseIOStream (max_buffer_size)", Level.TORNADO)
async def test_a_body_larger_than_max_buffer_size_is_not_buffered(impl, server, http):
    """IOStream docs: "``max_buffer_size`` is the maximum amount of incoming data to
    buffer"; ``HTTPServer(max_buffer_size=...)`` passes it to every connection, and with
    no ``max_body_size`` it also bounds the body. A 4 KiB body, which a handler that is not
    streaming must receive whole, is not delivered to a server with ``max_buffer_size=1024``."""
    trace = Trace()
    srv = server.serve(echo_app(impl, trace), max_buffer_size=LIMIT)
    async with await http.connect(srv) as conn:
        await conn.send(_body_request("content-length", 4 * LIMIT))
        await _not_served(conn, server, trace, f"a body of {4 * LIMIT} octets (max_buffer_size={LIMIT})", "POST")


# -- chunk_size -----------------------------------------------------------------------------


@check("Tornado docs: HTTPServer (chunk_size); HTTP1ConnectionParameters; web.stream_request_body", Level.TORNADO)
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_a_streamed_body_arrives_in_pieces_of_at_most_chunk_size(impl, server, http, framing):
    """HTTP1ConnectionParameters: "chunk_size: how much data to read into memory at once".
    A handler decorated with ``@stream_request_body`` receives an 8 KiB body, sent in one
    write, through ``data_received`` in pieces no larger than ``chunk_size`` (1024), which
    together are the body."""
    web = impl.part("web")
    pieces: list[bytes] = []

    @web.stream_request_body
    class Streamed(web.RequestHandler):
        def data_received(self, chunk: bytes) -> None:
            pieces.append(bytes(chunk))

        def post(self) -> None:
            self.finish(json.dumps([len(p) for p in pieces]))

    size = 8 * LIMIT
    srv = server.serve([("/bounded", Streamed)], chunk_size=LIMIT)
    async with await http.connect(srv) as conn:
        await conn.send(_body_request(framing, size))
        response = await conn.receive_response("POST")
    sizes = json.loads(response.body) if response.status == 200 else None
    if sizes is None or max(sizes, default=0) > LIMIT or b"".join(pieces) != b"b" * size:
        raise Violation(
            f"a streamed {framing} body reached data_received in pieces larger than chunk_size={LIMIT} (or not whole).",
            expected=f"pieces of at most {LIMIT} octets, {size} in all",
            observed=f"{response.describe()}, piece sizes {sizes!r}, {sum(map(len, pieces))} octets in all",
            transcript=conn.transcript,
        )
