"""Keywords that reach set_cookie by other routes: clear_cookie's (every set_cookie keyword but
expires and max_age) and the xsrf_cookie_kwargs setting's expires_days.

Reference: Tornado docs, RequestHandler.clear_cookie
(https://www.tornadoweb.org/en/stable/web.html#tornado.web.RequestHandler.clear_cookie) and the
xsrf_cookie_kwargs Application setting
(https://www.tornadoweb.org/en/stable/web.html#tornado.web.Application.settings), and the
Tornado 6.0.0 and 6.3.0 release notes, tornado.web.

Rule: expiry is judged from the response's own ``Date`` field, never from the kit's clock.
"""

from __future__ import annotations

import email.utils
import inspect

import pytest

from conformance import Level, Violation, check, not_provided, requires

from ._support import DAY, set_cookie

pytestmark = [pytest.mark.cookies, requires("web", "httpserver")]


def _http_date(value: str | None) -> float | None:
    try:
        return email.utils.parsedate_to_datetime(value).timestamp() if value else None
    except (TypeError, ValueError):
        return None


@check("Tornado 6.3.0 release notes (tornado.web); Tornado docs: RequestHandler.clear_cookie", Level.TORNADO)
async def test_clear_cookie_passes_secure_and_samesite_on(impl, server, http):
    """RequestHandler.clear_cookie: "This method accepts the same arguments as set_cookie, except
    for expires and max_age. Clearing a cookie requires the same domain and path arguments as
    when it was set. In some cases the samesite and secure arguments are also required to
    match." (changed in 6.3: "Now accepts all keyword arguments that set_cookie does. The
    samesite and secure flags have recently become required for clearing samesite="none"
    cookies.") ``clear_cookie('c', secure=True, samesite='None')`` sends an empty, expired
    cookie carrying Secure and SameSite=None."""
    web = impl.part("web")
    parameters = inspect.signature(web.RequestHandler.clear_cookie).parameters
    if "secure" not in parameters and not any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        not_provided(f"{impl.name}'s RequestHandler.clear_cookie takes only path and domain (before Tornado 6.3)")

    class Clear(web.RequestHandler):
        def get(self) -> None:
            self.clear_cookie("c", path="/app", secure=True, samesite="None")

    srv = server.serve([("/", Clear)])
    response = await http.request(srv, "GET", "/", headers=[("Cookie", "c=v")])
    what = "the handler called clear_cookie('c', path='/app', secure=True, samesite='None')"
    cookie = set_cookie(response, "c", what)
    expires, date = _http_date(cookie.attributes.get("expires")), _http_date(response.header("date"))
    ok = (
        cookie.value in ("", '""')
        and expires is not None
        and date is not None
        and expires < date
        and cookie.attributes.get("path") == "/app"
        and "secure" in cookie.attributes
        and cookie.attributes.get("samesite", "").lower() == "none"
    )
    if not ok:
        raise Violation(
            f"{what}, yet the cookie it sent is not an expired, empty cookie with those attributes: a browser "
            "refuses a SameSite=None cookie without Secure, so the cookie is never cleared.",
            expected="an empty value, Expires before Date, Path=/app, Secure, SameSite=None",
            observed=f"'Set-Cookie: {cookie.header}' with Date {response.header('date')!r} ({response.describe()})",
        )


@check(
    "Tornado 6.0.0 release notes (tornado.web); Tornado docs: Application settings, xsrf_cookie_kwargs", Level.TORNADO
)
async def test_xsrf_cookie_kwargs_may_set_expires_days(impl, server, http):
    """Application settings: "xsrf_cookie_kwargs: May be set to a dictionary of additional
    arguments to be passed to RequestHandler.set_cookie for the XSRF cookie." The 6.0.0 release
    notes: "It is now possible to set expires_days in xsrf_cookie_kwargs." With
    ``{"expires_days": 3}`` the ``_xsrf`` cookie expires three days after the response's Date
    (before 6.0, set_cookie got expires_days twice and the page answered 500)."""
    web = impl.part("web")

    class Page(web.RequestHandler):
        def get(self) -> None:
            self.write(self.xsrf_token)

    settings = {"xsrf_cookies": True, "cookie_secret": "x" * 32, "xsrf_cookie_kwargs": {"expires_days": 3}}
    srv = server.serve([("/page", Page)], settings)
    response = await http.request(srv, "GET", "/page")
    cookie = set_cookie(response, "_xsrf", f"the page read xsrf_token with {settings['xsrf_cookie_kwargs']}")
    expires, date = _http_date(cookie.attributes.get("expires")), _http_date(response.header("date"))
    if not (expires is not None and date is not None and abs(expires - date - 3 * DAY) <= 120):
        raise Violation(
            "xsrf_cookie_kwargs={'expires_days': 3} did not make the _xsrf cookie expire three days after Date.",
            expected="Expires = Date + 3 days",
            observed=f"'Set-Cookie: {cookie.header}' with Date {response.header('date')!r} ({response.describe()})",
        )
