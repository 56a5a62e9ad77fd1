"""StaticFileHandler's allowed_symlink_directory given as a list: symlinks into any of the
listed directories are served, symlinks elsewhere still refused.

Reference: Tornado docs, web.StaticFileHandler
(https://www.tornadoweb.org/en/stable/web.html#tornado.web.StaticFileHandler), and the Tornado
6.5.10 release notes (https://www.tornadoweb.org/en/stable/releases/v6.5.10.html).

Rule: every file and link is made in the check's own temporary directory; the refused case
is judged by its status and by the absence of the file's content.
"""

from __future__ import annotations

import inspect

import pytest

from conformance import Level, Trace, check, not_provided, requires

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]


@check("Tornado 6.5.10 release notes; Tornado docs: web.StaticFileHandler (allowed_symlink_directory)", Level.TORNADO)
async def test_allowed_symlink_directory_may_list_several_directories(impl, server, http, tmp_path):
    """StaticFileHandler: "Deployments that deliberately serve content through symlinks pointing
    elsewhere can set the allowed_symlink_directory initializer argument to a directory
    containing all of the intended targets, or to a list of such directories." The 6.5.10
    release notes (Bug fixes): "The allowed_symlink_directory argument of StaticFileHandler may
    now be a list of directories instead of just a single directory" (6.5.9 answered 500). With
    ``[<tmp>/shared-a, <tmp>/shared-b]``, links into either are served and a link into
    ``<tmp>/private`` is refused (Tornado: 403)."""
    web = impl.part("web")
    parameters = inspect.signature(web.StaticFileHandler.initialize).parameters
    if "allowed_symlink_directory" not in parameters:
        not_provided(f"{impl.name}'s StaticFileHandler has no allowed_symlink_directory (before Tornado 6.5.9)")
    root = tmp_path / "static"
    root.mkdir()
    for directory in ("shared-a", "shared-b", "private"):
        (tmp_path / directory).mkdir()
        (tmp_path / directory / "file.txt").write_bytes(f"content of {directory}".encode())
        (root / f"{directory}.txt").symlink_to(tmp_path / directory / "file.txt")
    allowed = [str(tmp_path / "shared-a"), str(tmp_path / "shared-b")]
    srv = server.serve(
        [(r"/static/(.*)", web.StaticFileHandler, {"path": str(root), "allowed_symlink_directory": allowed})]
    )
    observed = Trace()
    for directory in ("shared-a", "shared-b", "private"):
        response = await http.request(srv, "GET", f"/static/{directory}.txt")
        served = response.status == 200 and response.body == f"content of {directory}".encode()
        refused = 400 <= response.status < 500 and b"content of" not in response.body
        verdict = "served" if served else "refused" if refused else f"{response.describe()} {response.body[:60]!r}"
        observed.add(f"GET /static/{directory}.txt (a link into {directory}) -> {verdict}")
    observed.assert_equal(
        [
            "GET /static/shared-a.txt (a link into shared-a) -> served",
            "GET /static/shared-b.txt (a link into shared-b) -> served",
            "GET /static/private.txt (a link into private) -> refused",
        ],
        f"with allowed_symlink_directory={allowed!r}, links into either listed directory must be served and the "
        "link into another directory refused. The answers were:",
    )
