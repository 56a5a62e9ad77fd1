"""An ``HTTPServer`` whose request callback is a ``tornado.routing`` router: a request no
rule matches is answered 404 (Not Found).

Reference: Tornado docs, ``tornado.routing`` (https://www.tornadoweb.org/en/stable/routing.html:
``Router.find_handler`` "Must return an instance of HTTPMessageDelegate ... or None, meaning
that the request cannot be routed") and the Tornado 5.0.0 release notes (``tornado.routing``).
"""

from __future__ import annotations

import socket
from types import SimpleNamespace
from typing import Any

import pytest

from conformance import Level, Violation, check, requires

pytestmark = [pytest.mark.lifecycle, requires("web", "httpserver", "routing")]


@check("Tornado docs: routing.Router.find_handler; Tornado 5.0.0 release notes (tornado.routing)", Level.TORNADO)
async def test_request_no_rule_matches_is_answered_404(impl, server, http):
    """Tornado docs, ``Router.find_handler``: it returns a delegate "or None, meaning that the
    request cannot be routed"; Tornado 5.0.0 release notes: "A default 404 response is now
    generated if no delegate is found for a request." An ``HTTPServer`` serving a
    ``RuleRouter`` whose only rule matches ``/here`` answers ``GET /nowhere`` with 404 and
    goes on to serve the request pipelined behind it."""
    web, routing, httpserver = impl.part("web"), impl.part("routing"), impl.part("httpserver")

    class Here(web.RequestHandler):
        def get(self):
            self.write(b"here")

    def start() -> tuple[Any, Any]:
        router = routing.RuleRouter([routing.Rule(routing.PathMatches("/here"), web.Application([("/here", Here)]))])
        srv = httpserver.HTTPServer(router)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        sock.setblocking(False)
        srv.add_sockets([sock])
        return srv, SimpleNamespace(host="127.0.0.1", port=sock.getsockname()[1])

    def stop(srv: Any) -> Any:
        srv.stop()
        return srv.close_all_connections()

    srv, address = server.call(start)
    try:
        async with await http.connect(address) as conn:
            await conn.send_request("GET", "/nowhere")
            await conn.send_request("GET", "/here")
            missing = await conn.response_or_close("GET")
            if missing is None or missing.status != 404:
                raise Violation(
                    "a request no rule of the RuleRouter matches was not answered 404.",
                    expected="404 Not Found",
                    observed="the connection closed without a response" if missing is None else missing.describe(),
                    transcript=conn.transcript,
                )
            here = await conn.response_or_close("GET") if missing.keep_alive else None
            if missing.keep_alive and (here is None or here.body != b"here"):
                raise Violation(
                    "the request pipelined behind the unrouted one was not served.",
                    expected="200 OK with b'here'",
                    observed="the connection closed" if here is None else f"{here.describe()} with {here.body!r}",
                    transcript=conn.transcript,
                )
    finally:
        server.call(stop, srv)
