"""The pytest plugin: hooks only (options, markers, collection, verdicts, summary).

Run state lives in one `conformance.run.Run` kept under one stash key; the fixtures are in
``conformance._fixtures`` (registered below); the outcome words in ``conformance.outcomes``.

Rules:

1. Importing this module imports neither the implementation nor h11, wsproto or
   hypothesis: the plugin is loaded into every pytest run of every project that has
   the kit installed, and must cost nothing there.
2. The kit is inert until asked: ``--impl`` on the command line, the ini key
   ``conformance_impl``, a test path into the shipped suites, or a test declaring
   ``@check`` among the collected ones. Until then it registers no fixture and judges
   nothing: a project whose own markers are called ``websocket`` or whose fixtures are
   called ``server`` runs as if the kit were not installed (the area markers are
   registered in every run, which changes nothing for a project using the same names).
   ``--impl`` (or the ini key) with no test paths runs the shipped suites.
3. Misuse of the kit is a ``pytest.UsageError`` (exit code 4) with one line that says
   what is wrong and how to fix it; a broken implementation is a failed check.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

if sys.version_info < (3, 11):  # pragma: no cover - exercised on Python < 3.11 in tox
    from exceptiongroup import BaseExceptionGroup

import pytest

from ._failure_repr import install as install_short_report
from ._meta import AREAS, OPT_IN_AREAS, area_of, describe, validate_item
from ._options import OPTIONS
from ._select import marker_names, unselected_areas
from .run import (
    BACKENDS,
    CHECK_OPTIONS,
    DEFAULT_IMPL,
    DEFAULT_SCALE_CONNECTIONS,
    DEFAULT_TIMEOUT,
    SERVER,
    Run,
    require,
    suites_dir,
)
from .run import (
    RUN as _RUN_KEY,
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "tornado-conformance")
    for _short, canonical, keywords in OPTIONS:
        group.addoption(canonical, **keywords)
    parser.addini("conformance_impl", f"module of the implementation under test (default: {DEFAULT_IMPL})")
    parser.addini("conformance_client_backend", "anyio backend of the oracle clients: trio or asyncio")
    parser.addini("conformance_timeout", f"deadline of every network operation, seconds (default: {DEFAULT_TIMEOUT:g})")
    parser.addini(
        "conformance_expectations", "TOML files of the implementation's known deviations, one per line", type="linelist"
    )
    parser.addini("conformance_strict_verdicts", "count non-strict verdicts as failures", type="bool", default=False)
    parser.addini("conformance_scale_connections", "connections each scale check holds (default: 10000)")


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> Any:
    """Once the project's own conftest files have added their options, add the short names
    of the kit's options that the project left free (see ``OPTIONS``)."""
    result = yield
    taken = {name for option in _all_options(parser) for name in option.names()}
    group = parser.getgroup("conformance")
    for short, canonical, keywords in OPTIONS:
        if short is not None and short not in taken:
            group.addoption(short, **{**keywords, "help": f"short for {canonical}"})
    return result


