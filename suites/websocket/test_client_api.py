"""The client's API in depth: ``websocket_connect`` and ``WebSocketClientConnection`` against
the kit's wsproto server (``conformance.wire.ws_server``). Messages reach
``on_message_callback`` and ``read_message`` (its callback too) in order, then None at the
close; what the client writes, pings and closes with reaches the server as sent; its
``ping_interval``, ``ping_timeout``, ``max_message_size``, ``compression_options``,
``subprotocols`` and request headers do what the documentation says; a handshake answered
with anything but 101 (an error, a success, a redirect) opens no connection.

References: RFC 6455 §4.1, §5.5, §7 (https://www.rfc-editor.org/rfc/rfc6455);
Tornado docs, websocket_connect and WebSocketClientConnection
(https://www.tornadoweb.org/en/stable/websocket.html#client-side-support).
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import anyio
import anyio.to_thread
import pytest

from conformance import Level, Timeout, Violation, check, not_provided, requires
from conformance.wire.ws import ConnectionClosedError
from conformance.wire.ws_server import ServerConnection, WebSocketServer

from ._support import answer_the_handshake_with_a_redirect

pytestmark = [pytest.mark.websocket, requires("ioloop", "websocket", "gen")]

_TEXT, _BINARY = 0x1, 0x2


class NotDelivered(Exception):
    """What the client was awaited for did not come within the check's bound (see `_bounded`)."""


async def _bounded(impl: Any, awaitable: Any, timeout: float) -> Any:
    """``awaitable`` cut off after half the kit's deadline (``gen.with_timeout``), so that a
    client that never delivers what the check waits for ends in a verdict, not a wedged loop.
    The cut-off is raised as `NotDelivered`: a TimeoutError leaving the loop would read as
    the loop's own deadline."""
    try:
        return await impl.part("gen").with_timeout(datetime.timedelta(seconds=timeout / 2), awaitable)
    except Exception as exc:
        if isinstance(exc, TimeoutError) or type(exc).__name__ == "TimeoutError":
            raise NotDelivered(f"nothing within {timeout / 2:g}s") from None
        raise


def _shown(messages: Any) -> str:
    return repr(messages) if len(repr(messages)) <= 200 else repr(messages)[:200] + "..."


# -- receiving ------------------------------------------------------------------------

_SEQUENCES = {
    "texts": ["one", "two", "three"],
    "binaries": [b"\x00\x01", b"\xff\xfe\xfd", b""],
    "mixed": ["text", b"\x80binary", "caf\u00e9"],
}


async def _send_all(conn: ServerConnection, messages: list[Any]) -> None:
    for message in messages:
        if isinstance(message, str):
            await conn.send_text(message)
        else:
            await conn.send_bytes(message)


@check("Tornado docs: websocket_connect (on_message_callback)", Level.TORNADO)
@pytest.mark.parametrize("sequence", list(_SEQUENCES))
async def test_client_on_message_callback_receives_every_message_then_none(impl, ioloop, conformance_timeout, sequence):
    """Tornado docs, websocket_connect: "In the callback style, pass an
    ``on_message_callback`` to ``websocket_connect``. In both styles, a message of ``None``
    indicates that the connection has been closed." The server sends three messages, then
    closes; the callback sees each, in order and with its type, then None."""
    websocket = impl.part("websocket")
    concurrent = impl.part("concurrent")
    messages = _SEQUENCES[sequence]
    async with await WebSocketServer.listen(conformance_timeout) as kit:

        async def server_side(conn):
            await conn.accept()
            await _send_all(conn, messages)
            return await conn.close(1000)

        async def client_side():
            seen: list[Any] = []
            ended = concurrent.Future()

            def on_message(message):
                seen.append(message)
                if message is None and not ended.done():
                    ended.set_result(None)

            client = await websocket.websocket_connect(kit.url("/"), on_message_callback=on_message)
            try:
                await _bounded(impl, ended, conformance_timeout)
            except Exception as exc:
                return seen, f"{type(exc).__name__}"
            finally:
                client.close()
            return seen, None

        talk = await kit.converse(server_side, client_side, ioloop.call)
    seen, error = talk.impl if talk.impl is not None else (None, repr(talk.impl_error))
    if seen != [*messages, None]:
        raise Violation(
            "the server sent three messages, then closed; on_message_callback did not receive each of them in "
            "order, then None.",
            expected=_shown([*messages, None]),
            observed=f"{_shown(seen)}" + (f" (then the wait for None ended with {error})" if error else ""),
            transcript=kit.connections[0].transcript,
        )


