"""The committed matrix (docs/matrix.html) is what the committed results (results/*.json) render to.

The page is compared with the results, never with the suites: a check added to the kit
after a results file was recorded is *not run* in that file's column (counted at the top
of the page), so adding a check never requires re-running every implementation.
`tox -m matrix` re-runs them all and re-renders the page; `tox -e matrix` only re-renders.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from conformance import matrix
from conformance.outcomes import Outcome

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"
PAGE = ROOT / "docs" / "matrix.html"

pytestmark = [
    pytest.mark.skipif(not RESULTS.is_dir(), reason="no committed results/ (run `tox -m matrix`)"),
    # the generated page is the same on every Python: rendered and compared on the primary one
    pytest.mark.primary_python,
]


def test_committed_page_renders_from_the_committed_results(capsys: pytest.CaptureFixture[str]) -> None:
    code = matrix.main([str(RESULTS), "-o", str(PAGE), "--check"])
    assert code == 0, (
        f"docs/matrix.html is stale against results/: run `tox -e matrix` (or `tox -m matrix` to re-run every "
        f"implementation).\n{capsys.readouterr().err}"
    )


def test_a_check_recorded_by_one_run_only_is_not_run_in_the_others(tmp_path: Path) -> None:
    for path in RESULTS.glob("*.json"):
        shutil.copy(path, tmp_path / path.name)
    newest = tmp_path / "tornado66.json"
    data = json.loads(newest.read_text())
    added = dict(data["tests"][0], id="http11.a_check_added_after_the_other_runs", outcome=str(Outcome.PASSED))
    data["tests"].append(added)
    newest.write_text(json.dumps(data))

    built = matrix.build([matrix.load_results(p) for p in sorted(tmp_path.glob("*.json"))])
    columns = [c.path for c in built.columns]
    verdicts = {
        Path(path).stem: (cell.verdict if cell is not None else matrix.CELLS[Outcome.NOT_RUN])
        for path, cell in zip(columns, (built.cell(added["id"], k) for k in range(len(columns))))
    }
    assert verdicts.pop("tornado66") == matrix.CELLS[Outcome.PASSED]
    assert set(verdicts.values()) == {matrix.CELLS[Outcome.NOT_RUN]}
    page = matrix.render(built)
    # Counted on top of the cells already not run (results recorded by different kit versions).
    before = matrix.render(matrix.build([matrix.load_results(p) for p in sorted(RESULTS.glob("*.json"))]))
    already = re.search(r'<p class="not-run-count">(\d+) cells', before)
    assert (
        f'<p class="not-run-count">{len(verdicts) + (int(already.group(1)) if already else 0)} cells are <em>not run</em>'
        in page
    )


def test_every_check_tornado_does_not_provide_passes_in_the_curl_clients_run() -> None:
    """Every check must be able to pass on an implementation the kit ships. The few that
    Tornado's own default does not provide (curl_httpclient's features: proxies,
    ``time_info``) must pass in the committed run of Tornado's curl client (`tox -e curl`)."""
    newest = json.loads((RESULTS / "tornado66.json").read_text())
    curl = {t["id"]: t["outcome"] for t in json.loads((RESULTS / "curl.json").read_text())["tests"]}
    not_provided = [t["id"] for t in newest["tests"] if t["outcome"] == "skipped"]
    assert not_provided, "Tornado 6.6.1's run skipped nothing: drop this test or CURL_ONLY in conftest.py"
    not_passed = {cid: curl.get(cid, "not run") for cid in not_provided if curl.get(cid) != "passed"}
    assert not not_passed, f"checks Tornado 6.6.1 does not provide and the curl client does not pass: {not_passed}"
