"""The run: everything one pytest session of the kit knows, in one object.

A `Run` holds the settings (read once from the command line and the ini file), the
implementation under test, its expectations, the results being collected and the
implementation's loop thread. The plugin builds it in ``pytest_configure`` and keeps it
under one stash key (`RUN`); hooks and fixtures reach it with `Run.of(config)`.

Rules:

1. Building a `Run` (``Run.configure``) reads settings only; it imports neither the
   implementation nor h11, wsproto or hypothesis. `Run.activate` loads the implementation
   and the expectations, once, when the kit is asked to act.
2. Misuse (a bad option value, an unimportable ``--impl``, a malformed expectations
   file) is a ``pytest.UsageError`` of one line (exit code 4).
3. There is no other run state: no module globals, no other stash keys.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .errors import Unresponsive
    from .expectations import ExpectationSet
    from .impl import Implementation
    from .report import Results
    from .server import LoopThread, Server

DEFAULT_IMPL = "tornado"
DEFAULT_TIMEOUT = 3.0
DEFAULT_SCALE_CONNECTIONS = 10_000
BACKENDS = ("trio", "asyncio")
#: Options that only mean something to a run of checks (option dest -> flag): given to a
#: run that collects none, they would be silently ignored.
CHECK_OPTIONS = {
    "conformance_expectations": "--expectations",
    "conformance_json": "--conformance-json",
    "conformance_strict_verdicts": "--strict-verdicts",
    "conformance_client_backend": "--client-backend",
    "conformance_timeout": "--conformance-timeout",
    "conformance_scale_connections": "--scale-connections",
    "conformance_update_expectations": "--update-expectations",
    "conformance_verify": "--verify",
    "conformance_history": "--history",
}


def positive_float(text: str) -> float:
    """An option value in seconds (argparse ``type=``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds such as 3 or 0.5, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An option value counting connections (argparse ``type=``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of connections such as 10000, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number of connections, got {text!r}")
    return value


def positive_runs(text: str) -> int:
    """An option value counting runs (``--verify=N``, argparse ``type=``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of runs such as 3, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number of runs, got {text!r}")
    return value


def setting(config: pytest.Config, name: str) -> Any:
    """The command-line value of ``name``, else its ini key, else None (the command line wins)."""
    value = config.getoption(name)
    if value is None:
        value = config.getini(name) or None
    return value


def suites_dir() -> Path:
    """Where the shipped suites are installed (``conformance.suites``)."""
    import conformance.suites

    return Path(conformance.suites.__file__).parent


def shipped_expectations(impl: Implementation) -> Path | None:
    """The expectations file the kit ships for ``impl``'s family (``deviations/tornado.toml``), if any.

    The family comes from what the implementation is (`Implementation.shipped_family`: the
    distribution providing the module), never from its name or version number alone."""
    from .expectations import shipped

    family = impl.shipped_family()
    return shipped(family) if family else None


def _no_expectations() -> ExpectationSet:
    from .expectations import ExpectationSet

    return ExpectationSet()


def require(impl: Implementation, *parts: str, features: Iterable[str] = ()) -> None:
    """Skip the current check as *not provided* unless ``impl`` has all ``parts`` and ``features``.

    A part that exists but failed to import fails the check instead (with the traceback):
    a broken port must never read as one that merely lacks a part.
    """
    from ._meta import not_provided
    from .errors import Violation

    for part in parts:
        if impl.part(part) is None:
            error = impl.part_error(part)
            if error is not None:
                raise Violation(f"{impl.name} has a '{part}' part that cannot be used: {error}")
            not_provided(impl.missing_reason(part))
    for feature in features:
        if not impl.feature(feature):
            not_provided(f"{impl.name} lacks the feature '{feature}'")


@dataclass
class Settings:
    """The kit's options, read once (command line first, then the ini file)."""

    impl_name: str | None
    backend: str = "trio"
    timeout: float = DEFAULT_TIMEOUT
    #: asked for with --scale-connections; settled against the machine's limits when scale checks run
    scale_connections: int | None = None
    strict_verdicts: bool = False
    #: the expectations files named, in order, as (option or ini key, path)
    expectations: list[tuple[str, str]] = field(default_factory=list)
    json_path: str | None = None
    #: the implementation was named by the ini key, not --impl (errors say which)
    impl_from_ini: bool = False
    update_expectations: str | None = None  #: --update-expectations=FILE
    verify: int = 1  #: --verify=N
    history: bool = False  #: --history

    @classmethod
    def read(cls, config: pytest.Config) -> Settings:
        backend = setting(config, "conformance_client_backend") or "trio"
        if backend not in BACKENDS:
            raise pytest.UsageError(
                f"{_given(config, 'conformance_client_backend', backend)} is not a backend; use one of: {', '.join(BACKENDS)}"
            )
        timeout = _typed(config, "conformance_timeout", positive_float)
        if timeout is None:
            timeout = DEFAULT_TIMEOUT
        scale = _typed(config, "conformance_scale_connections", positive_int)
        impl_name = config.getoption("conformance_impl")
        if impl_name is not None and not impl_name.strip():
            raise pytest.UsageError(
                "--impl is empty; name the module under test, e.g. --impl=tornado or --impl=mypkg.compat"
            )
        from_ini = impl_name is None and bool(config.getini("conformance_impl"))
        json_path = config.getoption("conformance_json", None)
        if json_path is not None:
            json_path = _output_path(json_path, "--conformance-json")
        return cls(
            impl_name=setting(config, "conformance_impl"),
            impl_from_ini=from_ini,
            backend=backend,
            timeout=timeout,
            scale_connections=scale,
            strict_verdicts=bool(setting(config, "conformance_strict_verdicts")),
            expectations=_expectations_files(config),
            json_path=json_path,
            update_expectations=config.getoption("conformance_update_expectations", None),
            verify=_typed(config, "conformance_verify", positive_runs) or 1,
            history=bool(config.getoption("conformance_history", None)),
        )


def _given(config: pytest.Config, dest: str, value: Any) -> str:
    """How the user gave ``value``: ``--option=value`` or ``ini_key = 'value'``."""
    if config.getoption(dest, None) is not None:
        return f"{CHECK_OPTIONS.get(dest, '--' + dest.replace('_', '-'))}={value}"
    return f"{dest} = {value!r}"


def _typed(config: pytest.Config, dest: str, convert: Callable[[str], Any]) -> Any:
    """The option's value converted (``None`` when not given); a bad one is a one-line usage
    error naming the option or ini key it came from."""
    value = setting(config, dest) if dest != "conformance_verify" else config.getoption(dest, None)
    if value is None:
        return None
    try:
        return convert(str(value))
    except argparse.ArgumentTypeError as exc:
        raise pytest.UsageError(f"{_given(config, dest, value)}: {exc}") from None


def _expectations_files(config: pytest.Config) -> list[tuple[str, str]]:
    """Every ``--expectations`` given (in order), else the ini key's files (one per line)."""
    given = config.getoption("conformance_expectations", None) or []
    if given:
        return [("--expectations", path) for path in given]
    ini = config.getini("conformance_expectations") or []
    return [("conformance_expectations", str(line).strip()) for line in ini if str(line).strip()]


def _output_path(value: str, option: str) -> str:
    """An output file named by ``option``: its folder is created now, or the run is refused
    now, so that a finished run is never lost to a path it cannot write."""
    path = Path(value)
    if not value.strip() or path.is_dir():
        raise pytest.UsageError(f"{option}={value}: name a file to write, not a directory")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise pytest.UsageError(
            f"{option}={value}: cannot create the folder {str(path.parent)!r} ({exc.strerror or exc})"
        ) from None
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise pytest.UsageError(f"{option}={value}: the file cannot be written (permission denied)")
    return value


def _holds_interrupt(exc: BaseException) -> bool:
    if isinstance(exc, KeyboardInterrupt):
        return False  # already what pytest expects
    inner = getattr(exc, "exceptions", None)
    return isinstance(inner, (list, tuple)) and any(
        isinstance(e, KeyboardInterrupt) or _holds_interrupt(e) for e in inner
    )


@dataclass
class _Carried:
    """A pytest outcome raised by a check on the clients' loop, carried to the check's thread."""

    exc: BaseException


#: The one stash key of the session: its `Run`.
RUN: pytest.StashKey[Run] = pytest.StashKey()
#: Where a check's `Server` is kept (on the item), so that a failure can show the implementation's log.
SERVER: pytest.StashKey[Server] = pytest.StashKey()


class Run:
    """One session of the kit: settings, implementation, expectations, results, loop thread."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        self._impl: Implementation | None = None
        self._results: Results | None = None
        #: the expectations that apply to this implementation's version
        self.expectations: ExpectationSet = _no_expectations()
        self.expectations_path: str | None = None
        self._loop: LoopThread | None = None
        self._clients: ExitStack | None = None
        self._portal: Any = None
        #: set once the liveness probe got no answer: later checks that serve fail at once
        self.unresponsive: Unresponsive | None = None
        #: the shipped suites' area folders the -m expression cannot select (not collected)
        self.skipped_areas: frozenset[str] = frozenset()
        #: the objects alive after collection were frozen out of the cyclic GC's view
        #: (plugin.pytest_collection_finish); pytest_unconfigure hands them back
        self.gc_frozen = False

    # -- building -----------------------------------------------------------------------
    @classmethod
    def configure(cls, config: pytest.Config) -> Run:
        """Read the settings and keep the run under `RUN` (usage errors surface here)."""
        run = cls(config, Settings.read(config))
        config.stash[RUN] = run
        return run

    @staticmethod
    def of(config: pytest.Config) -> Run:
        """The run of ``config`` (built by the plugin's ``pytest_configure``)."""
        return config.stash[RUN]

    @property
    def active(self) -> bool:
        """Whether the kit was asked to act (the implementation is loaded)."""
        return self._impl is not None

    def activate(self) -> Run:
        """Load the implementation and the expectations, once."""
        if self._impl is not None:
            return self
        from ._no_rewrite import skip_assertion_rewriting_of_oracles

        skip_assertion_rewriting_of_oracles()
        from . import _profiles
        from . import expectations as expectations_mod
        from .errors import ImplementationError
        from .impl import load
        from .report import Results

        # Hypothesis is imported when the first property check runs (conformance._fuzz
        # builds it then, with the ci profile unless one was chosen); only a --hypothesis-*
        # option, which makes hypothesis's plugin import it at configuration, chooses now.
        _profiles.configure(self.config)
        name = self.settings.impl_name or DEFAULT_IMPL
        try:
            impl = load(name)
        except ImplementationError as exc:
            message = str(exc)
            if self.settings.impl_from_ini:
                # The value came from the ini file: say so, in the key's own words.
                message = message.replace(f"--impl={name!r}", f"conformance_impl = {name} (ini file)", 1)
                message = message.replace(f"--impl={name}", f"conformance_impl = {name} (ini file)", 1)
            raise pytest.UsageError(message) from None
        try:
            # Entries bounded by since/fixed_in cover only some releases of the implementation.
            # The shipped default is chosen by what the implementation is (its distribution,
            # conformance/identity.py), never by its module name: windhose and Debian's build
            # import as `tornado`, and an unknown port gets no Tornado expectations.
            self.expectations, self.expectations_path = expectations_mod.for_run(
                self.settings.expectations, impl.shipped_family(), impl.version, self.settings.update_expectations
            )
        except expectations_mod.ExpectationsError as exc:
            raise pytest.UsageError(str(exc)) from None
        self._results = Results(impl.name, impl.version)
        identity = impl.identity()
        self._results.impl_identity = {
            **identity.to_json(),
            "expectations_family": impl.shipped_family(),
            "describe": identity.describe(),
        }
        self._impl = impl
        return self

    @property
    def impl(self) -> Implementation:
        """The implementation under test (the run activates itself when asked for it)."""
        self.activate()
        assert self._impl is not None
        return self._impl

    @property
    def results(self) -> Results:
        self.activate()
        assert self._results is not None
        return self._results

    # -- the implementation's loop --------------------------------------------------------
    def loop(self) -> LoopThread:
        """The implementation's loop thread, started on first use and replaced when wedged."""
        from .server import LoopThread

        loop = self._loop
        if loop is None or loop.wedged:
            if loop is not None:
                loop.stop()  # a wedged loop is abandoned; its daemon thread is left to die
            loop = LoopThread(self.impl, self.settings.timeout).start()
            self._loop = loop
        return loop

    # -- liveness -------------------------------------------------------------------------
    def after_timeout(self, check_id: str) -> Unresponsive | None:
        """A check that served the implementation ended with a timeout: does it answer at all?

        Runs the liveness probe (``conformance/_liveness.py``) unless the implementation is
        already known to be unresponsive; returns the evidence when it is, else None.
        """
        if self.unresponsive is None:
            from ._liveness import probe

            self.unresponsive = probe(self.impl, self.settings.timeout, self.run_client, after=check_id)
        return self.unresponsive

    def close(self) -> None:
        """Stop the loop thread and the clients' thread (end of the session)."""
        loop, self._loop = self._loop, None
        if loop is not None:
            loop.stop()
        self._stop_clients()

    def _stop_clients(self) -> None:
        """Stop the clients' thread, cancelling the task it may still run (never waiting for it)."""
        clients, portal, self._clients, self._portal = self._clients, self._portal, None, None
        if portal is not None:
            try:
                portal.call(portal.stop, True)
            except RuntimeError:
                pass  # already stopped
        if clients is not None:
            clients.close()

    # -- the kit's clients ----------------------------------------------------------------
    def run_client(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run an async client-side function to completion on the configured anyio backend.

        The backend's event loop runs for the whole session in a thread of its own (an
        anyio blocking portal): starting a trio run per check cost more than most checks'
        exchanges. Each call is its own task there; Ctrl-C while waiting cancels it. Every
        connection the kit opened in it is closed when it ends, however it ends.
        """
        from .wire._net import client_scope

        async def scoped(*args: Any) -> Any:
            __tracebackhide__ = True
            try:
                async with client_scope():  # the kit's client sockets are closed whatever happens
                    return await fn(*args)
            except (pytest.skip.Exception, pytest.fail.Exception) as exc:
                # pytest's outcomes (not_provided() skips, pytest.fail) are BaseExceptions:
                # raised out of the portal's task they would end its event loop, and every
                # later check with it. They are carried out as a value and raised here.
                return _Carried(exc)

        if self._portal is None:
            from anyio.from_thread import start_blocking_portal

            self._clients = ExitStack()
            self._portal = self._clients.enter_context(start_blocking_portal(self.settings.backend))
        task = self._portal.start_task_soon(scoped, *args)
        try:
            try:
                result = task.result()
                if isinstance(result, _Carried):
                    raise result.exc
                return result
            except KeyboardInterrupt:
                # The task may be running already (a Future that runs cannot be cancelled):
                # stopping the portal cancels it; the next call starts a fresh one.
                self._stop_clients()
                raise
        except BaseException as exc:
            # Ctrl-C while a check talks to the implementation may arrive wrapped in an
            # exception group (trio, task groups): it is an interrupt, never a verdict.
            if _holds_interrupt(exc):
                raise KeyboardInterrupt from None
            raise

    def settle_scale_connections(self) -> None:
        """Fix N for the scale checks: what was asked, or the default within the machine's limits."""
        from .wire.loadgen import connection_capacity

        asked = self.settings.scale_connections
        capacity, bound = connection_capacity()
        if asked is not None and asked > capacity:
            raise pytest.UsageError(
                f"--scale-connections={asked}: this machine can hold at most {capacity} connections per process "
                f"({bound}); ask for fewer, or raise the limit"
            )
        if asked is None and capacity < 1:
            raise pytest.UsageError(f"the scale suite cannot run here: {bound}")
        self.settings.scale_connections = asked if asked is not None else min(DEFAULT_SCALE_CONNECTIONS, capacity)


__all__ = [
    "BACKENDS",
    "DEFAULT_IMPL",
    "DEFAULT_SCALE_CONNECTIONS",
    "DEFAULT_TIMEOUT",
    "RUN",
    "SERVER",
    "Run",
    "Settings",
    "positive_float",
    "positive_int",
    "positive_runs",
    "require",
    "setting",
    "shipped_expectations",
    "suites_dir",
]
