"""Methods the handler does not support are answered 405 without calling a verb method.

Reference: Tornado docs, RequestHandler HTTP verb methods and SUPPORTED_METHODS
(https://www.tornadoweb.org/en/stable/web.html#entry-points).
"""

from __future__ import annotations

import pytest

from conformance import Level, Trace, Violation, check, requires

pytestmark = [pytest.mark.lifecycle, requires("web", "httpserver")]


@pytest.mark.parametrize(
    "method",
    [
        pytest.param(
            "POST",
            id="verb-not-implemented",
            marks=check("RFC 9110 §9.1 (SHOULD 405); Tornado docs: RequestHandler HTTP verb methods", Level.SHOULD),
        ),
        pytest.param(
            "BREW",
            id="verb-outside-supported-methods",
            marks=check(
                "Tornado docs: RequestHandler.SUPPORTED_METHODS; RFC 9110 §9.1 (SHOULD 501: Tornado answers 405)",
                Level.TORNADO,
            ),
        ),
    ],
)
async def test_unsupported_method_gets_405_without_calling_a_verb_method(impl, server, http, method):
    """Tornado docs: "Implement any of the following methods (collectively known as the HTTP verb
    methods) to handle the corresponding HTTP method", and "To support a method not on this list,
    override the class variable SUPPORTED_METHODS". Tornado answers 405 Method Not Allowed both to
    a standard method the handler does not implement (POST here) and to a method missing from
    SUPPORTED_METHODS even when the handler has a method of that name (BREW here).

    RFC 9110 §9.1: "An origin server that receives a request method that is unrecognized or not
    implemented SHOULD respond with the 501 (Not Implemented) status code. An origin server that
    receives a request method that is recognized and implemented, but not allowed for the
    target resource, SHOULD respond with the 405 (Method Not Allowed) status code." POST is
    recognized and implemented by the server but not allowed by this handler: 405 is the RFC's
    SHOULD. BREW is a method the server does not recognize: the RFC's SHOULD is 501, and 405
    there is Tornado's choice (TORNADO)."""
    web = impl.part("web")
    calls = Trace()

    class Handler(web.RequestHandler):
        def get(self):
            calls.add("get")
            self.write("get")

        def brew(self):  # not in SUPPORTED_METHODS, so never a verb method
            calls.add("brew")
            self.write("brew")

    srv = server.serve([("/", Handler)])
    response = await http.request(srv, method, "/")
    server.barrier()
    calls.assert_equal(
        [],
        f"the handler defines get() and brew() but supports neither POST nor BREW (BREW is not in "
        f"SUPPORTED_METHODS), so a {method} request must not call any of them; the implementation called:",
    )
    if response.status != 405:
        raise Violation(
            f"{method} / on a handler that implements only get() (and brew(), outside SUPPORTED_METHODS) was not "
            "answered 405 Method Not Allowed as Tornado does.",
            expected="405 Method Not Allowed",
            observed=response.describe(),
        )
