"""For a port's CI: ``tornado-conformance-matrix --diff``, ``--verify=N`` and JUnit properties (issue 17)."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from _pytest.pytester import LineMatcher

from conformance import matrix

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _results(path: Path, tests: list[dict[str, Any]], name: str = "port") -> str:
    path.write_text(
        json.dumps({"impl": {"name": name, "version": "1.0"}, "python": "3.11.7", "tests": tests}), encoding="utf-8"
    )
    return str(path)


def _t(cid: str, outcome: str, message: str = "", verdict: str | None = None) -> dict[str, Any]:
    return {"id": cid, "outcome": outcome, "message": message, "verdict": verdict}


BASE = [
    _t("http11.a", "passed"),
    _t("http11.b", "failed", "b broke", "failed"),
    _t("http11.c", "passed"),
    _t("http11.d", "failed", "d timed out", "timeout"),
    _t("http11.e", "xfailed", "known"),
    _t("http11.gone", "passed"),
    _t("http11.same", "failed", "same", "failed"),
]
NEW = [
    _t("http11.a", "failed", "a now sends X\nbytes exchanged: ...", "failed"),
    _t("http11.b", "passed"),
    _t("http11.c", "non-strict", "c dropped the connection", "non-strict"),
    _t("http11.d", "failed", "d sent garbage", "protocol"),
    _t("http11.e", "xpassed", "stale expectation"),
    _t("http11.added", "passed"),
    _t("http11.added_failing", "failed", "new check fails", "failed"),
    _t("http11.same", "failed", "same, other words", "failed"),
]


def test_diff_lists_new_failures_fixes_and_changed_verdicts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, new = _results(tmp_path / "base.json", BASE), _results(tmp_path / "new.json", NEW)
    assert matrix.main(["--diff", base, new]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "new failure  http11.a: pass \u2192 fail: a now sends X",
        "new failure  http11.added_failing: not run \u2192 fail: new check fails",
        "new failure  http11.e: expected \u2192 stale: stale expectation",
        "fixed        http11.b: fail \u2192 pass",
        "changed      http11.c: pass \u2192 non-strict: c dropped the connection",
        "changed      http11.d: fail (timeout) \u2192 fail (protocol): d sent garbage",
        "changed      http11.gone: pass \u2192 not run",
        "tornado-conformance-matrix --diff: 3 new failures, 1 fixed, 3 changed "
        "(port 1.0 / Python 3.11 \u2192 port 1.0 / Python 3.11)",
    ]


def test_diff_without_a_new_failure_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fixed = [_t("http11.b", "passed") if t["id"] == "http11.b" else t for t in BASE]
    base, new = _results(tmp_path / "base.json", BASE), _results(tmp_path / "new.json", fixed)
    assert matrix.main(["--diff", base, new]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "fixed        http11.b: fail \u2192 pass",
        "tornado-conformance-matrix --diff: 0 new failures, 1 fixed, 0 changed "
        "(port 1.0 / Python 3.11 \u2192 port 1.0 / Python 3.11)",
    ]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--diff", "base.json"], "error: --diff takes two results files: *"),
        (["--diff", "base.json", "missing.json"], "error: missing.json: cannot read it: *"),
        (["--diff", "base.json", "bad.json"], "error: bad.json: not JSON: *"),
        (["--diff", "base.json", "foreign.json"], "error: foreign.json: not a results file of tornado-conformance*"),
    ],
    ids=["one-file", "missing", "not-json", "foreign"],
)
def test_diff_bad_input_is_one_line_and_exit_4(tmp_path: Path, args: list[str], expected: str) -> None:
    _results(tmp_path / "base.json", BASE)
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "foreign.json").write_text('{"a": 1}')
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from conformance.matrix import main; sys.exit(main())", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 4, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and proc.stdout == "", proc.stderr
    LineMatcher(lines).fnmatch_lines([f"tornado-conformance-matrix: {expected}"])


CHECKS = """
import pytest
from conformance import check, Level
pytestmark = pytest.mark.coroutines
RUNS = {"n": 0}

@check("Tornado docs: example", Level.MUST)
def test_passes(impl, request):
    request.node.user_properties.append(("answer", 42))

@check("RFC 0000 §1", Level.SHOULD)
def test_fails(impl):
    assert False, "the implementation did X; Y was expected"

