"""Third-party sign-in (``tornado.auth``): the mixins' exchanges with an identity provider.

Each check serves a login handler (a ``RequestHandler`` mixing in one of the ``auth``
part's mixins) on the implementation, drives it with the kit's ``http`` client, and points
the mixin at a fake provider: an HTTP/1.1 server of the kit on 127.0.0.1 (h11 judges what
the implementation's client sends it) that answers the token or verification requests
with scripted bodies. The provider is the kit's, not a second Application of the
implementation, so that what it receives and answers never depends on the implementation
under test. A mixin learns its provider's addresses from class attributes
(``_OAUTH_ACCESS_TOKEN_URL``, ``_OPENID_ENDPOINT``...), the documented way to point it
elsewhere; a check that must set one the docs do not list says so.

A sign-in that fails must still answer the browser's request. Hanging is told without a
deadline: once the provider has answered, and the implementation has served two later
requests on other connections, a handler that finishes "at once" has answered
(`_sign_in`); a request with nothing written by then is left hanging, a violation.

Reference: Tornado docs, ``tornado.auth``
(https://www.tornadoweb.org/en/stable/auth.html); OpenID Authentication 2.0
(https://openid.net/specs/openid-authentication-2_0.html); Tornado's release notes
(https://www.tornadoweb.org/en/stable/releases.html), cited per check.
"""

from __future__ import annotations

import base64
import contextlib
import json
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import anyio.abc
import pytest

from conformance import Level, Timeout, Violation, check, not_provided, requires
from conformance.wire import Response
from conformance.wire.h11_server import ClientRequest, ServerConnection

pytestmark = [pytest.mark.cookies, requires("web", "httpserver", "httpclient", "auth")]

#: How long the kit reads for a response that, after `_served_after`, is already on its
#: way: it bounds a wait, never decides a verdict.
_ALREADY_SENT = 0.01

#: OAuth 1.0a tokens of the fake provider (lengths multiple of 3: base64 without padding).
REQUEST_KEY, REQUEST_SECRET = "reqkey", "reqsecret"
ACCESS_KEY, ACCESS_SECRET = "acckey", "accsecret"

Respond = Callable[[ClientRequest, ServerConnection], Awaitable[None]]


class _Provider:
    """The fake identity provider: the kit's HTTP/1.1 server on a free port of 127.0.0.1,
    one request per connection, each answered by the check's ``respond``."""

    def __init__(self, listener: anyio.abc.SocketListener, port: int, timeout: float, respond: Respond) -> None:
        self.listener = listener
        self.port = port
        self.timeout = timeout
        self.respond = respond
        self.requests: list[ClientRequest] = []
        self.connections: list[ServerConnection] = []
        self.errors: list[BaseException] = []
        self.answered = 0  #: responses sent (each followed by the close of its connection)
        self._changed = anyio.Event()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def wait_answered(self, count: int) -> None:
        while self.answered < count:
            await self._changed.wait()

    async def _accept(self, tg: anyio.abc.TaskGroup) -> None:
        while True:
            try:
                stream = await self.listener.accept()
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                return
            conn = ServerConnection(stream, 0, len(self.connections), self.timeout)
            self.connections.append(conn)
            tg.start_soon(self._serve, conn)

    async def _serve(self, conn: ServerConnection) -> None:
        try:
            request = await conn.read_request()
            if request is not None:
                self.requests.append(request)
                await self.respond(request, conn)
        except Exception as exc:  # an h11-rejected request, a deadline: the check's verdict
            self.errors.append(exc)
        await conn.close()
        if conn.requests:
            self.answered += 1
            self._changed.set()
            self._changed = anyio.Event()

    def transcripts(self) -> str:
        parts = [f" provider connection {c.index + 1}:\n{c.transcript.format()}" for c in self.connections]
        return "\n".join(parts) if parts else "   (the implementation never connected to the fake provider)"


