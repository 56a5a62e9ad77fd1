"""Tornado's security corpus, sent over the wire: one check per past advisory that a
client can trigger with a request, each named by the release that fixed it.

Reference: Tornado's release notes (https://www.tornadoweb.org/en/stable/releases.html)
and the advisories they cite (https://github.com/tornadoweb/tornado/security/advisories).
Tornado 6.6 keeps the triggers of these fixes in ``tornado/test/security_corpus_test.py``;
the checks here send inputs of the same kind and judge only what a client sees (status,
bytes, and whether the handler ran), so they hold for any port.

Rule: a check's failure message names its advisory (release, and CVE or GHSA where one
was assigned), so a port author can look it up. Advisories of the corpus that other
checks already cover are listed in ``docs/security-corpus.md`` with those checks' ids;
the three quadratic-parsing advisories are judged in ``test_security_scaling.py``.
"""

from __future__ import annotations

import urllib.parse

import pytest

from conformance import Level, ProtocolViolation, Timeout, Trace, Violation, check, requires

from ._apps import raw_request

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]

# The advisories, as a port author would search for them.
HEADER_INJECTION = "Tornado 2.2.1 release notes (CVE-2012-2374)"
STATIC_PREFIX = "Tornado 4.2.1 release notes (StaticFileHandler path traversal)"
STATIC_DOUBLE_SLASH = "Tornado 6.3.2 release notes (CVE-2023-28370)"
STATIC_BACKSLASH = "Tornado 6.6.0 release notes (StaticFileHandler redirect, backslash variant)"
MULTIPART_ERRORS = "Tornado 6.5.0 release notes (CVE-2025-47287, GHSA-7cx3-6m66-7c5m)"
REASON_PHRASE = "Tornado 6.5.3 release notes (CVE-2025-67724, GHSA-pr2v-jx2c-wg9f)"
MULTIPART_PARTS = "Tornado 6.5.5 release notes (CVE-2026-31958, GHSA-qjxf-f2mg-c6mc)"
MULTIPART_CR = "Tornado 6.5.5 release notes (carriage return in multipart headers)"
FORM_ARGUMENTS = "Tornado 6.5.8 release notes (urlencoded argument limit)"
QUERY_ARGUMENTS = "Tornado 6.5.9 release notes (URL argument limit)"
STATIC_SYMLINK = "Tornado 6.5.9 release notes (StaticFileHandler symlinks out of the root)"
NBSP_LENGTH = "Tornado 6.4.1 release notes (GHSA-753j-mpmx-qq6g, strict Content-Length)"
REDIRECT_HANDLER = "Tornado 6.6.1 release notes (further RedirectHandler open redirects)"
TINY_CHUNKS = "Tornado 6.6.0 release notes (a body of many tiny chunks no longer blocks the event loop)"


def _bytes_of(response) -> bytes:
    """The parts of a response an injection could reach, as one byte string."""
    head = f"{response.status} {response.reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in response.headers)
    return head.encode("latin-1") + b"\r\n" + response.body


def _assert_no_unhandled_exception(server, what: str, advisory: str) -> None:
    __tracebackhide__ = True
    server.barrier()
    unhandled = server.log.unhandled_exceptions()
    assert not unhandled, (
        f"{what} raised an unhandled exception in the implementation ({advisory}); the input is the "
        f"client's doing and is refused with a 4xx, not a crash:\n{server.log.format(unhandled)}"
    )


async def _exchange(server, http, srv, request: bytes, method: str = "GET"):
    """Send ``request`` (raw bytes) on a new connection and read its answer (None: the
    connection was closed), then let the loop finish what the request started, so that
    nothing it still logs runs alongside the report of a failure."""
    async with await http.connect(srv) as conn:
        await conn.send(request)
        try:
            answer = await conn.response_or_close(method)
        finally:
            server.barrier()
    return answer, conn


# -- 2.2.1: CR and LF in redirect() ------------------------------------------------------------

UNSAFE_REDIRECTS = [
    pytest.param("/target\r\nX-Injected: yes", id="crlf"),
    pytest.param("/target\nX-Injected: yes", id="lf"),
    pytest.param("/target\rX-Injected: yes", id="cr"),
]


