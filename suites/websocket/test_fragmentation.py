"""Fragmentation: a message sent as several frames, with or without control frames between
them, is one message to the application; a broken sequence of fragments fails the
connection; a coroutine ``on_message`` holds back the next message.

Reference: RFC 6455 §5.4 (https://www.rfc-editor.org/rfc/rfc6455#section-5.4).
"""

from __future__ import annotations

import pytest

from conformance import Level, Trace, Violation, check, requires
from conformance.wire.ws import BINARY, CONTINUATION, PING, TEXT, ConnectionClosedError, frame

from ._support import describe_message, echo_handler, expect_failed_connection, how_it_ended, recorder_handler

pytestmark = [pytest.mark.websocket, requires("web", "httpserver", "websocket")]

FRAGMENTS = ("first fragment, ", "second fragment, ", "last fragment")


@check("RFC 6455 §5.4", Level.MUST)
async def test_fragmented_message_with_an_interleaved_ping_reaches_on_message_whole(impl, server, ws):
    """RFC 6455 §5.4: "The fragments of one message MUST NOT be interleaved between the
    fragments of another message" but "Control frames MAY be injected in the middle of a
    fragmented message", and "An endpoint MUST be capable of handling control frames in the
    middle of a fragmented message." The message is then delivered to on_message once, whole."""
    websocket = impl.part("websocket")
    received = Trace()

    class Recorder(websocket.WebSocketHandler):
        def on_message(self, message):
            received.add(message)
            self.write_message(message, binary=isinstance(message, bytes))

    srv = server.serve([("/ws", Recorder)])
    whole = "".join(FRAGMENTS)
    async with await ws.open(srv, "/ws") as conn:
        await conn.send_raw(frame(TEXT, FRAGMENTS[0].encode(), fin=False))
        await conn.send_raw(frame(PING, b"between fragments"))
        await conn.send_raw(frame(CONTINUATION, FRAGMENTS[1].encode(), fin=False))
        await conn.send_raw(frame(CONTINUATION, FRAGMENTS[2].encode(), fin=True))
        # A second, unfragmented message: once its echo is back, every on_message call the
        # fragmented one caused has been recorded.
        await conn.send_text("end")
        try:
            first = await conn.receive_message()
            second = await conn.receive_message()
        except ConnectionClosedError as exc:
            raise Violation(
                f"the client sent the text {whole!r} as three frames (text, continuation, continuation) with a ping "
                "after the first, then the text 'end'; the implementation ended the connection, where control frames "
                "in the middle of a fragmented message are allowed and handled.",
                expected=f"on_message calls {[whole, 'end']!r}, the connection open",
                observed=f"on_message calls {received.events!r}, then {how_it_ended(exc.closed)}",
                transcript=conn.transcript,
            ) from None
        calls = received.events
        if not (calls == [whole, "end"] and first == whole and second == "end"):
            raise Violation(
                f"the client sent the text {whole!r} as three frames (text, continuation, continuation) with a "
                "ping after the first, then the text 'end': a fragmented message is one message, and control frames "
                "may be interleaved.",
                expected=f"on_message calls {[whole, 'end']!r}, and their echoes",
                observed=f"on_message calls {calls!r}; echoes {describe_message(first)} then "
                f"{describe_message(second)}",
                transcript=conn.transcript,
            )


# (what is sent, the fragments): each fragment becomes one frame.
FRAGMENTED = [
    pytest.param(["two ", "fragments"], id="text-2-fragments"),
    pytest.param([b"\x00\x01", b"\xfe", b"\xff\x80"], id="binary-3-fragments"),
    pytest.param([f"part {i}; " for i in range(10)], id="text-10-fragments"),
    pytest.param(["", "empty first and last fragments", ""], id="text-with-empty-fragments"),
    pytest.param([bytes(range(256)) * 64] * 4, id="binary-4-fragments-of-16384-bytes"),
]


