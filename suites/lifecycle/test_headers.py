"""Response headers and status across the lifecycle: set/add/clear, error resets, status, JSON, ETags.

Reference: Tornado docs, RequestHandler output methods
(https://www.tornadoweb.org/en/stable/web.html#output) and RFC 9110 §5.5, §13.1.2, §15.4.5
(https://www.rfc-editor.org/rfc/rfc9110).
"""

from __future__ import annotations

import json

import pytest

from conformance import Level, ProtocolViolation, Trace, check, requires

from ._support import summary

pytestmark = [pytest.mark.lifecycle, requires("web", "httpserver")]


@check("Tornado docs: RequestHandler.set_header, add_header, clear_header", Level.TORNADO)
async def test_set_add_and_clear_header_shape_the_response_headers(impl, server, http):
    """RequestHandler.set_header: "Sets the given response header name and value." add_header:
    "Adds the given response header and value. Unlike set_header, add_header may be called
    multiple times to return multiple values for the same header." clear_header: "Clears an
    outgoing header, undoing a previous set_header call." """
    web = impl.part("web")

    class Handler(web.RequestHandler):
        def get(self):
            self.set_header("X-Set", "first")
            self.set_header("X-Set", "replaced")
            self.add_header("X-Added", "one")
            self.add_header("X-Added", "two")
            self.set_header("X-Cleared", "soon gone")
            self.clear_header("X-Cleared")
            self.write("ok")

    srv = server.serve([("/", Handler)])
    response = await http.request(srv, "GET", "/")
    observed = Trace()
    for name in ("X-Set", "X-Added", "X-Cleared"):
        observed.add(f"{name}: {response.header_list(name) or '(absent)'}")
    observed.assert_equal(
        ["X-Set: ['replaced']", "X-Added: ['one', 'two']", "X-Cleared: (absent)"],
        "the handler called set_header('X-Set') twice, add_header('X-Added') twice, and set_header then "
        "clear_header('X-Cleared'): the second set_header replaces the first, add_header keeps both values, "
        "clear_header removes the header. The response headers were:",
    )


_UNSAFE = [
    ("set_header", "split\r\nX-Injected: yes"),
    ("set_header", "split\nX-Injected: yes"),
    ("set_header", "split\rX-Injected: yes"),
    ("add_header", "split\r\nX-Injected: yes"),
]


@check(
    "RFC 9110 §5.5 (invalid field values; how a sender avoids them is free); "
    "Tornado docs: RequestHandler.set_header, 2.2.1 release notes (values sanitized)",
    Level.TORNADO,
)
async def test_header_values_with_cr_or_lf_are_rejected(impl, server, http):
    """RFC 9110 §5.5: field values are visible characters, spaces and tabs; "Field values
    containing CR, LF, or NUL characters are invalid and dangerous". A header value with CR
    or LF would split the response (a header injection). The RFC leaves the sender free in
    how it keeps them off the wire (refuse, strip, replace with SP); Tornado's 2.2.1 release
    notes: "RequestHandler.set_header now properly sanitizes input values to protect against
    header injection, response splitting, etc.", and the way Tornado does it, undocumented, is
    that set_header and add_header raise ValueError("Unsafe header value"). This check
    requires that ValueError, so it is Tornado's choice, not an RFC requirement."""
    web = impl.part("web")
    trace = Trace()

    class Handler(web.RequestHandler):
        def get(self):
            for method, value in _UNSAFE:
                try:
                    getattr(self, method)("X-Probe", value)
                except ValueError:
                    trace.add(f"{method}({value!r}) raised ValueError")
                except Exception as exc:
                    trace.add(f"{method}({value!r}) raised {type(exc).__name__}, not ValueError")
                else:
                    trace.add(f"{method}({value!r}) accepted the value")
                self.clear_header("X-Probe")
            self.write("ok")

    srv = server.serve([("/", Handler)])
    injected: str | None = None
    try:
        response = await http.request(srv, "GET", "/")
        injected = response.header("X-Injected")
    except ProtocolViolation as exc:  # an accepted CR/LF may corrupt the head; the trace says why
        injected = f"(response unparsable: {str(exc).splitlines()[0]})"
    server.barrier()
    trace.assert_equal(
        [f"{method}({value!r}) raised ValueError" for method, value in _UNSAFE],
        "a header value containing CR or LF must be refused (ValueError), or it splits the response head "
        f"(X-Injected in the response: {injected or '(absent)'}). The handler's attempts went:",
    )


@check("Tornado docs: RequestHandler.set_status", Level.TORNADO)
async def test_set_status_accepts_unknown_codes_and_a_custom_reason(impl, server, http):
    """RequestHandler.set_status: ``reason`` is a "Human-readable reason phrase describing the
    status code ... Normally determined automatically from http.client.responses; this argument
    should only be used if you need to use a non-standard status code", and since 5.0 it "No
    longer validates that the response code is in http.client.responses" (an unknown code
    without a reason gets the reason "Unknown")."""
    web = impl.part("web")
    cases = {
        "unknown": (299, None),
        "unknown-with-reason": (299, "Partly Done"),
        "known-with-reason": (404, "Gone Fishing"),
    }

    class Handler(web.RequestHandler):
        def get(self, case):
            code, reason = cases[case]
            self.set_status(code, reason)
            self.write(case)

    srv = server.serve([("/(.+)", Handler)])
    observed = Trace()
    for case, (code, reason) in cases.items():
        response = await http.request(srv, "GET", f"/{case}")
        observed.add(f"set_status({code}, {reason!r}) -> {response.status} {response.reason}")
    observed.assert_equal(
        [
            "set_status(299, None) -> 299 Unknown",
            "set_status(299, 'Partly Done') -> 299 Partly Done",
            "set_status(404, 'Gone Fishing') -> 404 Gone Fishing",
        ],
        "set_status must accept a code missing from http.client.responses (reason 'Unknown') and send a given "
        "reason as the reason phrase. The status lines were:",
    )