def _all_options(parser: pytest.Parser) -> list[Any]:
    """Every option added so far, in any group (pytest keeps no public list of them)."""
    options = list(parser._anonymous.options)
    for group in parser._groups:
        options.extend(group.options)
    return options


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # Hypothesis loads --hypothesis-profile in its own pytest_configure: our profiles
    # must exist by then, so they are registered first (only when one is asked for,
    # to keep hypothesis unimported in runs that do not need it; otherwise the first
    # property check registers them, as conformance._fuzz builds it).
    from . import _fuzz, _profiles

    if getattr(config.option, "hypothesis_profile", None):
        _profiles.register()
    config.pluginmanager.register(_fuzz, "conformance-properties")
    # Markers are registered in every run: a check module applies them when it is
    # imported, before anything says it holds checks. A registration changes nothing for a
    # project with markers of the same names (only the kit's fixtures and verdicts could,
    # and they wait until the kit is asked).
    for area, description in AREAS.items():
        config.addinivalue_line("markers", f"{area}: {description}")
    config.addinivalue_line("markers", "conformance(reference, level): the rule a check enforces")
    config.addinivalue_line("markers", "conformance_requires(parts, features): API parts a check needs")

    Run.configure(config)
    from ._select import validate

    validate(config)

    asked = _asked(config)
    # --impl with no test paths runs the shipped suites; so does the ini key, unless the
    # ini file also names the project's own tests (testpaths).
    source = config.args_source
    explicit = config.getoption("conformance_impl") is not None or config.getoption("conformance_suites")
    if (explicit and source is not pytest.Config.ArgsSource.ARGS) or (
        asked and source is pytest.Config.ArgsSource.INVOCATION_DIR
    ):
        config.args = [str(suites_dir())]
        Run.of(config).skipped_areas = unselected_areas(config)
    if asked or _targets_suites(config):
        _activate(config)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    skipped = Run.of(config).skipped_areas
    if skipped and collection_path.name in skipped and collection_path.parent == suites_dir():
        return True
    return None


def _asked(config: pytest.Config) -> bool:
    """``--impl``, the ini key ``conformance_impl`` or ``--conformance-suites`` asks for the kit."""
    return (
        config.getoption("conformance_impl") is not None
        or bool(config.getini("conformance_impl"))
        or bool(config.getoption("conformance_suites"))
    )


def _enable(config: pytest.Config) -> None:
    """Register the kit's fixtures: only once the kit is asked to act."""
    if config.pluginmanager.has_plugin("conformance-fixtures"):
        return
    from . import _fixtures

    config.pluginmanager.register(_fixtures, "conformance-fixtures")


def _declares_check(obj: object, collector: pytest.Collector) -> bool:
    """Whether ``obj`` (about to become a test item) carries ``@check``, itself or by its module."""
    module = getattr(collector, "obj", None) if isinstance(collector, pytest.Module) else None
    for owner in (obj, module):
        marks = getattr(owner, "pytestmark", None) or ()
        if not isinstance(marks, (list, tuple)):
            marks = [marks]  # ``pytestmark = pytest.mark.x`` as a single decorator
        if any(getattr(mark, "name", None) == "conformance" for mark in marks):
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> None:
    """A project's own check (``@check``) asks for the kit: its fixtures must exist before
    the item is built, so they are registered here, ahead of pytest's own hook."""
    if callable(obj) and name.startswith("test") and _declares_check(obj, collector):
        _enable(collector.config)


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


def _activate(config: pytest.Config) -> Run:
    """Load the implementation and the expectations (usage errors surface here), once."""
    _enable(config)
    run = Run.of(config)
    if not run.active:
        run.activate()
        if getattr(config.option, "tbstyle", None) == "auto":
            # A verdict is the message: pytest's default (long) traceback printed the
            # source of every frame, thousands of lines before the verdicts. --tb wins.
            config.option.tbstyle = "short"
        config.pluginmanager.register(_Recorder(run), "conformance-recorder")
        if _targets_suites(config):
            from . import _manifest

            config.pluginmanager.register(_manifest, "conformance-manifest")
        from .ci import CI

        config.pluginmanager.register(CI(run, _is_check), "conformance-ci")
    return run


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    run = Run.of(config)
    if not run.active:
        return None
    from importlib.metadata import version

    oracles = ", ".join(f"{name} {version(name)}" for name in ("h11", "wsproto", "hypothesis", "anyio"))
    path = run.expectations_path
    known = f"{path} ({len(run.expectations)} known deviations)" if path else "none"
    return [
        f"conformance: implementation {run.impl.name} {run.impl.version}",
        f"conformance: identity {run.impl.identity().describe()}",
        f"conformance: oracles {oracles}; client backend {run.settings.backend}; timeout {run.settings.timeout:g}s",
        f"conformance: expectations {known}",
    ]