@contextlib.asynccontextmanager
async def _provider(timeout: float, respond: Respond) -> AsyncIterator[_Provider]:
    """A fake provider serving while the block runs; what went wrong on its side (a request
    h11 refuses) is raised when the block ends."""
    multi = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    listener = multi.listeners[0]
    assert isinstance(listener, anyio.abc.SocketListener)
    port = int(listener.extra(anyio.abc.SocketAttribute.local_address)[1])
    provider = _Provider(listener, port, timeout, respond)
    failure: Exception | None = None
    async with anyio.create_task_group() as tg:
        tg.start_soon(provider._accept, tg)
        try:
            yield provider
        except Exception as exc:  # raised below, outside the task group (not as a group)
            failure = exc
        tg.cancel_scope.cancel()
    for conn in provider.connections:
        await conn.close()
    await listener.aclose()
    if failure is not None:
        raise failure
    if provider.errors:
        raise provider.errors[0]


async def _answer(conn: ServerConnection, status: int, body: bytes, content_type: str = "text/plain") -> None:
    await conn.respond(status, [("Content-Type", content_type), ("Connection", "close")], body)


def _require(auth: Any, mixin: str) -> None:
    if getattr(auth, mixin, None) is None:
        not_provided(f"auth.{mixin}")


def _routes(web: Any, login: Any) -> list[Any]:
    class ServedAfter(web.RequestHandler):
        def get(self) -> None:
            self.write("later")

    return [("/login", login), ("/served-after", ServedAfter)]


async def _served_after(http: Any, srv: Any) -> None:
    """Return once the implementation has answered two requests sent, each on a fresh
    connection, after the provider's answer: an event loop serves what is readable in
    turn, so by then it has read that answer and run what it scheduled at once."""
    for _ in range(2):
        async with await http.connect(srv) as later:
            await later.request("GET", "/served-after")


async def _sign_in(
    http: Any, srv: Any, provider: _Provider, target: str, headers: list[tuple[str, str]], answered: int = 1
) -> Response | None:
    """The response to ``GET target``, or None when the request was left hanging: nothing
    of a response had come by the time the provider had sent its ``answered``-th answer and
    the implementation had served two later requests (`_served_after`).

    Either the response or the provider's answer must come within the deadline."""
    async with await http.connect(srv) as conn:
        await conn.send_request("GET", target, headers)
        outcome: dict[str, Any] = {}
        responded = anyio.Event()
        hanging = False

        async def read() -> None:
            try:
                outcome["response"] = await conn.receive_response("GET")
            except Exception as exc:  # a Timeout, a ProtocolViolation: raised below
                outcome["error"] = exc
            responded.set()

        async def first_of_response_or_answer() -> None:
            async with anyio.create_task_group() as race:

                async def settle(waiting: Callable[[], Awaitable[Any]]) -> None:
                    await waiting()
                    race.cancel_scope.cancel()

                race.start_soon(settle, responded.wait)
                race.start_soon(settle, lambda: provider.wait_answered(answered))

        async def judge(tg: anyio.abc.TaskGroup) -> None:
            nonlocal hanging
            with anyio.move_on_after(conn.timeout) as waited:
                await first_of_response_or_answer()
            if waited.cancel_called:
                outcome["neither"] = True
            elif not responded.is_set():
                await _served_after(http, srv)
                with anyio.move_on_after(_ALREADY_SENT):
                    await responded.wait()
                hanging = not responded.is_set() and not any(d == "<<" for d, _ in conn.transcript.entries)
            if hanging or outcome.get("neither"):
                tg.cancel_scope.cancel()

        async with anyio.create_task_group() as tg:
            tg.start_soon(read)
            try:
                await judge(tg)
            except Exception as exc:  # a later request failed: raised below, not as a group
                outcome["later"] = exc
                tg.cancel_scope.cancel()
        if "later" in outcome:
            raise outcome["later"]
        if outcome.get("neither"):
            raise Timeout(
                f"the implementation neither answered the sign-in request nor had the provider's answer within "
                f"{conn.timeout:g}s (--conformance-timeout); a login handler asks its provider at once.",
                transcript=f"{conn.transcript.format()}\n{provider.transcripts()}",
            )
        if hanging:
            return None
        if "error" in outcome:
            raise outcome["error"]
        response: Response = outcome["response"]
        return response