@check(f"{HEADER_INJECTION}; RFC 9110 §5.5", Level.MUST)
@pytest.mark.parametrize("url", UNSAFE_REDIRECTS)
async def test_redirect_to_a_url_with_cr_or_lf_is_refused(impl, server, http, url):
    """Tornado 2.2.1 release notes: header values are sanitized "to protect against header
    injection, response splitting, etc.", and "redirects, the most likely source of such
    bugs, are protected by a separate check in RequestHandler.redirect". RFC 9110 §5.5:
    "Field values containing CR, LF, or NUL characters are invalid and dangerous". A
    ``redirect()`` to a URL built from user input that carries CR or LF must raise
    (ValueError, before anything is sent, so the handler can still answer 400) or send a
    Location without them; the ``X-Injected`` line must never become a header."""
    web = impl.part("web")
    trace = Trace()

    class Redirect(web.RequestHandler):
        def get(self):
            try:
                self.redirect(url)
            except ValueError:
                trace.add("redirect() raised ValueError")
                self.send_error(400)
            else:
                trace.add("redirect() accepted the URL")

    srv = server.serve([("/", Redirect)])
    try:
        answer, conn = await _exchange(server, http, srv, raw_request("GET", "/"))
    except ProtocolViolation as exc:
        raise ProtocolViolation(
            f"redirect({url!r}) produced a response h11 cannot parse: the CR/LF reached the response head "
            f"(response splitting, {HEADER_INJECTION}). The handler's redirect() call: {trace.events}.\n{exc}"
        ) from None
    except Timeout as exc:
        raise Timeout(
            f"redirect({url!r}) got no response (handler: {trace.events}); {HEADER_INJECTION}: the URL must "
            f"be refused by redirect() itself, before anything is written, so the handler can still answer "
            f"400.\n{exc}"
        ) from None
    if answer is None:
        raise Violation(
            f"redirect({url!r}) left the connection closed without a response: the URL is refused by redirect() "
            "itself (ValueError before anything is written, so the handler can answer 400) or sent without CR/LF.",
            expected="400, or a redirect without CR/LF",
            observed=f"no response (handler: {trace.events})",
            transcript=conn.transcript,
        )
    location = answer.header("Location") or ""
    clean_redirect = 300 <= answer.status < 400 and not any(c in location for c in "\r\n")
    if not (answer.header("X-Injected") is None and (answer.status == 400 or clean_redirect)):
        raise Violation(
            f"redirect({url!r}) split the response or was not refused: a URL with CR or LF is refused by "
            "redirect() (the handler then answers 400).",
            expected="400, or a redirect without CR/LF; no X-Injected field",
            observed=f"{answer.describe()}, Location {location!r}, X-Injected {answer.header('X-Injected')!r} "
            f"(handler: {trace.events})",
            transcript=conn.transcript,
        )
    _assert_no_unhandled_exception(server, f"redirect({url!r})", HEADER_INJECTION)


# -- StaticFileHandler: 4.2.1 traversal, 6.3.2 and 6.6.0 open redirects -------------------------

SECRET = b"secret file outside the static root"


def _static_tree(tmp_path):
    """``<tmp>/static`` (the root, with ``dir/index.html`` and ``inside.txt``) and, next
    to it, ``<tmp>/static_secret.txt``, whose path starts with the root's path."""
    root = tmp_path / "static"
    (root / "dir").mkdir(parents=True)
    (root / "dir" / "index.html").write_bytes(b"index of dir")
    (root / "inside.txt").write_bytes(b"inside the root")
    (tmp_path / "static_secret.txt").write_bytes(SECRET)
    return root


@check(f"{STATIC_PREFIX}; Tornado docs: StaticFileHandler", Level.MUST)
async def test_static_file_beside_the_root_sharing_its_prefix_is_not_served(impl, server, http, tmp_path):
    """Tornado 4.2.1 release notes: "a path traversal vulnerability in StaticFileHandler,
    in which files whose names *started with* the static_path directory but were not
    actually *in* that directory could be accessed." With the root ``<tmp>/static``,
    ``/static/../static_secret.txt`` names ``<tmp>/static_secret.txt``: outside the root,
    though its path starts with the root's. It is refused (Tornado: 403); a file inside
    the root is still served."""
    web = impl.part("web")
    root = _static_tree(tmp_path)
    srv = server.serve([(r"/static/(.*)", web.StaticFileHandler, {"path": str(root)})])
    inside = await http.request(srv, "GET", "/static/inside.txt")
    server.barrier()
    assert inside.status == 200 and inside.body == b"inside the root", (
        f"GET /static/inside.txt got {inside.describe()} with {inside.body[:80]!r}; StaticFileHandler must serve "
        f"the files of its root (the check needs that to judge the traversal)."
    )
    answer, conn = await _exchange(server, http, srv, raw_request("GET", "/static/../static_secret.txt"))
    if not (answer is None or (400 <= answer.status < 500 and SECRET not in answer.body)):
        raise Violation(
            "GET /static/../static_secret.txt served a file beside the static root, whose path only starts with "
            "the root's: only files *in* the root are served.",
            expected="403 (or another 4xx) without the file",
            observed=f"{answer.describe()} with {answer.body[:80]!r}",
            transcript=conn.transcript,
        )
    _assert_no_unhandled_exception(server, "GET /static/../static_secret.txt", STATIC_PREFIX)


