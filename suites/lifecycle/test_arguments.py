"""The argument accessors of ``RequestHandler``, one at a time: stripping, the last value,
defaults, a missing argument, ``decode_argument``, path arguments, uploaded files and
urlencoded bodies with a charset.

Reference: Tornado docs, ``RequestHandler`` input (https://www.tornadoweb.org/en/stable/web.html#input),
``HTTPServerRequest`` (https://www.tornadoweb.org/en/stable/httputil.html#tornado.httputil.HTTPServerRequest)
and ``httputil.HTTPFile``. ``suites/http11/test_request_attributes.py`` checks what a whole
request looks like through every accessor at once (with ``strip=False``); the checks here
isolate one accessor and one keyword per case, so a port that gets one of them wrong names it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest

from conformance import Level, Violation, check, requires

pytestmark = [pytest.mark.lifecycle, requires("web", "httpserver")]

FORM = "application/x-www-form-urlencoded"

#: Where each accessor reads its arguments from: the query, the body, or both.
SOURCES = {
    "get_argument": "both",
    "get_arguments": "both",
    "get_query_argument": "query",
    "get_query_arguments": "query",
    "get_body_argument": "body",
    "get_body_arguments": "body",
}
SINGLE = ("get_argument", "get_query_argument", "get_body_argument")
LISTS = ("get_arguments", "get_query_arguments", "get_body_arguments")


def _request(query: str, body: str) -> tuple[str, str, list[tuple[str, str]], bytes]:
    """(method, target, headers, body) carrying ``query`` in the target and ``body`` as a form."""
    target = "/args" + (f"?{query}" if query else "")
    if not body:
        return "GET", target, [], b""
    return "POST", target, [("Content-Type", FORM)], body.encode("ascii")


def _form(accessor: str, encoded: str) -> tuple[str, str]:
    """(query, body) putting ``encoded`` where ``accessor`` reads it (the body for get_argument(s))."""
    return (encoded, "") if SOURCES[accessor] == "query" else ("", encoded)


async def _observe(
    impl: Any,
    server: Any,
    http: Any,
    probe: Callable[[Any], Any],
    request: tuple[str, str, list[tuple[str, str]], bytes],
    *,
    routes: Callable[[type], list[tuple[str, type]]] | None = None,
    handler_base: Callable[[Any], type] | None = None,
) -> tuple[Any, Any, Any]:
    """Run ``probe(handler)`` in a handler's verb method; return (repr of its result, response, transcript).

    The handler answers ``{"repr": repr(result)}`` as JSON, so the check sees the Python type
    (``'x'``, ``b'x'``, ``None``, a list) as well as the value. When the probe raises, the
    framework handles the exception as it would any other (a ``MissingArgumentError`` becomes
    a 400), and the repr is None.
    """
    web = impl.part("web")
    base = handler_base(web) if handler_base is not None else web.RequestHandler

    def answer(self: Any, *args: Any, **kwargs: Any) -> None:
        result = probe(self)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"repr": repr(result)}))

    Probe = type("Probe", (base,), {"get": answer, "post": answer})
    srv = server.serve(routes(Probe) if routes is not None else [(r"/args", Probe)])
    method, target, headers, body = request
    async with await http.connect(srv) as conn:
        response = await conn.request(method, target, headers, body)
    seen = None
    if response.status == 200:
        try:
            seen = json.loads(response.body)["repr"]
        except (ValueError, KeyError):
            seen = None
    return seen, response, conn.transcript


def _call(accessor: str, name: str, **keywords: Any) -> Callable[[Any], Any]:
    return lambda handler: getattr(handler, accessor)(name, **keywords)


def _judge(what: str, expected: Any, seen: Any, response: Any, transcript: Any) -> None:
    if seen != repr(expected):
        raise Violation(
            f"{what} (response: {response.describe()}, body {response.body[:160]!r}).",
            expected=repr(expected),
            observed=seen if seen is not None else f"no value: {response.describe()}",
            transcript=transcript,
        )


# -- strip ------------------------------------------------------------------------------

PADDED = "%20%09value%20"  # " \tvalue " percent-encoded


@check("Tornado docs: RequestHandler.get_argument (strip=True)", Level.TORNADO)
@pytest.mark.parametrize("accessor", list(SOURCES))
async def test_accessors_strip_surrounding_whitespace_by_default(impl, server, http, accessor):
    """``RequestHandler.get_argument(name, default=..., strip=True)`` and its five siblings take
    ``strip=True`` by default: the value's surrounding whitespace is removed, so
    ``a=%20%09value%20`` reads as ``'value'``."""
    query, body = _form(accessor, f"a={PADDED}")
    seen, response, transcript = await _observe(impl, server, http, _call(accessor, "a"), _request(query, body))
    expected: Any = "value" if accessor in SINGLE else ["value"]
    _judge(f"{accessor}('a') did not strip the value ' \\tvalue '", expected, seen, response, transcript)


@check("Tornado docs: RequestHandler.get_argument (strip=False)", Level.TORNADO)
@pytest.mark.parametrize("accessor", list(SOURCES))
async def test_strip_false_keeps_surrounding_whitespace(impl, server, http, accessor):
    """The accessors' ``strip`` keyword: with ``strip=False`` the value is returned as sent,
    whitespace included (a password or a fixed-width field must not lose its spaces)."""
    query, body = _form(accessor, f"a={PADDED}")
    seen, response, transcript = await _observe(
        impl, server, http, _call(accessor, "a", strip=False), _request(query, body)
    )
    expected: Any = " \tvalue " if accessor in SINGLE else [" \tvalue "]
    _judge(f"{accessor}('a', strip=False) did not return the value as sent", expected, seen, response, transcript)


# -- the last value, defaults, a missing argument ----------------------------------------

LAST_VALUE = {
    # accessor: (query, body, expected)
    "get_argument": ("a=query", "a=body1&a=body2", "body2"),
    "get_query_argument": ("a=first&a=second&a=third", "a=body", "third"),
    "get_body_argument": ("a=query", "a=first&a=second", "second"),
}


@check("Tornado docs: RequestHandler.get_argument, get_query_argument, get_body_argument", Level.TORNADO)
@pytest.mark.parametrize("accessor", list(LAST_VALUE))
async def test_single_value_accessors_return_the_last_value(impl, server, http, accessor):
    """``get_argument``: "If the argument appears in the request more than once, we return the
    last value. This method searches both the query and body arguments" (query values come
    first, body values last); ``get_query_argument`` / ``get_body_argument``: "If the argument
    appears in the url more than once, we return the last value", each of its own source only."""
    query, body, expected = LAST_VALUE[accessor]
    seen, response, transcript = await _observe(impl, server, http, _call(accessor, "a"), _request(query, body))
    _judge(
        f"{accessor}('a') with query {query!r} and body {body!r} did not return the last value",
        expected,
        seen,
        response,
        transcript,
    )


