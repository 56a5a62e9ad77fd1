"""Authentication: ``current_user`` from a signed cookie and the ``@authenticated``
decorator's redirect to ``login_url``.

Reference: Tornado docs, security guide "User authentication"
(https://www.tornadoweb.org/en/stable/guide/security.html#user-authentication),
RequestHandler.current_user / get_current_user and tornado.web.authenticated
(https://www.tornadoweb.org/en/stable/web.html#tornado.web.authenticated).

Rule of this module: the user is the value of a signed cookie the application itself
issued (``GET /login``); the kit sends it back verbatim, as a browser does.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest

from conformance import Level, Violation, check, not_provided, requires

pytestmark = [pytest.mark.cookies, requires("web", "httpserver")]

SECRET = "conformance-cookie-secret-0123456789"


def _serve(impl: Any, server: Any, login_url: str = "/login") -> Any:
    """``GET /login`` signs user 'ada' into cookie ``user``; ``/private`` is
    ``@authenticated`` for every method; ``GET /whoami`` reports current_user and how
    many times get_current_user ran."""
    web = impl.part("web")
    authenticated = getattr(web, "authenticated", None)
    if authenticated is None:
        not_provided("web.authenticated")
    setter = "set_signed_cookie" if hasattr(web.RequestHandler, "set_signed_cookie") else "set_secure_cookie"
    getter = "get_signed_cookie" if hasattr(web.RequestHandler, "get_signed_cookie") else "get_secure_cookie"

    class Base(web.RequestHandler):
        calls = 0

        def get_current_user(self) -> Any:
            self.calls += 1
            user = getattr(self, getter)("user")
            return user.decode() if isinstance(user, bytes) else user

    class Login(Base):
        def get(self) -> None:
            getattr(self, setter)("user", "ada")

    class Private(Base):
        @authenticated
        def get(self) -> None:
            self.write(f"hello {self.current_user}")

        @authenticated
        def head(self) -> None:
            pass

        @authenticated
        def post(self) -> None:
            self.write("posted")

        @authenticated
        def delete(self) -> None:
            self.write("deleted")

    class WhoAmI(Base):
        def get(self) -> None:
            first, second = self.current_user, self.current_user
            self.write(json.dumps({"user": first, "same": first == second, "calls": self.calls}))

    return server.serve(
        [("/login", Login), ("/private", Private), ("/whoami", WhoAmI)],
        {"cookie_secret": SECRET, "login_url": login_url},
    )


async def _user_cookie(http: Any, srv: Any) -> str:
    __tracebackhide__ = True
    response = await http.request(srv, "GET", "/login")
    for header in response.header_list("set-cookie"):
        key, _, value = header.split(";", 1)[0].partition("=")
        if key.strip() == "user":
            return value.strip()
    raise AssertionError(f"GET /login (a handler signing cookie 'user') set no such cookie: {response.describe()}")


@check("Tornado docs: RequestHandler.current_user", Level.MUST)
async def test_current_user_comes_from_get_current_user_once_per_request(impl, server, http):
    """Tornado docs, RequestHandler.current_user: "A subclass may override
    get_current_user(), which will be called automatically the first time
    self.current_user is accessed. get_current_user() will only be called once per
    request, and is cached for future access." With the signed ``user`` cookie,
    current_user is 'ada' and get_current_user ran once for two accesses."""
    srv = _serve(impl, server)
    cookie = await _user_cookie(http, srv)
    response = await http.request(srv, "GET", "/whoami", headers=[("Cookie", f"user={cookie}")])
    report = json.loads(response.body) if response.status == 200 else response.describe()
    if report != {"user": "ada", "same": True, "calls": 1}:
        raise Violation(
            f"reading self.current_user twice with the signed cookie 'user={cookie}' did not call get_current_user "
            "once and cache it (it may query a database).",
            expected={"user": "ada", "same": True, "calls": 1},
            observed=report,
        )


@check("Tornado docs: tornado.web.authenticated", Level.MUST)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_authenticated_redirects_to_login_url_with_next(impl, server, http, method):
    """Tornado docs, tornado.web.authenticated: "If the user is not logged in, they will
    be redirected to the configured login url. [...] it will add a next parameter so the
    login page knows where to send you once you're logged in." An anonymous GET or HEAD
    of ``/private?tab=1`` is redirected to ``/login?next=%2Fprivate%3Ftab%3D1``; with the
    user's signed cookie it reaches the method."""
    srv = _serve(impl, server)
    response = await http.request(srv, method, "/private?tab=1")
    expected = "/login?" + urllib.parse.urlencode({"next": "/private?tab=1"})
    if not (response.status == 302 and response.header("location") == expected):
        raise Violation(
            f"an anonymous {method} /private?tab=1 of an @authenticated method was not redirected to login_url with "
            "a next parameter.",
            expected=f"302 to {expected!r}",
            observed=f"{response.describe()} with Location {response.header('location')!r}",
        )
    cookie = await _user_cookie(http, srv)
    response = await http.request(srv, method, "/private", headers=[("Cookie", f"user={cookie}")])
    if response.status != 200:
        raise Violation(
            f"a {method} /private with the signed cookie 'user={cookie}' did not reach the @authenticated method, "
            "as a logged-in user does.",
            expected="200",
            observed=response.describe(),
        )


