"""The request target and the method: what the handler is told, and what is refused.

Reference: RFC 9112 §3 (https://www.rfc-editor.org/rfc/rfc9112#section-3), RFC 9110 §9
(https://www.rfc-editor.org/rfc/rfc9110#section-9) for methods, and Tornado's
``RequestHandler`` documentation for the routing of methods to handler methods.
"""

from __future__ import annotations

import json

import pytest

from conformance import Level, Trace, Violation, check, requires

from ._apps import SHOULD_400_OR_301, Refusal, assert_rejected, attributes_app, raw_request

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]


@check("RFC 9112 §3.2.1", Level.MUST)
async def test_origin_form_target_gives_the_handler_its_path_and_query(impl, server, http):
    """RFC 9112 §3.2.1: origin-form is "absolute-path [ "?" query ]"; RFC 9112 §3.3 builds
    the target URI from it. Tornado documents ``HTTPServerRequest.uri`` as the requested
    uri, ``path`` as "the path portion of uri" and ``query`` as "the query portion of
    uri": the split happens at the first "?" and nothing is decoded."""
    srv = server.serve(attributes_app(impl))
    target = "/a%20b/c;d?x=1&y=%2F?z"
    async with await http.connect(srv) as conn:
        answer = await conn.request("GET", target)
    seen = json.loads(answer.body) if answer.status == 200 else {}
    expected = {"uri": target, "path": "/a%20b/c;d", "query": "x=1&y=%2F?z"}
    got = {key: seen.get(key) for key in expected}
    if got != expected:
        raise Violation(
            f"the handler did not see GET {target} as its path, then '?' and its query, undecoded (answer: "
            f"{answer.describe()}).",
            expected=expected,
            observed=got,
            transcript=conn.transcript,
        )


@check("RFC 9112 §3.2.2", Level.MUST)
async def test_absolute_form_target_is_routed_by_its_path(impl, server, http):
    """RFC 9112 §3.2.2: "a server MUST accept the absolute-form in requests even though
    most HTTP/1.1 clients will only send the absolute-form to a proxy." RFC 9112 §3.3:
    the target URI is then the request-target itself, so the handler sees the path and
    query of that URI, and (RFC 9112 §3.2.2) "the server MUST ignore the received Host
    header field (if any) and instead use the host information of the request-target"."""
    srv = server.serve(attributes_app(impl))
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("GET", "http://example.org:8080/abs/path?q=1"))
        answer = await conn.receive_response("GET")
    seen = json.loads(answer.body) if answer.status == 200 else {}
    expected = {"path": "/abs/path", "query": "q=1", "host": "example.org:8080"}
    got = {key: seen.get(key) for key in expected}
    if got != expected:
        raise Violation(
            "'GET http://example.org:8080/abs/path?q=1' was not taken as the absolute-form: its path is routed and "
            f"its authority replaces Host (answer: {answer.describe()}).",
            expected=expected,
            observed=got,
            transcript=conn.transcript,
        )


@check("RFC 9112 §3.2.4", Level.MUST)
async def test_options_asterisk_is_answered_without_running_a_resource_handler(impl, server, http):
    """RFC 9112 §3.2.4: "The asterisk-form of request-target is only used for a server-wide
    OPTIONS request"; it names no resource, so no handler routed by path may receive it
    as if it were one (a handler on ``.*`` would otherwise be run with path ``*``). The
    request gets a final response and the connection stays usable."""
    trace = Trace()
    web = impl.part("web")

    class Everything(web.RequestHandler):
        def options(self, *args):
            trace.add(f"OPTIONS {self.request.path}")

    srv = server.serve([(r"/.*", Everything)])
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("OPTIONS", "*") + raw_request("OPTIONS", "/x"))
        star = await conn.receive_response("OPTIONS")
        if star.status >= 500:
            raise Violation(
                "'OPTIONS *' got a server error: it is a valid request about the server as a whole.",
                expected="a status below 500",
                observed=star.describe(),
                transcript=conn.transcript,
            )
        if star.keep_alive:
            after = await conn.receive_response("OPTIONS")
            assert after.status < 300, f"'OPTIONS /x' after 'OPTIONS *' got {after.describe()}"
    server.barrier()
    if not all(event == "OPTIONS /x" for event in trace.events):
        raise Violation(
            "the handler routed on '/.*' ran for 'OPTIONS *': the asterisk is not a path.",
            expected="only 'OPTIONS /x'",
            observed=trace.events,
            transcript=conn.transcript,
        )


