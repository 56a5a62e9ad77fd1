"""Signed cookies over the wire: what one response sets, the next request may return,
and nothing else passes for it.

Reference: Tornado docs, RequestHandler.set_signed_cookie / get_signed_cookie
(https://www.tornadoweb.org/en/stable/web.html#tornado.web.RequestHandler.set_signed_cookie),
the security guide (https://www.tornadoweb.org/en/stable/guide/security.html) and the
Tornado 3.2.1 release notes (https://www.tornadoweb.org/en/stable/releases/v3.2.1.html).

Rules of this module:

1. The kit behaves like a browser: it returns the ``Set-Cookie`` value verbatim
   (quotes included, RFC 6265 §5.2/§5.4) and never computes a signature itself, so the
   checks hold for any signed-value format the implementation chooses.
2. Tornado ≥ 6.3 names the methods ``set_signed_cookie``/``get_signed_cookie``, older
   releases ``set_secure_cookie``/``get_secure_cookie``; the checks use whichever pair
   the implementation provides, the new names first.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from typing import Any

import pytest

from conformance import Level, Violation, check, not_provided, requires

from ._support import signing_methods

pytestmark = [pytest.mark.cookies, requires("web", "httpserver")]

SECRET = "conformance-cookie-secret-0123456789"
#: Base64 of these bytes contains '+', '/' and '=' padding (so Tornado quotes the
#: cookie), and the value is not ASCII: a round trip must keep every byte.
VALUE = "ada?>>??\u00e9"


def _serve_signed_cookies(impl: Any, server: Any) -> tuple[Any, str, str]:
    """An application with ``GET /set`` (signs VALUE into cookie ``session``) and
    ``GET /read?name=N`` (answers JSON ``{"found": bool, "hex": ...}`` for cookie N)."""
    web = impl.part("web")
    setter, getter = signing_methods(web)

    class SetSession(web.RequestHandler):
        def get(self) -> None:
            getattr(self, setter)("session", VALUE)
            self.write("set")

    class ReadCookie(web.RequestHandler):
        def get(self) -> None:
            value = getattr(self, getter)(self.get_argument("name", "session"))
            if isinstance(value, str):  # Tornado returns bytes; judge the value, not the type
                value = value.encode("utf-8")
            self.set_header("Content-Type", "application/json")
            self.write(json.dumps({"found": value is not None, "hex": value.hex() if value is not None else None}))

    srv = server.serve([("/set", SetSession), ("/read", ReadCookie)], {"cookie_secret": SECRET})
    return srv, setter, getter


def _cookie_from(response: Any, name: str, setter: str) -> str:
    """The value of cookie ``name`` in the response's Set-Cookie headers, verbatim."""
    __tracebackhide__ = True
    for header in response.header_list("set-cookie"):
        pair = header.split(";", 1)[0]
        key, sep, value = pair.partition("=")
        if sep and key.strip() == name:
            return value.strip()
    raise Violation(
        f"the handler called {setter}({name!r}, ...) but the response carries no Set-Cookie for {name!r}: "
        f"{setter} sends the signed value to the client in a Set-Cookie header.",
        observed=f"{response.describe()}, Set-Cookie headers {response.header_list('set-cookie')!r}",
    )


def _read_result(response: Any, getter: str, cookie: str) -> bytes | None:
    """What the read handler reported: the value getter returned, or None."""
    __tracebackhide__ = True
    if response.status != 200:
        raise Violation(
            f"the handler that calls {getter} failed on a request carrying 'Cookie: {cookie}': {getter} returns "
            "None for a cookie that does not validate, never raises (Tornado docs: RequestHandler.get_signed_cookie).",
            expected="200",
            observed=f"{response.describe()} with body {response.body[:300]!r}",
        )
    report = json.loads(response.body)
    return bytes.fromhex(report["hex"]) if report["found"] else None


async def _signed_session_cookie(http: Any, srv: Any, setter: str) -> str:
    __tracebackhide__ = True
    response = await http.request(srv, "GET", "/set")
    assert response.status == 200, f"GET /set (a handler calling {setter}) answered {response.describe()}"
    return _cookie_from(response, "session", setter)


@check("Tornado docs: RequestHandler.set_signed_cookie", Level.MUST)
async def test_signed_cookie_round_trips_over_the_wire(impl, server, http):
    """Tornado docs, RequestHandler.set_signed_cookie: "Signs and timestamps a cookie so
    it cannot be forged. [...] To read a cookie set with this method, use
    get_signed_cookie()." A value set in one response and returned by the client in the
    next request comes back from get_signed_cookie unchanged, as bytes."""
    srv, setter, getter = _serve_signed_cookies(impl, server)
    cookie = await _signed_session_cookie(http, srv, setter)
    response = await http.request(srv, "GET", "/read", headers=[("Cookie", f"session={cookie}")])
    got = _read_result(response, getter, f"session={cookie}")
    expected = VALUE.encode("utf-8")
    if got != expected:
        raise Violation(
            f"{setter}('session', {VALUE!r}) sent 'session={cookie}', and the next request returned exactly that "
            f"cookie value (as a browser does, RFC 6265 §5.4), yet {getter}('session') did not read it back.",
            expected=repr(expected),
            observed=repr(got),
        )