@check("Tornado docs: WebSocketClientConnection.read_message", Level.TORNADO)
@pytest.mark.parametrize("moment", ["message", "close"])
async def test_client_read_message_callback_receives_the_future(impl, ioloop, conformance_timeout, moment):
    """Tornado docs, read_message: "Returns a future whose result is the message, or None if
    the connection is closed. If a callback argument is given it will be called with the
    future when it is ready." The callback is called once, with a future whose result is the
    server's message (message), or None after the server closed (close)."""
    websocket = impl.part("websocket")
    concurrent = impl.part("concurrent")
    async with await WebSocketServer.listen(conformance_timeout) as kit:

        async def server_side(conn):
            await conn.accept()
            if moment == "message":
                await conn.send_text("for the callback")
                return await conn.wait_closed()
            return await conn.close(1000)

        async def client_side():
            called = concurrent.Future()
            arguments: list[Any] = []

            def callback(argument):
                arguments.append(argument)
                if not called.done():
                    called.set_result(None)

            client = await websocket.websocket_connect(kit.url("/"))
            try:
                client.read_message(callback=callback)
                await _bounded(impl, called, conformance_timeout)
            finally:
                client.close()
            given = arguments[0]
            if not (hasattr(given, "result") and hasattr(given, "done")):
                return len(arguments), f"not a future: {given!r}"
            return len(arguments), given.result()

        talk = await kit.converse(server_side, client_side, ioloop.call)
    want = "for the callback" if moment == "message" else None
    if talk.impl != (1, want):
        raise Violation(
            "read_message(callback=...) did not call the callback once with a future holding "
            + ("the server's message." if moment == "message" else "None once the server closed."),
            expected=f"one call, with a future whose result is {want!r}",
            observed=f"(calls, result) = {talk.impl!r}" if talk.impl else f"the client raised {talk.impl_error!r}",
            transcript=kit.connections[0].transcript,
        )


@check("RFC 6455 §5.4; Tornado docs: WebSocketClientConnection.read_message", Level.MUST)
@pytest.mark.parametrize("shape", ["fragmented-text", "fragmented-binary", "ping-between-fragments"])
async def test_client_reassembles_fragmented_messages(impl, ioloop, conformance_timeout, shape):
    """RFC 6455 §5.4: "The fragments of one message MUST NOT be interleaved between the
    fragments of another message unless an extension has been negotiated"; "Control frames
    (see Section 5.5) MAY be injected in the middle of a fragmented message." A message the
    server sends in three frames (a ping between two of them in ping-between-fragments)
    reaches ``read_message`` whole, followed by the next message."""
    websocket = impl.part("websocket")
    parts: list[Any] = [b"\x00ab", b"cd", b"ef\xff"] if shape == "fragmented-binary" else ["ab", "cd", "ef"]
    whole = b"".join(parts) if shape == "fragmented-binary" else "".join(parts)
    async with await WebSocketServer.listen(conformance_timeout) as kit:

        async def fragments_server(conn):
            await conn.accept()
            await conn.send_fragments(parts)
            await conn.send_text("next")
            return await conn.wait_closed()

        async def client_side():
            client = await websocket.websocket_connect(kit.url("/"))
            try:
                return [
                    await _bounded(impl, client.read_message(), conformance_timeout),
                    await _bounded(impl, client.read_message(), conformance_timeout),
                ]
            finally:
                client.close()

        server_side = _interleaved_ping_server if shape == "ping-between-fragments" else fragments_server
        talk = await kit.converse(server_side, client_side, ioloop.call)
    if talk.impl != [whole, "next"]:
        raise Violation(
            f"the server sent {whole!r} in three frames"
            + (" with a ping between the first two" if shape == "ping-between-fragments" else "")
            + ", then 'next'; read_message did not return the message whole, then 'next'.",
            expected=repr([whole, "next"]),
            observed=repr(talk.impl) if talk.impl is not None else f"the client raised {talk.impl_error!r}",
            transcript=kit.connections[0].transcript,
        )


async def _interleaved_ping_server(conn: ServerConnection) -> Any:
    """'ab' (FIN clear), a ping, 'cd' (continuation, FIN clear), 'ef' (FIN), then 'next': raw frames."""
    await conn.accept()
    await conn.send_raw(
        bytes([0x01, 2]) + b"ab" + bytes([0x89, 1]) + b"!" + bytes([0x00, 2]) + b"cd" + bytes([0x80, 2]) + b"ef"
    )
    await conn.send_raw(bytes([0x81, 4]) + b"next")
    return await conn.wait_closed()


# -- sending --------------------------------------------------------------------------

_WRITES: dict[str, tuple[Any, bool, int, Any]] = {
    # case: (argument, binary=, opcode expected, payload the server must receive)
    "text": ("caf\u00e9 \u2615", False, _TEXT, "caf\u00e9 \u2615"),
    "binary": (b"\x00\xff\xfe not utf-8", True, _BINARY, b"\x00\xff\xfe not utf-8"),
    "dict-as-json": ({"a": 1, "b": ["x"]}, False, _TEXT, {"a": 1, "b": ["x"]}),
}


