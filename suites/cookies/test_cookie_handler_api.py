"""The handler's cookie API over the wire: signed cookies under key rotation and
expiry, the attributes ``set_cookie`` writes, ``clear_cookie``, and how the ``Cookie``
request header is parsed.

Reference: Tornado docs, RequestHandler.set_cookie / clear_cookie / get_cookie /
set_signed_cookie / get_signed_cookie / get_signed_cookie_key_version
(https://www.tornadoweb.org/en/stable/web.html#cookies), the ``cookie_secret`` and
``key_version`` Application settings
(https://www.tornadoweb.org/en/stable/web.html#tornado.web.Application.settings),
httputil.parse_cookie and the Tornado 4.4.2 release notes
(https://www.tornadoweb.org/en/stable/releases/v4.4.2.html).

Rules of this module:

1. The kit behaves like a browser: it sends back ``Set-Cookie`` values verbatim and
   builds ``Cookie`` headers by hand; old signed values come from the golden vectors
   (signed in November 2023) or from the kit's own signer (``_support.sign``), dated
   days before the real time, so expiry is judged without waiting or a clock hook.
2. Tornado ≥ 6.3 names the signing methods ``*_signed_cookie*``, older releases
   ``*_secure_cookie*``; the checks use whichever the implementation provides.
"""

from __future__ import annotations

import email.utils
import json
from typing import Any

import pytest

from conformance import Level, Violation, check, not_provided, requires

from ._support import CENTURY, DAY, as_bytes, now, set_cookie, set_cookies, sign, vector

pytestmark = [pytest.mark.cookies, requires("web", "httpserver")]


def _method(web: Any, *names: str) -> str:
    __tracebackhide__ = True
    for name in names:
        if hasattr(web.RequestHandler, name):
            return name
    not_provided(f"RequestHandler has none of {', '.join(names)}")
    raise AssertionError  # unreachable


def _serve_signed(impl: Any, server: Any, settings: dict[str, Any]) -> tuple[Any, str, str]:
    """``GET /set`` signs 'ada' into cookie ``session``; ``GET /read?max_age_days=N``
    answers JSON with what get_signed_cookie and get_signed_cookie_key_version returned."""
    web = impl.part("web")
    setter = _method(web, "set_signed_cookie", "set_secure_cookie")
    getter = _method(web, "get_signed_cookie", "get_secure_cookie")
    key_version = _method(web, "get_signed_cookie_key_version", "get_secure_cookie_key_version")

    class Set(web.RequestHandler):
        def get(self) -> None:
            getattr(self, setter)("session", "ada")

    class Read(web.RequestHandler):
        def get(self) -> None:
            max_age = self.get_argument("max_age_days", None)
            kwargs = {} if max_age is None else {"max_age_days": float(max_age)}
            value = as_bytes(getattr(self, getter)("session", **kwargs))
            version = getattr(self, key_version)("session")
            self.write(json.dumps({"hex": None if value is None else value.hex(), "key_version": version}))

    srv = server.serve([("/set", Set), ("/read", Read)], settings)
    return srv, setter, getter


async def _read(http: Any, srv: Any, cookie: str, query: str = "") -> dict[str, Any]:
    __tracebackhide__ = True
    response = await http.request(srv, "GET", f"/read{query}", headers=[("Cookie", f"session={cookie}")])
    if response.status != 200:
        raise Violation(
            f"a handler reading the signed cookie 'session={cookie}' failed: reading a signed cookie returns a value "
            "or None, never fails the request.",
            expected="200",
            observed=f"{response.describe()} with body {response.body[:300]!r}",
        )
    report = json.loads(response.body)
    report["value"] = None if report["hex"] is None else bytes.fromhex(report["hex"])
    return report


