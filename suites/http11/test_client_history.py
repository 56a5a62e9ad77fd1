"""The client side, fixes Tornado's release notes name for ``CurlAsyncHTTPClient``, judged on any ``AsyncHTTPClient``.

Each check states a behaviour both of Tornado's clients document (or one that only
``curl_httpclient`` offers, feature-detected through the documented API), so it runs with
the simple client under ``--impl=tornado`` and with libcurl's under
``--impl=conformance.adapters.curl`` (docs/implementations/curl.md). The kit's scripted
servers (fixture ``h11_server``) play the origin and, where a proxy is named, the proxy: an
HTTP proxy receives the request in absolute form and answers it itself.

References: Tornado's release notes 5.0.0, 6.2.0, 6.5.7, 6.5.9 and 6.6.0
(https://www.tornadoweb.org/en/stable/releases.html); Tornado docs, ``tornado.httpclient``
(``HTTPRequest``, ``HTTPResponse``) and ``CurlAsyncHTTPClient``
(https://www.tornadoweb.org/en/stable/httpclient.html).
"""

from __future__ import annotations

import gzip
import hashlib
import inspect
import urllib.request
from typing import Any

import pytest

from conformance import Level, Violation, check, not_provided, requires

pytestmark = [pytest.mark.http11, requires("httpclient")]

LIMIT = 1024
LARGE = bytes(range(256)) * 16  # 4096 octets
#: 64 KiB of zeros compress to well under LIMIT: only the decoded size is over it.
BOMB = gzip.compress(b"\0" * 65536)
BODY = b"the kit's answer"


def _answer(body: bytes = BODY):
    async def respond(request, conn):
        await conn.respond(200, [("Content-Type", "text/plain")], body)

    return respond


def _seen(h11_server: Any) -> str:
    return ", ".join(r.describe() for r in h11_server.requests) or "no request"


def _client_part(h11_server: Any) -> Any:
    httpclient = h11_server.impl.part("httpclient")
    if not hasattr(httpclient, "AsyncHTTPClient"):
        not_provided(f"{h11_server.impl.name}'s httpclient part has no AsyncHTTPClient")
    return httpclient


# -- max_body_size with a streaming_callback (6.5.9) --------------------------------------


async def _send_large(conn: Any, framing: str) -> None:
    if framing == "content-length":
        await conn.respond(200, [("Content-Type", "application/octet-stream")], LARGE, keep_open=True)
    elif framing == "chunked":
        chunks = [LARGE[i : i + 512] for i in range(0, len(LARGE), 512)]
        await conn.respond(200, [("Content-Type", "application/octet-stream")], chunks=chunks, keep_open=True)
    else:
        fields = [("Content-Type", "application/octet-stream"), ("Content-Encoding", "gzip")]
        await conn.respond(200, fields, BOMB, keep_open=True)


MAX_BODY_SIZE = (
    "Tornado 6.5.9 release notes (curl_httpclient max_body_size); Tornado docs: SimpleAsyncHTTPClient (max_body_size)"
)


