"""XSRF protection: with ``xsrf_cookies=True`` a POST must prove it came from the site.

Reference: Tornado docs, security guide "Cross-site request forgery protection"
(https://www.tornadoweb.org/en/stable/guide/security.html#cross-site-request-forgery-protection),
RequestHandler.check_xsrf_cookie
(https://www.tornadoweb.org/en/stable/web.html#tornado.web.RequestHandler.check_xsrf_cookie)
and the Tornado 1.1.1 release notes (https://www.tornadoweb.org/en/stable/releases/v1.1.1.html).

Rule of this module: the kit gets its token as a browser script would, from the
``_xsrf`` cookie a page sets by using ``RequestHandler.xsrf_token``; it never computes one.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance import Level, check, requires

pytestmark = [pytest.mark.cookies, requires("web", "httpserver", features=("xsrf",))]

SECRET = "conformance-cookie-secret-0123456789"
FORM = [("Content-Type", "application/x-www-form-urlencoded")]
BODY = b"note=hello"


def _serve_xsrf(impl: Any, server: Any) -> Any:
    """``GET /page`` uses ``self.xsrf_token`` (which sets the ``_xsrf`` cookie);
    ``POST /submit`` answers "accepted" once the XSRF check let it through."""
    web = impl.part("web")

    class Page(web.RequestHandler):
        def get(self) -> None:
            self.xsrf_token  # noqa: B018 - reading the property is what sets the _xsrf cookie
            self.write("page")

    class Submit(web.RequestHandler):
        def post(self) -> None:
            self.write("accepted")

    return server.serve([("/page", Page), ("/submit", Submit)], {"xsrf_cookies": True, "cookie_secret": SECRET})


async def _xsrf_cookie(http: Any, srv: Any) -> str:
    """The ``_xsrf`` cookie value the page sets, verbatim."""
    __tracebackhide__ = True
    response = await http.request(srv, "GET", "/page")
    assert response.status == 200, f"GET /page (a handler reading self.xsrf_token) answered {response.describe()}"
    for header in response.header_list("set-cookie"):
        key, sep, value = header.split(";", 1)[0].partition("=")
        if sep and key.strip() == "_xsrf":
            return value.strip()
    raise AssertionError(
        f"GET /page read self.xsrf_token with xsrf_cookies=True, but the response ({response.describe()}) sets no "
        f"'_xsrf' cookie (Set-Cookie headers: {response.header_list('set-cookie')!r}); Tornado docs "
        "(RequestHandler.xsrf_token): using it sets the _xsrf cookie"
    )


def _unquoted(cookie: str) -> str:
    return cookie[1:-1] if len(cookie) >= 2 and cookie[0] == cookie[-1] == '"' else cookie


@check("Tornado docs: guide/security, Cross-site request forgery protection", Level.MUST)
@pytest.mark.parametrize("cookie", [False, True], ids=["no-cookie", "cookie-only"])
async def test_xsrf_post_without_token_is_forbidden(impl, server, http, cookie):
    """Tornado docs, security guide: "If xsrf_cookies is set, the Tornado web application
    will set the _xsrf cookie for all users and reject all POST, PUT, and DELETE requests
    that do not contain a correct _xsrf value." A POST with no token (neither the
    ``_xsrf`` argument nor an ``X-XSRFToken`` header) is answered 403, whether or not the
    client holds the ``_xsrf`` cookie."""
    srv = _serve_xsrf(impl, server)
    headers = list(FORM)
    sent = "no Cookie and no token"
    if cookie:
        value = await _xsrf_cookie(http, srv)
        headers.append(("Cookie", f"_xsrf={value}"))
        sent = f"'Cookie: _xsrf={value}' but no token"
    response = await http.request(srv, "POST", "/submit", headers=headers, body=BODY)
    assert response.status == 403, (
        f"with xsrf_cookies=True, a POST carrying {sent} was answered {response.describe()} "
        f"(body {response.body[:200]!r}) instead of 403 Forbidden; Tornado docs (security guide): the "
        "application rejects every POST that does not contain a correct _xsrf value"
    )


@check("Tornado docs: RequestHandler.check_xsrf_cookie", Level.MUST)
async def test_xsrf_post_with_token_header_is_accepted(impl, server, http):
    """Tornado docs, RequestHandler.check_xsrf_cookie: "The _xsrf value may be set as
    either a form field named _xsrf or in a custom HTTP header named X-XSRFToken or
    X-CSRFToken". A POST that returns the ``_xsrf`` cookie and sends its value in
    ``X-XSRFToken`` (what an AJAX client does) passes the check."""
    srv = _serve_xsrf(impl, server)
    value = await _xsrf_cookie(http, srv)
    token = _unquoted(value)
    headers = [*FORM, ("Cookie", f"_xsrf={value}"), ("X-XSRFToken", token)]
    response = await http.request(srv, "POST", "/submit", headers=headers, body=BODY)
    assert response.status == 200 and response.body == b"accepted", (
        f"with xsrf_cookies=True, a POST carrying 'Cookie: _xsrf={value}' and 'X-XSRFToken: {token}' (the "
        f"cookie's own value) was answered {response.describe()} (body {response.body[:200]!r}) instead of "
        "200 'accepted'; Tornado docs (RequestHandler.check_xsrf_cookie): the token may be sent in the "
        "X-XSRFToken header"
    )


@check("Tornado 1.1.1 release notes: XSRF security fix", Level.MUST)
async def test_xsrf_x_requested_with_is_not_an_exemption(impl, server, http):
    """Tornado 1.1.1 release notes: a "security update that fixes an XSRF vulnerability
    [...] Applications that previously relied on a blanket exception for XMLHTTPRequest
    may need to be modified to explicitly include the XSRF token when making ajax
    requests." A POST with ``X-Requested-With: XMLHttpRequest`` but no token is still
    answered 403 (RequestHandler.check_xsrf_cookie: "Prior to release 1.1.1, this check
    was ignored if the HTTP header X-Requested-With: XMLHTTPRequest was present. This
    exception has been shown to be insecure and has been removed.")."""
    srv = _serve_xsrf(impl, server)
    value = await _xsrf_cookie(http, srv)
    headers = [*FORM, ("Cookie", f"_xsrf={value}"), ("X-Requested-With", "XMLHttpRequest")]
    response = await http.request(srv, "POST", "/submit", headers=headers, body=BODY)
    assert response.status == 403, (
        f"with xsrf_cookies=True, a POST carrying 'Cookie: _xsrf={value}' and 'X-Requested-With: XMLHttpRequest' "
        f"but no token was answered {response.describe()} (body {response.body[:200]!r}) instead of 403 "
        "Forbidden; the X-Requested-With exemption was removed as insecure in Tornado 1.1.1 (browser plugins "
        "combined with redirects could forge that header cross-site), so only a correct _xsrf value lets a POST through"
    )
