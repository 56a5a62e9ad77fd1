"""What the handler sees of a request: Tornado's documented ``HTTPServerRequest``
attributes and ``RequestHandler`` argument accessors.

Reference: Tornado docs, ``tornado.httputil.HTTPServerRequest`` and
``RequestHandler.get_argument`` (https://www.tornadoweb.org/en/stable/web.html#input),
with RFC 9110 §4.2.4 for the percent-decoding of the query (application/x-www-form-
urlencoded, as the WHATWG URL standard defines it) and RFC 7578 for multipart bodies.
"""

from __future__ import annotations

import gzip
import json

import pytest

from conformance import Level, Violation, check, requires

from ._apps import attributes_app

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]

BOUNDARY = "conformance-boundary"
MULTIPART = (
    f"--{BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="tag"\r\n\r\n'
    "one\r\n"
    f"--{BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="tag"\r\n\r\n'
    "two\r\n"
    f"--{BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="upload"; filename="a b.txt"\r\n'
    "Content-Type: text/plain\r\n\r\n"
    "file content\r\n"
    f"--{BOUNDARY}--\r\n"
).encode()


def _values(name, query, body):
    """The accessor answers for an argument with ``query`` and ``body`` values."""
    both = query + body
    return {
        "get_argument": both[-1] if both else None,
        "get_arguments": both,
        "get_query_argument": query[-1] if query else None,
        "get_query_arguments": query,
        "get_body_argument": body[-1] if body else None,
        "get_body_arguments": body,
    }


CASES = [
    pytest.param(
        "/p?a=1&b=x+y%20z&a=2&c=%C3%A9&empty=",
        [],
        b"",
        {
            "query_arguments": {"a": ["1", "2"], "b": ["x y z"], "c": ["\xc3\xa9"], "empty": [""]},
            "accessors": {
                "a": _values("a", ["1", "2"], []),
                "b": _values("b", ["x y z"], []),
                "c": _values("c", ["\xe9"], []),
                "empty": _values("empty", [""], []),
            },
        },
        id="query-with-repeated-keys-plus-and-percent-encoding",
    ),
    pytest.param(
        "/p?a=q",
        [("Content-Type", "application/x-www-form-urlencoded")],
        b"a=b1&k=v+w&a=b2",
        {
            "arguments": {"a": ["q", "b1", "b2"], "k": ["v w"]},
            "body_arguments": {"a": ["b1", "b2"], "k": ["v w"]},
            "accessors": {"a": _values("a", ["q"], ["b1", "b2"]), "k": _values("k", [], ["v w"])},
        },
        id="urlencoded-body-with-query",
    ),
    pytest.param(
        "/p",
        [("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")],
        MULTIPART,
        {
            "body_arguments": {"tag": ["one", "two"]},
            "files": {"upload": [["a b.txt", "text/plain", "file content"]]},
            "accessors": {"tag": _values("tag", [], ["one", "two"])},
        },
        id="multipart-fields-and-file",
    ),
    pytest.param(
        "/p/x%2Fy?q=1",
        [("Cookie", 'a=1; b="quoted"; c=x%20y'), ("X-Custom", "v")],
        b"",
        {
            "method": "GET",
            "uri": "/p/x%2Fy?q=1",
            "path": "/p/x%2Fy",
            "query": "q=1",
            "version": "HTTP/1.1",
            "protocol": "http",
            "remote_ip": "127.0.0.1",
            "cookies": {"a": "1", "b": "quoted", "c": "x%20y"},
        },
        id="seed-attributes-and-cookies",
    ),
]


@check("Tornado docs: HTTPServerRequest, RequestHandler.get_argument", Level.TORNADO)
@pytest.mark.parametrize("target, headers, body, expected", CASES)
async def test_handler_sees_the_documented_request_attributes(impl, server, http, target, headers, body, expected):
    """Tornado docs, ``HTTPServerRequest``: ``arguments`` are "GET/POST arguments ...
    Names are of type str, while arguments are byte strings", ``query_arguments`` and
    ``body_arguments`` the same "limited to the query string" / "request body"; ``files``
    maps names to lists of ``HTTPFile`` (filename, body, content_type); ``cookies`` is
    "a dictionary of http.cookies.Morsel objects". ``RequestHandler.get_argument``: "If
    the argument appears in the request more than once, we return the last value";
    ``get_arguments`` "Returns a list of the arguments with the given name", query values
    before body values. Query and urlencoded values are percent-decoded with '+' as space."""
    srv = server.serve(attributes_app(impl))
    method = "POST" if body else "GET"
    async with await http.connect(srv) as conn:
        answer = await conn.request(method, target, headers, body)
    seen = json.loads(answer.body) if answer.status == 200 else {}
    got = {key: seen.get(key) for key in expected}
    if got != expected:
        raise Violation(
            f"the handler observed request attributes or arguments of {method} {target} other than Tornado "
            f"documents (answer: {answer.describe()}).",
            expected=expected,
            observed=got,
            transcript=conn.transcript,
        )


@check("Tornado docs: RequestHandler.decode_argument", Level.TORNADO)
@pytest.mark.parametrize(
    "target", [pytest.param("/p?a=%FF%FE", id="query"), pytest.param("/%FF?a=1", id="path-argument")]
)
async def test_invalid_utf8_argument_is_answered_400(impl, server, http, target):
    """Tornado docs, ``RequestHandler.decode_argument``: "By default, this method decodes the
    argument as utf-8"; invalid UTF-8 is the client's error (Tornado raises
    ``HTTPError(400, "Invalid unicode in ...")``), never a 500 and never a silently
    replaced value."""
    web = impl.part("web")

    class Args(web.RequestHandler):
        def get(self, *path):
            self.finish(json.dumps({"a": self.get_argument("a"), "path": list(path)}))

    srv = server.serve([(r"/(.*)", Args)])
    async with await http.connect(srv) as conn:
        answer = await conn.request("GET", target)
    if answer.status != 400:
        raise Violation(
            f"GET {target} (invalid UTF-8 in an argument) was not refused: decode_argument decodes UTF-8 and answers "
            "400 for invalid input.",
            expected="400 Bad Request",
            observed=f"{answer.describe()} with {answer.body[:100]!r}",
            transcript=conn.transcript,
        )
    assert not server.log.unhandled_exceptions(), server.log.format()


@check("Tornado docs: HTTPServer decompress_request", Level.TORNADO)
async def test_gzip_request_body_is_decompressed_when_decompress_request_is_set(impl, server, http):
    """Tornado docs, ``HTTPServer``: "If ``decompress_request`` is True, ... the server will
    decompress request bodies with ``Content-Encoding: gzip``" — the handler sees the
    decoded body, and its arguments are parsed from it."""
    srv = server.serve(attributes_app(impl), decompress_request=True)
    plain = b"k=v&k=w"
    headers = [("Content-Type", "application/x-www-form-urlencoded"), ("Content-Encoding", "gzip")]
    async with await http.connect(srv) as conn:
        answer = await conn.request("POST", "/", headers, gzip.compress(plain))
    seen = json.loads(answer.body) if answer.status == 200 else {}
    got = {"body": seen.get("body"), "body_arguments": seen.get("body_arguments")}
    expected = {"body": plain.decode(), "body_arguments": {"k": ["v", "w"]}}
    if got != expected:
        raise Violation(
            f"the handler did not see the decompressed form body of a gzip-encoded request with "
            f"decompress_request=True (answer: {answer.describe()}).",
            expected=expected,
            observed=got,
            transcript=conn.transcript,
        )