@check(MAX_BODY_SIZE, Level.TORNADO)
@pytest.mark.parametrize("framing", ["content-length", "chunked", "gzip-decoded"])
async def test_client_refuses_a_body_larger_than_max_body_size_when_streaming(h11_server, framing):
    """Tornado 6.5.9 release notes: curl_httpclient gains a ``max_body_size`` argument, "same
    as for simple_httpclient", and "This limit is enforced on all requests, whether or not
    ``streaming_callback`` is used"; Tornado docs, SimpleAsyncHTTPClient: "with a
    ``streaming_callback`` only ``max_body_size`` applies". A client built with
    ``max_body_size=1024``, fetching with a ``streaming_callback`` a body of 4096 octets (64 KiB
    once decoded, for gzip), fails the fetch, and its callback is never handed more than the
    limit. A client whose constructor does not take ``max_body_size`` does not provide it."""
    httpclient = _client_part(h11_server)

    async def respond(request, conn):
        await _send_large(conn, framing)

    origin = await h11_server.listen(respond)

    async def impl_side() -> tuple[str | None, int, str]:
        try:
            client = httpclient.AsyncHTTPClient(force_instance=True, max_body_size=LIMIT)
        except TypeError as exc:
            return f"AsyncHTTPClient(force_instance=True, max_body_size={LIMIT}) raised {exc!r}", 0, ""
        delivered: list[int] = []
        try:
            response = await client.fetch(
                origin.url(f"/large/{framing}"), streaming_callback=lambda chunk: delivered.append(len(chunk))
            )
            error = getattr(response, "error", None)  # before 6.0, a 599 response carried it
            outcome = f"ok:{response.code}" if error is None else f"error:{type(error).__name__}({error})"
        except Exception as exc:
            outcome = f"error:{type(exc).__name__}({exc})"
        finally:
            client.close()
        return None, sum(delivered), outcome

    refused, delivered, outcome = await h11_server.kit.run(impl_side, "fetch with a streaming_callback")
    if refused is not None:
        not_provided(refused)
    size = 65536 if framing == "gzip-decoded" else len(LARGE)
    if not outcome.startswith("error:") or delivered > LIMIT:
        shown = f"a {outcome[3:]} response" if outcome.startswith("ok:") else outcome[6:]
        raise Violation(
            f"the client, built with max_body_size={LIMIT}, took a {framing} body of {size} octets"
            f"{' once decoded' if framing == 'gzip-decoded' else ''} through its streaming_callback: the limit holds "
            "whether or not the body is streamed, and protects an application that sets no limit of its own.",
            expected=f"fetch raises; at most {LIMIT} octets handed to the streaming_callback",
            observed=f"{shown}; {delivered} octets handed to the streaming_callback",
            transcript=h11_server.transcripts(),
        )


# -- proxies (6.5.7) ----------------------------------------------------------------

PROXY_CREDENTIALS = {"proxy_username": "alice", "proxy_password": "proxy-secret"}


def _proxied(proxy: Any, **extra: Any) -> dict[str, Any]:
    return {"proxy_host": proxy.host, "proxy_port": proxy.port, **extra}


def _refused_proxy(first: Any) -> None:
    """The first request, through the proxy, was refused: the client has no proxies."""
    if not first.ok:
        not_provided(f"the client refuses a request through a proxy ({first.describe()})")


@check(
    "Tornado 6.5.7 release notes (CurlAsyncHTTPClient resets its handle); Tornado docs: HTTPRequest "
    "(proxy_username, proxy_password)",
    Level.TORNADO,
)
async def test_client_sends_no_proxy_credentials_of_a_previous_request(h11_server):
    """Tornado 6.5.7 release notes: ``CurlAsyncHTTPClient`` "now fully resets the curl object
    before reusing it. This prevents incorrectly reusing options from a previous request,
    specifically including client SSL and credentials used for accessing proxies." Tornado
    docs, HTTPRequest: ``proxy_username``/``proxy_password`` are the credentials of that
    request. On one client, a request through the kit's proxy with proxy credentials, then a
    request through the same proxy without any: the second carries no Proxy-Authorization
    (nor Authorization). A client that refuses proxies does not provide the check."""
    origin = await h11_server.listen(_answer())
    proxy = await h11_server.listen(_answer())
    first, second = await h11_server.fetch_each(
        [
            (origin.url("/first"), _proxied(proxy, **PROXY_CREDENTIALS)),
            (origin.url("/second"), _proxied(proxy)),
        ]
    )
    _refused_proxy(first)
    if not proxy.requests:
        not_provided(f"the client did not use the proxy it was given ({_seen(h11_server)})")
    seconds = [r for r in h11_server.requests if r.target.endswith("/second")]
    leaked = [
        f"{r.describe()}: {name}: {r.header(name)}"
        for r in seconds
        for name in ("proxy-authorization", "authorization")
        if r.header(name) is not None
    ]
    if leaked:
        raise Violation(
            "the second request, given no proxy credentials, carried the credentials of the request before it: "
            "a client reusing per-request state sends one caller's secrets on behalf of another.",
            expected="no Proxy-Authorization (nor Authorization) on the second request",
            observed="; ".join(leaked) + f"; then {second.describe()}",
            transcript=h11_server.transcripts(),
        )
    if not seconds or not second.ok:
        raise Violation(
            "the second request, through the same proxy without credentials, did not complete.",
            expected="a 200 response from the proxy",
            observed=f"{_seen(h11_server)}; {second.describe()}",
            transcript=h11_server.transcripts(),
        )


