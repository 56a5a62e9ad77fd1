"""StaticFileHandler over the wire: validators, conditional requests, byte ranges,
content types, directories and versioned URLs.

Reference: RFC 9110 §8.8 (validators), §13 (conditional requests), §14 (range requests)
and §15 (https://www.rfc-editor.org/rfc/rfc9110), and Tornado's documentation of
``web.StaticFileHandler`` (https://www.tornadoweb.org/en/stable/web.html#tornado.web.StaticFileHandler)
for what the RFC leaves to the server.

Rule: every check serves files written to the check's own temporary directory, with the
modification time pinned (``MTIME``), so the dates sent in ``If-Modified-Since`` are
before, at or after it by construction. Every response that must carry no content is
followed by a plain GET on the same connection: content smuggled after it would be read
in place of that GET's response.

Paths traversing out of the root are judged in ``test_security_corpus.py``.
"""

from __future__ import annotations

import datetime
import email.utils
import os

import pytest

from conformance import Level, Violation, check, requires

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]

STATIC_DOCS = "Tornado docs: web.StaticFileHandler"

DATA = b"0123456789abcdefghij"  # 20 bytes: /static/data.txt
SIZE = len(DATA)
INDEX = b"<p>the directory's index</p>\n"
#: 2020-01-02 03:04:05 UTC, the modification time of every file served here.
MTIME = 1577934245
LAST_MODIFIED = "Thu, 02 Jan 2020 03:04:05 GMT"
EARLIER = "Wed, 01 Jan 2020 03:04:05 GMT"
LATER = "Fri, 03 Jan 2020 03:04:05 GMT"

#: name -> (content, the media types Tornado's StaticFileHandler sends for it)
TYPED_FILES = {
    "style.css": (b"p { color: red }\n", {"text/css"}),
    # Python's mimetypes answers text/javascript since 3.12, application/javascript before.
    "app.js": (b"console.log(1);\n", {"text/javascript", "application/javascript"}),
    "image.png": (b"\x89PNG\r\n\x1a\n not really an image", {"image/png"}),
    "archive.txt.gz": (b"\x1f\x8b not really gzip", {"application/gzip"}),
    "notes.zzqx": (b"no type is known for this extension", {"application/octet-stream"}),
}


def _static_root(tmp_path):
    """``<tmp>/static`` with ``data.txt``, the typed files, ``dir/index.html`` and
    ``plain/`` (a directory holding a file but no index)."""
    root = tmp_path / "static"
    (root / "dir").mkdir(parents=True)
    (root / "plain").mkdir()
    files = {"data.txt": DATA, "dir/index.html": INDEX, "plain/inside.txt": b"inside\n"}
    files.update({name: content for name, (content, _) in TYPED_FILES.items()})
    for name, content in files.items():
        path = root / name
        path.write_bytes(content)
        os.utime(path, (MTIME, MTIME))
    return root


def _serve(impl, server, tmp_path):
    """The application of these checks: ``static_path`` (with ``default_filename``
    index.html) under ``/static/``, the same root under ``/bare/`` without
    ``default_filename``, and ``/url/<name>`` answering ``self.static_url(name)``."""
    web = impl.part("web")
    root = _static_root(tmp_path)

    class StaticURL(web.RequestHandler):
        def get(self, name):
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.write(self.static_url(name))

    settings = {"static_path": str(root), "static_handler_args": {"default_filename": "index.html"}}
    handlers = [(r"/bare/(.*)", web.StaticFileHandler, {"path": str(root)}), (r"/url/(.*)", StaticURL)]
    return server.serve(handlers, settings)


async def _get(http, srv, target, headers=(), method="GET"):
    """One request, then a plain GET of /static/data.txt on the same connection (when the
    response keeps it open): the first response, and the transcript of both."""
    async with await http.connect(srv) as conn:
        response = await conn.request(method, target, headers)
        if response.keep_alive:
            follow = await conn.request("GET", "/static/data.txt")
            if not (follow.status == 200 and follow.body == DATA):
                raise Violation(
                    f"the GET /static/data.txt sent after '{method} {target}' on the same connection got a wrong "
                    "answer: if these bytes are content, the first response carried content past its framing.",
                    expected=f"200 with {DATA!r}",
                    observed=f"{follow.describe()} with {follow.body[:80]!r}",
                    transcript=conn.transcript,
                )
        return response, conn.transcript