def _layout(raw: str) -> dict[str, tuple[int, int]] | None:
    """Where the fields of Tornado's signed-value formats lie in ``raw``: a map of
    field name to (start, end) of its content, or None for an unknown format.

    v1: ``<b64 value>|<timestamp>|<hex sig>``;
    v2: ``2|<len>:<key version>|<len>:<timestamp>|<len>:<name>|<len>:<b64 value>|<hex sig>``.
    """
    fields, start = [], 0
    for part in raw.split("|"):
        fields.append((start, start + len(part)))
        start += len(part) + 1

    def content(index: int) -> tuple[int, int]:
        begin, end = fields[index]
        colon = raw.find(":", begin, end)
        return (colon + 1, end) if colon >= 0 else (begin, end)

    if len(fields) == 6 and raw.startswith("2|"):
        return {"value": content(4), "timestamp": content(2), "signature": fields[5]}
    if len(fields) == 3 and raw.split("|")[1].isdigit():
        return {"value": fields[0], "timestamp": fields[1], "signature": fields[2]}
    return None


def _flip(char: str) -> str:
    """Another character of the same alphabet, so the value stays well-formed and only
    the signature can tell that it changed."""
    for alphabet in (string.digits, "abcdef", "ABCDEF", string.ascii_lowercase, string.ascii_uppercase):
        if char in alphabet:
            return alphabet[(alphabet.index(char) + 1) % len(alphabet)]
    return "A" if char != "A" else "B"


#: (field, which character of the field's content) of every tamper case.
TAMPER: dict[str, Callable[[dict[str, tuple[int, int]]], int]] = {
    "value-first-char": lambda f: f["value"][0],
    "timestamp-last-digit": lambda f: f["timestamp"][1] - 1,
    "signature-first-char": lambda f: f["signature"][0],
    "signature-last-char": lambda f: f["signature"][1] - 1,
}


@check("Tornado docs: RequestHandler.get_signed_cookie", Level.MUST)
@pytest.mark.parametrize("where", list(TAMPER))
async def test_tampered_signed_cookie_is_rejected(impl, server, http, where):
    """Tornado docs, security guide: "Signed cookies contain the encoded value of the
    cookie in addition to a timestamp and an HMAC signature. If the cookie is old or if
    the signature doesn't match, get_signed_cookie will return None just as if the cookie
    isn't set." Changing one character anywhere in the signed value (the value, the
    timestamp, either end of the signature) makes it return None, without an error."""
    srv, setter, getter = _serve_signed_cookies(impl, server)
    cookie = await _signed_session_cookie(http, srv, setter)
    quoted = len(cookie) >= 2 and cookie[0] == cookie[-1] == '"'
    raw = cookie[1:-1] if quoted else cookie
    layout = _layout(raw)
    if layout is None:
        not_provided(
            f"the signed value {raw!r} is in neither of Tornado's signed-value formats "
            "(v1, v2), so the kit cannot locate the field to tamper with"
        )
    index = TAMPER[where](layout)
    tampered = raw[:index] + _flip(raw[index]) + raw[index + 1 :]
    sent = f'"{tampered}"' if quoted else tampered
    response = await http.request(srv, "GET", "/read", headers=[("Cookie", f"session={sent}")])
    got = _read_result(response, getter, f"session={sent}")
    if got is not None:
        raise Violation(
            f"{setter}('session', {VALUE!r}) sent 'session={cookie}'; the request returned it with character "
            f"{index} ({where}) changed from {raw[index]!r} to {tampered[index]!r}, and {getter}('session') "
            "accepted the forgery: a client cannot alter a signed cookie.",
            expected="None",
            observed=repr(got),
        )
    unhandled = server.log.unhandled_exceptions()
    assert not unhandled, (
        f"{getter} returned None for the tampered cookie but the implementation logged an unhandled "
        f"exception:\n{server.log.format(unhandled)}"
    )


@check("Tornado 3.2.1 release notes: signed-value format", Level.MUST)
async def test_signed_cookie_is_rejected_under_another_name(impl, server, http):
    """Tornado 3.2.1 release notes: "The new cookie format fixes a vulnerability that may
    be present in applications that use multiple cookies where the name of one cookie is
    a prefix of the name of another." A signed value is bound to the cookie name it was
    signed for: presented under another name (here ``sessionid`` for a value signed as
    ``session``), get_signed_cookie returns None."""
    srv, setter, getter = _serve_signed_cookies(impl, server)
    cookie = await _signed_session_cookie(http, srv, setter)
    response = await http.request(srv, "GET", "/read?name=sessionid", headers=[("Cookie", f"sessionid={cookie}")])
    got = _read_result(response, getter, f"sessionid={cookie}")
    if got is not None:
        raise Violation(
            f"{setter}('session', {VALUE!r}) sent 'session={cookie}'; the client returned the same value as cookie "
            f"'sessionid' and {getter}('sessionid') accepted it: a signed value is bound to its name, or a value "
            "issued for one cookie can be replayed as another.",
            expected="None",
            observed=repr(got),
        )