def _names_another_host(location: str) -> bool:
    """Whether a browser following ``location`` from this site would leave it: an
    absolute URL with a host, or a protocol-relative one (browsers read ``\\`` as ``/``
    and skip leading spaces and control characters)."""
    normalised = location.lstrip("".join(map(chr, range(0x21)))).replace("\\", "/")
    if normalised.startswith("//"):
        return True
    parts = urllib.parse.urlsplit(normalised)
    return bool(parts.scheme and parts.netloc)


def _double_slash_target(root) -> str:
    # The path after "//host/.." must lead back into the root for the handler to find the
    # directory; the server-side absolute path of the root does that.
    return "//evil.example/.." + root.as_posix() + "/dir"


OPEN_REDIRECTS = [
    pytest.param(
        _double_slash_target,
        marks=check(f"{STATIC_DOUBLE_SLASH}; Tornado docs: StaticFileHandler default_filename", Level.MUST),
        id="double-slash",
    ),
    pytest.param(
        lambda root: "/\\evil.example/../dir",
        marks=check(f"{STATIC_BACKSLASH}; Tornado docs: StaticFileHandler default_filename", Level.MUST),
        id="slash-backslash",
    ),
]


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
async def test_static_directory_redirect_never_names_another_host(impl, server, http, tmp_path, target):
    """StaticFileHandler with ``default_filename`` redirects a directory requested without
    its trailing slash to ``request.path + "/"``. Tornado 6.3.2 (CVE-2023-28370): with the
    handler mounted at ``/``, a path starting with two slashes made that redirect
    protocol-relative (``//evil.example/...``), an open redirect; Tornado 6.6.0: "The check
    that prevents StaticFileHandler from redirecting to a protocol-relative URL ... now also
    recognizes variants that use backslashes" (browsers read ``/\\evil.example`` as
    ``//evil.example``). Such a request is refused (Tornado: 403), never redirected off-site."""
    web = impl.part("web")
    root = _static_tree(tmp_path)
    srv = server.serve([(r"/(.*)", web.StaticFileHandler, {"path": str(root), "default_filename": "index.html"})])
    request_target = target(root)
    advisory = STATIC_DOUBLE_SLASH if request_target.startswith("//") else STATIC_BACKSLASH
    answer, conn = await _exchange(server, http, srv, raw_request("GET", request_target))
    location = answer.header("Location") if answer is not None else None
    if location is not None and _names_another_host(location):
        raise Violation(
            f"GET {request_target} was redirected to another host (an open redirect): a directory redirect built "
            "from a path starting with '//' or '/\\' is refused.",
            expected="403, no Location naming another host",
            observed=f"{answer.describe()} with 'Location: {location}'",
            transcript=conn.transcript,
        )
    _assert_no_unhandled_exception(server, f"GET {request_target}", advisory)


# -- 6.5.3: the reason phrase ------------------------------------------------------------------

INJECTED_REASON = "OK\r\nX-Injected: yes"
MARKUP = "<script>alert(1)</script>"


