"""The client going away, and request bodies streamed into the handler.

Reference: Tornado docs, RequestHandler.on_connection_close and data_received, and
tornado.web.stream_request_body (https://www.tornadoweb.org/en/stable/web.html#entry-points).

Rule of this module: the client waits for what the handler recorded (``Trace.wait_for``) before
its next step, so every step of the exchange is ordered without a sleep.
"""

from __future__ import annotations

import pytest

from conformance import Level, Trace, Violation, check, requires

pytestmark = [pytest.mark.lifecycle, requires("web", "httpserver", "locks")]


@check("Tornado docs: RequestHandler.on_connection_close", Level.TORNADO)
async def test_on_connection_close_is_called_once_and_only_for_the_request_in_progress(impl, server, http):
    """RequestHandler.on_connection_close: "Called in async handlers if the client closed the
    connection ... Note that this method is called only if the connection was closed during
    asynchronous processing; if you need to do cleanup after every request override on_finish
    instead." On one keep-alive connection, a request that completed is not told when the client
    leaves later; the request still in progress is told, once."""
    web = impl.part("web")
    locks = impl.part("locks")
    trace = Trace()

    class Handler(web.RequestHandler):
        def initialize(self):
            self.gone = locks.Event()

        async def get(self, name):
            if name == "wait":
                trace.add(f"/{name}: get waits for the client to leave")
                await self.gone.wait()
                trace.add(f"/{name}: get resumed")
            else:
                trace.add(f"/{name}: get")

        def on_connection_close(self):
            trace.add(f"{self.request.path}: on_connection_close")
            self.gone.set()

        def on_finish(self):
            trace.add(f"{self.request.path}: on_finish")

    srv = server.serve([("/(done|wait)", Handler)])
    conn = await http.connect(srv)
    response = await conn.request("GET", "/done")
    if response.status != 200:
        raise Violation("GET /done failed.", expected="200", observed=response.describe())
    await conn.send_request("GET", "/wait")
    trace.wait_for_event("/wait: get waits for the client to leave", http.timeout, "call get() for the second request")
    await conn.aclose()
    trace.wait_for_event("/wait: on_finish", http.timeout, "finish GET /wait once the client closed the connection")
    server.barrier()  # a second, erroneous on_connection_close scheduled meanwhile is recorded too
    trace.assert_equal(
        [
            "/done: get",
            "/done: on_finish",
            "/wait: get waits for the client to leave",
            "/wait: on_connection_close",
            "/wait: get resumed",
            "/wait: on_finish",
        ],
        "the client closed the connection while GET /wait was waiting: its on_connection_close must run once, "
        "and that of GET /done (completed earlier on the same connection) never. The hooks ran:",
    )


def _streaming_handler(web, trace):
    @web.stream_request_body
    class Upload(web.RequestHandler):
        def prepare(self):
            trace.add("prepare")

        def data_received(self, chunk):
            trace.add(f"data_received({chunk!r})")

        def post(self):
            trace.add("post")
            self.write("stored")

        def on_connection_close(self):
            trace.add("on_connection_close")
            super().on_connection_close()

        def on_finish(self):
            trace.add("on_finish")

    return Upload


def _head(srv, length: int) -> bytes:
    return f"POST /upload HTTP/1.1\r\nHost: {srv.host}:{srv.port}\r\nContent-Length: {length}\r\n\r\n".encode()


@check("Tornado docs: tornado.web.stream_request_body", Level.TORNADO)
async def test_streamed_body_reaches_data_received_in_order_between_prepare_and_the_method(impl, server, http):
    """tornado.web.stream_request_body: "Apply to RequestHandler subclasses to enable streaming body
    support. This decorator implies the following changes: ... prepare() is called when the
    request headers have been read instead of after the entire body has been read. The subclass
    must define a method data_received(self, data):, which will be called zero or more times as
    data is available. ... The regular HTTP method (post, put, etc) will be called after the
    entire body has been read." """
    web = impl.part("web")
    trace = Trace()
    srv = server.serve([("/upload", _streaming_handler(web, trace))])
    parts = [b"first ", b"second ", b"third"]
    async with await http.connect(srv) as conn:
        await conn.send(_head(srv, sum(map(len, parts))))
        trace.wait_for(1, http.timeout, "call prepare() once the request head was read")
        for i, part in enumerate(parts, start=2):
            await conn.send(part)
            trace.wait_for(i, http.timeout, f"call data_received() with the body part {part!r} sent")
        response = await conn.receive_response("POST")
    server.barrier()
    trace.add(f"{response.status} {response.body!r}")
    trace.assert_equal(
        ["prepare", *(f"data_received({p!r})" for p in parts), "post", "on_finish", "200 b'stored'"],
        "the client sent the head, then each body part after the handler had seen the previous step: prepare() "
        "must run on the head, data_received() on each part in order, post() after the whole body. The hooks "
        "(and the response, last row) were:",
    )


@check("Tornado docs: tornado.web.stream_request_body; RequestHandler.on_connection_close", Level.TORNADO)
async def test_disconnect_in_the_middle_of_a_streamed_body_reaches_the_handler(impl, server, http):
    """RequestHandler.on_connection_close: "Called in async handlers if the client closed the
    connection." A streaming handler is asynchronous while it waits for its body: when the client
    leaves halfway, on_connection_close runs, and the HTTP method (which is "called after the
    entire body has been read") never does."""
    web = impl.part("web")
    trace = Trace()
    srv = server.serve([("/upload", _streaming_handler(web, trace))])
    conn = await http.connect(srv)
    await conn.send(_head(srv, 1000) + b"only a part")
    trace.wait_for(2, http.timeout, "call prepare() and data_received() for the first part of the body")
    await conn.aclose()
    trace.wait_for(3, http.timeout, "call on_connection_close when the client left in the middle of the body")
    server.barrier()
    trace.assert_equal(
        ["prepare", "data_received(b'only a part')", "on_connection_close"],
        "the client sent 11 of 1000 announced body bytes, then closed the connection: the handler must be told "
        "(on_connection_close) and post() must not run. The hooks ran:",
    )
