"""StaticFileHandler's default ``Etag``: the SHA-512 hash of the file's content.

Reference: Tornado docs, ``StaticFileHandler.get_content_version`` and ``compute_etag``
(https://www.tornadoweb.org/en/stable/web.html#tornado.web.StaticFileHandler) and the
Tornado 6.1.0 release notes (``tornado.web``); RFC 9110 §8.8.3 leaves the form of an
entity tag to the server.
"""

from __future__ import annotations

import hashlib

import pytest

from conformance import Level, Violation, check, requires

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]

CONTENT = b"the content whose hash is the entity tag\n"


@check(
    "RFC 9110 §8.8.3 (the form of an entity tag is the server's choice); Tornado docs: "
    "StaticFileHandler.get_content_version; Tornado 6.1.0 release notes (tornado.web)",
    Level.TORNADO,
)
async def test_static_file_etag_is_the_sha512_of_its_content(impl, server, http, tmp_path):
    """Tornado docs, ``StaticFileHandler.get_content_version``: "The default implementation
    is a SHA-512 hash of the file's contents", and ``compute_etag`` "Sets the ``Etag``
    header based on static url version". Tornado 6.1.0 release notes: "Default ``Etag``
    headers are now generated with SHA-512 instead of MD5." The ETag of a static file is
    the quoted hexadecimal SHA-512 digest of its bytes."""
    web = impl.part("web")
    root = tmp_path / "static"
    root.mkdir()
    (root / "file.txt").write_bytes(CONTENT)
    srv = server.serve([(r"/files/(.*)", web.StaticFileHandler, {"path": str(root)})])
    async with await http.connect(srv) as conn:
        response = await conn.request("GET", "/files/file.txt")
    expected = f'"{hashlib.sha512(CONTENT).hexdigest()}"'
    if response.status != 200 or response.header("etag") != expected:
        raise Violation(
            "the static file's ETag is not the quoted SHA-512 hex digest of its content.",
            expected=f"200 with Etag {expected}",
            observed=f"{response.describe()}, Etag {response.header('etag')!r}",
            transcript=conn.transcript,
        )
