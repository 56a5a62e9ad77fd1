"""A refusal is the status code the cited rule names: a server that closes instead of
answering 400 fails every check whose rule requires the response (a MUST), and is
non-strict on those where the response is a SHOULD (issue: "refused" used to accept a
silent close)."""

from __future__ import annotations

import pytest

import conformance.fixtures.broken.http11_refuses_by_closing as closing


# the verdict logic of a refusal is pure Python: proven once, on the primary Python (two http11 runs)
@pytest.mark.primary_python
def test_closing_instead_of_400_fails_the_must_refusals_and_is_non_strict_on_the_others(  # type: ignore[no-untyped-def]
    kit, tornado_expectations
) -> None:
    run = kit(f"--impl={closing.__name__}", f"--expectations={tornado_expectations}", "-m", "http11")
    records = {t["id"]: t for t in run.tests()}
    failed = run.ids_with("failed")
    non_strict = run.ids_with("non-strict")
    # On an older Tornado a check it fails itself is an expected failure, whatever the defect.
    tornados_own = run.ids_with("xfailed")
    must, should = closing.EXPECTED_FAILURES - tornados_own, closing.EXPECTED_NON_STRICT - tornados_own
    assert failed == must, f"missed: {sorted(must - failed)}; also failed: {sorted(failed - must)}"
    assert non_strict == should, (
        f"missed: {sorted(should - non_strict)}; also non-strict: {sorted(non_strict - should)}"
    )
    # Every failure is a violation of a rule that requires the response, never a timeout.
    for cid in failed:
        assert records[cid]["level"] == "MUST", (cid, records[cid]["level"])
        assert records[cid]["verdict"] == "failed", (cid, records[cid]["verdict"])
        assert "closed" in records[cid]["message"] or "no response" in records[cid]["message"], records[cid]
    # --strict-verdicts turns each non-strict verdict into a failure.
    strict = kit(
        f"--impl={closing.__name__}", f"--expectations={tornado_expectations}", "-m", "http11", "--strict-verdicts"
    )
    assert strict.ids_with("failed") == must | should
