"""The matrix report (conformance/matrix.py): merging, percentages, errors, determinism,
``--check``, and the page itself in real headless Chromium.

The browser is driven through the Chrome DevTools Protocol over ``--remote-debugging-pipe``
(JSON messages separated by NUL bytes on file descriptors 3 and 4): no port, no extra
dependency. Every read and write has a deadline and the browser's process group is
killed at the end, whatever happened. Without Chromium the browser tests skip, unless
``CONFORMANCE_REQUIRE_BROWSER=1`` (set by ``tox -e browser``, which CI runs) makes
them fail instead.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance import matrix
from conformance.matrix import MatrixInputError, build, load_results, render, verdict_of

ROOT = Path(__file__).resolve().parent.parent

# -- sample results -------------------------------------------------------------------------

TRANSCRIPT = (
    "bytes exchanged:\n   >> b'GET / HTTP/1.1\\r\\nHost: 127.0.0.1:41927\\r\\n\\r\\n'\n   << b'HTTP/1.1 200 OK'"
)


def record(cid: str, outcome: str = "passed", **fields: Any) -> dict[str, Any]:
    test: dict[str, Any] = {
        "nodeid": f"{cid.partition('.')[0]}/test_x.py::test_{cid.partition('.')[2]}",
        "id": cid,
        "area": cid.partition(".")[0],
        "outcome": outcome,
        "reference": "RFC 9112 §9.3",
        "level": "MUST",
        "message": "",
        "verdict": None,
        "not_provided": False,
        "stale": False,
        "expectation": None,
        "advisory": None,
        "fixed_in": None,
        "duration": 0.01,
    }
    test.update(fields)
    return test


def results(name: str, version: str, python: str, tests: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "impl": {"name": name, "version": version},
        "python": python,
        "summary": {},
        "tests": tests,
        "unknown_expectations": [],
    }


ALPHA = results(
    "alpha",
    "1.10",
    "3.11.7",
    [
        record("http11.keeps_connections_alive"),
        record(
            "http11.rejects_plus_sign[plus]",
            "failed",
            reference="RFC 9112 §6.3",
            verdict="failed",
            message="accepted Content-Length '+5' as 5; RFC 9112 §6.3 (MUST): reject it with 400\n" + TRANSCRIPT,
        ),
        record(
            "http11.rejects_plus_sign[minus]",
            "xfailed",
            reference="RFC 9112 §6.3",
            message="accepted Content-Length '-0'",
            expectation="alpha reads '-0' as 0",
            fixed_in="1.11",
        ),
        record(
            "http11.answers_in_time",
            "failed",
            reference="RFC 9112 §10.2",
            verdict="timeout",
            message="no answer in 3 s",
        ),
        record(
            "websocket.invalid_utf8_fails_the_connection",
            "non-strict",
            reference="RFC 6455 §8.1",
            verdict="non-strict",
            message="dropped TCP without a close frame",
        ),
        record(
            "websocket.ping_is_answered",
            "skipped",
            reference="RFC 6455 §5.5.2",
            not_provided=True,
            message="not provided: alpha does not provide 'websocket'",
        ),
        record(
            "cookies.signed_value_round_trips",
            "xpassed",
            reference="Tornado docs: RequestHandler.set_signed_cookie",
            level="TORNADO",
            stale=True,
            expectation="was broken before 1.10",
            message="stale expectation: the check passed",
        ),
        record(
            "cookies.xsrf_token_is_masked",
            reference="Tornado docs: guide/security",
            level="TORNADO",
        ),
    ],
)

BETA = results(
    "beta",
    "2.0",
    "3.10.13",
    [
        record("http11.keeps_connections_alive"),
        record("http11.rejects_plus_sign[plus]", reference="RFC 9112 §6.3"),
        record("http11.rejects_plus_sign[minus]", reference="RFC 9112 §6.3"),
        record(
            "websocket.invalid_utf8_fails_the_connection",
            "skipped",
            reference="RFC 6455 §8.1",
            message="only on Linux",
        ),
        record(
            "cookies.signed_value_round_trips",
            reference="Tornado docs: RequestHandler.set_signed_cookie",
            level="TORNADO",
        ),
        record("cookies.xsrf_token_is_masked", reference="Tornado docs: guide/security", level="TORNADO"),
    ],
)


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


@pytest.fixture
def inputs(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "results"
    folder.mkdir()
    return [write(folder / "alpha.json", ALPHA), write(folder / "beta.json", BETA)]


def sample() -> matrix.Matrix:
    return build([_column_of(ALPHA), _column_of(BETA)])


def _column_of(data: dict[str, Any]) -> matrix.Column:
    with tempfile.TemporaryDirectory() as folder:
        return load_results(write(Path(folder) / "r.json", data))


# -- verdicts and merging -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("test", "expected"),
    [
        ({"outcome": "passed"}, ("pass", "")),
        ({"outcome": "failed", "verdict": "failed"}, ("fail", "failed")),
        ({"outcome": "failed", "verdict": "timeout"}, ("fail", "timeout")),
        ({"outcome": "failed", "verdict": "protocol"}, ("fail", "protocol")),
        ({"outcome": "non-strict", "verdict": "non-strict"}, ("non-strict", "")),
        ({"outcome": "skipped", "not_provided": True}, ("not-provided", "")),
        ({"outcome": "skipped", "not_provided": False}, ("skipped", "")),
        ({"outcome": "xfailed"}, ("expected", "")),
        ({"outcome": "xpassed", "stale": True}, ("stale", "")),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_each_outcome_of_a_results_file_has_its_cell_verdict(test: dict[str, Any], expected: tuple[str, str]) -> None:
    assert verdict_of(test) == expected


def test_columns_are_grouped_by_family_then_ordered_by_name_newest_version_newest_python() -> None:
    runs = [
        _column_of(results("tornado", "6.5.10", "3.10.13", [])),
        _column_of(results("cyclone", "1.3", "3.11.7", [])),
        _column_of(results("tornado+curl", "6.6.1", "3.11.7", [])),
        _column_of(results("debian:python3-tornado", "6.2.0-3+deb12u4", "3.11.2", [])),
        _column_of(results("tornado", "6.10", "3.9.1", [])),
        _column_of(results("salt.ext.tornado", "6.5.5", "3.10.13", [])),
        _column_of(results("tornado", "6.5.10", "3.12.0", [])),
    ]
    columns = build(runs).columns
    assert [c.label for c in columns] == [
        "tornado 6.10 / Python 3.9",
        "tornado 6.5.10 / Python 3.12",
        "tornado 6.5.10 / Python 3.10",
        "tornado+curl 6.6.1 / Python 3.11",
        "debian:python3-tornado 6.2.0-3+deb12u4 / Python 3.11",
        "cyclone 1.3 / Python 3.11",
        "salt.ext.tornado 6.5.5 / Python 3.10",
    ]
    assert [c.family for c in columns] == [matrix.FAMILIES[i] for i in (0, 0, 0, 1, 2, 3, 3)]
    page = render(build(runs))
    assert page.count('<col class="fs">') == 2 * 4  # a rule before each family, in both tables
    assert '<th class="family" colspan="3">Tornado releases</th>' in page


def test_checks_are_grouped_by_area_in_the_kits_order_then_by_reference() -> None:
    merged = sample()
    assert list(merged.areas) == ["http11", "websocket", "cookies"]
    assert [g.reference for g in merged.areas["http11"]] == ["RFC 9112 §6.3", "RFC 9112 §9.3", "RFC 9112 §10.2"]
    assert [r.id for r in merged.areas["http11"][0].rows] == [
        "http11.rejects_plus_sign[minus]",
        "http11.rejects_plus_sign[plus]",
    ]


def test_each_cell_holds_the_verdict_of_its_column() -> None:
    merged = sample()
    assert [c.label for c in merged.columns] == ["alpha 1.10 / Python 3.11", "beta 2.0 / Python 3.10"]
    expected = {
        "http11.rejects_plus_sign[plus]": ("fail", "pass"),
        "http11.rejects_plus_sign[minus]": ("expected", "pass"),
        "http11.answers_in_time": ("fail", None),
        "websocket.invalid_utf8_fails_the_connection": ("non-strict", "skipped"),
        "websocket.ping_is_answered": ("not-provided", None),
        "cookies.signed_value_round_trips": ("stale", "pass"),
    }
    for cid, verdicts in expected.items():
        got = tuple(None if cell is None else cell.verdict for cell in (merged.cell(cid, 0), merged.cell(cid, 1)))
        assert got == verdicts, cid
    cell = merged.cell("http11.answers_in_time", 0)
    assert cell is not None and cell.detail == "timeout"


def test_percentage_is_met_over_judged_and_leaves_not_provided_out() -> None:
    scores = sample().scores
    # alpha http11: pass, fail, expected, fail (timeout) -> 1 met of 4 judged
    http11 = scores["http11"][0]
    assert (http11.met, http11.judged, http11.percent) == (1, 4, 25)
    # alpha websocket: non-strict (judged, not met) and not provided (not judged)
    websocket = scores["websocket"][0]
    assert (websocket.met, websocket.judged, websocket.percent) == (0, 1, 0)
    assert websocket.counts["not-provided"] == 1
    # alpha cookies: stale counts as met (the check passed)
    assert scores["cookies"][0].percent == 100
    # beta: the check missing from its file is "not run", not judged
    assert (scores["http11"][1].met, scores["http11"][1].judged, scores["http11"][1].counts["not-run"]) == (3, 3, 1)
    total = scores[matrix.ALL_AREAS][0]
    assert (total.met, total.judged, total.percent) == (3, 7, 42)


def test_percentage_is_rounded_down_so_100_means_every_check_met() -> None:
    score = matrix.Score()
    score.counts["pass"] = 199
    score.counts["fail"] = 1
    assert score.percent == 99


def test_an_area_with_nothing_judged_shows_no_percentage() -> None:
    score = sample().scores["websocket"][1]  # beta: skipped and not run only
    assert score.judged == 0 and score.percent is None


def test_two_files_for_the_same_implementation_and_python_are_refused(tmp_path: Path) -> None:
    first = write(tmp_path / "one.json", ALPHA)
    second = write(tmp_path / "two.json", results("alpha", "1.10", "3.11.9", []))
    with pytest.raises(
        MatrixInputError, match=r"one\.json and .*two\.json: both are results of alpha 1.10 / Python 3.11"
    ):
        build([load_results(first), load_results(second)])


# -- the page -------------------------------------------------------------------------------


def test_cells_carry_the_verdict_and_the_message_on_hover_and_in_details() -> None:
    page = render(sample())
    row = _row(page, "http11.rejects_plus_sign[plus]")
    assert '<td class="v fail" title="accepted Content-Length &#x27;+5&#x27; as 5;' in row
    assert "<details><summary>fail</summary><pre>accepted Content-Length" in row
    assert '<td class="v pass">pass</td>' in row
    timeout = _row(page, "http11.answers_in_time")
    assert "<summary>fail: timeout</summary>" in timeout and '<td class="v not-run">not run</td>' in timeout
    expected = _row(page, "http11.rejects_plus_sign[minus]")
    assert "expectation: alpha reads &#x27;-0&#x27; as 0\nfixed in: 1.11" in expected


def test_the_bytes_exchanged_and_install_paths_stay_out_of_the_page() -> None:
    message = (
        "raised an exception:\nTraceback (most recent call last):\n"
        '  File "/tmp/venv310/lib/python3.10/site-packages/tornado/http1connection.py", line 868, in loop\n'
        "AssertionError at 0x7f3a2b1c\n" + TRANSCRIPT
    )
    stable = matrix._stable_message(message)
    assert "127.0.0.1" not in stable and "/tmp/venv310" not in stable and "0x7f3a2b1c" not in stable
    assert '".../lib/python3.10/site-packages/tornado/http1connection.py"' in stable
    assert stable.endswith("(the bytes exchanged are in the results file)")


def test_long_messages_are_cut_with_a_pointer_to_the_results_file() -> None:
    stable = matrix._stable_message("x" * 5000)
    assert len(stable) < 2100 and stable.endswith("the results file has the whole message)")


def test_text_from_the_results_is_escaped(tmp_path: Path) -> None:
    hostile = results(
        "<b>evil</b>",
        "1",
        "3.11.0",
        [record("http11.x", "failed", verdict="failed", message="<script>alert(1)</script>")],
    )
    page = render(build([load_results(write(tmp_path / "r.json", hostile))]))
    assert "<script>alert" not in page and "<b>evil" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_page_is_one_file_that_loads_nothing_from_elsewhere() -> None:
    page = render(sample())
    assert not re.search(r"""(src|href)=["'](?!#|data:)""", page), "the page must not refer to another resource"
    assert "http://" not in page and "https://" not in page
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp is not None and "default-src 'none'" in csp.group(1)
    # the inline style and script are allowed by their hashes, nothing else is
    style = re.search(r"<style>(.*?)</style>", page, re.S)
    script = re.search(r"<script>(.*?)</script>", page, re.S)
    assert style is not None and script is not None
    assert f"'{matrix._sha256(style.group(1))}'" in csp.group(1)
    assert f"'{matrix._sha256(script.group(1))}'" in csp.group(1)


