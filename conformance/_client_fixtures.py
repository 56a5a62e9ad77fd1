"""The ``h11_server`` fixture: the implementation's HTTP client against the kit's scripted server.

Rules:

1. The client is always built from ``impl.part("httpclient")``, as a fresh instance
   (``AsyncHTTPClient(force_instance=True)``) that is closed when its fetches end, so no
   client state (a connection pool, a queue) carries over from one check to the next.
2. A fetch is summarised on the loop thread into a plain `Fetched` record (status, fields,
   body, or the exception), so checks never touch the implementation's objects from the
   kit's thread.
3. Importing this module imports neither h11 nor anyio: the plugin registers the fixture
   by importing it, and the plugin must stay cheap.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import ssl

    from .impl import Implementation
    from .server import Server
    from .wire.h11_server import ClientRequest, Origin, Responder, ScriptedHTTPServer


@dataclass(repr=False)
class Fetched:
    """The outcome of one ``fetch``: a response, or the exception it raised."""

    url: str
    code: int | None = None
    reason: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)  #: names as the client reports them
    body: bytes | None = None
    effective_url: str | None = None
    error: BaseException | None = None
    error_is_http_client_error: bool = False  #: an instance of the client's HTTPClientError
    error_code: int | None = None  #: the ``code`` of an HTTPClientError
    error_response: Fetched | None = None  #: the ``response`` an HTTPClientError carries

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return ", ".join(values) if values else None

    @property
    def ok(self) -> bool:
        """A response was returned (whatever its status)."""
        return self.error is None

    def __repr__(self) -> str:
        return f"<fetch {self.url}: {self.describe()}>"

    def describe(self) -> str:
        if self.error is not None:
            kind = "an HTTPClientError" if self.error_is_http_client_error else "an exception"
            code = f" with code {self.error_code}" if self.error_code is not None else ""
            return f"{kind}{code}: {type(self.error).__name__}({self.error})"
        body = self.body or b""
        shown = repr(body) if len(body) <= 80 else f"{body[:60]!r}... ({len(body)} bytes)"
        return f"a {self.code} response with body {shown}"


class ClientBench:
    """What the ``h11_server`` fixture gives a check: scripted servers and the implementation's client.

    Example::

        async def test_client_x(h11_server):
            async def respond(request, conn):
                await conn.respond(200, body=b"hello")

            origin = await h11_server.listen(respond)
            fetched = await h11_server.fetch(origin.url("/"))
            assert fetched.body == b"hello", h11_server.transcripts()
    """

    def __init__(self, impl: Implementation, kit: ScriptedHTTPServer) -> None:
        self.impl = impl
        self.kit = kit

    @property
    def requests(self) -> list[ClientRequest]:
        """Every request the client sent, in the order the kit's servers received them."""
        return self.kit.requests

    async def listen(self, responder: Responder, *, ssl_context: ssl.SSLContext | None = None) -> Origin:
        """One more scripted server (its own port: its own origin); HTTPS with ``ssl_context``."""
        return await self.kit.listen(responder, ssl_context=ssl_context)

    def transcripts(self) -> str:
        return self.kit.transcripts()

    async def fetch(self, url: str, *, client_kwargs: dict[str, Any] | None = None, **request_kwargs: Any) -> Fetched:
        """``AsyncHTTPClient(force_instance=True, **client_kwargs).fetch(url, raise_error=False, **request_kwargs)``.

        ``raise_error`` may be overridden in ``request_kwargs``.
        """
        (fetched,) = await self.fetch_each([(url, request_kwargs)], client_kwargs=client_kwargs)
        return fetched

    async def fetch_each(
        self, requests: Sequence[tuple[str, dict[str, Any]]], *, client_kwargs: dict[str, Any] | None = None
    ) -> list[Fetched]:
        """Several fetches, one after another, on one client instance."""
        from ._meta import not_provided

        httpclient: Any = self.impl.part("httpclient")
        if not hasattr(httpclient, "AsyncHTTPClient"):
            not_provided(f"{self.impl.name}'s httpclient part has no AsyncHTTPClient")
        client_kwargs = dict(client_kwargs or {})
        client_error = getattr(httpclient, "HTTPClientError", None) or getattr(httpclient, "HTTPError", None)
        refused: list[str] = []

        def summarise(url: str, response: Any) -> Fetched:
            headers = response.headers
            pairs = list(headers.get_all()) if hasattr(headers, "get_all") else list(headers.items())
            return Fetched(
                url=url,
                code=response.code,
                reason=getattr(response, "reason", None),
                headers=[(str(k), str(v)) for k, v in pairs],
                body=response.body if response.body is not None else None,
                effective_url=getattr(response, "effective_url", None),
            )

        def failed(url: str, exc: Exception) -> Fetched:
            is_client_error = client_error is not None and isinstance(exc, client_error)
            carried = getattr(exc, "response", None) if is_client_error else None
            return Fetched(
                url=url,
                error=exc,
                error_is_http_client_error=is_client_error,
                error_code=getattr(exc, "code", None) if is_client_error else None,
                error_response=summarise(url, carried) if carried is not None else None,
            )

        async def impl_side() -> list[Fetched]:
            try:
                client = httpclient.AsyncHTTPClient(force_instance=True, **client_kwargs)
            except TypeError as exc:
                refused.append(f"AsyncHTTPClient(force_instance=True, **{client_kwargs!r}) raised {exc!r}")
                return []
            results: list[Fetched] = []
            try:
                for url, kwargs in requests:
                    kwargs = {"raise_error": False, **kwargs}
                    try:
                        response = await client.fetch(url, **kwargs)
                    except Exception as exc:
                        results.append(failed(url, exc))
                    else:
                        # Before Tornado 6.0, raise_error=False also returned transport errors,
                        # as a 599 response carrying them in .error, where 6.x raises them: the
                        # same outcome in an older spelling, read as the error it is.
                        error = getattr(response, "error", None)
                        if getattr(response, "code", None) == 599 and isinstance(error, Exception):
                            results.append(failed(url, error))
                        else:
                            results.append(summarise(url, response))
            finally:
                client.close()
            return results

        shown = ", ".join(url for url, _ in requests)
        results: list[Fetched] = await self.kit.run(impl_side, f"fetch {shown}")
        if refused:
            not_provided(refused[0])
        return results


@pytest.fixture
def h11_server(impl: Implementation, ioloop: Server, conformance_timeout: float) -> Iterator[ClientBench]:
    """The kit's scripted HTTP/1.1 servers and the implementation's ``AsyncHTTPClient`` (see `ClientBench`)."""
    from .run import require
    from .wire.h11_server import ScriptedHTTPServer

    require(impl, "httpclient")
    kit = ScriptedHTTPServer(conformance_timeout, ioloop.loop)
    try:
        yield ClientBench(impl, kit)
    finally:
        kit.close_sockets()