#: ``get_argument(name, None)`` for a missing name is left out: Tornado itself relies on it
#: (``check_xsrf_cookie`` reads ``_xsrf`` that way), so the cookies checks already fail without it.
DEFAULT_CASES = [
    pytest.param(accessor, case, id=f"{accessor}-{case}")
    for accessor in SINGLE
    for case in ("missing-with-default-none", "present-but-empty")
    if (accessor, case) != ("get_argument", "missing-with-default-none")
]


@check("Tornado docs: RequestHandler.get_argument (default)", Level.TORNADO)
@pytest.mark.parametrize("accessor, case", DEFAULT_CASES)
async def test_default_is_returned_only_for_a_missing_argument(impl, server, http, accessor, case):
    """``get_argument``: "If default is not provided, the argument is considered to be required,
    and we raise a MissingArgumentError if it is missing." So ``default=None`` is a default
    like any other (a missing argument reads as None, not as a 400), and an argument that is
    present with an empty value (``a=``) is not missing: it reads as ``''``, not as the default."""
    encoded = "other=1" if case == "missing-with-default-none" else "a="
    query, body = _form(accessor, encoded)
    default = None if case == "missing-with-default-none" else "fallback"
    expected = None if case == "missing-with-default-none" else ""
    seen, response, transcript = await _observe(
        impl, server, http, _call(accessor, "a", default=default), _request(query, body)
    )
    _judge(f"{accessor}('a', default={default!r}) with {encoded!r}", expected, seen, response, transcript)