@check(
    "Tornado 6.5.7 release notes (CurlAsyncHTTPClient resets its handle); Tornado docs: HTTPRequest (proxy_host)",
    Level.TORNADO,
)
async def test_client_sends_a_request_without_proxy_to_the_origin_after_a_proxied_one(h11_server):
    """Tornado docs, HTTPRequest: "``proxy_host`` -- HTTP proxy hostname. To use proxies,
    ``proxy_host`` and ``proxy_port`` must be set", options of one request; Tornado 6.5.7
    release notes: the curl client no longer reuses "options from a previous request". On
    one client, a request through the kit's proxy, then a request with no proxy: the second
    goes straight to the origin and its response is returned. (A client that refuses
    proxies refuses the first request only.)"""
    origin = await h11_server.listen(_answer())
    proxy = await h11_server.listen(_answer(b"the proxy's answer"))
    first, second = await h11_server.fetch_each([(origin.url("/first"), _proxied(proxy)), (origin.url("/second"), {})])
    at_origin = [r for r in origin.requests if r.target.endswith("/second")]
    at_proxy = [r for r in proxy.requests if r.target.endswith("/second")]
    if at_proxy or not at_origin or second.code != 200 or second.body != BODY:
        raise Violation(
            "after a request through a proxy, a request given no proxy did not go straight to the origin.",
            expected=f"the second request at the origin; a 200 response with body {BODY!r}",
            observed=f"{_seen(h11_server)}; first {first.describe()}; second {second.describe()}",
            transcript=h11_server.transcripts(),
        )


# -- header values (6.2.0) -----------------------------------------------------------------

LATIN = "caf\u00e9 \u00bd"  # 'café ½': two characters above 0x7F, each one ISO-8859-1 octet


@check(
    "Tornado 6.2.0 release notes (tornado.httpclient); RFC 9110 §5.5 (obs-text); Tornado docs: HTTPRequest (headers)",
    Level.TORNADO,
)
async def test_client_sends_an_iso_8859_1_field_value_as_its_octets(h11_server):
    """Tornado 6.2.0 release notes (tornado.httpclient): ``curl_httpclient`` supports
    ISO-8859-1 header values as the simple client does. RFC 9110 §5.5: a field value may
    carry ``obs-text`` (%x80-FF), which a recipient may read as ISO-8859-1. A request header
    given as the str ``'café ½'`` reaches the server as the octets ``63 61 66 e9 20 bd``, one
    octet per character, not UTF-8 and not an error."""
    origin = await h11_server.listen(_answer())
    fetched = await h11_server.fetch(origin.url("/latin"), headers={"X-Latin": LATIN})
    got = h11_server.requests[0].header("x-latin") if h11_server.requests else None
    if got != LATIN or fetched.code != 200:
        raise Violation(
            "a header value of ISO-8859-1 characters did not reach the server as their ISO-8859-1 octets.",
            expected=f"X-Latin: {LATIN.encode('latin-1')!r}; a 200 response",
            observed=(f"X-Latin: {got.encode('latin-1')!r}" if got is not None else "no X-Latin field")
            + f" ({_seen(h11_server)}); {fetched.describe()}",
            transcript=h11_server.transcripts(),
        )


# -- time_info (5.0.0) ---------------------------------------------------------------------