def _hanging(what: str, provider: _Provider, expected: str) -> Violation:
    return Violation(
        f"{what}; the request was left hanging: nothing of a response had come once the provider had answered "
        "and the implementation had served two later requests on other connections.",
        expected=expected,
        observed="no response",
        transcript=provider.transcripts(),
    )


def _request_token_cookie() -> tuple[str, str]:
    """The ``_oauth_request_token`` cookie authorize_redirect sets: base64(key)|base64(secret)."""
    value = base64.b64encode(REQUEST_KEY.encode()).decode() + "|" + base64.b64encode(REQUEST_SECRET.encode()).decode()
    return ("Cookie", f"_oauth_request_token={value}")


async def _oauth10a_provider(request: ClientRequest, conn: ServerConnection) -> None:
    """Request tokens at ``/request_token``, access tokens (for ``reqkey``) at ``/access_token``."""
    path, _, query = request.target.partition("?")
    args = urllib.parse.parse_qs(query)
    if path == "/request_token":
        body = f"oauth_token={REQUEST_KEY}&oauth_token_secret={REQUEST_SECRET}&oauth_callback_confirmed=true"
        await _answer(conn, 200, body.encode())
    elif path == "/access_token" and args.get("oauth_token") == [REQUEST_KEY]:
        await _answer(conn, 200, f"oauth_token={ACCESS_KEY}&oauth_token_secret={ACCESS_SECRET}".encode())
    else:
        await _answer(conn, 400, b"unknown token request")


@check(
    "Tornado 5.1.0 release notes (tornado.auth); Tornado docs: OAuthMixin._oauth_get_user_future, "
    "OAuthMixin.get_authenticated_user (TORNADO)",
    Level.TORNADO,
)
async def test_oauth_get_user_future_may_be_a_native_coroutine(impl, server, http, conformance_timeout):
    """Tornado docs, OAuthMixin: "Subclasses must also override the
    ``_oauth_get_user_future`` and ``_oauth_consumer_token`` methods" (the mixin's
    documented override point, underscore or not); ``_oauth_get_user_future``: "Subclasses
    may also define this method with ``async def``" (since 5.1), and "The access token will
    be added to the returned dictionary to make the result of ``get_authenticated_user``."
    The callback request carries the request token and its cookie; the provider trades it
    for an access token; the ``async def`` override sees that token, and its user, with
    the token added, is what ``get_authenticated_user`` returns."""
    web: Any = impl.part("web")
    auth: Any = impl.part("auth")
    _require(auth, "OAuthMixin")
    async with _provider(conformance_timeout, _oauth10a_provider) as provider:

        class Login(web.RequestHandler, auth.OAuthMixin):
            _OAUTH_AUTHORIZE_URL = provider.url("/authorize")
            _OAUTH_ACCESS_TOKEN_URL = provider.url("/access_token")
            _OAUTH_VERSION = "1.0a"

            def _oauth_consumer_token(self) -> dict[str, str]:
                return {"key": "kit-consumer", "secret": "kit-consumer-secret"}

            async def _oauth_get_user_future(self, access_token: dict[str, Any]) -> dict[str, Any]:
                return {"name": "ada", "token_seen": access_token["key"]}

            async def get(self) -> None:
                user = await self.get_authenticated_user()
                self.finish(json.dumps(user, sort_keys=True))

        srv = server.serve(_routes(web, Login))
        target = f"/login?oauth_token={REQUEST_KEY}&oauth_verifier=kit-verifier"
        response = await _sign_in(http, srv, provider, target, [_request_token_cookie()])
    expected = {"name": "ada", "token_seen": ACCESS_KEY, "access_token": {"key": ACCESS_KEY, "secret": ACCESS_SECRET}}
    if response is None:
        raise _hanging(
            "get_authenticated_user of an OAuthMixin whose _oauth_get_user_future is 'async def' never finished",
            provider,
            f"200 with {expected}",
        )
    user = json.loads(response.body) if response.status == 200 else response.describe()
    if user != expected:
        raise Violation(
            "get_authenticated_user of an OAuthMixin whose _oauth_get_user_future is 'async def' did not return "
            "the user that coroutine built, with the access token added.",
            expected=f"200 with {expected}",
            observed=user if response.status == 200 else f"{response.describe()}: {response.body[:300]!r}",
            transcript=provider.transcripts(),
        )