@check("Tornado docs: Application settings, key_version", Level.MUST)
async def test_signed_cookie_from_an_older_key_version_still_validates(impl, server, http):
    """Tornado docs, Application settings: "cookie_secret [...] can also be a dict of
    key versions [...] key_version: used to set the version of the signing key [...]
    when cookie_secret is a key dictionary"; get_signed_cookie_key_version "Returns the
    signing key version of the secure cookie". After rotating to key 7, a cookie signed
    under key 1 still validates and reports key version 1, and new cookies are signed
    under key 7."""
    v = vector("v2-key1-ascii")
    srv, setter, getter = _serve_signed(impl, server, {"cookie_secret": v.secret, "key_version": 7})
    report = await _read(http, srv, v.signed, f"?max_age_days={CENTURY}")
    if not (report["value"] == v.value and report["key_version"] == 1):
        raise Violation(
            f"with cookie_secret={{0: ..., 1: ..., 7: ...}} and key_version=7, {getter}('session', "
            f"max_age_days={CENTURY}) did not read the cookie 'session={v.signed}' signed by reference Tornado under "
            "key 1: a key dict exists so that keys can be rotated without invalidating the cookies signed with older "
            "keys.",
            expected=f"{v.value!r} with key version 1",
            observed=f"{report['value']!r} with key version {report['key_version']!r}",
        )
    response = await http.request(srv, "GET", "/set")
    issued = set_cookie(response, "session", f"GET /set called {setter}('session', 'ada')").value
    report = await _read(http, srv, issued)
    if not (report["value"] == b"ada" and report["key_version"] == 7):
        raise Violation(
            f"with key_version=7, {setter}('session', 'ada') sent 'session={issued}', which was not signed with key 7 "
            "(key_version sets the version of the signing key).",
            expected="b'ada' with key version 7",
            observed=f"{report['value']!r} with key version {report['key_version']!r}",
        )


#: (the value's age in days, what get_signed_cookie('session') returns) of the default case.
DEFAULT_MAX_AGE = [(30, b"ada"), (32, None)]


@pytest.mark.parametrize(
    "max_age_days",
    [
        pytest.param(
            None,
            id="default-31-days",
            marks=check("Tornado docs: RequestHandler.get_signed_cookie (max_age_days=31)", Level.TORNADO),
        ),
        pytest.param(
            CENTURY,
            id="explicit-max-age-days",
            marks=check("Tornado docs: guide/security, Cookies and signed cookies", Level.MUST),
        ),
    ],
)
async def test_get_signed_cookie_honours_max_age_days(impl, server, http, max_age_days):
    """Tornado docs, RequestHandler.get_signed_cookie(name, value=None, max_age_days=31,
    min_version=None), and the security guide: "If the cookie is old [...]
    get_signed_cookie will return None [...] use the expires_days keyword argument to
    set_signed_cookie *and* the max_age_days argument to get_signed_cookie." By default
    (Tornado's choice of 31 days) a cookie the kit signed 30 days before the request
    validates and one signed 32 days before it does not; a ``max_age_days`` the
    handler passes replaces the default (a cookie reference Tornado signed in November
    2023 validates with ``max_age_days=36500``)."""
    v = vector("v2-ascii")
    srv, _, getter = _serve_signed(impl, server, {"cookie_secret": v.secret})
    if max_age_days is None:
        for days, expected in DEFAULT_MAX_AGE:
            cookie = sign(v.secret, "session", b"ada", timestamp=now() - days * DAY)
            report = await _read(http, srv, cookie)
            if report["value"] != expected:
                raise Violation(
                    f"{getter}('session') without max_age_days misjudged the age of the cookie 'session={cookie}', "
                    f"signed {days} days before the request: max_age_days defaults to 31, so a cookie 30 days old "
                    "validates and one 32 days old does not.",
                    expected=repr(expected),
                    observed=repr(report["value"]),
                )
        return
    report = await _read(http, srv, v.signed, f"?max_age_days={max_age_days}")
    if report["value"] != v.value:
        raise Violation(
            f"{getter}('session', max_age_days={max_age_days}) did not read the cookie 'session={v.signed}', signed "
            "by reference Tornado on 2023-11-14: the max_age_days the handler passes replaces the default of 31 days.",
            expected=repr(v.value),
            observed=repr(report["value"]),
        )


def _http_date(value: str | None) -> float | None:
    try:
        return email.utils.parsedate_to_datetime(value).timestamp() if value else None
    except (TypeError, ValueError):
        return None


