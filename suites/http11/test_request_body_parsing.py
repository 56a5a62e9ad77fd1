"""Request bodies the server parses for the handler: multipart file names (``filename*``, characters
beyond Latin-1), form bodies mixing raw UTF-8 and percent-escapes, and what ``repr(request)`` shows.

Each check sends one request with the kit's h11 client to a handler built from the
implementation's ``web`` part; the handler answers, as JSON, what it reads from
``self.request``, and the check judges that.

References: RFC 7578 §4.2 (https://www.rfc-editor.org/rfc/rfc7578#section-4.2); RFC 6266 §4.3
and RFC 8187 §3.2 (``filename*``); Tornado docs, ``HTTPServerRequest`` and ``httputil.HTTPFile``
(https://www.tornadoweb.org/en/stable/httputil.html); Tornado 5.0.0, 5.1.0, 6.1.0 and 6.5.1
release notes (https://www.tornadoweb.org/en/stable/releases.html).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from conformance import Level, Violation, check, requires

pytestmark = [pytest.mark.http11, requires("web")]

BOUNDARY = "conformance-boundary-7a3f"


async def _observe(impl: Any, server: Any, http: Any, probe: Callable[[Any], Any], headers: list, body: bytes):
    """POST ``body`` to a handler whose ``post`` answers ``json.dumps(probe(self))``; return
    (the decoded answer or None, the response, the transcript)."""
    web = impl.part("web")

    def post(self: Any) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(probe(self)))

    Probe = type("Probe", (web.RequestHandler,), {"post": post})
    srv = server.serve([(r"/body", Probe)])
    async with await http.connect(srv) as conn:
        response = await conn.request("POST", "/body", headers, body)
    seen = None
    if response.status == 200:
        try:
            seen = json.loads(response.body)
        except ValueError:
            seen = None
    return seen, response, conn.transcript


def _multipart(disposition: bytes, content: bytes) -> bytes:
    return (
        f"--{BOUNDARY}\r\n".encode()
        + b"Content-Disposition: form-data; "
        + disposition
        + b"\r\nContent-Type: text/plain\r\n\r\n"
        + content
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def _files(handler: Any) -> dict[str, list[list[str]]]:
    files = handler.request.files
    return {name: [[f["filename"], f["body"].decode("latin-1")] for f in files[name]] for name in sorted(files)}


FILENAME_CASES = {
    "rfc-8187-filename-star": pytest.param(
        b"name=\"doc\"; filename*=UTF-8''%C3%A9t%C3%A9%20rates.txt",
        "été rates.txt",
        marks=check("Tornado 5.1.0 release notes (tornado.httputil); RFC 6266 §4.3; RFC 8187 §3.2", Level.TORNADO),
        id="rfc-8187-filename-star",
    ),
    "utf-8-beyond-latin-1": pytest.param(
        'name="doc"; filename="日本語 ✓.txt"'.encode(),
        "日本語 ✓.txt",
        marks=check("Tornado 6.5.1 release notes (Bug fixes); RFC 7578 §4.2", Level.TORNADO),
        id="utf-8-beyond-latin-1",
    ),
}


@pytest.mark.parametrize(("disposition", "filename"), list(FILENAME_CASES.values()))
async def test_multipart_file_names_are_decoded_whole(impl, server, http, disposition, filename):
    """RFC 7578 §4.2: "Some commonly deployed systems use multipart/form-data with file names
    directly encoded including octets outside the US-ASCII range. The encoding used for the
    file names is typically UTF-8" (what browsers send in ``filename=``). RFC 6266 §4.3 and
    RFC 8187 §3.2: ``filename*=UTF-8''%C3%A9t%C3%A9...`` carries the name percent-encoded in a
    named charset (RFC 7578 §4.2 tells senders of form data not to use it; Tornado reads it
    anyway). Tornado 5.1.0 release notes: "``parse_multipart_form_data`` now recognizes
    non-ASCII filenames in RFC 2231/5987 (``filename*=``) format"; Tornado 6.5.1 release
    notes: "Fixed a bug in ``multipart/form-data`` parsing that could incorrectly reject
    filenames containing characters above U+00FF (i.e. most characters outside the Latin
    alphabet)" (a 6.5.0 regression). Either way ``request.files`` holds the upload under the
    decoded name."""
    content = b"the uploaded content"
    headers = [("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")]
    seen, response, transcript = await _observe(impl, server, http, _files, headers, _multipart(disposition, content))
    expected = {"doc": [[filename, content.decode()]]}
    if seen != expected:
        raise Violation(
            f"the upload sent with Content-Disposition 'form-data; {disposition.decode('utf-8')}' did not reach "
            f"request.files under the file name {filename!r}.",
            expected=expected,
            observed=seen if seen is not None else response.describe(),
            transcript=transcript,
        )


@check("Tornado 6.1.0 release notes (tornado.httputil); Tornado docs: HTTPServerRequest.body_arguments", Level.TORNADO)
async def test_form_body_mixing_raw_utf8_and_escapes_is_parsed(impl, server, http):
    """Tornado 6.1.0 release notes: "``parse_body_arguments`` now accepts incompletely-escaped
    non-ASCII inputs." Tornado docs, ``HTTPServerRequest.
    body_arguments``: "Same format as arguments, but contains only arguments extracted from
    the request body." A form body that sends ``é`` as raw UTF-8 octets next to a
    percent-escaped ``é`` (what some clients produce) gives both arguments, decoded the same."""
    body = b"a=\xc3\xa9&b=%C3%A9&c=caf\xc3\xa9+%C3%A0+la"

    def probe(handler: Any) -> Any:
        return [handler.get_body_argument(name, None) for name in ("a", "b", "c")]

    headers = [("Content-Type", "application/x-www-form-urlencoded")]
    seen, response, transcript = await _observe(impl, server, http, probe, headers, body)
    expected = ["é", "é", "café à la"]
    if seen != expected:
        raise Violation(
            f"the form body {body!r} (raw UTF-8 next to percent-escapes) was not parsed into its arguments.",
            expected=expected,
            observed=seen if seen is not None else response.describe(),
            transcript=transcript,
        )


@check("Tornado 5.0.0 release notes (tornado.httputil); Tornado docs: HTTPServerRequest", Level.TORNADO)
async def test_request_repr_leaves_out_the_headers(impl, server, http):
    """Tornado 5.0.0 release notes: "The string representation of ``HTTPServerRequest``
    objects (which are sometimes used in log messages) no longer includes the request
    headers." Headers carry credentials (``Authorization``, ``Cookie``): a request logged by
    its repr must not write them to the log."""
    secret = "Bearer s3cr3t-t0ken-4-conformance"

    def probe(handler: Any) -> Any:
        return repr(handler.request)

    headers = [("Authorization", secret), ("Content-Type", "text/plain"), ("X-Probe", "header-value-in-repr")]
    seen, response, transcript = await _observe(impl, server, http, probe, headers, b"")
    if not isinstance(seen, str) or "s3cr3t" in seen or "header-value-in-repr" in seen or "/body" not in seen:
        raise Violation(
            "repr(request) wrote the request's header values (here an Authorization credential) into its text.",
            expected="a repr naming the method and URI, without header values",
            observed=repr(seen) if seen is not None else response.describe(),
            transcript=transcript,
        )