@check("Tornado docs: WebSocketClientConnection.write_message; RFC 6455 §5.6", Level.TORNADO)
@pytest.mark.parametrize("case", list(_WRITES))
async def test_client_write_message_sends_the_frame_its_arguments_call_for(impl, ioloop, conformance_timeout, case):
    """Tornado docs, WebSocketClientConnection.write_message: "Sends a message to the
    WebSocket server"; WebSocketHandler.write_message (the same contract): "The message may
    be either a string or a dict (which will be encoded as json). If the ``binary`` argument
    is false, the message will be sent as utf8; in binary mode any byte string is allowed."
    RFC 6455 §5.6: text frames carry UTF-8 (0x1), binary frames arbitrary bytes (0x2)."""
    websocket = impl.part("websocket")
    argument, binary, opcode, wanted = _WRITES[case]
    async with await WebSocketServer.listen(conformance_timeout) as kit:

        async def server_side(conn):
            await conn.accept()
            try:
                message = await conn.receive_message()
            except ConnectionClosedError as ended:
                return f"no message: {ended.closed.describe()}"
            await conn.wait_closed()
            return message

        async def client_side():
            client = await websocket.websocket_connect(kit.url("/"))
            try:
                try:
                    sent = client.write_message(argument, binary=binary)
                except TypeError:
                    if case == "dict-as-json":
                        return "no dict"
                    raise
                if sent is not None:
                    await _bounded(impl, sent, conformance_timeout)
            finally:
                client.close(1000)

        talk = await kit.converse(server_side, client_side, ioloop.call)
        frames = kit.connections[0].frames()
    if talk.impl == "no dict":
        not_provided("WebSocketClientConnection.write_message(dict) (Tornado >= 6.2)")
    received = talk.kit
    if case == "dict-as-json" and isinstance(received, str):
        try:
            received = json.loads(received)
        except ValueError:
            pass
    first = frames[0].opcode if frames else None
    if received != wanted or first != opcode:
        raise Violation(
            f"write_message({argument!r}, binary={binary}) did not reach the server as "
            + ("a JSON text message." if case == "dict-as-json" else f"{'a binary' if binary else 'a text'} message."),
            expected=f"opcode {opcode:#x} carrying {wanted!r}",
            observed=f"opcode {first:#x} carrying {talk.kit!r}" if first is not None else f"{talk.kit!r}",
            transcript=kit.connections[0].transcript,
        )


_PINGS = {
    "bytes": (b"\x00\x01probe", b"\x00\x01probe"),
    "str": ("h\u00e9", "h\u00e9".encode()),
    "125-bytes": (b"p" * 125, b"p" * 125),
}


@check("Tornado docs: WebSocketClientConnection.ping; RFC 6455 §5.5.2", Level.TORNADO)
@pytest.mark.parametrize("payload", list(_PINGS))
async def test_client_ping_reaches_the_server_with_its_payload(impl, ioloop, conformance_timeout, payload):
    """Tornado docs, WebSocketClientConnection.ping: "Send ping frame to the remote end. The
    data argument allows a small amount of data (up to 125 bytes) to be sent as a part of the
    ping message." A str is sent as its UTF-8 bytes (Tornado's ``utf8``)."""
    websocket = impl.part("websocket")
    if not hasattr(websocket.WebSocketClientConnection, "ping"):
        not_provided("WebSocketClientConnection.ping (Tornado >= 5.1)")
    argument, wanted = _PINGS[payload]
    async with await WebSocketServer.listen(conformance_timeout) as kit:

        async def server_side(conn):
            await conn.accept()
            got = await conn.receive_ping()
            await conn.wait_closed()
            return got

        async def client_side():
            client = await websocket.websocket_connect(kit.url("/"))
            try:
                client.ping(argument)
            finally:
                client.close(1000)

        talk = await kit.converse(server_side, client_side, ioloop.call)
    if talk.kit != wanted:
        raise Violation(
            f"the client's ping({argument!r}) did not reach the server with that payload.",
            expected=repr(wanted),
            observed=repr(talk.kit),
            transcript=kit.connections[0].transcript,
        )


@check("RFC 6455 §5.5.2, §5.5.3", Level.MUST)
@pytest.mark.parametrize("payload", [b"payload \x00\xff", b"p" * 125], ids=["bytes", "125-bytes"])
async def test_client_answers_server_pings_with_their_payload(impl, ioloop, conformance_timeout, payload):
    """RFC 6455 §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
    response"; §5.5.3: "A Pong frame sent in response to a Ping frame must have identical
    "Application data" as found in the message body of the Ping frame being replied to." The
    server pings the open client and reads the pong."""
    websocket = impl.part("websocket")
    async with await WebSocketServer.listen(conformance_timeout) as kit:

        async def server_side(conn):
            await conn.accept()
            await conn.ping(payload)
            pong = await conn.receive_pong()
            await conn.send_text("done")
            await conn.wait_closed()
            return pong

        async def client_side():
            client = await websocket.websocket_connect(kit.url("/"))
            try:
                return await _bounded(impl, client.read_message(), conformance_timeout)
            finally:
                client.close(1000)

        talk = await kit.converse(server_side, client_side, ioloop.call)
    if talk.kit != payload:
        raise Violation(
            f"the server pinged with {payload!r}; the client's pong did not carry the same payload.",
            expected=repr(payload),
            observed=repr(talk.kit),
            transcript=kit.connections[0].transcript,
        )


