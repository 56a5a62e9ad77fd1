"""The opening handshake, refused: versions the server does not speak, malformed requests,
cross-origin requests, and handlers that reject the request in ``prepare()``.

References: RFC 6455 §4.2.1, §4.2.2 and §4.4 (https://www.rfc-editor.org/rfc/rfc6455#section-4.2.1);
Tornado docs, WebSocketHandler.check_origin and RequestHandler.prepare
(https://www.tornadoweb.org/en/stable/websocket.html).
"""

from __future__ import annotations

import anyio
import pytest

from conformance import Level, NonStrict, Timeout, Trace, Violation, check, requires

from ._support import echo_handler

pytestmark = [pytest.mark.websocket, requires("web", "httpserver", "websocket")]

#: The sample key of RFC 6455 §1.3 (16 bytes once base64-decoded).
KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def handshake(
    *, method: str = "GET", path: str = "/ws", drop: tuple[str, ...] = (), **fields: str
) -> tuple[bytes, dict[str, str]]:
    """A raw opening handshake: the valid one of RFC 6455 §4.1 with fields dropped or replaced."""
    headers = {
        "Host": "127.0.0.1",
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": KEY,
        "Sec-WebSocket-Version": "13",
    }
    headers.update({name.replace("_", "-"): value for name, value in fields.items()})
    for name in drop:
        headers.pop(name)
    lines = [f"{method} {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"), headers


async def exchange(http, srv, request: bytes) -> tuple[int, dict[str, str], str]:
    """Send ``request`` and read the response head: (status, fields lower-cased, transcript)."""
    async with await http.connect(srv) as conn:
        await conn.send(request)
        received = b""
        with anyio.move_on_after(http.timeout) as deadline:
            while b"\r\n\r\n" not in received:
                try:
                    data = await conn.stream.receive(65536)
                except (anyio.EndOfStream, anyio.BrokenResourceError, ConnectionError):
                    break
                conn.transcript.received(data)
                received += data
        transcript = conn.transcript.format()
    if b"\r\n\r\n" not in received:
        verdict = Timeout if deadline.cancel_called else Violation
        raise verdict(
            f"the implementation sent no complete response head to the opening handshake within {http.timeout:g}s; "
            "RFC 6455 §4.2.1 requires an HTTP response (an error status for a refused handshake).",
            transcript=transcript,
        )
    head = received.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    status_line, *lines = head.split("\r\n")
    fields: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        fields[key] = f"{fields[key]}, {value.strip()}" if key in fields else value.strip()
    parts = status_line.split(" ")
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    return status, fields, transcript


@check("RFC 6455 §4.2.2 (/version/), §4.4", Level.MUST)
@pytest.mark.parametrize(
    "version",
    [pytest.param("12", id="version-12"), pytest.param("14", id="version-14"), pytest.param(None, id="missing")],
)
async def test_unsupported_version_is_refused_with_426_naming_version_13(impl, server, http, version):
    """RFC 6455 §4.2.2, /version/: "If this version does not match a version understood by the
    server, the server MUST abort the WebSocket handshake described in this section and
    instead send an appropriate HTTP error code (such as 426 Upgrade Required) and a
    |Sec-WebSocket-Version| header field indicating the version(s) the server is capable of
    understanding." (§4.4 repeats the header's MUST, its example answering 400.) A missing
    version is no version the server understands either. 426 is the code the RFC names,
    the strict form; another 4xx with the header meets the MUST (non-strict)."""
    srv = server.serve([("/ws", echo_handler(impl))])
    if version is None:
        request, _ = handshake(drop=("Sec-WebSocket-Version",))
        told = "no Sec-WebSocket-Version"
    else:
        request, _ = handshake(Sec_WebSocket_Version=version)
        told = f"Sec-WebSocket-Version: {version}"
    status, fields, transcript = await exchange(http, srv, request)
    versions = [v.strip() for v in fields.get("sec-websocket-version", "").split(",")]
    observed = f"{status}, Sec-WebSocket-Version {fields.get('sec-websocket-version')!r}"
    if not 400 <= status < 500 or "13" not in versions:
        raise Violation(
            f"an opening handshake with {told} was not aborted with an error status naming the version the server "
            "supports.",
            expected="426 Upgrade Required (or another 4xx), Sec-WebSocket-Version listing 13",
            observed=observed,
            transcript=transcript,
        )
    if status != 426:
        raise NonStrict(
            f"an opening handshake with {told} was aborted with another error status than the 426 the RFC names.",
            expected="426 Upgrade Required, Sec-WebSocket-Version listing 13",
            observed=observed,
            transcript=transcript,
        )