def _describe(response) -> str:
    fields = ", ".join(
        f"{k}: {v}" for k, v in response.headers if k in ("etag", "last-modified", "content-range", "content-type")
    )
    return f"{response.describe()} [{fields}] with {response.body[:60]!r}"


async def _etag(http, srv) -> str:
    __tracebackhide__ = True
    response, _ = await _get(http, srv, "/static/data.txt")
    etag = response.header("etag")
    assert response.status == 200 and etag, (
        f"GET /static/data.txt got {_describe(response)}; the conditional checks need its 200 with an ETag "
        "(judged by test_static_file_has_an_etag)"
    )
    return etag


def _short(value: str) -> str:
    """A field value for a message: Tornado's entity tags are 130 characters of hash."""
    return value if len(value) <= 48 else value[:44] + '..."'


def _strong(etag: str) -> str:
    return etag[2:] if etag.startswith("W/") else etag


# -- validators ----------------------------------------------------------------------------


@check("RFC 9110 §8.8.3", Level.SHOULD)
async def test_static_file_has_an_etag(impl, server, http, tmp_path):
    """RFC 9110 §8.8.3: "An origin server SHOULD send an ETag for any selected
    representation for which detection of changes can be reasonably and consistently
    determined". A file's content is such a representation; the field value is an
    entity-tag: ``[W/]"opaque"``."""
    srv = _serve(impl, server, tmp_path)
    response, transcript = await _get(http, srv, "/static/data.txt")
    etag = response.header("etag")
    well_formed = etag is not None and _strong(etag).startswith('"') and _strong(etag).endswith('"') and len(etag) > 2
    if not (response.status == 200 and response.body == DATA and well_formed):
        raise Violation(
            "GET of a static file was not answered with its content and a well-formed ETag.",
            expected=f"200 with {DATA!r} and 'ETag: \"...\"'",
            observed=_describe(response),
            transcript=transcript,
        )


@check("RFC 9110 §8.8.2", Level.SHOULD)
async def test_static_file_has_its_modification_time_as_last_modified(impl, server, http, tmp_path):
    """RFC 9110 §8.8.2: "The "Last-Modified" header field in a response provides a
    timestamp indicating the date and time at which the origin server believes the
    selected representation was last modified"; §8.8.2.1: "An origin server SHOULD send
    Last-Modified for any selected representation for which a last modification date can
    be reasonably and consistently determined". For a file it is the file's modification
    time (Tornado docs: StaticFileHandler.get_modified_time), here pinned to
    2020-01-02 03:04:05 UTC."""
    srv = _serve(impl, server, tmp_path)
    response, transcript = await _get(http, srv, "/static/data.txt")
    if not (response.status == 200 and response.header("last-modified") == LAST_MODIFIED):
        raise Violation(
            "GET of a static file did not carry the file's modification time as Last-Modified.",
            expected=f"200 with 'Last-Modified: {LAST_MODIFIED}'",
            observed=_describe(response),
            transcript=transcript,
        )


# -- conditional requests ------------------------------------------------------------------

MATCHING_IF_NONE_MATCH = [
    pytest.param(lambda etag: etag, id="same-etag"),
    pytest.param(lambda etag: "W/" + _strong(etag), id="weak-form"),
    pytest.param(lambda etag: f'"some-other-version", {etag}', id="in-a-list"),
    pytest.param(lambda etag: "*", id="star"),
]


@check("RFC 9110 §13.1.2", Level.MUST)
@pytest.mark.parametrize("if_none_match", MATCHING_IF_NONE_MATCH)
async def test_if_none_match_with_the_etag_is_304(impl, server, http, tmp_path, if_none_match):
    """RFC 9110 §13.1.2: "If the field value is "*", the condition is false if the origin
    server has a current representation for the target resource. If the field value is a
    list of entity tags, the condition is false if one of the listed tags matches the
    entity tag of the selected representation." ... "A recipient MUST use the weak
    comparison function when comparing entity tags for If-None-Match" ... "An origin
    server that evaluates an If-None-Match condition MUST NOT perform the requested method
    if the condition evaluates to false; instead, the origin server MUST respond with ...
    the 304 (Not Modified) status code if the request method is GET or HEAD". §15.4.5: a
    304 "cannot contain content"."""
    srv = _serve(impl, server, tmp_path)
    value = if_none_match(await _etag(http, srv))
    response, transcript = await _get(http, srv, "/static/data.txt", [("If-None-Match", value)])
    if response.status != 304:
        raise Violation(
            f"'If-None-Match: {_short(value)}' matches the file's current entity tag (by weak comparison, or as '*'), yet the GET was "
            "performed.",
            expected="304 Not Modified, no content",
            observed=_describe(response),
            transcript=transcript,
        )


