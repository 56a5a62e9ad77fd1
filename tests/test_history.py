"""Which of Tornado's fixes an implementation carries (conformance/history.py): the
``--history`` section of a run and the matrix page's section, both read from the fixes
recorded in Tornado's shipped expectations (entries with a ``fixed_in``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance import matrix
from conformance.history import CARRIES, LACKS, NOT_RUN, shipped_fixes, status, summary_lines

#: a fix of Tornado 6.3.3 (GHSA-qppv-j76h-2rpx), named case by case in tornado.toml
SIGNED = "http11.invalid_content_length_is_rejected[plus-sign]"


def _fix(name: str):  # type: ignore[no-untyped-def]
    return next(f for f in shipped_fixes() if f.expectation.matches(name) and f.release == "6.3.3")


def test_every_fix_names_the_release_that_made_it_oldest_first() -> None:
    fixes = shipped_fixes()
    assert len(fixes) >= 50
    assert all(f.release and f.expectation.fixed_in == f.release for f in fixes)
    assert fixes[0].release == "4.5.1" and fixes[-1].release.startswith("6.6")


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ({SIGNED: "passed"}, CARRIES),
        ({SIGNED: "non-strict"}, CARRIES),  # the rule's intent met: the smuggling is gone
        ({SIGNED: "xpassed"}, CARRIES),
        ({SIGNED: "failed"}, LACKS),
        ({SIGNED: "xfailed"}, LACKS),  # the build's own expectations say it still fails
        ({SIGNED: "passed", "http11.invalid_content_length_is_rejected[minus-sign]": "failed"}, LACKS),
        ({SIGNED: "skipped"}, NOT_RUN),
        ({"http11.some_other_check": "failed"}, NOT_RUN),
        ({}, NOT_RUN),
    ],
)
def test_a_fix_is_carried_when_every_case_it_names_holds(outcomes: dict[str, str], expected: str) -> None:
    assert status(_fix(SIGNED), outcomes) == expected


def test_the_summary_names_each_fix_lacked_with_its_advisory_under_its_release() -> None:
    lines = summary_lines({SIGNED: "failed"}, [_fix(SIGNED)])
    assert lines[0].endswith("this implementation carries 0, lacks 1; 0 not run here.")
    assert lines[1:] == [
        "  6.3.3   carries 0 of 1:",
        "            lacks http11.invalid_content_length_is_rejected[plus-sign, minus-sign, digit-separator]"
        " (GHSA-qppv-j76h-2rpx)",
    ]
    assert summary_lines({SIGNED: "passed"}, [_fix(SIGNED)])[1:] == ["  6.3.3   carries 1 of 1"]


def test_history_option_ends_the_run_with_the_fixes_carried(kit) -> None:  # type: ignore[no-untyped-def]
    run = kit("--impl=tornado", "-m", "cookies", "--history")
    assert run.returncode == 0, run.output[-3000:]
    assert "Tornado's fixes: carried and lacked" in run.output
    assert "Tornado's fixes since 4.5 that a check observes" in run.output
    without = kit("--impl=tornado", "-m", "cookies")
    assert "carried and lacked" not in without.output


def _results(name: str, version: str, outcome: str) -> dict[str, object]:
    test = {"id": SIGNED, "area": "http11", "reference": "RFC 9112 §6.3", "level": "MUST", "outcome": outcome}
    if outcome == "failed":
        test["verdict"] = "failed"
    return {"impl": {"name": name, "version": version}, "python": "3.11.7", "summary": {}, "tests": [test]}


def test_the_matrix_page_shows_which_build_carries_each_fix(tmp_path: Path) -> None:
    old = tmp_path / "old.json"
    new = tmp_path / "new.json"
    old.write_text(json.dumps(_results("tornado", "6.3.2", "failed")), encoding="utf-8")
    new.write_text(json.dumps(_results("tornado", "6.3.3", "passed")), encoding="utf-8")
    page = matrix.render(matrix.build([matrix.load_results(old), matrix.load_results(new)]))
    section = page[page.index('id="fixes"') :]
    assert "fixed in 6.3.3" in section
    row = section[section.index("<code>http11.invalid_content_length_is_rejected[plus-sign") :]
    row = row[: row.index("</tr>")]
    # columns: newest version first
    assert row.index('class="v pass">carries') < row.index('class="v fail">lacks')
