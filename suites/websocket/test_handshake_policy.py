"""The opening handshake as Tornado's release notes shape it: the headers ``prepare`` and
``set_default_headers`` set travel with the 101, only version 13 of the protocol is spoken
(the 2011 drafts 7 and 8 are refused), and ``check_origin`` is consulted only for requests
that look cross-origin, its default honouring the ``trusted_origins`` setting.

References: RFC 6455 §4.2.2 (https://www.rfc-editor.org/rfc/rfc6455#section-4.2.2);
Tornado 4.5.0 and 6.6.0 release notes (tornado.websocket,
https://www.tornadoweb.org/en/stable/releases.html); Tornado docs, WebSocketHandler.check_origin
(https://www.tornadoweb.org/en/stable/websocket.html#tornado.websocket.WebSocketHandler.check_origin).
"""

from __future__ import annotations

import pytest

from conformance import Level, Trace, Violation, check, requires

from ._support import echo_handler, handshake_fields
from .test_handshake_validation import exchange, handshake

pytestmark = [pytest.mark.websocket, requires("web", "httpserver", "websocket")]


@check(
    "Tornado 4.5.0 release notes (tornado.websocket); Tornado docs: RequestHandler.set_default_headers, "
    "RequestHandler.prepare",
    Level.TORNADO,
)
async def test_headers_set_in_prepare_and_set_default_headers_are_sent_with_the_101(impl, server, ws):
    """Tornado 4.5.0 release notes: "Headers set by RequestHandler.prepare or
    RequestHandler.set_default_headers are now sent as a part of the websocket handshake."
    A handler sets X-Default in ``set_default_headers`` and X-Prepare in ``prepare``; the
    101 that accepts the handshake carries both."""
    base = echo_handler(impl)

    class Headed(base):  # type: ignore[valid-type,misc]
        def set_default_headers(self):
            self.set_header("X-Default", "from set_default_headers")

        def prepare(self):
            self.set_header("X-Prepare", "from prepare")

    srv = server.serve([("/ws", Headed)])
    async with await ws.open(srv, "/ws") as conn:
        fields = handshake_fields(conn)
        await conn.send_text("still open")
        await conn.receive_message()
    observed = {name: fields.get(name) for name in ("x-default", "x-prepare")}
    if observed != {"x-default": "from set_default_headers", "x-prepare": "from prepare"}:
        raise Violation(
            "the handler set X-Default in set_default_headers and X-Prepare in prepare; the 101 accepting the "
            "handshake did not carry them.",
            expected="X-Default: from set_default_headers, X-Prepare: from prepare",
            observed=", ".join(f"{name}: {value!r}" for name, value in observed.items()),
            transcript=conn.transcript,
        )


@check("Tornado 6.6.0 release notes (tornado.websocket); RFC 6455 §4.2.2 (/version/), §4.4", Level.TORNADO)
@pytest.mark.parametrize("version", [pytest.param("7", id="version-7"), pytest.param("8", id="version-8")])
async def test_draft_versions_7_and_8_are_refused_with_426_naming_version_13(impl, server, http, version):
    """Tornado 6.6.0 release notes: "Versions 7 and 8 of the WebSocket protocol (pre-standard
    drafts from 2011) are no longer supported; only version 13 (RFC 6455) is accepted."
    RFC 6455 §4.2.2 leaves the versions a server understands to it; once it does not speak
    one, "the server MUST abort the WebSocket handshake ... and instead send an appropriate
    HTTP error code (such as 426 Upgrade Required) and a |Sec-WebSocket-Version| header
    field indicating the version(s) the server is capable of understanding." A handshake
    that is valid but for Sec-WebSocket-Version 7 (or 8) is answered 426, naming 13."""
    srv = server.serve([("/ws", echo_handler(impl))])
    request, _ = handshake(Sec_WebSocket_Version=version)
    status, fields, transcript = await exchange(http, srv, request)
    versions = [v.strip() for v in fields.get("sec-websocket-version", "").split(",")]
    if status != 426 or versions != ["13"]:
        raise Violation(
            f"an opening handshake with Sec-WebSocket-Version: {version} (a 2011 draft) was not refused with 426 "
            "naming version 13 alone.",
            expected="426 Upgrade Required, Sec-WebSocket-Version: 13",
            observed=f"{status}, Sec-WebSocket-Version {fields.get('sec-websocket-version')!r}",
            transcript=transcript,
        )


#: (fields of the handshake beyond the valid ones, whether check_origin is overridden to refuse,
#: the application's settings, what makes the request acceptable). ``{port}`` is the server's.
_SAME_ORIGIN = [
    pytest.param(
        {"Origin": "http://127.0.0.1:{port}"},
        True,
        {},
        "its Origin matches its Host, so check_origin is not consulted",
        id="origin-matches-host",
    ),
    pytest.param(
        {"Origin": "http://localhost:{port}", "Sec_Fetch_Site": "same-origin"},
        True,
        {},
        "Sec-Fetch-Site: same-origin says so, so check_origin is not consulted",
        id="sec-fetch-site-same-origin",
    ),
    pytest.param(
        {"Origin": "http://trusted.example"},
        False,
        {"trusted_origins": ["http://trusted.example"]},
        "the default check_origin accepts an origin listed in trusted_origins",
        id="trusted-origins",
    ),
]


@check(
    "Tornado 6.6.0 release notes (tornado.websocket); Tornado docs: WebSocketHandler.check_origin",
    Level.TORNADO,
)
@pytest.mark.parametrize(("fields", "refusing", "settings", "why"), _SAME_ORIGIN)
async def test_check_origin_is_skipped_for_same_origin_requests_and_honours_trusted_origins(
    impl, server, http, fields, refusing, settings, why
):
    """Tornado 6.6.0 release notes: "WebSocketHandler.check_origin is no longer called for
    requests that can be determined to be same-origin, using the Sec-Fetch-Site header or
    (if that header is absent) by comparing the Origin and Host headers. Its default
    implementation now calls RequestHandler.check_trusted_origin, so origins listed in the
    trusted_origins application setting are accepted." A handler whose check_origin refuses
    every origin accepts a handshake whose Origin matches its Host, or that says
    Sec-Fetch-Site: same-origin, without calling it; a handler with the default check_origin
    accepts an Origin listed in trusted_origins."""
    base = echo_handler(impl)
    consulted = Trace()

    class Guarded(base):  # type: ignore[valid-type,misc]
        def check_origin(self, origin):
            consulted.add(origin)
            return False

    srv = server.serve([("/ws", Guarded if refusing else base)], settings)
    host = f"127.0.0.1:{srv.port}"
    extra = {name: value.format(port=srv.port) for name, value in fields.items()}
    request, _ = handshake(Host=host, **extra)
    status, _, transcript = await exchange(http, srv, request)
    server.barrier()
    if status != 101 or consulted.events:
        told = ", ".join(f"{name.replace('_', '-')}: {value}" for name, value in extra.items())
        raise Violation(
            f"an opening handshake with Host: {host}, {told} was not accepted although {why}.",
            expected="101 Switching Protocols, check_origin not called" if refusing else "101 Switching Protocols",
            observed=f"{status}" + (f", check_origin called with {consulted.events!r}" if refusing else ""),
            transcript=transcript,
        )