@check("RFC 9110 §15.4.5", Level.MUST)
async def test_304_carries_the_etag(impl, server, http, tmp_path):
    """RFC 9110 §15.4.5: "The server generating a 304 response MUST generate any of the
    following header fields that would have been sent in a 200 (OK) response to the same
    request: Content-Location, Date, ETag, and Vary"."""
    srv = _serve(impl, server, tmp_path)
    etag = await _etag(http, srv)
    response, transcript = await _get(http, srv, "/static/data.txt", [("If-None-Match", etag)])
    if response.status == 304 and response.header("etag") != etag:
        raise Violation(
            "the 304 answering a matching If-None-Match did not repeat the ETag a 200 carries.",
            expected=f"304 with 'ETag: {_short(etag)}'",
            observed=_describe(response),
            transcript=transcript,
        )
    assert response.status == 304, (
        f"GET with 'If-None-Match: {_short(etag)}' got {_describe(response)}, expected 304 "
        "(judged by test_if_none_match_with_the_etag_is_304)"
    )


@check("RFC 9110 §13.1.2", Level.MUST)
async def test_if_none_match_with_another_etag_is_200(impl, server, http, tmp_path):
    """RFC 9110 §13.1.2: the condition is false if one of the listed tags matches the
    entity tag of the selected representation. "Otherwise, the condition is true." A true
    condition lets the method be performed: the GET is answered with the file."""
    srv = _serve(impl, server, tmp_path)
    await _etag(http, srv)
    value = '"not-this-version", W/"nor-this-one"'
    response, transcript = await _get(http, srv, "/static/data.txt", [("If-None-Match", value)])
    if not (response.status == 200 and response.body == DATA):
        raise Violation(
            f"'If-None-Match: {value}' names no entity tag of the file, yet the GET was not answered with it.",
            expected=f"200 with {DATA!r}",
            observed=_describe(response),
            transcript=transcript,
        )


IF_MODIFIED_SINCE = [
    pytest.param(LAST_MODIFIED, 304, id="equal"),
    pytest.param(LATER, 304, id="later"),
    pytest.param(EARLIER, 200, id="earlier"),
]


@check("RFC 9110 §13.1.3", Level.SHOULD)
@pytest.mark.parametrize(("since", "status"), IF_MODIFIED_SINCE)
async def test_if_modified_since_is_evaluated(impl, server, http, tmp_path, since, status):
    """RFC 9110 §13.1.3: "An origin server that receives an If-Modified-Since header field
    SHOULD evaluate the condition as follows prior to performing the method: 1. If the
    selected representation's last modification date is earlier or equal to the date
    provided in the field value, the condition is false. 2. Otherwise, the condition is
    true." ... "the origin server SHOULD generate a 304 (Not Modified) response" when it is
    false. The file was last modified at 2020-01-02 03:04:05 UTC."""
    srv = _serve(impl, server, tmp_path)
    response, transcript = await _get(http, srv, "/static/data.txt", [("If-Modified-Since", since)])
    if response.status != status or (status == 200 and response.body != DATA):
        raise Violation(
            f"'If-Modified-Since: {since}' against a file last modified {LAST_MODIFIED} was misjudged.",
            expected="304 Not Modified" if status == 304 else f"200 with {DATA!r}",
            observed=_describe(response),
            transcript=transcript,
        )


OTHER_DATE_FORMATS = [
    pytest.param("Thursday, 02-Jan-20 03:04:05 GMT", id="rfc850"),
    pytest.param("Thu Jan  2 03:04:05 2020", id="asctime"),
]


@check("RFC 9110 §5.6.7; RFC 9110 §13.1.3", Level.SHOULD)
@pytest.mark.parametrize("since", OTHER_DATE_FORMATS)
async def test_if_modified_since_in_an_obsolete_date_format_is_evaluated(impl, server, http, tmp_path, since):
    """RFC 9110 §5.6.7: "A recipient that parses a timestamp value in an HTTP field MUST
    accept all three HTTP-date formats" (IMF-fixdate, the obsolete RFC 850 format and
    ANSI C's asctime() format); §13.1.3: the origin server "SHOULD generate a 304 (Not
    Modified) response" when the date is not earlier than the last modification. Both
    values here name 2020-01-02 03:04:05 UTC, the file's modification time."""
    srv = _serve(impl, server, tmp_path)
    response, transcript = await _get(http, srv, "/static/data.txt", [("If-Modified-Since", since)])
    if response.status != 304:
        raise Violation(
            f"'If-Modified-Since: {since}' (the file's modification time, {LAST_MODIFIED}, in an obsolete "
            "HTTP-date format) was not read as that date.",
            expected="304 Not Modified",
            observed=_describe(response),
            transcript=transcript,
        )


