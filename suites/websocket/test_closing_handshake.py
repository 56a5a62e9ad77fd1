"""The closing handshake, started by either side: close frames are answered and echoed, the
status code and reason reach the other side, invalid close frames fail the connection,
nothing after a close frame is processed, and on_close runs once however the connection ends.

References: RFC 6455 §5.5.1 and §7 (https://www.rfc-editor.org/rfc/rfc6455#section-5.5.1);
Tornado docs, WebSocketHandler.on_close and close
(https://www.tornadoweb.org/en/stable/websocket.html).
"""

from __future__ import annotations

import struct

import pytest

from conformance import Level, NonStrict, ProtocolViolation, Trace, Violation, check, requires
from conformance.wire.ws import CLOSE, TEXT, frame

from ._support import dropped, echo_handler, how_it_ended, recorder_handler

pytestmark = [pytest.mark.websocket, requires("web", "httpserver", "websocket")]


@check("RFC 6455 §5.5.1; Tornado docs: WebSocketHandler.on_close", Level.MUST)
async def test_client_close_is_answered_and_its_code_and_reason_reach_on_close(impl, server, ws):
    """RFC 6455 §5.5.1: "If an endpoint receives a Close frame and did not previously send a
    Close frame, the endpoint MUST send a Close frame in response." Tornado docs,
    WebSocketHandler.on_close: "If the connection was closed cleanly and a status code or
    reason phrase was supplied, these values will be available as the attributes
    ``self.close_code`` and ``self.close_reason``."""
    websocket = impl.part("websocket")
    closes = Trace()

    class Handler(websocket.WebSocketHandler):
        def on_close(self):
            closes.add((self.close_code, self.close_reason))

    srv = server.serve([("/ws", Handler)])
    async with await ws.open(srv, "/ws") as conn:
        closed = await conn.close(4001, "client says bye")
        if dropped(closed):
            raise Violation(
                "the client sent a close frame with code 4001 and reason 'client says bye'; the implementation did "
                "not answer with a close frame.",
                expected="a close frame",
                observed=how_it_ended(closed),
                transcript=conn.transcript,
            )
    closes.wait_for(1, ws.timeout, "call on_close after a clean closing handshake")
    server.barrier()  # a second, erroneous on_close call scheduled meanwhile is recorded too
    observed = closes.events
    if observed != [(4001, "client says bye")]:
        raise Violation(
            "the client closed cleanly with code 4001 and reason 'client says bye'; Tornado documents that both are "
            "available as self.close_code and self.close_reason in on_close, and on_close runs once.",
            expected="one on_close call seeing (4001, 'client says bye')",
            observed=f"{len(observed)} call(s) seeing (close_code, close_reason) = {', '.join(map(repr, observed))}",
        )


@check("Tornado docs: WebSocketHandler.close; RFC 6455 §5.5.1", Level.TORNADO)
async def test_server_close_sends_its_code_and_reason_to_the_client(impl, server, ws):
    """Tornado docs, WebSocketHandler.close: "``code`` may be a numeric status code ...
    ``reason`` may be a textual message about why the connection is closing. These values
    are made available to the client". RFC 6455 §5.5.1: "If there is a body, the first two
    bytes of the body MUST be a 2-byte unsigned integer ... representing a status code", the
    rest a UTF-8 reason. The RFC lets a close frame carry no body at all; that the handler's
    code and reason go into it is Tornado's documented API."""
    websocket = impl.part("websocket")

    class Closer(websocket.WebSocketHandler):
        def on_message(self, message):
            self.close(4000, "bye")

    srv = server.serve([("/ws", Closer)])
    async with await ws.open(srv, "/ws") as conn:
        # Asked for by a message rather than done in open(), so the close frame cannot
        # arrive in the same read as the 101 response.
        await conn.send_text("please close")
        closed = await conn.wait_closed()
        if dropped(closed) or (closed.code, closed.reason) != (4000, "bye"):
            raise Violation(
                "the handler's self.close(4000, 'bye') did not reach the client: Tornado makes the code and reason "
                "available to it, in the close frame's body.",
                expected="a close frame with code 4000 and reason 'bye'",
                observed=how_it_ended(closed),
                transcript=conn.transcript,
            )


@check("RFC 6455 §5.5.1 ('typically echos', no keyword); what Tornado does", Level.TORNADO)
@pytest.mark.parametrize("code", [1000, 1001, 1003, 3000, 4999], ids=lambda c: f"code-{c}")
async def test_received_close_code_is_echoed(impl, server, ws, code):
    """RFC 6455 §5.5.1: "If an endpoint receives a Close frame and did not previously send a
    Close frame, the endpoint MUST send a Close frame in response. (When sending a Close frame
    in response, the endpoint typically echos the status code it received.)" The echo is
    described, not required (no keyword); Tornado echoes it, hence TORNADO."""
    srv = server.serve([("/ws", echo_handler(impl))])
    async with await ws.open(srv, "/ws") as conn:
        closed = await conn.close(code, "bye")
    if dropped(closed) or closed.code != code:
        raise Violation(
            f"the client closed with code {code}; the implementation did not echo the code.",
            expected=f"a close frame with code {code}",
            observed=how_it_ended(closed),
            transcript=conn.transcript,
        )


