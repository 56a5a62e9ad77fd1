"""Differential fuzzing against h11: generated requests, parsed by the implementation and
by h11 from the same bytes.

Reference: RFC 9112 (https://www.rfc-editor.org/rfc/rfc9112) as h11 implements it.

Rules:

1. Valid requests (h11 parses them) must reach the handler exactly as h11 reads them:
   method, target, fields, body, in order, whatever the segmentation and pipelining.
2. Invalid requests (h11 rejects them) must be refused: a 4xx or a closed connection,
   never a 2xx, never the handler, never an unhandled exception.
3. The comparison tolerates only what the RFCs leave free; each tolerance is listed in
   `TOLERATED` with its reason. A failure shrinks to minimal bytes and prints them as a
   ``bytes`` literal ready to paste into a regression check.
"""

from __future__ import annotations

import functools
import json
from types import SimpleNamespace
from typing import Any

import h11
import pytest

from conformance import Level, NonStrict, Trace, Violation, check, hypothesis_property, requires

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]

#: Divergences between h11's reading and the handler's that the comparison allows.
TOLERATED = {
    "field-name case": "RFC 9110 §5.1: field names are case-insensitive; h11 lower-cases them, Tornado "
    "uses Http-Header-Case. Names are compared lower-cased.",
    "order across names": "RFC 9110 §5.3: the order of field lines with different names is not significant; "
    "only the order of lines with the same name is. Fields are compared as name -> [values in order].",
    "framing fields": "RFC 9112 §6.1/§6.3: Content-Length and Transfer-Encoding describe the framing, which "
    "the handler sees decoded as the body; they are compared like any other field, nothing is tolerated.",
}

TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
VCHAR = "".join(chr(c) for c in range(0x21, 0x7F))
PCHAR = "abcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@%"


@functools.cache
def _strategies(st: Any) -> SimpleNamespace:
    """The generators, built from ``hypothesis.strategies`` when a property first runs."""
    methods = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
    segments = st.text(alphabet=PCHAR.replace("%", ""), min_size=0, max_size=8)
    targets = st.builds(
        lambda parts, query: "/" + "/".join(parts) + (f"?{query}" if query is not None else ""),
        st.lists(segments, max_size=3),
        st.none() | st.text(alphabet=PCHAR.replace("%", "") + "/?", max_size=12),
    )
    field_names = st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=10).filter(
        lambda n: (
            n.lower()
            not in (
                "host",
                "content-length",
                "transfer-encoding",
                "connection",
                "expect",
                "content-type",
                "content-encoding",
                "te",
                "upgrade",
                "cookie",
            )
        )
    )
    field_values = st.text(alphabet=VCHAR + " \t", max_size=16).map(lambda v: v.strip(" \t"))
    fields = st.lists(st.tuples(field_names, field_values), max_size=5)
    bodies = st.binary(max_size=40)

    @st.composite
    def requests(draw: Any) -> tuple[bytes, dict[str, Any]]:
        """One well-formed request and what h11 reads from it."""
        method = draw(methods)
        target = draw(targets)
        headers = draw(fields)
        body = draw(bodies) if method in ("POST", "PUT", "PATCH") else b""
        chunked = bool(body) and draw(st.booleans())
        head = f"{method} {target} HTTP/1.1\r\nHost: conformance\r\n"
        head += "".join(f"{name}:{draw(st.sampled_from(['', ' ', chr(9)]))}{value}\r\n" for name, value in headers)
        if chunked:
            cuts = sorted(draw(st.sets(st.integers(1, len(body) - 1), max_size=3))) if len(body) > 1 else []
            pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)])]
            hexcase = draw(st.sampled_from(["%x", "%X"]))
            framed = b"".join((hexcase % len(p)).encode() + b"\r\n" + p + b"\r\n" for p in pieces) + b"0\r\n\r\n"
            head += "Transfer-Encoding: chunked\r\n"
        else:
            framed = body
            if body or draw(st.booleans()):
                head += f"Content-Length: {len(body)}\r\n"
        return head.encode("latin-1") + b"\r\n" + framed, {}

    @st.composite
    def invalid_requests(draw: Any) -> bytes:
        wire, _ = draw(requests())
        head_end = wire.index(b"\r\n\r\n")
        where = draw(st.sampled_from(["method", "target", "name", "value", "content-length"]))
        bad = draw(st.sampled_from(CORRUPTIONS))
        if where == "method":
            at = draw(st.integers(1, wire.index(b" ") - 1))
        elif where == "target":
            at = draw(st.integers(wire.index(b" ") + 2, wire.index(b" HTTP/")))
        elif where == "content-length":
            value = draw(st.sampled_from([b"+1", b"-1", b"1_0", b"0x1", b"1 1", b"1,2", b"", b"one"]))
            return wire[:head_end] + b"\r\nContent-Length: " + value + wire[head_end:]
        else:
            line = wire[:head_end].split(b"\r\n")[1]  # the Host line: always present
            start = wire.index(line)
            colon = start + line.index(b":")
            at = (
                draw(st.integers(start + 1, colon - 1))
                if where == "name"
                else draw(st.integers(colon + 2, start + len(line) - 1))
            )
        return wire[:at] + bad + wire[at:]

    return SimpleNamespace(requests=requests, invalid_requests=invalid_requests)