@check("RFC 9110 §13.1.3", Level.MUST)
@pytest.mark.parametrize("since", ["not a date", "2020-01-03"], ids=["words", "iso-8601"])
async def test_invalid_if_modified_since_is_ignored(impl, server, http, tmp_path, since):
    """RFC 9110 §13.1.3: "A recipient MUST ignore the If-Modified-Since header field if the
    received field value is not a valid HTTP-date". Ignored, the field leaves a plain GET:
    200 with the file."""
    srv = _serve(impl, server, tmp_path)
    response, transcript = await _get(http, srv, "/static/data.txt", [("If-Modified-Since", since)])
    if not (response.status == 200 and response.body == DATA):
        raise Violation(
            f"'If-Modified-Since: {since}' is not an HTTP-date, yet it was not ignored.",
            expected=f"200 with {DATA!r}",
            observed=_describe(response),
            transcript=transcript,
        )


@check("RFC 9110 §13.1.2", Level.MUST)
async def test_head_with_a_matching_etag_is_304(impl, server, http, tmp_path):
    """RFC 9110 §13.1.2: when the If-None-Match condition is false, "the origin server
    MUST respond with either a) the 304 (Not Modified) status code if the request method
    is GET or HEAD or b) the 412 (Precondition Failed) status code for all other request
    methods"."""
    srv = _serve(impl, server, tmp_path)
    etag = await _etag(http, srv)
    response, transcript = await _get(http, srv, "/static/data.txt", [("If-None-Match", etag)], method="HEAD")
    if response.status != 304:
        raise Violation(
            "HEAD with an If-None-Match naming the file's current entity tag was not answered 304.",
            expected="304 Not Modified",
            observed=_describe(response),
            transcript=transcript,
        )


PRECEDENCE = [
    pytest.param(lambda etag: '"not-this-version"', LATER, 200, id="no-match-beats-not-modified"),
    pytest.param(lambda etag: etag, EARLIER, 304, id="match-beats-modified"),
]


@check("RFC 9110 §13.1.3; RFC 9110 §13.2.2", Level.MUST)
@pytest.mark.parametrize(("if_none_match", "since", "status"), PRECEDENCE)
async def test_if_none_match_takes_precedence_over_if_modified_since(
    impl, server, http, tmp_path, if_none_match, since, status
):
    """RFC 9110 §13.1.3: "A recipient MUST ignore If-Modified-Since if the request contains
    an If-None-Match header field; the condition in If-None-Match is considered to be a
    more accurate replacement for the condition in If-Modified-Since". §13.2.2 evaluates
    If-None-Match (step 3) and reaches If-Modified-Since (step 4) only "When the method is
    GET or HEAD, If-None-Match is not present"."""
    srv = _serve(impl, server, tmp_path)
    value = if_none_match(await _etag(http, srv))
    headers = [("If-None-Match", value), ("If-Modified-Since", since)]
    response, transcript = await _get(http, srv, "/static/data.txt", headers)
    if response.status != status:
        raise Violation(
            f"'If-None-Match: {_short(value)}' and 'If-Modified-Since: {since}' (file last modified {LAST_MODIFIED}) "
            "were not judged by If-None-Match alone.",
            expected="304 Not Modified" if status == 304 else f"200 with {DATA!r}",
            observed=_describe(response),
            transcript=transcript,
        )


# -- ranges ---------------------------------------------------------------------------------

RANGES_REFERENCE = (
    f"RFC 9110 §14.2 (MAY ignore Range; SHOULD 206 once supported), §15.3.7; {STATIC_DOCS} (Accept-Ranges)"
)

SATISFIABLE = [
    pytest.param("bytes=0-4", 0, 5, id="first-five"),
    pytest.param("bytes=-3", 17, 20, id="suffix"),
    pytest.param("bytes=5-", 5, 20, id="open-ended"),
    pytest.param("bytes=15-99", 15, 20, id="end-beyond-the-file"),
]