@check("Tornado docs: RequestHandler.get_arguments, get_query_arguments, get_body_arguments", Level.TORNADO)
@pytest.mark.parametrize("accessor", LISTS)
async def test_list_accessors_return_an_empty_list_for_a_missing_argument(impl, server, http, accessor):
    """``get_arguments``: "Returns a list of the arguments with the given name. If the argument
    is not present, returns an empty list." (``get_query_arguments`` and ``get_body_arguments``
    say the same): ``[]``, never None and never a MissingArgumentError."""
    query, body = _form(accessor, "other=1")
    seen, response, transcript = await _observe(impl, server, http, _call(accessor, "a"), _request(query, body))
    _judge(f"{accessor}('a') for a request without 'a' did not return an empty list", [], seen, response, transcript)


OWN_SOURCE = {
    # accessor: (query, body)
    "get_query_argument": ("other=1", "a=from-body"),
    "get_body_argument": ("a=from-query", "other=1"),
}


@check("Tornado docs: RequestHandler.get_query_argument, get_body_argument", Level.TORNADO)
@pytest.mark.parametrize("accessor", list(OWN_SOURCE))
async def test_query_and_body_accessors_read_their_own_source_only(impl, server, http, accessor):
    """``get_query_argument``: "Returns the value of the argument with the given name from the
    request query string"; ``get_body_argument``: "... from the request body" (only
    ``get_argument`` "searches both the query and body arguments"). A name sent only in the
    other source is missing for them: the default is returned."""
    query, body = OWN_SOURCE[accessor]
    seen, response, transcript = await _observe(
        impl, server, http, _call(accessor, "a", default="absent"), _request(query, body)
    )
    _judge(
        f"{accessor}('a', default='absent') with query {query!r} and body {body!r} read the other source",
        "absent",
        seen,
        response,
        transcript,
    )


@check("Tornado docs: RequestHandler.get_argument; web.MissingArgumentError", Level.TORNADO)
@pytest.mark.parametrize("accessor", SINGLE)
async def test_missing_required_argument_is_answered_400(impl, server, http, accessor):
    """``get_argument``: "If default is not provided, the argument is considered to be required,
    and we raise a MissingArgumentError if it is missing." ``MissingArgumentError``: "This is a
    subclass of HTTPError, so if it is uncaught a 400 response code will be used instead of 500
    (and a stack trace will not be logged)." """
    query, body = _form(accessor, "other=1")
    _seen, response, transcript = await _observe(impl, server, http, _call(accessor, "a"), _request(query, body))
    unhandled = server.log.unhandled_exceptions()
    if response.status != 400 or unhandled:
        raise Violation(
            f"{accessor}('a') without a default, for a request that has no argument 'a', was not answered 400 "
            "with no stack trace logged: a missing required argument is the client's error.",
            expected="400 Bad Request, nothing logged as unhandled",
            observed=f"{response.describe()}; unhandled exceptions logged: {len(unhandled)}",
            transcript=transcript,
        )


