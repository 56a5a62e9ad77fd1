"""Signed values expire: a value older than ``max_age_days`` no longer validates.

Reference: Tornado docs, security guide (https://www.tornadoweb.org/en/stable/guide/security.html)
and RequestHandler.get_signed_cookie's ``max_age_days``
(https://www.tornadoweb.org/en/stable/web.html#tornado.web.RequestHandler.get_signed_cookie).

Rule of this module: time is never waited for. The check drives the module-level
``create_signed_value``/``decode_signed_value`` pair (what get_signed_cookie is built
on) with the public ``clock`` keyword, so an implementation without it is *not provided*.
"""

from __future__ import annotations

import inspect

import pytest

from conformance import Level, Violation, check, not_provided, requires

pytestmark = [pytest.mark.cookies, requires("web", features=("signed_cookies",))]

SECRET = "conformance-cookie-secret-0123456789"
SIGNED_AT = 1_700_000_000  # 2023-11-14T22:13:20Z
DAY = 86400


def _require_clock(web) -> None:
    for name in ("create_signed_value", "decode_signed_value"):
        function = getattr(web, name, None)
        if function is None:
            not_provided(f"web.{name}")
        try:
            parameters = inspect.signature(function).parameters
        except (TypeError, ValueError):
            not_provided(f"web.{name} has no inspectable signature to find its 'clock' keyword")
        if "clock" not in parameters:
            not_provided(f"web.{name} takes no 'clock' keyword")


@check("Tornado docs: RequestHandler.get_signed_cookie (max_age_days)", Level.MUST)
def test_expired_signed_value_is_rejected(impl):
    """Tornado docs, security guide: "If the cookie is old or if the signature doesn't
    match, get_signed_cookie will return None just as if the cookie isn't set." With
    ``max_age_days=1``, a value decoded an hour after signing validates and one decoded
    two days after signing does not."""
    web = impl.part("web")
    _require_clock(web)
    signed = web.create_signed_value(SECRET, "session", "ada", clock=lambda: SIGNED_AT)
    fresh = web.decode_signed_value(SECRET, "session", signed, max_age_days=1, clock=lambda: SIGNED_AT + 3600)
    if fresh != b"ada":
        raise Violation(
            f"create_signed_value(secret, 'session', 'ada') at t={SIGNED_AT} gave {signed!r}, which "
            "decode_signed_value(secret, 'session', that, max_age_days=1) did not validate one hour later: a value "
            "younger than max_age_days validates (the expired case below would prove nothing otherwise).",
            expected="b'ada'",
            observed=repr(fresh),
        )
    expired = web.decode_signed_value(SECRET, "session", signed, max_age_days=1, clock=lambda: SIGNED_AT + 2 * DAY)
    if expired is not None:
        raise Violation(
            f"create_signed_value(secret, 'session', 'ada') at t={SIGNED_AT} gave {signed!r}, which "
            "decode_signed_value(secret, 'session', that, max_age_days=1) still validated two days later: a "
            "signed value older than max_age_days does not validate, or a stolen cookie stays valid forever.",
            expected="None",
            observed=repr(expired),
        )