@check(RANGES_REFERENCE, Level.TORNADO)
@pytest.mark.parametrize(("range_", "start", "stop"), SATISFIABLE)
async def test_single_byte_range_is_206_with_those_bytes(impl, server, http, tmp_path, range_, start, stop):
    """RFC 9110 §14.2: "A server MAY ignore the Range header field"; one that supports it
    (Tornado's StaticFileHandler does: "We support the HTTP Accept-Ranges mechanism to
    return partial content") "SHOULD send a 206 (Partial Content) response with content
    containing one or more partial representations that correspond to the satisfiable
    range-spec(s) requested". §15.3.7: "If a single part is being transferred, the server
    generating the 206 response MUST generate a Content-Range header field, describing
    what range of the selected representation is enclosed". §14.1.2: a suffix range is the
    last bytes, and a last-pos past the end means the remainder."""
    srv = _serve(impl, server, tmp_path)
    response, transcript = await _get(http, srv, "/static/data.txt", [("Range", range_)])
    content_range = f"bytes {start}-{stop - 1}/{SIZE}"
    if not (
        response.status == 206
        and response.header("content-range") == content_range
        and response.body == DATA[start:stop]
    ):
        raise Violation(
            f"'Range: {range_}' of a {SIZE}-byte file was not answered with exactly those bytes.",
            expected=f"206 with 'Content-Range: {content_range}' and {DATA[start:stop]!r}",
            observed=_describe(response),
            transcript=transcript,
        )


UNSATISFIABLE = [
    pytest.param("bytes=20-", id="start-at-the-end"),
    pytest.param("bytes=100-200", id="start-beyond-the-end"),
]


@check(f"RFC 9110 §14.2 (SHOULD 416 once ranges are supported), §15.5.17; {STATIC_DOCS}", Level.TORNADO)
@pytest.mark.parametrize("range_", UNSATISFIABLE)
async def test_unsatisfiable_range_is_416_with_the_length(impl, server, http, tmp_path, range_):
    """RFC 9110 §14.2: a server that supports ranges, given a ranged request that "is
    unsatisfiable", "SHOULD send a 416 (Range Not Satisfiable) response". §14.1.1: a
    range-spec is satisfiable when its first-pos "is less than the current length of the
    representation". §15.5.17: "the sender SHOULD generate a Content-Range header field
    specifying the current length of the selected representation" (``bytes */20``, the
    unsatisfied-range form of §14.4). Tornado answers both ways."""
    srv = _serve(impl, server, tmp_path)
    response, transcript = await _get(http, srv, "/static/data.txt", [("Range", range_)])
    content_range = f"bytes */{SIZE}"
    if not (response.status == 416 and response.header("content-range") == content_range):
        raise Violation(
            f"'Range: {range_}' starts at or past the end of a {SIZE}-byte file, yet was not refused as "
            "unsatisfiable with the file's length.",
            expected=f"416 with 'Content-Range: {content_range}'",
            observed=_describe(response),
            transcript=transcript,
        )


STALE_IF_RANGE = [
    pytest.param(lambda etag: '"not-this-version"', id="another-etag"),
    pytest.param(lambda etag: "W/" + _strong(etag), id="weak-etag"),
    pytest.param(lambda etag: LATER, id="another-date"),
]


@check("RFC 9110 §13.1.5", Level.MUST)
@pytest.mark.parametrize("if_range", STALE_IF_RANGE)
async def test_range_with_a_stale_if_range_gets_the_whole_file(impl, server, http, tmp_path, if_range):
    """RFC 9110 §13.1.5: "If the validator does not match, the server MUST ignore the
    Range header field." An entity tag matches only if it "exactly matches the ETag field
    value for the selected representation using the strong comparison function" (so a
    weak tag never does), and a date only if it "exactly matches the Last-Modified field
    value". Here the Range would be served (206) without the If-Range: with it, the client
    asked for the part only if its copy is current, and it is not; the answer is the
    whole file, 200."""
    srv = _serve(impl, server, tmp_path)
    value = if_range(await _etag(http, srv))
    headers = [("Range", "bytes=0-4"), ("If-Range", value)]
    response, transcript = await _get(http, srv, "/static/data.txt", headers)
    if not (response.status == 200 and response.body == DATA):
        raise Violation(
            f"'If-Range: {_short(value)}' does not match the file (ETag by strong comparison, Last-Modified "
            f"{LAST_MODIFIED}), yet 'Range: bytes=0-4' was served: a client splicing that part into its stale copy "
            "corrupts it.",
            expected=f"200 with the whole file, {DATA!r}",
            observed=_describe(response),
            transcript=transcript,
        )