@check(f"{REASON_PHRASE}; RFC 9112 §4", Level.MUST)
async def test_reason_phrase_with_cr_lf_cannot_add_a_header(impl, server, http):
    """Tornado 6.5.3 release notes: "Fixed a header injection and XSS vulnerability
    involving the reason argument to RequestHandler.set_status and tornado.web.HTTPError"
    (CVE-2025-67724). RFC 9112 §4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ), so
    CR and LF cannot be part of one. ``set_status(200, "OK\\r\\nX-Injected: yes")`` either
    raises ValueError or replaces the phrase (Tornado sends "Unknown"); the response is
    still the handler's 200 with its body, and has no X-Injected header."""
    web = impl.part("web")
    trace = Trace()

    class Status(web.RequestHandler):
        def get(self):
            try:
                self.set_status(200, INJECTED_REASON)
            except ValueError:
                trace.add("set_status raised ValueError")
            self.write("body")

    srv = server.serve([("/", Status)])
    try:
        answer, conn = await _exchange(server, http, srv, raw_request("GET", "/"))
    except ProtocolViolation as exc:
        raise ProtocolViolation(
            f"set_status(200, {INJECTED_REASON!r}) produced a response h11 cannot parse: the reason phrase was "
            f"written into the status line as given ({REASON_PHRASE}).\n{exc}"
        ) from None
    ok = (
        answer is not None
        and answer.status == 200
        and answer.body == b"body"
        and answer.header("X-Injected") is None
        and not any(c in answer.reason for c in "\r\n")
    )
    if not ok:
        raise Violation(
            f"after set_status(200, {INJECTED_REASON!r}) and write('body') the response did not go out intact: a "
            "reason phrase with CR/LF is refused or replaced, never written into the head.",
            expected="200 with b'body', a reason without CR/LF, no X-Injected field",
            observed=f"{answer.describe()} with {answer.body[:80]!r}, X-Injected {answer.header('X-Injected')!r}"
            if answer
            else "nothing (connection closed)",
            transcript=conn.transcript,
        )
    _assert_no_unhandled_exception(server, f"set_status(200, {INJECTED_REASON!r})", REASON_PHRASE)


@check(f"{REASON_PHRASE}; Tornado docs: RequestHandler.write_error", Level.TORNADO)
@pytest.mark.parametrize("how", ["send_error", "HTTPError"])
async def test_reason_phrase_is_not_markup_in_the_default_error_page(impl, server, http, how):
    """Tornado 6.5.3 release notes (CVE-2025-67724): the ``reason`` given to ``send_error``
    or ``HTTPError`` reached the default error page unescaped, an XSS for applications that
    put user input there. The phrase is escaped in the page or replaced (Tornado sends
    "Unknown" for a phrase with ``<``); ``<script>`` appears nowhere in the response."""
    web = impl.part("web")

    class Fail(web.RequestHandler):
        def get(self):
            if how == "send_error":
                self.send_error(400, reason=MARKUP)
            else:
                raise web.HTTPError(400, reason=MARKUP)

    srv = server.serve([("/", Fail)])
    answer = await http.request(srv, "GET", "/")
    server.barrier()
    assert answer.status == 400 and b"<script>" not in _bytes_of(answer), (
        f"{'send_error(400' if how == 'send_error' else 'raise HTTPError(400'}, reason={MARKUP!r}) was answered "
        f"{answer.describe()} with body {answer.body[:200]!r}; {REASON_PHRASE}: the reason must not reach the error "
        f"page (or the status line) as markup."
    )


# -- multipart/form-data: 6.5.0 errors, 6.5.5 part count and CR -----------------------------------

BOUNDARY = "security-corpus"


def _good_parts(count: int) -> list[bytes]:
    return [b'Content-Disposition: form-data; name="a%d"\r\n\r\nvalue' % i for i in range(count)]


