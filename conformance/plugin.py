"""The pytest plugin: options, markers, fixtures, verdicts and the summary.

Rules:

1. Importing this module imports neither the implementation nor h11, wsproto or
   hypothesis: the plugin is loaded into every pytest run of every project that has
   the kit installed, and must cost nothing there.
2. The kit acts only when asked: ``--impl`` on the command line, or conformance checks
   among the collected items. ``--impl`` with no test paths runs the shipped suites.
3. Misuse of the kit is a ``pytest.UsageError`` (exit code 4) with one line that says
   what is wrong and how to fix it; a broken implementation is a failed check.
"""

from __future__ import annotations

import argparse
import functools
import inspect
import sys
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if sys.version_info < (3, 11):  # pragma: no cover - exercised on Python < 3.11 in tox
    from exceptiongroup import BaseExceptionGroup

import pytest

from ._client_fixtures import h11_server as h11_server
from ._meta import AREAS, OPT_IN_AREAS, area_of, check_id, describe, validate_item

if TYPE_CHECKING:
    from .impl import Implementation
    from .report import Results
    from .server import LoopThread, Server

DEFAULT_IMPL = "tornado"
DEFAULT_TIMEOUT = 3.0
DEFAULT_SCALE_CONNECTIONS = 10_000
BACKENDS = ("trio", "asyncio")

_results_key = pytest.StashKey["Results"]()
_impl_key = pytest.StashKey["Implementation"]()
_server_key = pytest.StashKey["Server"]()
_settings_key = pytest.StashKey[dict]()
_expectations_key = pytest.StashKey[dict]()
_expectations_path_key = pytest.StashKey["str | None"]()


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds such as 3 or 0.5, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of connections such as 10000, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number of connections, got {text!r}")
    return value


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "tornado-conformance")
    group.addoption(
        "--impl",
        dest="conformance_impl",
        default=None,
        metavar="MODULE",
        help=f"module of the implementation under test (default: {DEFAULT_IMPL}); "
        "with no test paths, runs the kit's suites against it",
    )
    group.addoption(
        "--client-backend",
        dest="conformance_client_backend",
        default=None,
        choices=BACKENDS,
        help="anyio backend of the kit's oracle clients (default: trio)",
    )
    group.addoption(
        "--conformance-timeout",
        dest="conformance_timeout",
        default=None,
        type=_positive_float,
        metavar="SECONDS",
        help=f"deadline of every network operation (default: {DEFAULT_TIMEOUT:g})",
    )
    group.addoption(
        "--conformance-json",
        dest="conformance_json",
        default=None,
        metavar="PATH",
        help="write the results as JSON to PATH",
    )
    group.addoption(
        "--strict-verdicts",
        dest="conformance_strict_verdicts",
        action="store_true",
        default=None,
        help="count non-strict verdicts (e.g. a TCP drop where a close code was due) as failures",
    )
    group.addoption(
        "--expectations",
        dest="conformance_expectations",
        default=None,
        metavar="FILE",
        help="TOML file of the implementation's known deviations (strict expected failures)",
    )
    group.addoption(
        "--scale-connections",
        dest="conformance_scale_connections",
        default=None,
        type=_positive_int,
        metavar="N",
        help=f"connections each check of the opt-in scale suite (-m scale) holds (default: {DEFAULT_SCALE_CONNECTIONS}, "
        "or fewer where the open-file limit allows no more)",
    )
    parser.addini("conformance_impl", f"module of the implementation under test (default: {DEFAULT_IMPL})")
    parser.addini("conformance_client_backend", "anyio backend of the oracle clients: trio or asyncio")
    parser.addini("conformance_timeout", f"deadline of every network operation, seconds (default: {DEFAULT_TIMEOUT:g})")
    parser.addini("conformance_expectations", "TOML file of the implementation's known deviations")
    parser.addini("conformance_strict_verdicts", "count non-strict verdicts as failures", type="bool", default=False)
    parser.addini("conformance_scale_connections", "connections each scale check holds (default: 10000)")


def _setting(config: pytest.Config, name: str) -> Any:
    value = config.getoption(name)
    if value is None:
        value = config.getini(name) or None
    return value


