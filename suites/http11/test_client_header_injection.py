"""The client side, header injection: the implementation's HTTP client refuses CR and LF in a field value.

A field value given to ``fetch`` that holds a CR or an LF would, written as is, end the field
line early: the rest is a field (or a request) of the caller's choosing, the way untrusted
data smuggles requests. Each check asks the implementation's client to send such a value to
the kit's scripted server (fixture ``h11_server``) and judges that the fetch failed and
that the value never reached the wire.

References: RFC 9110 §5.5 (https://www.rfc-editor.org/rfc/rfc9110#section-5.5); Tornado
6.4.1 release notes (https://www.tornadoweb.org/en/stable/releases/v6.4.1.html).
"""

from __future__ import annotations

import pytest

from conformance import Level, Violation, check, not_provided, requires

pytestmark = [pytest.mark.http11, requires("httpclient")]

MARK = "smuggled"
VALUES = {
    "cr": f"a\r{MARK}",
    "lf": f"a\n{MARK}",
    "crlf-field": f"a\r\nX-{MARK}: 1",
}


def _received(h11_server) -> bytes:
    """Every byte the kit's servers received from the client."""
    return b"".join(
        data
        for conn in h11_server.kit.connections()
        for direction, data in conn.transcript.entries
        if direction == "<<" and isinstance(data, bytes)
    )


@check("RFC 9110 §5.5; Tornado 6.4.1 release notes (tornado.simple_httpclient)", Level.MUST)
@pytest.mark.parametrize("case", list(VALUES))
async def test_client_refuses_cr_and_lf_in_a_field_value(h11_server, case):
    """RFC 9110 §5.5: "Field values containing CR, LF, or NUL characters are invalid and
    dangerous, due to the varying ways that implementations might parse and interpret those
    characters; a recipient of CR, LF, or NUL within a field value MUST either reject the
    message or replace each of those characters with SP before further processing or
    forwarding of that message." Tornado 6.4.1 release notes: "``simple_httpclient`` now
    prohibits carriage return characters in HTTP headers. It had previously prohibited only
    linefeed characters." The fetch fails before the value is written."""
    value = VALUES[case]

    async def respond(request, conn):
        await conn.respond(200, [("Content-Type", "text/plain")], b"served")

    origin = await h11_server.listen(respond)
    httpclient = h11_server.impl.part("httpclient")
    if not hasattr(httpclient, "AsyncHTTPClient"):
        not_provided(f"{h11_server.impl.name}'s httpclient part has no AsyncHTTPClient")
    client_error = getattr(httpclient, "HTTPClientError", None) or httpclient.HTTPError

    async def impl_side() -> tuple[bool, str]:
        # The field goes in an HTTPRequest (not as a fetch keyword): what is judged is the value.
        client = httpclient.AsyncHTTPClient(force_instance=True)
        try:
            request = httpclient.HTTPRequest(origin.url("/probe"), headers={"X-Probe": value})
            response = await client.fetch(request, raise_error=False)
        except Exception as exc:
            return not isinstance(exc, client_error), f"raised {type(exc).__name__}({exc})"
        finally:
            client.close()
        error = getattr(response, "error", None)
        if response.code == 599 and isinstance(error, Exception):
            # Before Tornado 6.0, raise_error=False returned the exception in a 599 response.
            return not isinstance(error, client_error), f"returned a 599 carrying {type(error).__name__}({error})"
        return False, f"returned a {response.code} response"

    refused, outcome = await h11_server.kit.run(impl_side, f"fetch with X-Probe: {value!r}")
    leaked = MARK.encode() in _received(h11_server)
    if not refused or leaked:
        raise Violation(
            f"the client did not refuse the field value {value!r}: a CR or LF in it ends the field line on the "
            "wire, and what follows is a field of the caller's data (header injection).",
            expected="the fetch raises (a ValueError, no HTTPClientError) and the value never reaches the server",
            observed=f"{outcome}; the value {'reached' if leaked else 'did not reach'} the server",
            transcript=h11_server.transcripts(),
        )