MALFORMED = [
    pytest.param("GET", {"drop": ("Sec-WebSocket-Key",)}, "no Sec-WebSocket-Key", id="missing-key"),
    pytest.param("GET", {"Sec_WebSocket_Key": "c2hvcnQga2V5"}, "a Sec-WebSocket-Key of 9 bytes", id="key-not-16-bytes"),
    pytest.param(
        "GET", {"Sec_WebSocket_Key": "not base64!"}, "a Sec-WebSocket-Key that is not base64", id="key-not-base64"
    ),
    pytest.param("POST", {}, "the method POST", id="post-method"),
    pytest.param("GET", {"drop": ("Upgrade",)}, "no Upgrade field", id="missing-upgrade"),
    pytest.param("GET", {"Upgrade": "h2c"}, "Upgrade: h2c", id="upgrade-not-websocket"),
    pytest.param("GET", {"drop": ("Connection",)}, "no Connection field", id="missing-connection"),
    pytest.param(
        "GET",
        {"Connection": "keep-alive"},
        "Connection: keep-alive (no Upgrade token)",
        id="connection-without-upgrade",
    ),
]


@check("RFC 6455 §4.2.1", Level.MUST)
@pytest.mark.parametrize(("method", "change", "defect"), MALFORMED)
async def test_malformed_opening_handshake_is_refused_with_4xx(impl, server, http, method, change, defect):
    """RFC 6455 §4.2.1: the client's handshake must be "An HTTP/1.1 or higher GET request",
    with "An |Upgrade| header field containing the value "websocket"", "A |Connection| header
    field that includes the token "Upgrade"" and "A |Sec-WebSocket-Key| header field with a
    base64-encoded value that, when decoded, is 16 bytes in length". "If the server, while reading the handshake, finds that the client did
    not send a handshake that matches the description below ..., the server MUST stop
    processing the client's handshake and return an HTTP response with an appropriate error
    code (such as 400 Bad Request)." """
    opened = Trace()
    websocket = impl.part("websocket")

    class Handler(websocket.WebSocketHandler):
        def open(self):
            opened.add("open")

    srv = server.serve([("/ws", Handler)])
    change = dict(change)
    request, _ = handshake(method=method, drop=change.pop("drop", ()), **change)
    status, _, transcript = await exchange(http, srv, request)
    server.barrier()
    if not 400 <= status < 500 or opened.events:
        raise Violation(
            f"an opening handshake with {defect} was not refused: the server stops processing it and answers with "
            "an error status.",
            expected="a 4xx status (such as 400 Bad Request), no open() call",
            observed=f"{status}{', and open() was called' if opened.events else ''}",
            transcript=transcript,
        )


@check("Tornado docs: WebSocketHandler.check_origin; RFC 6455 §4.2.2", Level.TORNADO)
async def test_cross_origin_handshake_is_refused_with_403_by_default(impl, server, http):
    """Tornado docs, WebSocketHandler.check_origin: "By default, this rejects all requests
    with an origin on a host other than this one." RFC 6455 §4.2.2: "If the server does not
    wish to accept this connection, it MUST return an appropriate HTTP error code (e.g., 403
    Forbidden)". The same request from the same origin is accepted."""
    srv = server.serve([("/ws", echo_handler(impl))])
    host = f"{srv.host}:{srv.port}"
    foreign, _ = handshake(Host=host, Origin="http://evil.example")
    same, _ = handshake(Host=host, Origin=f"http://{host}")
    status, _, transcript = await exchange(http, srv, foreign)
    same_status, _, same_transcript = await exchange(http, srv, same)
    if status != 403 or same_status != 101:
        raise Violation(
            "Tornado's default check_origin refuses a handshake from another origin (403, as RFC 6455 §4.2.2 "
            "suggests) and accepts one from its own (101).",
            expected=f"Origin http://evil.example: 403, Origin http://{host}: 101",
            observed=f"Origin http://evil.example: {status}, Origin http://{host}: {same_status}",
            transcript=f"{transcript}\n{same_transcript}",
        )


