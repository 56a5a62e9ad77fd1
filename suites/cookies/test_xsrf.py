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

import html
import re
from typing import Any

import pytest

from conformance import Level, Violation, check, requires

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
    raise Violation(
        "GET /page read self.xsrf_token with xsrf_cookies=True, but the response sets no '_xsrf' cookie; Tornado docs "
        "(RequestHandler.xsrf_token): using it sets the _xsrf cookie.",
        observed=f"{response.describe()}, Set-Cookie headers {response.header_list('set-cookie')!r}",
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
    if response.status != 403:
        raise Violation(
            f"with xsrf_cookies=True, a POST carrying {sent} was not rejected: every POST without a correct _xsrf "
            "value is.",
            expected="403 Forbidden",
            observed=f"{response.describe()} with body {response.body[:200]!r}",
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
    if not (response.status == 200 and response.body == b"accepted"):
        raise Violation(
            f"with xsrf_cookies=True, a POST carrying 'Cookie: _xsrf={value}' and 'X-XSRFToken: {token}' (the "
            "cookie's own value) was refused: the token may be sent in the X-XSRFToken header.",
            expected="200 with b'accepted'",
            observed=f"{response.describe()} with body {response.body[:200]!r}",
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
    if response.status != 403:
        raise Violation(
            f"with xsrf_cookies=True, a POST carrying 'Cookie: _xsrf={value}' and 'X-Requested-With: XMLHttpRequest' "
            "but no token was not rejected: the X-Requested-With exemption was removed as insecure (browser plugins "
            "combined with redirects could forge that header cross-site), so only a correct _xsrf value lets a POST "
            "through.",
            expected="403 Forbidden",
            observed=f"{response.describe()} with body {response.body[:200]!r}",
        )


async def _page(http: Any, srv: Any, cookie: str | None = None, path: str = "/page") -> tuple[str | None, str]:
    """(the ``_xsrf`` cookie the page set, or None; the token the page shows in its body)."""
    __tracebackhide__ = True
    headers = [("Cookie", f"_xsrf={cookie}")] if cookie else []
    response = await http.request(srv, "GET", path, headers=headers)
    assert response.status == 200, f"GET {path} (a handler showing self.xsrf_token) answered {response.describe()}"
    found = None
    for header in response.header_list("set-cookie"):
        key, sep, value = header.split(";", 1)[0].partition("=")
        if sep and key.strip() == "_xsrf":
            found = value.strip()
    return found, response.text


def _serve_tokens(impl: Any, server: Any, settings: dict[str, Any] | None = None, **handlers: Any) -> Any:
    """``GET /page`` answers ``self.xsrf_token``; ``/submit`` accepts every method once
    the XSRF check let it through; ``GET /form`` answers ``self.xsrf_form_html()``."""
    web = impl.part("web")

    class Page(web.RequestHandler):
        def get(self) -> None:
            self.write(self.xsrf_token)

    class Form(web.RequestHandler):
        def get(self) -> None:
            self.write(self.xsrf_form_html())

    class Submit(web.RequestHandler):
        def _accept(self) -> None:
            if self.request.method != "HEAD":
                self.write("accepted")

        get = head = options = post = put = patch = delete = _accept

    routes = [("/page", Page), ("/form", Form), ("/submit", Submit)]
    routes += [(f"/{name}", handler) for name, handler in handlers.items()]
    return server.serve(routes, {"xsrf_cookies": True, "cookie_secret": SECRET, **(settings or {})})


XSRF_GUIDE = "Tornado docs: guide/security, Cross-site request forgery protection"


@pytest.mark.parametrize(
    "method",
    [
        pytest.param("PUT", id="PUT", marks=check(XSRF_GUIDE, Level.MUST)),
        # The guide names POST, PUT and DELETE; that PATCH is checked too is Tornado's code.
        pytest.param("PATCH", id="PATCH", marks=check(XSRF_GUIDE, Level.TORNADO)),
        pytest.param("DELETE", id="DELETE", marks=check(XSRF_GUIDE, Level.MUST)),
    ],
)
async def test_xsrf_unsafe_methods_without_token_are_forbidden(impl, server, http, method):
    """Tornado docs, security guide: with xsrf_cookies the application will "reject all
    POST, PUT, and DELETE requests that do not contain a correct _xsrf value" (MUST for
    PUT and DELETE); Tornado checks every method but GET, HEAD and OPTIONS, PATCH
    included (TORNADO: the guide does not name it). A PUT, PATCH or DELETE that carries
    the ``_xsrf`` cookie but no token is answered 403."""
    srv = _serve_tokens(impl, server)
    cookie, _ = await _page(http, srv)
    response = await http.request(srv, method, "/submit", headers=[*FORM, ("Cookie", f"_xsrf={cookie}")], body=BODY)
    if response.status != 403:
        raise Violation(
            f"with xsrf_cookies=True, a {method} carrying 'Cookie: _xsrf={cookie}' but no token was not rejected: "
            "every state-changing request needs the token, not only POST.",
            expected="403 Forbidden",
            observed=f"{response.describe()} with body {response.body[:200]!r}",
        )


@check("Tornado docs: guide/security, Cross-site request forgery protection", Level.TORNADO)
@pytest.mark.parametrize("method", ["HEAD", "OPTIONS"])
async def test_xsrf_safe_methods_are_exempt(impl, server, http, method):
    """Tornado docs, security guide: the check applies to requests that change state;
    Tornado runs check_xsrf_cookie for every method except GET, HEAD and OPTIONS. A
    GET, HEAD or OPTIONS with neither cookie nor token reaches the handler."""
    srv = _serve_tokens(impl, server)
    response = await http.request(srv, method, "/submit")
    if response.status != 200:
        raise Violation(
            f"with xsrf_cookies=True, a {method} without an _xsrf cookie or token did not reach the handler; Tornado "
            "exempts GET, HEAD and OPTIONS from the XSRF check (safe methods must not change state, and a link or "
            "preflight has no token).",
            expected="200",
            observed=f"{response.describe()} with body {response.body[:200]!r}",
        )


TOKEN_PLACES = {
    "form-field": lambda token: ([("Content-Type", "application/x-www-form-urlencoded")], b"_xsrf=" + token.encode()),
    "x-xsrftoken-header": lambda token: ([*FORM, ("X-XSRFToken", token)], BODY),
    "x-csrftoken-header": lambda token: ([*FORM, ("X-CSRFToken", token)], BODY),
}


@check("Tornado docs: RequestHandler.check_xsrf_cookie", Level.MUST)
@pytest.mark.parametrize("place", list(TOKEN_PLACES))
async def test_xsrf_token_is_accepted_from(impl, server, http, place):
    """Tornado docs, RequestHandler.check_xsrf_cookie: "The _xsrf value may be set as
    either a form field named _xsrf or in a custom HTTP header named X-XSRFToken or
    X-CSRFToken (the latter is accepted for compatibility with Django)." A POST with the
    cookie and the page's token in any of the three places is accepted."""
    srv = _serve_tokens(impl, server)
    cookie, token = await _page(http, srv)
    headers, body = TOKEN_PLACES[place](token)
    response = await http.request(srv, "POST", "/submit", headers=[*headers, ("Cookie", f"_xsrf={cookie}")], body=body)
    if not (response.status == 200 and response.body == b"accepted"):
        raise Violation(
            f"with xsrf_cookies=True, a POST with 'Cookie: _xsrf={cookie}' and the page's token {token!r} in the "
            f"{place} (headers {headers!r}, body {body!r}) was refused: the token may arrive as the _xsrf form "
            "field or in the X-XSRFToken or X-CSRFToken header.",
            expected="200 with b'accepted'",
            observed=f"{response.describe()} with body {response.body[:200]!r}",
        )


@check("Tornado docs: RequestHandler.check_xsrf_cookie", Level.MUST)
@pytest.mark.parametrize("wrong", ["token-of-another-cookie", "garbage", "cookie-of-another-session"])
async def test_xsrf_wrong_token_is_forbidden(impl, server, http, wrong):
    """Tornado docs, RequestHandler.check_xsrf_cookie: "Verifies that the _xsrf cookie
    matches the _xsrf argument [...] If the two do not match, we reject the form
    submission as a potential forgery." A token issued for another cookie, a garbage
    token, or the right token with another session's cookie is answered 403."""
    srv = _serve_tokens(impl, server)
    cookie, token = await _page(http, srv)
    other_cookie, other_token = await _page(http, srv)
    sent_cookie, sent_token = {
        "token-of-another-cookie": (cookie, other_token),
        "garbage": (cookie, "2|deadbeef|00112233445566778899aabbccddeeff|1700000000"),
        "cookie-of-another-session": (other_cookie, token),
    }[wrong]
    headers = [*FORM, ("Cookie", f"_xsrf={sent_cookie}"), ("X-XSRFToken", sent_token)]
    response = await http.request(srv, "POST", "/submit", headers=headers, body=BODY)
    if response.status != 403:
        raise Violation(
            f"with xsrf_cookies=True, a POST with 'Cookie: _xsrf={sent_cookie}' and 'X-XSRFToken: {sent_token}' "
            f"({wrong}) was not rejected: a token that does not match the cookie is a potential forgery.",
            expected="403 Forbidden",
            observed=response.describe(),
        )


@check("Tornado docs: RequestHandler.xsrf_token", Level.MUST)
async def test_xsrf_v2_tokens_are_masked_differently_on_every_request(impl, server, http):
    """Tornado docs, RequestHandler.xsrf_token (3.2.2): "The xsrf token will now be have
    a random mask applied in every request, which makes it safe to include the token in
    pages that are compressed. See http://breachattack.com". Two pages rendered for the
    same cookie show different tokens, and both are accepted."""
    srv = _serve_tokens(impl, server)
    cookie, first = await _page(http, srv)
    _, second = await _page(http, srv, cookie)
    _, third = await _page(http, srv, cookie)
    if len({first, second, third}) != 3:
        raise Violation(
            f"three pages rendered for the cookie '_xsrf={cookie}' did not show three different tokens: a random "
            "mask is applied on every request, so a secret repeated in compressed pages cannot be recovered by a "
            "BREACH attack.",
            expected="three different tokens",
            observed=f"{first!r}, {second!r}, {third!r}",
        )
    for token in (first, second, third):
        headers = [*FORM, ("Cookie", f"_xsrf={cookie}"), ("X-XSRFToken", token)]
        response = await http.request(srv, "POST", "/submit", headers=headers, body=BODY)
        if response.status != 200:
            raise Violation(
                f"the masked token {token!r}, shown on a page for 'Cookie: _xsrf={cookie}', was refused: every "
                "masking of the cookie's token verifies.",
                expected="200",
                observed=response.describe(),
            )


@check("Tornado docs: RequestHandler.check_xsrf_cookie (version 1)", Level.MUST)
async def test_xsrf_v1_cookie_and_tokens_are_still_accepted(impl, server, http):
    """Tornado docs, RequestHandler.check_xsrf_cookie (3.2.2): "Added support for cookie
    version 2. Both versions 1 and 2 are supported." A v1 cookie (issued by an
    application with ``xsrf_cookie_version=1``) is accepted by a v2 application, with
    its own value as the token and with a v2 token the page shows for it."""
    v1 = _serve_tokens(impl, server, {"xsrf_cookie_version": 1})
    v2 = _serve_tokens(impl, server)
    cookie, _ = await _page(http, v1)
    assert cookie and "|" not in cookie, f"with xsrf_cookie_version=1 the page set the _xsrf cookie {cookie!r}"
    _, masked = await _page(http, v2, cookie)
    for token in (cookie, masked):
        headers = [*FORM, ("Cookie", f"_xsrf={cookie}"), ("X-XSRFToken", token)]
        response = await http.request(v2, "POST", "/submit", headers=headers, body=BODY)
        if response.status != 200:
            raise Violation(
                f"a POST with the version 1 cookie '_xsrf={cookie}' and the token {token!r} was refused: both "
                "versions are supported.",
                expected="200",
                observed=response.describe(),
            )


SETTINGS = {
    "xsrf-cookie-version-1": {"xsrf_cookie_version": 1},
    "xsrf-cookie-name": {"xsrf_cookie_name": "csrf"},
    "xsrf-cookie-kwargs": {"xsrf_cookie_kwargs": {"httponly": True, "path": "/app"}},
}


@check("Tornado docs: Application settings, xsrf_cookie_*", Level.MUST)
@pytest.mark.parametrize("setting", list(SETTINGS))
async def test_xsrf_cookie_settings_are_honoured(impl, server, http, setting):
    """Tornado docs, Application settings: "xsrf_cookie_version: Controls the version of
    new XSRF cookies [...] xsrf_cookie_kwargs: May be set to a dictionary of additional
    arguments to be passed to RequestHandler.set_cookie for the XSRF cookie.
    xsrf_cookie_name: Controls the name used for the XSRF cookie (default _xsrf)". The
    cookie the page sets follows each setting, and a POST with it is accepted."""
    settings = SETTINGS[setting]
    srv = _serve_tokens(impl, server, settings)
    response = await http.request(srv, "GET", "/page")
    name = settings.get("xsrf_cookie_name", "_xsrf")
    cookies = {}
    for header in response.header_list("set-cookie"):
        pair, *attrs = header.split(";")
        key, _, value = pair.partition("=")
        cookies[key.strip()] = (value.strip(), {a.split("=", 1)[0].strip().lower(): a.partition("=")[2] for a in attrs})
    problem = None
    if name not in cookies:
        problem = f"no cookie named {name!r} was set"
    elif setting == "xsrf-cookie-version-1" and (len(cookies[name][0]) != 32 or "|" in cookies[name][0]):
        problem = f"the cookie {cookies[name][0]!r} is not a version 1 token (32 hex digits)"
    elif setting == "xsrf-cookie-kwargs" and (
        "httponly" not in cookies[name][1] or cookies[name][1].get("path") != "/app"
    ):
        problem = "the cookie lacks HttpOnly or Path=/app"
    if problem is None:
        headers = [*FORM, ("Cookie", f"{name}={cookies[name][0]}"), ("X-XSRFToken", response.text)]
        posted = await http.request(srv, "POST", "/submit", headers=headers, body=BODY)
        if posted.status != 200:
            problem = f"a POST with that cookie and the page's token was answered {posted.describe()}"
    if problem is not None:
        raise Violation(
            f"with {settings}, {problem}: xsrf_cookie_version, xsrf_cookie_name and xsrf_cookie_kwargs shape the "
            "XSRF cookie.",
            observed=f"Set-Cookie headers {response.header_list('set-cookie')!r}",
        )


@check("Tornado docs: RequestHandler.xsrf_form_html", Level.MUST)
async def test_xsrf_form_html_is_a_hidden_input_carrying_the_token(impl, server, http):
    """Tornado docs, RequestHandler.xsrf_form_html: "An HTML <input/> element to be
    included with all POST forms. It defines the _xsrf input value, which we check on
    all POST requests". The element is a hidden input named ``_xsrf`` whose value,
    submitted as the form field, is accepted."""
    srv = _serve_tokens(impl, server)
    response = await http.request(srv, "GET", "/form")
    match = re.fullmatch(r'<input type="hidden" name="_xsrf" value="([^"]+)"\s*/?>', response.text.strip())
    cookie = next(
        (c.split(";", 1)[0].partition("=")[2] for c in response.header_list("set-cookie") if c.startswith("_xsrf=")),
        None,
    )
    if not (match and cookie):
        raise Violation(
            "xsrf_form_html() is not a hidden input carrying the token, or did not set the _xsrf cookie.",
            expected='<input type="hidden" name="_xsrf" value="TOKEN"/>, and an _xsrf cookie',
            observed=f"{response.text!r}, cookies {response.header_list('set-cookie')!r}",
        )
    body = b"_xsrf=" + html.unescape(match.group(1)).encode()
    posted = await http.request(
        srv,
        "POST",
        "/submit",
        headers=[("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", f"_xsrf={cookie}")],
        body=body,
    )
    if posted.status != 200:
        raise Violation(
            f"the form field from xsrf_form_html() ({body!r}) with 'Cookie: _xsrf={cookie}' did not pass the XSRF "
            "check.",
            expected="200",
            observed=posted.describe(),
        )


@check("Tornado docs: RequestHandler.check_xsrf_cookie", Level.MUST)
async def test_check_xsrf_cookie_override_is_honoured(impl, server, http):
    """Tornado docs, Application settings ``xsrf_cookies``: protection runs through
    RequestHandler.check_xsrf_cookie, which a handler may override (the docs' pattern
    for endpoints that authenticate otherwise). A handler whose override accepts every
    request receives a POST without a token."""
    web = impl.part("web")

    class Api(web.RequestHandler):
        def check_xsrf_cookie(self) -> None:
            pass  # authenticated by other means

        def post(self) -> None:
            self.write("accepted")

    srv = _serve_tokens(impl, server, api=Api)
    response = await http.request(srv, "POST", "/api", headers=FORM, body=BODY)
    if not (response.status == 200 and response.body == b"accepted"):
        raise Violation(
            "a handler overriding check_xsrf_cookie to accept everything refused a tokenless POST: Tornado calls the "
            "handler's own check_xsrf_cookie.",
            expected="200 with b'accepted'",
            observed=f"{response.describe()} with body {response.body[:200]!r}",
        )
