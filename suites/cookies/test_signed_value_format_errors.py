"""A version 2 signed value whose signature is valid but whose timestamp field is not a number
reads as no cookie, never as an error.

Reference: Tornado docs, RequestHandler.get_signed_cookie
(https://www.tornadoweb.org/en/stable/web.html#tornado.web.RequestHandler.get_signed_cookie)
and the Tornado 6.6.0 release notes, tornado.web
(https://www.tornadoweb.org/en/stable/releases/v6.6.0.html).

Rule: the kit signs the values itself, in the v2 layout of ``_support.sign`` (``2|<len>:<key
version>|<len>:<timestamp>|<len>:<name>|<len>:<base64 value>|<hex HMAC-SHA256>``), with a
timestamp field that is not a decimal number: the HMAC matches, so only the field's parsing
is judged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from conformance import Level, Violation, check, requires

from ._support import signing_methods

pytestmark = [pytest.mark.cookies, requires("web", "httpserver")]

SECRET = "a cookie secret of the format-error checks"


def _signed_v2(name: str, value: bytes, timestamp: bytes) -> str:
    def field(content: bytes) -> bytes:
        return str(len(content)).encode("ascii") + b":" + content

    head = b"|".join([b"2", field(b"0"), field(timestamp), field(name.encode()), field(base64.b64encode(value)), b""])
    return (head + hmac.new(SECRET.encode(), head, hashlib.sha256).hexdigest().encode("ascii")).decode("ascii")


TIMESTAMPS = [
    pytest.param(b"17000x0000", id="letter-in-the-timestamp"),
    pytest.param(b"", id="empty-timestamp"),
    pytest.param(b"1.7e9", id="float-timestamp"),
]


@check("Tornado 6.6.0 release notes (tornado.web); Tornado docs: RequestHandler.get_signed_cookie", Level.TORNADO)
@pytest.mark.parametrize("timestamp", TIMESTAMPS)
async def test_validly_signed_value_with_a_malformed_timestamp_reads_as_none(impl, server, http, timestamp):
    """The 6.6.0 release notes: "Signed values with valid signatures but certain formatting
    errors are now ignored instead of raising errors (consistent with historical behavior for
    other formatting errors)." get_signed_cookie: "Returns the given signed cookie if it
    validates, or None." A cookie signed with the application's own secret whose timestamp
    field is not a number reads as None (the handler answers 200), not as a 500."""
    web = impl.part("web")
    _, getter = signing_methods(web)

    class Read(web.RequestHandler):
        def get(self) -> None:
            self.write(repr(getattr(self, getter)("session")))

    srv = server.serve([("/read", Read)], {"cookie_secret": SECRET})
    value = _signed_v2("session", b"ada", timestamp)
    async with await http.connect(srv) as conn:
        response = await conn.request("GET", "/read", [("Cookie", f"session={value}")])
    if not (response.status == 200 and response.body == b"None"):
        raise Violation(
            f"{getter}('session') of a value signed with the application's secret whose timestamp field is "
            f"{timestamp!r} did not read as None: a value that does not parse is treated as no cookie, and it is "
            "client input (with the secret known to no client, but formatting errors must not raise).",
            expected="200 with None",
            observed=f"{response.describe()} with {response.body[:80]!r}",
            transcript=conn.transcript,
        )