def suites_dir() -> Path:
    import conformance.suites

    return Path(conformance.suites.__file__).parent


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # Hypothesis loads --hypothesis-profile in its own pytest_configure: our profiles
    # must exist by then, so they are registered first (only when one is asked for,
    # to keep hypothesis unimported in runs that do not need it).
    if getattr(config.option, "hypothesis_profile", None):
        from . import _profiles

        _profiles.register()
    for area, description in AREAS.items():
        config.addinivalue_line("markers", f"{area}: {description}")
    config.addinivalue_line("markers", "conformance(reference, level): the rule a check enforces")
    config.addinivalue_line("markers", "conformance_requires(parts, features): API parts a check needs")

    backend = _setting(config, "conformance_client_backend") or "trio"
    if backend not in BACKENDS:
        raise pytest.UsageError(
            f"conformance_client_backend = {backend!r} is not a backend; use one of: {', '.join(BACKENDS)}"
        )
    timeout = _setting(config, "conformance_timeout")
    if timeout is None:
        timeout = DEFAULT_TIMEOUT
    elif not isinstance(timeout, float):
        try:
            timeout = _positive_float(str(timeout))
        except argparse.ArgumentTypeError as exc:
            raise pytest.UsageError(f"conformance_timeout = {timeout!r}: {exc}") from None
    scale = _setting(config, "conformance_scale_connections")
    if scale is not None and not isinstance(scale, int):
        try:
            scale = _positive_int(str(scale))
        except argparse.ArgumentTypeError as exc:
            raise pytest.UsageError(f"conformance_scale_connections = {scale!r}: {exc}") from None
    config.stash[_settings_key] = {"backend": backend, "timeout": timeout, "scale_connections": scale}

    explicit = config.getoption("conformance_impl") is not None
    if explicit and config.args_source is not pytest.Config.ArgsSource.ARGS:
        config.args = [str(suites_dir())]
    if explicit or config.getini("conformance_impl") or _targets_suites(config):
        _activate(config)


def _targets_suites(config: pytest.Config) -> bool:
    root = suites_dir().resolve()
    for arg in config.args:
        if str(arg).split("::", 1)[0] == "conformance.suites" or str(arg).startswith("conformance.suites."):
            return True  # --pyargs conformance.suites[.area]
        path = Path(str(arg).split("::", 1)[0])
        try:
            resolved = (Path(config.invocation_params.dir) / path).resolve()
        except OSError:
            continue
        if resolved == root or root in resolved.parents:
            return True
    return False


def _activate(config: pytest.Config) -> None:
    """Load the implementation and the expectations (usage errors surface here)."""
    if _impl_key in config.stash:
        return
    from . import expectations as expectations_mod
    from .impl import ImplementationError, load
    from .report import Results

    name = _setting(config, "conformance_impl") or DEFAULT_IMPL
    try:
        impl = load(name)
    except ImplementationError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[_impl_key] = impl
    from . import _profiles

    _profiles.register()
    if not getattr(config.option, "hypothesis_profile", None):
        _profiles.load_default()
    results = Results(impl.name, impl.version)
    config.stash[_results_key] = results
    config.pluginmanager.register(_Recorder(results), "conformance-recorder")
    path = _setting(config, "conformance_expectations")
    if path is None:
        path = shipped_expectations(impl)
    elif path == "none":
        path = None
    config.stash[_expectations_path_key] = str(path) if path else None
    try:
        loaded = expectations_mod.load(path) if path else {}
    except expectations_mod.ExpectationsError as exc:
        raise pytest.UsageError(str(exc)) from None
    # Entries bounded by since/fixed_in cover only some releases of the implementation.
    config.stash[_expectations_key] = {cid: e for cid, e in loaded.items() if e.applies_to(impl.version)}


def shipped_expectations(impl: Implementation) -> Path | None:
    """The expectations file the kit ships for ``impl`` (Tornado releases), if any."""
    if impl.name != "tornado":
        return None
    major_minor = ".".join(impl.version.split(".")[:2])
    path = Path(__file__).parent / "deviations" / f"tornado-{major_minor}.toml"
    return path if path.exists() else None


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    if _impl_key not in config.stash:
        return None
    from importlib.metadata import version

    impl = config.stash[_impl_key]
    settings = config.stash[_settings_key]
    oracles = ", ".join(f"{name} {version(name)}" for name in ("h11", "wsproto", "hypothesis", "anyio"))
    path = config.stash.get(_expectations_path_key, None)
    known = f"{path} ({len(config.stash[_expectations_key])} known deviations)" if path else "none"
    return [
        f"conformance: implementation {impl.name} {impl.version}",
        f"conformance: oracles {oracles}; client backend {settings['backend']}; timeout {settings['timeout']:g}s",
        f"conformance: expectations {known}",
    ]


