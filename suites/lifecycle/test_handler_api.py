"""The RequestHandler API a handler calls: Finish, clear, ETags, status, login URL, settings,
the debug error page, detach() and flow control of streamed bodies.

Reference: Tornado docs, tornado.web (https://www.tornadoweb.org/en/stable/web.html): "Output",
"Other", Finish, authenticated, stream_request_body, Application settings; RFC 9110 §13.1.2 and
§15.4.5 (https://www.rfc-editor.org/rfc/rfc9110).

Rule of this module: what a handler sees (a return value, an exception) goes into a `Trace`
with the response's summary as its last row, so a failure shows the whole exchange.
"""

from __future__ import annotations

import pytest

from conformance import Level, Trace, Violation, check, requires

from ._support import COROUTINE_PARTS, summary

pytestmark = [pytest.mark.lifecycle, requires("web", "httpserver")]


# -- raise Finish ----------------------------------------------------------------------


def _finish_after_write(web, gen, trace):
    class Handler(web.RequestHandler):
        def get(self):
            trace.add("get: write('partial'), raise Finish()")
            self.write("partial")
            raise web.Finish()

    return Handler, "200 OK, body b'partial'"


def _finish_with_chunk(web, gen, trace):
    class Handler(web.RequestHandler):
        def get(self):
            trace.add("get: write('a'), raise Finish('b')")
            self.write("a")
            raise web.Finish("b")

    return Handler, "200 OK, body b'ab'"


def _finish_keeps_status_and_headers(web, gen, trace):
    class Handler(web.RequestHandler):
        def get(self):
            trace.add("get: set_status(401), set_header(WWW-Authenticate), raise Finish()")
            self.set_status(401)
            self.set_header("WWW-Authenticate", 'Basic realm="conformance"')
            raise web.Finish()

    return Handler, "401 Unauthorized, body b''"


def _finish_in_prepare(web, gen, trace):
    class Handler(web.RequestHandler):
        def prepare(self):
            trace.add("prepare: set_status(403), raise Finish('denied')")
            self.set_status(403)
            raise web.Finish("denied")

        def get(self):
            trace.add("get")
            self.write("the verb method ran")

    return Handler, "403 Forbidden, body b'denied'"


def _finish_in_async_get(web, gen, trace):
    class Handler(web.RequestHandler):
        async def get(self):
            await gen.sleep(0)
            trace.add("get: after await, raise Finish('late')")
            raise web.Finish("late")

    return Handler, "200 OK, body b'late'"


def _finish_after_flush(web, gen, trace):
    class Handler(web.RequestHandler):
        def get(self):
            trace.add("get: write('a'), flush(), raise Finish('b')")
            self.write("a")
            self.flush()
            raise web.Finish("b")

    return Handler, "200 OK, body b'ab'"


_FIRST_ROW = {
    _finish_after_write: "get: write('partial'), raise Finish()",
    _finish_with_chunk: "get: write('a'), raise Finish('b')",
    _finish_keeps_status_and_headers: "get: set_status(401), set_header(WWW-Authenticate), raise Finish()",
    _finish_in_prepare: "prepare: set_status(403), raise Finish('denied')",
    _finish_in_async_get: "get: after await, raise Finish('late')",
    _finish_after_flush: "get: write('a'), flush(), raise Finish('b')",
}


