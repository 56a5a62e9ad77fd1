"""StaticFileHandler and byte ranges out of the usual bounds: a suffix longer than the file,
and a range whose last position precedes its first.

Reference: RFC 9110 §14.1.1, §14.1.2 and §14.2 (https://www.rfc-editor.org/rfc/rfc9110),
Tornado's ``web.StaticFileHandler``
(https://www.tornadoweb.org/en/stable/web.html#tornado.web.StaticFileHandler) and the
Tornado 6.0.0 release notes, tornado.web (https://www.tornadoweb.org/en/stable/releases/v6.0.0.html).

Rule: the file is written to the check's own temporary directory; every response is followed
by a plain GET of the file on the same connection, so content past a response's framing is
read in place of that GET's answer.
"""

from __future__ import annotations

import pytest

from conformance import Level, Violation, check, requires

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]

DATA = b"0123456789abcdefghij"  # 20 bytes: /static/data.txt
SIZE = len(DATA)
WHOLE = f"200 with the whole file, or 206 with 'Content-Range: bytes 0-{SIZE - 1}/{SIZE}' and the whole file"
REFUSED_OR_WHOLE = f"416 with 'Content-Range: bytes */{SIZE}', or 200 with the whole file"

REFERENCE = (
    "RFC 9110 §14.1.1, §14.1.2, §14.2 (MAY ignore or reject an invalid range); "
    "Tornado 6.0.0 release notes (tornado.web); Tornado docs: web.StaticFileHandler"
)


def _whole_file(response) -> bool:
    if response.body != DATA:
        return False
    return response.status == 200 or (
        response.status == 206 and response.header("content-range") == f"bytes 0-{SIZE - 1}/{SIZE}"
    )


def _refused_or_whole(response) -> bool:
    refused = response.status == 416 and response.header("content-range") == f"bytes */{SIZE}"
    return refused or (response.status == 200 and response.body == DATA)


CASES = [
    pytest.param("bytes=-1000", _whole_file, WHOLE, id="suffix-far-longer-than-the-file"),
    pytest.param(f"bytes=-{SIZE + 1}", _whole_file, WHOLE, id="suffix-one-longer-than-the-file"),
    pytest.param("bytes=10-5", _refused_or_whole, REFUSED_OR_WHOLE, id="last-before-first"),
    pytest.param("bytes=6-5", _refused_or_whole, REFUSED_OR_WHOLE, id="last-just-before-first"),
]


@check(REFERENCE, Level.TORNADO)
@pytest.mark.parametrize(("range_", "judge", "expected"), CASES)
async def test_out_of_bounds_range_gets_the_file_or_416(impl, server, http, tmp_path, range_, judge, expected):
    """RFC 9110 §14.1.2: "If the selected representation is shorter than the specified
    suffix-length, the entire representation is used." §14.1.1: "A byte-range-spec is invalid
    if the last-pos value is present and less than the first-pos." §14.2: "A server that
    supports range requests MAY ignore or reject a Range header field that contains an invalid
    ranges-specifier". The Tornado 6.0.0 release notes: "StaticFileHandler now supports large
    negative values for the Range header and returns an appropriate error for end > start" (the
    error meant is a last position before the first; before 6.0 both answered 500, or a 206
    whose Content-Range runs backwards)."""
    root = tmp_path / "static"
    root.mkdir()
    (root / "data.txt").write_bytes(DATA)
    srv = server.serve([], {"static_path": str(root)})
    async with await http.connect(srv) as conn:
        response = await conn.request("GET", "/static/data.txt", [("Range", range_)])
        observed = (
            f"{response.describe()} [Content-Range: {response.header('content-range') or '(absent)'}] "
            f"with {response.body[:60]!r}"
        )
        if not judge(response):
            raise Violation(
                f"'Range: {range_}' of a {SIZE}-byte file was not answered with the whole file or a refusal.",
                expected=expected,
                observed=observed,
                transcript=conn.transcript,
            )
        if response.keep_alive:
            follow = await conn.request("GET", "/static/data.txt")
            if not (follow.status == 200 and follow.body == DATA):
                raise Violation(
                    f"the GET sent after 'Range: {range_}' on the same connection got a wrong answer: the first "
                    "response carried content past its framing.",
                    expected=f"200 with {DATA!r}",
                    observed=f"{follow.describe()} with {follow.body[:60]!r}",
                    transcript=conn.transcript,
                )