def _is_check(item: pytest.Item) -> bool:
    """A check: it declares ``@check``, or lives in the shipped suites, or (once the kit is
    asked by ``--impl`` or the ini key) carries an area marker. Without the kit being asked,
    a project's own test marked ``websocket`` is the project's business."""
    if item.get_closest_marker("conformance") is not None:
        return True
    root = suites_dir().resolve()
    if root in Path(str(item.path)).resolve().parents:
        return True
    return _asked(item.config) and any(item.get_closest_marker(area) for area in AREAS)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    checks = [item for item in items if _is_check(item)]
    if not checks:
        _refuse_options_without_checks(config)
        return
    problems = [f"{item.nodeid} {why}" for item in checks if (why := validate_item(item)) is not None]
    if problems:
        raise pytest.UsageError(
            f"refusing to run checks without metadata: {problems[0]}"
            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
        )
    run = _activate(config)
    from ._manifest import Check
    from .expectations import ExpectationsError

    expectations = run.expectations
    seen: dict[str, str] = {}
    for item in checks:
        meta = describe(item)
        cid = meta["id"]
        if cid in seen and seen[cid] != item.nodeid:
            raise pytest.UsageError(f"two checks share the id {cid!r}: {seen[cid]} and {item.nodeid}; rename one")
        seen[cid] = item.nodeid
        try:
            expectation = expectations.match(cid)
        except ExpectationsError as exc:
            raise pytest.UsageError(str(exc)) from None
        if expectation is not None:
            meta["expectation"] = expectation.reason
            if expectation.advisory:
                meta["advisory"] = expectation.advisory
            if expectation.fixed_in:
                meta["fixed_in"] = expectation.fixed_in
            if expectation.status == "flaky":  # run and reported; neither outcome fails the run
                meta["flaky"] = True
                item.add_marker(pytest.mark.xfail(strict=False, reason=f"flaky: {expectation.reason}"))
            else:
                item.add_marker(pytest.mark.xfail(strict=True, reason=f"expected deviation: {expectation.reason}"))
        item.user_properties.append(("conformance", meta))
        if isinstance(item, pytest.Function):
            install_short_report(item)
        elif isinstance(item, Check):
            item.when_real(install_short_report)
        # The stable id is a keyword too: -k 'cookies.xsrf' selects by it.
        item.extra_keyword_matches.add(cid)
    # Only areas that were collected can tell a stale id from one merely not selected.
    collected_areas = {cid.split(".", 1)[0] for cid in seen}
    run.results.unknown_expectations = expectations.unmatched(seen, collected_areas)
    run.results.collected_ids = list(seen)
    _refuse_unknown_expectations(config, expectations, seen)
    from ._select import select

    kept = select(config, checks)
    if len(kept) < len(checks):
        dropped = set(checks) - set(kept)
        config.hook.pytest_deselected(items=[item for item in checks if item in dropped])
        items[:] = [item for item in items if item not in dropped]
        checks = kept
    _deselect_opt_in_areas(config, items, checks)


def _refuse_unknown_expectations(config: pytest.Config, expectations: Any, seen: dict[str, str]) -> None:
    """An expectations entry naming no check of the kit (nor of the run) is a typo or a
    renamed check: refused before the run, naming the entry, unless the run is refreshing
    the file (``--update-expectations`` drops such entries)."""
    if getattr(config.option, "conformance_update_expectations", None):
        return
    import fnmatch

    from ._meta import shipped_check_names

    collected = {cid.split("[", 1)[0] for cid in seen}
    shipped: set[str] | None = None  # read from the suites' source only if an entry needs it

    def names(pool: set[str], name: str) -> bool:
        return name in pool if "*" not in name else any(fnmatch.fnmatchcase(c, name) for c in pool)

    for entry in expectations:
        for pattern, regex in zip(entry.patterns, entry._regexes):
            name = pattern.split("[", 1)[0]
            if names(collected, name):
                if "[" in pattern and not (pattern in seen if "*" not in pattern else any(map(regex.match, seen))):
                    problem = f"names the case {pattern!r}, which the check {name} does not have"
                else:
                    continue
            else:
                if shipped is None:
                    shipped = shipped_check_names()
                if names(shipped, name):
                    continue  # a check of the kit this run did not collect
                problem = f"names {pattern!r}, which is no check of the kit (renamed or removed?)"
            raise pytest.UsageError(
                f"--expectations={entry.where}: {problem}; remove the entry, or refresh the file with "
                "--update-expectations"
            )