@check("Tornado docs: RequestHandler.set_signed_cookie (expires_days)", Level.TORNADO)
async def test_set_signed_cookie_expires_in_30_days_by_default(impl, server, http):
    """Tornado docs, RequestHandler.set_signed_cookie(name, value, expires_days=30, ...):
    "Note that the expires_days parameter sets the lifetime of the cookie in the
    browser". Without ``expires_days`` the cookie's ``Expires`` lies 30 days after the
    response's ``Date``."""
    srv, setter, _ = _serve_signed(impl, server, {"cookie_secret": vector("v2-ascii").secret})
    response = await http.request(srv, "GET", "/set")
    cookie = set_cookie(response, "session", f"GET /set called {setter}('session', 'ada')")
    expires, date = _http_date(cookie.attributes.get("expires")), _http_date(response.header("date"))
    if not (expires is not None and date is not None and abs(expires - date - 30 * 86400) <= 120):
        raise Violation(
            f"{setter}('session', 'ada') did not set the cookie to expire 30 days after Date: expires_days defaults "
            "to 30 (a session-only cookie logs users out when the browser closes).",
            expected="Expires 30 days after Date",
            observed=f"'Set-Cookie: {cookie.header}' with Date {response.header('date')!r}",
        )


@check("Tornado docs: RequestHandler.set_cookie", Level.MUST)
async def test_set_cookie_writes_every_attribute(impl, server, http):
    """Tornado docs, RequestHandler.set_cookie(name, value, domain=None, expires=None,
    path='/', expires_days=None, *, max_age=None, httponly=False, secure=False,
    samesite=None): "Sets an outgoing cookie name/value with the given options [...]
    expires may be a numeric timestamp as returned by time.time". Every option becomes
    its Set-Cookie attribute."""
    web = impl.part("web")

    class Set(web.RequestHandler):
        def get(self) -> None:
            self.set_cookie(
                "c",
                "v",
                domain="example.test",
                expires=1_700_000_000,
                path="/app",
                max_age=600,
                httponly=True,
                secure=True,
                samesite="Strict",
            )

    srv = server.serve([("/", Set)])
    response = await http.request(srv, "GET", "/")
    cookie = set_cookie(response, "c", "the handler called set_cookie('c', 'v', ...)")
    attrs = cookie.attributes
    expected = {
        "domain": "example.test",
        "path": "/app",
        "max-age": "600",
        "httponly": "",
        "secure": "",
        "samesite": "strict",
        "expires": "Tue, 14 Nov 2023 22:13:20 GMT",
    }
    got = {k: attrs.get(k, "<absent>").lower() if k == "samesite" else attrs.get(k, "<absent>") for k in expected}
    wrong = {k: got[k] for k in expected if got[k] != expected[k]}
    if not (cookie.value == "v" and not wrong):
        raise Violation(
            "set_cookie('c', 'v', domain='example.test', expires=1700000000, path='/app', max_age=600, httponly=True, "
            f"secure=True, samesite='Strict') did not write each option as its cookie attribute (wrong: {wrong}).",
            expected=expected,
            observed=f"Set-Cookie: {cookie.header}",
        )


INJECTION = "; Injected=1"


@check("RFC 6265 §4.1.1; Tornado 6.5.5 release notes", Level.SHOULD)
@pytest.mark.parametrize("attribute", ["domain", "path", "samesite"])
async def test_cookie_attribute_injection_is_rejected(impl, server, http, attribute):
    """RFC 6265 §4.1.1: "path-value = <any CHAR except CTLs or ';'>" (and likewise the
    other attribute values), "Servers SHOULD NOT produce [...] Set-Cookie headers that do
    not conform to the grammar" (SHOULD). Tornado 6.5.5 release notes: "The domain, path,
    and samesite arguments to RequestHandler.set_cookie are now validated for illegal
    characters, which could be abused to inject other attributes on the cookie." One
    carrying ``; Injected=1`` makes set_cookie raise and never reaches the Set-Cookie
    header as an attribute of its own."""
    web = impl.part("web")
    kwargs = {"domain": "example.test", "path": "/", "samesite": "Lax"}
    kwargs[attribute] += INJECTION

    class Set(web.RequestHandler):
        def get(self) -> None:
            try:
                self.set_cookie("c", "v", **kwargs)
            except Exception as exc:
                self.write(f"refused: {type(exc).__name__}")
            else:
                self.write("set")

    srv = server.serve([("/", Set)])
    response = await http.request(srv, "GET", "/")
    injected = [c.header for c in set_cookies(response) if "injected" in c.attributes]
    if injected or not response.text.startswith("refused"):
        raise Violation(
            f"set_cookie('c', 'v', {attribute}={kwargs[attribute]!r}) did not refuse an attribute value with ';' "
            "(Tornado's set_cookie raises), so an application that puts user input into a cookie attribute lets the "
            "user add attributes of their own.",
            expected="set_cookie raises, no injected attribute",
            observed=f"{response.text!r}, Set-Cookie headers {response.header_list('set-cookie')!r}",
        )