@check("Tornado docs: WebSocketHandler.check_origin", Level.TORNADO)
@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        pytest.param("https://allowed.example", 101, id="allowed"),
        pytest.param("https://other.example", 403, id="refused"),
    ],
)
async def test_check_origin_override_is_honoured(impl, server, http, origin, expected):
    """Tornado docs, WebSocketHandler.check_origin: "Override to enable support for allowing
    alternate origins. The ``origin`` argument is the value of the ``Origin`` HTTP header ...
    If this method returns False, the handshake is refused with 403." """
    websocket = impl.part("websocket")
    asked = Trace()

    class Handler(websocket.WebSocketHandler):
        def check_origin(self, origin):
            asked.add(origin)
            return origin == "https://allowed.example"

    srv = server.serve([("/ws", Handler)])
    request, _ = handshake(Origin=origin)
    status, _, transcript = await exchange(http, srv, request)
    if status != expected or asked.events != [origin]:
        raise Violation(
            f"a handler whose check_origin allows only https://allowed.example did not decide a handshake from "
            f"Origin {origin} as Tornado documents: one call with the Origin value, then the handler's answer.",
            expected=f"check_origin called with {[origin]!r}, then {expected}",
            observed=f"check_origin called with {asked.events!r}, then {status}",
            transcript=transcript,
        )


@check("Tornado docs: RequestHandler.prepare; WebSocketHandler", Level.TORNADO)
async def test_prepare_can_reject_the_handshake(impl, server, http):
    """Tornado docs, WebSocketHandler: "the handler runs ``prepare()`` ... before the
    handshake"; RequestHandler.prepare: "If this method ... raises an error, the request is
    not processed further" (here ``raise HTTPError(401)``), so the handshake is refused and
    ``open()`` never runs."""
    websocket = impl.part("websocket")
    web = impl.part("web")
    opened = Trace()

    class Handler(websocket.WebSocketHandler):
        def prepare(self):
            raise web.HTTPError(401)

        def open(self):
            opened.add("open")

    srv = server.serve([("/ws", Handler)])
    request, _ = handshake()
    status, _, transcript = await exchange(http, srv, request)
    server.barrier()
    if status != 401 or opened.events:
        raise Violation(
            "prepare() raised HTTPError(401), which ends the request as Tornado documents, yet the handshake went on.",
            expected="401, no open() call",
            observed=f"{status}{', and open() was called' if opened.events else ''}",
            transcript=transcript,
        )


@check("Tornado docs: WebSocketHandler.open", Level.TORNADO)
async def test_open_receives_the_path_arguments(impl, server, ws):
    """Tornado docs, WebSocketHandler.open: "Invoked when a new WebSocket is opened. The
    arguments to ``open`` are extracted from the ``tornado.web.URLSpec`` regular expression,
    just like the arguments to ``tornado.web.RequestHandler.get``." """
    websocket = impl.part("websocket")
    seen = Trace()

    class Handler(websocket.WebSocketHandler):
        def open(self, *args, **kwargs):
            seen.add((args, kwargs))

    srv = server.serve([(r"/ws/(\w+)/(\d+)", Handler), (r"/kw/(?P<room>\w+)", Handler)])
    async with await ws.open(srv, "/ws/lobby/42"):
        pass
    async with await ws.open(srv, "/kw/kitchen"):
        pass
    events = seen.wait_for(2, ws.timeout, "call open() for both connections")
    expected = [(("lobby", "42"), {}), ((), {"room": "kitchen"})]
    if events != expected:
        raise Violation(
            "open() did not get the URL pattern's groups as RequestHandler.get does, for /ws/lobby/42 on "
            "r'/ws/(\\w+)/(\\d+)' and /kw/kitchen on r'/kw/(?P<room>\\w+)'.",
            expected=expected,
            observed=events,
        )