@check("RFC 0000 §2", Level.MUST)
def test_wobbles(impl):
    RUNS["n"] += 1
    assert RUNS["n"] % 2, "fails every other run"
"""


def _run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, dict[str, Any]]]:
    pytester.makepyfile(test_checks=CHECKS)
    out = pytester.path / "out.json"
    result = pytester.runpytest(f"--conformance-json={out}", *args, "test_checks.py")
    tests = json.loads(out.read_text())["tests"] if out.exists() else []
    return result, {t["id"]: t for t in tests}


def test_verify_reports_and_fails_on_a_check_whose_outcome_changed(pytester: pytest.Pytester) -> None:
    result, tests = _run(pytester, "--verify=3", "-k", "wobbles or passes")
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    result.stdout.fnmatch_lines(["*flaky under --verify=3*", "  coroutines.wobbles: passed -> failed -> passed"])
    assert {cid: (t["outcome"], t["runs"]) for cid, t in tests.items()} == {
        "coroutines.passes": ("passed", ["passed"] * 3),
        "coroutines.wobbles": ("passed", ["passed", "failed", "passed"]),  # the last run's outcome
    }
    result.assert_outcomes(passed=2)  # one report per check, not one per run


def test_verify_of_stable_checks_keeps_the_runs_exit_status(pytester: pytest.Pytester) -> None:
    result, tests = _run(pytester, "--verify=2", "-k", "not wobbles")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # test_fails fails every time: that is no flake
    result.stdout.fnmatch_lines(["*flaky under --verify=2*", "  none: every check had one outcome in 2 runs"])
    assert tests["coroutines.fails"]["runs"] == ["failed", "failed"]
    green, _ = _run(pytester, "--verify=2", "-k", "passes")
    assert green.ret == pytest.ExitCode.OK


def test_verify_needs_a_positive_count(pytester: pytest.Pytester) -> None:
    result, _ = _run(pytester, "--verify=0")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --verify=0: expected a positive number of runs, got '0'"])


def test_junit_testcases_carry_reference_level_and_verdict_as_properties(pytester: pytest.Pytester) -> None:
    result, _ = _run(pytester, f"--junitxml={pytester.path / 'junit.xml'}", "-k", "not wobbles")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    text = (pytester.path / "junit.xml").read_text()
    assert "{'" not in text  # no dict repr anywhere
    cases = {
        case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")}
        for case in ET.fromstring(text).iter("testcase")
    }
    assert cases["test_passes"] == {
        "check": "coroutines.passes",
        "reference": "Tornado docs: example",
        "level": "MUST",
        "verdict": "passed",
        "outcome": "passed",
        "answer": "42",  # a check's own property is kept
    }
    assert cases["test_fails"] == {
        "check": "coroutines.fails",
        "reference": "RFC 0000 §1",
        "level": "SHOULD",
        "verdict": "failed",
        "outcome": "failed",
        "message": "the implementation did X; Y was expected",
    }


@pytest.mark.primary_python
def test_diff_catches_a_behaviour_changed_on_purpose(tmp_path: Path, kit, tornado_expectations) -> None:  # type: ignore[no-untyped-def]
    """Tornado as BASE, Tornado with one cookie defect as NEW: the console script exits 1 naming both checks."""
    # Both against the installed Tornado's own deviations, as the broken one is Tornado plus a defect.
    select = ["-m", "cookies", "-k", "attribute", f"--expectations={tornado_expectations}"]
    base = kit("--impl=tornado", *select)
    assert base.returncode == 0, base.output
    (tmp_path / "results.json").rename(tmp_path / "base.json")
    new = kit("--impl=conformance.fixtures.broken.cookies_samesite_dropped", *select)
    assert new.returncode == 1, new.output
    script = Path(sys.executable).with_name("tornado-conformance-matrix")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "conformance.matrix"]
    proc = subprocess.run(
        [*command, "--diff", "base.json", "results.json"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [
        "new failure  cookies.cookie_attribute_injection_is_rejected[samesite]",
        "new failure  cookies.set_cookie_writes_every_attribute",
    ]
    assert lines[-1].startswith("tornado-conformance-matrix --diff: 2 new failures, 0 fixed, 0 changed")