def _multipart(parts: list[bytes]) -> bytes:
    body = b"".join(b"--" + BOUNDARY.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    body += b"--" + BOUNDARY.encode() + b"--\r\n"
    return raw_request(
        "POST", "/", f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {len(body)}", body
    )


def _form_app(impl, trace: Trace):
    """Answers how many distinct arguments (query for GET, body for POST) it received,
    after recording that it ran. The inputs use distinct names, so how repeated names are
    kept does not matter here."""
    web = impl.part("web")

    class Form(web.RequestHandler):
        def get(self):
            trace.add(f"GET with {len(self.request.query_arguments)} query arguments")
            self.write(str(len(self.request.query_arguments)))

        def post(self):
            trace.add(f"POST with {len(self.request.body_arguments)} body arguments")
            self.write(str(len(self.request.body_arguments)))

    return [("/", Form)]


MALFORMED_PARTS = [
    pytest.param(b'Content-Disposition: invalid; name="a"\r\n\r\nvalue', id="not-form-data"),
    pytest.param(b"value without part headers", id="no-part-headers"),
]


@check(f"{MULTIPART_ERRORS}", Level.TORNADO)
@pytest.mark.parametrize("bad_part", MALFORMED_PARTS)
async def test_malformed_multipart_body_is_refused_at_the_first_bad_part(impl, server, http, bad_part):
    """Tornado 6.5.0 release notes (CVE-2025-47287): "Previously, malformed
    multipart-form-data requests could log multiple warnings and constitute a
    denial-of-service attack. Now an exception is raised at the first error, so there is
    only one log message per request." A body of 1 and a body of 50 malformed parts are
    both refused (Tornado: 400) before the handler runs, and the second logs no more than
    the first."""
    trace = Trace()
    srv = server.serve(_form_app(impl, trace))
    logged = []
    for count in (1, 50):
        before = len(server.log.records)
        answer, conn = await _exchange(server, http, srv, _multipart([bad_part] * count), "POST")
        logged.append(len(server.log.records) - before)
        if not (answer is not None and 400 <= answer.status < 500 and trace.events == []):
            raise Violation(
                f"a multipart body of {count} malformed part(s) ({bad_part[:40]!r}...) was not refused at its "
                "first error.",
                expected="400 (or another 4xx), no handler call",
                observed=f"{answer.describe() if answer else 'no response'}, handler calls {trace.events}",
                transcript=conn.transcript.format()[:3000],
            )
    assert logged[1] <= logged[0], (
        f"the implementation logged {logged[0]} record(s) (WARNING and above) for 1 malformed part and {logged[1]} "
        f"for 50; {MULTIPART_ERRORS}: logging per malformed part lets one request flood the logs. Records:\n"
        f"{server.log.format()[:3000]}"
    )
    _assert_no_unhandled_exception(server, "a malformed multipart body", MULTIPART_ERRORS)


@check(f"{MULTIPART_PARTS}; Tornado docs: httputil.ParseMultipartConfig.max_parts", Level.TORNADO)
async def test_multipart_body_with_too_many_parts_is_refused(impl, server, http):
    """Tornado 6.5.5 release notes: "multipart/form-data requests are now limited to 100
    parts by default, to prevent a denial-of-service attack via very large requests with
    many parts" (``ParseMultipartConfig.max_parts``). A body of 10 parts reaches the
    handler; one of 200 is refused before it runs."""
    trace = Trace()
    srv = server.serve(_form_app(impl, trace))
    answer, conn = await _exchange(server, http, srv, _multipart(_good_parts(10)), "POST")
    if not (answer is not None and answer.status == 200 and answer.body == b"10"):
        raise Violation(
            "a multipart body of 10 well-formed parts was not parsed whole (the check needs that to judge the limit).",
            expected="200 with the handler's count b'10'",
            observed=f"{answer.describe()} with {answer.body[:80]!r}" if answer else "no response",
            transcript=conn.transcript.format()[:3000],
        )
    answer, conn = await _exchange(server, http, srv, _multipart(_good_parts(200)), "POST")
    assert answer is not None and 400 <= answer.status < 500 and len(trace.events) == 1, (
        f"a multipart body of 200 parts got {answer.describe() if answer else 'no response'} and the handler "
        f"ran: {trace.events}; {MULTIPART_PARTS}: a body over the default limit of 100 parts is refused "
        f"(Tornado answers 400) before it reaches the handler."
    )
    _assert_no_unhandled_exception(server, "a multipart body of 200 parts", MULTIPART_PARTS)


@check(f"{MULTIPART_CR}; RFC 7578 §4.8", Level.TORNADO)
async def test_multipart_part_header_with_a_bare_cr_is_refused(impl, server, http):
    """Tornado 6.5.5 release notes: "Carriage return characters are no longer accepted in
    multipart/form-data headers." RFC 7578 §4.8 part headers are MIME header fields, where
    CR appears only in the CRLF that ends a line; a parser that reads a lone CR as a line
    end disagrees with one that does not. A part whose filename holds a bare CR is refused
    (Tornado: 400) before the handler runs."""
    trace = Trace()
    srv = server.serve(_form_app(impl, trace))
    part = b'Content-Disposition: form-data; name="a"; filename="a\rb.txt"\r\n\r\nvalue'
    answer, conn = await _exchange(server, http, srv, _multipart([part]), "POST")
    if not (answer is not None and 400 <= answer.status < 500 and trace.events == []):
        raise Violation(
            "a multipart part whose filename holds a bare CR was not refused before the handler.",
            expected="400 (or another 4xx), no handler call",
            observed=f"{answer.describe() if answer else 'no response'}, handler calls {trace.events}",
            transcript=conn.transcript,
        )
    _assert_no_unhandled_exception(server, "a multipart part header with a bare CR", MULTIPART_CR)


# -- 6.5.8 / 6.5.9: argument counts --------------------------------------------------------------


def _pairs(count: int) -> str:
    return "&".join(f"a{i}=b" for i in range(count))


def _summary(answer) -> str:
    if answer is None:
        return "closed without a response"
    return answer.describe() + (f" {answer.body[:40].decode('latin-1')!r}" if answer.status == 200 else "")


def _refused(answer) -> bool:
    return answer is None or 400 <= answer.status < 500


@check(f"{FORM_ARGUMENTS}; Tornado docs: httputil.ParseUrlEncodedConfig.max_arguments", Level.TORNADO)
async def test_urlencoded_body_with_more_than_1000_arguments_is_refused(impl, server, http):
    """Tornado 6.5.8 release notes: "Form-encoded POST bodies are now subject to a limit of
    1000 arguments by default. This prevents a CPU and memory denial of service attack"
    (``ParseUrlEncodedConfig.max_arguments``). A body of 1000 arguments reaches the
    handler; one of 1001 is refused before it runs."""
    trace = Trace()
    srv = server.serve(_form_app(impl, trace))
    answers = {}
    for count in (1000, 1001):
        body = _pairs(count).encode()
        request = raw_request(
            "POST", "/", f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}", body
        )
        answers[count], _conn = await _exchange(server, http, srv, request, "POST")
    at_limit, over = answers[1000], answers[1001]
    ok = at_limit is not None and at_limit.status == 200 and at_limit.body == b"1000" and _refused(over)
    assert ok and len(trace.events) == 1, (
        f"urlencoded bodies of 1000 and 1001 arguments were answered {_summary(at_limit)} and {_summary(over)} "
        f"(handler: {trace.events}); {FORM_ARGUMENTS}: up to 1000 arguments are parsed, more are refused "
        f"(Tornado answers 400) before the handler runs."
    )
    _assert_no_unhandled_exception(server, "a body of 1001 arguments", FORM_ARGUMENTS)


