"""The kit's fixtures, for checks: the implementation, its loop, servers and oracle clients.

Registered by the plugin (``pytest_plugins``); every fixture reads the session's `Run`.
Imported without assertion rewriting, as the whole kit is (``conformance._no_rewrite``);
the marker PYTEST_DONT_REWRITE tells a second pytest session in the same process
(pytester) so, instead of it warning that the module was imported un-rewritten.

Rules:

1. Importing this module imports neither the implementation nor h11, wsproto, anyio or
   hypothesis (the plugin loads it into every pytest run where the kit is installed).
2. A fixture that needs an API part skips the check as *not provided* when the
   implementation lacks it (never an error).
3. Each check gets fresh servers and clients; only the loop thread is shared, and it is
   replaced when a check wedged it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from ._client_fixtures import h11_server as h11_server
from .run import DEFAULT_SCALE_CONNECTIONS, SERVER, Run, require

if TYPE_CHECKING:
    from .impl import Implementation
    from .server import Server


@pytest.fixture(scope="session")
def impl(pytestconfig: pytest.Config) -> Implementation:
    """The implementation under test (see ``conformance.Implementation``)."""
    return Run.of(pytestconfig).impl


@pytest.fixture(scope="session")
def conformance_timeout(pytestconfig: pytest.Config) -> float:
    """The deadline of every network operation, in seconds."""
    return float(Run.of(pytestconfig).settings.timeout)


@pytest.fixture
def server(request: pytest.FixtureRequest, impl: Implementation) -> Iterator[Server]:
    """Start applications on the implementation's loop and run code there (see ``Server``)."""
    from .server import Server, ServerLog

    require(impl, "web", "httpserver", *impl.loop_parts)
    run = Run.of(request.config)
    if run.unresponsive is not None:
        # The liveness probe found the implementation answering nothing (docs/harness.md):
        # the check fails at once, with the probe's evidence, instead of waiting its deadline.
        raise run.unresponsive.again()
    loop = run.loop()
    log = ServerLog()
    srv = Server(loop, log)
    request.node.stash[SERVER] = srv
    with loop.capture(log):
        try:
            yield srv
        finally:
            srv.close()


@pytest.fixture
def ioloop(request: pytest.FixtureRequest, impl: Implementation) -> Iterator[Server]:
    """Like ``server`` but needs no server part: for checks that run code on the loop."""
    from .server import Server, ServerLog

    require(impl, *impl.loop_parts)
    loop = Run.of(request.config).loop()
    log = ServerLog()
    srv = Server(loop, log)
    request.node.stash[SERVER] = srv
    with loop.capture(log):
        yield srv
        # Let what the check left scheduled run while its log is still being captured.
        if not loop.wedged:
            try:
                loop.barrier()
            except Exception:
                pass


@pytest.fixture
def run_client(pytestconfig: pytest.Config) -> Callable[..., Any]:
    """``run_client(fn, *args)``: run an async client-side function on the kit's anyio backend.

    For plain (sync) checks that need the wire, e.g. a hypothesis property::

        def test_x(server, run_client):
            async def exchange(): ...
            answer = run_client(exchange)
    """
    return Run.of(pytestconfig).run_client


@pytest.fixture(scope="session")
def scale_connections(pytestconfig: pytest.Config) -> int:
    """How many connections each scale check holds (``--scale-connections``, within the machine's limits)."""
    value = Run.of(pytestconfig).settings.scale_connections
    return int(value) if value is not None else DEFAULT_SCALE_CONNECTIONS


@pytest.fixture
def record_metric(request: pytest.FixtureRequest) -> Any:
    """Attach a figure to the check's record (the ``metrics`` of its JSON record, and the summary).

    Figures are reported, never judged. Example::

        def test_x(record_metric):
            record_metric("requests_per_second", 4210.5, "requests/s")
    """

    def record(name: str, value: float | int | str | None, unit: str = "") -> None:
        request.node.user_properties.append(("conformance_metric", {"name": name, "value": value, "unit": unit}))

    return record


@pytest.fixture
def http(conformance_timeout: float) -> Any:
    """The h11-judged HTTP/1.1 client (see ``conformance.wire.HTTPClient``)."""
    from .wire import HTTPClient

    return HTTPClient(conformance_timeout)


@pytest.fixture
def ws(conformance_timeout: float) -> Any:
    """The wsproto WebSocket peer (see ``conformance.wire.WebSocketClient``)."""
    from .wire import WebSocketClient

    return WebSocketClient(conformance_timeout)