# -- keep-alive, limits, compression --------------------------------------------------


@check("Tornado docs: websocket_connect (ping_interval); WebSocketHandler.ping_interval", Level.TORNADO)
async def test_client_ping_interval_sends_pings(impl, ioloop, conformance_timeout):
    """Tornado docs, websocket_connect: "Added the ``ping_interval``, ``ping_timeout``, and
    ``max_message_size`` arguments, which have the same meaning as in WebSocketHandler";
    ping_interval: "If this is non-zero, the websocket will send a ping every ping_interval
    seconds." The server waits for a ping (answering it), then sends a message that ends the
    client's wait. ``ping_timeout`` keeps its default: the message follows the pong at once,
    so the check does not depend on how fast a loaded machine answers."""
    websocket = impl.part("websocket")
    async with await WebSocketServer.listen(conformance_timeout) as kit:

        async def server_side(conn):
            await conn.accept()
            await conn.receive_ping()
            await conn.send_text("ping seen")
            await conn.wait_closed()
            return list(conn.pings)

        async def client_side():
            client = await websocket.websocket_connect(kit.url("/"), ping_interval=0.02)
            try:
                return await _bounded(impl, client.read_message(), conformance_timeout)
            finally:
                client.close(1000)

        talk = await kit.converse(server_side, client_side, ioloop.call)
    if talk.impl != "ping seen" or not talk.kit:
        raise Violation(
            "with ping_interval=0.02 the client did not send a ping.",
            expected="a ping, then the client reads 'ping seen'",
            observed=f"pings {talk.kit!r}, then the client read {talk.impl!r} (error: {talk.impl_error!r})",
            transcript=kit.connections[0].transcript,
        )


@check("Tornado docs: websocket_connect (ping_timeout); WebSocketHandler.ping_timeout", Level.TORNADO)
async def test_client_ping_timeout_closes_a_server_that_never_answers(impl, ioloop, conformance_timeout):
    """Tornado docs, ping_timeout: "If the ping is not answered within this many seconds, the
    websocket will be closed." The server records the client's pings and never answers them;
    the client closes the connection and its ``read_message`` returns None."""
    websocket = impl.part("websocket")
    async with await WebSocketServer.listen(conformance_timeout) as kit:

        async def server_side(conn):
            conn.answer_pings = False
            await conn.accept()
            closed = await conn.wait_closed()
            await conn.aclose()  # RFC 6455 §7.1.1: the server closes TCP first, which ends the client's wait
            return list(conn.pings), closed

        async def client_side():
            client = await websocket.websocket_connect(kit.url("/"), ping_interval=0.01, ping_timeout=0.01)
            try:
                return await _bounded(impl, client.read_message(), conformance_timeout)
            finally:
                client.close()

        talk = await kit.converse(server_side, client_side, ioloop.call)
    pings, closed = talk.kit
    if not pings or talk.impl is not None or talk.impl_error is not None:
        raise Violation(
            "with ping_interval=0.01 and ping_timeout=0.01, the client did not ping, then close the connection "
            "to a server that never answers, ending read_message with None.",
            expected="a ping, the connection closed, read_message -> None",
            observed=f"pings {pings!r}, then {closed.describe()}; read_message -> {talk.impl!r} "
            f"(error: {talk.impl_error!r})",
            transcript=kit.connections[0].transcript,
        )


_LIMIT = 1024


@check("Tornado docs: websocket_connect (max_message_size); WebSocketHandler.max_message_size", Level.TORNADO)
@pytest.mark.parametrize("size", [_LIMIT, _LIMIT + 1], ids=["at-limit", "over-limit"])
async def test_client_max_message_size_closes_with_1009_above_it_only(impl, ioloop, conformance_timeout, size):
    """Tornado docs, max_message_size: "Maximum allowed message size. If the remote peer
    sends a message larger than this, the connection will be closed." RFC 6455 §7.4.1:
    "1009 indicates that an endpoint is terminating the connection because it has received a
    message that is too big for it to process." With ``max_message_size=1024`` a message of
    1024 bytes is delivered (at-limit) and one of 1025 closes the connection with 1009
    (over-limit)."""
    websocket = impl.part("websocket")
    async with await WebSocketServer.listen(conformance_timeout) as kit:

        async def server_side(conn):
            await conn.accept()
            await conn.send_text("x" * size)
            closed = await conn.wait_closed()
            await conn.aclose()  # RFC 6455 §7.1.1: the server closes TCP first, which ends the client's wait
            return closed

        async def client_side():
            client = await websocket.websocket_connect(kit.url("/"), max_message_size=_LIMIT)
            try:
                message = await _bounded(impl, client.read_message(), conformance_timeout)
                return None if message is None else len(message)
            finally:
                client.close(1000)

        talk = await kit.converse(server_side, client_side, ioloop.call)
    closed = talk.kit
    if size <= _LIMIT:
        ok = talk.impl == size and closed.code != 1009
        expected = f"the message of {size} bytes delivered (and no close with 1009)"
    else:
        ok = talk.impl is None and talk.impl_error is None and not closed.dropped and closed.code == 1009
        expected = "a close frame with code 1009, read_message -> None"
    if not ok:
        raise Violation(
            f"with max_message_size={_LIMIT} the server sent a text message of {size} bytes; the client "
            + ("refused a message within its limit." if size <= _LIMIT else "did not close with 1009."),
            expected=expected,
            observed=f"read_message -> {'None' if talk.impl is None else f'a message of {talk.impl} bytes'}, "
            f"then {closed.describe()} (error: {talk.impl_error!r})",
            transcript=kit.connections[0].transcript,
        )


