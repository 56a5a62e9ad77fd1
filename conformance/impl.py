"""The implementation under test: ``--impl=MODULE`` turned into an `Implementation`.

Rules of this module:

1. If MODULE has an attribute ``conformance_adapter``, it *is* the implementation
   (an `Implementation` instance, or a zero-argument factory returning one). This is
   how a port that is not API-identical to Tornado plugs in without patching the kit.
2. Otherwise MODULE is wrapped by `TornadoLike`: each API part in `PARTS` is the
   module's attribute of that name if present, else the submodule ``MODULE.<part>``
   if importable, else *missing*. A missing part never crashes the run: the checks
   that need it are skipped as *not provided*.
3. Everything that runs "on the implementation's loop" goes through the small set of
   methods an adapter may override (`new_loop`, `run_loop`, `stop_loop`,
   `close_loop`, `call_soon_threadsafe`, `listen`). Checks never touch Tornado
   internals, so they stay valid for a rewrite.
"""

from __future__ import annotations

import abc
import asyncio
import importlib
import inspect
import socket
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from ._version import version_tuple
from .errors import ImplementationError
from .identity import TORNADO_BUILDS, Identity, distribution_of, family_of, http_client_of, loop_kind, runtime

#: The Tornado API parts a Tornado-like module may provide.
PARTS = (
    "web",
    "websocket",
    "gen",
    "concurrent",
    "ioloop",
    "httpserver",
    "httputil",
    "escape",
    "httpclient",
    "iostream",
    "netutil",
    "locks",
    "queues",
    "util",
    "template",
    "routing",
    "wsgi",
    "tcpserver",
    "tcpclient",
    "locale",
    "options",
    "auth",
)


@dataclass
class Listening:
    """A server the implementation started for one check."""

    host: str
    port: int
    stop: Callable[[], Any]  #: called on the loop thread; may return an awaitable


def _version_of(module: ModuleType) -> str:
    for attr in ("version", "__version__", "VERSION"):
        value = getattr(module, attr, None)
        if isinstance(value, str):
            return value
        if isinstance(value, tuple):
            return ".".join(str(v) for v in value)
    try:
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version(module.__name__.split(".")[0])
        except PackageNotFoundError:
            return "unknown"
    except ImportError:  # pragma: no cover - Python < 3.8 only
        return "unknown"


class Implementation(abc.ABC):
    """What the kit needs from an implementation. Subclass it to write an adapter.

    The abstract methods (`part`, `new_loop`, `run_loop`, `stop_loop`,
    `call_soon_threadsafe`, `listen`) are what every adapter must write; `load` refuses
    an adapter that leaves one out, naming it, before any check runs. `missing_reason`,
    `feature` and `close_loop` have working defaults.

    Attributes:
        name: what ``--impl`` named (or the adapter's own name).
        version: the implementation's version, for the report.
    """

    name: str = "unknown"
    version: str = "unknown"
    #: The expectations file the kit ships for this implementation (``deviations/<family>.toml``),
    #: declared by an adapter; None: no shipped expectations (`shipped_family`).
    expectations_family: str | None = None
    #: The API parts the harness itself needs to run the loop (``new_loop`` and friends).
    #: An adapter that runs the loop by other means (a Twisted reactor) needs none.
    loop_parts: tuple[str, ...] = ()

    # -- API parts and features ---------------------------------------------------
    @abc.abstractmethod
    def part(self, name: str) -> Any | None:
        """The API part ``name`` (e.g. ``web``), or None when it is not provided."""
        raise NotImplementedError

    def missing_reason(self, name: str) -> str:
        return f"{self.name} does not provide the '{name}' part"

    def part_error(self, name: str) -> str | None:
        """Why part ``name`` exists but cannot be used (its import raised), with the traceback;
        None when it is provided or simply absent. Checks that need a broken part fail."""
        return None

    def feature(self, name: str) -> bool:
        """Whether the implementation has feature ``name`` (see `FEATURES`)."""
        detector = FEATURES.get(name)
        if detector is None:
            raise KeyError(f"unknown feature {name!r}; known features: {', '.join(sorted(FEATURES))}")
        try:
            return bool(detector(self))
        except Exception:
            return False

    # -- identity -------------------------------------------------------------------
    def identity(self) -> Identity:
        """What the implementation is (`conformance.identity`): an adapter knows no
        distribution unless it overrides this; its loop is its own."""
        try:
            client = http_client_of(self.part("httpclient"))
        except Exception:
            client = None  # identity is a report: an adapter's part lookup must not break the run
        return Identity(runtime=runtime(), loop="adapter's own", http_client=client)

    def shipped_family(self) -> str | None:
        """The family whose shipped expectations apply (``tornado``, ``windhose``), or None."""
        return self.expectations_family

    # -- the loop -------------------------------------------------------------------
    @abc.abstractmethod
    def new_loop(self) -> Any:
        """Create the implementation's event loop. Called on the loop thread."""
        raise NotImplementedError

    @abc.abstractmethod
    def run_loop(self, loop: Any) -> None:
        """Run ``loop`` until `stop_loop`. Called on the loop thread; blocks."""
        raise NotImplementedError

    @abc.abstractmethod
    def stop_loop(self, loop: Any) -> None:
        """Ask ``loop`` to stop. Called on the loop thread."""
        raise NotImplementedError

    def close_loop(self, loop: Any) -> None:
        """Release everything ``loop`` holds. Called on the loop thread after `run_loop`."""
        return None  # nothing to release by default

    @abc.abstractmethod
    def call_soon_threadsafe(self, loop: Any, fn: Callable[[], Any]) -> None:
        """Schedule ``fn`` on ``loop`` from another thread. ``fn`` may return an awaitable,
        which the loop must then drive to completion."""
        raise NotImplementedError

    # -- servers --------------------------------------------------------------------
    @abc.abstractmethod
    def listen(self, handlers: list[Any], settings: dict[str, Any], server_kwargs: dict[str, Any]) -> Listening:
        """Start an application with ``handlers`` and ``settings`` on 127.0.0.1, on a free
        port. Called on the loop thread."""
        raise NotImplementedError