@check(
    "Tornado 5.1.1 release notes (bug fixes); Tornado docs: TwitterMixin.authenticate_redirect, "
    "OAuthMixin.authorize_redirect (TORNADO)",
    Level.TORNADO,
)
async def test_twitter_authenticate_redirect_redirects_to_the_authenticate_url(impl, server, http, conformance_timeout):
    """Tornado docs, TwitterMixin.authenticate_redirect: "Just like authorize_redirect, but
    auto-redirects if authorized"; OAuthMixin.authorize_redirect "sets a cookie called
    ``_oauth_request_token``" and redirects the user to the service. With the consumer key
    in the ``twitter_consumer_key`` setting, the mixin gets a request token from the
    provider's request-token endpoint, then redirects to its authenticate URL with
    ``oauth_token`` and sets the cookie. TwitterMixin's endpoints are class attributes
    (``_OAUTH_REQUEST_TOKEN_URL``, ``_OAUTH_AUTHENTICATE_URL``, ``_OAUTH_AUTHORIZE_URL``)
    that the docs do not list; overriding them in the subclass is the only way to point
    the mixin at the fake provider."""
    web: Any = impl.part("web")
    auth: Any = impl.part("auth")
    _require(auth, "TwitterMixin")
    async with _provider(conformance_timeout, _oauth10a_provider) as provider:
        authenticate_url = provider.url("/authenticate")

        class Login(web.RequestHandler, auth.TwitterMixin):
            _OAUTH_REQUEST_TOKEN_URL = provider.url("/request_token")
            _OAUTH_ACCESS_TOKEN_URL = provider.url("/access_token")
            _OAUTH_AUTHORIZE_URL = provider.url("/authorize")
            _OAUTH_AUTHENTICATE_URL = authenticate_url

            async def get(self) -> None:
                await self.authenticate_redirect()

        settings = {"twitter_consumer_key": "kit-consumer", "twitter_consumer_secret": "kit-consumer-secret"}
        srv = server.serve(_routes(web, Login), settings)
        response = await _sign_in(http, srv, provider, "/login", [])
    expected = f"302 to {authenticate_url}?oauth_token={REQUEST_KEY}, setting cookie _oauth_request_token"
    if response is None:
        raise _hanging("TwitterMixin.authenticate_redirect never finished", provider, expected)
    location = urllib.parse.urlsplit(response.header("location") or "")
    cookies = [c.split(";", 1)[0].partition("=") for c in response.header_list("set-cookie")]
    asked = [urllib.parse.parse_qs(r.target.partition("?")[2]).get("oauth_consumer_key") for r in provider.requests]
    if not (
        response.status == 302
        and f"{location.scheme}://{location.netloc}{location.path}" == authenticate_url
        and urllib.parse.parse_qs(location.query).get("oauth_token") == [REQUEST_KEY]
        and any(name.strip() == "_oauth_request_token" for name, _, _ in cookies)
        and asked == [["kit-consumer"]]
    ):
        raise Violation(
            "TwitterMixin.authenticate_redirect, given a request token by the provider, did not redirect the user "
            "to the authenticate URL with it.",
            expected=f"{expected}; one request-token request with oauth_consumer_key=kit-consumer",
            observed=(
                f"{response.describe()}, Location {response.header('location')!r}, "
                f"Set-Cookie {response.header_list('set-cookie')}, {response.body[:200]!r}; "
                f"consumer keys the provider saw: {asked}"
            ),
            transcript=provider.transcripts(),
        )