@check("Tornado docs: RequestHandler.set_default_headers, send_error", Level.TORNADO)
async def test_error_page_resets_headers_set_before_the_error(impl, server, http):
    """RequestHandler.set_default_headers: "setting such headers in the normal flow of request
    processing may not do what you want, since headers may be reset during error handling."
    Tornado's send_error() calls clear(), which resets the headers to the defaults: a header the
    handler set before failing is not on the error page, a default header is."""
    web = impl.part("web")

    class Handler(web.RequestHandler):
        def set_default_headers(self):
            self.set_header("X-Default", "yes")

        def get(self):
            self.set_header("X-Before-Error", "set by get()")
            self.set_header("Content-Type", "text/plain; charset=UTF-8")
            raise web.HTTPError(409)

    srv = server.serve([("/", Handler)])
    response = await http.request(srv, "GET", "/")
    observed = Trace()
    observed.add(f"{response.status}")
    for name in ("X-Default", "X-Before-Error"):
        observed.add(f"{name}: {response.header(name) or '(absent)'}")
    observed.add(f"Content-Type: {response.header('Content-Type')}")
    observed.assert_equal(
        ["409", "X-Default: yes", "X-Before-Error: (absent)", "Content-Type: text/html; charset=UTF-8"],
        "get() set X-Before-Error and Content-Type, then raised HTTPError(409): error handling resets the headers "
        "(clear()) and re-applies set_default_headers(), so the error page has X-Default and the default "
        "Content-Type but not the handler's headers. The error response had:",
    )


@check("Tornado docs: RequestHandler.write", Level.TORNADO)
async def test_write_dict_sends_json_with_its_content_type(impl, server, http):
    """RequestHandler.write: "If the given chunk is a dictionary, we write it as JSON and set the
    Content-Type of the response to be application/json." and "Note that lists are not
    converted to JSON because of a potential cross-site security vulnerability" (write(list)
    raises TypeError)."""
    web = impl.part("web")
    trace = Trace()
    data = {"name": "conformance", "items": [1, 2, 3], "nested": {"ok": True}}

    class Handler(web.RequestHandler):
        def get(self):
            try:
                self.write([1, 2, 3])
            except TypeError:
                trace.add("write(list) raised TypeError")
            else:
                trace.add("write(list) accepted the list")
            self.write(data)

    srv = server.serve([("/", Handler)])
    response = await http.request(srv, "GET", "/")
    server.barrier()
    try:
        decoded = json.loads(response.body)
    except ValueError:
        decoded = f"(not JSON: {response.body[:80]!r})"
    trace.add(f"Content-Type: {response.header('Content-Type')}")
    trace.add(f"body decodes to {decoded!r}")
    trace.assert_equal(
        ["write(list) raised TypeError", "Content-Type: application/json; charset=UTF-8", f"body decodes to {data!r}"],
        "write(dict) must send the dict as JSON with Content-Type application/json (Tornado adds charset=UTF-8), "
        "and write(list) must raise TypeError. What the handler and the client saw:",
    )


_CONDITIONS = [
    (None, 200),
    ('"v1"', 304),
    ('W/"v1"', 304),
    ('"other", "v1"', 304),
    ("*", 304),
    ('"other"', 200),
]


@check("Tornado docs: RequestHandler.compute_etag, check_etag_header; RFC 9110 §13.1.2, §15.4.5", Level.MUST)
async def test_matching_if_none_match_gets_304_without_a_body(impl, server, http):
    """RequestHandler.check_etag_header: "Checks the Etag header against requests's
    If-None-Match. Returns True if the request's Etag matches and a 304 should be returned.
    [...] This method is called automatically when the request is finished." RFC 9110
    §13.1.2: "A recipient MUST use the weak comparison function when comparing entity tags for
    If-None-Match", a list matches if one of its tags does and "*" matches a current
    representation; "An origin server that evaluates an If-None-Match condition MUST NOT perform
    the requested method if the condition evaluates to false; instead, the origin server MUST
    respond with either a) the 304 (Not Modified) status code if the request method is GET or
    HEAD [...]". §15.4.5: "The server generating a 304 response MUST generate any of the
    following header fields that would have been sent in a 200 (OK) response to the same
    request: [...] ETag", and a 304 "cannot contain content or trailers"."""
    web = impl.part("web")

    class Handler(web.RequestHandler):
        def compute_etag(self):
            return '"v1"'

        def get(self):
            self.write("the representation")

    srv = server.serve([("/", Handler)])
    observed = Trace()
    for condition, _ in _CONDITIONS:
        headers = [("If-None-Match", condition)] if condition else []
        response = await http.request(srv, "GET", "/", headers=headers)
        observed.add(f"If-None-Match: {condition or '(none)'} -> {summary(response, 'Etag')}")
    body = b"the representation"
    observed.assert_equal(
        [
            f"If-None-Match: {condition or '(none)'} -> "
            + (f'200 OK, Etag: "v1", body {body!r}' if status == 200 else "304 Not Modified, Etag: \"v1\", body b''")
            for condition, status in _CONDITIONS
        ],
        "compute_etag() returns '\"v1\"': every response carries that Etag, and a request whose If-None-Match "
        "matches it (weakly, in a list, or '*') gets 304 with no body. The responses were:",
    )
