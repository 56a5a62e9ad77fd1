"""The client's ``resolver`` argument: ``websocket_connect`` looks the URL's host and port up
with the resolver it is given (Tornado 6.3), so an ``OverrideResolver`` can send it to
another address than the URL names.

References: Tornado 6.3.0 release notes (tornado.websocket,
https://www.tornadoweb.org/en/stable/releases/v6.3.0.html); Tornado docs, websocket_connect
and netutil.OverrideResolver (https://www.tornadoweb.org/en/stable/netutil.html).
"""

from __future__ import annotations

import inspect

import pytest

from conformance import Level, Violation, check, not_provided, requires
from conformance.wire.ws_server import WebSocketServer

from .test_client_api import _bounded

pytestmark = [pytest.mark.websocket, requires("ioloop", "websocket", "gen", "netutil")]

#: A port nothing listens on (tcpmux): a client that ignores the resolver is refused at once.
_UNSERVED_PORT = 1


@check("Tornado 6.3.0 release notes (tornado.websocket); Tornado docs: websocket_connect (resolver)", Level.TORNADO)
async def test_client_connects_where_its_resolver_says(impl, ioloop, conformance_timeout):
    """Tornado 6.3.0 release notes: "websocket_connect now accepts a resolver parameter."
    netutil.OverrideResolver: "Resolver that redirects the connection to another address"
    (its mapping takes (host, port) pairs). The URL names 127.0.0.1 on a port where nothing
    listens; the resolver maps that pair to the kit's server, which the client reaches and
    exchanges a message with."""
    websocket = impl.part("websocket")
    netutil = impl.part("netutil")
    if "resolver" not in inspect.signature(websocket.websocket_connect).parameters:
        not_provided("websocket_connect(resolver=...) (Tornado >= 6.3)")
    async with await WebSocketServer.listen(conformance_timeout) as kit:
        url = f"ws://127.0.0.1:{_UNSERVED_PORT}/resolved"
        mapping = {("127.0.0.1", _UNSERVED_PORT): ("127.0.0.1", kit.port)}

        async def server_side(conn):
            await conn.accept()
            await conn.send_text("reached through the resolver")
            # Not judged here: how the client closes (its own frames are other checks' matter).
            return conn.request.target if conn.request is not None else None

        async def client_side():
            resolver = netutil.OverrideResolver(resolver=netutil.Resolver(), mapping=mapping)
            client = await websocket.websocket_connect(url, resolver=resolver)
            try:
                return await _bounded(impl, client.read_message(), conformance_timeout)
            finally:
                client.close(1000)

        talk = await kit.converse(server_side, client_side, ioloop.call)
    if talk.impl != "reached through the resolver" or talk.kit != "/resolved":
        raise Violation(
            f"websocket_connect({url!r}, resolver=OverrideResolver(mapping={mapping!r})) did not reach the kit's "
            "server at the address the resolver gave.",
            expected="the handshake for /resolved at the kit's server, then the message 'reached through the resolver'",
            observed=f"the kit saw target {talk.kit!r}; the client read {talk.impl!r} (error: {talk.impl_error!r})",
            transcript=kit.connections[0].transcript if kit.connections else "",
        )