@check("Tornado docs: tornado.web.Finish", Level.TORNADO)
@pytest.mark.parametrize(
    "make_handler",
    [
        pytest.param(_finish_after_write, id="bare-after-write"),
        pytest.param(_finish_with_chunk, id="with-chunk"),
        pytest.param(_finish_keeps_status_and_headers, id="status-and-headers-kept"),
        pytest.param(_finish_in_prepare, id="in-prepare"),
        pytest.param(_finish_in_async_get, id="in-async-get", marks=COROUTINE_PARTS),
        pytest.param(_finish_after_flush, id="after-flush"),
    ],
)
async def test_raise_finish_ends_the_request_without_an_error_page(impl, server, http, make_handler):
    """tornado.web.Finish: "An exception that ends the request without producing an error
    response. When Finish is raised in a RequestHandler, the request will end (calling
    RequestHandler.finish if it hasn't already been called), but the error-handling methods
    (including RequestHandler.write_error) will not be called. If Finish() was created with no
    arguments, the pending response will be sent as-is. If Finish() was given an argument, that
    argument will be passed to RequestHandler.finish()." Raised in prepare(), it ends the request
    there: the verb method does not run."""
    web = impl.part("web")
    gen = impl.part("gen") if make_handler is _finish_in_async_get else None
    trace = Trace()
    base, response_row = make_handler(web, gen, trace)

    class Handler(base):
        def write_error(self, status_code, **kwargs):
            trace.add(f"write_error({status_code})")
            super().write_error(status_code, **kwargs)

        def on_finish(self):
            trace.add("on_finish")

    srv = server.serve([("/", Handler)])
    response = await http.request(srv, "GET", "/")
    server.barrier()
    trace.add(summary(response))
    trace.assert_equal(
        [_FIRST_ROW[make_handler], "on_finish", response_row],
        "raising Finish must end the request with the pending response (plus Finish's argument, passed to "
        "finish()), keep the status and headers the handler set, and call neither write_error nor the verb "
        "method after prepare(). The hooks (and the response, last row) were:",
    )
    if make_handler is _finish_keeps_status_and_headers:
        challenge = response.header("WWW-Authenticate")
        if challenge != 'Basic realm="conformance"':
            raise Violation(
                "the header the handler set before raising Finish() is not on the response.",
                expected='WWW-Authenticate: Basic realm="conformance"',
                observed=f"WWW-Authenticate: {challenge or '(absent)'}",
            )


# -- clear() -----------------------------------------------------------------------------


@check("Tornado docs: RequestHandler.clear, set_default_headers", Level.TORNADO)
async def test_clear_resets_headers_status_and_pending_output(impl, server, http):
    """RequestHandler.clear: "Resets all headers and content for this response."
    set_default_headers: "Override this to set HTTP headers at the beginning of the request."
    Tornado's clear() starts the headers again from the defaults (Content-Type text/html,
    then set_default_headers()), drops the output written but not flushed, and sets the status
    back to 200 (the RFC leaves all of this to the framework)."""
    web = impl.part("web")

    class Handler(web.RequestHandler):
        def set_default_headers(self):
            self.set_header("X-Default", "yes")

        def get(self):
            self.set_status(404)
            self.set_header("X-Before-Clear", "set by get()")
            self.set_header("Content-Type", "text/plain")
            self.set_header("X-Default", "overwritten by get()")
            self.write("output clear() drops")
            self.clear()
            self.write("after clear")

    srv = server.serve([("/", Handler)])
    response = await http.request(srv, "GET", "/")
    observed = Trace()
    observed.add(summary(response, "X-Default", "X-Before-Clear", "Content-Type"))
    observed.assert_equal(
        [
            "200 OK, X-Default: yes, X-Before-Clear: (absent), Content-Type: text/html; charset=UTF-8, "
            "body b'after clear'"
        ],
        "get() set status 404, three headers and some output, then called clear() and wrote 'after clear': "
        "clear() must reset the headers to the defaults (set_default_headers() applied again), drop the "
        "pending output and set the status back to 200. The response was:",
    )


# -- ETags -------------------------------------------------------------------------------


def _etag_app(web, etag_of_none_route):
    """Two handlers writing the same body: one with the default compute_etag, one whose
    compute_etag returns ``etag_of_none_route``."""

    class Default(web.RequestHandler):
        def get(self):
            self.write("the representation")

    class NoEtag(web.RequestHandler):
        def compute_etag(self):
            return etag_of_none_route

        def get(self):
            self.write("the representation")

    return [("/default", Default), ("/none", NoEtag)]


