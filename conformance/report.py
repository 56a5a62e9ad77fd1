"""Results: one record per check, the per-area summary, the JSON file.

The record of a check is built from its reports alone (``user_properties`` carry the
metadata), so results from pytest-xdist workers merge exactly like a serial run's.
"""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ._meta import AREAS, LEVEL_ORDER, NOT_PROVIDED
from .outcomes import Outcome, Verdict


@dataclass
class Record:
    nodeid: str
    id: str
    area: str | None
    reference: str | None
    level: str | None
    outcome: Outcome = Outcome.PASSED
    #: one sentence: what the implementation did (for a failure), or why the check did not run
    message: str = ""
    verdict: Verdict | None = None  #: for failures and non-strict verdicts
    #: structured parts of a violation (None when the check raised a plain assertion)
    expected: str | None = None
    observed: str | None = None
    transcript: str | None = None  #: the bytes exchanged, as the failure shows them
    not_provided: bool = False
    stale: bool = False  #: an expectation lists it but it passed
    #: an expectation lists it as flaky (status = "flaky"): its outcome, passed or xfailed, fails nothing
    flaky: bool = False
    expectation: str | None = None
    advisory: str | None = None  #: from the expectation: the advisory of a known security bug
    fixed_in: str | None = None  #: from the expectation: the release that fixed it
    duration: float = 0.0
    #: under --verify=N: the outcome of each run (the record's outcome is the last one's)
    runs: list[str] = field(default_factory=list)
    #: figures the check reported (scale checks): name -> {"value": ..., "unit": ...}; never judged
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def unstable(self) -> bool:
        """Whether --verify saw the check end in more than one way."""
        return len(set(self.runs)) > 1