@check("Tornado docs: tornado.web.authenticated", Level.TORNADO)
@pytest.mark.parametrize("method", ["POST", "DELETE"])
async def test_authenticated_forbids_other_methods(impl, server, http, method):
    """Tornado's authenticated decorator redirects only GET and HEAD (a redirect would
    lose a request body); any other method of an anonymous user is answered 403."""
    srv = _serve(impl, server)
    response = await http.request(srv, method, "/private", headers=[("Content-Type", "text/plain")], body=b"x")
    if response.status != 403:
        raise Violation(
            f"an anonymous {method} /private of an @authenticated method was not forbidden; Tornado redirects only "
            "GET and HEAD to the login page.",
            expected="403 Forbidden",
            observed=f"{response.describe()} with Location {response.header('location')!r}",
        )


LOGIN_URLS = {
    "with-query-used-as-is": ("/login?src=app", lambda srv: "/login?src=app"),
    "absolute-gets-absolute-next": (
        "http://auth.example.test/login",
        lambda srv: (
            "http://auth.example.test/login?"
            + urllib.parse.urlencode({"next": f"http://{srv.host}:{srv.port}/private"})
        ),
    ),
}


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            "with-query-used-as-is",
            id="with-query-used-as-is",
            marks=check("Tornado docs: tornado.web.authenticated", Level.MUST),
        ),
        # The docs say a next parameter is added, not what it holds: the full URL for an
        # absolute login_url is Tornado's code.
        pytest.param(
            "absolute-gets-absolute-next",
            id="absolute-gets-absolute-next",
            marks=check("Tornado docs: tornado.web.authenticated", Level.TORNADO),
        ),
    ],
)
async def test_authenticated_login_url_forms(impl, server, http, case):
    """Tornado docs, tornado.web.authenticated: "If you configure a login url with a
    query parameter, Tornado will assume you know what you're doing and use it as-is.
    If not, it will add a next parameter" (MUST); for an absolute login URL, next is
    the request's full URL, so the login site can send the user back (TORNADO: what
    Tornado's decorator does, the docs do not say what next holds)."""
    login_url, expected = LOGIN_URLS[case]
    srv = _serve(impl, server, login_url)
    response = await http.request(srv, "GET", "/private")
    if not (response.status == 302 and response.header("location") == expected(srv)):
        raise Violation(
            f"with login_url={login_url!r}, an anonymous GET /private was redirected elsewhere: a login URL with a "
            "query is used as-is, and an absolute one gets an absolute next.",
            expected=f"302 to {expected(srv)!r}",
            observed=f"{response.describe()} with Location {response.header('location')!r}",
        )