@check("Tornado docs: RequestHandler.compute_etag, check_etag_header", Level.TORNADO)
@pytest.mark.parametrize("condition", ["absent", "star", "default-etag-of-the-body"])
async def test_compute_etag_returning_none_disables_etag_and_304(impl, server, http, condition):
    """RequestHandler.compute_etag: "Computes the etag header to be used for this request. By
    default uses a hash of the content written so far. May be overridden to provide custom
    etag implementations, or may return None to disable tornado's default etag support."
    set_etag_header: "no header will be set if compute_etag() returns None." Without an ETag,
    no If-None-Match (not even "*", nor the tag the default hash would give) turns the
    response into a 304: the representation is sent."""
    web = impl.part("web")
    srv = server.serve(_etag_app(web, None))
    default = await http.request(srv, "GET", "/default")
    default_etag = default.header("Etag")
    if condition == "default-etag-of-the-body" and not default_etag:
        raise Violation(
            "a handler with the default compute_etag sent no ETag, so there is no tag to send back.",
            expected='an ETag such as "<hash of the body>"',
            observed=summary(default, "Etag"),
        )
    value = {"absent": None, "star": "*", "default-etag-of-the-body": default_etag}[condition]
    headers = [("If-None-Match", value)] if value else []
    response = await http.request(srv, "GET", "/none", headers=headers)
    observed = Trace()
    observed.add(f"If-None-Match: {value or '(none)'} -> {summary(response, 'Etag')}")
    observed.assert_equal(
        [f"If-None-Match: {value or '(none)'} -> 200 OK, Etag: (absent), body b'the representation'"],
        "compute_etag() returns None: the response must carry no ETag and always be sent in full (200), "
        "whatever If-None-Match says. The response was:",
    )


_ETAG_CASES = [
    pytest.param('W/"v1"', '"v1"', True, id="weak-etag-strong-condition"),
    pytest.param('"v1"', 'W/"v1"', True, id="strong-etag-weak-condition"),
    pytest.param('"v2"', '"v1", "v2"', True, id="list-second"),
    pytest.param('"v2"', '"v1","v2"', True, id="list-without-spaces"),
    pytest.param('"v2"', '"v1", W/"v2"', True, id="list-weak-member"),
    pytest.param('"v1"', "*", True, id="star"),
    pytest.param('"v1"', '"V1"', False, id="case-differs"),
]


@check("RFC 9110 §13.1.2, §8.8.3.2; Tornado docs: RequestHandler.check_etag_header", Level.MUST)
@pytest.mark.parametrize(("etag", "condition", "matches"), _ETAG_CASES)
async def test_check_etag_header_uses_the_weak_comparison(impl, server, http, etag, condition, matches):
    """RequestHandler.check_etag_header: "Checks the Etag header against requests's
    If-None-Match. Returns True if the request's Etag matches and a 304 should be returned."
    RFC 9110 §13.1.2: "A recipient MUST use the weak comparison function when comparing entity
    tags for If-None-Match"; the field is "*" or a list of entity tags, and the condition is
    false if the selected representation's tag "matches any of the entity tags" listed.
    §8.8.3.2: "Weak comparison: two entity tags are equivalent if their opaque-tags match
    character-by-character, regardless of either or both being tagged as "weak"." The check
    calls check_etag_header() itself after set_header("Etag", ...), and lets finish() call it
    for a handler whose compute_etag() returns the tag (finish() "automatically" checks only a
    tag it set itself)."""
    web = impl.part("web")
    trace = Trace()

    class Direct(web.RequestHandler):
        def get(self):
            self.set_header("Etag", etag)
            trace.add(f"check_etag_header() -> {self.check_etag_header()!r}")
            self.write("the representation")

    class Automatic(web.RequestHandler):
        def compute_etag(self):
            return etag

        def get(self):
            self.write("the representation")

    srv = server.serve([("/direct", Direct), ("/automatic", Automatic)])
    await http.request(srv, "GET", "/direct", headers=[("If-None-Match", condition)])
    server.barrier()
    response = await http.request(srv, "GET", "/automatic", headers=[("If-None-Match", condition)])
    trace.add(f"compute_etag() -> {etag}: {response.status} {response.reason}")
    trace.assert_equal(
        [
            f"check_etag_header() -> {matches!r}",
            f"compute_etag() -> {etag}: " + ("304 Not Modified" if matches else "200 OK"),
        ],
        f"the response's ETag is {etag} and the request's If-None-Match is {condition}: under the weak "
        f"comparison they {'match' if matches else 'do not match'}, so check_etag_header() must return "
        f"{matches}, and a handler whose compute_etag() gives that tag must answer "
        f"{'304' if matches else '200'}. What the handler and the client saw:",
    )


