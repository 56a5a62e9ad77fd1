"""What a handler learns of the client and of the URL: ``HTTPServer(xheaders=True)`` and the
forwarding fields of a reverse proxy, ``full_url()``, ``request_time()`` and ``host``.

Reference: Tornado docs, ``HTTPServer`` (https://www.tornadoweb.org/en/stable/httpserver.html#tornado.httpserver.HTTPServer:
"If xheaders is True, we support the X-Real-Ip/X-Forwarded-For and X-Scheme/X-Forwarded-Proto
headers, which override the remote IP and URI scheme/protocol for all requests") and
``HTTPServerRequest`` (https://www.tornadoweb.org/en/stable/httputil.html#tornado.httputil.HTTPServerRequest).
``suites/http11/test_request_attributes.py`` checks the attributes of a plain request; the
checks here cover what the proxy fields change, and what they must not.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance import Level, Violation, check, requires

pytestmark = [pytest.mark.http11, requires("web", "httpserver")]

Headers = list[tuple[str, str]]


def _app(impl: Any) -> list[tuple[str, Any]]:
    """One handler answering JSON of what it saw: remote_ip, protocol, host, full_url(), request_time() twice."""
    web = impl.part("web")

    class Seen(web.RequestHandler):
        def get(self, *args: Any) -> None:
            request = self.request
            first = request.request_time()
            second = request.request_time()
            self.set_header("Content-Type", "application/json")
            self.finish(
                json.dumps(
                    {
                        "remote_ip": request.remote_ip,
                        "protocol": request.protocol,
                        "host": request.host,
                        "full_url": request.full_url(),
                        "request_time": [first, second],
                    }
                )
            )

    return [(r"/.*", Seen)]


async def _seen(http: Any, srv: Any, headers: Headers, target: str = "/who") -> tuple[dict[str, Any], Any, Any]:
    """What the handler saw of ``GET target`` with ``headers``, the response, and the transcript."""
    async with await http.connect(srv) as conn:
        response = await conn.request("GET", target, headers)
    seen: dict[str, Any] = {}
    if response.status == 200:
        try:
            seen = json.loads(response.body)
        except ValueError:
            seen = {}
    return seen, response, conn.transcript


def _judge(what: str, key: str, expected: Any, seen: dict[str, Any], response: Any, transcript: Any) -> None:
    if seen.get(key) != expected:
        raise Violation(
            f"{what} (response: {response.describe()}, body {response.body[:200]!r}).",
            expected=f"{key} = {expected!r}",
            observed=f"{key} = {seen.get(key)!r}" if seen else response.describe(),
            transcript=transcript,
        )


PEER = "peer"  # the address the connection comes from, as the server reports it without forwarding fields

REMOTE_IP_CASES = {
    "x-real-ip": ([("X-Real-Ip", "203.0.113.9")], "203.0.113.9"),
    "x-real-ip-ipv6": ([("X-Real-Ip", "2001:db8::7")], "2001:db8::7"),
    "x-forwarded-for-one-address": ([("X-Forwarded-For", "198.51.100.4")], "198.51.100.4"),
    "x-forwarded-for-rightmost-hop": ([("X-Forwarded-For", "203.0.113.1, 198.51.100.2")], "198.51.100.2"),
    "invalid-x-real-ip-ignored": ([("X-Real-Ip", "unknown")], PEER),
    "invalid-x-forwarded-for-ignored": ([("X-Forwarded-For", "198.51.100.4, not-an-address")], PEER),
}


async def _peer(http: Any, srv: Any) -> str:
    seen, response, _ = await _seen(http, srv, [])
    if "remote_ip" not in seen:
        raise Violation(
            "a plain GET did not reach the handler.", expected="200 with JSON", observed=response.describe()
        )
    return str(seen["remote_ip"])


@check("Tornado docs: HTTPServer (xheaders); HTTPServerRequest.remote_ip", Level.TORNADO)
@pytest.mark.parametrize("case", list(REMOTE_IP_CASES))
async def test_xheaders_take_remote_ip_from_the_proxy_fields(impl, server, http, case):
    """``HTTPServer``: "If xheaders is True, we support the X-Real-Ip/X-Forwarded-For ... headers,
    which override the remote IP ... By default, when parsing the X-Forwarded-For header, Tornado
    will select the last (i.e., the closest) address on the list of hosts as the remote host IP
    address." ``HTTPServerRequest.remote_ip``: "Client's IP address as a string": a value that is
    no IP address (``unknown``, a garbled hop) is not taken, the connection's address stays."""
    srv = server.serve(_app(impl), xheaders=True)
    headers, expected = REMOTE_IP_CASES[case]
    if expected == PEER:
        expected = await _peer(http, srv)
    seen, response, transcript = await _seen(http, srv, headers)
    _judge(
        f"with xheaders=True, a request with {headers} did not get the remote_ip the proxy fields give",
        "remote_ip",
        expected,
        seen,
        response,
        transcript,
    )


@check("Tornado docs: HTTPServer (xheaders, trusted_downstream)", Level.TORNADO)
async def test_trusted_downstream_hops_are_skipped_in_x_forwarded_for(impl, server, http):
    """``HTTPServer``: "To select the next server in the chain, a list of trusted downstream hosts
    may be passed as the trusted_downstream argument. These hosts will be skipped when parsing the
    X-Forwarded-For header." """
    srv = server.serve(_app(impl), xheaders=True, trusted_downstream=["198.51.100.2"])
    headers = [("X-Forwarded-For", "192.0.2.1, 203.0.113.1, 198.51.100.2")]
    seen, response, transcript = await _seen(http, srv, headers)
    _judge(
        "with trusted_downstream=['198.51.100.2'], the closest untrusted hop of X-Forwarded-For was not taken",
        "remote_ip",
        "203.0.113.1",
        seen,
        response,
        transcript,
    )