@check("RFC 6455 §5.4", Level.MUST)
@pytest.mark.parametrize("fragments", FRAGMENTED)
async def test_message_in_several_fragments_reaches_on_message_whole(impl, server, ws, fragments):
    """RFC 6455 §5.4: "A fragmented message consists of a single frame with the FIN bit clear
    and an opcode other than 0, followed by zero or more frames with the FIN bit clear and the
    opcode set to 0, and terminated by a single frame with the FIN bit set and an opcode of
    0." and "Clients and servers MUST support receiving both fragmented and unfragmented
    messages." The message is the concatenation of the fragments, delivered to on_message
    once."""
    received = Trace()
    srv = server.serve([("/ws", recorder_handler(impl, received))])
    whole = "".join(fragments) if isinstance(fragments[0], str) else b"".join(fragments)
    async with await ws.open(srv, "/ws") as conn:
        await conn.send_fragments(fragments)
        await conn.send_text("end")
        try:
            first = await conn.receive_message()
            await conn.receive_message()
        except ConnectionClosedError as exc:
            raise Violation(
                f"the client sent {describe_message(whole)} in {len(fragments)} fragments, then the text 'end'; the "
                "implementation ended the connection.",
                expected="both messages echoed",
                observed=how_it_ended(exc.closed),
                transcript=conn.transcript,
            ) from None
    if received.events != [whole, "end"] or first != whole:
        shown = [describe_message(m) for m in received.events]
        raise Violation(
            f"the client sent {describe_message(whole)} in {len(fragments)} fragments, then the text 'end': the "
            "fragments are one message, delivered once and whole.",
            expected=f"on_message calls [{describe_message(whole)}, 'end'], the first echo the whole message",
            observed=f"on_message calls {shown}, the first echo {describe_message(first)}",
            transcript=conn.transcript,
        )


BAD_SEQUENCES = [
    pytest.param(
        [frame(CONTINUATION, b"continues nothing")],
        "a continuation frame with no message to continue",
        id="continuation-without-start",
    ),
    pytest.param(
        [frame(CONTINUATION, b"continues nothing", fin=False), frame(CONTINUATION, b" either")],
        "two continuation frames with no message to continue",
        id="fragmented-continuation-without-start",
    ),
    pytest.param(
        [frame(TEXT, b"first, ", fin=False), frame(TEXT, b"a new message")],
        "a new text frame while a fragmented text message was unfinished",
        id="text-inside-fragmented-text",
    ),
    pytest.param(
        [frame(BINARY, b"first, ", fin=False), frame(TEXT, b"a new message", fin=False), frame(CONTINUATION, b"!")],
        "a new fragmented text message while a fragmented binary message was unfinished",
        id="text-inside-fragmented-binary",
    ),
]


@check("RFC 6455 §5.4, §10.7 (Autobahn|Testsuite cases 5.9-5.20 reading)", Level.SHOULD)
@pytest.mark.parametrize(("frames", "sent"), BAD_SEQUENCES)
async def test_broken_fragment_sequence_fails_the_connection(impl, server, ws, frames, sent):
    """RFC 6455 §5.4: "The fragments of one message MUST NOT be interleaved between the
    fragments of another message unless an extension has been negotiated that can interpret
    the interleaving", and a message starts with a frame whose opcode is not 0. That binds
    the sender; the receiver's side is §10.7's: "Incoming data MUST always be validated by
    both clients and servers", and on invalid data after the handshake "the endpoint SHOULD
    send a Close frame with an appropriate status code (Section 7.4)" (it "MAY drop the TCP
    connection"). Failing the connection, strictly with 1002 (§7.4.1), is Autobahn's reading
    (cases 5.9-5.20); hence SHOULD."""
    srv = server.serve([("/ws", echo_handler(impl))])
    async with await ws.open(srv, "/ws") as conn:
        for raw in frames:
            await conn.send_raw(raw)
        await expect_failed_connection(conn, code=1002, sent=sent)


@check("Tornado docs: WebSocketHandler.on_message", Level.TORNADO)
async def test_coroutine_on_message_is_awaited_before_the_next_message(impl, server, ws):
    """Tornado docs, WebSocketHandler.on_message: "This method may be a coroutine ... If it
    is, subsequent messages will not be delivered until it completes." The first message's
    on_message waits on a timer; the second must not start before it ends."""
    websocket = impl.part("websocket")
    gen = impl.part("gen")
    steps = Trace()

    class Slow(websocket.WebSocketHandler):
        async def on_message(self, message):
            steps.add(f"start {message}")
            if message == "first":
                await gen.sleep(0.05)
            steps.add(f"end {message}")
            if message == "second":
                # One reply: a second small write right after the first would wait for the
                # client's delayed ACK (Nagle's algorithm, about 40 ms).
                self.write_message(message)

    srv = server.serve([("/ws", Slow)])
    async with await ws.open(srv, "/ws") as conn:
        await conn.send_text("first")
        await conn.send_text("second")
        await conn.receive_message()
    steps.assert_equal(
        ["start first", "end first", "start second", "end second"],
        "a coroutine on_message must complete before the next message is delivered (Tornado docs, on_message):",
    )