@check("Tornado docs: RequestHandler.clear_cookie", Level.MUST)
async def test_clear_cookie_expires_it_with_its_path_and_domain(impl, server, http):
    """Tornado docs, RequestHandler.clear_cookie: "Deletes the cookie with the given
    name. [...] Clearing a cookie requires the same domain and path arguments as when it
    was set." The response sets the cookie empty, expired before its ``Date``, with the
    given ``Path`` and ``Domain``."""
    web = impl.part("web")

    class Clear(web.RequestHandler):
        def get(self) -> None:
            self.clear_cookie("c", path="/app", domain="example.test")

    srv = server.serve([("/", Clear)])
    response = await http.request(srv, "GET", "/", headers=[("Cookie", "c=v")])
    cookie = set_cookie(response, "c", "the handler called clear_cookie('c', path='/app', domain='example.test')")
    expires, date = _http_date(cookie.attributes.get("expires")), _http_date(response.header("date"))
    ok = (
        cookie.value in ("", '""')
        and expires is not None
        and date is not None
        and expires < date
        and cookie.attributes.get("path") == "/app"
        and cookie.attributes.get("domain") == "example.test"
    )
    if not ok:
        raise Violation(
            "clear_cookie('c', path='/app', domain='example.test') did not empty the cookie with an Expires in the "
            "past and the same Path and Domain it was set with, so the browser keeps it.",
            expected="an empty value, Expires before Date, Path=/app, Domain=example.test",
            observed=f"'Set-Cookie: {cookie.header}' with Date {response.header('date')!r}",
        )


#: (Cookie header, {name: value get_cookie must return, None when absent}).
PARSING = {
    "quoted-value": ('c="a b"; d=1', {"c": "a b", "d": "1"}),
    "backslash-escapes": ('c="a\\"b\\073c"', {"c": 'a"b;c'}),
    "bracket-is-not-a-separator": ("a=x]_xsrf=forged; b=1", {"a": "x]_xsrf=forged", "_xsrf": None, "b": "1"}),
    "space-inside-value": ("a=b c; d=1", {"a": "b c", "d": "1"}),
    "many-cookies": (
        "; ".join([*(f"k{i}=v{i}" for i in range(60)), "odd=a b", "last=z"]),
        {"k0": "v0", "k31": "v31", "k59": "v59", "odd": "a b", "last": "z"},
    ),
}


@check("Tornado 4.4.2 release notes: cookie parsing; Tornado docs: httputil.parse_cookie", Level.TORNADO)
@pytest.mark.parametrize("case", list(PARSING))
async def test_request_cookies_are_parsed_as_browsers_send_them(impl, server, http, case):
    """Tornado 4.4.2 release notes: "A difference in cookie parsing between Tornado and
    web browsers (especially when combined with Google Analytics) could allow an
    attacker to set arbitrary cookies and bypass XSRF protection. The cookie parser has
    been rewritten to fix this attack." httputil.parse_cookie "attempts to mimic browser
    cookie parsing behavior": only ``;`` separates cookies (``]`` and spaces do not),
    quoted values are unquoted with their backslash escapes, and one odd cookie does
    not lose the others. TORNADO: neither text states a requirement (the parser
    "attempts to mimic" browsers), and RFC 6265 §4.1.1 keeps a cookie-value's quotes,
    so unquoting and escapes are Tornado's choice."""
    header, expected = PARSING[case]
    web = impl.part("web")

    class Read(web.RequestHandler):
        def get(self) -> None:
            # One argument (not a repeated one), so that this check judges cookie parsing only.
            self.write(json.dumps({name: self.get_cookie(name) for name in self.get_argument("names").split(",")}))

    srv = server.serve([("/", Read)])
    query = "names=" + ",".join(expected)
    response = await http.request(srv, "GET", f"/?{query}", headers=[("Cookie", header)])
    got = json.loads(response.body) if response.status == 200 else response.describe()
    if got != expected:
        raise Violation(
            f"get_cookie did not parse the request header 'Cookie: {header}' as browsers do: a parser that splits "
            "elsewhere lets a value set by a third-party script forge another cookie, such as _xsrf.",
            expected=expected,
            observed=got,
        )
