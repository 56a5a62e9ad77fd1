"""Header fields: names, values, repetition, folding, Host, and the size of the head.

Reference: RFC 9112 §5 (https://www.rfc-editor.org/rfc/rfc9112#section-5), RFC 9110 §5
(https://www.rfc-editor.org/rfc/rfc9110#section-5) and RFC 9112 §3.2 for Host. What the
handler sees is read back through Tornado's ``HTTPHeaders`` (``headers[name]`` and
``headers.get_list(name)``).
"""

from __future__ import annotations

import json

import pytest

from conformance import Level, NonStrict, Trace, Violation, check, requires

from ._apps import MUST_400, SHOULD_400_AND_CLOSE, Refusal, assert_rejected, raw_request

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]


def _header_app(impl, trace=None):
    """Answers JSON: for each name listed in the query (comma-separated), what
    ``headers.get(name)`` and ``headers.get_list(name)`` return."""
    web = impl.part("web")

    class Fields(web.RequestHandler):
        def get(self):
            if trace is not None:
                trace.add(f"GET {self.request.path}")
            names = self.request.query.split(",") if self.request.query else []
            headers = self.request.headers
            self.finish(json.dumps({name: [headers.get(name), headers.get_list(name)] for name in names}))

    return [(r"/.*", Fields)]


async def _observed(http, srv, head_lines: str, names: list[str]):
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("GET", "/?" + ",".join(names), head_lines))
        answer = await conn.receive_response("GET")
    return answer, (json.loads(answer.body) if answer.status == 200 else None), conn


@check("RFC 9110 §5.1", Level.MUST)
async def test_field_names_are_case_insensitive(impl, server, http):
    """RFC 9110 §5.1: "Field names are case-insensitive"; Tornado documents
    ``HTTPHeaders`` as "a dictionary that maintains Http-Header-Case for all keys". A
    field sent as ``x-pRoBe`` is found under every spelling of its name."""
    srv = server.serve(_header_app(impl))
    names = ["X-Probe", "x-probe", "X-PROBE"]
    answer, seen, conn = await _observed(http, srv, "x-pRoBe: value", names)
    expected = {name: ["value", ["value"]] for name in names}
    if seen != expected:
        raise Violation(
            f"the handler's lookups of 'x-pRoBe: value' depend on the case of the name (answer: "
            f"{answer.describe()}): field names are case-insensitive.",
            expected=expected,
            observed=seen,
            transcript=conn.transcript,
        )


@check("RFC 9110 §5.3", Level.MUST)
async def test_repeated_field_lines_are_all_kept_in_order(impl, server, http):
    """RFC 9110 §5.3: "A recipient MAY combine multiple field lines within a field section
    that have the same field name into one field line ... by appending each subsequent
    field line value to the initial field line value in order, separated by a comma". The
    order is significant, so no line may be dropped or reordered; Tornado exposes the
    lines through ``get_list`` and their comma-joined combination through ``headers[name]``."""
    srv = server.serve(_header_app(impl))
    _answer, seen, conn = await _observed(
        http, srv, "X-Multi: a\r\nX-Other: o\r\nx-multi: b, c\r\nX-Multi: d", ["X-Multi"]
    )
    values = seen["X-Multi"] if seen else None
    ok = (
        values is not None
        and values[1] == ["a", "b, c", "d"]
        and [v.strip() for v in values[0].split(",")] == list("abcd")
    )
    if not ok:
        raise Violation(
            "three 'X-Multi' lines (a / b, c / d) did not reach the handler whole and in order: every line is "
            "kept, and the combined value is their comma-separated list.",
            expected="get='a, b, c, d' (spacing aside), get_list=['a', 'b, c', 'd']",
            observed=f"get={values and values[0]!r}, get_list={values and values[1]!r}",
            transcript=conn.transcript,
        )


@check("RFC 9110 §5.5", Level.MUST)
async def test_field_values_are_trimmed_of_spaces_and_tabs_only(impl, server, http):
    """RFC 9110 §5.5: "a field value does not include leading or trailing whitespace ...
    a recipient of such a field line MUST exclude such whitespace prior to evaluating
    the field value", where that whitespace is OWS = *( SP / HTAB ). Other octets are
    part of the value: a non-breaking space (0xA0, obs-text) is kept. Tornado before
    6.4.1 stripped every Unicode whitespace (GHSA-753j-mpmx-qq6g)."""
    srv = server.serve(_header_app(impl))
    _answer, seen, conn = await _observed(
        http, srv, "X-Spaces: \t  value \t \r\nX-Nbsp: \xa0value\xa0", ["X-Spaces", "X-Nbsp"]
    )
    got = {name: values[0] for name, values in (seen or {}).items()}
    expected = {"X-Spaces": "value", "X-Nbsp": "\xa0value\xa0"}
    if got != expected:
        raise Violation(
            "the field values the handler saw were trimmed wrongly: only SP and HTAB around a value are excluded "
            "(0xA0 is obs-text, part of the value).",
            expected=expected,
            observed=got,
            transcript=conn.transcript,
        )


