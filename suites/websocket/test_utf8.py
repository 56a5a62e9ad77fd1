"""UTF-8 in text messages: valid text in any script, split anywhere between fragments, is
delivered intact; text that is not UTF-8 fails the connection.

References: RFC 6455 §5.6 and §8.1 (https://www.rfc-editor.org/rfc/rfc6455#section-8.1);
Autobahn|Testsuite cases 6.x (6.4.1-6.4.2 for failing at the first invalid fragment).
"""

from __future__ import annotations

import pytest

from conformance import Level, NonStrict, Trace, Violation, check, requires
from conformance.wire.ws import CONTINUATION, PING, TEXT, ConnectionClosedError, frame

from ._support import echo_handler, expect_failed_connection, how_it_ended, judge_failed_connection, recorder_handler

pytestmark = [pytest.mark.websocket, requires("web", "httpserver", "websocket")]

TEXTS = {
    "latin": "Ça, c'est déjà l'été à Zürich: naïve façade",
    "greek": "κόσμε Ελληνικά",
    "cyrillic": "Съешь же ещё этих мягких французских булок",
    "cjk": "我能吞下玻璃而不伤身体。日本語のテキスト",
    "arabic-hebrew": "أنا قادر على أكل الزجاج עברית",
    "emoji": "4-byte code points: 😀🎉𝄞𐍈",
    "boundaries": "\u007f\u0080\u07ff\u0800\uffff\U00010000\U0010ffff",
}


@check("RFC 6455 §5.6, §8.1", Level.MUST)
@pytest.mark.parametrize("split", [False, True], ids=["whole", "split-at-every-byte"])
@pytest.mark.parametrize("script", list(TEXTS))
async def test_valid_utf8_text_is_delivered_intact(impl, server, ws, script, split):
    """RFC 6455 §5.6: "Text: The "Payload data" is text data encoded as UTF-8." §5.4: a
    fragmented message is the concatenation of its fragments, so a code point may be split
    between two fragments ("split-at-every-byte" sends one byte per frame); the message is
    valid, and arrives intact."""
    received = Trace()
    text = TEXTS[script]
    data = text.encode("utf-8")
    srv = server.serve([("/ws", recorder_handler(impl, received))])
    async with await ws.open(srv, "/ws") as conn:
        if split:
            for i in range(len(data)):
                opcode = TEXT if i == 0 else CONTINUATION
                await conn.send_raw(frame(opcode, data[i : i + 1], fin=i == len(data) - 1))
        else:
            await conn.send_raw(frame(TEXT, data))
        try:
            echoed = await conn.receive_message()
        except ConnectionClosedError as exc:
            raise Violation(
                f"the client sent the valid UTF-8 text {text!r}{' one byte per frame' if split else ''}; the "
                "implementation ended the connection.",
                expected="the text echoed",
                observed=how_it_ended(exc.closed),
                transcript=conn.transcript,
            ) from None
    if received.events != [text] or echoed != text:
        raise Violation(
            f"the valid UTF-8 text {text!r}{' sent one byte per frame' if split else ''} did not arrive intact.",
            expected=f"on_message calls {[text]!r}, the same echo",
            observed=f"on_message calls {received.events!r}, echo {echoed!r}",
        )


