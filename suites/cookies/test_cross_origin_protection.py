"""cross_origin_protection: state-changing requests that look cross-origin are refused with 403,
judged from Sec-Fetch-Site, else from Origin against Host; trusted_origins and
check_trusted_origin let chosen origins through.

Reference: Tornado docs, guide "Cross-origin protection"
(https://www.tornadoweb.org/en/stable/guide/security.html#cross-origin-protection),
RequestHandler.check_trusted_origin
(https://www.tornadoweb.org/en/stable/web.html#tornado.web.RequestHandler.check_trusted_origin),
and the Tornado 6.6.0 release notes, tornado.web.
"""

from __future__ import annotations

import pytest

from conformance import Level, Violation, check, not_provided, requires

pytestmark = [pytest.mark.cookies, requires("web", "httpserver")]

TRUSTED = "https://trusted.example"

#: (method, path, fields ({port} is the server's), status, why)
CASES = [
    pytest.param(
        "POST",
        "/form",
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        403,
        "Sec-Fetch-Site says cross-site",
        id="cross-site",
    ),
    pytest.param(
        "POST",
        "/form",
        {"Sec-Fetch-Site": "same-site", "Origin": "http://other.localhost:{port}"},
        403,
        "Sec-Fetch-Site says same-site, which is not same-origin",
        id="same-site",
    ),
    pytest.param(
        "POST",
        "/form",
        {"Origin": "https://evil.example"},
        403,
        "without Sec-Fetch-Site, the Origin does not match the Host",
        id="foreign-origin-without-fetch-metadata",
    ),
    pytest.param(
        "PUT",
        "/form",
        {"Sec-Fetch-Site": "cross-site"},
        403,
        "Sec-Fetch-Site says cross-site (PUT, and no Origin at all)",
        id="cross-site-put-without-origin",
    ),
    pytest.param(
        "POST",
        "/form",
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://127.0.0.1:{port}"},
        200,
        "Sec-Fetch-Site says same-origin",
        id="same-origin",
    ),
    pytest.param(
        "POST",
        "/form",
        {"Sec-Fetch-Site": "none"},
        200,
        "Sec-Fetch-Site none is a direct navigation",
        id="fetch-site-none",
    ),
    pytest.param(
        "POST",
        "/form",
        {"Origin": "http://127.0.0.1:{port}"},
        200,
        "without Sec-Fetch-Site, the Origin matches the Host",
        id="origin-matches-host",
    ),
    pytest.param(
        "POST", "/form", {}, 200, "a request with neither field does not come from a browser", id="no-browser-fields"
    ),
    pytest.param(
        "GET",
        "/form",
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        200,
        "GET is not checked",
        id="cross-site-get",
    ),
    pytest.param(
        "POST",
        "/form",
        {"Sec-Fetch-Site": "cross-site", "Origin": TRUSTED},
        200,
        "the Origin is listed in trusted_origins",
        id="trusted-origins",
    ),
    pytest.param(
        "POST",
        "/partner",
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://a.partner.example"},
        200,
        "the handler's check_trusted_origin accepts that Origin",
        id="check-trusted-origin-override",
    ),
]


@check(
    "Tornado 6.6.0 release notes (tornado.web); Tornado docs: guide, Cross-origin protection; "
    "RequestHandler.check_trusted_origin",
    Level.TORNADO,
)
@pytest.mark.parametrize(("method", "path", "fields", "status", "why"), CASES)
async def test_cross_origin_protection_refuses_cross_origin_state_changes(
    impl, server, http, method, path, fields, status, why
):
    """The guide: "With this setting, the application will reject state-changing requests if
    the Sec-Fetch-Site header is set to something other than same-origin or none. If that header
    is missing, it rejects these requests if the Origin and Host headers do not match. You can
    allow specific additional origins with the trusted_origins application setting (a list)."
    "GET, HEAD and OPTIONS requests ... are not checked on the server." check_trusted_origin:
    "Return True to allow the request, or False to reject it with a 403 error." It is "not called
    ... for requests without an Origin header (which do not come from a browser)"."""
    web = impl.part("web")
    if not hasattr(web.RequestHandler, "check_trusted_origin"):
        not_provided(f"{impl.name}'s web part has no cross_origin_protection (RequestHandler.check_trusted_origin)")

    class Form(web.RequestHandler):
        def get(self):
            self.write("read")

        def post(self):
            self.write("changed")

        def put(self):
            self.write("changed")

    class Partner(Form):
        def check_trusted_origin(self, origin):
            return origin.endswith(".partner.example")

    srv = server.serve(
        [(r"/form", Form), (r"/partner", Partner)],
        {"cross_origin_protection": True, "trusted_origins": [TRUSTED]},
    )
    sent = [(name, value.format(port=srv.port)) for name, value in fields.items()]
    headers = [("Host", f"127.0.0.1:{srv.port}"), *sent]
    body = b"x=1" if method in ("POST", "PUT") else b""
    if body:
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    async with await http.connect(srv) as conn:
        response = await conn.request(method, path, headers, body)
    if response.status != status:
        told = ", ".join(f"{name}: {value}" for name, value in sent) or "no Origin, no Sec-Fetch-Site"
        raise Violation(
            f"with cross_origin_protection on, {method} {path} ({told}) was "
            f"{'served' if response.status < 400 else 'refused'} although {why}.",
            expected=f"{status}" + (" (the handler ran)" if status == 200 else " Forbidden (the handler never ran)"),
            observed=f"{response.describe()} with {response.body[:60]!r}",
            transcript=conn.transcript,
        )
