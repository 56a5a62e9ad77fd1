"""HTTPError.get_message: the log message with its arguments substituted, and a '%' of a message
without arguments kept single, in get_message and in the warning log_exception writes.

Reference: Tornado docs, HTTPError and RequestHandler.log_exception
(https://www.tornadoweb.org/en/stable/web.html#tornado.web.HTTPError), and the Tornado 6.5.0
release notes, tornado.web (https://www.tornadoweb.org/en/stable/releases/v6.5.0.html).
"""

from __future__ import annotations

import pytest

from conformance import Level, Trace, Violation, check, not_provided, requires

pytestmark = [pytest.mark.lifecycle, requires("web", "httpserver")]

#: (status, log_message, args, what get_message must return)
ERRORS = [
    (400, "50% off", (), "50% off"),
    (404, "user %s not found", ("a%b",), "user a%b not found"),
    (403, "%d%% of %s", (75, "quota"), "75% of quota"),
    (500, None, (), None),
]


@check(
    "Tornado 6.5.0 release notes (tornado.web); Tornado docs: HTTPError, RequestHandler.log_exception", Level.TORNADO
)
async def test_http_error_get_message_substitutes_once_and_is_what_is_logged(impl, server, http):
    """The 6.5.0 release notes: "% characters in the log message of tornado.web.HTTPError are no
    longer doubled when no additional arguments are passed. This matches the behavior of
    logging.LogRecord. A new method get_message has been added to HTTPError to allow access to
    the fully-substituted message". HTTPError: "log_message: Message to be written to the log for
    this error ... May contain %s-style placeholders, which will be filled in with remaining
    positional parameters." RequestHandler.log_exception "logs instances of HTTPError as
    warnings". A handler raising HTTPError(400, '50% off') logs one warning ending '50% off'."""
    web = impl.part("web")
    if not hasattr(web.HTTPError, "get_message"):
        not_provided(f"{impl.name}'s HTTPError has no get_message (before Tornado 6.5)")
    trace = Trace()

    class Raising(web.RequestHandler):
        def get(self):
            for status, message, args, _ in ERRORS:
                trace.add(
                    f"HTTPError{(status, message, *args)!r}.get_message() = "
                    f"{web.HTTPError(status, message, *args).get_message()!r}"
                )
            raise web.HTTPError(400, "50% off")

    srv = server.serve([("/", Raising)])
    response = await http.request(srv, "GET", "/")
    server.barrier()
    trace.assert_equal(
        [
            f"HTTPError{(status, message, *args)!r}.get_message() = {expected!r}"
            for status, message, args, expected in ERRORS
        ],
        "get_message must substitute the arguments into the log message once, and leave a message without "
        "arguments as it was given. What the handler got:",
    )
    warnings = [r.getMessage() for r in server.log.records if r.levelname == "WARNING"]
    if response.status != 400 or not any(w.startswith("400 ") and w.endswith(": 50% off") for w in warnings):
        raise Violation(
            "the handler raised HTTPError(400, '50% off'); the response or the warning log_exception wrote does not "
            "carry the message with a single '%'.",
            expected="400, and a warning '400 GET / (<ip>): 50% off'",
            observed=f"{response.describe()}; warnings {warnings!r}",
        )
