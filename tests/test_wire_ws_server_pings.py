"""The kit's WebSocket server (``conformance.wire.ws_server``) and the client's pings:
``receive_ping`` returns each ping's payload in turn (keeping the messages on the way), and
with ``answer_pings = False`` the pings are recorded but never answered. Both halves are the
kit's own (wsproto on either side), as in tests/test_wire.py."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from conformance.errors import ProtocolViolation
from conformance.wire.ws import WebSocketConnection
from conformance.wire.ws_server import ServerConnection, WebSocketServer

LONG = 5.0  #: never reached when the test passes


async def _pair(server_side: Any, client_side: Any) -> tuple[Any, Any]:
    results: dict[str, Any] = {}
    async with await WebSocketServer.listen(LONG) as kit, anyio.create_task_group() as tg:

        async def serve() -> None:
            results["server"] = await server_side(await kit.accept())

        tg.start_soon(serve)
        async with await WebSocketConnection.open(kit.host, kit.port, "/", timeout=LONG) as client:
            results["client"] = await client_side(client)
    return results.get("server"), results.get("client")


def test_receive_ping_returns_each_payload_and_keeps_messages() -> None:
    async def server(conn: ServerConnection) -> list[Any]:
        await conn.accept()
        got = [await conn.receive_ping(), await conn.receive_ping(), await conn.receive_message()]
        await conn.send_text("done")
        return got

    async def client(conn: WebSocketConnection) -> list[Any]:
        await conn.ping(b"one")
        await conn.send_text("between")
        await conn.ping(b"two")
        message = await conn.receive_message()  # the pongs arrive on the way
        return [message, list(conn.pongs)]

    server_got, client_got = anyio.run(_pair, server, client)
    assert server_got == [b"one", b"two", "between"]
    assert client_got == ["done", [b"one", b"two"]]


def test_pings_are_recorded_but_not_answered_when_answer_pings_is_false() -> None:
    async def server(conn: ServerConnection) -> list[bytes]:
        conn.answer_pings = False
        await conn.accept()
        await conn.receive_message()
        await conn.send_text("done")
        return list(conn.pings)

    async def client(conn: WebSocketConnection) -> list[Any]:
        await conn.ping(b"unanswered")
        await conn.send_text("after the ping")
        return [await conn.receive_message(), list(conn.pongs)]

    server_got, client_got = anyio.run(_pair, server, client)
    assert server_got == [b"unanswered"]
    assert client_got == ["done", []]


def test_receive_ping_fails_when_the_client_closes_instead() -> None:
    async def server(conn: ServerConnection) -> str:
        await conn.accept()
        with pytest.raises(ProtocolViolation, match="expected a ping"):
            await conn.receive_ping()
        return "raised"

    async def client(conn: WebSocketConnection) -> None:
        await conn.close(1000)

    server_got, _ = anyio.run(_pair, server, client)
    assert server_got == "raised"