def _refuse_options_without_checks(config: pytest.Config) -> None:
    """A kit option given to a run that collected no check would be silently ignored."""
    if Run.of(config).active:
        return  # --impl (or the ini key) was given: an empty selection is pytest's exit 5
    given = [flag for dest, flag in CHECK_OPTIONS.items() if config.getoption(dest, None) not in (None, False)]
    if given:
        raise pytest.UsageError(
            f"{given[0]} was given, but no conformance check was collected; add --impl=MODULE to run "
            "the kit's suites against MODULE (or pass test paths holding checks)"
        )


def pytest_collection_finish(session: pytest.Session) -> None:
    """After pytest's own selection: a ``-m`` name that is neither an area nor a marker of
    the project selects nothing by a typo, and says so (with the areas) instead of exit 5.

    Then, for a run of checks, everything alive so far (pytest, the plugin, the collected
    checks: about a million objects that live until the end) leaves the cyclic garbage
    collector's view, which otherwise scans all of it at every full collection during the
    run: a twentieth of the run's time at 1300 checks (docs/performance.md). Objects created
    by the checks are collected as before, so an unclosed socket still warns in its check;
    ``pytest_unconfigure`` hands the frozen objects back.
    """
    config = session.config
    run = Run.of(config)
    if run.active and session.items:
        import gc

        gc.freeze()
        run.gc_frozen = True
    if not run.active or not config.option.markexpr:
        return
    from _pytest.mark.expression import Expression

    try:
        Expression.compile(config.option.markexpr)
    except Exception:  # pytest reports a malformed expression itself
        return
    names = marker_names(config.option.markexpr)
    known = set(AREAS) | {line.split(":", 1)[0].split("(", 1)[0].strip() for line in config.getini("markers")}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise pytest.UsageError(
            f"-m {config.option.markexpr!r}: {unknown[0]!r} is neither an area nor a registered marker; "
            f"the areas are {', '.join(AREAS)}"
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
        Run.of(config).settle_scale_connections()
    return checks


def pytest_runtest_setup(item: pytest.Item) -> None:
    run = Run.of(item.config)
    if not run.active:
        return
    # Every requires() on the way (module, class, function, parameter) adds its needs.
    parts: list[str] = []
    features: list[str] = []
    for mark in item.iter_markers("conformance_requires"):
        parts += [p for p in mark.kwargs.get("parts", ()) if p not in parts]
        features += [f for f in mark.kwargs.get("features", ()) if f not in features]
    if parts or features:
        require(run.impl, *parts, features=features)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run ``async def`` checks on the kit's anyio backend (never on the implementation's loop)."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj) or not _is_check(pyfuncitem):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}
    Run.of(pyfuncitem.config).run_client(functools.partial(pyfuncitem.obj, **kwargs))
    return True


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    if call.excinfo is not None and _is_check(item) and not call.excinfo.errisinstance(pytest.skip.Exception):
        from .errors import NonStrict, Violation
        from .outcomes import Verdict

        exc = call.excinfo.value
        # A check that runs tasks in a task group sees its failure wrapped in an
        # exception group; the verdict is that of the one exception inside.
        while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
            exc = exc.exceptions[0]
        if isinstance(exc, Violation):
            verdict = exc.verdict
        else:
            # An exception outside the check's body (a fixture starting the implementation's
            # server or app) is not a broken rule: the check never ran.
            verdict = Verdict.FAILED if call.when == "call" else Verdict.ERROR
        report.user_properties.append(("conformance_verdict", verdict.value))
        if isinstance(exc, Violation):
            message = exc.what or type(exc).__name__
            report.user_properties.append(("conformance_fields", exc.fields()))
        else:
            # pytest's assertion rewriting appends "assert ..." introspection; the JSON keeps
            # the readable paragraph the check wrote.
            message = (str(exc) or type(exc).__name__).split("\nassert ", 1)[0]
        if verdict is Verdict.TIMEOUT and call.when == "call":
            message += _liveness_note(item, exc)
        report.user_properties.append(("conformance_message", message))
        if isinstance(exc, NonStrict) and report.failed and not Run.of(item.config).settings.strict_verdicts:
            # Outermost wrapper: an expected failure has already been turned into xfailed.
            report.outcome = "passed"
            report.longrepr = None
        server = item.stash.get(SERVER, None)
        if server is not None and server.log.records:
            report.sections.append(("implementation log", server.log.format()))
    if _is_check(item):
        from .report import outcome_of

        outcome = outcome_of(report)
        if outcome is not None:
            report.user_properties.append(("conformance_outcome", outcome.value))
    return report