def _is_check(item: pytest.Item) -> bool:
    if item.get_closest_marker("conformance") is not None:
        return True
    if any(item.get_closest_marker(area) for area in AREAS):
        return True
    root = suites_dir().resolve()
    path = Path(str(item.path)).resolve()
    return root in path.parents


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    checks = [item for item in items if _is_check(item)]
    if not checks:
        return
    problems = [f"{item.nodeid} {why}" for item in checks if (why := validate_item(item)) is not None]
    if problems:
        raise pytest.UsageError(
            f"refusing to run checks without metadata: {problems[0]}"
            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
        )
    checks = _deselect_opt_in_areas(config, items, checks)
    _activate(config)
    expectations = config.stash[_expectations_key]
    seen: dict[str, str] = {}
    for item in checks:
        meta = describe(item)
        cid = meta["id"]
        if cid in seen and seen[cid] != item.nodeid:
            raise pytest.UsageError(f"two checks share the id {cid!r}: {seen[cid]} and {item.nodeid}; rename one")
        seen[cid] = item.nodeid
        expectation = expectations.get(cid)
        if expectation is not None:
            meta["expectation"] = expectation.reason
            if expectation.advisory:
                meta["advisory"] = expectation.advisory
            if expectation.fixed_in:
                meta["fixed_in"] = expectation.fixed_in
            item.add_marker(pytest.mark.xfail(strict=True, reason=f"expected deviation: {expectation.reason}"))
        item.user_properties.append(("conformance", meta))
    results = config.stash[_results_key]
    # Only areas that were collected can tell a stale id from one merely not selected.
    collected_areas = {cid.split(".", 1)[0] for cid in seen}
    results.unknown_expectations = sorted(
        cid for cid in set(expectations) - set(seen) if cid.split(".", 1)[0] in collected_areas
    )


def _deselect_opt_in_areas(
    config: pytest.Config, items: list[pytest.Item], checks: list[pytest.Item]
) -> list[pytest.Item]:
    """Leave out the checks of opt-in areas (``scale``) unless ``-m`` names the area.

    "Names" means the expression is true for that area's marker alone and false for no
    marker: ``-m scale`` and ``-m "http11 or scale"`` run the suite, ``-m "not http11"`` does not.
    """
    from _pytest.mark.expression import Expression

    expression = Expression.compile(config.option.markexpr) if config.option.markexpr else None

    def named(area: str) -> bool:
        def only_area(name: str, /, **kwargs: Any) -> bool:
            return name == area and not kwargs

        def no_marker(name: str, /, **kwargs: Any) -> bool:
            return False

        return expression is not None and expression.evaluate(only_area) and not expression.evaluate(no_marker)

    left_out = {area for area in OPT_IN_AREAS if not named(area)}
    deselected = [item for item in checks if area_of(item) in left_out]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        dropped = set(deselected)
        items[:] = [item for item in items if item not in dropped]
        checks = [item for item in checks if item not in dropped]
    if any(area_of(item) == "scale" for item in checks):
        _settle_scale_connections(config)
    return checks


def _settle_scale_connections(config: pytest.Config) -> None:
    """Fix N for the scale checks: what was asked, or the default within the machine's limits."""
    from .wire.loadgen import connection_capacity

    settings = config.stash[_settings_key]
    asked = settings["scale_connections"]
    capacity, bound = connection_capacity()
    if asked is not None and asked > capacity:
        raise pytest.UsageError(
            f"--scale-connections={asked}: this machine can hold at most {capacity} connections per process "
            f"({bound}); ask for fewer, or raise the limit"
        )
    if asked is None and capacity < 1:
        raise pytest.UsageError(f"the scale suite cannot run here: {bound}")
    settings["scale_connections"] = asked if asked is not None else min(DEFAULT_SCALE_CONNECTIONS, capacity)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if _impl_key not in item.config.stash:
        return
    # Every requires() on the way (module, class, function, parameter) adds its needs.
    parts: list[str] = []
    features: list[str] = []
    for mark in item.iter_markers("conformance_requires"):
        parts += [p for p in mark.kwargs.get("parts", ()) if p not in parts]
        features += [f for f in mark.kwargs.get("features", ()) if f not in features]
    if parts or features:
        impl_require(item.config.stash[_impl_key], *parts, features=features)


def impl_require(impl: Implementation, *parts: str, features: Any = ()) -> None:
    """Skip the current check as *not provided* unless ``impl`` has all ``parts`` and ``features``."""
    from ._meta import not_provided

    for part in parts:
        if impl.part(part) is None:
            not_provided(impl.missing_reason(part))
    for feature in features:
        if not impl.feature(feature):
            not_provided(f"{impl.name} lacks the feature '{feature}'")


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run ``async def`` checks on the kit's anyio backend (never on the implementation's loop)."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj) or not _is_check(pyfuncitem):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}
    run_client(functools.partial(pyfuncitem.obj, **kwargs), config=pyfuncitem.config)
    return True


def run_client(fn: Any, *args: Any, config: pytest.Config | None = None) -> Any:
    """Run an async client-side function to completion on the configured anyio backend."""
    import anyio

    backend = _current_backend if config is None else config.stash[_settings_key]["backend"]
    return anyio.run(fn, *args, backend=backend)