@check("Tornado docs: RequestHandler.set_etag_header, compute_etag", Level.TORNADO)
@pytest.mark.parametrize("etag", [pytest.param('"v7"', id="post-with-etag"), pytest.param(None, id="post-none")])
async def test_set_etag_header_sets_what_compute_etag_returns(impl, server, http, etag):
    """RequestHandler.set_etag_header: "Sets the response's Etag header using
    self.compute_etag(). Note: no header will be set if compute_etag() returns None." Called
    by the handler, it works for any method: the automatic call at finish() is for GET and HEAD
    only, so a POST has an ETag only through it."""
    web = impl.part("web")

    class Handler(web.RequestHandler):
        def compute_etag(self):
            return etag

        def post(self):
            self.set_etag_header()
            self.write("created")

    srv = server.serve([("/", Handler)])
    response = await http.request(srv, "POST", "/", body=b"x")
    observed = Trace()
    observed.add(summary(response, "Etag"))
    observed.assert_equal(
        [f"200 OK, Etag: {etag or '(absent)'}, body b'created'"],
        f"post() called set_etag_header() with compute_etag() returning {etag!r}: the response must carry "
        "that ETag (none for None). The response was:",
    )


@check("Tornado docs: RequestHandler.compute_etag, check_etag_header", Level.TORNADO)
async def test_default_etag_follows_the_content_written(impl, server, http):
    """RequestHandler.compute_etag: "By default uses a hash of the content written so far."
    The same URL with the same content keeps its tag (a 304 for it); new content gets a new
    tag, and the old one no longer matches."""
    web = impl.part("web")
    content = {"body": "first version"}

    class Handler(web.RequestHandler):
        def get(self):
            self.write(content["body"])

    srv = server.serve([("/", Handler)])
    first = await http.request(srv, "GET", "/")
    tag = first.header("Etag") or ""
    observed = Trace()
    observed.add(f"first: {first.status}, ETag {'present' if tag else '(absent)'}")
    if tag:
        again = await http.request(srv, "GET", "/", headers=[("If-None-Match", tag)])
        observed.add(f"same content, If-None-Match: first ETag -> {again.status}")
        content["body"] = "second version"
        changed = await http.request(srv, "GET", "/", headers=[("If-None-Match", tag)])
        new_tag = changed.header("Etag")
        observed.add(f"new content, If-None-Match: first ETag -> {changed.status}, body {changed.body!r}")
        observed.add("new ETag differs" if new_tag and new_tag != tag else f"new ETag: {new_tag or '(absent)'}")
    observed.assert_equal(
        [
            "first: 200, ETag present",
            "same content, If-None-Match: first ETag -> 304",
            "new content, If-None-Match: first ETag -> 200, body b'second version'",
            "new ETag differs",
        ],
        f"the default ETag ({tag or 'none'}) must be a hash of the content: unchanged content matches it "
        "(304), changed content gets another tag and is sent in full. What the client saw:",
    )