def _liveness_note(item: pytest.Item, exc: BaseException) -> str:
    """A check that served the implementation timed out: the run's liveness probe decides
    whether the implementation answers at all (docs/harness.md). Returns what the check's
    message adds when it does not."""
    from .errors import LoopUnresponsive, Unresponsive

    if isinstance(exc, (LoopUnresponsive, Unresponsive)) or "server" not in getattr(item, "fixturenames", ()):
        return ""  # a wedged loop has its own remedy; a refused check is already the probe's
    check_id = describe(item)["id"]
    unresponsive = Run.of(item.config).after_timeout(check_id)
    if unresponsive is None or unresponsive.after != check_id:
        return ""
    return (
        " Then the liveness probe got no answer either: the implementation is unresponsive, and every later "
        "check that serves it fails at once."
    )


class _Recorder:
    """Registered per run once the kit is active; feeds every report to the results."""

    def __init__(self, run: Run) -> None:
        self.run = run

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.run.results.add(report)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    run = Run.of(config)
    if not run.active or not run.results.records:
        return
    terminalreporter.section("tornado-conformance summary")
    for line in run.results.terminal_lines():
        terminalreporter.write_line(line)
    if run.settings.history:
        from .history import summary_lines

        terminalreporter.section("Tornado's fixes: carried and lacked")
        outcomes = {record.id: str(record.outcome) for record in run.results.records.values()}
        for line in summary_lines(outcomes):
            terminalreporter.write_line(line)
    if run.results.nothing_judged():
        terminalreporter.write_line(
            f"ERROR: --impl={run.settings.impl_name or run.impl.name}: nothing was judged; the implementation "
            f"provides none of what the {len(run.results.records)} selected checks need (-rs shows each reason)",
            red=True,
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    run = Run.of(session.config)
    if not run.active or hasattr(session.config, "workerinput"):
        return
    if exitstatus == pytest.ExitCode.OK and run.results.nothing_judged():
        # Every check was "not provided": the module named by --impl is not an
        # implementation of anything the run selected. That is bad input, not a green run.
        session.exitstatus = pytest.ExitCode.USAGE_ERROR
    path = run.settings.json_path
    if path:
        try:
            run.results.write_json(path)
        except OSError as exc:  # checked before the run; the disk may still fill up
            sys.stderr.write(f"ERROR: --conformance-json={path}: cannot write the results ({exc})\n")
            session.exitstatus = pytest.ExitCode.USAGE_ERROR


def pytest_unconfigure(config: pytest.Config) -> None:
    if (run := config.stash.get(_RUN_KEY, None)) is not None:
        run.close()
        if run.gc_frozen:
            import gc

            gc.unfreeze()  # a run in a longer-lived process (pytester, an IDE) leaves no frozen garbage
        if run.active and hasattr(config, "workerinput"):
            from ._exit import end_worker_quickly

            end_worker_quickly()


__all__ = ["BACKENDS", "DEFAULT_IMPL", "DEFAULT_SCALE_CONNECTIONS", "DEFAULT_TIMEOUT", "suites_dir"]
