"""The committed matrix (docs/matrix.html, from results/*.json of `tox -m matrix`) is not stale.

Two ways it can go stale, both caught here without re-running every implementation:
the page no longer matches the committed results (someone edited one and not the other),
or the suites gained, lost or renamed checks since the results were recorded (the page
would then show a matrix of a kit that no longer exists). `tox -m matrix` refreshes both.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance import matrix

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"
PAGE = ROOT / "docs" / "matrix.html"

pytestmark = pytest.mark.skipif(not RESULTS.is_dir(), reason="no committed results/ (run `tox -m matrix`)")


def test_committed_page_renders_from_the_committed_results(capsys: pytest.CaptureFixture[str]) -> None:
    code = matrix.main([str(RESULTS), "-o", str(PAGE), "--check"])
    assert code == 0, (
        f"docs/matrix.html is stale against results/: run `tox -e matrix` (or `tox -m matrix` to re-run every "
        f"implementation).\n{capsys.readouterr().err}"
    )


def test_committed_results_cover_exactly_the_checks_of_this_kit(tornado_run) -> None:  # type: ignore[no-untyped-def]
    recorded = {t["id"] for t in json.loads((RESULTS / "tornado66.json").read_text())["tests"]}
    current = set(tornado_run.outcomes())
    added, removed = sorted(current - recorded), sorted(recorded - current)
    assert not added and not removed, (
        "the committed matrix is stale: run `tox -m matrix` and commit results/ and docs/matrix.html. "
        f"Checks without a recorded verdict: {added[:10]}{' ...' if len(added) > 10 else ''}; "
        f"recorded checks that no longer exist: {removed[:10]}{' ...' if len(removed) > 10 else ''}"
    )
