"""StaticFileHandler.get_modified_time returns an aware datetime, and an override returning an
aware datetime in another time zone gives the right Last-Modified and If-Modified-Since answers.

Reference: Tornado docs, StaticFileHandler.get_modified_time
(https://www.tornadoweb.org/en/stable/web.html#tornado.web.StaticFileHandler.get_modified_time),
RFC 9110 §13.1.3, and the Tornado 6.4.0 release notes, tornado.web.

Rule: the override's moment is fixed (2020-01-02 03:04:05 UTC, written as 05:04:05 at
UTC+02:00), so the dates sent are at and before it by construction.
"""

from __future__ import annotations

import datetime

import pytest

from conformance import Level, Trace, check, requires

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]

LAST_MODIFIED = "Thu, 02 Jan 2020 03:04:05 GMT"
EARLIER = "Wed, 01 Jan 2020 03:04:05 GMT"
MOMENT = datetime.datetime(2020, 1, 2, 5, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))


@check(
    "Tornado 6.4.0 release notes (tornado.web); Tornado docs: StaticFileHandler.get_modified_time; RFC 9110 §13.1.3",
    Level.TORNADO,
)
async def test_get_modified_time_is_aware_and_aware_overrides_are_honoured(impl, server, http, tmp_path):
    """StaticFileHandler.get_modified_time: "May be overridden in subclasses. Should return a
    datetime object or None." (changed in 6.4: "Now returns an aware datetime object instead of a
    naive one. Subclasses that override this method may return either kind.") The 6.4.0 release
    notes: "StaticFileHandler.get_modified_time now supports "aware" datetime objects and the
    default implementation now returns aware objects." A subclass returning 05:04:05+02:00 is
    served with Last-Modified 03:04:05 GMT; If-Modified-Since at that moment is 304 (RFC 9110
    §13.1.3), a day earlier 200."""
    web = impl.part("web")
    trace = Trace()
    (tmp_path / "data.txt").write_bytes(b"0123456789")

    class Default(web.StaticFileHandler):
        def get_modified_time(self):
            modified = super().get_modified_time()
            trace.add(f"default get_modified_time() is aware: {modified.tzinfo is not None}")
            return modified

    class Aware(web.StaticFileHandler):
        def get_modified_time(self):
            return MOMENT

    srv = server.serve(
        [
            (r"/default/(.*)", Default, {"path": str(tmp_path)}),
            (r"/aware/(.*)", Aware, {"path": str(tmp_path)}),
        ]
    )
    await http.request(srv, "GET", "/default/data.txt")
    server.barrier()
    for label, headers in (
        ("no condition", []),
        (f"If-Modified-Since: {LAST_MODIFIED}", [("If-Modified-Since", LAST_MODIFIED)]),
        (f"If-Modified-Since: {EARLIER}", [("If-Modified-Since", EARLIER)]),
    ):
        response = await http.request(srv, "GET", "/aware/data.txt", headers=headers)
        trace.add(
            f"GET /aware/data.txt ({label}) -> {response.status}, Last-Modified: {response.header('last-modified')}"
        )
    trace.assert_equal(
        [
            "default get_modified_time() is aware: True",
            f"GET /aware/data.txt (no condition) -> 200, Last-Modified: {LAST_MODIFIED}",
            f"GET /aware/data.txt (If-Modified-Since: {LAST_MODIFIED}) -> 304, Last-Modified: {LAST_MODIFIED}",
            f"GET /aware/data.txt (If-Modified-Since: {EARLIER}) -> 200, Last-Modified: {LAST_MODIFIED}",
        ],
        "the default get_modified_time must return an aware datetime, and an override's aware datetime (at "
        "UTC+02:00) must give Last-Modified in GMT and be compared as the same instant. What was observed:",
    )
