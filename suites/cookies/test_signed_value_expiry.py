"""Signed values expire: a value older than ``max_age_days`` no longer validates.

Reference: Tornado docs, security guide (https://www.tornadoweb.org/en/stable/guide/security.html)
and RequestHandler.get_signed_cookie's ``max_age_days``
(https://www.tornadoweb.org/en/stable/web.html#tornado.web.RequestHandler.get_signed_cookie).

Rule of this module: time is never waited for and never injected. The kit signs the
values itself (``_support.sign``) an hour and two days before the request and hands
them to ``get_signed_cookie(name, value=..., max_age_days=1)``, the documented API.
"""

from __future__ import annotations

import pytest

from conformance import Level, Violation, check, requires

from ._support import DAY, Read, now, serve_signer, sign

pytestmark = [pytest.mark.cookies, requires("web", "httpserver", features=("signed_cookies",))]

SECRET = "conformance-cookie-secret-0123456789"


@check("Tornado docs: guide/security, Cookies and signed cookies", Level.MUST)
async def test_expired_signed_value_is_rejected(impl, server, http):
    """Tornado docs, security guide: "If the cookie is old or if the signature doesn't
    match, get_signed_cookie will return None just as if the cookie isn't set." With
    ``max_age_days=1``, a value signed an hour before the request validates and one
    signed two days before it does not."""
    signer = serve_signer(impl, server, SECRET)
    signed_at = now()
    fresh = Read("session", sign(SECRET, "session", b"ada", timestamp=signed_at - 3600), {"max_age_days": 1})
    expired = Read("session", sign(SECRET, "session", b"ada", timestamp=signed_at - 2 * DAY), {"max_age_days": 1})
    [(got_fresh, error_fresh), (got_expired, error_expired)] = await signer.read(http, [fresh, expired])
    if error_fresh or got_fresh != b"ada":
        raise Violation(
            f"{fresh.call(signer.getter)}, for a value signed an hour before the request, did not validate it: a "
            "value younger than max_age_days validates (the expired case would prove nothing otherwise).",
            expected="b'ada'",
            observed=error_fresh or f"returned {got_fresh!r}",
        )
    if error_expired or got_expired is not None:
        raise Violation(
            f"{expired.call(signer.getter)}, for a value signed two days before the request, did not read as None: "
            "a signed value older than max_age_days does not validate, or a stolen cookie stays valid forever.",
            expected="None",
            observed=error_expired or f"returned {got_expired!r}",
        )