async def _failing_provider(request: ClientRequest, conn: ServerConnection) -> None:
    """The request-token endpoint fails with 500; the access-token endpoint answers 200
    with a body that carries no token (an error page served as a success)."""
    if request.target.startswith("/request_token"):
        await _answer(conn, 500, b"provider failure")
    else:
        await _answer(conn, 200, b"<html>temporarily unavailable</html>", "text/html")


@check(
    "Tornado 5.1.1 release notes (bug fixes: errors in tornado.auth no longer leave requests hanging); "
    "Tornado docs: OAuthMixin.authorize_redirect, OAuthMixin.get_authenticated_user (TORNADO)",
    Level.TORNADO,
)
@pytest.mark.parametrize("step", ["request-token-500", "access-token-unreadable"])
async def test_provider_error_is_raised_not_left_hanging(impl, server, http, conformance_timeout, step):
    """Tornado 5.1.1 release notes: errors in ``tornado.auth`` no longer leave requests
    hanging. ``authorize_redirect`` and ``get_authenticated_user`` return awaitables
    (Tornado docs, OAuthMixin); when the provider fails, awaiting them raises, and the
    handler answers. ``request-token-500``: the request-token endpoint answers 500 to
    ``authorize_redirect``; ``access-token-unreadable``: the access-token endpoint answers
    200 with a body carrying no token to ``get_authenticated_user``. The handler catches
    the error and answers 502. (The request-token address, ``_OAUTH_REQUEST_TOKEN_URL``, is
    a class attribute the docs do not list beside the others; overriding it is the only
    way to point the mixin at the fake provider.)"""
    web: Any = impl.part("web")
    auth: Any = impl.part("auth")
    _require(auth, "OAuthMixin")
    async with _provider(conformance_timeout, _failing_provider) as provider:

        class Login(web.RequestHandler, auth.OAuthMixin):
            _OAUTH_REQUEST_TOKEN_URL = provider.url("/request_token")
            _OAUTH_AUTHORIZE_URL = provider.url("/authorize")
            _OAUTH_ACCESS_TOKEN_URL = provider.url("/access_token")
            _OAUTH_VERSION = "1.0a"

            def _oauth_consumer_token(self) -> dict[str, str]:
                return {"key": "kit-consumer", "secret": "kit-consumer-secret"}

            async def _oauth_get_user_future(self, access_token: dict[str, Any]) -> dict[str, Any]:
                return {"name": "ada"}

            async def get(self) -> None:
                try:
                    if self.get_argument("oauth_token", None):
                        await self.get_authenticated_user()
                    else:
                        await self.authorize_redirect()
                except Exception as exc:
                    self.set_status(502)
                    self.finish(f"sign-in failed: {type(exc).__name__}")

        srv = server.serve(_routes(web, Login))
        if step == "request-token-500":
            target, headers, call = "/login", [], "authorize_redirect"
        else:
            target, headers, call = (
                f"/login?oauth_token={REQUEST_KEY}",
                [_request_token_cookie()],
                "get_authenticated_user",
            )
        response = await _sign_in(http, srv, provider, target, headers)
    what = f"{call} did not raise when the provider failed ({step})"
    expected = "502 'sign-in failed: ...' (the handler caught what the awaitable raised)"
    if response is None:
        raise _hanging(what, provider, expected)
    if not (response.status == 502 and response.body.startswith(b"sign-in failed: ")):
        raise Violation(
            f"{what}: the handler, which answers 502 when it catches the error, answered otherwise.",
            expected=expected,
            observed=f"{response.describe()}: {response.body[:300]!r}",
            transcript=provider.transcripts(),
        )