@check("Tornado docs: RequestHandler.get_argument; web.MissingArgumentError; web.HTTPError", Level.TORNADO)
@pytest.mark.parametrize("accessor", SINGLE)
async def test_missing_argument_raises_missing_argument_error_naming_it(impl, server, http, accessor):
    """``get_argument`` raises ``MissingArgumentError`` for a missing required argument, "a
    subclass of HTTPError" whose status is 400; the handler can catch it, and the error names
    the argument (``HTTPError``'s message carries its log message, "Missing argument <name>")."""
    web = impl.part("web")

    def probe(handler: Any) -> Any:
        try:
            getattr(handler, accessor)("wanted_name")
        except web.MissingArgumentError as error:
            return [
                type(error).__name__,
                isinstance(error, web.HTTPError),
                getattr(error, "status_code", None),
                "wanted_name" in str(error),
            ]
        return "no exception"

    query, body = _form(accessor, "other=1")
    seen, response, transcript = await _observe(impl, server, http, probe, _request(query, body))
    _judge(
        f"{accessor}('wanted_name') for a request without that argument did not raise a MissingArgumentError "
        "(an HTTPError with status 400) naming the argument: [class, is HTTPError, status_code, name in str(error)]",
        ["MissingArgumentError", True, 400, True],
        seen,
        response,
        transcript,
    )


# -- decode_argument and path arguments --------------------------------------------------


@check("Tornado docs: RequestHandler.decode_argument", Level.TORNADO)
@pytest.mark.parametrize("accessor", list(SOURCES))
async def test_decode_argument_override_filters_every_accessor(impl, server, http, accessor):
    """``RequestHandler.decode_argument``: "The argument has been percent-decoded and is now a
    byte string. By default, this method decodes the argument as utf-8 and returns a unicode
    string, but this may be overridden in subclasses. This method is used as a filter for both
    get_argument() and for values extracted from the url ... The name of the argument is
    provided if known." Every accessor's values pass through the override, with their name."""

    def base(web: Any) -> type:
        class Decoding(web.RequestHandler):
            def decode_argument(self, value, name=None):
                return f"<{name}:{value.hex()}>"

        return Decoding

    query, body = _form(accessor, "a=%C3%A9")
    seen, response, transcript = await _observe(
        impl, server, http, _call(accessor, "a"), _request(query, body), handler_base=base
    )
    expected: Any = "<a:c3a9>" if accessor in SINGLE else ["<a:c3a9>"]
    _judge(
        f"{accessor}('a') did not return what the handler's decode_argument override made of b'\\xc3\\xa9' "
        "(the override returns '<name:hex>')",
        expected,
        seen,
        response,
        transcript,
    )


@check(
    "Tornado docs: RequestHandler.path_args, RequestHandler.path_kwargs; RequestHandler.decode_argument", Level.TORNADO
)
@pytest.mark.parametrize("form", ["positional", "keyword"])
async def test_path_arguments_are_decoded_before_prepare(impl, server, http, form):
    """``RequestHandler.path_args`` / ``path_kwargs``: "The path_args and path_kwargs attributes
    contain the positional and keyword arguments that are passed to the HTTP verb methods. These
    attributes are set before the call to prepare() and may be accessed in prepare()."; the
    values are percent-decoded and passed through ``decode_argument`` (UTF-8 text by default)."""
    seen_in_prepare: dict[str, Any] = {}

    def base(web: Any) -> type:
        class Prepared(web.RequestHandler):
            def prepare(self):
                seen_in_prepare["args"] = (list(self.path_args), dict(self.path_kwargs))

        return Prepared

    pattern = r"/p/([^/]+)" if form == "positional" else r"/p/(?P<item>[^/]+)"
    seen, response, transcript = await _observe(
        impl,
        server,
        http,
        lambda handler: seen_in_prepare.get("args"),
        ("GET", "/p/caf%C3%A9%20%2F1", [], b""),
        routes=lambda cls: [(pattern, cls)],
        handler_base=base,
    )
    value = "café /1"
    expected = ([value], {}) if form == "positional" else ([], {"item": value})
    _judge(
        f"prepare() did not see the {form} path argument of /p/caf%C3%A9%20%2F1 decoded in path_args/path_kwargs",
        expected,
        seen,
        response,
        transcript,
    )


# -- bodies: multipart files and urlencoded forms with a charset ---------------------------

BOUNDARY = "args-boundary"


