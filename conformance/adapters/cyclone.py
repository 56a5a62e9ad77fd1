"""cyclone (Tornado's API on Twisted) as an implementation: ``--impl=conformance.adapters.cyclone``.

Rules of this module:

1. It translates APIs, never behaviour. cyclone's own classes parse every request and
   write every response; the shims in `conformance.adapters._cyclone_handlers` only
   re-spell calls that Tornado's API makes differently. What cyclone does differently
   from Tornado shows up as findings, and what it lacks is *not provided*.
2. Twisted's reactor is process-wide and cannot be restarted once stopped. It is
   installed once, as ``asyncioreactor`` on an asyncio loop this module owns, before
   anything imports ``cyclone.web`` (which imports the reactor). The kit's loop thread
   runs that asyncio loop; when the kit starts a fresh loop thread (after a check that
   blocked the loop), the same reactor is handed over to it. It is started once and
   never stopped: "stopping the loop" pauses the asyncio loop under it.
3. Servers belong to one check: ``reactor.listenTCP(0, app, interface="127.0.0.1")``,
   then ``stopListening`` and an abort of the connections the check left open.
4. Importing this module needs neither cyclone nor Twisted; building the adapter does,
   and says how to install them when they are missing.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import inspect
import logging
import sys
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._meta import not_provided
from ..errors import ImplementationError
from ..impl import Implementation, Listening

INSTALL_HINT = (
    "install it with: pip install 'tornado-conformance[cyclone]' "
    "(cyclone 1.3 pins Twisted 19.2.1, which builds on Python 3.10 or older)"
)

#: The Tornado parts cyclone 1.3 has no counterpart for, and what it has instead.
MISSING = {
    "gen": "cyclone has no gen module; its coroutines are Twisted's (defer.inlineCallbacks, defer.ensureDeferred)",
    "concurrent": "cyclone has no Futures; its asynchronous results are Twisted Deferreds",
    "ioloop": "cyclone has no IOLoop; it runs on Twisted's reactor",
    "locks": "cyclone has no locks module; Twisted offers DeferredLock and DeferredSemaphore instead",
    "queues": "cyclone has no queues module; Twisted offers DeferredQueue instead",
    "iostream": "cyclone has no IOStream; its connections are Twisted protocols and transports",
    "netutil": "cyclone has no netutil module; sockets are bound by Twisted's reactor.listenTCP",
    "httpclient": "cyclone.httpclient offers fetch() returning a Deferred, not Tornado's AsyncHTTPClient API",
}

#: Tornado HTTPServer options with a cyclone counterpart: the Application setting of that name.
SERVER_OPTIONS_AS_SETTINGS = ("xheaders",)

#: How long a new loop thread waits for the previous one to let go of the reactor.
HANDOFF_SECONDS = 1.0


@dataclass
class ReactorLoop:
    """What the kit holds as "the loop": Twisted's reactor and the asyncio loop under it.

    ``asyncio_loop`` is the attribute the kit's harness looks for to route asyncio's
    exception reports into a check's log.
    """

    reactor: Any
    asyncio_loop: asyncio.AbstractEventLoop


class _ReactorHost:
    """The process's one Twisted reactor (rule 2), shared by every adapter instance."""

    _instance: _ReactorHost | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        if "twisted.internet.reactor" in sys.modules:
            installed = type(sys.modules["twisted.internet.reactor"]).__name__
            raise ImplementationError(
                f"Twisted's reactor is already installed in this process ({installed}); the cyclone adapter "
                "must install asyncioreactor before anything imports twisted.internet.reactor or cyclone.web"
            )
        from twisted.internet import asyncioreactor
        from twisted.logger import globalLogPublisher

        self.loop = asyncio.new_event_loop()
        asyncioreactor.install(eventloop=self.loop)
        from twisted.internet import reactor

        self.reactor: Any = reactor
        self.started = False
        self.idle = threading.Event()  # set while no thread runs the loop
        self.idle.set()
        # cyclone and Twisted log through twisted.logger; the kit captures what the
        # implementation logs through the standard logging module (warnings and above,
        # on the loop thread), so Twisted's events are passed on to it, as they are.
        globalLogPublisher.addObserver(_to_stdlib_logging)

    @classmethod
    def get(cls) -> _ReactorHost:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def take_over(self) -> None:
        """Make the calling thread the one that runs the reactor (the kit's new loop thread)."""
        if not self.idle.is_set():
            # The previous loop thread was abandoned by the kit (it did not answer in
            # time). If it is merely late, stopping its loop hands the reactor over.
            self.loop.call_soon_threadsafe(self.loop.stop)
            if not self.idle.wait(HANDOFF_SECONDS):
                raise ImplementationError(
                    "Twisted's reactor is process-wide and the thread that ran it for an earlier check is still "
                    f"blocked after {HANDOFF_SECONDS:g}s; cyclone cannot be given a fresh loop, so this check "
                    "cannot run (the kit's fresh-loop-per-wedge model does not fit a single reactor)"
                )
        self.idle.clear()
        asyncio.set_event_loop(self.loop)
        from twisted.python import threadable

        threadable.registerAsIOThread()
        if not self.started:
            self.reactor.startRunning(installSignalHandlers=False)
            self.started = True