@check("Tornado docs: websocket_connect (compression_options); RFC 7692 §5, §6", Level.TORNADO)
@pytest.mark.parametrize("case", ["not-offered-without-options", "declined-offer-sends-uncompressed"])
async def test_client_compresses_only_what_was_offered_and_agreed(impl, ioloop, conformance_timeout, case):
    """Tornado docs, websocket_connect: "``compression_options`` is interpreted in the same
    way as the return value of WebSocketHandler.get_compression_options", whose default
    (None) means "compression will not be enabled": without it the client offers no
    permessage-deflate (not-offered-without-options). RFC 7692 §6: a message is compressed
    only "If permessage-deflate is negotiated"; when the server answers the offer without the
    extension, the client's frames have RSV1 clear (declined-offer-sends-uncompressed, a
    MUST of RFC 6455 §5.2: "If a nonzero value is received and none of the negotiated
    extensions defines the meaning of such a nonzero value, the receiving endpoint MUST
    _Fail the WebSocket Connection_")."""
    websocket = impl.part("websocket")
    text = "compressible " * 100
    options = None if case == "not-offered-without-options" else {}
    async with await WebSocketServer.listen(conformance_timeout) as kit:

        async def server_side(conn):
            request = await conn.receive_request()
            await conn.accept()  # no extension in the answer
            message = await conn.receive_message()
            await conn.wait_closed()
            return ", ".join(str(e) for e in request.extensions), conn.header("Sec-WebSocket-Extensions"), message

        async def client_side():
            client = await websocket.websocket_connect(kit.url("/"), compression_options=options)
            try:
                sent = client.write_message(text)
                if sent is not None:
                    await _bounded(impl, sent, conformance_timeout)
            finally:
                client.close(1000)

        talk = await kit.converse(server_side, client_side, ioloop.call)
        frames = kit.connections[0].frames()
    offered, header, message = talk.kit
    compressed = [f for f in frames if f.opcode == _TEXT and f.rsv & 0b100]
    if case == "not-offered-without-options":
        ok = "permessage-deflate" not in (offered or "") and "permessage-deflate" not in (header or "")
        expected = "no Sec-WebSocket-Extensions offer of permessage-deflate"
    else:
        ok = "permessage-deflate" in (offered or "") and not compressed and message == text
        expected = "an offer of permessage-deflate, then (declined) the text in a frame with RSV1 clear"
    if not ok:
        raise Violation(
            f"websocket_connect(compression_options={options!r}) "
            + (
                "offered permessage-deflate."
                if options is None
                else "compressed a message the server never agreed to compress."
            ),
            expected=expected,
            observed=f"Sec-WebSocket-Extensions {header!r}; {len(compressed)} compressed text frame(s)",
            transcript=kit.connections[0].transcript,
        )


# -- the opening handshake ------------------------------------------------------------

_HEADERS = {"custom": ("X-Conformance-Probe", "probe 1"), "origin": ("Origin", "https://app.example")}


@check("Tornado docs: websocket_connect (HTTPRequest); RFC 6455 §4.1", Level.TORNADO)
@pytest.mark.parametrize("header", list(_HEADERS))
@requires("httpclient")
async def test_client_sends_the_headers_of_its_httprequest(impl, ioloop, conformance_timeout, header):
    """Tornado docs, websocket_connect: "Also accepts ``HTTPRequest`` objects in place of
    urls"; its headers go with the opening handshake. RFC 6455 §4.1: "The request MAY
    include any other header fields, for example, cookies"; |Origin| is sent by browser
    clients and MAY be sent by others (§4.1 item 8)."""
    websocket = impl.part("websocket")
    httpclient = impl.part("httpclient")
    name, value = _HEADERS[header]
    async with await WebSocketServer.listen(conformance_timeout) as kit:

        async def server_side(conn):
            await conn.receive_request()
            seen = conn.header(name)
            await conn.accept()
            await conn.wait_closed()
            return seen

        async def client_side():
            request = httpclient.HTTPRequest(kit.url("/"), headers={name: value})
            client = await websocket.websocket_connect(request)
            client.close(1000)

        talk = await kit.converse(server_side, client_side, ioloop.call)
    if talk.kit != value:
        raise Violation(
            f"websocket_connect(HTTPRequest(url, headers={{{name!r}: {value!r}}})) did not send that header "
            "with the opening handshake.",
            expected=f"{name}: {value}",
            observed=f"{name}: {talk.kit}" if talk.kit is not None else f"no {name} field",
            transcript=kit.connections[0].transcript,
        )


