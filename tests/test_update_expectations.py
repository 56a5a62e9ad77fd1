"""``--update-expectations=FILE``: new failures added for review, stale entries removed,
unknown ids dropped, the rest of the file kept; a re-run with the file is green (issue 17)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from conformance import expectations

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"), pytest.mark.primary_python]

REPO = Path(__file__).resolve().parent.parent

CHECKS = """
import pytest
from conformance import check, Level
pytestmark = pytest.mark.coroutines

@check("Tornado docs: example", Level.MUST)
def test_passes(impl):
    pass

@check("RFC 0000 §1", Level.SHOULD)
def test_fails(impl):
    assert False, "the implementation did X; Y was expected"

@check("RFC 0000 §2", Level.MUST)
def test_fails_too(impl):
    assert False, "the implementation did Z\\nsecond line"

@check("RFC 0000 §3", Level.MUST)
@pytest.mark.parametrize("case", [f"c{n}" for n in range(31)])
def test_family(impl, case):
    assert False, f"case {case} changed"

@check("RFC 0000 §4", Level.MUST)
@pytest.mark.parametrize("case", ["good", "bad", "worse"])
def test_some(impl, case):
    assert case == "good", f"case {case} is {case}"
"""


def _run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, str]]:
    pytester.makepyfile(test_checks=CHECKS)
    out = pytester.path / "out.json"
    result = pytester.runpytest(f"--conformance-json={out}", *args, "test_checks.py")
    tests = json.loads(out.read_text())["tests"] if out.exists() else []
    return result, {t["id"]: t["outcome"] for t in tests}


def test_a_new_file_holds_every_failure_and_a_rerun_with_it_is_green(pytester: pytest.Pytester) -> None:
    result, outcomes = _run(pytester, "--update-expectations=known.toml")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the run exits as it would have
    text = (pytester.path / "known.toml").read_text()
    result.stdout.fnmatch_lines(["--update-expectations=known.toml: 4 added (new failures, marked (generated)*"])
    entries = expectations.load(pytester.path / "known.toml")
    assert [(e.key, e.cases) for e in entries] == [
        ("coroutines.fails", ()),
        ("coroutines.fails_too", ()),
        ("coroutines.family", ()),  # 31 failing cases: one bare-name entry, not 31
        ("coroutines.some", ("bad", "worse")),
    ]
    fails = entries.entries[0]
    assert (fails.reason, fails.reference) == ("(generated) the implementation did X; Y was expected", "RFC 0000 §1")
    assert entries.entries[1].reason == "(generated) the implementation did Z"  # one line
    assert "# added by --update-expectations on " in text and "review each (generated) reason" in text

    again, outcomes = _run(pytester, "--expectations=known.toml")
    assert again.ret == pytest.ExitCode.OK, again.stdout.str()
    assert {o for cid, o in outcomes.items() if cid != "coroutines.passes" and cid != "coroutines.some[good]"} == {
        "xfailed"
    }


def test_stale_entries_go_unknown_ids_are_dropped_and_the_rest_is_kept(pytester: pytest.Pytester) -> None:
    known = pytester.path / "known.toml"
    known.write_text(
        textwrap.dedent(
            """\
            # Our port's known deviations.
            [checks]
            # passes since 2.0
            "coroutines.passes" = { reason = "was broken", reference = "Tornado docs: example" }
            "coroutines.fails" = { reason = "we parse X our way", reference = "RFC 0000 §1" }  # reviewed
            "coroutines.renamed_away" = { reason = "gone" }
            "coroutines.some" = { reason = "every case failed once" }

            [checks."coroutines.fails_too"]
            reason = "written in the table form"
            fixed_in = "99.0"
            """
        )
    )
    result, _ = _run(pytester, "--expectations=known.toml", "--update-expectations=known.toml")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the stale entry fails this run
    result.stdout.fnmatch_lines(
        ["--update-expectations=known.toml: 1 added*, 1 removed (passed), 1 narrowed*, 1 dropped (name no check)"]
    )
    text = known.read_text()
    assert text.splitlines()[:4] == [
        "# Our port's known deviations.",
        "[checks]",
        "# passes since 2.0",
        '"coroutines.fails" = { reason = "we parse X our way", reference = "RFC 0000 §1" }  # reviewed',
    ]
    assert 'coroutines.passes"' not in text and "renamed_away" not in text
    assert '[checks."coroutines.fails_too"]\nreason = "written in the table form"\nfixed_in = "99.0"\n' in text
    entries = {e.key: e for e in expectations.load(known)}
    assert entries["coroutines.some"].cases == ("bad", "worse")
    assert entries["coroutines.some"].reason == "every case failed once"
    assert entries["coroutines.family"].reason == "(generated) case c0 changed"

    again, _ = _run(pytester, "--expectations=known.toml")
    assert again.ret == pytest.ExitCode.OK, again.stdout.str()


def test_without_expectations_an_existing_file_is_what_the_run_uses(pytester: pytest.Pytester) -> None:
    first, _ = _run(pytester, "--update-expectations=known.toml")
    assert first.ret == pytest.ExitCode.TESTS_FAILED
    second, _ = _run(pytester, "--update-expectations=known.toml")
    assert second.ret == pytest.ExitCode.OK, second.stdout.str()
    second.stdout.fnmatch_lines(["--update-expectations=known.toml: 0 added*, 0 removed (passed), 0 dropped*"])


def test_a_malformed_file_to_update_is_a_usage_error_before_any_check(pytester: pytest.Pytester) -> None:
    (pytester.path / "known.toml").write_text("[checks\n")
    result, outcomes = _run(pytester, "--update-expectations=known.toml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert outcomes == {}
    lines = [line for line in result.stderr.lines if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("ERROR: --update-expectations=known.toml: not valid TOML"), lines


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("known", "ERROR: --update-expectations=known: is a directory; name the expectations file to write"),
        ("", "ERROR: --update-expectations=: empty; name the expectations file to write"),
        ("afile/known.toml", "ERROR: --update-expectations=afile/known.toml: */afile is not a directory; *"),
    ],
    ids=["directory", "empty", "under-a-file"],
)
def test_a_file_that_cannot_be_written_is_a_usage_error_before_any_check(
    pytester: pytest.Pytester, value: str, expected: str
) -> None:
    (pytester.path / "known").mkdir()
    (pytester.path / "afile").write_text("")
    result, outcomes = _run(pytester, f"--update-expectations={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert outcomes == {}
    lines = [line for line in result.stderr.lines if line.strip()]
    assert len(lines) == 1, lines
    result.stderr.fnmatch_lines([expected])


def test_a_missing_directory_is_created(pytester: pytest.Pytester) -> None:
    result, _ = _run(pytester, "--update-expectations=ci/expectations/known.toml", "-k", "fails_too")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert [e.key for e in expectations.load(pytester.path / "ci/expectations/known.toml")] == ["coroutines.fails_too"]


def test_a_broken_implementation_then_a_green_rerun(tmp_path: Path, kit, tornado_expectations) -> None:  # type: ignore[no-untyped-def]
    """The kit's own suites against a broken Tornado (one cookie defect), as a port's CI would."""
    # The installed kit's own broken implementation (a checkout on PYTHONPATH would shadow the
    # installed package, whose conformance.suites exists only once installed).
    known = tmp_path / "port" / "known.toml"
    # Tornado plus one defect: Tornado's own deviations (the installed release's) apply too.
    select = [
        "--impl=conformance.fixtures.broken.cookies_samesite_dropped",
        f"--expectations={tornado_expectations}",
        "-m",
        "cookies",
        "-k",
        "attribute",
    ]
    first = kit(*select, f"--update-expectations={known}")
    assert first.returncode == 1, first.output
    assert first.ids_with("failed") == {
        "cookies.set_cookie_writes_every_attribute",
        "cookies.cookie_attribute_injection_is_rejected[samesite]",
    }
    entries = {e.key: e for e in expectations.load(known)}
    assert set(entries) == {
        "cookies.set_cookie_writes_every_attribute",
        "cookies.cookie_attribute_injection_is_rejected",
    }
    assert entries["cookies.cookie_attribute_injection_is_rejected"].cases == ("samesite",)
    assert entries["cookies.set_cookie_writes_every_attribute"].reference == "Tornado docs: RequestHandler.set_cookie"
    again = kit(*select, f"--expectations={known}")
    assert again.returncode == 0, again.output
    assert first.ids_with("failed") <= again.ids_with("xfailed")


def test_a_key_held_for_other_releases_is_not_written_twice(pytester: pytest.Pytester) -> None:
    known = pytester.path / "known.toml"
    known.write_text(
        '[checks]\n"coroutines.fails" = { reason = "fixed long ago", fixed_in = "1.0" }\n'
        '"coroutines.some" = { cases = ["bad"], reason = "old", fixed_in = "1.0" }\n'
    )
    result, _ = _run(pytester, "--update-expectations=known.toml", "-k", "fails or some")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["*, 1 not added (an entry for other releases has the key; extend it by hand: coroutines.fails)"]
    )
    keys = [e.key for e in expectations.load(known)]
    assert keys == [
        "coroutines.fails",
        "coroutines.some",
        "coroutines.fails_too",
        "coroutines.some[bad]",
        "coroutines.some[worse]",
    ]


WOBBLY = """
import pytest
from conformance import check, Level
pytestmark = pytest.mark.coroutines
RUNS = {"a": 0, "b": 0}