def h11_reading(wire: bytes) -> list[dict[str, Any]] | None:
    """What h11 (server role) reads from ``wire``: one dict per request, or None if it rejects it."""
    conn = h11.Connection(our_role=h11.SERVER)
    conn.receive_data(wire)
    conn.receive_data(b"")
    out: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    try:
        while True:
            event = conn.next_event()
            if isinstance(event, h11.Request):
                current = {
                    "method": event.method.decode("ascii"),
                    "uri": event.target.decode("latin-1"),
                    "fields": _grouped((k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers),
                    "body": b"",
                }
            elif isinstance(event, h11.Data):
                assert current is not None
                current["body"] += bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                assert current is not None
                out.append(current)
                current = None
                conn.send(h11.Response(status_code=200, headers=[("Content-Length", "0")]))
                conn.send(h11.EndOfMessage())
                conn.start_next_cycle()
            elif event is h11.NEED_DATA or isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                return out if current is None else None
    except h11.RemoteProtocolError:
        return None


def _grouped(pairs: Any) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name.lower(), []).append(value)
    return grouped


def _observer(impl: Any, trace: Trace) -> list[tuple[str, Any]]:
    web = impl.part("web")

    def observe(self: Any, *args: Any) -> None:
        request = self.request
        trace.add(f"{request.method} {request.uri}")
        self.finish(
            json.dumps(
                {
                    "method": request.method,
                    "uri": request.uri,
                    "fields": _grouped(request.headers.get_all()),
                    "body": request.body.decode("latin-1"),
                }
            )
        )

    methods_ns = {m: observe for m in ("get", "post", "put", "patch", "delete", "options")}
    return [(r".*", type("Observer", (web.RequestHandler,), methods_ns))]


def _serve_once(server: Any, impl: Any) -> tuple[Any, Trace]:
    # One server per check (fixtures are per check, examples many): kept on the fixture.
    cached = getattr(server, "_conformance_differential", None)
    if cached is None:
        trace = Trace()
        cached = (server.serve(_observer(impl, trace)), trace)
        server._conformance_differential = cached
    return cached


def _split(wire: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(wire) + 1) for c in cuts} | {0, len(wire)})
    return [wire[a:b] for a, b in zip(points, points[1:]) if b > a]


#: The seeds of the two properties, pinned (the ci profile would otherwise derive them from
#: each function's source, so that editing a message or a signature changes which examples
#: run, and with them which broken implementations are caught). These are the seeds the
#: functions' sources gave when the broken implementations' EXPECTED_FAILURES were written.
_SEEDS = (
    11850620219358547275072844386572249944608226583063581874589578694710708097395484275148910735407668249337518168612566,
    10451785444998113508493521702290036152064717554930025751445179142654401013933202030865121486510158515543398957923136,
)


#: Generated examples per property under the ``ci`` profile (``thorough`` runs its own
#: count). The explicit examples below are tried first, whatever the seed, so that the proof
#: of every broken implementation the properties catch rests on them, not on a random draw.
CI_MAX_EXAMPLES = 12

#: Pipelined batches of valid requests: a field line repeated (RFC 9110 §5.3 keeps every
#: line), Content-Length on a GET (a framing field like any other), a chunked body, and two
#: requests in one segment.
VALID_EXAMPLES = [
    [b"GET /r HTTP/1.1\r\nHost: conformance\r\nX-Repeat: a\r\nX-Repeat: b\r\n\r\n"],
    [b"GET /g HTTP/1.1\r\nHost: conformance\r\nContent-Length: 0\r\n\r\n"],
    [b"POST /c HTTP/1.1\r\nHost: conformance\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n"],
    [b"GET /1 HTTP/1.1\r\nHost: conformance\r\n\r\n", b"GET /2 HTTP/1.1\r\nHost: conformance\r\n\r\n"],
]

#: Invalid requests: no Host (RFC 9112 §3.2: 400), an invalid Content-Length on a GET, a
#: second Content-Length that is invalid, a space inside the target, a method that is not
#: a token.
INVALID_EXAMPLES = [
    b"GET / HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: conformance\r\nContent-Length: +1\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: conformance\r\nContent-Length: 0\r\nContent-Length: one\r\n\r\n",
    b"GET /a b HTTP/1.1\r\nHost: conformance\r\n\r\n",
    b"GE(T / HTTP/1.1\r\nHost: conformance\r\n\r\n",
]


def _regression(wire: bytes, segments_: list[bytes]) -> str:
    return f"regression case (paste into a check):\n    WIRE = {wire!r}\n    SEGMENTS = {segments_!r}"


