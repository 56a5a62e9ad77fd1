"""The WebSocketHandler API, method by method: on_ping and on_pong with their payloads, ping()
and its 125-byte limit, the Future of write_message (flow control, failure once the peer is
gone), dicts sent as JSON, binary=True, compression options, close(code, reason) and its
limit, close_code after a server-initiated close, select_subprotocol with nothing offered,
methods other than GET, prepare() ending the request, set_nodelay, the default and the
configured max_message_size, ping_interval kept, exceptions in open(), and a ping flood.

References: Tornado docs, tornado.websocket.WebSocketHandler
(https://www.tornadoweb.org/en/stable/websocket.html); RFC 6455 §5.5 and §7.4
(https://www.rfc-editor.org/rfc/rfc6455#section-5.5).
"""

from __future__ import annotations

import contextlib
import json
import struct
from typing import Any

import anyio
import pytest
from wsproto.extensions import PerMessageDeflate

from conformance import Level, ProtocolViolation, Trace, Violation, check, not_provided, requires
from conformance.wire.ws import BINARY, CLOSE, CONTINUATION, PING, ConnectionClosedError, WebSocketConnection, frame
from conformance.wire.ws_server import parse_frames

from ._support import describe_message, dropped, handshake_fields, how_it_ended, text_payload

pytestmark = [pytest.mark.websocket, requires("web", "httpserver", "websocket")]

#: The default of ``websocket_max_message_size`` (Tornado docs, max_message_size: "Default is 10MiB").
TEN_MIB = 10 * 1024 * 1024

#: Larger than what loopback TCP buffers hold (send buffer at most 4 MiB here, the receive
#: buffer of a connection that has read nothing about 128 KiB): writing it cannot complete
#: until the peer reads.
UNBUFFERABLE = 16 * 1024 * 1024


def _received_frames(conn: WebSocketConnection) -> list[Any]:
    """The frames the implementation sent after its 101, as they were on the wire."""
    received = b"".join(d for way, d in conn.transcript.entries if way == "<<" and isinstance(d, bytes))
    return parse_frames(received.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in received else b"")