@check("RFC 0000 §5", Level.MUST)
def test_wobbles(impl):
    RUNS["a"] += 1
    assert RUNS["a"] % 2, "fails every other run"

@check("RFC 0000 §6", Level.MUST)
def test_wobbles_too(impl):
    RUNS["b"] += 1
    assert RUNS["b"] % 2 == 0, "fails every other run"
"""


def test_under_verify_a_check_whose_outcome_changed_is_marked_flaky(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_wobbly=WOBBLY)
    known = pytester.path / "known.toml"
    known.write_text('[checks]\n"coroutines.wobbles_too" = { reason = "thought broken" }\n')
    result = pytester.runpytest("--verify=2", "--update-expectations=known.toml", "test_wobbly.py")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # --verify saw a change
    result.stdout.fnmatch_lines(
        ["--update-expectations=known.toml: 1 added*, 2 marked flaky (outcome changed under --verify)*"]
    )
    entries = {e.key: e for e in expectations.load(known)}
    assert {key: e.status for key, e in entries.items()} == {
        "coroutines.wobbles_too": "flaky",
        "coroutines.wobbles": "flaky",
    }
    assert entries["coroutines.wobbles_too"].reason == "thought broken"
    assert entries["coroutines.wobbles"].reason == (
        "(generated) its outcome changed between runs under --verify: passed -> failed"
    )
    again = pytester.runpytest("--verify=3", "--expectations=known.toml", "test_wobbly.py")
    assert again.ret == pytest.ExitCode.OK, again.stdout.str()  # known flakes: listed, not failing
    again.stdout.fnmatch_lines(['  coroutines.wobbles: passed -> failed -> passed  (known: status = "flaky")'])
    green = pytester.runpytest("--expectations=known.toml", "test_wobbly.py")
    assert green.ret == pytest.ExitCode.OK, green.stdout.str()


def test_what_was_not_run_is_kept_and_any_spelling_of_the_path_works(pytester: pytest.Pytester) -> None:
    known = pytester.path / "known.toml"
    known.write_text(
        '[checks]\n"coroutines.some" = { reason = "every case" }\n"coroutines.passes" = { reason = "was broken" }\n'
    )
    # only some[good] (which passes) and passes run: the other cases of some are not judged
    result, _ = _run(pytester, f"--expectations={known}", "--update-expectations=./known.toml", "-k", "good or passes")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # two stale entries
    result.stdout.fnmatch_lines(["*0 added*, 1 removed (passed), 1 narrowed*"])
    entries = {e.key: e for e in expectations.load(known)}
    assert list(entries) == ["coroutines.some"]
    assert entries["coroutines.some"].cases == ("bad", "worse")


def test_inherited_entries_that_pass_here_are_overridden(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    family = pytester.path / "shipped"
    family.mkdir()
    (family / "upstream.toml").write_text(
        "[checks]\n"
        '"coroutines.passes" = { reason = "upstream fails it" }\n'
        '"coroutines.fails" = { reason = "upstream fails it too" }\n'
        '"coroutines.some" = { reason = "upstream fails every case", reference = "RFC 0000 §4" }\n'
    )
    monkeypatch.setattr(expectations, "_DEVIATIONS", family)
    known = pytester.path / "known.toml"
    known.write_text('# our port\ninherit = "upstream"\n')
    first, _ = _run(pytester, "--update-expectations=known.toml", "-k", "passes or fails or some")
    assert first.ret == pytest.ExitCode.TESTS_FAILED  # stale inherited entries
    first.stdout.fnmatch_lines(["*2 inherited overridden (passed here)*"])
    text = known.read_text()
    assert text.startswith('# our port\ninherit = "upstream"\n\n[checks]\n'), text
    own = {e.key: e for e in expectations.load(known) if not e.inherited}
    assert {key: (e.status, e.cases) for key, e in own.items()} == {
        "coroutines.some": ("fail", ("bad", "worse")),
        "coroutines.fails_too": ("fail", ()),
    }
    assert (
        '"coroutines.passes" = { reason = "(generated) passes here, unlike upstream: upstream fails it", status = "pass" }'
        in text
    )
    again, outcomes = _run(pytester, "--expectations=known.toml", "-k", "passes or fails or some")
    assert again.ret == pytest.ExitCode.OK, again.stdout.str()
    assert outcomes["coroutines.passes"] == "passed" and outcomes["coroutines.fails"] == "xfailed"
    refreshed, _ = _run(pytester, "--update-expectations=known.toml", "-k", "passes or fails or some")
    assert refreshed.ret == pytest.ExitCode.OK, refreshed.stdout.str()
    assert known.read_text() == text  # a second refresh changes nothing, the "pass" entry included


def test_a_pass_entry_without_an_inherited_one_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "known.toml"
    path.write_text('[checks]\n"coroutines.fails" = { reason = "we pass it", status = "pass" }\n')
    with pytest.raises(
        expectations.ExpectationsError,
        match=r"known.toml:2: checks.'coroutines.fails' status = 'pass' only overrides an inherited entry",
    ):
        expectations.load(path)