@check("RFC 6455 §5.5.1, §7.1.5; Tornado docs: WebSocketHandler.on_close", Level.MUST)
async def test_empty_close_frame_is_answered_and_on_close_sees_no_code(impl, server, ws):
    """RFC 6455 §5.5.1: "The Close frame MAY contain a body"; an endpoint that receives one
    MUST answer with a Close frame. §7.1.5: "If this Close control frame contains no status
    code, _The WebSocket Connection Close Code_ is considered to be 1005", which is never
    sent; Tornado's on_close then sees ``close_code`` None."""
    websocket = impl.part("websocket")
    closes = Trace()

    class Handler(websocket.WebSocketHandler):
        def on_close(self):
            closes.add((self.close_code, self.close_reason))

    srv = server.serve([("/ws", Handler)])
    async with await ws.open(srv, "/ws") as conn:
        await conn.send_raw(frame(CLOSE, b""))
        closed = await conn.wait_closed()
    closes.wait_for(1, ws.timeout, "call on_close after an empty close frame")
    if dropped(closed) or closed.code not in (None, 1005, 1000) or closes.events != [(None, None)]:
        raise Violation(
            "the client sent a close frame with no body: a close frame is due in answer, and with no code received "
            "Tornado leaves close_code and close_reason None.",
            expected="a close frame with no code (or 1000); on_close saw [(None, None)]",
            observed=f"{how_it_ended(closed)}; on_close saw {closes.events!r}",
            transcript=conn.transcript,
        )


# (the close frame's body, what it is, the close codes that pass): each case has its level.
INVALID_CLOSE = [
    pytest.param(
        b"\x03",
        "a close frame with a 1-byte body",
        (1002,),
        id="one-byte-body",
        marks=check("RFC 6455 §5.5.1, §10.7 (Autobahn|Testsuite case 7.3.2 reading)", Level.SHOULD),
    ),
    *(
        pytest.param(
            struct.pack("!H", code),
            f"a close frame with the invalid code {code}",
            (1002,),
            id=f"code-{code}",
            marks=check("RFC 6455 §7.4.1, §7.4.2, §10.7 (Autobahn|Testsuite cases 7.9.x reading)", Level.SHOULD),
        )
        for code in (0, 999, 1004, 1005, 1006, 1015, 1016, 2999)
    ),
    pytest.param(
        struct.pack("!H", 1000) + b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80",
        "a close frame whose reason is not UTF-8",
        (1002, 1007),
        id="reason-not-utf8",
        marks=check("RFC 6455 §5.5.1, §8.1", Level.MUST),
    ),
]


@pytest.mark.parametrize(("payload", "sent", "strict"), INVALID_CLOSE)
async def test_invalid_close_frame_fails_the_connection_with_1002(impl, server, ws, payload, sent, strict):
    """RFC 6455 §5.5.1: "If there is a body, the first two bytes of the body MUST be a 2-byte
    unsigned integer (in network byte order) representing a status code with value /code/
    defined in Section 7.4. Following the 2-byte integer, the body MAY contain UTF-8-encoded
    data with value /reason/". §7.4.1: 1005, 1006 and 1015 "MUST NOT be set as a status code
    in a Close control frame by an endpoint", 1004 is "Reserved"; §7.4.2: "Status codes in
    the range 0-999 are not used", 1000-2999 are "reserved for definition by this protocol".

    Per case (each carries its own level):

    - reason-not-utf8: §8.1, "When an endpoint is to interpret a byte stream as UTF-8 but
      finds that the byte stream is not, in fact, a valid UTF-8 stream, that endpoint MUST
      _Fail the WebSocket Connection_" (MUST; 1002 or 1007, §7.4.1, are both strict).
    - one-byte-body, code-*: those sentences bind the sender. The receiver's side is §10.7:
      "Incoming data MUST always be validated by both clients and servers", and on invalid
      data after the handshake "the endpoint SHOULD send a Close frame with an appropriate
      status code (Section 7.4)" (it "MAY drop the TCP connection"). That a receiver fails
      the connection, strictly with 1002, is Autobahn's reading (cases 7.3.2, 7.9.x):
      SHOULD."""
    srv = server.serve([("/ws", echo_handler(impl))])
    async with await ws.open(srv, "/ws") as conn:
        await conn.send_raw(frame(CLOSE, payload))
        try:
            closed = await conn.wait_closed()
        except ProtocolViolation as exc:
            raise Violation(f"the client sent {sent}; the implementation's answer is itself invalid: {exc}") from None
    if dropped(closed):
        raise NonStrict(
            f"the client sent {sent}; the implementation failed the connection by dropping TCP without a close frame "
            "(strictly, a close frame).",
            expected=f"a close frame with code {' or '.join(map(str, strict))}",
            observed=how_it_ended(closed),
            transcript=conn.transcript,
        )
    if closed.code not in strict:
        raise Violation(
            f"the client sent {sent}; the implementation answered as if the close frame were valid, where it is a "
            "protocol error.",
            expected=f"a close frame with code {' or '.join(map(str, strict))}",
            observed=how_it_ended(closed),
            transcript=conn.transcript,
        )


