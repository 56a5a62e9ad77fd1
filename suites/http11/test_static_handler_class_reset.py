"""With static_hash_cache off, the version cache reset before each request is the configured
static_handler_class's.

Reference: Tornado docs, Application settings static_handler_class and static_hash_cache, and
StaticFileHandler.reset (https://www.tornadoweb.org/en/stable/web.html#tornado.web.StaticFileHandler.reset),
and the Tornado 6.2.0 release notes, tornado.web.
"""

from __future__ import annotations

import pytest

from conformance import Level, Trace, check, requires

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]


@check(
    "Tornado 6.2.0 release notes (tornado.web); Tornado docs: Application settings static_handler_class, "
    "static_hash_cache; StaticFileHandler.reset",
    Level.TORNADO,
)
async def test_static_hash_cache_off_resets_the_configured_static_handler_class(impl, server, http, tmp_path):
    """Application settings: "static_hash_cache: Default is True; if False static urls will be
    recomputed on every request." "static_handler_class, static_handler_args: May be set to use a
    different handler for static files instead of the default tornado.web.StaticFileHandler."
    StaticFileHandler.reset empties the class's cache of versions. The 6.2.0 release notes:
    "When using a custom StaticFileHandler subclass, the reset() method is now called on this
    subclass instead of the base class." Each request resets the subclass's cache."""
    web = impl.part("web")
    trace = Trace()
    (tmp_path / "app.css").write_bytes(b"p { color: red }\n")

    class Versioned(web.StaticFileHandler):
        @classmethod
        def reset(cls):
            trace.add(f"{cls.__name__}.reset()")
            super().reset()

    class Page(web.RequestHandler):
        def get(self):
            self.write(self.static_url("app.css"))

    settings = {"static_path": str(tmp_path), "static_handler_class": Versioned, "static_hash_cache": False}
    srv = server.serve([("/page", Page)], settings)
    for _ in range(2):
        await http.request(srv, "GET", "/page")
    server.barrier()
    trace.assert_equal(
        ["Versioned.reset()", "Versioned.reset()"],
        "with static_hash_cache=False, each request must reset the version cache of the static_handler_class "
        "(the subclass), whose reset() override records each call. Calls seen:",
    )