@check(
    "Tornado docs: websocket_connect (subprotocols), WebSocketClientConnection.selected_subprotocol; RFC 6455 §4.1",
    Level.TORNADO,
)
@pytest.mark.parametrize("case", ["server-selects-none", "none-offered"])
@requires(features=["websocket_connect_subprotocols"])
async def test_client_subprotocol_is_none_unless_the_server_selects_one(impl, ioloop, conformance_timeout, case):
    """Tornado docs: "The selected protocol may be found on the ``selected_subprotocol``
    attribute", "The subprotocol selected by the server". RFC 6455 §4.1: the client sends
    |Sec-WebSocket-Protocol| only "if present" in its request (a list of one or more
    values); §4.2.2: without one selected "the server MUST NOT send back a
    |Sec-WebSocket-Protocol| header field". The client offers two the server does not take
    (server-selects-none: selected_subprotocol is None), or offers none (none-offered: no
    field in the request, selected_subprotocol None)."""
    websocket = impl.part("websocket")
    offered = ["chat.v2", "chat.v1"] if case == "server-selects-none" else None
    async with await WebSocketServer.listen(conformance_timeout) as kit:

        async def server_side(conn):
            await conn.receive_request()
            field = _request_field(conn, "Sec-WebSocket-Protocol")
            await conn.accept()
            await conn.wait_closed()
            return field

        async def client_side():
            client = await websocket.websocket_connect(kit.url("/"), subprotocols=offered)
            try:
                return client.selected_subprotocol
            finally:
                client.close(1000)

        talk = await kit.converse(server_side, client_side, ioloop.call)
    wanted_field = "chat.v2,chat.v1" if offered else None
    field = talk.kit.replace(" ", "") if talk.kit is not None else None
    if field != wanted_field or talk.impl is not None or talk.impl_error is not None:
        raise Violation(
            f"websocket_connect(subprotocols={offered!r}) against a server that selects none: the request's field "
            "or selected_subprotocol is not what the client offered and the server chose.",
            expected=f"Sec-WebSocket-Protocol {wanted_field!r}, selected_subprotocol None",
            observed=f"Sec-WebSocket-Protocol {talk.kit!r}, selected_subprotocol {talk.impl!r} "
            f"(error: {talk.impl_error!r})",
            transcript=kit.connections[0].transcript,
        )


def _request_field(conn: ServerConnection, name: str) -> str | None:
    """A field of the opening handshake as it was on the wire (repeats joined with ","), or None."""
    head = bytes(conn.received).split(b"\r\n\r\n", 1)[0].decode("latin-1")
    values = [
        line.split(":", 1)[1].strip()
        for line in head.split("\r\n")[1:]
        if ":" in line and line.split(":", 1)[0].strip().lower() == name.lower()
    ]
    return ",".join(values) if values else None


def _upgrade_head(conn: ServerConnection, status: str) -> bytes:
    """A response with every field of a valid upgrade (the right accept token) but ``status``."""
    return (
        f"HTTP/1.1 {status}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {conn.accept_token()}\r\nContent-Length: 0\r\n\r\n"
    ).encode("ascii")


@check("RFC 6455 §4.1 (the client MUST validate the server's response); RFC 9110 §15.2.2", Level.MUST)
@pytest.mark.parametrize(
    "status",
    ["400 Bad Request", "401 Unauthorized", "403 Forbidden", "404 Not Found", "200 OK", "204 No Content"],
    ids=["400", "401", "403", "404", "200", "204"],
)
async def test_client_opens_no_connection_without_101(impl, ioloop, conformance_timeout, status):
    """RFC 6455 §4.1: "The client MUST validate the server's response as follows: 1. If the
    status code received from the server is not 101, the client handles the response per
    HTTP [RFC2616] procedures." §1.3: "Any status code other than 101 indicates that the
    WebSocket handshake has not completed". The kit answers with the status and every other
    field of a valid upgrade (the right Sec-WebSocket-Accept), so only the status tells the
    client no WebSocket was opened: ``websocket_connect`` raises."""
    websocket = impl.part("websocket")
    async with await WebSocketServer.listen(conformance_timeout) as kit:

        async def server_side(conn):
            await conn.receive_request()
            await conn.respond_raw(_upgrade_head(conn, status))
            return None

        async def client_side():
            client = await websocket.websocket_connect(kit.url("/"))
            client.close()
            return "connected"

        talk = await kit.converse(server_side, client_side, ioloop.call)
    if talk.impl_error is None:
        raise Violation(
            f"the kit answered the opening handshake with {status} (with Upgrade, Connection and the right "
            "Sec-WebSocket-Accept), and websocket_connect returned a connection.",
            expected="websocket_connect raises (an HTTP error or a WebSocket error)",
            observed=f"websocket_connect returned {talk.impl!r}",
            transcript=kit.connections[0].transcript,
        )