@check(
    "RFC 9110 §15.4.5; Tornado docs: RequestHandler.set_default_headers, check_etag_header",
    Level.MUST,
)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_not_modified_keeps_the_default_headers(impl, server, http, method):
    """RFC 9110 §15.4.5: "The server generating a 304 response MUST generate any of the
    following header fields that would have been sent in a 200 (OK) response to the same
    request: Content-Location, Date, ETag, and Vary; Cache-Control and Expires". Tornado's
    set_default_headers: "Override this to set HTTP headers at the beginning of the request."
    Cache-Control and Vary set there are part of the 200, so the 304 carries them too."""
    web = impl.part("web")

    class Handler(web.RequestHandler):
        def set_default_headers(self):
            self.set_header("Cache-Control", "private, max-age=60")
            self.set_header("Vary", "Cookie")

        def compute_etag(self):
            return '"v1"'

        def get(self):
            self.write("the representation")

        head = get

    srv = server.serve([("/", Handler)])
    names = ("Etag", "Cache-Control", "Vary")
    full = await http.request(srv, method, "/")
    not_modified = await http.request(srv, method, "/", headers=[("If-None-Match", '"v1"')])
    observed = Trace()
    for name in names:
        observed.add(
            f"{name}: 200 has {full.header(name) or '(absent)'}, "
            f"{not_modified.status} has {not_modified.header(name) or '(absent)'}"
        )
    observed.assert_equal(
        [
            'Etag: 200 has "v1", 304 has "v1"',
            "Cache-Control: 200 has private, max-age=60, 304 has private, max-age=60",
            "Vary: 200 has Cookie, 304 has Cookie",
        ],
        f"{method} with a matching If-None-Match must get a 304 carrying the ETag, Cache-Control and Vary "
        "the 200 carries (set_default_headers() sets the last two). The two responses had:",
    )


@check("Tornado docs: RequestHandler.send_error, write_error", Level.TORNADO)
async def test_send_error_passes_its_keyword_arguments_to_write_error(impl, server, http):
    """RequestHandler.send_error: "Override write_error() to customize the error page that is
    returned. Additional keyword arguments are passed through to write_error." A handler
    calling send_error() itself (no exception) gets no exc_info, and its own keywords."""
    web = impl.part("web")
    trace = Trace()

    class Handler(web.RequestHandler):
        def get(self):
            self.send_error(429, retry_after=30, scope="uploads")

        def write_error(self, status_code, **kwargs):
            trace.add(f"write_error({status_code}, {', '.join(f'{k}={v!r}' for k, v in sorted(kwargs.items()))})")
            self.finish(f"retry in {kwargs.get('retry_after')}s")

    srv = server.serve([("/", Handler)])
    response = await http.request(srv, "GET", "/")
    server.barrier()
    trace.add(summary(response))
    trace.assert_equal(
        ["write_error(429, retry_after=30, scope='uploads')", "429 Too Many Requests, body b'retry in 30s'"],
        "get() called send_error(429, retry_after=30, scope='uploads'): write_error must receive those keywords "
        "(and no exc_info: there is no exception). The hooks (and the response, last row) were:",
    )


# -- login URL, settings, the debug error page, status ----------------------------------------


@check("Tornado docs: RequestHandler.get_login_url, tornado.web.authenticated", Level.TORNADO)
@pytest.mark.parametrize(
    "setting", [pytest.param(None, id="no-setting"), pytest.param("/setting-login", id="setting-too")]
)
async def test_authenticated_redirects_to_get_login_url(impl, server, http, setting):
    """RequestHandler.get_login_url: "Override to customize the login URL based on the request.
    By default, we use the login_url application setting." tornado.web.authenticated: "If the
    user is not logged in, they will be redirected to the configured login url." The override
    is the configured URL, with or without a login_url setting."""
    web = impl.part("web")

    class Handler(web.RequestHandler):
        def get_current_user(self):
            return None

        def get_login_url(self):
            return "/override-login"

        @web.authenticated
        def get(self):
            self.write("private")

    settings = {"login_url": setting} if setting else {}
    srv = server.serve([("/private", Handler)], settings)
    response = await http.request(srv, "GET", "/private")
    observed = Trace()
    observed.add(summary(response, "Location"))
    observed.assert_equal(
        ["302 Found, Location: /override-login?next=%2Fprivate, body b''"],
        "@authenticated must redirect an anonymous GET to get_login_url()'s URL (overridden by the handler"
        + (f", over the login_url setting {setting}" if setting else ", without any login_url setting")
        + ") with next=<the request URI>. The response was:",
    )