@dataclass
class Results:
    impl_name: str = "unknown"
    impl_version: str = "unknown"
    #: what the implementation is (`conformance.identity.Identity`), added to the JSON ``impl`` object
    impl_identity: dict[str, Any] = field(default_factory=dict)
    records: dict[str, Record] = field(default_factory=dict)
    unknown_expectations: list[str] = field(default_factory=list)
    #: the check ids collected (before -k/-m deselection), for --update-expectations
    collected_ids: list[str] = field(default_factory=list, repr=False)
    _setup_durations: dict[str, float] = field(default_factory=dict, repr=False)

    # -- collecting ---------------------------------------------------------------------
    def add(self, report: pytest.TestReport) -> None:
        # conformance.ci shows JUnit plain properties in place of the kit's (and keeps these)
        props = dict(getattr(report, "conformance_user_properties", None) or report.user_properties)
        meta = props.get("conformance")
        if not isinstance(meta, dict):
            return
        record = self.records.get(report.nodeid)
        if record is None and report.when == "setup" and report.passed:
            # No record until the check itself has run: a check interrupted (Ctrl-C) after
            # its setup must not be counted, least of all as passed.
            self._setup_durations[report.nodeid] = getattr(report, "duration", 0.0) or 0.0
            return
        if record is None:
            record = Record(
                nodeid=report.nodeid,
                id=meta["id"],
                area=meta["area"],
                reference=meta["reference"],
                level=meta["level"],
                expectation=meta.get("expectation"),
                advisory=meta.get("advisory"),
                fixed_in=meta.get("fixed_in"),
                flaky=bool(meta.get("flaky")),
            )
            self.records[report.nodeid] = record
            record.duration = self._setup_durations.pop(report.nodeid, 0.0)
        record.duration += getattr(report, "duration", 0.0) or 0.0
        runs = props.get("conformance_runs")
        if isinstance(runs, list):
            # a flaky check runs as a non-strict xfail: its runs passed or failed
            plain = {"xpassed": "passed", "xfailed": "failed"} if record.flaky else {}
            record.runs = [plain.get(str(word), str(word)) for word in runs]
        for key, metric in report.user_properties:
            if key == "conformance_metric" and isinstance(metric, dict):
                record.metrics[str(metric["name"])] = {"value": metric["value"], "unit": metric.get("unit", "")}
        message = props.get("conformance_message")
        outcome = outcome_of(report)
        if outcome is None or (record.outcome is Outcome.FAILED and outcome is not Outcome.XPASSED):
            return  # a passing phase, or a teardown after the failure already recorded
        if record.flaky and outcome is Outcome.XPASSED:
            outcome = Outcome.PASSED  # a flaky check that passed this time: nothing stale
        record.outcome = outcome
        if outcome is Outcome.XFAILED:
            record.message = str(message or report.wasxfail)
        elif outcome is Outcome.SKIPPED:
            reason = _skip_reason(report)
            record.message = reason
            record.not_provided = reason.startswith(NOT_PROVIDED)
        elif outcome is Outcome.XPASSED:
            record.stale = _is_strict_xpass(report)
            if record.stale:
                record.message = f"stale expectation: the check passed, but the expectations file lists it ({meta.get('expectation')})"
        elif outcome in (Outcome.FAILED, Outcome.NON_STRICT):
            record.verdict = Verdict(props.get("conformance_verdict") or Verdict.FAILED)
            record.message = str(message or ("" if outcome is Outcome.NON_STRICT else _short(report)))
            fields = props.get("conformance_fields")
            if isinstance(fields, dict):
                record.expected = fields.get("expected")
                record.observed = fields.get("observed")
                record.transcript = fields.get("transcript")

    # -- summarising --------------------------------------------------------------------
    def nothing_judged(self) -> bool:
        """Whether checks ran and every one was *not provided* (the run judged nothing)."""
        return bool(self.records) and all(r.not_provided for r in self.records.values())

    def summary(self) -> dict[str, dict[str, int]]:
        table: dict[str, dict[str, int]] = {}
        for record in self.records.values():
            area = record.area or "unknown"
            row = table.setdefault(
                area,
                {**{o.key: 0 for o in Outcome if o is not Outcome.NOT_RUN}, "not_provided": 0},
            )
            row[Outcome(record.outcome).key] += 1
            if record.not_provided:
                row["not_provided"] += 1
        order = list(AREAS)
        return dict(sorted(table.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))

    def to_json(self) -> dict[str, Any]:
        return {
            "impl": {
                "name": self.impl_name,
                "version": self.impl_version,
                **{k: v for k, v in self.impl_identity.items() if k != "describe"},
            },
            "python": platform.python_version(),
            "summary": self.summary(),
            "tests": [asdict(r) for r in sorted(self.records.values(), key=lambda r: r.nodeid)],
            "unknown_expectations": sorted(self.unknown_expectations),
        }

    def write_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=2, sort_keys=False) + "\n", encoding="utf-8")

    def terminal_lines(self) -> list[str]:
        lines = [f"implementation: {self.impl_name} {self.impl_version}", ""]
        if self.impl_identity.get("describe"):
            lines.insert(1, f"identity: {self.impl_identity['describe']}")
        head = (
            f"{'area':<12}{'passed':>8}{'failed':>8}{'non-strict':>12}{'not provided':>14}"
            f"{'expected':>10}{'stale':>7}{'skipped':>9}"
        )
        lines.append(head)
        for area, row in self.summary().items():
            other_skips = row["skipped"] - row["not_provided"]
            lines.append(
                f"{area:<12}{row['passed']:>8}{row['failed']:>8}{row['non_strict']:>12}{row['not_provided']:>14}"
                f"{row['xfailed']:>10}{row['xpassed']:>7}{other_skips:>9}"
            )
        missing: dict[str, int] = {}
        for r in self.records.values():
            if r.not_provided:
                reason = r.message.split(":", 1)[1].strip() if ":" in r.message else r.message
                missing[reason] = missing.get(reason, 0) + 1
        if missing:
            lines += ["", "not provided (the implementation lacks what these checks need; nothing was judged):"]
            lines += [
                f"  {reason}: {count} check{'s' if count > 1 else ''}" for reason, count in sorted(missing.items())
            ]
        failures = [r for r in self.records.values() if r.outcome is Outcome.FAILED]
        failures.sort(key=lambda r: (LEVEL_ORDER.get(r.level or "", 9), r.area or "", r.id))
        if failures:
            lines += ["", "failures, MUST first:"]
            for r in failures:
                lines.append(f"  {r.level:<7} {r.id}  [{r.reference}]  {r.verdict}: {_paragraph(r)}")
            lines += ["", "re-run one: add --check 'ID' to the same command (the ids above, as printed)"]
        lenient = sorted((r for r in self.records.values() if r.outcome is Outcome.NON_STRICT), key=lambda r: r.id)
        if lenient:
            lines += [
                "",
                "non-strict verdicts (the rule's intent met, not its strict form; failures under --strict-verdicts):",
            ]
            for r in lenient:
                lines.append(f"  {r.level:<7} {r.id}  [{r.reference}]  {_paragraph(r)}")
        measured = sorted((r for r in self.records.values() if r.metrics), key=lambda r: r.id)
        if measured:
            lines += ["", "figures (reported, not judged):"]
            for r in measured:
                lines.append(f"  {r.id}")
                width = max(len(name) for name in r.metrics)
                for name, metric in r.metrics.items():
                    lines.append(f"    {name:<{width}}  {_format_value(metric['value'])} {metric['unit']}".rstrip())
        flaky = sorted((r for r in self.records.values() if r.flaky), key=lambda r: r.id)
        if flaky:
            lines += ["", 'flaky (status = "flaky" in the expectations; neither outcome fails the run):']
            lines += [f"  {r.id}: {'failed' if r.outcome is Outcome.XFAILED else r.outcome} this run" for r in flaky]
        stale = [r for r in self.records.values() if r.stale]
        if stale:
            lines += ["", "stale expectations (listed as failing, but passed):"]
            lines += [f"  {r.id}" for r in sorted(stale, key=lambda r: r.id)]
        if self.unknown_expectations:
            lines += ["", "expectations for checks that were not collected (renamed or removed?):"]
            lines += [f"  {cid}" for cid in sorted(self.unknown_expectations)]
        return lines


