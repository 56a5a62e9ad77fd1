"""Small applications the HTTP/1.1 checks serve, built from the implementation's ``web``.

Rule: every handler here answers with what it *received* (method, path, body length,
body), so a check can tell from each response which request the server parsed, and
how. A framing bug then shows up as a wrong echo, not as a guess.
"""

from __future__ import annotations

from typing import Any

from conformance import Trace, Violation

#: Methods the echo handler answers; HEAD is left out on purpose (its response has no body).
ECHO_METHODS = ("get", "post", "put", "delete", "patch", "options")


def echo_line(method: str, path: str, body: bytes = b"") -> bytes:
    """What `echo_app` answers to ``method path`` with ``body``: ``b"POST /a 5:hello"``."""
    return f"{method} {path} {len(body)}:".encode("latin-1") + body


def echo_app(impl: Any, trace: Trace | None = None) -> list[tuple[str, Any]]:
    """One handler on every path that echoes the request as `echo_line` does.

    ``trace`` (if given) records ``"METHOD /path"`` for every request the handler ran.
    """
    web = impl.part("web")

    def echo(self: Any, *args: Any) -> None:
        request = self.request
        if trace is not None:
            trace.add(f"{request.method} {request.path}")
        self.set_header("Content-Type", "application/octet-stream")
        self.write(echo_line(request.method, request.path, request.body))

    namespace = {name: echo for name in ECHO_METHODS}
    Echo = type("Echo", (web.RequestHandler,), namespace)
    return [(r"/.*", Echo)]


def raw_request(method: str, target: str, headers: str = "", body: bytes = b"", *, version: str = "HTTP/1.1") -> bytes:
    """A request written byte for byte (no h11 in between), so it may be malformed on purpose.

    ``headers`` is CRLF-separated ``Name: value`` lines, without the final empty line;
    a ``Host`` header is always sent first.
    """
    head = f"{method} {target} {version}\r\nHost: conformance\r\n"
    if headers:
        head += headers.rstrip("\r\n") + "\r\n"
    return head.encode("latin-1") + b"\r\n" + body


def attributes_app(
    impl: Any, trace: Trace | None = None, *, extra: dict[str, Any] | None = None
) -> list[tuple[str, Any]]:
    """One handler on every path that answers JSON of what it observed of the request.

    The JSON holds the request attributes Tornado documents (``method``, ``uri``, ``path``,
    ``query``, ``version``, ``body`` as latin-1 text, ``host``, ``protocol``,
    ``remote_ip``, ``headers`` as ordered ``[name, value]`` pairs, ``arguments``,
    ``query_arguments``, ``body_arguments``, ``files``, ``cookies``) and the answers of
    the argument accessors for every argument name. ``trace`` (if given) records
    ``"METHOD /path"`` for every request the handler ran.
    """
    import json

    web = impl.part("web")

    def text(value: bytes) -> str:
        return value.decode("latin-1")

    def arguments(mapping: dict[str, list[bytes]]) -> dict[str, list[str]]:
        return {name: [text(v) for v in values] for name, values in sorted(mapping.items())}

    def observe(self: Any, *args: Any) -> None:
        request = self.request
        if trace is not None:
            trace.add(f"{request.method} {request.path}")
        names = sorted(set(request.arguments) | set(request.body_arguments) | set(request.query_arguments))
        accessors: dict[str, Any] = {}
        for name in names:
            accessors[name] = {
                "get_argument": self.get_argument(name, None, strip=False),
                "get_arguments": self.get_arguments(name, strip=False),
                "get_query_argument": self.get_query_argument(name, None, strip=False),
                "get_query_arguments": self.get_query_arguments(name, strip=False),
                "get_body_argument": self.get_body_argument(name, None, strip=False),
                "get_body_arguments": self.get_body_arguments(name, strip=False),
            }
        observed = {
            "method": request.method,
            "uri": request.uri,
            "path": request.path,
            "query": request.query,
            "version": request.version,
            "body": text(request.body),
            "host": request.host,
            "protocol": request.protocol,
            "remote_ip": request.remote_ip,
            "headers": [[k, v] for k, v in request.headers.get_all()],
            "arguments": arguments(request.arguments),
            "query_arguments": arguments(request.query_arguments),
            "body_arguments": arguments(request.body_arguments),
            "files": {
                name: [[f["filename"], f["content_type"], text(f["body"])] for f in files]
                for name, files in sorted(request.files.items())
            },
            "cookies": {name: morsel.value for name, morsel in sorted(request.cookies.items())},
            "accessors": accessors,
        }
        observed.update({key: fn(self) for key, fn in (extra or {}).items()})
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(observed))

    namespace = {name: observe for name in ECHO_METHODS}
    Attributes = type("Attributes", (web.RequestHandler,), namespace)
    return [(r".*", Attributes)]


async def assert_rejected(conn: Any, server: Any, trace: Trace, what: str, method: str = "GET") -> None:
    """The request already sent on ``conn`` must be answered 4xx (or the connection
    closed), its handler must not run, and the server must log no unhandled exception.

    ``what`` names the request ("a request with 'Content-Length: +5'"); the rule that
    makes it invalid is the check's own ``@check`` reference.
    """
    __tracebackhide__ = True
    answer = await conn.response_or_close(method)
    if answer is not None and not (400 <= answer.status < 500):
        raise Violation(
            f"{what} was served instead of refused.",
            expected="a 4xx status, or the connection closed",
            observed=f"{answer.describe()} with body {answer.body[:80]!r}",
            transcript=conn.transcript,
        )
    server.barrier()
    if trace.events != []:
        raise Violation(
            f"the handler ran for {what}; the request is invalid, so no application code may see it.",
            expected="no handler call",
            observed=trace.events,
            transcript=conn.transcript,
        )
    unhandled = server.log.unhandled_exceptions()
    if unhandled:
        raise Violation(
            f"{what} raised an unhandled exception in the implementation; a malformed request is the "
            f"client's error, answered with 4xx:\n{server.log.format(unhandled)}"
        )