@check(
    "Tornado 6.3.0 release notes (tornado.auth); Tornado docs: GoogleOAuth2Mixin.get_google_oauth_settings, "
    "GoogleOAuth2Mixin.get_authenticated_user (TORNADO)",
    Level.TORNADO,
)
async def test_google_oauth_settings_override_supplies_the_client_credentials(impl, server, http, conformance_timeout):
    """Tornado docs, GoogleOAuth2Mixin.get_google_oauth_settings: it returns the client
    credentials (``{"key": ..., "secret": ...}``), "If your credentials are stored
    differently (e.g. in a db) you can override this method for custom provision." The
    application's ``google_oauth`` setting holds other credentials; the handler overrides
    the method; ``get_authenticated_user(redirect_uri=..., code=...)`` must send the
    override's client id and secret to the token endpoint (``_OAUTH_ACCESS_TOKEN_URL``, a
    class attribute OAuth2Mixin documents) and return the token it answers."""
    web: Any = impl.part("web")
    auth: Any = impl.part("auth")
    _require(auth, "GoogleOAuth2Mixin")

    async def token_endpoint(request: ClientRequest, conn: ServerConnection) -> None:
        await _answer(conn, 200, b'{"access_token": "kit-token", "expires_in": 3600}', "application/json")

    async with _provider(conformance_timeout, token_endpoint) as provider:

        class Login(web.RequestHandler, auth.GoogleOAuth2Mixin):
            _OAUTH_ACCESS_TOKEN_URL = provider.url("/token")

            def get_google_oauth_settings(self) -> dict[str, str]:
                return {"key": "client-from-override", "secret": "secret-from-override"}

            async def get(self) -> None:
                access = await self.get_authenticated_user(
                    redirect_uri="https://app.example/back", code=self.get_argument("code")
                )
                self.finish(json.dumps(access))

        settings = {"google_oauth": {"key": "client-from-settings", "secret": "secret-from-settings"}}
        srv = server.serve(_routes(web, Login), settings)
        response = await _sign_in(http, srv, provider, "/login?code=kit-code", [])
    expected = "client_id=client-from-override, client_secret=secret-from-override sent; 200 with the token"
    if response is None:
        raise _hanging("GoogleOAuth2Mixin.get_authenticated_user never finished", provider, expected)
    sent = [urllib.parse.parse_qs(r.body.decode("latin-1")) for r in provider.requests]
    credentials = [(form.get("client_id"), form.get("client_secret")) for form in sent]
    token = json.loads(response.body).get("access_token") if response.status == 200 else None
    if credentials != [(["client-from-override"], ["secret-from-override"])] or token != "kit-token":
        raise Violation(
            "GoogleOAuth2Mixin.get_authenticated_user did not take the client credentials from an override of "
            "get_google_oauth_settings.",
            expected=expected,
            observed=f"(client_id, client_secret) sent: {credentials}; {response.describe()}: {response.body[:300]!r}",
            transcript=provider.transcripts(),
        )


#: check_authentication answers (Key-Value Form, OpenID 2.0 §4.1.1), by the nonce the
#: kit's callback request carries (the mixin copies every openid.* argument into it).
_OPENID_ANSWERS = {
    "valid": b"ns:http://specs.openid.net/auth/2.0\nis_valid:true\n",
    "smuggled": b"ns:http://specs.openid.net/auth/2.0\nis_valid:false\ninvalidate_handle:is_valid:true\n",
}