def _multipart(*parts: tuple[str, str | None, bytes]) -> bytes:
    """A multipart/form-data body of (Content-Disposition parameters, Content-Type, body) parts."""
    out = b""
    for disposition, content_type, body in parts:
        out += f"--{BOUNDARY}\r\nContent-Disposition: form-data; {disposition}\r\n".encode()
        if content_type is not None:
            out += f"Content-Type: {content_type}\r\n".encode()
        out += b"\r\n" + body + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


BINARY = b"\r\n\x00\xff\xfe raw \t\r\n"
FILE_CASES = {
    "binary-body-kept-octet-for-octet": (
        _multipart(('name="blob"; filename="data.bin"', "application/octet-stream", BINARY)),
        {"blob": [["data.bin", "application/octet-stream", BINARY]]},
    ),
    "utf-8-filename": (
        _multipart(('name="doc"; filename="résumé ü.txt"', "text/plain", b"cv")),
        {"doc": [["résumé ü.txt", "text/plain", b"cv"]]},
    ),
    "two-files-under-one-name": (
        _multipart(
            ('name="docs"; filename="one.txt"', "text/plain", b"first"),
            ('name="field"', None, b"plain value"),
            ('name="docs"; filename="two.png"', "image/png", b"\x89PNG"),
        ),
        {"docs": [["one.txt", "text/plain", b"first"], ["two.png", "image/png", b"\x89PNG"]]},
    ),
}


@check("Tornado docs: HTTPServerRequest.files; httputil.HTTPFile", Level.TORNADO)
@pytest.mark.parametrize("case", list(FILE_CASES))
async def test_multipart_files_keep_filename_content_type_and_body(impl, server, http, case):
    """``HTTPServerRequest.files``: "File uploads are available in the files property, which maps
    file names to lists of HTTPFile." ``HTTPFile``: "Represents a file uploaded via a form ...
    filename, body, content_type" — every upload of a name, in order, with its body as the
    bytes sent (RFC 7578 §4.1: the part's content ends before the CRLF of the delimiter) and
    its filename as sent in UTF-8 (RFC 7578 §4.2 and the HTML form submission algorithm: a
    non-ASCII file name is sent as UTF-8 octets in ``filename=``, not ``filename*=``)."""
    body, expected = FILE_CASES[case]

    def probe(handler: Any) -> Any:
        files = handler.request.files
        return {name: [[f["filename"], f["content_type"], f["body"]] for f in files[name]] for name in sorted(files)}

    headers = [("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")]
    seen, response, transcript = await _observe(impl, server, http, probe, ("POST", "/args", headers, body))
    _judge("request.files did not hold the uploads as sent", expected, seen, response, transcript)


CHARSET_CASES = {
    "charset-utf-8": f"{FORM}; charset=UTF-8",
    "quoted-charset-after-spaces": f'{FORM} ;  charset="utf-8"',
}


@check("Tornado docs: HTTPServerRequest.body_arguments; RFC 9110 §8.3.1 (parameters)", Level.TORNADO)
@pytest.mark.parametrize("case", list(CHARSET_CASES))
async def test_urlencoded_body_with_a_charset_parameter_is_parsed(impl, server, http, case):
    """``HTTPServerRequest.body_arguments``: "Same format as arguments, but contains only
    arguments extracted from the request body" (form bodies are parsed); RFC 9110 §8.3.1: a
    media type "may be followed by parameters in the form of name=value pairs", so
    ``application/x-www-form-urlencoded; charset=UTF-8`` is still a form (browsers and HTTP
    libraries send that charset)."""
    content_type = CHARSET_CASES[case]
    body = f"k={quote('café')}&j=x+y".encode()
    seen, response, transcript = await _observe(
        impl,
        server,
        http,
        lambda handler: (
            dict(handler.request.body_arguments),
            handler.get_body_argument("k"),
            handler.get_body_argument("j"),
        ),
        ("POST", "/args", [("Content-Type", content_type)], body),
    )
    expected = ({"k": ["café".encode()], "j": [b"x y"]}, "café", "x y")
    _judge(
        f"a form body sent as {content_type!r} was not parsed into body_arguments", expected, seen, response, transcript
    )