ROUTED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@check("Tornado docs: RequestHandler.get/post/...", Level.TORNADO)
async def test_each_supported_method_runs_the_handler_method_of_its_name(impl, server, http):
    """Tornado's ``RequestHandler`` documentation: "Implement any of the following methods
    (collectively known as the HTTP verb methods) to handle the corresponding HTTP
    method": ``get``, ``head``, ``post``, ``delete``, ``patch``, ``put``, ``options``. A
    handler defining all seven must run exactly the one named by the request method."""
    trace = Trace()
    web = impl.part("web")

    def verb(name):
        def run(self):
            trace.add(name)
            self.set_header("X-Handler-Method", name)

        return run

    Handler = type("AllVerbs", (web.RequestHandler,), {m.lower(): verb(m.lower()) for m in ROUTED_METHODS})
    srv = server.serve([("/", Handler)])
    async with await http.connect(srv) as conn:
        for method in ROUTED_METHODS:
            body = b"x" if method in ("POST", "PUT", "PATCH") else b""
            answer = await conn.request(method, "/", body=body)
            server.barrier()
            if not (answer.status == 200 and trace.events[-1:] == [method.lower()]):
                raise Violation(
                    f"{method} / did not run the verb method named after it, and only it.",
                    expected=f"200, the handler method {method.lower()!r} last",
                    observed=f"{answer.describe()}, the handler methods {trace.events}",
                    transcript=conn.transcript,
                )


@check("RFC 9110 §9.1", Level.MUST)
@pytest.mark.parametrize(
    "method",
    [pytest.param("get", id="lower-case-get"), pytest.param("Post", id="capitalised-post")],
)
async def test_method_token_is_case_sensitive(impl, server, http, method):
    """RFC 9110 §9.1: "The method token is case-sensitive because it might be used as a
    gateway to object-based systems with case-sensitive method names." ``get`` is not
    ``GET``: a handler whose ``SUPPORTED_METHODS`` lists only ``get`` and ``Post``
    (Tornado docs: "Override this to restrict or extend the set of methods") must see
    the method exactly as sent, and is not offered the upper-case one."""
    web = impl.part("web")

    class CaseSensitive(web.RequestHandler):
        SUPPORTED_METHODS = ("get", "Post")

        def get(self):
            self.finish(self.request.method)

        post = get

    srv = server.serve([("/", CaseSensitive)])
    async with await http.connect(srv) as conn:
        await conn.send(raw_request(method, "/"))
        answer = await conn.response_or_close(method)
    if not (answer is not None and answer.status == 200 and answer.body == method.encode()):
        raise Violation(
            f"the method {method!r}, listed in SUPPORTED_METHODS, did not reach the handler as sent: the method "
            "token is case-sensitive, never re-cased.",
            expected=f"200 with {method.encode()!r}",
            observed=f"{answer.describe()} with {answer.body!r}" if answer else "no response",
            transcript=conn.transcript,
        )


#: Tornado answers 400; RFC 9110 §15.6.6 defines 505 for it, which a server "can send" (RFC 9112 §2.3).
UNSUPPORTED_VERSION = Refusal(
    (400, 505),
    False,
    None,
    "Tornado refuses a request line of a version it does not speak with 400 (RFC 9110 §15.6.6: 505)",
)