@check("Tornado docs: RequestHandler.require_setting", Level.TORNADO)
async def test_require_setting_raises_only_for_a_missing_setting(impl, server, http):
    """RequestHandler.require_setting: "Raises an exception if the given app setting is not
    defined." A defined setting passes silently."""
    web = impl.part("web")
    trace = Trace()

    class Handler(web.RequestHandler):
        def get(self):
            for name in ("conformance_defined", "conformance_missing"):
                try:
                    self.require_setting(name, "the conformance check")
                except Exception as exc:
                    trace.add(f"require_setting({name!r}) raised {type(exc).__name__}")
                else:
                    trace.add(f"require_setting({name!r}) returned")
            self.write("ok")

    srv = server.serve([("/", Handler)], {"conformance_defined": "set"})
    await http.request(srv, "GET", "/")
    server.barrier()
    trace.assert_equal(
        ["require_setting('conformance_defined') returned", "require_setting('conformance_missing') raised Exception"],
        "require_setting() must return for a setting the application defines and raise for one it does not "
        "(Tornado raises Exception). The handler saw:",
    )


_SECRET = "conformance-secret-detail-7f3a"


@check("Tornado docs: Application settings serve_traceback, debug; RequestHandler.write_error", Level.TORNADO)
@pytest.mark.parametrize(
    ("settings", "served"),
    [
        pytest.param({"serve_traceback": True}, True, id="serve_traceback"),
        pytest.param({"debug": True, "autoreload": False}, True, id="debug"),
        pytest.param({}, False, id="neither"),
    ],
)
async def test_error_page_carries_the_traceback_only_when_asked(impl, server, http, settings, served):
    """Application settings: "serve_traceback: If True, the default error page will include the
    traceback of the error." "debug: Shorthand for several debug mode settings [...] Setting
    debug=True is equivalent to autoreload=True, compiled_template_cache=False,
    static_hash_cache=False, serve_traceback=True" (autoreload is switched off again here, a
    setting of its own). The default write_error is the error page meant. Without either
    setting the page says only the status: a traceback would leak the server's code and data."""
    web = impl.part("web")

    class Handler(web.RequestHandler):
        def get(self):
            raise ValueError(_SECRET)

    srv = server.serve([("/", Handler)], settings)
    response = await http.request(srv, "GET", "/")
    body = response.body.decode("utf-8", "replace")
    observed = Trace()
    observed.add(f"status {response.status}")
    observed.add(f"traceback in the page: {'Traceback (most recent call last)' in body}")
    observed.add(f"exception and its message in the page: {('ValueError' in body and _SECRET in body)}")
    expected_text = "present" if served else "absent"
    observed.assert_equal(
        ["status 500", f"traceback in the page: {served}", f"exception and its message in the page: {served}"],
        f"with settings {settings}, get() raised ValueError({_SECRET!r}): the default error page must have "
        f"the traceback {expected_text}. The 500 page ({response.body[:160]!r}...) had:",
    )


@check("Tornado docs: RequestHandler.get_status, set_status, send_error", Level.TORNADO)
async def test_get_status_reports_the_status_set_so_far(impl, server, http):
    """RequestHandler.get_status: "Returns the status code for our response." It is 200 until
    set_status() changes it, the code given once set_status() was called, and the error's code
    after send_error() (which "Sends the given HTTP error code to the browser")."""
    web = impl.part("web")
    trace = Trace()

    class Handler(web.RequestHandler):
        def get(self):
            trace.add(f"initially: {self.get_status()}")
            self.set_status(201)
            trace.add(f"after set_status(201): {self.get_status()}")
            self.send_error(503)
            trace.add(f"after send_error(503): {self.get_status()}")

        def on_finish(self):
            trace.add(f"on_finish: {self.get_status()}")

    srv = server.serve([("/", Handler)])
    response = await http.request(srv, "GET", "/")
    server.barrier()
    trace.add(f"response: {response.status}")
    trace.assert_equal(
        [
            "initially: 200",
            "after set_status(201): 201",
            "on_finish: 503",
            "after send_error(503): 503",
            "response: 503",
        ],
        "get_status() must return the status the response has at each step (send_error finishes the response, "
        "so on_finish runs inside it). The handler saw:",
    )


