"""Hooks for a port's CI: ``--verify=N``, ``--update-expectations=FILE`` and JUnit properties.

Registered by the plugin once the kit is active (`conformance.plugin._activate`), so a
project that does not use the kit never sees them.

* ``--verify=N`` runs each selected check N times in one session (pytest's
  ``runtestprotocol`` in a loop; only the last run's reports are logged, so the JSON has
  one record per check, its ``outcome`` that of the last run and ``runs`` the outcome of
  each). A check whose outcome changed between runs is listed under "flaky under
  --verify" and fails the run (exit 1), unless an expectation already marks it
  ``status = "flaky"``.
* ``--update-expectations=FILE`` refreshes FILE after the run (`conformance.update`); the
  exit status is the run's.
* JUnit (``--junitxml``): each testcase carries ``check``, ``reference``, ``level``,
  ``verdict`` and ``outcome`` (and ``message``, ``expectation`` where there is one) as
  plain ``<property>`` elements, instead of the dictionaries the kit keeps in
  ``user_properties`` for its own use.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import pytest

from .run import Run

__all__ = ["CI"]

#: worst first: the outcome of one run of a check, from the outcomes of its phases
_RANK = ("failed", "xpassed", "xfailed", "non-strict", "skipped", "passed")


class CI:
    """One per active run (see the module docstring)."""

    def __init__(self, run: Run, is_check: Callable[[pytest.Item], bool]) -> None:
        self.run = run
        self.is_check = is_check  #: the plugin's test of an item being a check of the kit
        self.update: Any = None  #: conformance.update.Update once FILE is written
        self.update_error: str | None = None

    # -- --verify=N ------------------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
        times = self.run.settings.verify
        if times <= 1 or not self.is_check(item):
            return None
        from _pytest.runner import runtestprotocol

        item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        outcomes: list[str] = []
        reports: list[pytest.TestReport] = []
        for n in range(times):
            # Until the last run "next" is the check's parent: the check's own fixtures are torn
            # down (and set up afresh), its module's and the session's stay up.
            after = nextitem if n == times - 1 else item.parent
            reports = runtestprotocol(item, log=False, nextitem=after)  # type: ignore[arg-type]
            outcomes.append(_outcome_of_run(reports))
        for report in reports:
            report.user_properties.append(("conformance_runs", outcomes))
            item.ihook.pytest_runtest_logreport(report=report)
        item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
        return True

    # -- JUnit properties -------------------------------------------------------------------
    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> Generator[None, None, None]:
        from _pytest.junitxml import xml_key

        swap = report.when == "teardown" and self.run.config.stash.get(xml_key, None) is not None
        if swap:
            props = dict(report.user_properties)
            if isinstance(props.get("conformance"), dict):
                # JUnit writes the teardown report's properties: show it plain words, and let
                # the kit's own hooks read the originals (conformance.report.Results.add).
                report.conformance_user_properties = list(report.user_properties)  # type: ignore[attr-defined]
                report.user_properties = self._junit_properties(report, props) + [
                    _plain(name, value) for name, value in report.user_properties if name not in _KIT_PROPERTIES
                ]
        try:
            return (yield)
        finally:
            original = getattr(report, "conformance_user_properties", None)
            if swap and original is not None:
                report.user_properties = original
                del report.conformance_user_properties

    def _junit_properties(self, report: pytest.TestReport, props: dict[str, Any]) -> list[tuple[str, object]]:
        meta = props["conformance"]
        record = self.run.results.records.get(report.nodeid)
        outcome = str(record.outcome) if record is not None else "passed"
        verdict = str(record.verdict) if record is not None and record.verdict is not None else outcome
        if record is not None and record.not_provided:
            verdict = "not-provided"
        if report.failed:
            outcome, verdict = "failed", "error"
        out: list[tuple[str, object]] = [
            ("check", meta.get("id")),
            ("reference", meta.get("reference")),
            ("level", meta.get("level")),
            ("verdict", verdict),
            ("outcome", outcome),
        ]
        if record is not None and record.message and outcome != "passed":
            out.append(("message", record.message.strip().splitlines()[0]))
        if meta.get("expectation"):
            out.append(("expectation", meta["expectation"]))
        if record is not None and record.runs:
            out.append(("runs", " ".join(record.runs)))
        return [(name, value) for name, value in out if value is not None]

    # -- end of the session ------------------------------------------------------------------
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if hasattr(session.config, "workerinput"):
            return
        results = self.run.results
        new_flakes = any(r.unstable and not r.flaky for r in results.records.values())
        if new_flakes and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        path = self.run.settings.update_expectations
        if path and results.records and exitstatus != pytest.ExitCode.INTERRUPTED:
            from .expectations import ExpectationsError
            from .update import refresh

            try:
                self.update = refresh(
                    path,
                    results.records.values(),
                    self.run.expectations,
                    results.collected_ids,
                    results.unknown_expectations,
                )
            except (ExpectationsError, OSError) as exc:
                self.update_error = f"--update-expectations={path}: not written: {exc}"

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        unstable = sorted((r for r in self.run.results.records.values() if r.unstable), key=lambda r: r.id)
        if self.run.settings.verify > 1:
            terminalreporter.section(f"flaky under --verify={self.run.settings.verify}")
            if unstable:
                for r in unstable:
                    known = '  (known: status = "flaky")' if r.flaky else ""
                    terminalreporter.write_line(f"  {r.id}: {' -> '.join(r.runs)}{known}", red=not r.flaky)
            else:
                terminalreporter.write_line(f"  none: every check had one outcome in {self.run.settings.verify} runs")
        if self.update is not None:
            terminalreporter.write_line(self.update.line())
            for where in self.update.elsewhere:
                terminalreporter.write_line(f"  stale in a file not updated: {where}")
        if self.update_error:
            terminalreporter.write_line(self.update_error, red=True)


#: the kit's own user_properties (dictionaries and words for its hooks), shown in JUnit as plain properties
_KIT_PROPERTIES = frozenset(
    (
        "conformance",
        "conformance_verdict",
        "conformance_fields",
        "conformance_message",
        "conformance_outcome",
        "conformance_runs",
    )
)


def _plain(name: str, value: object) -> tuple[str, object]:
    """A property of a check's own (a scale check's figure becomes ``metric.NAME`` = ``VALUE UNIT``)."""
    if name == "conformance_metric" and isinstance(value, dict):
        return f"metric.{value.get('name')}", f"{value.get('value')} {value.get('unit', '')}".rstrip()
    return name, value


def _outcome_of_run(reports: list[pytest.TestReport]) -> str:
    words = [str(dict(r.user_properties).get("conformance_outcome") or "") for r in reports]
    words = [w for w in words if w in _RANK] or ["passed"]
    return min(words, key=_RANK.index)