@check(f"{QUERY_ARGUMENTS}; Tornado docs: httputil.ParseUrlEncodedConfig.max_arguments", Level.TORNADO)
async def test_query_string_with_more_than_1000_arguments_is_refused(impl, server, http):
    """Tornado 6.5.9 release notes: "The limit ParseBodyConfig.urlencoded.max_argument is
    now applied to URL arguments in addition to POST bodies." A query of 1000 arguments
    reaches the handler; one of 1001 is refused before it runs."""
    trace = Trace()
    srv = server.serve(_form_app(impl, trace))
    answers = {}
    for count in (1000, 1001):
        answers[count], _conn = await _exchange(server, http, srv, raw_request("GET", "/?" + _pairs(count)))
    at_limit, over = answers[1000], answers[1001]
    ok = at_limit is not None and at_limit.status == 200 and at_limit.body == b"1000" and _refused(over)
    assert ok and len(trace.events) == 1, (
        f"query strings of 1000 and 1001 arguments were answered {_summary(at_limit)} and {_summary(over)} "
        f"(handler: {trace.events}); {QUERY_ARGUMENTS}: up to 1000 URL arguments are parsed, more are refused "
        f"(Tornado answers 400) before the handler runs."
    )
    _assert_no_unhandled_exception(server, "a query of 1001 arguments", QUERY_ARGUMENTS)


# -- 6.5.9: StaticFileHandler symlinks out of the root --------------------------------------------


SYMLINKS = [
    pytest.param("link.txt", id="file-symlink"),
    pytest.param("linkdir/secret.txt", id="directory-symlink"),
]