CURRENT_IF_RANGE = [
    pytest.param(lambda etag: etag, id="same-etag"),
    pytest.param(lambda etag: LAST_MODIFIED, id="same-date"),
]


@check("RFC 9110 §13.1.5", Level.SHOULD)
@pytest.mark.parametrize("if_range", CURRENT_IF_RANGE)
async def test_range_with_a_current_if_range_is_206(impl, server, http, tmp_path, if_range):
    """RFC 9110 §13.1.5: "If the validator given in the If-Range header field matches the
    current validator for the selected representation of the target resource, then the
    server SHOULD process the Range header field as requested." The file's own ETag, or
    its Last-Modified date, matches: 'Range: bytes=0-4' is served as without If-Range."""
    srv = _serve(impl, server, tmp_path)
    value = if_range(await _etag(http, srv))
    headers = [("Range", "bytes=0-4"), ("If-Range", value)]
    response, transcript = await _get(http, srv, "/static/data.txt", headers)
    content_range = f"bytes 0-4/{SIZE}"
    if not (response.status == 206 and response.header("content-range") == content_range and response.body == DATA[:5]):
        raise Violation(
            f"'If-Range: {_short(value)}' matches the file, yet 'Range: bytes=0-4' was not served as requested: the "
            "client resuming a current copy is sent what it already holds.",
            expected=f"206 with 'Content-Range: {content_range}' and {DATA[:5]!r}",
            observed=_describe(response),
            transcript=transcript,
        )


@check("RFC 9110 §13.1.2; RFC 9110 §14.2", Level.MUST)
async def test_matching_if_none_match_beats_range(impl, server, http, tmp_path):
    """RFC 9110 §14.2: "The Range header field is evaluated after evaluating the
    precondition header fields defined in Section 13.1, and only if the result in absence
    of the Range header field would be a 200 (OK) response." With an If-None-Match naming
    the current entity tag that result is a 304, which §13.1.2 requires ("the origin
    server MUST respond with ... the 304 (Not Modified) status code")."""
    srv = _serve(impl, server, tmp_path)
    etag = await _etag(http, srv)
    headers = [("If-None-Match", etag), ("Range", "bytes=0-4")]
    response, transcript = await _get(http, srv, "/static/data.txt", headers)
    if response.status != 304:
        raise Violation(
            f"'If-None-Match: {_short(etag)}' names the current entity tag, yet the request's 'Range: bytes=0-4' "
            "was evaluated first: preconditions come before the range.",
            expected="304 Not Modified",
            observed=_describe(response),
            transcript=transcript,
        )


@check(
    f"RFC 9110 §14.2 (MAY ignore Range); {STATIC_DOCS} (one range only: httputil._parse_request_range)", Level.TORNADO
)
async def test_multiple_ranges_get_the_whole_file(impl, server, http, tmp_path):
    """RFC 9110 §14.2: "A server MAY ignore the Range header field." Tornado's
    StaticFileHandler serves one range only (``bytes=1-2,6-10`` "is not allowed", says the
    parser it uses) and treats any other Range as absent: the whole file, 200."""
    srv = _serve(impl, server, tmp_path)
    response, transcript = await _get(http, srv, "/static/data.txt", [("Range", "bytes=0-1,5-6")])
    if not (response.status == 200 and response.body == DATA):
        raise Violation(
            "'Range: bytes=0-1,5-6' (two ranges) was not answered with the whole file.",
            expected=f"200 with {DATA!r}",
            observed=_describe(response),
            transcript=transcript,
        )


@check("RFC 9110 §9.3.2; RFC 9110 §8.6", Level.MUST)
async def test_head_of_a_static_file_has_the_get_headers_and_no_content(impl, server, http, tmp_path):
    """RFC 9110 §9.3.2: "The HEAD method is identical to GET except that the server MUST
    NOT send content in the response." §8.6: a server "MUST NOT send Content-Length in
    such a response unless its field value equals the decimal number of octets that would
    have been sent in the content of a response if the same request had used the GET
    method." The GET sent after it on the connection shows any content it carried."""
    srv = _serve(impl, server, tmp_path)
    get, _ = await _get(http, srv, "/static/data.txt")
    head, transcript = await _get(http, srv, "/static/data.txt", method="HEAD")
    fields = ("etag", "last-modified", "content-type")
    differ = [name for name in fields if head.header(name) != get.header(name)]
    length = head.header("content-length")
    if head.status != 200 or differ or length not in (None, str(SIZE)):
        raise Violation(
            "HEAD of a static file was not answered with the headers of its GET."
            + (f" Differing fields: {', '.join(differ)}." if differ else ""),
            expected=f"200, 'Content-Length: {SIZE}' (or none), {_describe(get)}",
            observed=f"{_describe(head)}, Content-Length: {length}",
            transcript=transcript,
        )