@check("RFC 9112 §5.2", Level.MUST)
async def test_obs_fold_is_rejected_or_replaced_by_a_space(impl, server, http):
    """RFC 9112 §5.2: "A server that receives an obs-fold in a request message that is not
    within a "message/http" container MUST either reject the message by sending a 400 (Bad
    Request) ... or replace each received obs-fold with one or more SP octets prior to
    interpreting the field value". A folded line is never a field line of its own: the
    text ``X-Injected: yes`` on a continuation line must not become a field."""
    trace = Trace()
    srv = server.serve(_header_app(impl, trace))
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("GET", "/?X-Folded,X-Injected", "X-Folded: first\r\n X-Injected: yes"))
        answer = await conn.response_or_close("GET")
    if answer is None:
        raise Violation(
            "a request with an obs-fold was met with a closed connection and no response: RFC 9112 §5.2 lets the "
            "server reject it only 'by sending a 400 (Bad Request)', or unfold it.",
            expected="400, or 'X-Folded: first X-Injected: yes' and no 'X-Injected' field",
            observed="the connection closed without a response",
            transcript=conn.transcript,
        )
    if 400 <= answer.status < 500:
        if answer.status != 400:
            raise NonStrict(
                f"a request with an obs-fold was refused with {answer.status}, where RFC 9112 §5.2 names 400.",
                expected="400 (Bad Request)",
                observed=answer.describe(),
                transcript=conn.transcript,
            )
        return
    seen = json.loads(answer.body) if answer.status == 200 else None
    ok = (
        seen is not None
        and seen["X-Injected"][0] is None
        and seen["X-Folded"][0].split() == ["first", "X-Injected:", "yes"]
    )
    if not ok:
        raise Violation(
            "a request with an obs-fold was neither rejected nor unfolded: its continuation line is joined to the "
            "previous value with SP, never read as a field of its own.",
            expected="400, or 'X-Folded: first X-Injected: yes' and no 'X-Injected' field",
            observed=f"{answer.describe()}, the handler saw {seen}",
            transcript=conn.transcript,
        )


#: RFC 9110 §5.5: "a recipient of CR, LF, or NUL within a field value MUST either reject the
#: message or replace each of those characters with SP"; the rejection's status is RFC 9112
#: §2.2's (SHOULD 400 and close). Replacing is checked too: the handler then sees SP.
CR_LF_NUL = check("RFC 9110 §5.5", Level.MUST)
#: RFC 9110 §5.5: "Field values containing other CTL characters are also invalid; however,
#: recipients MAY retain such characters for the sake of robustness". Tornado refuses them
#: (since 6.5): its choice, not the RFC's.
OTHER_CTL = check("RFC 9110 §5.5 (MAY retain other CTLs); Tornado 6.5 release notes", Level.TORNADO)
#: RFC 9110 §5.1: field-name = token; a line that is not a field line does not match the
#: HTTP-message grammar, and RFC 9112 §2.2 says the server "SHOULD respond with a 400 (Bad
#: Request) response and close the connection".
NOT_A_FIELD_LINE = check("RFC 9110 §5.1; RFC 9112 §2.2", Level.SHOULD)
#: RFC 9112 §5.1: "A server MUST reject, with a response status code of 400 (Bad Request),
#: any received request message that contains whitespace between a header field name and colon."
WHITESPACE_BEFORE_COLON = Refusal(
    (400,),
    True,
    None,
    "RFC 9112 §5.1: a server MUST reject, with a 400 (Bad Request), a request with whitespace between a field name "
    "and the colon",
)

INVALID_FIELD_LINES = [
    pytest.param("X-Probe : v", WHITESPACE_BEFORE_COLON, None, id="space-before-colon"),
    pytest.param("X Probe: v", SHOULD_400_AND_CLOSE, None, id="space-in-name", marks=NOT_A_FIELD_LINE),
    pytest.param("X-Pr(be: v", SHOULD_400_AND_CLOSE, None, id="separator-in-name", marks=NOT_A_FIELD_LINE),
    pytest.param(": v", SHOULD_400_AND_CLOSE, None, id="empty-name", marks=NOT_A_FIELD_LINE),
    pytest.param("X-Probe", SHOULD_400_AND_CLOSE, None, id="no-colon", marks=NOT_A_FIELD_LINE),
    pytest.param("X-Probe: a\x00b", SHOULD_400_AND_CLOSE, "a b", id="nul-in-value", marks=CR_LF_NUL),
    pytest.param("X-Probe: a\rb", SHOULD_400_AND_CLOSE, "a b", id="bare-cr-in-value", marks=CR_LF_NUL),
    pytest.param("X-Probe: v\x0b", SHOULD_400_AND_CLOSE, None, id="vertical-tab-ending-value", marks=OTHER_CTL),
    pytest.param("X-Probe: \x0cv", SHOULD_400_AND_CLOSE, None, id="form-feed-starting-value", marks=OTHER_CTL),
    pytest.param("X-Probe: a\x7fb", SHOULD_400_AND_CLOSE, None, id="del-in-value", marks=OTHER_CTL),
    pytest.param("X-Pr\xe9be: v", SHOULD_400_AND_CLOSE, None, id="non-ascii-in-name", marks=NOT_A_FIELD_LINE),
]