@check(f"{STATIC_SYMLINK}; Tornado docs: StaticFileHandler (allowed_symlink_directory)", Level.TORNADO)
@pytest.mark.parametrize("name", SYMLINKS)
async def test_static_symlink_out_of_the_root_is_not_served(impl, server, http, tmp_path, name):
    """Tornado 6.5.9 release notes: "StaticFileHandler no longer follows symlinks outside of
    the static root directory" (unless ``allowed_symlink_directory`` names a wider
    directory). With ``<tmp>/static/link.txt`` a symlink to ``<tmp>/elsewhere/secret.txt``
    and ``<tmp>/static/linkdir`` one to ``<tmp>/elsewhere``, both requests are refused
    (Tornado: 403) without the file; a symlink that stays inside the root is still served."""
    web = impl.part("web")
    root = _static_tree(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.txt").write_bytes(SECRET)
    (root / "link.txt").symlink_to(elsewhere / "secret.txt")
    (root / "linkdir").symlink_to(elsewhere, target_is_directory=True)
    (root / "inner-link.txt").symlink_to(root / "inside.txt")
    srv = server.serve([(r"/static/(.*)", web.StaticFileHandler, {"path": str(root)})])
    inside = await http.request(srv, "GET", "/static/inner-link.txt")
    server.barrier()
    assert inside.status == 200 and inside.body == b"inside the root", (
        f"GET /static/inner-link.txt (a symlink to a file inside the root) got {inside.describe()} with "
        f"{inside.body[:80]!r}; StaticFileHandler serves symlinks that stay in the root (the check needs that to "
        "judge the one that leaves it)."
    )
    answer, conn = await _exchange(server, http, srv, raw_request("GET", f"/static/{name}"))
    if not (answer is None or (400 <= answer.status < 500 and SECRET not in answer.body)):
        raise Violation(
            f"GET /static/{name} followed a symlink inside the static root to a file outside it ({STATIC_SYMLINK}): "
            "whoever can create a symlink in the static directory (an upload, an unpacked archive) can then read any "
            "file of the server.",
            expected="403 (or another 4xx) without the file",
            observed=f"{answer.describe()} with {answer.body[:80]!r}",
            transcript=conn.transcript,
        )
    _assert_no_unhandled_exception(server, f"GET /static/{name}", STATIC_SYMLINK)


# -- 6.4.1: a no-break space in Content-Length ---------------------------------------------------


@check(f"{NBSP_LENGTH}; RFC 9112 §6.3", Level.MUST)
async def test_content_length_with_a_no_break_space_is_refused(impl, server, http):
    """RFC 9112 §6.3: "If a message is received without Transfer-Encoding and with an
    invalid Content-Length header field, then the message framing is invalid and the
    recipient MUST treat it as an unrecoverable error ... the server MUST respond with a
    400 (Bad Request) status code and then close the connection." ``Content-Length`` is
    ``1*DIGIT``; ``5\xa0`` (a trailing U+00A0, obs-text) is not, though Python's ``int()``
    reads it as 5 (Unicode whitespace) and ``str.strip()`` drops it: the framing smuggling
    that Tornado 6.3.3 and 6.4.1 (GHSA-753j-mpmx-qq6g) closed for other spellings."""
    trace = Trace()
    srv = server.serve(_form_app(impl, trace))
    # raw_request encodes the head as latin-1: U+00A0 is the single octet 0xA0
    request = raw_request("POST", "/", "Content-Type: application/octet-stream\r\nContent-Length: 5\xa0", b"hello")
    answer, conn = await _exchange(server, http, srv, request, "POST")
    if not (answer is not None and answer.status == 400 and not trace.events):
        raise Violation(
            "a request with 'Content-Length: 5\\xa0' was "
            + (f"answered {answer.status}" if answer else "met with a closed connection and no response")
            + ", not refused with 400: the value is not 1*DIGIT, and a "
            f"recipient that reads it as 5 frames the body differently from one that refuses it ({NBSP_LENGTH}).",
            expected="400 Bad Request, the handler not run",
            observed=f"{answer.describe() if answer else 'connection closed without a response'} "
            f"(handler: {trace.events})",
            transcript=conn.transcript,
        )


# -- 6.6.1: further RedirectHandler open redirects -----------------------------------------------


REDIRECT_FORMS = [
    pytest.param("/to///evil.example/b", id="triple-slash"),
    pytest.param("/to/%2F%2Fevil.example/b", id="percent-encoded-double-slash"),
    pytest.param("/to/%5C/evil.example/b", id="backslash-then-slash"),
    pytest.param("/to/%2F%5Cevil.example/b", id="slash-then-backslash"),
]


@check(f"{REDIRECT_HANDLER}; Tornado docs: RedirectHandler (changed in 6.6)", Level.TORNADO)
@pytest.mark.parametrize("path", REDIRECT_FORMS)
async def test_redirect_handler_substitutions_never_reach_another_host(impl, server, http, path):
    """Tornado docs, RedirectHandler (changed in 6.6): "Substituted values may no longer
    change the scheme or netloc (user info, host, and port) of the destination URL ... now
    fails with a 400 error." Tornado 6.6.1 release notes: "Additional forms of open
    redirects in RedirectHandler have been fixed". Browsers skip any number of slashes (and
    read ``\\`` as ``/``) before a host, so ``///evil.example/b`` and ``/\\/evil.example/b``
    leave the site as ``//evil.example/b`` does. With the url ``/{0}/b`` these requests are
    refused (400); ``lifecycle.redirect_handler_substitutions_never_change_the_host`` has the
    6.6.0 forms."""
    web = impl.part("web")
    srv = server.serve([(r"/to/(.*)/b", web.RedirectHandler, {"url": "/{0}/b"})])
    answer, conn = await _exchange(server, http, srv, raw_request("GET", path))
    location = (answer.header("Location") or "") if answer is not None else ""
    if not (answer is not None and answer.status == 400 and not _names_another_host(location)):
        raise Violation(
            f"GET {path}, routed to RedirectHandler(url='/{{0}}/b'), was not refused: the substituted value makes the "
            f"Location lead a browser to another host (an open redirect, {REDIRECT_HANDLER}).",
            expected="400 Bad Request, no Location naming another host",
            observed=f"{answer.describe() if answer else 'no response'}, Location {location!r}",
            transcript=conn.transcript,
        )
    _assert_no_unhandled_exception(server, f"GET {path}", REDIRECT_HANDLER)


# -- 6.6.0: a body of tiny chunks reads without blocking the loop ------------------------------

#: 1-byte chunks: 6 octets each on the wire, 30 KB in all, sent in one write so that the
#: whole body has arrived before the implementation reads it (one loopback segment).
TINY_CHUNK_COUNT = 5_000
#: Loop turns the reading must leave to other callbacks: Tornado 6.6 gives 21 here (it
#: yields every 256 chunks); a reader that never yields gives 2 (the turns around
#: prepare(), before the first chunk is read), as Tornado 4.5 to 6.5 do.
MIN_TURNS = 10


class _Turns:
    def __init__(self) -> None:
        self.count = 0
        self.before_post: int | None = None
        self.received = 0


def _tiny_chunks_app(impl, turns: _Turns):
    web = impl.part("web")
    ioloop = impl.part("ioloop")

    @web.stream_request_body
    class Sink(web.RequestHandler):
        def prepare(self):
            loop = ioloop.IOLoop.current()

            def turn():
                # One loop turn: counted, and the next one asked for, until post() runs.
                turns.count += 1
                if turns.before_post is None and turns.count < 100_000:
                    loop.add_callback(turn)

            loop.add_callback(turn)

        def data_received(self, chunk):
            turns.received += len(chunk)

        def post(self):
            turns.before_post = turns.count
            self.write(str(turns.received))

    return [("/sink", Sink)]


@check(f"{TINY_CHUNKS}; RFC 9112 §7.1", Level.TORNADO)
async def test_a_body_of_tiny_chunks_leaves_the_loop_to_other_callbacks(impl, server, http):
    """Tornado 6.6.0 release notes: reading a request body "now yields to the event loop
    periodically, so a peer that sends a body faster than it can be processed (especially
    with many tiny chunks in chunked encoding) can no longer block the event loop for the
    duration of the body". A handler that streams the body (``@stream_request_body``)
    starts, in ``prepare()``, a callback that re-schedules itself on every loop turn; the
    client sends 10,000 one-byte chunks at once. Before ``post()`` runs, the loop must have
    turned at least a few times: a reader that parses every chunk already received without
    returning to the loop holds every other connection for the whole body (the 1-byte-chunk
    denial of service fixed in 6.6.0; its cost grows linearly, so no ratio shows it)."""
    turns = _Turns()
    srv = server.serve(_tiny_chunks_app(impl, turns))
    body = b"1\r\nx\r\n" * TINY_CHUNK_COUNT + b"0\r\n\r\n"
    request = raw_request("POST", "/sink", "Transfer-Encoding: chunked", b"") + body
    answer, _ = await _exchange(server, http, srv, request, "POST")
    if answer is None or answer.status != 200 or answer.body != str(TINY_CHUNK_COUNT).encode():
        raise Violation(
            f"a chunked POST of {TINY_CHUNK_COUNT} one-byte chunks was not answered with its length: the chunked "
            "coding is decoded (RFC 9112 §7.1).",
            expected=f"200 with body b'{TINY_CHUNK_COUNT}'",
            observed=answer.describe() if answer else "connection closed without a response",
        )
    seen = turns.before_post or 0
    if seen < MIN_TURNS:
        raise Violation(
            f"while reading a chunked body of {TINY_CHUNK_COUNT} one-byte chunks that had all arrived, the "
            f"implementation's event loop turned {seen} time(s) before post() ran: it parsed the chunks without "
            "returning to the loop, so one client sending tiny chunks holds every other connection for the "
            f"duration of the body ({TINY_CHUNKS}).",
            expected=f"at least {MIN_TURNS} loop turns before post() (Tornado 6.6 gives 21)",
            observed=f"{seen} loop turn(s)",
        )