# -- content types, directories, missing files ----------------------------------------------


@check(f"{STATIC_DOCS} (StaticFileHandler.get_content_type)", Level.TORNADO)
@pytest.mark.parametrize("name", list(TYPED_FILES), ids=["css", "js", "png", "gzip", "unknown"])
async def test_content_type_follows_the_extension(impl, server, http, tmp_path, name):
    """Tornado docs, StaticFileHandler.get_content_type: "Returns the Content-Type header
    to be used for this request": the type Python's ``mimetypes`` guesses from the
    extension; "per RFC 6713" ``application/gzip`` for a gzip-encoded file; and "if
    mime_type not detected, use application/octet-stream"."""
    srv = _serve(impl, server, tmp_path)
    content, types = TYPED_FILES[name]
    response, transcript = await _get(http, srv, f"/static/{name}")
    media_type = (response.header("content-type") or "").split(";")[0].strip().lower()
    if not (response.status == 200 and response.body == content and media_type in types):
        raise Violation(
            f"/static/{name} was not served with the Content-Type its extension names.",
            expected=f"200 with 'Content-Type: {' or '.join(sorted(types))}'",
            observed=_describe(response),
            transcript=transcript,
        )


DIRECTORY_URLS = [
    pytest.param("/static/dir/", 200, None, id="with-slash-serves-the-index"),
    pytest.param("/static/dir", 301, "/static/dir/", id="without-slash-redirects"),
]


@check(f"{STATIC_DOCS} (default_filename)", Level.TORNADO)
@pytest.mark.parametrize(("target", "status", "location"), DIRECTORY_URLS)
async def test_directory_url_serves_the_default_filename(impl, server, http, tmp_path, target, status, location):
    """Tornado docs, StaticFileHandler: "To serve a file like ``index.html`` automatically
    when a directory is requested, set ``static_handler_args=dict(default_filename=
    "index.html")`` in your application settings". A directory requested without its
    trailing slash is first redirected (301) to the path with it, so relative links in
    the index resolve inside the directory."""
    srv = _serve(impl, server, tmp_path)
    response, transcript = await _get(http, srv, target)
    if status == 200:
        ok = response.status == 200 and response.body == INDEX
        expected = f"200 with {INDEX!r}"
    else:
        ok = response.status == status and response.header("location") == location
        expected = f"{status} with 'Location: {location}'"
    if not ok:
        raise Violation(
            f"GET {target} (a directory holding index.html, default_filename='index.html') was misanswered.",
            expected=expected,
            observed=f"{_describe(response)}, Location: {response.header('location')}",
            transcript=transcript,
        )


@check(f"{STATIC_DOCS} (StaticFileHandler.get_content: only regular files)", Level.TORNADO)
@pytest.mark.parametrize("target", ["/bare/plain/", "/bare/plain"], ids=["with-slash", "without-slash"])
async def test_directory_without_default_filename_is_403(impl, server, http, tmp_path, target):
    """Tornado docs, StaticFileHandler.get_content (6.6): "Raises HTTPError if abspath is
    not a regular file"; without ``default_filename`` a directory is not served, not
    listed and not redirected: 403 Forbidden."""
    srv = _serve(impl, server, tmp_path)
    response, transcript = await _get(http, srv, target)
    if response.status != 403:
        raise Violation(
            f"GET {target} names a directory of a StaticFileHandler without default_filename, yet was not "
            "refused: its entries are not for a client to list.",
            expected="403 Forbidden",
            observed=f"{_describe(response)}, Location: {response.header('location')}",
            transcript=transcript,
        )


@check(f"{STATIC_DOCS} (StaticFileHandler.validate_absolute_path); RFC 9110 §15.5.5", Level.TORNADO)
async def test_missing_file_is_404(impl, server, http, tmp_path):
    """Tornado docs, StaticFileHandler.validate_absolute_path: "This is where 404 errors
    for missing files are generated." RFC 9110 §15.5.5: 404 "indicates that the origin
    server did not find a current representation for the target resource"."""
    srv = _serve(impl, server, tmp_path)
    response, transcript = await _get(http, srv, "/static/missing.txt")
    if response.status != 404:
        raise Violation(
            "GET of a file the static root does not hold was not answered 404.",
            expected="404 Not Found",
            observed=_describe(response),
            transcript=transcript,
        )