@check("RFC 6455 §4.1 (a redirect is not required to be followed); Tornado docs: websocket_connect", Level.TORNADO)
@pytest.mark.parametrize(
    "status",
    ["301 Moved Permanently", "302 Found", "307 Temporary Redirect", "308 Permanent Redirect"],
    ids=["301", "302", "307", "308"],
)
async def test_client_does_not_follow_a_redirect(impl, ioloop, conformance_timeout, status):
    """RFC 6455 §4.1: "the server might redirect the client using a 3xx status code (but
    clients are not required to follow them)". Tornado's client does not follow them
    ("Websocket connection is currently unable to follow redirects"; 6.1 release notes:
    "websocket_connect now raises an error when it encounters a redirect instead of
    hanging"). The Location names a second path on the same kit server, which would accept
    the upgrade: ``websocket_connect`` raises and makes no second connection. A client
    still waiting after half the kit's deadline has not refused (Tornado before 6.1 left
    the future pending: ``client_comes_to_a_verdict_on_a_redirect``)."""
    websocket = impl.part("websocket")
    async with await WebSocketServer.listen(conformance_timeout) as kit:
        outcome: list[Any] = []

        async def client_side():
            client = await _bounded(impl, websocket.websocket_connect(kit.url("/")), conformance_timeout)
            client.close()
            return "connected"

        async with anyio.create_task_group() as tg:
            tg.start_soon(answer_the_handshake_with_a_redirect, kit, status, kit.url("/followed"))
            try:
                outcome.append(("returned", await anyio.to_thread.run_sync(ioloop.call, client_side)))
            except Exception as exc:
                outcome.append(("raised", exc))
            tg.cancel_scope.cancel()
        connections = len(kit.connections)
        transcript = kit.connections[0].transcript if kit.connections else None
    kind, value = outcome[0]
    if isinstance(value, Timeout):
        raise value  # the kit's own deadline (a wedged loop) is no verdict of the client
    if isinstance(value, NotDelivered):  # websocket_connect left pending: a hang is no refusal
        kind = "left its future pending:"
    if kind != "raised" or connections != 1:
        raise Violation(
            f"the kit answered the opening handshake with {status} to {kit.url('/followed')}; the client "
            + ("followed it." if connections > 1 else "did not refuse it."),
            expected="websocket_connect raises, one connection only",
            observed=f"websocket_connect {kind} {value!r}, {connections} connection(s)",
            transcript=transcript,
        )


# -- closing --------------------------------------------------------------------------

_CLIENT_CLOSES = {"1000-without-reason": (1000, None), "4000-unicode-reason": (4000, "ferm\u00e9 \u2713")}


@check("Tornado docs: WebSocketClientConnection.close; RFC 6455 §5.5.1", Level.TORNADO)
@pytest.mark.parametrize("case", list(_CLIENT_CLOSES))
async def test_client_close_code_and_reason_reach_the_server(impl, ioloop, conformance_timeout, case):
    """Tornado docs, WebSocketClientConnection.close: "``code`` and ``reason`` are documented
    under WebSocketHandler.close"; there: "``code`` may be a numeric status code, taken from
    the values defined in RFC 6455 section 7.4.1. ``reason`` may be a textual message about
    why the connection is closing." The reason travels as UTF-8 (RFC 6455 §5.5.1)."""
    websocket = impl.part("websocket")
    code, reason = _CLIENT_CLOSES[case]
    async with await WebSocketServer.listen(conformance_timeout) as kit:

        async def server_side(conn):
            await conn.accept()
            return await conn.wait_closed()

        async def client_side():
            client = await websocket.websocket_connect(kit.url("/"))
            client.close(code, reason)
            return await _bounded(impl, client.read_message(), conformance_timeout)

        talk = await kit.converse(server_side, client_side, ioloop.call)
    if talk.kit.dropped or (talk.kit.code, talk.kit.reason) != (code, reason or ""):
        raise Violation(
            f"the client's close({code}, {reason!r}) did not reach the server.",
            expected=f"a close frame with code {code} and reason {reason or ''!r}",
            observed=talk.kit.describe(),
            transcript=kit.connections[0].transcript,
        )


_SERVER_CLOSES = {"going-away": (1001, "bye"), "unicode-reason": (4001, "ferm\u00e9 \u2713")}