@check("RFC 9112 §2-§7 (h11 as oracle)", Level.MUST)
@hypothesis_property(
    {
        "batch": lambda st: st.lists(_strategies(st).requests(), min_size=1, max_size=3),
        "cuts": lambda st: st.lists(st.integers(0, 10_000), max_size=4),
    },
    seed=_SEEDS[0],
    examples=[{"batch": [(wire, {}) for wire in batch], "cuts": []} for batch in VALID_EXAMPLES],
    ci_max_examples=CI_MAX_EXAMPLES,
    wire=True,
)
def test_handler_observes_what_h11_parses_from_generated_requests(impl, server, http, run_client, batch, cuts):
    """RFC 9112 §2.2: "a recipient SHALL parse an HTTP message as a sequence of octets";
    any segmentation or pipelining (RFC 9112 §9.3.2) of a valid message yields the same
    messages. For every generated batch of pipelined requests, split at random points,
    each handler run must see the method, target, fields (per `TOLERATED`) and body that
    h11 parses from the same bytes, in the same order."""
    wire = b"".join(request for request, _ in batch)
    expected = h11_reading(wire)
    assert expected is not None and len(expected) == len(batch), f"the generator made bytes h11 rejects: {wire!r}"
    for item in expected:
        item["body"] = item["body"].decode("latin-1")
    srv, _trace = _serve_once(server, impl)
    pieces = _split(wire, cuts)

    async def exchange() -> list[dict[str, Any]]:
        observed = []
        async with await http.connect(srv) as conn:
            await conn.send(pieces)
            for item in expected:
                answer = await conn.response_or_close(item["method"])
                if answer is None or answer.status != 200:
                    raise Violation(
                        f"request {len(observed) + 1} of {len(expected)} was not served, where h11 parses a valid "
                        f"request {item}.\n{_regression(wire, pieces)}",
                        expected="200 (the kit's handler answers every valid request)",
                        observed=answer.describe() if answer else "a closed connection",
                        transcript=conn.transcript,
                    )
                observed.append(json.loads(answer.body))
        return observed

    observed = run_client(exchange)
    for i, (seen, want) in enumerate(zip(observed, expected)):
        if seen != want:
            raise Violation(
                f"request {i + 1} of {len(expected)} reached the handler other than h11 parses the same bytes "
                f"(tolerated: {', '.join(TOLERATED)}).\n{_regression(wire, pieces)}",
                expected=f"as h11 parses it: {want}",
                observed=f"the handler saw: {seen}",
            )
    unhandled = server.log.unhandled_exceptions()
    assert not unhandled, f"{server.log.format(unhandled)}\n{_regression(wire, pieces)}"


#: Octets that make a request invalid where they are inserted (each outside the grammar of
#: the place it goes: RFC 9112 §3 for the request line, RFC 9110 §5.1/§5.5 for fields).
CORRUPTIONS = [b"\x00", b"\x01", b"\x0b", b"\x0c", b"\x7f", b"\r", b" ", b"(", b"\x1f"]


@check("RFC 9112 §2-§7 (h11 as oracle)", Level.MUST)
@hypothesis_property(
    {
        "wire": lambda st: _strategies(st).invalid_requests(),
        "cuts": lambda st: st.lists(st.integers(0, 10_000), max_size=2),
    },
    seed=_SEEDS[1],
    examples=[{"wire": wire, "cuts": []} for wire in INVALID_EXAMPLES],
    ci_max_examples=CI_MAX_EXAMPLES,
    wire=True,
)
def test_requests_h11_rejects_are_refused(impl, server, http, run_client, wire, cuts):
    """RFC 9112 §2.2: "A recipient that receives whitespace between the start-line and the
    first header field MUST either reject the message as invalid or ..."; §3, §5 and §6
    make malformed request lines, field lines and lengths invalid, answered 400 (RFC 9112
    §3, §5.1, §6.3). For every generated request that h11 rejects, the implementation
    answers 4xx and the handler never runs for it. A close without any response is
    non-strict: RFC 9112 §2.2 says a server "SHOULD respond with a 400 (Bad Request)
    response and close the connection" to octets outside the grammar (the checks of each
    rule judge its own status)."""
    from hypothesis import assume

    assume(h11_reading(wire) is None)
    srv, trace = _serve_once(server, impl)
    before = len(trace.events)
    pieces = _split(wire, cuts)

    async def exchange() -> Any:
        async with await http.connect(srv) as conn:
            await conn.send(pieces)
            answer = await conn.response_or_close("GET")
            return answer, conn.transcript.format()

    answer, transcript = run_client(exchange)
    if answer is not None and not 400 <= answer.status < 500:
        raise Violation(
            f"bytes h11 rejects as an invalid request were not refused.\n{_regression(wire, pieces)}",
            expected="4xx, or the connection closed",
            observed=answer.describe(),
            transcript=transcript,
        )
    server.barrier()
    assert len(trace.events) == before, (
        f"the handler ran ({trace.events[before:]}) for bytes h11 rejects.\n{_regression(wire, pieces)}"
    )
    unhandled = server.log.unhandled_exceptions()
    assert not unhandled, f"{server.log.format(unhandled)}\n{_regression(wire, pieces)}"
    if answer is None:
        raise NonStrict(
            f"bytes h11 rejects as an invalid request were refused by closing the connection without a response.\n"
            f"{_regression(wire, pieces)}",
            expected="a 4xx status (400)",
            observed="the connection closed without a response",
            transcript=transcript,
        )
