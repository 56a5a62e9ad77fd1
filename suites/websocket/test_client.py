"""The client side: the implementation's ``websocket_connect`` against a wsproto server on
loopback (``conformance.wire.ws_server``). Client frames are masked, a wrong
Sec-WebSocket-Accept is refused, subprotocols and compression are negotiated, and the close
code reaches ``read_message``'s caller.

References: RFC 6455 §4.1 and §5.3 (https://www.rfc-editor.org/rfc/rfc6455#section-5.3);
Tornado docs, websocket_connect and WebSocketClientConnection.
"""

from __future__ import annotations

import pytest
from wsproto.extensions import PerMessageDeflate

from conformance import Level, Violation, check, requires
from conformance.wire.ws_server import WebSocketServer

pytestmark = [pytest.mark.websocket, requires("ioloop", "websocket")]


@check("RFC 6455 §5.1, §5.3", Level.MUST)
async def test_client_masks_every_frame(impl, ioloop, conformance_timeout):
    """RFC 6455 §5.1: "a client MUST mask all frames that it sends to the server (see Section
    5.3 for further details)". The client sends a text, a binary message and a close frame;
    each is read as it was on the wire."""
    websocket = impl.part("websocket")
    async with await WebSocketServer.listen(conformance_timeout) as kit:

        async def server_side(conn):
            await conn.accept()
            messages = []
            try:
                messages.append(await conn.receive_message())
                messages.append(await conn.receive_message())
                await conn.wait_closed()
            except Violation:
                pass  # wsproto refuses unmasked frames; the raw frames below tell why
            return messages

        async def client_side():
            client = await websocket.websocket_connect(kit.url("/"))
            await client.write_message("masked text")
            await client.write_message(b"masked bytes", binary=True)
            client.close(1000)

        talk = await kit.converse(server_side, client_side, ioloop.call)
        conn = kit.connections[0]
        frames = conn.frames()
    unmasked = [hex(f.opcode) for f in frames if not f.masked]
    if not frames or unmasked or talk.kit != ["masked text", b"masked bytes"]:
        raise Violation(
            "the implementation's client sent unmasked frames (or not the messages it was given): every client "
            "frame is masked.",
            expected="['masked text', b'masked bytes'] in masked frames only",
            observed=f"{talk.kit!r} in frames with opcodes {[hex(f.opcode) for f in frames]}, unmasked: {unmasked}",
            transcript=conn.transcript,
        )


@check("RFC 6455 §4.1", Level.MUST)
async def test_client_refuses_a_wrong_sec_websocket_accept(impl, ioloop, conformance_timeout):
    """RFC 6455 §4.1: "If the response lacks a |Sec-WebSocket-Accept| header field or the
    |Sec-WebSocket-Accept| contains a value other than the base64-encoded SHA-1 of the
    concatenation of the |Sec-WebSocket-Key| (as a string, not base64-decoded) with the string
    "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" ..., the client MUST _Fail the WebSocket
    Connection_." Here ``websocket_connect`` must fail."""
    websocket = impl.part("websocket")
    async with await WebSocketServer.listen(conformance_timeout) as kit:

        async def server_side(conn):
            await conn.receive_request()
            await conn.respond_raw(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
            )

        async def client_side():
            client = await websocket.websocket_connect(kit.url("/"))
            client.close()
            return "connected"

        talk = await kit.converse(server_side, client_side, ioloop.call)
    if talk.impl_error is None:
        raise Violation(
            "the kit's server answered the handshake with a Sec-WebSocket-Accept computed from another key "
            "(RFC 6455's sample), and the client accepted it.",
            expected="websocket_connect fails",
            observed="websocket_connect returned a connection",
            transcript=kit.connections[0].transcript,
        )


@check("Tornado docs: websocket_connect; RFC 6455 §4.1", Level.TORNADO)
@requires(features=["websocket_connect_subprotocols"])
async def test_client_offers_its_subprotocols_and_exposes_the_selected_one(impl, ioloop, conformance_timeout):
    """Tornado docs, websocket_connect: "``subprotocols`` may be a list of strings specifying
    proposed subprotocols. The selected protocol may be found on the ``selected_subprotocol``
    attribute of the connection object". RFC 6455 §4.1: the client sends them in
    |Sec-WebSocket-Protocol| "ordered by preference" (the field itself is a MAY: offering
    them is Tornado's API, not an RFC requirement)."""
    websocket = impl.part("websocket")
    async with await WebSocketServer.listen(conformance_timeout) as kit:

        async def server_side(conn):
            request = await conn.receive_request()
            await conn.accept(subprotocol="chat.v1")
            await conn.wait_closed()
            return list(request.subprotocols)

        async def client_side():
            client = await websocket.websocket_connect(kit.url("/"), subprotocols=["chat.v2", "chat.v1"])
            selected = client.selected_subprotocol
            client.close(1000)
            return selected

        talk = await kit.converse(server_side, client_side, ioloop.call)
    if talk.kit != ["chat.v2", "chat.v1"] or talk.impl != "chat.v1":
        raise Violation(
            "websocket_connect(subprotocols=['chat.v2', 'chat.v1']) did not offer them in order, or did not expose "
            "chat.v1, the one the server selected.",
            expected="offered ['chat.v2', 'chat.v1'], selected_subprotocol='chat.v1'",
            observed=f"offered {talk.kit!r}, selected_subprotocol={talk.impl!r} (error: {talk.impl_error!r})",
            transcript=kit.connections[0].transcript,
        )


