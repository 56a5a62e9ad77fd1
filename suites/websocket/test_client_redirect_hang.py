"""The client's opening handshake answered with a redirect: ``websocket_connect`` comes to a
verdict (it raises, since it does not follow redirects) instead of waiting forever.

References: RFC 6455 §4.1 (https://www.rfc-editor.org/rfc/rfc6455#section-4.1); Tornado 6.1.0
release notes (tornado.websocket); Tornado docs, websocket_connect
(https://www.tornadoweb.org/en/stable/websocket.html#tornado.websocket.websocket_connect).
"""

from __future__ import annotations

import datetime
from typing import Any

import anyio
import anyio.to_thread
import pytest

from conformance import Level, Timeout, Violation, check, requires
from conformance.wire.ws_server import WebSocketServer

from ._support import answer_the_handshake_with_a_redirect

pytestmark = [pytest.mark.websocket, requires("ioloop", "websocket", "gen")]


class _Pending:
    """Marks a ``websocket_connect`` future still unresolved when the check's bound expired."""


async def _within(impl: Any, awaitable: Any, seconds: float) -> Any:
    """``awaitable``'s result, or `_Pending` when ``gen.with_timeout`` cut it off after
    ``seconds``: the wait is the check's own, on the implementation's loop, so a client that
    never decides ends in a verdict and the loop stays usable."""
    try:
        return await impl.part("gen").with_timeout(datetime.timedelta(seconds=seconds), awaitable)
    except Exception as exc:
        if isinstance(exc, TimeoutError) or type(exc).__name__ == "TimeoutError":
            return _Pending
        raise


@check("RFC 6455 §4.1; Tornado 6.1.0 release notes (tornado.websocket); Tornado docs: websocket_connect", Level.TORNADO)
@pytest.mark.parametrize(
    "status",
    ["301 Moved Permanently", "302 Found", "307 Temporary Redirect", "308 Permanent Redirect"],
    ids=["301", "302", "307", "308"],
)
async def test_client_comes_to_a_verdict_on_a_redirect(impl, ioloop, conformance_timeout, status):
    """RFC 6455 §4.1: "If the status code received from the server is not 101, the client
    handles the response per HTTP procedures. In particular, the client might perform
    authentication if it receives a 401 status code; the server might redirect the client
    using a 3xx status code (but clients are not required to follow them)". The 6.1 release
    notes, in short: ``websocket_connect`` now raises an error on a redirect where it used to
    hang. The kit answers the handshake with a complete 3xx response (a Location on the same
    server, ``Content-Length: 0``) and keeps the connection open: within half the kit's
    deadline ``websocket_connect`` has raised (or, following the redirect, returned), never
    left its future pending."""
    websocket = impl.part("websocket")
    bound = conformance_timeout / 2
    async with await WebSocketServer.listen(conformance_timeout) as kit:
        outcome: list[Any] = []

        async def client_side() -> Any:
            client = await _within(impl, websocket.websocket_connect(kit.url("/")), bound)
            if client is not _Pending:
                client.close()
            return client

        async with anyio.create_task_group() as tg:
            tg.start_soon(answer_the_handshake_with_a_redirect, kit, status, kit.url("/moved"))
            try:
                outcome.append(await anyio.to_thread.run_sync(ioloop.call, client_side))
            except Exception as exc:
                outcome.append(exc)
            tg.cancel_scope.cancel()
        transcript = kit.connections[0].transcript if kit.connections else None
    if isinstance(outcome[0], Timeout):
        raise outcome[0]  # the kit's own deadline (a wedged loop) is no verdict of the client
    if outcome[0] is _Pending:
        raise Violation(
            f"websocket_connect neither raised nor returned within {bound:g}s after the kit answered the opening "
            f"handshake with a complete {status} (Location, Content-Length: 0): its future is left pending, so the "
            "caller waits forever.",
            expected="websocket_connect raises at once (Tornado does not follow redirects)",
            observed=f"still pending after {bound:g}s",
            transcript=transcript,
        )