def _paragraph(record: Record) -> str:
    """The verdict's first paragraph, whole; what follows it (expected, observed, the
    bytes exchanged) is in the failure report above and in --conformance-json."""
    text = record.message.strip()
    first, _, rest = text.partition("\n\n")
    first = " ".join(first.split())
    extra = [part for part in (rest.strip(), record.expected, record.observed, record.transcript) if part]
    if extra:
        first += " (more in the failure report above and in --conformance-json)"
    return first


def outcome_of(report: pytest.TestReport) -> Outcome | None:
    """The outcome one phase's report gives its check, or None for a passing setup or teardown."""
    if report.skipped:
        return Outcome.XFAILED if hasattr(report, "wasxfail") else Outcome.SKIPPED
    if report.failed:
        return Outcome.XPASSED if report.when == "call" and _is_strict_xpass(report) else Outcome.FAILED
    if report.when != "call":
        return None
    if hasattr(report, "wasxfail"):
        return Outcome.XPASSED
    if dict(report.user_properties).get("conformance_verdict") == Verdict.NON_STRICT:
        return Outcome.NON_STRICT
    return Outcome.PASSED


def _format_value(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "-" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if abs(value) >= 1 else f"{value:.3g}"


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        reason = str(longrepr[2])
        return reason[len("Skipped: ") :] if reason.startswith("Skipped: ") else reason
    return str(longrepr or "")


def _is_strict_xpass(report: pytest.TestReport) -> bool:
    return "[XPASS(strict)]" in str(report.longrepr or "")


def _short(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message)
    return str(report.longrepr or "")[-2000:]
