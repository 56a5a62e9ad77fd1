"""Which characters a response header value may carry: a tab is sent as it is, DEL is
refused with ``ValueError`` like the other control characters.

Reference: RFC 9110 §5.5 (https://www.rfc-editor.org/rfc/rfc9110#section-5.5): field-value
= *field-content, field-vchar = VCHAR / obs-text, with SP and HTAB allowed inside; Tornado
docs, ``RequestHandler.set_header``, and the Tornado 6.5.0 release notes (``tornado.web``).
"""

from __future__ import annotations

import pytest

from conformance import Level, Trace, Violation, check, requires

pytestmark = [pytest.mark.lifecycle, requires("web", "httpserver")]

RULE = "RFC 9110 §5.5 (field-value grammar); Tornado docs: RequestHandler.set_header; Tornado 6.5.0 release notes"


async def _attempt(impl, server, http, value: str):
    web = impl.part("web")
    trace = Trace()

    class Handler(web.RequestHandler):
        def get(self):
            try:
                self.set_header("X-Probe", value)
            except ValueError:
                trace.add("ValueError")
            except Exception as exc:
                trace.add(f"{type(exc).__name__}, not ValueError")
            else:
                trace.add("accepted")
            self.write("ok")

    srv = server.serve([("/", Handler)])
    async with await http.connect(srv) as conn:
        response = await conn.request("GET", "/")
    server.barrier()
    return trace.events, response, conn.transcript


@check(RULE, Level.TORNADO)
async def test_header_value_with_a_tab_is_sent_as_it_is(impl, server, http):
    """RFC 9110 §5.5: field-content = field-vchar [ 1*( SP / HTAB / field-vchar )
    field-vchar ]: a tab inside a value is valid. Tornado 6.5.0 release notes (tornado.web):
    "The set of characters allowed in (outgoing) HTTP headers now matches the RFCs.
    Specifically, tab characters are now allowed and DEL is not."
    ``set_header("X-Probe", "a\\tb")`` is accepted and the value reaches the
    client unchanged."""
    events, response, transcript = await _attempt(impl, server, http, "a\tb")
    if events != ["accepted"] or response.header("x-probe") != "a\tb":
        raise Violation(
            "set_header with a tab inside the value did not send the value as it is.",
            expected="set_header accepted it; X-Probe: 'a\\tb' on the wire",
            observed=f"set_header: {events}; X-Probe: {response.header('x-probe')!r}",
            transcript=transcript,
        )


@check(RULE, Level.TORNADO)
async def test_header_value_with_del_is_refused(impl, server, http):
    """RFC 9110 §5.5: field-vchar = VCHAR / obs-text; DEL (0x7F) is neither, so a value
    holding it is invalid. Tornado 6.5.0 release notes (tornado.web): "tab characters are
    now allowed and DEL is not." ``set_header("X-Probe", "a\\x7fb")`` raises
    ``ValueError``, as for the other control characters."""
    events, response, transcript = await _attempt(impl, server, http, "a\x7fb")
    if events != ["ValueError"]:
        raise Violation(
            "set_header accepted a value holding DEL (0x7F), which is not a field-vchar.",
            expected=["ValueError"],
            observed=f"set_header: {events}; X-Probe on the wire: {response.header('x-probe')!r}",
            transcript=transcript,
        )
