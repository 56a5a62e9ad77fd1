"""Property checks: random sequences of text and binary messages and pings, both ways, keep
their order and their payloads, and every ping is answered with its own payload.

References: RFC 6455 §5.5.2-§5.5.3, §5.6 (https://www.rfc-editor.org/rfc/rfc6455#section-5.5.2);
Tornado docs, ``WebSocketHandler.write_message``, ``ping``, ``on_pong``
(https://www.tornadoweb.org/en/stable/websocket.html).

The kit's client sends a whole generated sequence in one write, so the implementation reads
it in one go: messages that follow a ping arrive in the same loop iteration as the ping and
as each other, which is where an implementation that defers some of them reorders them.
(`test_properties` covers fragmentation, with pings between fragments; here pings go
between whole messages.) Each sequence ends with two text messages, so that whatever an
implementation holds back after the last ping still comes out, late, instead of never.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance import Level, Violation, check, hypothesis_property, requires
from conformance.wire.ws import BINARY, PING, TEXT, ConnectionClosedError, frame

from ._support import describe_message, echo_handler, how_it_ended

pytestmark = [pytest.mark.websocket, requires("web", "httpserver", "websocket")]

#: Two messages close every sequence (see the module's docstring).
TAIL: list[tuple[str, Any]] = [("text", "end 1"), ("text", "end 2")]


def _items(st: Any) -> Any:
    """Sequences of ("text", str), ("binary", bytes) and ("ping", bytes) items."""
    item = st.one_of(
        st.tuples(st.just("text"), st.text(max_size=200)),
        st.tuples(st.just("binary"), st.binary(max_size=200)),
        st.tuples(st.just("ping"), st.binary(max_size=100)),
    )
    return st.lists(item, max_size=12)


def _pings(items: list[tuple[str, Any]]) -> list[bytes]:
    """The ping payloads, each made unique by its position: ``b"3|..."`` (at most 125 bytes)."""
    return [(b"%d|" % n + data)[:125] for n, (kind, data) in enumerate(items) if kind == "ping"]


def _messages(items: list[tuple[str, Any]]) -> list[str | bytes]:
    return [data for kind, data in items if kind != "ping"]


def _show(items: list[tuple[str, Any]]) -> str:
    return "[" + ", ".join(f"ping {data!r}" if kind == "ping" else describe_message(data) for kind, data in items) + "]"


def _cached(server: Any, name: str, build: Any) -> Any:
    # One server per check (fixtures are per check, examples many): kept on the fixture.
    cached = getattr(server, name, None)
    if cached is None:
        cached = build()
        setattr(server, name, cached)
    return cached


#: Tried first, whatever the seed (the proof of the broken implementations rests on them): a
#: message right after a ping with another message behind it (and non-ASCII text, binary that
#: is not UTF-8), pings back to back, and a sequence that is all pings (the tail's messages
#: follow the last one). The ci profile generates 4 examples after them (``ci_max_examples``;
#: each costs a connection and an exchange, about 8 ms): the broken implementations that
#: name these checks fail them with these three and a single generated example.
EXAMPLES = [
    [("text", "before ✓"), ("ping", b"p"), ("text", "right after the ping"), ("binary", b"\x00\xff")],
    [("ping", b"same"), ("ping", b"same"), ("binary", b""), ("ping", b"other")],
    [("ping", b""), ("ping", b"\x00" * 100)],
]


@check("RFC 6455 §5.5.2, §5.5.3, §5.6", Level.MUST)
@hypothesis_property(
    {"items": _items},
    seed=6455_0552,
    examples=[{"items": items} for items in EXAMPLES],
    ci_max_examples=4,
    wire=True,
)
def test_random_messages_and_pings_echo_in_order_and_each_ping_is_answered_with_its_payload(
    impl, server, ws, run_client, items
):
    """RFC 6455 §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
    response"; §5.5.3: "A Pong frame sent in response to a Ping frame must have identical
    'Application data' as found in the message body of the Ping frame being replied to", and
    "If an endpoint receives a Ping frame and has not yet sent Pong frame(s) in response to
    previous Ping frame(s), the endpoint MAY elect to send a Pong frame for only the most
    recently processed Ping frame." Messages keep their order and type (§5.6; §5.4: control
    frames may be injected between them). Sent to an echo handler, every generated sequence
    comes back in order, and the pongs carry the pings' payloads, in the pings' order, the
    last ping answered."""
    srv = _cached(server, "_conformance_message_property", lambda: server.serve([("/ws", _prompt(echo_handler(impl)))]))
    sent = [*items, *TAIL]
    pings = _pings(sent)
    messages = _messages(sent)
    wire = b"".join(
        frame(PING, ping) if kind == "ping" else frame(TEXT if kind == "text" else BINARY, _encoded(data))
        for (kind, data), ping in _with_pings(sent, pings)
    )

    async def run() -> None:
        async with await ws.open(srv, "/ws") as conn:
            await conn.send_raw(wire)
            echoed: list[str | bytes] = []
            try:
                for _ in messages:
                    echoed.append(await conn.receive_message())
                while pings and not _judge_pongs(conn, pings, sent):
                    await conn.receive_pong()
            except ConnectionClosedError as exc:
                raise Violation(
                    f"after {len(echoed)} of {len(messages)} echoes and {len(conn.pongs)} pongs the implementation "
                    f"ended the connection with {how_it_ended(exc.closed)}; sent: {_show(sent)}",
                    transcript=conn.transcript,
                ) from None
            if echoed != messages or [type(m) for m in echoed] != [type(m) for m in messages]:
                raise Violation(
                    "the echo handler's messages did not come back in the order and with the types they were sent "
                    f"in; sent (with pings between): {_show(sent)}",
                    expected=[describe_message(m) for m in messages],
                    observed=[describe_message(m) for m in echoed],
                    transcript=conn.transcript,
                )

    run_client(run)


def _encoded(data: str | bytes) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def _with_pings(sent: list[tuple[str, Any]], pings: list[bytes]) -> list[tuple[tuple[str, Any], bytes]]:
    """Each item with its unique ping payload (``b""`` for messages)."""
    numbered = iter(pings)
    return [(item, next(numbered) if item[0] == "ping" else b"") for item in sent]


def _judge_pongs(conn: Any, pings: list[bytes], sent: list[tuple[str, Any]]) -> bool:
    """Whether the pongs received so far answer every ping (True), or may still (False); a
    pong that answers no ping, or answers one out of order, is a violation at once."""
    last, pongs = -1, conn.pongs
    for pong in pongs:
        if pong not in pings or pings.index(pong) <= last:
            raise Violation(
                "a pong did not carry the payload of a ping not yet answered: each pong echoes its ping's application "
                "data, in the order the pings came (answering only the latest of several pings is allowed); "
                f"sent: {_show(sent)}",
                expected=f"pongs whose payloads are a subsequence of {pings!r}, ending with {pings[-1]!r}",
                observed=f"pongs {pongs!r}",
                transcript=conn.transcript,
            )
        last = pings.index(pong)
    return last == len(pings) - 1


def _prompt(handler: type) -> type:
    """``handler`` with Nagle's algorithm off (``set_nodelay``): a pong and an echo written one
    after the other go out at once, instead of the second waiting for the peer's delayed ACK
    (which would cost tens of milliseconds per example, not change a verdict)."""

    class Prompt(handler):  # type: ignore[valid-type,misc]
        def open(self, *args: Any) -> None:
            self.set_nodelay(True)

    return Prompt


# -- the handler's side ---------------------------------------------------------------------------


def _script_handler(impl: Any) -> type:
    """A handler that plays its class's ``script`` on open, then writes "end"; it answers the
    text "report" with the payloads ``on_pong`` received (hex, as a JSON list)."""
    websocket: Any = impl.part("websocket")

    class Scripted(websocket.WebSocketHandler):
        script: list[tuple[str, Any]] = []

        def open(self, *args: Any) -> None:
            self.pongs: list[str] = []
            for kind, data in self.script:
                if kind == "ping":
                    self.ping(data)
                else:
                    self.write_message(data, binary=kind == "binary")
            self.write_message("end")

        def on_pong(self, data: bytes) -> None:
            self.pongs.append(bytes(data).hex())

        def on_message(self, message: Any) -> None:
            if message == "report":
                self.write_message(json.dumps(self.pongs))

    return Scripted


@check("Tornado docs: WebSocketHandler.write_message, WebSocketHandler.ping, WebSocketHandler.on_pong", Level.TORNADO)
@hypothesis_property(
    {"items": _items},
    seed=6455_0553,
    examples=[{"items": items} for items in EXAMPLES],
    ci_max_examples=4,
    wire=True,
)
def test_random_handler_writes_and_pings_reach_the_peer_in_order_and_pongs_reach_on_pong(
    impl, server, ws, run_client, items
):
    """WebSocketHandler.write_message: "Sends the given message to the client of this Web
    Socket"; ``ping``: "Send ping frame to the remote end. The data argument allows a small
    amount of data (up to 125 bytes) to be sent as a part of the ping message"; ``on_pong``:
    "Invoked when the response to a ping frame is received." A handler that writes a
    generated sequence of messages and pings in one go (in ``open``): the peer receives the
    messages in the order written, with their types, and the pings with their payloads in the
    order sent; the peer answers each ping (RFC 6455 §5.5.2), and on_pong receives each
    answer's payload, in order."""
    handler = _cached(server, "_conformance_script_handler", lambda: _script_handler(impl))
    srv = _cached(server, "_conformance_script_property", lambda: server.serve([("/ws", handler)]))
    pings = _pings(items)
    handler.script = [
        ("ping", ping) if kind == "ping" else (kind, data) for (kind, data), ping in _with_pings(items, pings)
    ]
    messages = _messages(items)

    async def run() -> None:
        async with await ws.open(srv, "/ws") as conn:
            received: list[str | bytes] = []
            try:
                for _ in range(len(messages) + 1):  # the messages, then "end"
                    received.append(await conn.receive_message())
                pings_received = list(conn.pings)
                await conn.send_text("report")
                report = await conn.receive_message()
            except ConnectionClosedError as exc:
                raise Violation(
                    f"after {len(received)} messages the implementation ended the connection with "
                    f"{how_it_ended(exc.closed)}; the handler wrote: {_show(items)}",
                    transcript=conn.transcript,
                ) from None
            expected = [*messages, "end"]
            if received != expected or [type(m) for m in received] != [type(m) for m in expected]:
                raise Violation(
                    f"the handler's messages did not reach the peer in the order and with the types written; the "
                    f"handler wrote (pings between): {_show(items)}, then 'end'",
                    expected=[describe_message(m) for m in expected],
                    observed=[describe_message(m) for m in received],
                    transcript=conn.transcript,
                )
            if pings_received != pings:
                raise Violation(
                    "the handler's pings did not reach the peer with their payloads, in the order sent (by the time "
                    f"the handler's last message came); the handler wrote: {_show(items)}",
                    expected=pings,
                    observed=pings_received,
                    transcript=conn.transcript,
                )
            try:
                reported: Any = [bytes.fromhex(p) for p in json.loads(report)]
            except (TypeError, ValueError):
                reported = f"not the handler's report: {describe_message(report)}"
            if reported != pings:
                raise Violation(
                    "on_pong did not receive the payload of each pong the peer sent, in order (the peer answered "
                    f"every ping before it sent 'report'); the handler wrote: {_show(items)}",
                    expected=pings,
                    observed=reported,
                    transcript=conn.transcript,
                )

    run_client(run)