PROTOCOL_CASES = {
    "x-scheme-https": ([("X-Scheme", "https")], "https"),
    "x-forwarded-proto-https": ([("X-Forwarded-Proto", "https")], "https"),
    "other-scheme-ignored": ([("X-Forwarded-Proto", "ftp")], "http"),
}


@check("Tornado docs: HTTPServer (xheaders); HTTPServerRequest.protocol", Level.TORNADO)
@pytest.mark.parametrize("case", list(PROTOCOL_CASES))
async def test_xheaders_take_protocol_from_the_proxy_fields(impl, server, http, case):
    """``HTTPServer``: the X-Scheme/X-Forwarded-Proto headers "override the remote IP and URI
    scheme/protocol for all requests". ``HTTPServerRequest.protocol``: "The protocol used, either
    "http" or "https"" — a forwarded scheme that is neither is not taken."""
    srv = server.serve(_app(impl), xheaders=True)
    headers, expected = PROTOCOL_CASES[case]
    seen, response, transcript = await _seen(http, srv, headers)
    _judge(
        f"with xheaders=True, a request with {headers} did not get the protocol the proxy fields give",
        "protocol",
        expected,
        seen,
        response,
        transcript,
    )


IGNORED_CASES = {
    "x-real-ip": ("X-Real-Ip", "203.0.113.9", "remote_ip"),
    "x-forwarded-for": ("X-Forwarded-For", "198.51.100.4", "remote_ip"),
    "x-scheme": ("X-Scheme", "https", "protocol"),
    "x-forwarded-proto": ("X-Forwarded-Proto", "https", "protocol"),
}


@check("Tornado docs: HTTPServer (xheaders)", Level.TORNADO)
@pytest.mark.parametrize("case", list(IGNORED_CASES))
async def test_proxy_fields_are_ignored_without_xheaders(impl, server, http, case):
    """``HTTPServer``: only "If xheaders is True" do these headers override the remote IP and
    protocol; by default (``xheaders=False``) any client could otherwise claim any address or
    scheme, so the connection's own are kept."""
    srv = server.serve(_app(impl))
    name, value, key = IGNORED_CASES[case]
    expected = await _peer(http, srv) if key == "remote_ip" else "http"
    seen, response, transcript = await _seen(http, srv, [(name, value)])
    _judge(f"without xheaders, a request with {name}: {value} changed {key}", key, expected, seen, response, transcript)


FULL_URL_CASES = {
    "host-with-port-and-query": (
        False,
        [("Host", "example.com:8080")],
        "/p/a%20b?q=1&r",
        "http://example.com:8080/p/a%20b?q=1&r",
    ),
    "behind-a-tls-proxy": (
        True,
        [("Host", "example.com"), ("X-Forwarded-Proto", "https")],
        "/x?y=1",
        "https://example.com/x?y=1",
    ),
}


@check("Tornado docs: HTTPServerRequest.full_url", Level.TORNADO)
@pytest.mark.parametrize("case", list(FULL_URL_CASES))
async def test_full_url_is_protocol_host_and_uri(impl, server, http, case):
    """``HTTPServerRequest.full_url``: "Reconstructs the full URL for this request" — the
    ``protocol`` (as the proxy reports it with xheaders), ``://``, the ``host`` (with its port)
    and the ``uri`` as requested (path and query, still percent-encoded)."""
    xheaders, headers, target, expected = FULL_URL_CASES[case]
    srv = server.serve(_app(impl), xheaders=xheaders)
    seen, response, transcript = await _seen(http, srv, headers, target)
    _judge(
        f"GET {target} with {headers} (xheaders={xheaders}) did not reconstruct its URL",
        "full_url",
        expected,
        seen,
        response,
        transcript,
    )


@check("Tornado docs: HTTPServerRequest.request_time", Level.TORNADO)
async def test_request_time_is_non_negative_and_grows(impl, server, http):
    """``HTTPServerRequest.request_time``: "Returns the amount of time it took for this request to
    execute" — an elapsed time: never negative, and a later call while the request runs never
    returns less than an earlier one."""
    srv = server.serve(_app(impl))
    seen, response, transcript = await _seen(http, srv, [])
    times = seen.get("request_time")
    if not (isinstance(times, list) and len(times) == 2 and 0 <= times[0] <= times[1]):
        raise Violation(
            "two successive calls of request_time() in the handler did not give a non-negative, non-decreasing elapsed time.",
            expected="0 <= first <= second",
            observed=repr(times) if times is not None else response.describe(),
            transcript=transcript,
        )


HOST_CASES = {
    "without-port": "example.com",
    "with-port": "example.com:8080",
    "ipv6-literal-with-port": "[2001:db8::1]:8080",
}


@check("Tornado docs: HTTPServerRequest.host", Level.TORNADO)
@pytest.mark.parametrize("case", list(HOST_CASES))
async def test_host_is_the_host_field(impl, server, http, case):
    """``HTTPServerRequest.host``: "The requested hostname, usually taken from the Host header" —
    the field's value as sent, its port included (``full_url()`` is built from it)."""
    value = HOST_CASES[case]
    srv = server.serve(_app(impl))
    seen, response, transcript = await _seen(http, srv, [("Host", value)])
    _judge(f"a request with Host: {value} did not see it as request.host", "host", value, seen, response, transcript)