# -- detach() -------------------------------------------------------------------------------


@check("Tornado docs: RequestHandler.detach", Level.TORNADO)
async def test_detach_hands_over_the_stream_with_the_bytes_already_received(impl, server, http):
    """RequestHandler.detach: "Take control of the underlying stream. Returns the underlying
    IOStream object and stops all further HTTP processing. Intended for implementing protocols
    like websockets that tunnel over an HTTP handshake." The stream is the connection as it
    is: bytes the client sent right after the request head (pipelined with it, as a tunnelled
    protocol does) are read from it, and what the handler writes reaches the client as written."""
    web = impl.part("web")
    trace = Trace()

    class Handler(web.RequestHandler):
        async def get(self):
            if not hasattr(self, "detach"):  # answered at once: the check fails without a deadline
                trace.add("the handler has no detach()")
                self.write("no detach()")
                return
            stream = self.detach()
            await stream.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
            trace.add("detached, raw head written")
            line = await stream.read_until(b"\n")
            trace.add(f"first line read: {line!r}")
            body = b"first line: " + line.strip()
            await stream.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
            stream.close()

    srv = server.serve([("/", Handler)])
    async with await http.connect(srv) as conn:
        await conn.send(f"GET / HTTP/1.1\r\nHost: {srv.host}:{srv.port}\r\n\r\n".encode() + b"ping\n")
        first = trace.wait_for(1, http.timeout, "detach() and write the raw head")[0]
        if first != "detached, raw head written":
            raise Violation(
                "RequestHandler has no detach(): a handler cannot take over the connection.",
                expected="detach() returning the connection's stream",
                observed=first,
            )
        await conn.send(b"pong\n")
        response = await conn.receive_response("GET")
        closed = await conn.closed_by_peer()
    trace.add(summary(response))
    trace.add(f"closed by the handler: {closed}")
    trace.assert_equal(
        [
            "detached, raw head written",
            "first line read: b'ping\\n'",
            "200 OK, body b'first line: ping'",
            "closed by the handler: True",
        ],
        "the client sent the request head and b'ping\\n' in one write, then b'pong\\n' once the handler had "
        "detached: the detached stream must still hold b'ping\\n' (read with the head), and the handler's raw "
        "bytes must reach the client as written. What the handler and the client saw:",
    )


# -- flow control of a streamed body ------------------------------------------------------------


def _body_head(srv, length: int) -> bytes:
    return f"POST /upload HTTP/1.1\r\nHost: {srv.host}:{srv.port}\r\nContent-Length: {length}\r\n\r\n".encode()


