"""Negotiation in the opening handshake: the subprotocol the handler selects, and the
permessage-deflate extension with its parameters.

References: RFC 6455 §4.2.2 (https://www.rfc-editor.org/rfc/rfc6455#section-4.2.2);
RFC 7692 §5 and §7.1 (https://www.rfc-editor.org/rfc/rfc7692#section-7.1); Tornado docs,
WebSocketHandler.select_subprotocol and get_compression_options.
"""

from __future__ import annotations

import pytest
from wsproto.extensions import PerMessageDeflate

from conformance import Level, Trace, Violation, check, requires

from ._support import compressing_echo_handler, describe_message, echo_handler, handshake_fields, text_payload

pytestmark = [pytest.mark.websocket, requires("web", "httpserver", "websocket")]


@check("RFC 6455 §4.2.2; Tornado docs: WebSocketHandler.select_subprotocol", Level.MUST)
@pytest.mark.parametrize("choice", [pytest.param("chat.v1", id="one-selected"), pytest.param(None, id="none-selected")])
async def test_selected_subprotocol_is_sent_back_and_only_then(impl, server, ws, choice):
    """RFC 6455 §4.2.2: |Sec-WebSocket-Protocol| "Either a single value representing the
    subprotocol the server is ready to use or null"; "The null value ... means that the
    |Sec-WebSocket-Protocol| header field MUST NOT be included". Tornado docs,
    select_subprotocol: "``subprotocols`` is a list of strings identifying the subprotocols
    proposed by the client. ... Return ``None`` to not select a subprotocol." """
    websocket = impl.part("websocket")
    offered = Trace()

    class Handler(websocket.WebSocketHandler):
        def select_subprotocol(self, subprotocols):
            offered.add(list(subprotocols))
            return choice

    srv = server.serve([("/ws", Handler)])
    async with await ws.open(srv, "/ws", subprotocols=["chat.v2", "chat.v1"]) as conn:
        assert conn.handshake is not None
        header = handshake_fields(conn).get("sec-websocket-protocol")
        transcript = conn.transcript.format()
    if offered.events != [["chat.v2", "chat.v1"]] or header != choice:
        raise Violation(
            f"the client offered the subprotocols chat.v2, chat.v1 and select_subprotocol returned {choice!r}: "
            "Tornado passes the offered list in order, and the 101 carries the selected value, or no field at all "
            "when none is selected.",
            expected=f"select_subprotocol called with [['chat.v2', 'chat.v1']], Sec-WebSocket-Protocol {choice!r}",
            observed=f"select_subprotocol called with {offered.events!r}, Sec-WebSocket-Protocol {header!r}",
            transcript=transcript,
        )


# (offer, what the response must say about it): RFC 7692 §7.1.
DEFLATE_OFFERS = [
    pytest.param({}, None, id="default"),
    pytest.param({"server_no_context_takeover": True}, "server_no_context_takeover", id="server-no-context-takeover"),
    pytest.param({"client_no_context_takeover": True}, None, id="client-no-context-takeover"),
    pytest.param({"server_max_window_bits": 10}, "server_max_window_bits", id="server-max-window-bits"),
    pytest.param({"client_max_window_bits": 12}, None, id="client-max-window-bits"),
]


def _parameters(header: str) -> dict[str, str | None]:
    """The parameters of the permessage-deflate element of a Sec-WebSocket-Extensions value."""
    for element in header.split(","):
        name, *params = [p.strip() for p in element.split(";")]
        if name.lower() == "permessage-deflate":
            parsed: dict[str, str | None] = {}
            for param in params:
                key, sep, value = param.partition("=")
                parsed[key.strip().lower()] = value.strip().strip('"') if sep else None
            return parsed
    return {}


@check("RFC 7692 §7.1", Level.MUST)
@pytest.mark.parametrize(("offer", "required"), DEFLATE_OFFERS)
async def test_permessage_deflate_is_accepted_with_the_offered_parameters(impl, server, ws, offer, required):
    """RFC 7692 §7.1.1.1: "A server accepts an extension negotiation offer with this
    parameter by including the "server_no_context_takeover" extension parameter in the
    response". §7.1.2.1: "If a server accepts an extension negotiation offer with this
    parameter, the server MUST include the "server_max_window_bits" extension parameter in the
    extension negotiation response, with the same or smaller value as the offer." A handler
    whose get_compression_options returns a dict (Tornado docs) accepts the offer, and a
    compressed message then crosses the connection both ways."""
    srv = server.serve([("/ws", compressing_echo_handler(impl))])
    async with await ws.open(srv, "/ws", extensions=[PerMessageDeflate(**offer)]) as conn:
        assert conn.handshake is not None
        header = handshake_fields(conn).get("sec-websocket-extensions", "")
        params = _parameters(header)
        problems = []
        if "permessage-deflate" not in header.lower():
            problems.append("permessage-deflate was not accepted")
        elif required == "server_no_context_takeover" and required not in params:
            problems.append("server_no_context_takeover is missing from the response")
        elif required == "server_max_window_bits":
            bits = params.get("server_max_window_bits")
            if bits is None or not bits.isdigit() or not 8 <= int(bits) <= 10:
                problems.append(f"server_max_window_bits is {bits!r}, not a value of at most the offered 10")
        if problems:
            raise Violation(
                f"the client offered permessage-deflate with {offer or 'no parameters'} to a handler whose "
                f"get_compression_options returns {{}}: {'; '.join(problems)}.",
                observed=f"Sec-WebSocket-Extensions {header!r}",
                transcript=conn.transcript,
            )
        sent = text_payload(3000)
        for _ in range(2):
            await conn.send_text(sent)
            echoed = await conn.receive_message()
            if echoed != sent:
                raise Violation(
                    f"with permessage-deflate negotiated ({header!r}), a text of 3000 bytes did not come back intact "
                    "(RFC 7692 §7.2).",
                    expected=describe_message(sent),
                    observed=describe_message(echoed),
                    transcript=conn.transcript,
                )


@check("Tornado docs: WebSocketHandler.get_compression_options; RFC 7692 §5", Level.TORNADO)
async def test_no_extension_is_negotiated_when_the_handler_does_not_enable_compression(impl, server, ws):
    """Tornado docs, get_compression_options: "Override to return compression options for the
    connection. If this method returns None (the default), compression will be disabled."
    RFC 7692 §5: the server declines an offer by not including it in the response."""
    srv = server.serve([("/ws", echo_handler(impl))])
    async with await ws.open(srv, "/ws", extensions=[PerMessageDeflate()]) as conn:
        assert conn.handshake is not None
        header = handshake_fields(conn).get("sec-websocket-extensions")
        if header is not None:
            raise Violation(
                "a handler that does not override get_compression_options accepted an extension: Tornado documents "
                "compression as disabled by default.",
                expected="no Sec-WebSocket-Extensions",
                observed=f"Sec-WebSocket-Extensions {header!r}",
                transcript=conn.transcript,
            )
