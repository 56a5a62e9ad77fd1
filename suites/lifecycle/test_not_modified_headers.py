"""What a 304 (Not Modified) answer to a matching ``If-None-Match`` keeps of the 200 it
replaces: ``Allow`` and ``Last-Modified`` stay, only content metadata goes.

Reference: RFC 9110 §15.4.5 (https://www.rfc-editor.org/rfc/rfc9110#section-15.4.5),
Tornado docs, ``RequestHandler.check_etag_header``
(https://www.tornadoweb.org/en/stable/web.html) and the Tornado 6.1.0 release notes
(``tornado.web``).
"""

from __future__ import annotations

import pytest

from conformance import Level, Violation, check, requires

pytestmark = [pytest.mark.lifecycle, requires("web", "httpserver")]

ETAG = '"v1"'
KEPT = {"Allow": "GET, HEAD", "Last-Modified": "Sat, 05 Dec 2026 12:00:00 GMT", "Cache-Control": "max-age=60"}


@check(
    "RFC 9110 §15.4.5 (SHOULD NOT for representation metadata only); Tornado 6.1.0 release notes (tornado.web)",
    Level.TORNADO,
)
async def test_not_modified_keeps_allow_and_last_modified(impl, server, http):
    """RFC 9110 §15.4.5: a 304 carries the fields a 200 would, except that the server
    "SHOULD NOT generate representation metadata other than the above listed fields unless
    said metadata exists for the purpose of guiding cache updates (e.g., Last-Modified might
    be useful if the response does not have an ETag field)". Tornado 6.1.0 release notes:
    "When sending 304 responses, more headers (including ``Allow``) are now preserved."
    A handler that sets ``Allow``, ``Last-Modified``, ``Cache-Control`` and its own ``Etag``
    and answers 304 when ``check_etag_header()`` matches (the pattern of that method's
    docs) sends those fields on the 304."""
    web = impl.part("web")

    class Resource(web.RequestHandler):
        def get(self):
            for name, value in KEPT.items():
                self.set_header(name, value)
            self.set_header("Content-Type", "text/plain")
            self.set_header("Etag", ETAG)
            if self.check_etag_header():  # the pattern of check_etag_header's docs
                self.set_status(304)
                return
            self.write(b"the representation")

    srv = server.serve([("/r", Resource)])
    async with await http.connect(srv) as conn:
        again = await conn.request("GET", "/r", [("If-None-Match", ETAG)])
    if again.status != 304:
        raise Violation(
            "a GET whose If-None-Match names the handler's ETag was not answered 304.",
            expected="304 Not Modified",
            observed=again.describe(),
            transcript=conn.transcript,
        )
    observed = {name: again.header(name.lower()) for name in KEPT}
    if observed != KEPT:
        raise Violation(
            "the 304 dropped header fields the handler set that are not content metadata.",
            expected=KEPT,
            observed=observed,
            transcript=conn.transcript,
        )