@check("Tornado docs: tornado.web.stream_request_body, RequestHandler.data_received", Level.TORNADO)
@requires("web", "httpserver", "gen", "locks")
@pytest.mark.parametrize("style", ["async-def", "gen-coroutine"])
async def test_coroutine_data_received_is_awaited_before_the_next_chunk(impl, server, http, style):
    """tornado.web.stream_request_body: "prepare and data_received may return Futures (such as
    via @gen.coroutine, in which case the next method will not be called until those futures
    have completed." and "The regular HTTP method (post, put, etc) will be called after the
    entire body has been read." RequestHandler.data_received: "May be a coroutine for flow
    control." data_received for the first chunk waits until another request releases it; the
    second chunk, sent before that request, must not be delivered meanwhile, and post() runs
    after the last data_received has returned."""
    web = impl.part("web")
    gen = impl.part("gen")
    locks = impl.part("locks")
    trace = Trace()
    release = {}

    def start(chunk):
        trace.add(f"data_received({chunk!r}) starts")
        return release.setdefault(chunk, locks.Event()) if chunk == b"one" else None

    if style == "async-def":

        async def data_received(self, chunk):
            event = start(chunk)
            if event is not None:
                await event.wait()
            else:
                await gen.sleep(0)
            trace.add(f"data_received({chunk!r}) returns")

    else:

        @gen.coroutine
        def data_received(self, chunk):
            event = start(chunk)
            if event is not None:
                yield event.wait()
            else:
                yield gen.sleep(0)
            trace.add(f"data_received({chunk!r}) returns")

    @web.stream_request_body
    class Upload(web.RequestHandler):
        def post(self):
            trace.add("post")
            self.write("stored")

    Upload.data_received = data_received

    class Release(web.RequestHandler):
        def get(self):
            trace.add("release")
            release[b"one"].set()
            self.write("released")

    srv = server.serve([("/upload", Upload), ("/release", Release)])
    async with await http.connect(srv) as upload, await http.connect(srv) as other:
        await upload.send(_body_head(srv, 6) + b"one")
        trace.wait_for_event("data_received(b'one') starts", http.timeout, "deliver the first chunk")
        await upload.send(b"two")
        released = await other.request("GET", "/release")  # served after b"two" was sent on the upload
        response = await upload.receive_response("POST")
    server.barrier()
    trace.add(f"release: {released.status}, upload: {response.status} {response.body!r}")
    trace.assert_equal(
        [
            "data_received(b'one') starts",
            "release",
            "data_received(b'one') returns",
            "data_received(b'two') starts",
            "data_received(b'two') returns",
            "post",
            "release: 200, upload: 200 b'stored'",
        ],
        f"data_received ({style}) for b'one' waited until GET /release, sent after b'two': b'two' must not be "
        "delivered before that call returned, and post() must run after the last one returned. The hooks ran:",
    )


@check("Tornado docs: tornado.web.stream_request_body, RequestHandler.prepare", Level.TORNADO)
@requires("web", "httpserver", "gen", "locks")
@pytest.mark.parametrize("style", ["async-def", "gen-coroutine"])
async def test_coroutine_prepare_of_a_streaming_handler_is_awaited_before_data_received(impl, server, http, style):
    """tornado.web.stream_request_body: "prepare() is called when the request headers have been
    read instead of after the entire body has been read" and "prepare and data_received may
    return Futures (such as via @gen.coroutine, in which case the next method will not be
    called until those futures have completed." prepare() waits until another request
    releases it; the body, sent with the head, must not reach data_received before prepare()
    has returned (prepare is where a streaming handler authenticates and opens its sink)."""
    web = impl.part("web")
    gen = impl.part("gen")
    locks = impl.part("locks")
    trace = Trace()
    released = locks.Event()

    if style == "async-def":

        async def prepare(self):
            trace.add("prepare starts")
            await released.wait()
            trace.add("prepare returns")

    else:

        @gen.coroutine
        def prepare(self):
            trace.add("prepare starts")
            yield released.wait()
            trace.add("prepare returns")

    @web.stream_request_body
    class Upload(web.RequestHandler):
        def data_received(self, chunk):
            trace.add(f"data_received({chunk!r})")

        def post(self):
            trace.add("post")
            self.write("stored")

    Upload.prepare = prepare

    class Release(web.RequestHandler):
        def get(self):
            trace.add("release")
            released.set()
            self.write("released")

    srv = server.serve([("/upload", Upload), ("/release", Release)])
    async with await http.connect(srv) as upload, await http.connect(srv) as other:
        await upload.send(_body_head(srv, 4) + b"data")
        trace.wait_for_event("prepare starts", http.timeout, "call prepare() once the head was read")
        released_response = await other.request("GET", "/release")  # the body was sent before it
        response = await upload.receive_response("POST")
    server.barrier()
    trace.add(f"release: {released_response.status}, upload: {response.status} {response.body!r}")
    trace.assert_equal(
        [
            "prepare starts",
            "release",
            "prepare returns",
            "data_received(b'data')",
            "post",
            "release: 200, upload: 200 b'stored'",
        ],
        f"prepare() ({style}) waited until GET /release; the body sent with the head must reach data_received only "
        "after prepare() returned. The hooks ran:",
    )