def _to_stdlib_logging(event: dict[str, Any]) -> None:
    """Pass one twisted.logger event on to the standard ``logging`` module ("twisted" logger).

    Twisted's own STDLibLogObserver cannot be used: in Twisted 19.2.1 it replaces the
    logger's ``findCaller`` with one that fails on Python 3.8 and later.
    """
    from twisted.logger import LogLevel, formatEvent

    levels = {
        LogLevel.debug: logging.DEBUG,
        LogLevel.info: logging.INFO,
        LogLevel.warn: logging.WARNING,
        LogLevel.error: logging.ERROR,
        LogLevel.critical: logging.CRITICAL,
    }
    level = levels.get(event.get("log_level", LogLevel.info), logging.INFO)
    logger = logging.getLogger("twisted")
    if not logger.isEnabledFor(level):
        return
    failure = event.get("log_failure")
    exc_info = (failure.type, failure.value, failure.getTracebackObject()) if failure is not None else None
    logger.log(level, "%s", formatEvent(event), exc_info=exc_info)


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


class CycloneAdapter(Implementation):
    """cyclone's parts, its reactor as the loop, its Application as the server."""

    #: The harness needs no Tornado API to run cyclone's loop (see the kit's impl.py).
    loop_parts: tuple[str, ...] = ()

    def __init__(self) -> None:
        try:
            import cyclone
            import twisted  # noqa: F401  (cyclone's dependency; its absence is the same usage error)
        except ImportError as exc:
            raise ImplementationError(f"cyclone is not installed ({exc}); {INSTALL_HINT}") from None
        self._host = _ReactorHost.get()
        import cyclone.escape
        import cyclone.httpserver
        import cyclone.httputil
        import cyclone.util
        import cyclone.web
        from twisted.internet import defer

        from . import _cyclone_handlers as shims

        self.name = "cyclone"
        # cyclone 1.3's module still says version "1.2" (and its Server header sends
        # that); the report names the release that is installed.
        try:
            self.version = importlib.metadata.version("cyclone")
        except importlib.metadata.PackageNotFoundError:
            self.version = str(getattr(cyclone, "version", "unknown"))
        self._web = cyclone.web
        self._defer = defer
        self._parts: dict[str, Any] = {
            "web": shims.web,
            "websocket": shims.websocket,
            "httpserver": cyclone.httpserver,
            "httputil": cyclone.httputil,
            "escape": cyclone.escape,
            "util": cyclone.util,
        }

    # -- API parts --------------------------------------------------------------------
    def part(self, name: str) -> Any | None:
        return self._parts.get(name)

    def missing_reason(self, name: str) -> str:
        why = MISSING.get(name, f"cyclone has no '{name}' part")
        return f"cyclone does not provide '{name}' ({why})"

    # -- the loop (rule 2) --------------------------------------------------------------
    def new_loop(self) -> ReactorLoop:
        self._host.take_over()
        return ReactorLoop(self._host.reactor, self._host.loop)

    def run_loop(self, loop: ReactorLoop) -> None:
        try:
            loop.asyncio_loop.run_forever()
        finally:
            self._host.idle.set()

    def stop_loop(self, loop: ReactorLoop) -> None:
        loop.asyncio_loop.stop()

    def close_loop(self, loop: ReactorLoop) -> None:
        # The reactor and its loop outlive this thread: the next loop thread takes them over.
        asyncio.set_event_loop(None)

    def call_soon_threadsafe(self, loop: ReactorLoop, fn: Callable[[], Any]) -> None:
        aloop = loop.asyncio_loop
        Deferred = self._defer.Deferred

        def start() -> None:
            result = fn()
            if isinstance(result, Deferred):
                result = result.asFuture(aloop)
            if inspect.isawaitable(result):
                aloop.create_task(_awaited(result))

        aloop.call_soon_threadsafe(start)

    # -- servers (rule 3) -----------------------------------------------------------------
    def listen(self, handlers: list[Any], settings: dict[str, Any], server_kwargs: dict[str, Any]) -> Listening:
        settings = dict(settings)
        options = dict(server_kwargs)
        for name in SERVER_OPTIONS_AS_SETTINGS:
            if name in options:
                settings[name] = options.pop(name)
        if options:
            not_provided(
                f"cyclone has no counterpart of Tornado's HTTPServer option(s) {', '.join(sorted(options))} "
                "(its HTTP connection is configured only through Application settings)"
            )
        app = self._web.Application(handlers, **settings)
        connections: weakref.WeakSet[Any] = weakref.WeakSet()
        build = app.buildProtocol

        def build_and_track(addr: Any) -> Any:
            protocol = build(addr)
            if protocol is not None:
                connections.add(protocol)
            return protocol

        # Instrumentation only: the kit must be able to drop what a check left open.
        app.buildProtocol = build_and_track
        port = self._host.reactor.listenTCP(0, app, interface="127.0.0.1")
        aloop = self._host.loop
        defer = self._defer

        def stop() -> Any:
            stopped = defer.maybeDeferred(port.stopListening)
            for protocol in list(connections):
                transport = getattr(protocol, "transport", None)
                if transport is not None and getattr(transport, "connected", False):
                    transport.abortConnection()
            return stopped.asFuture(aloop)

        return Listening("127.0.0.1", port.getHost().port, stop)


def conformance_adapter() -> CycloneAdapter:
    """The ``--impl`` hook: build the adapter (installs Twisted's asyncio reactor once)."""
    return CycloneAdapter()
