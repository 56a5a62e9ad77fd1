"""Small applications the HTTP/1.1 checks serve, built from the implementation's ``web``.

Rule: every handler here answers with what it *received* (method, path, body length,
body), so a check can tell from each response which request the server parsed, and
how. A framing bug then shows up as a wrong echo, not as a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conformance import NonStrict, Timeout, Trace, Violation
from conformance.wire import receive_some, with_deadline

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


@dataclass(frozen=True)
class Refusal:
    """What the rule a check cites asks of a server that refuses a request.

    A refusal is judged against the sentence that requires it, never more loosely:

    * ``statuses``: the status codes the rule names; any 4xx when empty. Another 4xx
      meets the rule's intent (the request is refused) but not its strict form: non-strict.
    * ``answer``: the rule requires a response (a MUST). Closing the connection without
      one then fails the check; where the response is a SHOULD (or the rule names none)
      a silent close is non-strict.
    * ``close``: after the response the connection is closed, as a requirement ("MUST")
      or a recommendation ("SHOULD", non-strict when it stays open); ``None`` when the
      rule says nothing about it.
    * ``rule``: the requirement in a few words, for the failure message.
    """

    statuses: tuple[int, ...]
    answer: bool
    close: str | None
    rule: str

    def expectation(self) -> str:
        codes = " or ".join(str(s) for s in self.statuses) if self.statuses else "a 4xx status"
        text = codes + (", then the connection closed" if self.close else "")
        return text if self.answer else text + " (a close without a response is non-strict)"


#: RFC 9112 §6.3 rules 4 and 5: an invalid Content-Length, or a Transfer-Encoding whose
#: final coding is not chunked, in a request.
MUST_400_AND_CLOSE = Refusal(
    (400,),
    True,
    "MUST",
    "RFC 9112 §6.3: the server MUST respond with a 400 (Bad Request) and then close the connection",
)
#: RFC 9112 §3.2 (Host) and §5.1 (whitespace before the colon).
MUST_400 = Refusal((400,), True, None, "the server MUST respond with a 400 (Bad Request)")
#: RFC 9112 §2.2: octets that do not match the HTTP-message grammar.
SHOULD_400_AND_CLOSE = Refusal(
    (400,),
    False,
    "SHOULD",
    "RFC 9112 §2.2: a server that receives octets not matching the HTTP-message grammar SHOULD respond with a 400 "
    "(Bad Request) and close the connection",
)
#: RFC 9112 §3: an invalid request-line.
SHOULD_400_OR_301 = Refusal(
    (400, 301),
    False,
    None,
    "RFC 9112 §3: recipients of an invalid request-line SHOULD respond with a 400 (Bad Request) or a 301 redirect",
)


#: `assert_rejected`'s default: read the answer from the connection.
UNREAD: Any = object()


async def assert_rejected(
    conn: Any, server: Any, trace: Trace, what: str, method: str = "GET", *, refusal: Refusal, answer: Any = UNREAD
) -> None:
    """The request already sent on ``conn`` must be refused as ``refusal`` says, its
    handler must not run, and the server must log no unhandled exception.

    ``what`` names the request ("a request with 'Content-Length: +5'"); the rule that
    makes it invalid is the check's own ``@check`` reference. A departure from the strict
    form (see `Refusal`) is raised as `NonStrict` only once nothing worse was found.
    ``answer``: the response (or None for a close) when the check has read it already.
    """
    __tracebackhide__ = True
    if answer is UNREAD:
        answer = await conn.response_or_close(method)
    lenient: NonStrict | None = None
    if answer is None:
        if refusal.answer:
            raise Violation(
                f"{what} was met with a closed connection and no response; {refusal.rule}.",
                expected=refusal.expectation(),
                observed="the connection closed without a response",
                transcript=conn.transcript,
            )
        lenient = NonStrict(
            f"{what} was refused by closing the connection without a response; {refusal.rule}.",
            expected=refusal.expectation(),
            observed="the connection closed without a response",
            transcript=conn.transcript,
        )
    elif not (400 <= answer.status < 500 or answer.status in refusal.statuses):
        raise Violation(
            f"{what} was served instead of refused; {refusal.rule}.",
            expected=refusal.expectation(),
            observed=f"{answer.describe()} with body {answer.body[:80]!r}",
            transcript=conn.transcript,
        )
    else:
        if refusal.statuses and answer.status not in refusal.statuses:
            lenient = NonStrict(
                f"{what} was refused with {answer.status}, not with the status the rule names; {refusal.rule}.",
                expected=refusal.expectation(),
                observed=answer.describe(),
                transcript=conn.transcript,
            )
        if refusal.close and not await closes(conn):
            kept_open = (Violation if refusal.close == "MUST" else NonStrict)(
                f"after refusing {what} the implementation kept the connection open; {refusal.rule}: the framing "
                "of whatever follows on it is unknown.",
                expected="the connection closed after the response",
                observed=f"{answer.describe()}, then the connection stayed open for {conn.timeout:g}s",
                transcript=conn.transcript,
            )
            if isinstance(kept_open, NonStrict):
                lenient = lenient or kept_open
            else:
                raise kept_open
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
    if lenient is not None:
        raise lenient


async def closes(conn: Any) -> bool:
    """True when the implementation closes ``conn`` (after a response) within the deadline."""
    try:
        return bool(await conn.closed_by_peer())
    except Timeout:
        return False


async def read_through_head(conn: Any, what: str, data: bytes = b"") -> bytes:
    """``data`` (what was read already) and the bytes that follow it, up to the end of the
    first response head (all of them, if the server closes first), within the deadline;
    ``what`` names the wait in a timeout's verdict ("send a response head")."""

    async def rest() -> bytes:
        nonlocal data
        while b"\r\n\r\n" not in data:
            more = await receive_some(conn.stream, conn.transcript)
            if not more:
                break
            data += more
        return data

    result: bytes = await with_deadline(conn.timeout, what, conn.transcript, rest)
    return result