@check("Tornado 5.0.0 release notes (tornado.curl_httpclient); Tornado docs: HTTPResponse (time_info)", Level.TORNADO)
async def test_client_time_info_reports_appconnect(h11_server):
    """Tornado 5.0.0 release notes (tornado.curl_httpclient): the response's ``time_info``
    includes ``appconnect``. Tornado docs, HTTPResponse: "``time_info``: dictionary of
    diagnostic timing information from the request. Available data are subject to change,
    but currently uses timings available from
    http://curl.haxx.se/libcurl/c/curl_easy_getinfo.html, plus ``queue``". A client that
    reports such timings (a non-empty ``time_info``) reports ``appconnect`` among them, a
    number; one that leaves ``time_info`` empty (the simple client) does not provide them."""
    httpclient = _client_part(h11_server)
    origin = await h11_server.listen(_answer())

    async def impl_side() -> Any:
        client = httpclient.AsyncHTTPClient(force_instance=True)
        try:
            response = await client.fetch(origin.url("/timed"))
            info = getattr(response, "time_info", None)
            return response.code, dict(info) if info else {}
        finally:
            client.close()

    code, info = await h11_server.kit.run(impl_side, "fetch and read time_info")
    if not info:
        not_provided("the client reports no time_info (the simple client leaves it empty)")
    value = info.get("appconnect")
    if code != 200 or isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Violation(
            "the response's time_info, which reports libcurl's timings, has no number for 'appconnect'.",
            expected="time_info['appconnect'] (a number of seconds; 0.0 without TLS)",
            observed=f"status {code}; time_info {info!r}",
            transcript=h11_server.transcripts(),
        )


# -- a coroutine streaming_callback (6.6.0) ------------------------------------------------

CHUNKS = [b"first|", b"second|", b"third"]


@check(
    "Tornado 6.6.0 release notes (tornado.simple_httpclient, tornado.curl_httpclient); Tornado docs: HTTPRequest "
    "(streaming_callback)",
    Level.TORNADO,
)
async def test_client_refuses_or_runs_a_coroutine_streaming_callback(h11_server):
    """Tornado 6.6.0 release notes: the ``streaming_callback`` of ``SimpleAsyncHTTPClient.fetch``
    may now be a coroutine, and ``CurlAsyncHTTPClient`` raises ``TypeError`` for one. Tornado
    docs, HTTPRequest: "``streaming_callback`` -- If set, ``streaming_callback`` will be run
    with each chunk of data as it is received". Given an ``async def`` streaming callback, a
    client either refuses the fetch with TypeError or runs the callback with every chunk, in
    order, before the fetch completes; it never completes the fetch before the body has
    reached the callback."""
    httpclient = _client_part(h11_server)

    async def respond(request, conn):
        await conn.respond(200, [("Content-Type", "text/plain")], chunks=CHUNKS)

    origin = await h11_server.listen(respond)

    async def impl_side() -> tuple[bytes, str]:
        received: list[bytes] = []

        async def on_chunk(chunk: bytes) -> None:
            received.append(chunk)

        client = httpclient.AsyncHTTPClient(force_instance=True)
        try:
            pending = client.fetch(origin.url("/stream"), streaming_callback=on_chunk, raise_error=False)
            response = await pending if inspect.isawaitable(pending) else pending
            error = getattr(response, "error", None)
            outcome = f"status {response.code}" if error is None else f"raised {type(error).__name__}({error})"
        except Exception as exc:
            outcome = f"raised {type(exc).__name__}({exc})"
        finally:
            client.close()
        return b"".join(received), outcome

    received, outcome = await h11_server.kit.run(impl_side, "fetch with a coroutine streaming_callback")
    whole = b"".join(CHUNKS)
    if outcome.startswith("raised TypeError"):
        return
    if outcome != "status 200" or received != whole:
        raise Violation(
            "given a coroutine streaming_callback, the client neither refused it (TypeError) nor ran it with the "
            "whole body before the fetch completed: the fetch ended before the whole body had reached it.",
            expected=f"TypeError, or status 200 with the callback run on {whole!r}",
            observed=f"{outcome}; the callback ran on {received!r}",
            transcript=h11_server.transcripts(),
        )