class TornadoLike(Implementation):
    """A module laid out like the ``tornado`` package (rule 2 above)."""

    loop_parts: tuple[str, ...] = ("ioloop",)

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.name = module.__name__
        self.version = _version_of(module)
        self._parts: dict[str, Any | None] = {}
        self._why_missing: dict[str, str] = {}
        self._errors: dict[str, str] = {}
        self._identity: Identity | None = None

    def identity(self) -> Identity:
        """The distribution providing the module (not its version attribute), the runtime,
        the loop `new_loop` creates and the configured HTTP client."""
        if self._identity is None:
            try:
                found = distribution_of(self.module)
            except Exception:
                found = None
            self._identity = Identity(
                distribution=found[0] if found else None,
                distribution_version=found[1] if found else None,
                runtime=runtime(),
                loop=self._loop_kind(),
                http_client=http_client_of(self.part("httpclient")),
            )
        return self._identity

    def _loop_kind(self) -> str:
        ioloop = self.part("ioloop")
        try:
            configured = ioloop.IOLoop.configured_class() if ioloop is not None else None
        except Exception:
            configured = None
        name = getattr(configured, "__name__", "")
        if configured is not None and "AsyncIO" not in name:
            return f"tornado IOLoop ({name})"  # Tornado 4.x: its own poll loop
        return loop_kind()

    def shipped_family(self) -> str | None:
        """By distribution (`conformance.identity.FAMILIES`): the Tornado file only for the
        ``tornado`` distribution; a module no known distribution provides gets none, and so
        does a subclass (an adapter) that does not set `expectations_family`."""
        if self.expectations_family is not None:
            return self.expectations_family
        if type(self) is not TornadoLike:
            return None  # an adapter may change behaviour: it names its family itself, or gets none
        return family_of(self.identity().distribution)

    def part(self, name: str) -> Any | None:
        if name not in self._parts:
            self._parts[name] = self._find_part(name)
        return self._parts[name]

    def _find_part(self, name: str) -> Any | None:
        value = getattr(self.module, name, None)
        if value is not None:
            return value
        qualified = f"{self.module.__name__}.{name}"
        try:
            return importlib.import_module(qualified)
        except ModuleNotFoundError as exc:
            if exc.name is not None and qualified.startswith(exc.name):
                self._why_missing[name] = f"no attribute '{name}' and no submodule {qualified}"
                return None
            error: BaseException = exc
        except Exception as exc:
            error = exc
        # The part exists but is broken (it, or something it imports, raised): checks that
        # need it must fail with the traceback, never read as "not provided".
        trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        self._why_missing[name] = f"{qualified} failed to import: {type(error).__name__}: {error}"
        self._errors[name] = f"{qualified} exists but failed to import:\n{trace.rstrip()}"
        return None

    def part_error(self, name: str) -> str | None:
        self.part(name)
        return self._errors.get(name)

    def missing_reason(self, name: str) -> str:
        self.part(name)
        why = self._why_missing.get(name, "not provided")
        return f"{self.name} does not provide '{name}' ({why})"

    # -- the loop -------------------------------------------------------------------
    def _ioloop_class(self) -> Any:
        ioloop = self.part("ioloop")
        if ioloop is None:
            raise ImplementationError(self.missing_reason("ioloop"))
        return ioloop.IOLoop

    def _new_asyncio_loop(self) -> asyncio.AbstractEventLoop:
        """The asyncio loop Tornado >= 5 runs on (an adapter may choose another, e.g. uvloop's)."""
        return asyncio.new_event_loop()

    def new_loop(self) -> Any:
        IOLoop = self._ioloop_class()
        # Tornado >= 5 lives on asyncio: make a fresh asyncio loop for this thread and
        # take the IOLoop that wraps it while it is running (the non-deprecated way).
        aloop = self._new_asyncio_loop()
        asyncio.set_event_loop(aloop)

        async def current() -> Any:
            return IOLoop.current()

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            loop = aloop.run_until_complete(current())
            if getattr(loop, "asyncio_loop", None) is aloop:
                return loop
            # Tornado 4.x: its own poll loop, not asyncio's.
            asyncio.set_event_loop(None)
            aloop.close()
            loop = IOLoop()
            loop.make_current()
            return loop

    def run_loop(self, loop: Any) -> None:
        loop.start()

    def stop_loop(self, loop: Any) -> None:
        loop.stop()

    def close_loop(self, loop: Any) -> None:
        aloop = getattr(loop, "asyncio_loop", None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            # Drain asyncio's executor first: Tornado's close() closes the asyncio loop
            # too, which only asks the executor's threads to stop, without joining them.
            if aloop is not None and not aloop.is_closed():
                aloop.run_until_complete(aloop.shutdown_asyncgens())
                if hasattr(aloop, "shutdown_default_executor"):
                    aloop.run_until_complete(aloop.shutdown_default_executor())
            loop.close(all_fds=True)
            if aloop is not None and not aloop.is_closed():
                aloop.close()
            asyncio.set_event_loop(None)

    def call_soon_threadsafe(self, loop: Any, fn: Callable[[], Any]) -> None:
        # The harness's own plumbing must not depend on the API the coroutine checks
        # judge: on an asyncio-based loop the kit schedules through asyncio itself, and
        # only falls back to IOLoop.add_callback (Tornado 4.x) where there is none.
        aloop = getattr(loop, "asyncio_loop", None)
        if aloop is None:
            loop.add_callback(fn)
            return

        def start() -> None:
            result = fn()
            if inspect.isawaitable(result):
                aloop.create_task(_awaited(result))

        aloop.call_soon_threadsafe(start)

    # -- servers --------------------------------------------------------------------
    def _release(self) -> tuple[int, ...] | None:
        """The Tornado release this module is (or vendors), for API translations; None if unknown."""
        if self.name.rsplit(".", 1)[-1] != "tornado":
            return None
        distribution = self.identity().distribution
        if distribution is not None and distribution not in TORNADO_BUILDS:
            return None  # a fork numbering its own releases (windhose 2.0 follows Tornado 6.5)
        return version_tuple(self.version)

    def _compat_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        """Application settings in the spelling of the release under test (APIs, never behaviour).

        ``websocket_ping_timeout=0`` means "no ping timeout" from Tornado 6.5 on; before, 0 is a
        zero-second timeout and the old API has no way to disable it, so the setting is left
        out there (the default, ``max(3 * ping_interval, 30)`` seconds, outlasts any check).
        """
        release = self._release()
        if release is not None and release < (6, 5) and settings.get("websocket_ping_timeout") == 0:
            settings = {k: v for k, v in settings.items() if k != "websocket_ping_timeout"}
        return settings

    def listen(self, handlers: list[Any], settings: dict[str, Any], server_kwargs: dict[str, Any]) -> Listening:
        web = self.part("web")
        httpserver = self.part("httpserver")
        if web is None or httpserver is None:
            raise ImplementationError(self.missing_reason("web" if web is None else "httpserver"))
        app = web.Application(handlers, **self._compat_settings(settings))
        server = httpserver.HTTPServer(app, **server_kwargs)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        sock.setblocking(False)
        server.add_sockets([sock])
        port = sock.getsockname()[1]

        def stop() -> Any:
            server.stop()
            close_all = getattr(server, "close_all_connections", None)
            return close_all() if close_all is not None else None

        return Listening("127.0.0.1", port, stop)


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


# -- features ---------------------------------------------------------------------
def _handler_has(attr: str) -> Callable[[Implementation], bool]:
    def detect(impl: Implementation) -> bool:
        web = impl.part("web")
        return web is not None and hasattr(web.RequestHandler, attr)

    return detect


def _signed_value_v2(impl: Implementation) -> bool:
    web = impl.part("web")
    return web is not None and "version" in inspect.signature(web.create_signed_value).parameters


def _ioloop_has(attr: str) -> Callable[[Implementation], bool]:
    def detect(impl: Implementation) -> bool:
        ioloop = impl.part("ioloop")
        return ioloop is not None and hasattr(ioloop.IOLoop, attr)

    return detect


def _websocket_connect_takes(keyword: str) -> Callable[[Implementation], bool]:
    def detect(impl: Implementation) -> bool:
        websocket = impl.part("websocket")
        connect = getattr(websocket, "websocket_connect", None)
        return connect is not None and keyword in inspect.signature(connect).parameters

    return detect


#: Feature name -> detector. A check declares features with ``requires(features=...)``.
FEATURES: dict[str, Callable[[Implementation], bool]] = {
    # The documented handler API: RequestHandler.create_signed_value and a signed-cookie
    # getter (get_signed_cookie since Tornado 6.3, get_secure_cookie before).
    "signed_cookies": lambda impl: (
        all(_handler_has(name)(impl) for name in ("create_signed_value", "get_secure_cookie"))
        or all(_handler_has(name)(impl) for name in ("create_signed_value", "get_signed_cookie"))
    ),
    "signed_value_v2": _signed_value_v2,
    "set_secure_cookie": _handler_has("set_secure_cookie"),
    "set_signed_cookie": _handler_has("set_signed_cookie"),
    "xsrf": _handler_has("check_xsrf_cookie"),
    "gen_multi": lambda impl: impl.part("gen") is not None and hasattr(impl.part("gen"), "multi"),
    "future_add_done_callback": lambda impl: hasattr(impl.part("concurrent"), "future_add_done_callback"),
    # IOLoop.run_in_executor: Tornado >= 5.0.
    "run_in_executor": _ioloop_has("run_in_executor"),
    # websocket_connect(subprotocols=...): Tornado >= 5.1.
    "websocket_connect_subprotocols": _websocket_connect_takes("subprotocols"),
}


def load(name: str) -> Implementation:
    """Turn ``--impl=name`` into an `Implementation`.

    Raises:
        ImplementationError: with a one-line message when ``name`` cannot be used.
    """
    if not name or not all(part.isidentifier() for part in name.split(".")):
        raise ImplementationError(
            f"--impl={name!r} is not a module name; pass a dotted module path such as --impl=tornado or --impl=mypkg.compat"
        )
    try:
        module = importlib.import_module(name)
    except Exception as exc:
        raise ImplementationError(
            f"--impl={name}: cannot import module {name!r} ({type(exc).__name__}: {exc}); "
            "install it or put it on PYTHONPATH, or pass another module (default: --impl=tornado)"
        ) from None
    adapter = getattr(module, "conformance_adapter", None)
    if adapter is None:
        impl = TornadoLike(module)
        if not any(impl.part(part) is not None or impl.part_error(part) for part in PARTS):
            raise ImplementationError(
                f"--impl={name}: {name} provides none of Tornado's API parts ({', '.join(PARTS)}), as an "
                "attribute or a submodule; pass the package itself (e.g. --impl=tornado, not --impl=tornado.web), "
                "or give the module a conformance_adapter"
            )
        return impl
    if isinstance(adapter, Implementation):
        return adapter
    if isinstance(adapter, type) and issubclass(adapter, Implementation):
        _refuse_abstract(name, adapter)
    if callable(adapter):
        try:
            made = adapter()
        except TypeError as exc:
            abstract = _abstract_class_in(exc)
            if abstract is not None:
                _refuse_abstract(name, abstract)
            raise ImplementationError(
                f"--impl={name}: {name}.conformance_adapter() raised {type(exc).__name__}: {exc}"
            ) from None
        except Exception as exc:
            raise ImplementationError(
                f"--impl={name}: {name}.conformance_adapter() raised {type(exc).__name__}: {exc}"
            ) from None
        if isinstance(made, Implementation):
            return made
        adapter = made
    raise ImplementationError(
        f"--impl={name}: {name}.conformance_adapter must be a conformance.Implementation or a "
        f"zero-argument factory returning one, got {type(adapter).__name__}"
    )


def _abstract_class_in(exc: TypeError) -> type[Implementation] | None:
    """The `Implementation` subclass an "instantiate abstract class" error is about, if any."""
    for cls in _subclasses(Implementation):
        if getattr(cls, "__abstractmethods__", None) and f"abstract class {cls.__name__}" in str(exc):
            return cls
    return None


def _subclasses(cls: type) -> list[type]:
    found: list[type] = []
    subclasses: list[type] = cls.__subclasses__()
    for sub in subclasses:
        found += [sub, *_subclasses(sub)]
    return found


def _refuse_abstract(name: str, cls: type) -> None:
    """A usage error naming each method the adapter class leaves unwritten."""
    missing = sorted(getattr(cls, "__abstractmethods__", ()))
    if missing:
        methods = ", ".join(f"{m}()" for m in missing)
        raise ImplementationError(
            f"--impl={name}: the adapter {cls.__qualname__} does not implement {methods}, which every "
            "conformance.Implementation must provide (see docs/implementations.md)"
        )