def test_verdicts_are_in_the_markup_and_the_filters_wait_for_javascript() -> None:
    page = render(sample())
    assert '<form id="filters" class="filters" hidden>' in page
    assert page.count('<tr class="check"') == 8


def test_percentages_and_their_formula_are_at_the_top() -> None:
    page = render(sample())
    assert page.index('id="summary"') < page.index('id="checks"')
    assert '<td data-met="1" data-judged="4" data-percent="25"><span class="pct">25%</span>' in page
    assert 'data-percent=""><span class="pct">&ndash;</span><br><small>nothing judged' in page
    assert "Percentage = met / judged, rounded down" in page


def test_same_inputs_in_any_order_give_identical_bytes(inputs: list[Path]) -> None:
    forward = render(build([load_results(p) for p in inputs]), note="2025-01-01")
    backward = render(build([load_results(p) for p in reversed(inputs)]), note="2025-01-01")
    assert forward.encode() == backward.encode()
    assert "2025-01-01" in forward


def test_the_page_does_not_depend_on_durations_ports_or_python_patch_level(tmp_path: Path) -> None:
    again = json.loads(json.dumps(ALPHA))
    again["python"] = "3.11.9"
    for test in again["tests"]:
        test["duration"] = 9.5
        test["message"] = test["message"].replace("41927", "35001")
        test["metrics"] = {"requests_per_second": 1234.5}
    first = render(build([load_results(write(tmp_path / "a.json", ALPHA))]))
    second = render(build([load_results(write(tmp_path / "b.json", again))]))
    assert first == second


