"""``set_cookie``'s deprecated mixed-case keyword arguments (``Domain=``, ``Path=``,
``SameSite=``...), which Tornado kept for compatibility: 6.3.0 refused them with a
TypeError and 6.3.1 took them back.

Reference: Tornado docs, RequestHandler.set_cookie
(https://www.tornadoweb.org/en/stable/web.html#tornado.web.RequestHandler.set_cookie) and the
6.3.1 release notes (https://www.tornadoweb.org/en/stable/releases/v6.3.1.html).
"""

from __future__ import annotations

import pytest

from conformance import Level, Violation, check, requires

from ._support import set_cookie

pytestmark = [pytest.mark.cookies, requires("web", "httpserver")]

#: The keyword arguments as a 6.2 application passes them, and the attributes they give.
MIXED_CASE = {"Domain": "example.test", "Path": "/app", "SameSite": "Lax"}
ATTRIBUTES = {"domain": "example.test", "path": "/app", "samesite": "lax"}


@check("Tornado docs: RequestHandler.set_cookie; Tornado 6.3.1 release notes", Level.TORNADO)
async def test_set_cookie_takes_the_deprecated_mixed_case_keywords(impl, server, http):
    """Tornado 6.3.1 release notes: "``RequestHandler.set_cookie`` once again accepts
    capitalized keyword arguments for backwards compatibility. This is deprecated and in
    Tornado 7.0 only lowercase arguments will be accepted." Until then an application
    written for an older release, calling ``set_cookie('c', 'v', Domain=..., Path=...,
    SameSite=...)``, gets each as its cookie attribute, as with the lowercase names."""
    web = impl.part("web")

    class Set(web.RequestHandler):
        def get(self) -> None:
            try:
                self.set_cookie("c", "v", **MIXED_CASE)
            except Exception as exc:  # reported in the response, judged below
                self.set_status(500)
                self.finish(f"{type(exc).__name__}: {exc}")

    srv = server.serve([("/", Set)])
    response = await http.request(srv, "GET", "/")
    call = "set_cookie('c', 'v', Domain='example.test', Path='/app', SameSite='Lax')"
    if response.status != 200:
        raise Violation(
            f"{call} raised instead of setting the cookie: the deprecated capitalised keywords are refused, so an "
            "application written for an older release fails.",
            expected="Set-Cookie: c=v; Domain=example.test; Path=/app; SameSite=Lax",
            observed=f"{response.describe()}: {response.body[:200]!r}",
        )
    cookie = set_cookie(response, "c", f"the handler called {call}")
    got = {k: cookie.attributes.get(k, "<absent>") for k in ATTRIBUTES}
    got["samesite"] = got["samesite"].lower()
    if cookie.value != "v" or got != ATTRIBUTES:
        raise Violation(
            f"{call} did not write each keyword as its cookie attribute.",
            expected=ATTRIBUTES,
            observed=f"Set-Cookie: {cookie.header}",
        )