@check("RFC 9112 §2.3; RFC 9110 §15.6.6 (505 is optional); Tornado answers 400", Level.TORNADO)
@pytest.mark.parametrize(
    "version",
    [
        pytest.param("HTTP/9.9", id="future-major-version"),
        pytest.param("HTTP/2.0", id="http2-in-an-http1-request-line"),
        pytest.param("HTTP/0.9", id="http09"),
    ],
)
async def test_unsupported_http_version_is_rejected(impl, server, http, version):
    """RFC 9112 §2.3: "A server can send a 505 (HTTP Version Not Supported) response if it
    wishes, for any reason, to refuse service of the client's major protocol version", and
    RFC 9110 §15.6.6: "The 505 (HTTP Version Not Supported) status code indicates that the
    server does not support, or refuses to support, the major version of HTTP that was
    used in the request message." No sentence obliges a server to refuse, so this is
    Tornado's behaviour: it answers 400 to a version it does not speak and never serves
    the request as HTTP/1.1 (a 505 is as good; a silent close is non-strict)."""
    trace = Trace()
    srv = server.serve(attributes_app(impl, trace))
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("GET", "/", version=version))
        await assert_rejected(conn, server, trace, f"a {version} request line", refusal=UNSUPPORTED_VERSION)


INVALID_REQUEST_LINES = [
    pytest.param(b"GE(T / HTTP/1.1", id="separator-in-method"),
    pytest.param(b"GE\x01T / HTTP/1.1", id="control-character-in-method"),
    pytest.param(b"GET /\x7f HTTP/1.1", id="del-in-target"),
    pytest.param(b"GET /a\rb HTTP/1.1", id="bare-cr-in-target"),
]


@check("RFC 9112 §3", Level.SHOULD)
@pytest.mark.parametrize("line", INVALID_REQUEST_LINES)
async def test_invalid_method_or_target_is_rejected(impl, server, http, line):
    """RFC 9112 §3: request-line = method SP request-target SP HTTP-version, the method a
    token (RFC 9110 §9.1) and the target free of whitespace and controls; "Recipients of
    an invalid request-line SHOULD respond with either a 400 (Bad Request) error or a 301
    (Moved Permanently) redirect with the request-target properly encoded." RFC 9112
    §2.2: a bare CR is invalid. Never the handler; a 4xx other than 400, or a close
    without a response, is non-strict."""
    trace = Trace()
    srv = server.serve(attributes_app(impl, trace))
    async with await http.connect(srv) as conn:
        await conn.send(line + b"\r\nHost: conformance\r\n\r\n")
        await assert_rejected(conn, server, trace, f"the request line {line!r}", refusal=SHOULD_400_OR_301)


#: RFC 9112 §3: "A server that receives a request-target longer than any URI it wishes to
#: parse MUST respond with a 414 (URI Too Long) status code".
TARGET_TOO_LONG = Refusal(
    (414,),
    True,
    None,
    "RFC 9112 §3: a server that receives a request-target longer than any URI it wishes to parse MUST respond with "
    "a 414 (URI Too Long)",
)


@check("RFC 9112 §3", Level.MUST)
async def test_overlong_request_line_is_refused(impl, server, http):
    """RFC 9112 §3: "A server that receives a request-target longer than any URI it wishes
    to parse MUST respond with a 414 (URI Too Long) status code." Tornado bounds the whole
    head by ``max_header_size``; a 4 KiB target past a bound of 1024 is one it does not
    wish to parse. Another 4xx (say 431 for the head) is non-strict; closing without a
    response fails the check; the handler never runs."""
    trace = Trace()
    srv = server.serve(attributes_app(impl, trace), max_header_size=1024)
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("GET", "/" + "a" * 4096))
        await assert_rejected(
            conn, server, trace, "a 4 KiB request target (max_header_size=1024)", refusal=TARGET_TOO_LONG
        )