_current_backend = "trio"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    if call.excinfo is not None and _is_check(item) and not call.excinfo.errisinstance(pytest.skip.Exception):
        from .errors import NonStrict, Violation

        exc = call.excinfo.value
        # A check that runs tasks in a task group sees its failure wrapped in an
        # exception group; the verdict is that of the one exception inside.
        while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
            exc = exc.exceptions[0]
        verdict = exc.verdict if isinstance(exc, Violation) else "failed"
        report.user_properties.append(("conformance_verdict", verdict))
        # pytest's assertion rewriting appends "assert ..." introspection; the JSON keeps
        # the readable paragraph the check wrote.
        message = (str(exc) or type(exc).__name__).split("\nassert ", 1)[0]
        report.user_properties.append(("conformance_message", message))
        strict = _setting(item.config, "conformance_strict_verdicts")
        if isinstance(exc, NonStrict) and report.failed and not strict:
            # Outermost wrapper: an expected failure has already been turned into xfailed.
            report.outcome = "passed"
            report.longrepr = None
        server = item.stash.get(_server_key, None)
        if server is not None and server.log.records:
            report.sections.append(("implementation log", server.log.format()))
    return report


class _Recorder:
    """Registered per run once the kit is active; feeds every report to the results."""

    def __init__(self, results: Results) -> None:
        self.results = results

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.results.add(report)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    global _current_backend
    if _settings_key in session.config.stash:
        _current_backend = session.config.stash[_settings_key]["backend"]


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if _results_key not in config.stash or not config.stash[_results_key].records:
        return
    terminalreporter.section("tornado-conformance summary")
    for line in config.stash[_results_key].terminal_lines():
        terminalreporter.write_line(line)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    path = config.getoption("conformance_json", None)
    if path and _results_key in config.stash and not hasattr(config, "workerinput"):
        config.stash[_results_key].write_json(path)


def pytest_unconfigure(config: pytest.Config) -> None:
    loop = _loops.pop(config, None)
    if loop is not None:
        loop.stop()


# -- fixtures ---------------------------------------------------------------------------
_loops: dict[pytest.Config, LoopThread] = {}


@pytest.fixture(scope="session")
def impl(pytestconfig: pytest.Config) -> Implementation:
    """The implementation under test (see ``conformance.Implementation``)."""
    _activate(pytestconfig)
    return pytestconfig.stash[_impl_key]


@pytest.fixture(scope="session")
def conformance_timeout(pytestconfig: pytest.Config) -> float:
    """The deadline of every network operation, in seconds."""
    return float(pytestconfig.stash[_settings_key]["timeout"])


def _loop_for(config: pytest.Config, impl: Implementation, timeout: float) -> LoopThread:
    from .server import LoopThread

    loop = _loops.get(config)
    if loop is None or loop.wedged:
        if loop is not None:
            loop.stop()  # a wedged loop is abandoned; its daemon thread is left to die
        loop = LoopThread(impl, timeout).start()
        _loops[config] = loop
    return loop


@pytest.fixture
def server(request: pytest.FixtureRequest, impl: Implementation, conformance_timeout: float) -> Iterator[Server]:
    """Start applications on the implementation's loop and run code there (see ``Server``)."""
    from .server import Server, ServerLog

    impl_require(impl, "web", "httpserver", *impl.loop_parts)
    loop = _loop_for(request.config, impl, conformance_timeout)
    log = ServerLog()
    srv = Server(loop, log)
    request.node.stash[_server_key] = srv
    with loop.capture(log):
        try:
            yield srv
        finally:
            srv.close()


@pytest.fixture
def ioloop(request: pytest.FixtureRequest, impl: Implementation, conformance_timeout: float) -> Iterator[Server]:
    """Like ``server`` but needs no server part: for checks that run code on the loop."""
    from .server import Server, ServerLog

    impl_require(impl, *impl.loop_parts)
    loop = _loop_for(request.config, impl, conformance_timeout)
    log = ServerLog()
    srv = Server(loop, log)
    request.node.stash[_server_key] = srv
    with loop.capture(log):
        yield srv
        # Let what the check left scheduled run while its log is still being captured.
        if not loop.wedged:
            try:
                loop.barrier()
            except Exception:
                pass


@pytest.fixture(scope="session")
def scale_connections(pytestconfig: pytest.Config) -> int:
    """How many connections each scale check holds (``--scale-connections``, within the machine's limits)."""
    value = pytestconfig.stash[_settings_key]["scale_connections"]
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


__all__ = ["check_id", "impl_require", "run_client", "suites_dir"]
