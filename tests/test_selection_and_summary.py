"""Selecting checks by what they are, and a summary that reads whole and re-runs as printed."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CHECKS = """
import pytest
from conformance import check, Level, Violation, requires
pytestmark = pytest.mark.coroutines

@check("RFC 9112 §6.3; Tornado docs: example", Level.MUST)
def test_framing(impl):
    pass

@check("RFC 9110 §8.4", Level.SHOULD)
@pytest.mark.parametrize("case", ["one", "two"])
def test_coding(impl, case):
    pass

@check("Tornado 6.3.2 release notes (CVE-2023-28370)", Level.TORNADO)
def test_advisory(impl):
    pass

LONG = "the implementation did " + "a long thing, " * 30 + "and stopped."

@check("RFC 9110 §9.3.1", Level.MUST)
def test_long_failure(impl):
    raise Violation(LONG, expected="X", observed="Y")

@requires("nosuchpart")
@check("Tornado docs: parts", Level.MUST)
def test_needs_a_part(impl):
    pass
"""


def _ids(pytester: pytest.Pytester, *args: str) -> list[str]:
    pytester.runpytest("test_checks.py", "--conformance-json=out.json", *args)
    return sorted(t["id"] for t in json.loads((pytester.path / "out.json").read_text())["tests"])


@pytest.fixture
def checks(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_checks=CHECKS)
    return pytester


def test_check_option_selects_by_stable_id_bare_name_and_glob(checks: pytest.Pytester) -> None:
    assert _ids(checks, "--check", "coroutines.framing") == ["coroutines.framing"]
    assert _ids(checks, "--check", "coroutines.coding") == ["coroutines.coding[one]", "coroutines.coding[two]"]
    assert _ids(checks, "--check", "coroutines.coding[t*]") == ["coroutines.coding[two]"]
    assert _ids(checks, "--check", "coroutines.framing", "--check", "coroutines.advisory") == [
        "coroutines.advisory",
        "coroutines.framing",
    ]


def test_k_matches_stable_ids(checks: pytest.Pytester) -> None:
    assert _ids(checks, "-k", "coroutines.coding") == ["coroutines.coding[one]", "coroutines.coding[two]"]


def test_level_reference_and_advisory_select(checks: pytest.Pytester) -> None:
    assert _ids(checks, "--level", "should") == ["coroutines.coding[one]", "coroutines.coding[two]"]
    assert _ids(checks, "--level", "TORNADO,SHOULD") == [
        "coroutines.advisory",
        "coroutines.coding[one]",
        "coroutines.coding[two]",
    ]
    # A prefix of any part of the reference.
    assert _ids(checks, "--reference", "RFC 9112 §6") == ["coroutines.framing"]
    assert _ids(checks, "--reference", "Tornado docs: ex") == ["coroutines.framing"]
    assert _ids(checks, "--advisory", "cve-2023-28370") == ["coroutines.advisory"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--check", "coroutines.framin"],
            "ERROR: --check=coroutines.framin: selects no collected check; did you mean coroutines.framing?",
        ),
        (["--level", "MAY"], "ERROR: --level=MAY: not a level; use one of MUST, SHOULD, TORNADO"),
        (["--reference", "RFC 1"], "ERROR: --reference=RFC 1: selects no collected check"),
        (["--advisory", "CVE-1999-0001"], "ERROR: --advisory=CVE-1999-0001: selects no collected check"),
    ],
)
def test_selection_that_selects_nothing_is_a_usage_error(
    checks: pytest.Pytester, args: list[str], message: str
) -> None:
    result = checks.runpytest("test_checks.py", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    assert [line for line in result.stderr.lines if line.strip()] == [message]


def test_summary_prints_the_verdict_whole_names_missing_parts_and_how_to_rerun(checks: pytest.Pytester) -> None:
    result = checks.runpytest("test_checks.py")
    out = result.stdout.str()
    summary = out.split("tornado-conformance summary", 1)[1]
    line = next(line for line in summary.splitlines() if "coroutines.long_failure" in line)
    assert "and stopped." in line, line  # not cut at 160 characters
    assert line.endswith("(more in the failure report above and in --conformance-json)"), line
    assert "re-run one: add --check 'ID' to the same command" in summary
    assert "nosuchpart" in summary.split("not provided (", 1)[1].split("\n\n", 1)[0]
    # The printed id re-runs that check alone.
    assert _ids(checks, "--check", "coroutines.long_failure") == ["coroutines.long_failure"]


def test_check_failures_get_short_tracebacks_unless_tb_is_given(checks: pytest.Pytester) -> None:
    short = checks.runpytest("test_checks.py", "--check", "coroutines.long_failure").stdout.str()
    long = checks.runpytest("test_checks.py", "--check", "coroutines.long_failure", "--tb=long").stdout.str()
    # The long form prints the check's source; the short form only the raising line.
    assert "def test_long_failure(impl):" in long
    assert "def test_long_failure(impl):" not in short


def _collected(*args: str) -> list[str]:
    """The node ids the kit collects from the shipped suites, run as a user runs it."""
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--collect-only", "--impl=tornado", *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=scratch,
        )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [line for line in proc.stdout.splitlines() if "::" in line]


@pytest.mark.primary_python
def test_area_selection_collects_only_those_areas_and_selects_the_same_checks() -> None:
    """``-m`` made of area names leaves the other areas' folders uncollected (start-up of an
    area run), and selects exactly the checks that a whole collection filtered by that
    area would: each area is one folder whose checks carry that area's marker only."""
    from conformance._meta import AREAS, OPT_IN_AREAS

    everything = _collected("-m", " or ".join(AREAS))
    for area in AREAS:
        ids = [i for i in everything if i.startswith(area + "/")]
        assert ids or area in OPT_IN_AREAS, f"no check in {area}/"
    narrowed = _collected("-m", "cookies or (websocket and not http11)")
    assert narrowed == [i for i in everything if i.startswith(("cookies/", "websocket/"))]
    # an expression naming anything but areas leaves collection whole; pytest selects
    assert _collected("-m", "cookies or conformance") == _collected()
