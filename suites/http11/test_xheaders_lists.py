"""``xheaders`` with a forwarded scheme given several times: the last value counts.

Reference: Tornado docs, ``HTTPServer`` (``xheaders``,
https://www.tornadoweb.org/en/stable/httpserver.html) and the Tornado 5.0.0 release notes
(``tornado.httpserver``: "If more than one ``X-Scheme`` or ``X-Forwarded-Proto`` header is
present, only the last is used"); RFC 9110 §5.3 (field lines with the same name combine into one list).
"""

from __future__ import annotations

import pytest

from conformance import Level, check, requires

from .test_xheaders import _app, _judge, _seen

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]

SCHEME_LIST_CASES = {
    "x-forwarded-proto-two-lines": ([("X-Forwarded-Proto", "http"), ("X-Forwarded-Proto", "https")], "https"),
    "x-forwarded-proto-one-list": ([("X-Forwarded-Proto", "http, https")], "https"),
    "x-scheme-two-lines": ([("X-Scheme", "http"), ("X-Scheme", "https")], "https"),
}


@check(
    "RFC 9110 §5.3; Tornado docs: HTTPServer (xheaders); Tornado 5.0.0 release notes (tornado.httpserver)",
    Level.TORNADO,
)
@pytest.mark.parametrize("case", list(SCHEME_LIST_CASES))
async def test_last_forwarded_scheme_counts(impl, server, http, case):
    """Tornado 5.0.0 release notes: "If more than one ``X-Scheme`` or ``X-Forwarded-Proto``
    header is present, only the last is used" (the hop closest to the server,
    as for X-Forwarded-For; RFC 9110 §5.3: repeated field lines form one comma-separated
    list). With ``http`` then ``https``, ``request.protocol`` is ``https``."""
    srv = server.serve(_app(impl), xheaders=True)
    headers, expected = SCHEME_LIST_CASES[case]
    seen, response, transcript = await _seen(http, srv, headers)
    _judge(
        f"with xheaders=True, a request with {headers} did not take its protocol from the last value",
        "protocol",
        expected,
        seen,
        response,
        transcript,
    )