@check("RFC 6455 §5.5.1, §1.4, §10.7 (Autobahn|Testsuite cases 7.1.x reading)", Level.SHOULD)
async def test_data_frames_after_the_close_frame_are_not_processed(impl, server, ws):
    """RFC 6455 §1.4: "After sending a control frame indicating the connection should be
    closed, a peer does not send any further data; after receiving a control frame indicating
    the connection should be closed, a peer discards any further data received." §1.4 is
    non-normative; §5.5.1 binds the sender ("The application MUST NOT send any more data
    frames after sending a Close frame") and requires the answer ("the endpoint MUST send a
    Close frame in response"). That the receiver discards the data is §10.7's "Incoming data
    MUST always be validated" read as Autobahn does (cases 7.1.x): SHOULD. The close frame
    and a text frame arrive together; the text must not reach on_message."""
    received = Trace()
    srv = server.serve([("/ws", recorder_handler(impl, received))])
    async with await ws.open(srv, "/ws") as conn:
        await conn.send_raw(frame(CLOSE, struct.pack("!H", 1000)) + frame(TEXT, b"after the close frame"))
        closed = await conn.wait_closed()
    server.barrier()
    if received.events or dropped(closed):
        raise Violation(
            "the client sent a close frame and a text frame in one segment: data after a close frame is discarded, "
            "and the close frame is answered by a close frame.",
            expected="no on_message call, then a close frame",
            observed=f"on_message calls {received.events!r}, then {how_it_ended(closed)}",
            transcript=conn.transcript,
        )


@check("Tornado docs: WebSocketHandler.write_message", Level.TORNADO)
async def test_write_message_after_close_raises_websocket_closed_error(impl, server, ws):
    """Tornado docs, WebSocketHandler.write_message: "If the connection is already closed,
    raises `WebSocketClosedError`." It is called in on_close."""
    websocket = impl.part("websocket")
    outcome = Trace()

    class Handler(websocket.WebSocketHandler):
        def on_close(self):
            try:
                self.write_message("too late")
            except websocket.WebSocketClosedError:
                outcome.add("WebSocketClosedError")
            except Exception as exc:
                outcome.add(type(exc).__name__)
            else:
                outcome.add("no exception")

    srv = server.serve([("/ws", Handler)])
    async with await ws.open(srv, "/ws") as conn:
        await conn.close(1000)
    events = outcome.wait_for(1, ws.timeout, "call on_close")
    if events != ["WebSocketClosedError"]:
        raise Violation(
            "write_message in on_close, after the closing handshake, did not raise WebSocketClosedError as Tornado "
            "documents once the connection is closed.",
            expected=["WebSocketClosedError"],
            observed=events,
        )


@check("Tornado docs: WebSocketHandler.on_close; RFC 6455 §7.1.5", Level.TORNADO)
async def test_on_close_runs_once_when_the_peer_vanishes_without_a_close_frame(impl, server, ws):
    """Tornado docs, WebSocketHandler.on_close: "Invoked when the WebSocket is closed." RFC
    6455 §7.1.5: "If _The WebSocket Connection is Closed_ and no Close control frame was
    received by the endpoint ..., _The WebSocket Connection Close Code_ is considered to be
    1006" (abnormal closure): on_close runs, with no code."""
    websocket = impl.part("websocket")
    closes = Trace()

    class Handler(websocket.WebSocketHandler):
        def on_message(self, message):
            self.write_message(message)

        def on_close(self):
            closes.add(self.close_code)

    srv = server.serve([("/ws", Handler)])
    conn = await ws.open(srv, "/ws")
    await conn.send_text("hello")
    await conn.receive_message()
    await conn.aclose()  # TCP closed, no close frame
    closes.wait_for(1, ws.timeout, "call on_close after the peer closed TCP without a close frame")
    server.barrier()
    if closes.events != [None]:
        raise Violation(
            "the peer closed TCP without a close frame; Tornado documents one on_close call, with close_code None "
            "as no close frame was received.",
            expected="close_code [None]",
            observed=f"close_code {closes.events!r}",
        )
