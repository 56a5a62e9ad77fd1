"""Application.listen passes the bind_sockets keywords on (address, reuse_port).

Reference: Tornado docs, Application.listen
(https://www.tornadoweb.org/en/stable/web.html#tornado.web.Application.listen) and
TCPServer.listen, and the Tornado 6.2.0 release notes, tornado.web.

Rule: the kit holds a listening socket with SO_REUSEPORT on a free port; the application can
then listen on that same port only if ``reuse_port=True`` reached ``bind_sockets``. The kit's
socket is closed as soon as the application listens, so every connection reaches the
application.
"""

from __future__ import annotations

import inspect
import socket
import types

import pytest

from conformance import Level, Violation, check, not_provided, requires

pytestmark = [pytest.mark.lifecycle, requires("web", "httpserver")]


@check("Tornado 6.2.0 release notes (tornado.web); Tornado docs: Application.listen, TCPServer.listen", Level.TORNADO)
async def test_application_listen_passes_reuse_port_and_address_to_bind_sockets(impl, server, http):
    """Application.listen: "Keyword arguments not supported by HTTPServer.listen are passed to
    the HTTPServer constructor" (changed in 6.2: "Added support for new keyword arguments in
    TCPServer.listen, including reuse_port"). The 6.2.0 release notes: "Application.listen now
    supports more arguments to pass through to netutil.bind_sockets."
    ``app.listen(port, address='127.0.0.1', reuse_port=True)`` binds a port another socket
    holds with SO_REUSEPORT, and the application answers there."""
    if not hasattr(socket, "SO_REUSEPORT"):
        pytest.skip("the platform has no SO_REUSEPORT")
    web = impl.part("web")
    if "reuse_port" not in inspect.signature(web.Application.listen).parameters:
        not_provided(f"{impl.name}'s Application.listen takes no reuse_port (before Tornado 6.2)")

    class Hello(web.RequestHandler):
        def get(self):
            self.write("listening")

    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    started = []

    def listen():
        app = web.Application([("/", Hello)])
        started.append(app.listen(port, address="127.0.0.1", reuse_port=True))

    try:
        try:
            server.call(listen)
        except Exception as exc:  # what the implementation raised is the verdict
            raise Violation(
                f"Application.listen({port}, address='127.0.0.1', reuse_port=True) failed while another socket holds "
                "the port with SO_REUSEPORT: reuse_port did not reach bind_sockets.",
                expected="the application listens on the shared port",
                observed=f"{type(exc).__name__}: {exc}",
            ) from None
    finally:
        holder.close()
    try:
        response = await http.request(types.SimpleNamespace(host="127.0.0.1", port=port), "GET", "/")
    finally:
        for httpserver in started:
            server.call(httpserver.stop)
    if not (response.status == 200 and response.body == b"listening"):
        raise Violation(
            "the application started with Application.listen(..., reuse_port=True) did not answer on its port.",
            expected="200 with b'listening'",
            observed=f"{response.describe()} with {response.body[:60]!r}",
        )
