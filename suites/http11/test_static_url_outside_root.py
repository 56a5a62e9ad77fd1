"""static_url for a path outside static_path: refused with 403, the file never read.

Reference: Tornado docs, RequestHandler.static_url and StaticFileHandler.get_absolute_path
(https://www.tornadoweb.org/en/stable/web.html#tornado.web.RequestHandler.static_url), and
the Tornado 6.6.0 release notes, tornado.web
(https://www.tornadoweb.org/en/stable/releases/v6.6.0.html).

Rule: ``static_url`` is given the path as a literal of the handler (as the documentation
asks), never from the request; the file outside the static directory holds a known content,
so a version computed from it is recognised in the answer.
"""

from __future__ import annotations

import hashlib

import pytest

from conformance import Level, Violation, check, requires

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]

INSIDE = b"inside the static directory\n"
OUTSIDE = b"a file outside the static directory\n"

CASES = [
    pytest.param(lambda root, outside: "../outside.txt", id="dot-dot"),
    pytest.param(lambda root, outside: "sub/../../outside.txt", id="dot-dot-after-a-directory"),
    pytest.param(lambda root, outside: str(outside), id="absolute-path"),
]


@check("Tornado 6.6.0 release notes (tornado.web); Tornado docs: RequestHandler.static_url", Level.TORNADO)
@pytest.mark.parametrize("name", CASES)
async def test_static_url_outside_static_path_is_403(impl, server, http, tmp_path, name):
    """RequestHandler.static_url: "In the default implementation, a path that leads outside of
    static_path (e.g. with ../) raises HTTPError (403)." The 6.6.0 release notes:
    "RequestHandler.static_url (and StaticFileHandler.get_version) now raise HTTPError (403) for
    paths outside of static_path instead of reading and hashing files elsewhere on the
    filesystem." A handler asking static_url for such a path answers 403, and nothing in the
    answer is derived from the outside file (before 6.6, a URL carrying its hash)."""
    web = impl.part("web")
    root = tmp_path / "static"
    (root / "sub").mkdir(parents=True)
    (root / "inside.txt").write_bytes(INSIDE)
    outside = tmp_path / "outside.txt"
    outside.write_bytes(OUTSIDE)
    target = name(root, outside)

    class StaticURL(web.RequestHandler):
        def get(self, which):
            url = self.static_url("inside.txt" if which == "inside" else target)
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.write(url)

    srv = server.serve([(r"/url/(inside|outside)", StaticURL)], {"static_path": str(root)})
    control = await http.request(srv, "GET", "/url/inside")
    assert control.status == 200 and control.body.startswith(b"/static/inside.txt"), (
        f"static_url('inside.txt') (a file inside static_path) got {control.describe()} with {control.body[:80]!r}"
    )
    async with await http.connect(srv) as conn:
        response = await conn.request("GET", "/url/outside")
    # Tornado's version of a file is the SHA-512 of its content (MD5 before 6.1).
    hashes = (hashlib.sha512(OUTSIDE).hexdigest(), hashlib.md5(OUTSIDE).hexdigest())
    if response.status != 403:
        hashed = any(h.encode() in response.body for h in hashes)
        leaked = " (the answer carries the outside file's hash as its version)" if hashed else ""
        raise Violation(
            f"static_url({target!r}) names a file outside static_path, yet it was not refused{leaked}: computing "
            "its version reads and hashes a file the application never meant to publish.",
            expected="403 Forbidden",
            observed=f"{response.describe()} with {response.body[:120]!r}",
            transcript=conn.transcript,
        )
