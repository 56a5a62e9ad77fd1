"""A field value continued with obs-fold, when the server unfolds it rather than refusing
it, carries no trailing whitespace: the spaces after the last continuation are not part of
the value.

Reference: RFC 9112 §5 (https://www.rfc-editor.org/rfc/rfc9112#section-5: field-line =
field-name ":" OWS field-value OWS) and §5.2 (obs-fold: 400, or each fold replaced by SP),
RFC 9110 §5.5 ("a field value does not include leading or trailing whitespace") and the
Tornado 6.5.0 release notes (``tornado.httputil``).
"""

from __future__ import annotations

import json

import pytest

from conformance import Level, NonStrict, Violation, check, requires

from ._apps import raw_request
from .test_fields import _header_app

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]


@check("RFC 9112 §5, §5.2 (MUST); RFC 9110 §5.5; Tornado 6.5.0 release notes (tornado.httputil)", Level.MUST)
async def test_unfolded_field_value_has_no_trailing_whitespace(impl, server, http):
    """RFC 9112 §5.2: a server "MUST either reject the message by sending a 400 (Bad
    Request) ... or replace each received obs-fold with one or more SP octets prior to
    interpreting the field value"; RFC 9110 §5.5: "a field value does not include leading
    or trailing whitespace". Tornado 6.5.0 release notes: "Handling of trailing whitespace
    in headers has been improved, especially with ``obs-fold`` continuation lines" (6.6
    refuses obs-fold with 400). ``X-Folded: first  `` continued by ``  second  `` is
    either refused with 400 or seen by the handler as ``first second``, without the
    trailing spaces."""
    srv = server.serve(_header_app(impl))
    async with await http.connect(srv) as conn:
        await conn.send(raw_request("GET", "/?X-Folded", "X-Folded: first  \r\n  second  "))
        answer = await conn.response_or_close("GET")
    if answer is None:
        raise Violation(
            "a request with an obs-fold was met with a closed connection and no response: RFC 9112 §5.2 lets the "
            "server reject it only by sending a 400 (Bad Request), or unfold it.",
            expected="400, or the value 'first second'",
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
    value = seen["X-Folded"][0] if seen else None
    if value is None or value.split() != ["first", "second"] or value != value.strip(" \t"):
        raise Violation(
            "the unfolded field value kept whitespace around it: the SP and HTAB after the last continuation line "
            "are optional whitespace, not part of the value.",
            expected="400, or the value 'first second' (one or more SP between the two words)",
            observed=f"{answer.describe()}, the handler saw {value!r}",
            transcript=conn.transcript,
        )
