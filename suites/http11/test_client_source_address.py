"""The client side, the source address: ``HTTPRequest(network_interface=...)`` binds the connection.

The kit's scripted server (fixture ``h11_server``) listens on 127.0.0.1 and records the peer
address of each connection; the implementation's client is asked to connect from 127.0.0.2
(on Linux every 127.0.0.0/8 address is a loopback address, no configuration needed).

References: Tornado docs, HTTPRequest (``network_interface``)
(https://www.tornadoweb.org/en/stable/httpclient.html#tornado.httpclient.HTTPRequest);
Tornado 6.0.0 release notes, ``tornado.simple_httpclient``
(https://www.tornadoweb.org/en/stable/releases/v6.0.0.html).
"""

from __future__ import annotations

import socket

import anyio.abc
import pytest

from conformance import Level, Violation, check, requires

pytestmark = [pytest.mark.http11, requires("httpclient")]

SOURCE = "127.0.0.2"


def _can_bind(address: str) -> bool:
    probe = socket.socket()
    try:
        probe.bind((address, 0))
    except OSError:
        return False
    finally:
        probe.close()
    return True


@check(
    "Tornado 6.0.0 release notes (tornado.simple_httpclient); Tornado docs: HTTPRequest (network_interface)",
    Level.TORNADO,
)
async def test_client_connects_from_the_network_interface_it_was_given(h11_server):
    """Tornado docs, HTTPRequest: "``network_interface`` -- Network interface or source IP to
    use for request." Tornado 6.0.0 release notes: "The default HTTP client now supports the
    ``network_interface`` request argument to specify the source IP for the connection." The
    kit's server sees the connection come from that address."""
    if not _can_bind(SOURCE):
        pytest.skip(f"this host cannot bind {SOURCE} (127.0.0.0/8 is all loopback on Linux only)")
    peers: list[str] = []

    async def respond(request, conn):
        peers.append(str(conn.stream.extra(anyio.abc.SocketAttribute.remote_address)[0]))
        await conn.respond(200, [("Content-Type", "text/plain")], b"seen")

    origin = await h11_server.listen(respond)
    fetched = await h11_server.fetch(origin.url("/from"), network_interface=SOURCE)
    if peers != [SOURCE] or fetched.code != 200:
        raise Violation(
            f"the request with network_interface={SOURCE!r} did not come from that address: the option names "
            "the source IP of the connection.",
            expected=f"one connection from {SOURCE}, then a 200 response",
            observed=f"connections from {peers}; {fetched.describe()}",
            transcript=h11_server.transcripts(),
        )