def _zero_masked(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    """A client frame with the masking key 0 (RFC 6455 §5.3 allows any key; 0 leaves the
    payload as is), so megabytes are framed without XOR-ing them in Python."""
    length = len(payload)
    first = (0x80 if fin else 0) | opcode
    if length < 126:
        head = struct.pack("!BB", first, 0x80 | length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", first, 0x80 | 126, length)
    else:
        head = struct.pack("!BBQ", first, 0x80 | 127, length)
    return head + b"\0\0\0\0" + payload


# -- on_ping, on_pong and ping() ------------------------------------------------------------

PING_PAYLOADS = [
    pytest.param(b"", id="empty"),
    pytest.param(b"\x00\xff\xfe not UTF-8", id="binary-not-utf8"),
    pytest.param(bytes(range(125)), id="125-bytes"),
]


@check("Tornado docs: WebSocketHandler.on_ping; RFC 6455 §5.5.2", Level.TORNADO)
@pytest.mark.parametrize("payload", PING_PAYLOADS)
async def test_on_ping_receives_the_ping_payload(impl, server, ws, payload):
    """Tornado docs, on_ping: "Invoked when the a ping frame is received." (with its data).
    RFC 6455 §5.5.2: "A Ping frame MAY include "Application data"." The ping is followed by a
    text that is echoed: frames are handled in order, so on_ping has run by then."""
    websocket = impl.part("websocket")
    if not hasattr(websocket.WebSocketHandler, "on_ping"):
        not_provided(f"{impl.name}'s WebSocketHandler has no on_ping")
    pings = Trace()

    class Handler(websocket.WebSocketHandler):
        def on_ping(self, data):
            pings.add(data)

        def on_message(self, message):
            self.write_message(message)

    srv = server.serve([("/ws", Handler)])
    async with await ws.open(srv, "/ws") as conn:
        await conn.ping(payload)
        await conn.send_text("after the ping")
        await conn.receive_message()
    server.barrier()
    if pings.events != [payload]:
        raise Violation(
            f"the client sent a ping with {len(payload)} bytes of application data, then a text that was echoed: "
            "on_ping is called once, with the ping's data as bytes.",
            expected=f"on_ping calls [{payload!r}]",
            observed=f"on_ping calls {pings.events!r}",
            transcript=conn.transcript,
        )


PING_ARGUMENTS = [
    pytest.param((b"\x00\x01binary\xff",), b"\x00\x01binary\xff", id="bytes"),
    pytest.param(("caf\u00e9 \u2615",), "caf\u00e9 \u2615".encode(), id="str-sent-as-utf8"),
    pytest.param((), b"", id="no-argument"),
]


@check("Tornado docs: WebSocketHandler.ping, on_pong; RFC 6455 §5.5.3", Level.TORNADO)
@pytest.mark.parametrize(("args", "wire"), PING_ARGUMENTS)
async def test_ping_payload_reaches_the_peer_and_returns_to_on_pong_as_bytes(impl, server, ws, args, wire):
    """Tornado docs, WebSocketHandler.ping: "Send ping frame to the remote end. The data
    argument allows a small amount of data (up to 125 bytes) to be sent as a part of the
    ping message" (a str is sent as UTF-8; "The data argument is now optional" since 5.1).
    on_pong: "Invoked when the response to a ping frame is received"; RFC 6455 §5.5.3: the
    pong carries the ping's data, which on_pong receives as bytes."""
    websocket = impl.part("websocket")
    pongs = Trace()

    class Pinger(websocket.WebSocketHandler):
        def on_message(self, message):
            self.ping(*args)

        def on_pong(self, data):
            pongs.add(data)
            self.write_message("pong seen")

    srv = server.serve([("/ws", Pinger)])
    async with await ws.open(srv, "/ws") as conn:
        await conn.send_text("ping me")
        try:
            await conn.receive_message()  # wsproto answers the ping on the way
        except ConnectionClosedError as exc:
            raise Violation(
                f"the handler called self.ping({', '.join(map(repr, args))}) and the connection ended.",
                expected=f"a ping with {wire!r}, then the message 'pong seen'",
                observed=f"pings {conn.pings!r}, then {how_it_ended(exc.closed)}",
                transcript=conn.transcript,
            ) from None
    if conn.pings != [wire] or pongs.events != [wire]:
        raise Violation(
            f"the handler called self.ping({', '.join(map(repr, args))}) and the client answered the ping: the ping "
            "frame carries the data (a str as UTF-8, none as empty), and on_pong receives the pong's data as bytes.",
            expected=f"pings [{wire!r}], on_pong calls [{wire!r}]",
            observed=f"pings {conn.pings!r}, on_pong calls {pongs.events!r}",
            transcript=conn.transcript,
        )


OVERSIZED_PINGS = [
    pytest.param(b"x" * 126, id="126-bytes"),
    pytest.param("\u00e9" * 63, id="63-two-byte-characters"),
]


@check("RFC 6455 §5.5; Tornado docs: WebSocketHandler.ping (ValueError is what Tornado does)", Level.TORNADO)
@pytest.mark.parametrize("data", OVERSIZED_PINGS)
async def test_ping_over_125_bytes_is_refused_with_value_error(impl, server, ws, data):
    """RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less".
    Tornado docs, ping: the data may be "up to 125 bytes"; Tornado raises ValueError for
    more, and sends nothing. 63 two-byte characters are 126 bytes in UTF-8 (the limit is
    in bytes, not characters). The connection stays usable."""
    websocket = impl.part("websocket")
    outcome = Trace()

    class Pinger(websocket.WebSocketHandler):
        def on_message(self, message):
            try:
                self.ping(data)
            except ValueError:
                outcome.add("ValueError")
            except Exception as exc:
                outcome.add(type(exc).__name__)
            else:
                outcome.add("no exception")
            self.write_message("after the ping")

    srv = server.serve([("/ws", Pinger)])
    async with await ws.open(srv, "/ws") as conn:
        await conn.send_text("ping me")
        try:
            reply: Any = await conn.receive_message()
        except ConnectionClosedError as exc:
            reply = how_it_ended(exc.closed)
        except ProtocolViolation as exc:
            reply = f"a frame wsproto refused ({exc})"
    size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
    if outcome.events != ["ValueError"] or conn.pings or reply != "after the ping":
        raise Violation(
            f"the handler called self.ping() with {size} bytes of data: a control frame carries at most 125, so "
            "Tornado raises ValueError and sends no ping, and the connection goes on.",
            expected="ValueError, no ping frame, then the message 'after the ping'",
            observed=f"{outcome.events!r}, pings {[len(p) for p in conn.pings]!r} (sizes), then {reply!r}",
            transcript=conn.transcript,
        )


@check("RFC 6455 §5.5.2, §5.5.3; Tornado docs: WebSocketHandler.on_ping", Level.MUST)
async def test_ping_flood_reaches_on_ping_in_order_and_the_latest_ping_is_answered(impl, server, ws):
    """RFC 6455 §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
    response". §5.5.3: "If an endpoint receives a Ping frame and has not yet sent Pong
    frame(s) in response to previous Ping frame(s), the endpoint MAY elect to send a Pong
    frame for only the most recently processed Ping frame." 50 pings in one write: pongs
    may be fewer (Tornado 6.6 answers only the newest pending one), but they come in order,
    each with a ping's data, the last with the last ping's; on_ping sees all 50 in order."""
    websocket = impl.part("websocket")
    if not hasattr(websocket.WebSocketHandler, "on_ping"):
        not_provided(f"{impl.name}'s WebSocketHandler has no on_ping")
    pings = Trace()

    class Handler(websocket.WebSocketHandler):
        def on_ping(self, data):
            pings.add(bytes(data))

        def on_message(self, message):
            self.write_message(message)

    sent = [f"ping {i:02d}".encode() for i in range(50)]
    srv = server.serve([("/ws", Handler)])
    async with await ws.open(srv, "/ws") as conn:
        await conn.send_raw(b"".join(frame(PING, payload) for payload in sent))
        await conn.send_text("after the flood")
        await conn.receive_message()
        while sent[-1] not in conn.pongs:
            await conn.receive_pong()
    server.barrier()
    pongs = conn.pongs
    positions = [sent.index(p) if p in sent else -1 for p in pongs]
    in_order = -1 not in positions and positions == sorted(set(positions))
    if pings.events != sent or not in_order:
        raise Violation(
            "the client sent 50 pings in one write, then a text: every ping reaches on_ping in order, and the pongs "
            "answer pings in order (only the newest pending one may be answered), the last one the last ping.",
            expected="on_ping saw b'ping 00'..b'ping 49'; pongs an increasing subsequence ending with b'ping 49'",
            observed=f"on_ping saw {len(pings.events)} pings ({pings.events[:3]!r}...); pongs {pongs!r}",
        )


# -- write_message ------------------------------------------------------------------------------


def _writer(websocket: Any, outcome: Trace) -> type:
    """A handler that, asked by any message, writes UNBUFFERABLE bytes and records the fate
    of the Future write_message returned: "resolved" or the name of its exception."""

    class Writer(websocket.WebSocketHandler):
        def on_message(self, message):
            future = self.write_message(bytes(UNBUFFERABLE), binary=True)

            def done(f):
                exc = f.exception()
                outcome.add("resolved" if exc is None else type(exc).__name__)

            future.add_done_callback(done)
            outcome.add("written")

    return Writer


async def _read_raw(conn: WebSocketConnection, size: int) -> int:
    """Read ``size`` bytes straight from the socket (no transcript: megabytes); how many came."""
    got = 0
    with anyio.move_on_after(conn.timeout):
        while got < size:
            try:
                got += len(await conn.stream.receive(1 << 20))
            except (anyio.EndOfStream, anyio.BrokenResourceError, ConnectionError):
                break
    return got


@check("Tornado docs: WebSocketHandler.write_message ('a Future which can be used for flow control')", Level.TORNADO)
async def test_write_message_future_resolves_once_the_peer_has_taken_the_message(impl, server, ws):
    """Tornado docs, write_message: "Returns a `.Future` which can be used for flow
    control." A message of 16 MiB cannot all leave while the client reads nothing (loopback
    buffers hold a few MiB): its Future is pending then, and resolves once the client has
    read it all. A Future that resolves at once gives no flow control."""
    websocket = impl.part("websocket")
    outcome = Trace()
    srv = server.serve([("/ws", _writer(websocket, outcome))])
    async with await ws.open(srv, "/ws") as conn:
        await conn.send_text("write")
        outcome.wait_for_event("written", ws.timeout, "call write_message")
        server.barrier()
        server.barrier()  # a Future resolved at once has run its callbacks by now
        before = outcome.events
        got = await _read_raw(conn, UNBUFFERABLE + 10)
        after = outcome.wait_for(2, ws.timeout, "resolve the write_message Future once the client read everything")
    if before != ["written"] or after != ["written", "resolved"] or got < UNBUFFERABLE + 10:
        raise Violation(
            "the handler wrote a 16 MiB binary message while the client read nothing: its Future stays pending until "
            "the message has left (flow control), then resolves.",
            expected="pending before the client read; resolved after it read 16 MiB",
            observed=f"{before[1:] or 'pending'} before the client read; {after[1:]} after it read {got} bytes",
        )


@check("Tornado docs: WebSocketHandler.write_message (WebSocketClosedError, 5.0)", Level.TORNADO)
async def test_write_message_future_fails_with_websocket_closed_error_when_the_peer_drops(impl, server, ws):
    """Tornado docs, write_message: "If the connection is already closed, raises
    `WebSocketClosedError`"; "Consistently raises `WebSocketClosedError`. Previously could
    sometimes raise `.StreamClosedError`" (5.0, whose notes say so for "when the connection
    closes during the write"). The client drops TCP while 16 MiB are still being written:
    the Future fails with WebSocketClosedError."""
    websocket = impl.part("websocket")
    outcome = Trace()
    srv = server.serve([("/ws", _writer(websocket, outcome))])
    conn = await ws.open(srv, "/ws")
    try:
        await conn.send_text("write")
        outcome.wait_for_event("written", ws.timeout, "call write_message")
        server.barrier()
    finally:
        await conn.aclose()
    events = outcome.wait_for(2, ws.timeout, "settle the write_message Future after the peer dropped")
    if events != ["written", "WebSocketClosedError"]:
        raise Violation(
            "the client closed TCP while a 16 MiB message was still being written: the write's Future fails with "
            "WebSocketClosedError.",
            expected=["written", "WebSocketClosedError"],
            observed=events,
        )


@check("Tornado docs: WebSocketHandler.write_message", Level.TORNADO)
async def test_write_message_after_the_handler_closed_raises_websocket_closed_error(impl, server, ws):
    """Tornado docs, write_message: "If the connection is already closed, raises
    `WebSocketClosedError`." Here the handler itself called close() just before (the
    closing handshake started by the server)."""
    websocket = impl.part("websocket")
    outcome = Trace()

    class Handler(websocket.WebSocketHandler):
        def on_message(self, message):
            self.close(1000, "done")
            try:
                self.write_message("after close()")
            except websocket.WebSocketClosedError:
                outcome.add("WebSocketClosedError")
            except Exception as exc:
                outcome.add(type(exc).__name__)
            else:
                outcome.add("no exception")

    srv = server.serve([("/ws", Handler)])
    async with await ws.open(srv, "/ws") as conn:
        await conn.send_text("close now")
        closed = await conn.wait_closed()
    events = outcome.wait_for(1, ws.timeout, "call on_message")
    data = [f.payload for f in _received_frames(conn) if f.opcode in (0x1, 0x2)]
    if events != ["WebSocketClosedError"] or data:
        raise Violation(
            "write_message right after the handler's own close() did not raise WebSocketClosedError as Tornado "
            "documents for a closed connection (and nothing may follow a close frame, RFC 6455 §5.5.1).",
            expected="WebSocketClosedError, no data frame",
            observed=f"{events!r}, data frames {data!r}, then {how_it_ended(closed)}",
            transcript=conn.transcript,
        )


DICTS = [
    pytest.param({"a": 1, "b": [True, None, 2.5]}, id="flat"),
    pytest.param({"caf\u00e9": {"nested": ["\u2615", "</script>"]}, "n": -3}, id="nested-unicode"),
]


@check("Tornado docs: WebSocketHandler.write_message", Level.TORNADO)
@pytest.mark.parametrize("document", DICTS)
async def test_write_message_of_a_dict_sends_json_text(impl, server, ws, document):
    """Tornado docs, write_message: "The message may be either a string or a dict (which
    will be encoded as json)." The client receives a text message whose JSON parses back to
    the dict."""
    websocket = impl.part("websocket")

    class Handler(websocket.WebSocketHandler):
        def on_message(self, message):
            self.write_message(document)

    srv = server.serve([("/ws", Handler)])
    async with await ws.open(srv, "/ws") as conn:
        await conn.send_text("send the dict")
        received = await conn.receive_message()
    try:
        parsed = json.loads(received) if isinstance(received, str) else None
    except ValueError:
        parsed = None
    if parsed != document:
        raise Violation(
            "write_message(dict) did not send the dict as a JSON text message.",
            expected=f"a text message parsing to {document!r}",
            observed=describe_message(received),
            transcript=conn.transcript,
        )


BINARY_MESSAGES = [
    pytest.param("caf\u00e9 \u2615", "caf\u00e9 \u2615".encode(), id="str"),
    pytest.param({"k": "v"}, b'{"k": "v"}', id="dict"),
]


@check("Tornado docs: WebSocketHandler.write_message", Level.TORNADO)
@pytest.mark.parametrize(("message", "wire"), BINARY_MESSAGES)
async def test_write_message_binary_true_sends_a_binary_message(impl, server, ws, message, wire):
    """Tornado docs, write_message: "If the ``binary`` argument is false, the message will
    be sent as utf8; in binary mode any byte string is allowed." A str (or a dict, as JSON)
    written with binary=True goes out as a binary message of its UTF-8 bytes."""
    websocket = impl.part("websocket")

    class Handler(websocket.WebSocketHandler):
        def on_message(self, _):
            self.write_message(message, binary=True)

    srv = server.serve([("/ws", Handler)])
    async with await ws.open(srv, "/ws") as conn:
        await conn.send_text("send it")
        received = await conn.receive_message()
    if isinstance(message, dict):  # a dict's JSON spacing is the implementation's choice
        try:
            same = isinstance(received, bytes) and json.loads(received) == message
        except ValueError:
            same = False
    else:
        same = received == wire
    if not same:
        raise Violation(
            f"write_message({message!r}, binary=True) did not send a binary message of its UTF-8 bytes.",
            expected=describe_message(wire),
            observed=describe_message(received),
            transcript=conn.transcript,
        )


# -- compression options --------------------------------------------------------------------

COMPRESSION_OPTIONS = [
    pytest.param({"compression_level": 1}, id="level-1"),
    pytest.param({"compression_level": 9, "mem_level": 9}, id="level-9-mem-level-9"),
    pytest.param({"mem_level": 1}, id="mem-level-1"),
    pytest.param({"compression_level": 0}, id="level-0"),
]


@check("Tornado docs: WebSocketHandler.get_compression_options; RFC 7692 §7.2", Level.TORNADO)
@pytest.mark.parametrize("options", COMPRESSION_OPTIONS)
async def test_compression_level_and_mem_level_still_negotiate_and_round_trip(impl, server, ws, options):
    """Tornado docs, get_compression_options: "If it returns a dict (even an empty one), it
    will be enabled. The contents of the dict may be used to control the following
    compression options: ``compression_level`` specifies the compression level.
    ``mem_level`` specifies the amount of memory used for the internal compression state."
    (4.5). With either set, permessage-deflate is still accepted and messages compressed
    both ways come back intact (RFC 7692 §7.2)."""
    websocket = impl.part("websocket")

    class Handler(websocket.WebSocketHandler):
        def get_compression_options(self):
            return dict(options)

        def on_message(self, message):
            self.write_message(message, binary=isinstance(message, bytes))

    srv = server.serve([("/ws", Handler)])
    conn = await ws.connect(srv, "/ws", extensions=[PerMessageDeflate()])
    async with conn:
        assert conn.handshake is not None
        header = handshake_fields(conn).get("sec-websocket-extensions", "") if conn.handshake.accepted else ""
        if "permessage-deflate" not in header:
            raise Violation(
                f"a handler whose get_compression_options returns {options!r} did not accept permessage-deflate.",
                expected="101 with Sec-WebSocket-Extensions: permessage-deflate",
                observed=f"{conn.handshake.status}, Sec-WebSocket-Extensions {header!r}",
                transcript=conn.transcript,
            )
        for sent in (text_payload(5000), text_payload(5000), bytes(range(256)) * 20):
            await (conn.send_text(sent) if isinstance(sent, str) else conn.send_bytes(sent))
            echoed = await conn.receive_message()
            if echoed != sent:
                raise Violation(
                    f"with get_compression_options returning {options!r}, a compressed message did not come back "
                    "intact.",
                    expected=describe_message(sent),
                    observed=describe_message(echoed),
                    transcript=conn.transcript,
                )


@check("Tornado docs: WebSocketHandler.get_compression_options; RFC 7692 §5", Level.TORNADO)
async def test_get_compression_options_returning_none_declines_deflate(impl, server, ws):
    """Tornado docs, get_compression_options: "If this method returns None (the default),
    compression will be disabled." Here it is overridden and returns None explicitly; RFC
    7692 §5: the server declines by leaving the extension out of its response, and
    messages then cross uncompressed (RSV1 clear, RFC 6455 §5.2)."""
    websocket = impl.part("websocket")

    class Handler(websocket.WebSocketHandler):
        def get_compression_options(self):
            return None

        def on_message(self, message):
            self.write_message(message)

    srv = server.serve([("/ws", Handler)])
    async with await ws.open(srv, "/ws", extensions=[PerMessageDeflate()]) as conn:
        header = handshake_fields(conn).get("sec-websocket-extensions")
        await conn.send_text(text_payload(3000))
        await conn.receive_message()
    compressed = [f for f in _received_frames(conn) if f.rsv]
    if header is not None or compressed:
        raise Violation(
            "a handler whose get_compression_options returns None negotiated or used compression.",
            expected="no Sec-WebSocket-Extensions, no frame with RSV1",
            observed=f"Sec-WebSocket-Extensions {header!r}, {len(compressed)} frame(s) with RSV bits",
            transcript=conn.transcript,
        )


# -- close ----------------------------------------------------------------------------------

CLOSE_CALLS = [
    pytest.param((4001,), struct.pack("!H", 4001), id="code-only"),
    pytest.param((None, "reason only"), struct.pack("!H", 1000) + b"reason only", id="reason-only-as-1000"),
    pytest.param((), b"", id="no-arguments"),
    pytest.param((4002, "r" * 123), struct.pack("!H", 4002) + b"r" * 123, id="reason-of-123-bytes"),
    pytest.param((4003, "caf\u00e9 \u2615"), struct.pack("!H", 4003) + "caf\u00e9 \u2615".encode(), id="utf8-reason"),
]


@check("Tornado docs: WebSocketHandler.close; RFC 6455 §5.5.1", Level.TORNADO)
@pytest.mark.parametrize(("args", "body"), CLOSE_CALLS)
async def test_handler_close_sends_exactly_its_code_and_reason(impl, server, ws, args, body):
    """Tornado docs, WebSocketHandler.close: "``code`` may be a numeric status code ...
    ``reason`` may be a textual message about why the connection is closing. These values
    are made available to the client". RFC 6455 §5.5.1: the body is the 2-byte code, then
    the UTF-8 reason; a close frame "MAY contain a body". Tornado sends no body without
    arguments, and 1000 ("normal closure") when only a reason is given (a reason needs a
    code before it); 123 bytes is the longest reason that fits in 125."""
    websocket = impl.part("websocket")

    class Closer(websocket.WebSocketHandler):
        def on_message(self, message):
            self.close(*args)

    srv = server.serve([("/ws", Closer)])
    async with await ws.open(srv, "/ws") as conn:
        await conn.send_text("please close")
        closed = await conn.wait_closed()
    bodies = [f.payload for f in _received_frames(conn) if f.opcode == CLOSE]
    if bodies != [body]:
        raise Violation(
            f"the handler called self.close({', '.join(map(repr, args))}): its close frame carries exactly that code "
            "and reason.",
            expected=f"one close frame with body {body!r}",
            observed=f"close frame bodies {bodies!r} ({how_it_ended(closed)})",
            transcript=conn.transcript,
        )


LONG_REASONS = [
    pytest.param("r" * 124, id="124-bytes"),
    pytest.param("\u00e9" * 62, id="62-two-byte-characters"),
]


@check("RFC 6455 §5.5, §5.5.1; Tornado docs: WebSocketHandler.close (ValueError is what Tornado does)", Level.TORNADO)
@pytest.mark.parametrize("reason", LONG_REASONS)
async def test_close_reason_over_123_bytes_is_refused_with_value_error(impl, server, ws, reason):
    """RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less";
    with the 2-byte code, a reason has at most 123 bytes. Tornado raises ValueError from
    close() and sends nothing (it neither truncates nor sends the frame); the connection
    goes on. 62 two-byte characters are 124 bytes in UTF-8."""
    websocket = impl.part("websocket")
    outcome = Trace()

    class Closer(websocket.WebSocketHandler):
        def on_message(self, message):
            try:
                self.close(4000, reason)
            except ValueError:
                outcome.add("ValueError")
                self.write_message("still open")
            except Exception as exc:
                outcome.add(type(exc).__name__)
            else:
                outcome.add("no exception")

    srv = server.serve([("/ws", Closer)])
    async with await ws.open(srv, "/ws") as conn:
        await conn.send_text("close with a long reason")
        try:
            reply: Any = await conn.receive_message()
        except ConnectionClosedError as exc:
            reply = how_it_ended(exc.closed)
        except ProtocolViolation as exc:
            reply = f"a frame wsproto refused ({exc})"
    events = outcome.wait_for(1, ws.timeout, "call on_message")
    closes = [f.payload for f in _received_frames(conn) if f.opcode == CLOSE]
    if events != ["ValueError"] or reply != "still open":
        raise Violation(
            f"the handler called self.close(4000, reason) with a reason of {len(reason.encode())} bytes: a close "
            "frame cannot carry it, and Tornado raises ValueError without sending anything.",
            expected="ValueError, no close frame, the connection still open",
            observed=f"{events!r}; close frames {[(len(b), b[:8]) for b in closes]!r} (size, start); then {reply!r}",
            transcript=conn.transcript,
        )


@check("Tornado docs: WebSocketHandler.on_close (close_code, close_reason)", Level.TORNADO)
async def test_close_code_and_reason_after_a_server_initiated_close_are_the_peers(impl, server, ws):
    """Tornado docs, on_close: "If the connection was closed cleanly and a status code or
    reason phrase was supplied, these values will be available as the attributes
    ``self.close_code`` and ``self.close_reason``." The handler closes first with (4000,
    'server bye'); the client's answering close frame echoes them (RFC 6455 §5.5.1), and
    on_close sees what the client sent."""
    websocket = impl.part("websocket")
    closes = Trace()

    class Handler(websocket.WebSocketHandler):
        def on_message(self, message):
            self.close(4000, "server bye")

        def on_close(self):
            closes.add((self.close_code, self.close_reason))

    srv = server.serve([("/ws", Handler)])
    async with await ws.open(srv, "/ws") as conn:
        await conn.send_text("please close")
        closed = await conn.wait_closed()
    closes.wait_for(1, ws.timeout, "call on_close after the closing handshake")
    server.barrier()
    if dropped(closed) or closes.events != [(4000, "server bye")]:
        raise Violation(
            "the handler closed with (4000, 'server bye') and the client answered with a close frame echoing them: "
            "on_close runs once and sees the client's code and reason.",
            expected="on_close saw [(4000, 'server bye')]",
            observed=f"{how_it_ended(closed)}; on_close saw {closes.events!r}",
            transcript=conn.transcript,
        )


# -- the opening handshake --------------------------------------------------------------------


@check("Tornado docs: WebSocketHandler.select_subprotocol (5.1)", Level.TORNADO)
async def test_select_subprotocol_is_called_once_with_an_empty_list_when_none_is_offered(impl, server, ws):
    """Tornado docs, select_subprotocol: "The list may be empty, in which case this method
    must return None. This method is always called exactly once even if no subprotocols
    were proposed so that the handler can be advised of this fact." (5.1: "Previously,
    this method was called with a list containing an empty string".)"""
    websocket = impl.part("websocket")
    offered = Trace()

    class Handler(websocket.WebSocketHandler):
        def select_subprotocol(self, subprotocols):
            offered.add(list(subprotocols))
            return None

        def on_message(self, message):
            self.write_message(message)

    srv = server.serve([("/ws", Handler)])
    async with await ws.open(srv, "/ws") as conn:
        header = handshake_fields(conn).get("sec-websocket-protocol")
    if offered.events != [[]] or header is not None:
        raise Violation(
            "the client offered no subprotocol: select_subprotocol is called exactly once, with an empty list, and "
            "no Sec-WebSocket-Protocol is sent.",
            expected="select_subprotocol called with [[]], no Sec-WebSocket-Protocol",
            observed=f"select_subprotocol called with {offered.events!r}, Sec-WebSocket-Protocol {header!r}",
            transcript=conn.transcript,
        )


@check("RFC 9110 §15.5.6; Tornado docs: RequestHandler.SUPPORTED_METHODS, WebSocketHandler.get", Level.TORNADO)
@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
async def test_upgrade_request_with_another_method_is_answered_405(impl, server, http, method):
    """RFC 6455 §4.1: the opening handshake "MUST be a valid HTTP request" and "The method
    of the request MUST be GET". A WebSocketHandler implements only get (Tornado docs:
    the upgrade happens in WebSocketHandler.get), so any other method is answered as for
    every RequestHandler without that method: RFC 9110 §15.5.6 405 "the method received in
    the request-line is known by the origin server but not supported by the target
    resource". open() never runs."""
    websocket = impl.part("websocket")
    opened = Trace()

    class Handler(websocket.WebSocketHandler):
        def open(self):
            opened.add("open")

    srv = server.serve([("/ws", Handler)])
    request = (
        f"{method} /ws HTTP/1.1\r\nHost: {srv.host}:{srv.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n"
    ).encode("latin-1")
    async with await http.connect(srv) as conn:
        await conn.send(request)
        response = await conn.receive_response()
    server.barrier()
    if response.status != 405 or opened.events:
        raise Violation(
            f"an opening handshake with the method {method} was not answered 405: a WebSocketHandler upgrades only "
            "GET requests.",
            expected="405, no open() call",
            observed=f"{response.status}{', and open() was called' if opened.events else ''}",
            transcript=conn.transcript,
        )


@check("Tornado docs: RequestHandler.prepare ('may be a coroutine'), send_error", Level.TORNADO)
async def test_coroutine_prepare_that_sends_an_error_stops_the_upgrade(impl, server, http):
    """Tornado docs, RequestHandler.prepare: "Asynchronous support: Use ``async def`` or
    decorate this method with ``.gen.coroutine`` to make it asynchronous. If this method
    returns an ``Awaitable`` execution will not proceed until the ``Awaitable`` is done."
    A WebSocketHandler's prepare awaits, then calls send_error(403): the handshake is
    answered 403 and open() never runs."""
    websocket = impl.part("websocket")
    gen = impl.part("gen")
    opened = Trace()

    class Handler(websocket.WebSocketHandler):
        async def prepare(self):
            await gen.sleep(0)
            self.send_error(403)

        def open(self):
            opened.add("open")

    srv = server.serve([("/ws", Handler)])
    request = (
        f"GET /ws HTTP/1.1\r\nHost: {srv.host}:{srv.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode("latin-1")
    async with await http.connect(srv) as conn:
        await conn.send(request)
        try:
            response = await conn.receive_response()
            status: Any = response.status
        except ProtocolViolation as exc:
            status = f"an answer that is not an HTTP response ({exc})"
    server.barrier()
    if status != 403 or opened.events:
        raise Violation(
            "prepare() awaited, then called send_error(403): the request ends there, so the handshake is refused "
            "with 403.",
            expected="403, no open() call",
            observed=f"{status}{', and open() was called' if opened.events else ''}",
            transcript=conn.transcript,
        )


@check("Tornado docs: WebSocketHandler.set_nodelay", Level.TORNADO)
async def test_set_nodelay_in_open_is_accepted(impl, server, ws):
    """Tornado docs, set_nodelay: "call ``self.set_nodelay(True)`` once the websocket
    connection is established" (6.0.2: "WebSocketHandler.set_nodelay works again"). Called
    in open(), it raises nothing and messages flow."""
    websocket = impl.part("websocket")
    outcome = Trace()

    class Handler(websocket.WebSocketHandler):
        def open(self):
            try:
                self.set_nodelay(True)
            except Exception as exc:
                outcome.add(type(exc).__name__)
            else:
                outcome.add("accepted")

        def on_message(self, message):
            self.write_message(message)

    srv = server.serve([("/ws", Handler)])
    async with await ws.open(srv, "/ws") as conn:
        await conn.send_text("no delay")
        echoed = await conn.receive_message()
    if outcome.events != ["accepted"] or echoed != "no delay":
        raise Violation(
            "self.set_nodelay(True) in open() did not work as documented.",
            expected="accepted, then the echo",
            observed=f"{outcome.events!r}, then {echoed!r}",
            transcript=conn.transcript,
        )


# -- limits -------------------------------------------------------------------------------------


def _size_reporter(websocket: Any) -> type:
    class Reporter(websocket.WebSocketHandler):
        def on_message(self, message):
            self.write_message(f"got {len(message)}")

    return Reporter


async def _send_sized(conn: WebSocketConnection, size: int, *, split: bool) -> str:
    """A binary message of ``size`` bytes, as one frame or as (size - 1) + 1; what was sent."""
    payload = bytes(size)
    if split:
        await conn.send_raw(_zero_masked(BINARY, payload[:-1], fin=False))
        await conn.send_raw(_zero_masked(CONTINUATION, payload[-1:]))
        return f"a binary message of {size} bytes in two frames ({size - 1} + 1)"
    await conn.send_raw(_zero_masked(BINARY, payload))
    return f"a binary message of {size} bytes in one frame"


async def _judge_size(conn: WebSocketConnection, size: int, sent: str, limit: str, *, refused: bool) -> None:
    try:
        reply: Any = await conn.receive_message()
        ended = None
    except ConnectionClosedError as exc:
        reply, ended = None, exc.closed
    if refused:
        if ended is not None and not dropped(ended) and ended.code == 1009:
            return
        observed = f"the reply {reply!r}" if ended is None else how_it_ended(ended)
        raise Violation(
            f"the client sent {sent} with {limit}: a message over the limit closes the connection with 1009.",
            expected="a close frame with code 1009",
            observed=observed,
            transcript=conn.transcript,
        )
    if reply != f"got {size}":
        raise Violation(
            f"the client sent {sent} with {limit}: a message of at most the limit is delivered.",
            expected=f"the reply 'got {size}'",
            observed=f"the reply {reply!r}" if ended is None else how_it_ended(ended),
            transcript=conn.transcript,
        )


DEFAULT_LIMIT = [
    pytest.param(TEN_MIB, False, id="10-MiB-delivered"),
    pytest.param(TEN_MIB + 1, True, id="10-MiB-plus-one-refused-with-1009"),
]


@check("Tornado docs: WebSocketHandler.max_message_size ('Default is 10MiB'); RFC 6455 §7.4.1", Level.TORNADO)
@pytest.mark.parametrize(("size", "refused"), DEFAULT_LIMIT)
async def test_default_max_message_size_is_10_mib(impl, server, ws, size, refused):
    """Tornado docs, max_message_size: "Maximum allowed message size. If the remote peer
    sends a message larger than this, the connection will be closed. Default is 10MiB."
    (4.5). RFC 6455 §7.4.1: 1009 "a message that is too big for it to process". The
    larger message comes in two frames, so the limit is crossed by the last byte."""
    websocket = impl.part("websocket")
    srv = server.serve([("/ws", _size_reporter(websocket))])
    async with await ws.open(srv, "/ws") as conn:
        sent = await _send_sized(conn, size, split=refused)
        await _judge_size(conn, size, sent, "no websocket_max_message_size setting", refused=refused)


CONFIGURED_LIMIT = [
    pytest.param(1024, 1024, id="exactly-the-setting-delivered"),
    pytest.param(TEN_MIB + 1024, TEN_MIB + 1, id="setting-above-the-default-honoured"),
]


@check("Tornado docs: WebSocketHandler.max_message_size (websocket_max_message_size)", Level.TORNADO)
@pytest.mark.parametrize(("limit", "size"), CONFIGURED_LIMIT)
async def test_message_within_websocket_max_message_size_is_delivered(impl, server, ws, limit, size):
    """Tornado docs, max_message_size: "Maximum allowed message size. If the remote peer
    sends a message larger than this, the connection will be closed." It is set with the
    ``websocket_max_message_size`` setting: a message of exactly the limit is not larger,
    and a setting above the 10 MiB default raises the limit."""
    websocket = impl.part("websocket")
    srv = server.serve([("/ws", _size_reporter(websocket))], {"websocket_max_message_size": limit})
    async with await ws.open(srv, "/ws") as conn:
        sent = await _send_sized(conn, size, split=size > 1024)
        await _judge_size(conn, size, sent, f"websocket_max_message_size={limit}", refused=False)


#: The ping intervals of the keep-alive check (the ping timeout is left to its default): the
#: short one first; only when it does not pass (a stall on a loaded machine can lengthen
#: the gaps between pings, or delay a pong past the 0.03 s timeout) is the check run again,
#: and judged, with the long one. A pass with the short one is conclusive: a load can only
#: lengthen the gaps between pings, and a pong cannot come later than the ping timeout (one
#: interval) without the connection closing, so the shortest gap between pongs is never
#: under two intervals unless the pings are less than two intervals apart.
_SHORT_INTERVAL = 0.03
_INTERVAL = 0.07


async def _pong_gaps(impl: Any, server: Any, ws: Any, interval: float) -> tuple[Any, list[float], Any]:
    """The reply after three pongs (or how the connection ended), the gaps between the first
    three pongs on the implementation's clock, and the connection."""
    websocket = impl.part("websocket")
    ioloop = impl.part("ioloop")
    times = Trace()

    class Handler(websocket.WebSocketHandler):
        def on_pong(self, data):
            times.add(ioloop.IOLoop.current().time())
            if len(times.events) == 3:
                self.write_message("three pongs")

    srv = server.serve([("/ws", Handler)], {"websocket_ping_interval": interval})
    async with await ws.open(srv, "/ws") as conn:
        try:
            message = await conn.receive_message()  # pings are answered on the way
        except ConnectionClosedError as exc:
            message = how_it_ended(exc.closed)
    stamps = times.events[:3]
    return message, [round(b - a, 3) for a, b in zip(stamps, stamps[1:])], conn


def _pings_kept(message: Any, gaps: list[float], interval: float) -> bool:
    return message == "three pongs" and bool(gaps) and min(gaps) < 2 * interval


@check("Tornado docs: WebSocketHandler.ping_interval (6.5.2: pings at the configured interval again)", Level.TORNADO)
async def test_ping_interval_is_kept_when_pongs_come_back(impl, server, ws):
    """Tornado docs, ping_interval: "If this is non-zero, the websocket will send a ping
    every ping_interval seconds." ping_timeout: "Default: equal to the ping_interval" (6.5;
    before, the larger of three intervals and 30 s). With an interval of 0.03 s (then, if
    that does not pass, 0.07 s, which is judged), no timeout set and a peer that answers
    every ping at once, on_pong notes the loop's time (IOLoop.time) of the first three
    pongs. A load can only lengthen the gaps between pings, so the shortest gap must stay
    under two intervals (6.5.0-6.5.1 waited the timeout again on top of the interval: three
    intervals between pings)."""
    message, gaps, conn = await _pong_gaps(impl, server, ws, _SHORT_INTERVAL)
    if _pings_kept(message, gaps, _SHORT_INTERVAL):
        return
    message, gaps, conn = await _pong_gaps(impl, server, ws, _INTERVAL)
    if not _pings_kept(message, gaps, _INTERVAL):
        raise Violation(
            f"with websocket_ping_interval={_INTERVAL} (the ping timeout its default) and a peer answering each ping at "
            "once, the pings did not come every interval: the shortest gap between their pongs, on the "
            "implementation's own clock, is two intervals or more.",
            expected=f"three pongs, the shortest gap under {2 * _INTERVAL:g}s",
            observed=f"{len(conn.pings)} ping(s), pong gaps {gaps}s, then {message!r}",
            transcript=conn.transcript,
        )


# -- errors in hooks ----------------------------------------------------------------------------


@check("Tornado docs: WebSocketHandler.open; 6.0.0 notes (exceptions in a coroutine open())", Level.TORNADO)
@pytest.mark.parametrize("kind", ["plain", "coroutine"])
async def test_exception_in_open_closes_the_connection(impl, server, ws, kind):
    """Tornado docs, WebSocketHandler.open: "`open` may be a coroutine. `on_message` will
    not be called until `open` has returned." An open() that raises never returns: Tornado
    logs the exception and closes the connection (6.0: "Exceptions raised by a coroutine
    open() are handled properly"); no message reaches on_message. How it closes is not
    documented: Tornado drops TCP without a close frame."""
    websocket = impl.part("websocket")
    received = Trace()

    class Failing(websocket.WebSocketHandler):
        if kind == "plain":

            def open(self):
                raise RuntimeError("open failed on purpose")

        else:

            async def open(self):
                raise RuntimeError("open failed on purpose")

        def on_message(self, message):
            received.add(message)
            self.write_message(message)

    srv = server.serve([("/ws", Failing)])
    async with await ws.open(srv, "/ws") as conn:
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, ConnectionError):
            await conn.send_text("after the failed open")
        try:
            reply: Any = await conn.receive_message()
        except ConnectionClosedError as exc:
            reply = None
            ending = how_it_ended(exc.closed)
    server.barrier()
    if reply is not None or received.events:
        raise Violation(
            f"a {kind} open() raised RuntimeError: the connection is closed and no message is delivered.",
            expected="the connection closed, on_message never called",
            observed=f"on_message calls {received.events!r}, reply {reply!r}",
            transcript=conn.transcript,
        )
    del ending  # how it ended is not judged (see the docstring)