@check("Tornado docs: WebSocketClientConnection.close_code, close_reason", Level.TORNADO)
@pytest.mark.parametrize("case", list(_SERVER_CLOSES))
async def test_client_keeps_the_servers_close_code_and_reason(impl, ioloop, conformance_timeout, case):
    """Tornado docs, WebSocketHandler.on_close (the client's attributes are the same):
    "If the connection was closed cleanly and a status code or reason phrase was supplied,
    these values will be available as the attributes ``self.close_code`` and
    ``self.close_reason``." The server closes with the code and a reason (UTF-8 decoded)."""
    websocket = impl.part("websocket")
    code, reason = _SERVER_CLOSES[case]
    async with await WebSocketServer.listen(conformance_timeout) as kit:

        async def server_side(conn):
            await conn.accept()
            return await conn.close(code, reason)

        async def client_side():
            client = await websocket.websocket_connect(kit.url("/"))
            try:
                message = await _bounded(impl, client.read_message(), conformance_timeout)
                return message, client.close_code, client.close_reason
            finally:
                client.close()

        talk = await kit.converse(server_side, client_side, ioloop.call)
    if talk.impl != (None, code, reason):
        raise Violation(
            f"the server closed with {code} {reason!r}; read_message, close_code and close_reason do not say so.",
            expected=repr((None, code, reason)),
            observed=f"(read_message, close_code, close_reason) = {talk.impl!r} (error: {talk.impl_error!r})",
            transcript=kit.connections[0].transcript,
        )


@check("Tornado docs: websocket_connect, WebSocketClientConnection.read_message", Level.TORNADO)
@pytest.mark.parametrize("style", ["read-message", "on-message-callback"])
async def test_client_reports_a_dropped_connection_as_none(impl, ioloop, conformance_timeout, style):
    """Tornado docs, websocket_connect: "In both styles, a message of ``None`` indicates
    that the connection has been closed"; read_message: "Returns a future whose result is the
    message, or None if the connection is closed." The server sends a message, then drops
    TCP without a close frame: the client delivers the message, then None, and has no close
    code (no close frame carried one)."""
    websocket = impl.part("websocket")
    concurrent = impl.part("concurrent")
    async with await WebSocketServer.listen(conformance_timeout) as kit:

        async def server_side(conn):
            await conn.accept()
            await conn.send_text("before the drop")
            await conn.aclose()

        async def client_side():
            if style == "read-message":
                client = await websocket.websocket_connect(kit.url("/"))
                try:
                    seen = [
                        await _bounded(impl, client.read_message(), conformance_timeout),
                        await _bounded(impl, client.read_message(), conformance_timeout),
                    ]
                finally:
                    client.close()
                return seen, client.close_code
            seen = []
            ended = concurrent.Future()

            def on_message(message):
                seen.append(message)
                if message is None and not ended.done():
                    ended.set_result(None)

            client = await websocket.websocket_connect(kit.url("/"), on_message_callback=on_message)
            try:
                await _bounded(impl, ended, conformance_timeout)
            except Exception as exc:
                seen.append(type(exc).__name__)
            finally:
                client.close()
            return seen, client.close_code

        talk = await kit.converse(server_side, client_side, ioloop.call)
    if talk.impl != (["before the drop", None], None):
        raise Violation(
            "the server sent a message, then dropped TCP without a close frame; the client did not deliver the "
            f"message, then None ({style}), with close_code None.",
            expected="(['before the drop', None], close_code None)",
            observed=repr(talk.impl) if talk.impl is not None else f"the client raised {talk.impl_error!r}",
            transcript=kit.connections[0].transcript,
        )


@check("Tornado docs: WebSocketClientConnection.write_message", Level.TORNADO)
@pytest.mark.parametrize("closer", ["client", "server"])
async def test_client_write_message_after_close_raises(impl, ioloop, conformance_timeout, closer):
    """Tornado docs, WebSocketClientConnection.write_message: "If the stream is closed,
    raises WebSocketClosedError." The connection is closed by the client's own ``close()``
    (client) or by the server, seen as read_message returning None (server); then
    ``write_message`` raises WebSocketClosedError, or returns a future that fails with it."""
    websocket = impl.part("websocket")
    closed_error = websocket.WebSocketClosedError
    async with await WebSocketServer.listen(conformance_timeout) as kit:

        async def server_side(conn):
            await conn.accept()
            if closer == "server":
                return await conn.close(1000)
            return await conn.wait_closed()

        async def client_side():
            client = await websocket.websocket_connect(kit.url("/"))
            if closer == "client":
                client.close(1000)
            else:
                await _bounded(impl, client.read_message(), conformance_timeout)
            try:
                sent = client.write_message("too late")
                if sent is not None:
                    await _bounded(impl, sent, conformance_timeout)
            except closed_error:
                return "WebSocketClosedError"
            except Exception as exc:
                return f"{type(exc).__name__}: {exc}"
            finally:
                client.close()
            return "written"

        talk = await kit.converse(server_side, client_side, ioloop.call)
    if talk.impl != "WebSocketClosedError":
        raise Violation(
            f"after the {closer} closed the connection, the client's write_message did not raise "
            "WebSocketClosedError (a caller would believe the message sent).",
            expected="WebSocketClosedError",
            observed=talk.impl if talk.impl is not None else repr(talk.impl_error),
            transcript=kit.connections[0].transcript,
        )
