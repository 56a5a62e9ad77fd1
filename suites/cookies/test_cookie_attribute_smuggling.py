"""``set_cookie`` attribute injection through the arguments that 6.5.5's validation did
not cover: ``max_age`` and the deprecated mixed-case keyword arguments.

Reference: RFC 6265 §4.1.1 (the attribute grammar), the Tornado release notes of 6.5.8
(https://www.tornadoweb.org/en/stable/releases/v6.5.8.html: "The deprecated mixed-case
arguments to RequestHandler.set_cookie now enforce the same restrictions on invalid
characters that were introduced in Tornado 6.5.5 for the standard lowercase arguments")
and 6.6.0 (https://www.tornadoweb.org/en/stable/releases/v6.6.0.html: "The max_age
argument to RequestHandler.set_cookie can no longer be abused for attribute injection").
The lowercase ``domain``, ``path`` and ``samesite`` are checked by
``cookies.cookie_attribute_injection_is_rejected`` (6.5.5).

Rule of this module: the handler calls ``set_cookie`` with one argument carrying
``; Injected=1`` and reports whether it raised; whatever it did, no ``Set-Cookie`` the
client receives may carry an ``Injected`` attribute.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance import Level, Violation, check, requires

from ._support import set_cookies

pytestmark = [pytest.mark.cookies, requires("web", "httpserver")]

INJECTION = "; Injected=1"
MAX_AGE = "Tornado 6.6.0 release notes (set_cookie max_age attribute injection)"
MIXED_CASE = "Tornado 6.5.8 release notes (set_cookie mixed-case arguments)"

SMUGGLED = [
    pytest.param({"max_age": "60" + INJECTION}, MAX_AGE, id="max-age"),
    pytest.param({"Domain": "example.test" + INJECTION}, MIXED_CASE, id="mixed-case-domain"),
    pytest.param({"Path": "/" + INJECTION}, MIXED_CASE, id="mixed-case-path"),
    pytest.param({"SameSite": "Lax" + INJECTION}, MIXED_CASE, id="mixed-case-samesite"),
    pytest.param({"Expires": "Tue, 14 Nov 2023 22:13:20 GMT" + INJECTION}, MIXED_CASE, id="mixed-case-expires"),
]


@check(f"RFC 6265 §4.1.1; {MIXED_CASE}; {MAX_AGE}", Level.SHOULD)
@pytest.mark.parametrize(("kwargs", "advisory"), SMUGGLED)
async def test_set_cookie_refuses_attributes_smuggled_past_its_validation(
    impl, server, http, kwargs: dict[str, Any], advisory: str
):
    """RFC 6265 §4.1.1: "Servers SHOULD NOT produce [...] Set-Cookie headers that do not
    conform to the grammar", in which no attribute value holds ``;``. Tornado 6.5.8:
    "The deprecated mixed-case arguments to RequestHandler.set_cookie now enforce the same
    restrictions on invalid characters that were introduced in Tornado 6.5.5 for the
    standard lowercase arguments"; 6.6.0: "The max_age argument to RequestHandler.set_cookie
    can no longer be abused for attribute injection". ``set_cookie`` raises (Tornado: a
    CookieError, or the ValueError of ``int(max_age)``) and no ``Injected`` attribute
    reaches the client."""
    web = impl.part("web")
    (argument,) = kwargs

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
            f"set_cookie('c', 'v', {argument}={kwargs[argument]!r}) did not refuse an attribute value with ';' "
            f"({advisory}): an application that passes user input as {argument} lets the user add cookie "
            "attributes of their own.",
            expected="set_cookie raises, no Set-Cookie with an Injected attribute",
            observed=f"handler: {response.text!r}; Set-Cookie headers {response.header_list('set-cookie')!r}",
        )