# -- versioned URLs ---------------------------------------------------------------------------


async def _static_url(http, srv, name: str) -> str:
    __tracebackhide__ = True
    response, _ = await _get(http, srv, f"/url/{name}")
    assert response.status == 200, f"GET /url/{name} (a handler answering static_url) got {_describe(response)}"
    return response.body.decode("utf-8", "replace")


@check(f"{STATIC_DOCS} (versioned urls); Tornado docs: RequestHandler.static_url", Level.TORNADO)
async def test_static_url_carries_a_version_argument(impl, server, http, tmp_path):
    """Tornado docs, StaticFileHandler: "this class supports versioned urls (by default
    using the argument ``?v=``)"; RequestHandler.static_url "Returns a static URL for the
    given relative static file path" under ``static_url_prefix`` (``/static/``), with a
    hash of the file's content as ``v``."""
    srv = _serve(impl, server, tmp_path)
    url = await _static_url(http, srv, "style.css")
    prefix = "/static/style.css?v="
    if not (url.startswith(prefix) and len(url) > len(prefix)):
        raise Violation(
            "static_url('style.css') did not return the file's URL with a version argument.",
            expected=f"'{prefix}<version>'",
            observed=repr(url),
        )
    response, transcript = await _get(http, srv, url)
    if not (response.status == 200 and response.body == TYPED_FILES["style.css"][0]):
        raise Violation(
            f"the URL static_url returned, {url}, does not serve the file.",
            expected="200 with the file",
            observed=_describe(response),
            transcript=transcript,
        )


def _lifetime(response) -> tuple[str | None, datetime.datetime | None]:
    expires = response.header("expires")
    try:
        when = email.utils.parsedate_to_datetime(expires) if expires else None
    except (TypeError, ValueError):
        when = None
    return response.header("cache-control"), when


TEN_YEARS = 86400 * 365 * 10


@check(f"{STATIC_DOCS} (versioned urls; StaticFileHandler.get_cache_time)", Level.TORNADO)
async def test_versioned_request_is_cached_for_ten_years(impl, server, http, tmp_path):
    """Tornado docs, StaticFileHandler: "If a version is given, we instruct the browser to
    cache this file indefinitely"; get_cache_time: "By default returns cache expiry of 10
    years for resources requested with ``v`` argument", sent as ``Cache-Control:
    max-age=315360000`` and an ``Expires`` date ten years ahead."""
    srv = _serve(impl, server, tmp_path)
    url = await _static_url(http, srv, "style.css")
    response, transcript = await _get(http, srv, url)
    cache_control, expires = _lifetime(response)
    soon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=365 * 9)
    if not (
        response.status == 200
        and cache_control == f"max-age={TEN_YEARS}"
        and expires is not None
        and expires.tzinfo is not None
        and expires > soon
    ):
        raise Violation(
            f"{url} (a versioned static URL) was not served with a ten-year lifetime.",
            expected=f"200 with 'Cache-Control: max-age={TEN_YEARS}' and Expires about ten years ahead",
            observed=f"{response.describe()}, Cache-Control: {cache_control}, Expires: {response.header('expires')}",
            transcript=transcript,
        )


@check(f"{STATIC_DOCS} (StaticFileHandler.get_cache_time)", Level.TORNADO)
async def test_unversioned_request_has_no_lifetime(impl, server, http, tmp_path):
    """Tornado docs, StaticFileHandler.get_cache_time: "Return a positive number of seconds
    to make the result cacheable for that amount of time or 0 to mark resource as
    cacheable for an unspecified amount of time (subject to browser heuristics)"; the
    default is 10 years only "for resources requested with ``v`` argument". Without it,
    neither Cache-Control's max-age nor Expires is sent: a file that may change is not
    pinned in caches for years."""
    srv = _serve(impl, server, tmp_path)
    response, transcript = await _get(http, srv, "/static/style.css")
    cache_control, _ = _lifetime(response)
    if response.status != 200 or "max-age" in (cache_control or "") or response.header("expires") is not None:
        raise Violation(
            "/static/style.css (no version argument) was served with a cache lifetime.",
            expected="200 without Cache-Control max-age and without Expires",
            observed=f"{response.describe()}, Cache-Control: {cache_control}, Expires: {response.header('expires')}",
            transcript=transcript,
        )
