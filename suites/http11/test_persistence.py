"""HTTP/1.1 persistence: connections are reused unless someone says close.

Reference: RFC 9112 §9 (https://www.rfc-editor.org/rfc/rfc9112#section-9).
"""

from __future__ import annotations

import pytest

from conformance import Level, check, requires

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]


def _hello(impl):
    web = impl.part("web")

    class Hello(web.RequestHandler):
        def get(self):
            self.write("hello")

    return [("/", Hello)]


@check("RFC 9112 §9.3", Level.SHOULD)
async def test_http11_connection_is_persistent_by_default(impl, server, http):
    """RFC 9112 §9.3: "HTTP/1.1 defaults to the use of persistent connections"; a server
    that does not close after every response lets the client send a second request."""
    srv = server.serve(_hello(impl))
    async with await http.connect(srv) as conn:
        first = await conn.request("GET", "/")
        assert first.status == 200, f"expected 200 for GET /, got {first.describe()}"
        assert first.keep_alive, (
            f"the first response closes the connection ({first.header('connection')!r}); RFC 9112 §9.3 makes "
            "HTTP/1.1 connections persistent unless a 'close' option is sent"
        )
        second = await conn.request("GET", "/")
        assert second.status == 200 and second.body == b"hello", f"second request on the connection got {second.describe()}"
