"""Small applications the HTTP/1.1 checks serve, built from the implementation's ``web``.

Rule: every handler here answers with what it *received* (method, path, body length,
body), so a check can tell from each response which request the server parsed, and
how. A framing bug then shows up as a wrong echo, not as a guess.
"""

from __future__ import annotations

from typing import Any

from conformance import Trace

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