# -- proxy digest authentication (4.5.0) ---------------------------------------------------

REALM = "conformance-proxy"
NONCE = "dcd98b7102dd2f0e8b11d0f600bfb0c093"


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()  # RFC 7616 MD5: the oracle


def _digest_ok(value: str, method: str, username: str, password: str) -> bool:
    """Whether ``Proxy-Authorization: <value>`` is RFC 7616 Digest (MD5) for these credentials."""
    scheme, _, rest = value.partition(" ")
    if scheme.lower() != "digest":
        return False
    params = urllib.request.parse_keqv_list(urllib.request.parse_http_list(rest))
    if params.get("username") != username or params.get("realm") != REALM or params.get("nonce") != NONCE:
        return False
    ha1 = _md5(f"{username}:{REALM}:{password}")
    ha2 = _md5(f"{method}:{params.get('uri', '')}")
    if params.get("qop") == "auth":
        want = _md5(f"{ha1}:{NONCE}:{params.get('nc', '')}:{params.get('cnonce', '')}:auth:{ha2}")
    else:
        want = _md5(f"{ha1}:{NONCE}:{ha2}")
    return params.get("response") == want


@check(
    "Tornado 4.5.0 release notes (tornado.httpclient); RFC 7616 §3.4; Tornado docs: HTTPRequest (proxy_auth_mode)",
    Level.TORNADO,
)
async def test_client_answers_a_proxy_digest_challenge_with_proxy_auth_mode_digest(h11_server):
    """Tornado 4.5.0 release notes (tornado.httpclient): ``curl_httpclient`` can authenticate
    to a proxy with digest (the new ``proxy_auth_mode``). Tornado docs, HTTPRequest:
    "``proxy_auth_mode`` -- HTTP proxy Authentication mode; default is "basic". supports
    "basic" and "digest"". The kit's proxy answers 407 with a Digest challenge (RFC 7616
    §3.3) until it gets a valid Digest answer (§3.4), then 200: with
    ``proxy_auth_mode="digest"`` the fetch ends with that 200, and the password is never
    sent as Basic. A client that refuses the proxy, or digest, does not provide the check."""
    username, password = "alice", "proxy-secret"
    challenge = f'Digest realm="{REALM}", nonce="{NONCE}", qop="auth", algorithm=MD5'
    origin = await h11_server.listen(_answer())

    async def proxy_respond(request, conn):
        given = request.header("proxy-authorization") or ""
        if _digest_ok(given, request.method, username, password):
            await conn.respond(200, [("Content-Type", "text/plain")], BODY)
        else:
            await conn.respond(407, [("Proxy-Authenticate", challenge), ("Content-Type", "text/plain")], b"")

    proxy = await h11_server.listen(proxy_respond)
    kwargs = _proxied(proxy, proxy_username=username, proxy_password=password, proxy_auth_mode="digest")
    (fetched,) = await h11_server.fetch_each([(origin.url("/guarded"), kwargs)])
    sent = [r.header("proxy-authorization") or "" for r in proxy.requests]
    in_clear = [v for v in sent if v.lower().startswith("basic")]
    if in_clear:
        raise Violation(
            "asked for digest proxy authentication, the client sent the proxy password as Basic (in clear).",
            expected="Proxy-Authorization: Digest ... only",
            observed=f"Proxy-Authorization: {in_clear[0]}; {fetched.describe()}",
            transcript=h11_server.transcripts(),
        )
    if not proxy.requests:
        not_provided(f"the client refuses a request through a proxy with digest authentication ({fetched.describe()})")
    if fetched.code != 200 or fetched.body != BODY:
        raise Violation(
            "the client did not answer the proxy's Digest challenge with valid Digest credentials.",
            expected=f"a 200 response with body {BODY!r} after a valid Proxy-Authorization: Digest",
            observed=f"Proxy-Authorization values {sent!r}; {fetched.describe()}",
            transcript=h11_server.transcripts(),
        )