INVALID = [
    pytest.param([b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"], id="surrogate"),
    pytest.param([b"overlong \xc0\xaf"], id="overlong"),
    pytest.param([b"\xff\xfe not UTF-8"], id="invalid-bytes"),
    pytest.param([b"truncated \xe2\x82"], id="truncated-code-point"),
    pytest.param([b"valid start ", b"\xf4\x90\x80\x80 beyond U+10FFFF"], id="invalid-in-second-fragment"),
    pytest.param([b"each fragment \xce", b"A alone is fine"], id="invalid-only-once-joined"),
]


@check("RFC 6455 §8.1", Level.MUST)
@pytest.mark.parametrize("fragments", INVALID)
async def test_invalid_utf8_text_fails_the_connection(impl, server, ws, fragments):
    """RFC 6455 §8.1: "When an endpoint is to interpret a byte stream as UTF-8 but finds that
    the byte stream is not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail the
    WebSocket Connection_." §7.4.1: 1007 "indicates that an endpoint is terminating the
    connection because it has received data within a message that was not consistent with
    the type of the message (e.g., non-UTF-8 data within a text message)"."""
    srv = server.serve([("/ws", echo_handler(impl))])
    async with await ws.open(srv, "/ws") as conn:
        for i, part in enumerate(fragments):
            await conn.send_raw(frame(TEXT if i == 0 else CONTINUATION, part, fin=i == len(fragments) - 1))
        await expect_failed_connection(
            conn, code=1007, sent=f"a text message that is not UTF-8 ({b''.join(fragments)!r})"
        )


#: The fragments of a text message, each sent with FIN clear, the last one already not UTF-8
#: whatever follows; the message's final fragment (FIN set) is held back.
INVALID_PREFIXES = [
    pytest.param([b"\xff is never UTF-8"], id="invalid-first-fragment"),
    pytest.param(["κόσμε".encode(), b"\xf4\x90\x80\x80"], id="invalid-second-fragment"),
    pytest.param(["κόσμε".encode() + b"\xf4", b"\x90"], id="invalid-once-joined"),
]

#: The ping sent after the invalid fragments: its pong shows they were processed, and the
#: connection was not failed.
BARRIER = b"sent after the invalid fragment"


@check("RFC 6455 §8.1 (fail-fast reading of Autobahn|Testsuite cases 6.4.1-6.4.2)", Level.MUST)
@pytest.mark.parametrize("fragments", INVALID_PREFIXES)
async def test_invalid_utf8_fails_the_connection_at_the_first_invalid_fragment(impl, server, ws, fragments):
    """RFC 6455 §8.1: "When an endpoint is to interpret a byte stream as UTF-8 but finds that
    the byte stream is not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail the
    WebSocket Connection_." The RFC does not say when, within a fragmented message (§5.6:
    "Invalid UTF-8 in reassembled messages is handled as described in Section 8.1");
    Autobahn (cases 6.4.1-6.4.2) reads it as "fail fast": as soon as a fragment makes the
    text invalid, before the message ends. The client sends the message's first fragments, the last one
    invalid whatever follows, all with FIN clear, then a ping (control frames may come between
    fragments, §5.4). A close frame with 1007 before the pong passes; a pong means the
    connection went on, and the final fragment follows: failing then met the MUST, not the
    fail-fast reading (non-strict); not failing at all breaks the MUST."""
    srv = server.serve([("/ws", echo_handler(impl))])
    sent = f"the first fragments of a text message, the last one making it invalid UTF-8 ({b''.join(fragments)!r})"
    async with await ws.open(srv, "/ws") as conn:
        for i, part in enumerate(fragments):
            await conn.send_raw(frame(TEXT if i == 0 else CONTINUATION, part, fin=False))
        await conn.send_raw(frame(PING, BARRIER))
        try:
            await conn.receive_pong()
        except ConnectionClosedError as exc:
            judge_failed_connection(conn, exc.closed, code=1007, sent=sent)
            return
        # The invalid fragments were processed and the connection goes on: end the message.
        await conn.send_raw(frame(CONTINUATION, b" and the final fragment"))
        try:
            await expect_failed_connection(conn, code=1007, sent=f"{sent}, a ping, then the final fragment")
        except NonStrict:
            pass  # failed by a drop or another code: still only at the end, judged below
        raise NonStrict(
            f"the client sent {sent}, then a ping; the implementation answered the ping and failed the connection "
            "only once the final fragment had arrived, not at the fragment that made the text invalid.",
            expected="a close frame with 1007 before the pong",
            observed="the pong, then the connection failed after the final fragment",
            transcript=conn.transcript,
        )