def _row(page: str, cid: str) -> str:
    found = re.search(rf'<tr class="check" data-check="{re.escape(cid)}".*?</tr>', page, re.S)
    assert found is not None, cid
    return found.group(0)


# -- bad inputs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", r"bad\.json: not JSON: Expecting property name enclosed in double quotes at line 1 column 2"),
        ("[1, 2]", r"bad\.json: not a results file of tornado-conformance .*: the top level is a list"),
        (
            '{"name": "left-pad", "version": "1.3.0"}',
            r"bad\.json: not a results file of tornado-conformance .*: no 'impl', 'python', 'tests' key",
        ),
        (
            '{"impl": "tornado", "python": "3.11.7", "tests": []}',
            r"bad\.json: 'impl' must be an object .*got 'tornado' \(str\)",
        ),
        (
            '{"impl": {"name": "", "version": "1"}, "python": "3.11.7", "tests": []}',
            r"bad\.json: 'impl\.name' must be a non-empty string",
        ),
        (
            '{"impl": {"name": "x", "version": "1"}, "python": "eleven", "tests": []}',
            r"bad\.json: 'python' must be a version",
        ),
        (
            '{"impl": {"name": "x", "version": "1"}, "python": "3.11.7", "tests": {}}',
            r"bad\.json: 'tests' must be a list, got an object",
        ),
        (
            '{"impl": {"name": "x", "version": "1"}, "python": "3.11.7", "tests": [{"id": "http11.a", "outcome": "great"}]}',
            r"bad\.json: tests\[0\] \(http11\.a\): unknown outcome 'great'; expected one of passed, failed, non-strict, skipped, xfailed, xpassed",
        ),
        (
            '{"impl": {"name": "x", "version": "1"}, "python": "3.11.7", "tests": [{"outcome": "passed"}]}',
            r"bad\.json: tests\[0\]: 'id' must be a non-empty string, got null",
        ),
        (
            '{"impl": {"name": "x", "version": "1"}, "python": "3.11.7", "tests": [{"id": "a.b", "outcome": "passed", "message": 3}]}',
            r"bad\.json: tests\[0\] \(a\.b\): 'message' must be a string or null, got 3 \(int\)",
        ),
        (
            '{"impl": {"name": "x", "version": "1"}, "python": "3.11.7", "tests": ['
            '{"id": "a.b", "outcome": "passed"}, {"id": "a.b", "outcome": "failed"}]}',
            r"bad\.json: tests\[1\]: the check id 'a\.b' appears twice",
        ),
    ],
    ids=[
        "not-json",
        "a-list",
        "foreign-json",
        "impl-not-an-object",
        "empty-name",
        "python-not-a-version",
        "tests-not-a-list",
        "unknown-outcome",
        "test-without-id",
        "message-not-text",
        "duplicate-id",
    ],
)
def test_a_bad_file_is_one_error_line_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, problem: str
) -> None:
    bad = write(tmp_path / "bad.json", content)
    good = write(tmp_path / "good.json", ALPHA)
    assert matrix.main([str(good), str(bad), "-o", str(tmp_path / "m.html")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert re.match(rf"tornado-conformance-matrix: error: .*{problem}", err), err
    assert not (tmp_path / "m.html").exists()


def test_a_missing_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert matrix.main([str(tmp_path / "absent.json"), "-o", str(tmp_path / "m.html")]) == 2
    assert re.match(
        r"tornado-conformance-matrix: error: .*absent\.json: cannot read it: \[Errno 2\]", capsys.readouterr().err
    )


def test_an_empty_directory_or_a_pattern_matching_nothing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MatrixInputError, match=r"no \*\.json files in this directory"):
        matrix.expand_inputs([str(tmp_path)])
    with pytest.raises(MatrixInputError, match="the pattern matches no file"):
        matrix.expand_inputs([str(tmp_path / "*.json")])


def test_directories_and_patterns_expand_to_their_json_files(inputs: list[Path]) -> None:
    folder = inputs[0].parent
    assert matrix.expand_inputs([str(folder)]) == inputs
    assert matrix.expand_inputs([str(folder / "*.json"), str(inputs[0])]) == inputs


# -- the command ----------------------------------------------------------------------------


def test_the_command_writes_the_page(inputs: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "docs" / "matrix.html"
    assert matrix.main([str(inputs[0].parent), "-o", str(out), "--title", "Ports"]) == 0
    assert "wrote" in capsys.readouterr().out
    page = out.read_text(encoding="utf-8")
    assert page == render(build([load_results(p) for p in inputs]), title="Ports")
    assert "<title>Ports</title>" in page


def test_check_passes_when_the_page_is_what_the_inputs_render(inputs: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "matrix.html"
    assert matrix.main([*map(str, inputs), "-o", str(out)]) == 0
    before = out.stat().st_mtime_ns
    assert matrix.main([*map(str, reversed(inputs)), "-o", str(out), "--check"]) == 0
    assert out.stat().st_mtime_ns == before


def test_check_fails_on_a_stale_page_and_says_how_to_refresh_it(
    inputs: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "matrix.html"
    assert matrix.main([str(inputs[0]), "-o", str(out)]) == 0  # rendered before beta's results existed
    capsys.readouterr()
    assert matrix.main([*map(str, inputs), "-o", str(out), "--check"]) == 1
    err = capsys.readouterr().err
    assert f"{out} is stale: it differs from what the 2 results files render, first at line" in err
    assert f"re-render it with: tornado-conformance-matrix {inputs[0]} {inputs[1]} -o {out}" in err
    assert out.read_text(encoding="utf-8") == render(build([load_results(inputs[0])]))  # --check writes nothing


def test_check_fails_when_the_page_is_missing(
    inputs: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert matrix.main([str(inputs[0]), "-o", str(tmp_path / "none.html"), "--check"]) == 1
    assert "none.html cannot be read (No such file or directory); render it with:" in capsys.readouterr().err


def test_the_console_script_is_declared() -> None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["tornado-conformance-matrix"] == "conformance.matrix:main"


def test_the_command_runs_in_a_fresh_interpreter(inputs: list[Path], tmp_path: Path) -> None:
    # What the console script does: import conformance.matrix and call main(), no pytest involved.
    code = "import sys; from conformance.matrix import main; sys.exit(main())"
    out = tmp_path / "m.html"
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", code, str(inputs[0].parent), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == render(build([load_results(p) for p in inputs])).encode()


@pytest.mark.primary_python
def test_a_real_results_file_of_the_kit_renders(kit: Any, tmp_path: Path) -> None:
    run = kit("--impl=tornado", "-m", "coroutines")
    assert run.results is not None, run.output
    column = load_results(tmp_path / "results.json")
    merged = build([column])
    assert merged.columns[0].name == "tornado" and list(merged.areas) == ["coroutines"]
    assert merged.scores["coroutines"][0].judged == len(column.entries) > 0
    assert 'class="v pass"' in render(merged)


# -- the page in a real browser -------------------------------------------------------------

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--window-size=1400,1000",
)


def find_chromium() -> str | None:
    for candidate in (os.environ.get("CONFORMANCE_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


class DevToolsError(Exception):
    pass


class DevTools:
    """Just enough of the Chrome DevTools Protocol, over ``--remote-debugging-pipe``.

    Chromium reads commands from its file descriptor 3 and writes answers and events to
    its descriptor 4, each a JSON text followed by a NUL byte.
    """

    def __init__(self, executable: str, profile: Path, log: Path) -> None:
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()
        # The child's ends go to descriptors 3 and 4 through a small Python trampoline
        # (subprocess cannot renumber descriptors, and sh only knows 0-9). They are moved
        # above 9 first, so that the two dup2 calls cannot overwrite one another.
        child = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_browser_r, from_browser_w)]
        os.close(to_browser_r)
        os.close(from_browser_w)
        trampoline = (
            "import os, sys; a, b = int(sys.argv[1]), int(sys.argv[2]); "
            "os.dup2(a, 3); os.dup2(b, 4); os.close(a); os.close(b); os.execv(sys.argv[3], sys.argv[3:])"
        )
        command = [executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"]
        self.log = log
        with open(log, "wb") as sink:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", trampoline, str(child[0]), str(child[1]), *command],
                pass_fds=child,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killpg() ends the renderers too
            )
        for fd in child:
            os.close(fd)
        self._out = to_browser_w
        self._in = from_browser_r
        os.set_blocking(self._out, False)
        os.set_blocking(self._in, False)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    # -- plumbing, every step with a deadline ---------------------------------------------
    def _remaining(self, deadline: float, doing: str) -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"Chromium did not answer in time while {doing}; its log:\n{self.log_tail()}")
        return left

    def _write(self, data: bytes, deadline: float, doing: str) -> None:
        view = memoryview(data)
        while view:
            _, writable, _ = select.select([], [self._out], [], self._remaining(deadline, doing))
            if writable:
                try:
                    view = view[os.write(self._out, view) :]
                except BlockingIOError:
                    continue

    def _read(self, deadline: float, doing: str) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            readable, _, _ = select.select([self._in], [], [], self._remaining(deadline, doing))
            if not readable:
                continue
            try:
                chunk = os.read(self._in, 1 << 16)
            except BlockingIOError:
                continue
            if not chunk:
                raise DevToolsError(f"Chromium closed the DevTools pipe while {doing}; its log:\n{self.log_tail()}")
            self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        message: dict[str, Any] = json.loads(raw)
        return message

    def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None, timeout: float = 15
    ) -> dict[str, Any]:
        self._next_id += 1
        command: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session is not None:
            command["sessionId"] = session
        deadline = time.monotonic() + timeout
        self._write(json.dumps(command).encode() + b"\0", deadline, f"sending {method}")
        while True:
            message = self._read(deadline, f"waiting for the answer to {method}")
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise DevToolsError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            self.events.append(message)

    def wait_for(self, method: str, session: str, timeout: float = 15) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for event in self.events[seen:]:
                if event.get("method") == method and event.get("sessionId") == session:
                    return event
            seen = len(self.events)
            self.events.append(self._read(deadline, f"waiting for {method}"))

    def log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-3000:]
        except OSError:
            return "(no log)"

    # -- pages ---------------------------------------------------------------------------
    def open(self, url: str, *, javascript: bool = True) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"}, timeout=60)["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Page", "Network"):
            self.send(f"{domain}.enable", session=session)
        if not javascript:
            self.send("Emulation.setScriptExecutionDisabled", {"value": True}, session=session)
        navigation = self.send("Page.navigate", {"url": url}, session=session)
        if navigation.get("errorText"):
            raise DevToolsError(f"could not load {url}: {navigation['errorText']}")
        self.wait_for("Page.loadEventFired", session)
        return Page(self, session)

    def close(self) -> None:
        """Always ends the browser: politely first, then its whole process group."""
        try:
            if self.proc.poll() is None:
                try:
                    self.send("Browser.close", timeout=5)
                except (DevToolsError, TimeoutError, OSError):
                    pass
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait(timeout=10)
            os.close(self._out)
            os.close(self._in)


class Page:
    def __init__(self, devtools: DevTools, session: str) -> None:
        self.devtools = devtools
        self.session = session

    def evaluate(self, expression: str) -> Any:
        answer = self.devtools.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=self.session
        )
        if "exceptionDetails" in answer:
            raise DevToolsError(f"{expression!r} raised {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def problems(self) -> list[str]:
        """Console errors, uncaught exceptions, and requests for anything but the file itself."""
        found = []
        for event in self.devtools.events:
            if event.get("sessionId") != self.session:
                continue
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(f"exception: {params['exceptionDetails']}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(f"console.{params['type']}: {params.get('args')}")
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                found.append(f"log: {params['entry'].get('text')}")
            elif method == "Network.requestWillBeSent" and not params["request"]["url"].startswith(("file:", "data:")):
                found.append(f"request: {params['request']['url']}")
        return found

    def cell(self, cid: str, column: int) -> dict[str, Any]:
        value: dict[str, Any] = self.evaluate(
            f"""(() => {{
              const row = document.querySelector('tr.check[data-check="' + CSS.escape({json.dumps(cid)}) + '"]');
              const cell = row.cells[2 + {column}];
              const summary = cell.querySelector("summary");
              return {{cls: cell.className, text: (summary || cell).textContent.trim(), title: cell.title,
                       visible: cell.getBoundingClientRect().width > 0}};
            }})()"""
        )
        return value


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevTools]:
    executable = find_chromium()
    if executable is None:
        reason = (
            "Chromium not found (apt-get install chromium, or set CONFORMANCE_CHROMIUM); tox -e browser installs it"
        )
        if os.environ.get("CONFORMANCE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"CONFORMANCE_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("chromium")
    devtools = DevTools(executable, folder / "profile", folder / "chromium.log")
    try:
        yield devtools
    finally:
        devtools.close()


@pytest.fixture
def page_file(inputs: list[Path], tmp_path: Path) -> Path:
    out = tmp_path / "matrix.html"
    assert matrix.main([*map(str, inputs), "-o", str(out)]) == 0
    return out


def test_the_page_loads_in_chromium_without_errors_and_shows_the_verdicts(browser: DevTools, page_file: Path) -> None:
    page = browser.open(page_file.as_uri())
    assert page.evaluate("document.title") == "Tornado conformance matrix"
    assert page.evaluate("document.querySelectorAll('tr.check').length") == 8
    plus = page.cell("http11.rejects_plus_sign[plus]", 0)
    assert plus["cls"] == "v fail" and plus["text"] == "fail" and plus["visible"]
    assert plus["title"].startswith("accepted Content-Length '+5' as 5; RFC 9112 §6.3 (MUST)")
    assert page.cell("http11.rejects_plus_sign[plus]", 1)["text"] == "pass"
    assert page.cell("http11.rejects_plus_sign[minus]", 0)["text"] == "expected"
    assert page.cell("http11.answers_in_time", 0)["text"] == "fail: timeout"
    assert page.cell("http11.answers_in_time", 1)["text"] == "not run"
    assert page.cell("websocket.invalid_utf8_fails_the_connection", 0)["text"] == "non-strict"
    assert page.cell("websocket.ping_is_answered", 0)["text"] == "not provided"
    assert page.cell("cookies.signed_value_round_trips", 0)["text"] == "stale"
    percentages = page.evaluate(
        "Array.from(document.querySelectorAll('.summary tbody tr')).map("
        "r => [r.dataset.area, Array.from(r.querySelectorAll('.pct')).map(p => p.textContent)])"
    )
    assert percentages == [
        ["http11", ["25%", "100%"]],
        ["websocket", ["0%", "\u2013"]],
        ["cookies", ["100%", "100%"]],
        ["all areas", ["42%", "100%"]],
    ]
    assert page.problems() == []


def test_a_message_opens_in_place(browser: DevTools, page_file: Path) -> None:
    page = browser.open(page_file.as_uri())
    locate = """document.querySelector('tr.check[data-check="http11.rejects_plus_sign[plus]"]').cells[2]"""
    assert page.evaluate(f"{locate}.querySelector('pre').checkVisibility()") is False
    page.evaluate(f"{locate}.querySelector('summary').click()")
    assert page.evaluate(f"{locate}.querySelector('details').open") is True
    assert page.evaluate(f"{locate}.querySelector('pre').checkVisibility()") is True
    assert "(the bytes exchanged are in the results file)" in page.evaluate(
        f"{locate}.querySelector('pre').textContent"
    )
    assert page.problems() == []


def test_the_filters_narrow_the_rows(browser: DevTools, page_file: Path) -> None:
    page = browser.open(page_file.as_uri())
    visible = "Array.from(document.querySelectorAll('tr.check')).filter(r => r.offsetParent !== null).length"
    assert page.evaluate("document.getElementById('filters').hidden") is False
    assert page.evaluate("document.getElementById('shown').textContent") == "8 of 8 checks shown"
    page.evaluate("document.getElementById('f-differ').click()")
    assert page.evaluate(visible) == 6  # two checks passed in both columns
    assert page.evaluate("document.getElementById('shown').textContent") == "6 of 8 checks shown"
    page.evaluate("document.getElementById('f-differ').click()")
    page.evaluate(
        "const q = document.getElementById('f-query'); q.value = 'plus_sign'; q.dispatchEvent(new Event('input', {bubbles: true}))"
    )
    assert page.evaluate(visible) == 2
    assert page.evaluate(
        "Array.from(document.querySelectorAll('tr.area')).filter(r => !r.hidden).map(r => r.dataset.area)"
    ) == ["http11"]
    assert page.problems() == []


def test_sixteen_columns_fit_a_1400_pixel_window_and_the_heads_stay_in_view(browser: DevTools, tmp_path: Path) -> None:
    """The matrix of every shipped env (16 runs, four families) reads without scrolling
    sideways in a 1400-pixel window, and the column heads stay on screen as the rows scroll."""
    names = [("tornado", f"6.{minor}.1") for minor in range(9)]
    names += [("tornado+curl", "6.6.1"), ("tornado+uvloop", "6.6.1"), ("tornado on PyPy", "6.5.10")]
    names += [("debian:python3-tornado", "6.2.0-3+deb12u4"), ("cyclone", "1.3"), ("salt.ext.tornado", "6.5.5")]
    names += [("windhose", "2.0.2")]
    tests = [dict(test) for test in ALPHA["tests"]] * 1
    tests += [
        record(f"http11.filler_check_with_a_long_name_number_{i}[case-{i}]", "xfailed", reference="RFC 9112 §6.3")
        for i in range(60)
    ]
    folder = tmp_path / "wide"
    folder.mkdir()
    inputs = [
        write(folder / f"r{k}.json", results(name, version, "3.11.7", tests)) for k, (name, version) in enumerate(names)
    ]
    out = tmp_path / "wide.html"
    assert matrix.main([*map(str, inputs), "-o", str(out)]) == 0
    page = browser.open(out.as_uri())
    assert page.evaluate("document.querySelectorAll('#matrix thead tr:nth-child(2) th.col').length") == 16
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1400, f"the page is {width} pixels wide in a 1400-pixel window"
    families = page.evaluate("Array.from(document.querySelectorAll('#matrix th.family')).map(t => t.textContent)")
    assert families == list(matrix.FAMILIES)
    page.evaluate("window.scrollTo(0, document.getElementById('matrix').offsetTop + 1500)")
    top = page.evaluate("document.querySelector('#matrix thead').getBoundingClientRect().top")
    assert abs(top) < 1, f"the column heads scrolled away (their top is at {top})"
    assert page.problems() == []


def test_without_javascript_every_verdict_is_still_shown(browser: DevTools, page_file: Path) -> None:
    page = browser.open(page_file.as_uri(), javascript=False)
    assert page.evaluate("document.getElementById('filters').hidden") is True  # the script did not run
    assert page.cell("http11.rejects_plus_sign[plus]", 0)["text"] == "fail"
    assert page.cell("websocket.ping_is_answered", 0)["visible"]
    assert page.problems() == []


def test_the_browser_harness_sees_console_errors_exceptions_and_requests(browser: DevTools, tmp_path: Path) -> None:
    # The checks above assert that problems() is empty: prove that it is not blind.
    bad = write(
        tmp_path / "bad.html",
        '<!DOCTYPE html><title>bad</title><img src="http://127.0.0.1:9/x.png">'
        '<script>console.error("boom"); no_such_function();</script>',
    )
    found = browser.open(bad.as_uri()).problems()
    assert any(p.startswith("console.error") and "boom" in p for p in found), found
    assert any(p.startswith("exception:") and "no_such_function" in p for p in found), found
    assert any(p == "request: http://127.0.0.1:9/x.png" for p in found), found