@check("RFC 9112 §5.1", Level.MUST)
@pytest.mark.parametrize("line, refusal, replaced", INVALID_FIELD_LINES)
async def test_invalid_field_line_is_rejected(impl, server, http, line, refusal, replaced):
    """Each case carries the level of its own rule. RFC 9112 §5.1: "No whitespace is
    allowed between the field name and colon ... A server MUST reject, with a response
    status code of 400 (Bad Request), any received request message that contains
    whitespace between a header field name and colon." RFC 9110 §5.1 makes the name a
    token, so other broken names are not field lines (RFC 9112 §2.2: SHOULD 400 and
    close). RFC 9110 §5.5: "a recipient of CR, LF, or NUL within a field value MUST either
    reject the message or replace each of those characters with SP" (``replaced``: what
    the handler may see instead), while other controls MAY be retained: refusing them is
    Tornado's choice. A field line is never served as sent."""
    trace = Trace()
    srv = server.serve(_header_app(impl, trace))
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("GET", "/?X-Probe", line))
        answer = await conn.response_or_close("GET")
        if replaced is not None and answer is not None and answer.status == 200:
            seen = json.loads(answer.body)["X-Probe"][0]
            if seen != replaced:
                raise Violation(
                    f"a request with the field line {line!r} was served with the value as received: a CR, LF or "
                    "NUL in a field value is rejected, or replaced with SP before any processing.",
                    expected=f"a refusal, or the value {replaced!r}",
                    observed=f"the handler saw {seen!r}",
                    transcript=conn.transcript,
                )
            return
        await assert_rejected(
            conn, server, trace, f"a request with the field line {line!r}", refusal=refusal, answer=answer
        )


@check("RFC 9112 §3.2", Level.MUST)
@pytest.mark.parametrize(
    "head",
    [
        pytest.param(b"GET / HTTP/1.1\r\n\r\n", id="missing-host"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n", id="two-host-lines"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: a.example, b.example\r\n\r\n", id="host-list"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: a.exa mple\r\n\r\n", id="space-in-host"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: a.example/x\r\n\r\n", id="path-in-host"),
    ],
)
async def test_missing_duplicate_or_invalid_host_is_rejected(impl, server, http, head):
    """RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code to any
    HTTP/1.1 request message that lacks a Host header field and to any request message
    that contains more than one Host header field line or a Host header field with an
    invalid field value." The Host value is uri-host [ ":" port ] (RFC 9110 §7.2)."""
    trace = Trace()
    srv = server.serve(_header_app(impl, trace))
    async with await http.connect(srv) as conn:
        await conn.send(head)
        await assert_rejected(conn, server, trace, f"the request {head!r}", refusal=MUST_400)


#: RFC 9110 §5.4: "A server that receives a request header field line, field value, or set
#: of fields larger than it wishes to process MUST respond with an appropriate 4xx (Client
#: Error) status code." (RFC 6585 §5 defines 431 for it.)
HEAD_TOO_LARGE = Refusal(
    (),
    True,
    None,
    "RFC 9110 §5.4: a server that receives a set of fields larger than it wishes to process MUST respond with an "
    "appropriate 4xx status code (such as 431)",
)


@check("RFC 9110 §5.4", Level.MUST)
@pytest.mark.parametrize(
    "field",
    [pytest.param("X-Big: " + "v" * 3000, id="one-large-field"), pytest.param("X-F: v\r\n" * 300, id="many-fields")],
)
async def test_head_larger_than_max_header_size_is_refused(impl, server, http, field):
    """RFC 9110 §5.4: "A server that receives a request header field line, field value, or
    set of fields larger than it wishes to process MUST respond with an appropriate 4xx
    (Client Error) status code. Ignoring such header fields would increase the server's
    vulnerability to request smuggling attacks." Tornado's ``HTTPServer`` documents
    ``max_header_size`` as the bound of the request head: past it, a 4xx (431 is the
    status RFC 6585 §5 defines for it), never the handler, and never a silent close."""
    trace = Trace()
    srv = server.serve(_header_app(impl, trace), max_header_size=1024)
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("GET", "/", field))
        await assert_rejected(
            conn, server, trace, "a request head of about 3 KiB (max_header_size=1024)", refusal=HEAD_TOO_LARGE
        )