@check("Tornado docs: websocket_connect; RFC 7692 §5, §7.2", Level.TORNADO)
async def test_client_negotiates_compression_and_round_trips_compressed_messages(impl, ioloop, conformance_timeout):
    """Tornado docs, websocket_connect: "``compression_options`` is interpreted in the same way
    as the return value of WebSocketHandler.get_compression_options". RFC 7692 §5: the client
    offers permessage-deflate; once the server accepts, messages are compressed (§7.2). The
    RFC lets an endpoint offer no extension and send a message uncompressed after all; that
    the client offers it and compresses is Tornado's documented choice."""
    websocket = impl.part("websocket")
    text = "compress me " * 200
    async with await WebSocketServer.listen(conformance_timeout) as kit:

        async def server_side(conn):
            request = await conn.receive_request()
            await conn.accept(extensions=[PerMessageDeflate()])
            await conn.send_text(text)
            echoed = await conn.receive_message()
            await conn.wait_closed()
            return ", ".join(str(e) for e in request.extensions), echoed

        async def client_side():
            client = await websocket.websocket_connect(kit.url("/"), compression_options={})
            message = await client.read_message()
            await client.write_message(message)
            client.close(1000)

        talk = await kit.converse(server_side, client_side, ioloop.call)
    offer, echoed = talk.kit
    compressed = [f for f in kit.connections[0].frames() if f.opcode == 0x1 and f.rsv & 0b100]
    if "permessage-deflate" not in (offer or "") or echoed != text or not compressed:
        raise Violation(
            "websocket_connect(compression_options={}) did not offer permessage-deflate, or did not compress once "
            "the server agreed to it.",
            expected="an offer of permessage-deflate, then the compressed text echoed intact in a compressed frame",
            observed=f"Sec-WebSocket-Extensions {offer!r}, then the text echoed "
            f"{'intact' if echoed == text else 'changed'} in {'a compressed' if compressed else 'an uncompressed'} "
            "frame",
            transcript=kit.connections[0].transcript,
        )


@check("Tornado docs: WebSocketClientConnection.read_message, close_code", Level.TORNADO)
async def test_client_read_message_returns_none_after_close_with_the_code_and_reason(impl, ioloop, conformance_timeout):
    """Tornado docs, WebSocketClientConnection.read_message: "Reads a message from the
    WebSocket server. ... Returns a future whose result is the message, or None if the
    connection is closed." ``close_code`` and ``close_reason`` hold the server's close frame."""
    websocket = impl.part("websocket")
    async with await WebSocketServer.listen(conformance_timeout) as kit:

        async def server_side(conn):
            await conn.accept()
            await conn.send_text("last message")
            return await conn.close(4002, "kit closes")

        async def client_side():
            client = await websocket.websocket_connect(kit.url("/"))
            try:
                first = await client.read_message()
                second = await client.read_message()
                return first, second, client.close_code, client.close_reason
            finally:
                client.close()  # the server closed first; this releases the client's side too

        talk = await kit.converse(server_side, client_side, ioloop.call)
    expected = ("last message", None, 4002, "kit closes")
    if talk.impl != expected or talk.kit.dropped:
        raise Violation(
            "the server sent 'last message', then closed with 4002 'kit closes'; the client's read_message results, "
            "close_code and close_reason (or its answer to the close) are not what Tornado documents.",
            expected=f"{expected!r}, and a close frame in answer",
            observed=f"{talk.impl!r} (error: {talk.impl_error!r}), and {talk.kit.describe()}",
            transcript=kit.connections[0].transcript,
        )


@check("Tornado docs: WebSocketClientConnection.close; RFC 6455 §5.5.1", Level.TORNADO)
async def test_client_close_sends_its_code_and_reason(impl, ioloop, conformance_timeout):
    """Tornado docs, WebSocketClientConnection.close: "Closes the websocket connection.
    ``code`` and ``reason`` are documented under WebSocketHandler.close" (they reach the peer
    in the close frame)."""
    websocket = impl.part("websocket")
    async with await WebSocketServer.listen(conformance_timeout) as kit:

        async def server_side(conn):
            await conn.accept()
            return await conn.wait_closed()

        async def client_side():
            client = await websocket.websocket_connect(kit.url("/"))
            client.close(4003, "client closes")
            return await client.read_message()

        talk = await kit.converse(server_side, client_side, ioloop.call)
    if talk.kit.dropped or (talk.kit.code, talk.kit.reason) != (4003, "client closes"):
        raise Violation(
            "the client's close(4003, 'client closes') did not reach the kit's server.",
            expected="a close frame with code 4003 and reason 'client closes'",
            observed=talk.kit.describe(),
            transcript=kit.connections[0].transcript,
        )