def _openid_callback(nonce: str) -> str:
    args = {
        "openid.ns": "http://specs.openid.net/auth/2.0",
        "openid.mode": "id_res",
        "openid.claimed_id": "https://op.example/ada",
        "openid.identity": "https://op.example/ada",
        "openid.response_nonce": nonce,
        "openid.ns.ax": "http://openid.net/srv/ax/1.0",
        "openid.ax.type.email": "http://axschema.org/contact/email",
        "openid.ax.value.email": "ada@example.com",
    }
    return "/login?" + urllib.parse.urlencode(args)


@check(
    "OpenID Authentication 2.0 §11 (MUST verify the signature), §11.4.2.2, §4.1.1; Tornado 6.5.6 release notes "
    "(security); Tornado docs: OpenIdMixin.get_authenticated_user",
    Level.MUST,
)
async def test_openid_check_authentication_needs_an_is_valid_line(impl, server, http, conformance_timeout):
    """OpenID Authentication 2.0 §11: before accepting a positive assertion the Relying
    Party MUST verify that its signature is valid; with direct verification (§11.4.2) that
    is the provider's answer ``is_valid`` being ``true``, in Key-Value Form (§4.1.1): one
    ``key:value`` per line. Tornado 6.5.6 release notes: OpenIdMixin parses the
    ``check_authentication`` response more strictly. The provider (``_OPENID_ENDPOINT``,
    the class attribute OpenIdMixin documents) first answers ``is_valid:true`` on a line
    of its own: the user is signed in; then ``is_valid:false`` with ``is_valid:true`` only
    inside another field's value: ``get_authenticated_user`` must fail."""
    web: Any = impl.part("web")
    auth: Any = impl.part("auth")
    _require(auth, "OpenIdMixin")

    async def op_endpoint(request: ClientRequest, conn: ServerConnection) -> None:
        form = urllib.parse.parse_qs(request.body.decode("latin-1"))
        nonce = (form.get("openid.response_nonce") or [""])[0]
        if form.get("openid.mode") == ["check_authentication"] and nonce in _OPENID_ANSWERS:
            await _answer(conn, 200, _OPENID_ANSWERS[nonce])
        else:
            await _answer(conn, 400, b"error:unexpected request\n")

    async with _provider(conformance_timeout, op_endpoint) as provider:

        class Login(web.RequestHandler, auth.OpenIdMixin):
            _OPENID_ENDPOINT = provider.url("/openid")

            async def get(self) -> None:
                try:
                    user = await self.get_authenticated_user()
                except Exception as exc:
                    self.set_status(403)
                    self.finish(json.dumps({"refused": type(exc).__name__}))
                    return
                self.finish(json.dumps({"user": user}))

        srv = server.serve(_routes(web, Login))
        outcomes = []
        for number, nonce in enumerate(["valid", "smuggled"], start=1):
            response = await _sign_in(http, srv, provider, _openid_callback(nonce), [], answered=number)
            if response is None:
                raise _hanging(
                    f"OpenIdMixin.get_authenticated_user never finished (answer {nonce!r})", provider, "an answer"
                )
            outcomes.append(response)
    valid, smuggled = outcomes
    signed_in = json.loads(valid.body).get("user", {}) if valid.status == 200 else {}
    if signed_in.get("email") != "ada@example.com":
        raise Violation(
            "OpenIdMixin.get_authenticated_user did not sign the user in when the provider answered "
            f"{_OPENID_ANSWERS['valid']!r}.",
            expected="200 with the user (email ada@example.com)",
            observed=f"{valid.describe()}: {valid.body[:300]!r}",
            transcript=provider.transcripts(),
        )
    if smuggled.status != 403:
        raise Violation(
            "OpenIdMixin.get_authenticated_user signed the user in although the provider answered is_valid:false; "
            "'is_valid:true' appeared only inside the value of invalidate_handle, and a substring search took it "
            "for the verdict.",
            expected="get_authenticated_user raises (the handler answers 403)",
            observed=f"{smuggled.describe()}: {smuggled.body[:300]!r}",
            transcript=provider.transcripts(),
        )
