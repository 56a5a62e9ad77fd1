"""pytest-xdist: a parallel run of the kit gives the serial run's verdicts."""

from __future__ import annotations

import pytest

from conformance.outcomes import Outcome

pytestmark = pytest.mark.primary_python

pytest.importorskip("xdist")


def test_parallel_run_gives_the_same_verdicts_as_a_serial_run(kit, tornado_run) -> None:  # type: ignore[no-untyped-def]
    parallel = kit("--impl=tornado", "-n", "2")
    assert parallel.returncode == tornado_run.returncode, parallel.output[-3000:]
    assert parallel.outcomes() == tornado_run.outcomes()
    assert parallel.results is not None and tornado_run.results is not None
    assert parallel.results["summary"] == tornado_run.results["summary"]


def test_parallel_run_honours_expectations_and_reports_failures(kit, tmp_path) -> None:  # type: ignore[no-untyped-def]
    expectations = tmp_path / "exp.toml"
    expectations.write_text('[checks."http11.http11_connection_is_persistent_by_default"]\nreason = "known"\n')
    run = kit(
        "--impl=conformance.fixtures.broken.http11_no_keep_alive",
        "-n",
        "2",
        f"--expectations={expectations}",
        "-m",
        "http11",
    )
    outcomes = run.outcomes()
    assert outcomes["http11.http11_connection_is_persistent_by_default"] == Outcome.XFAILED, run.output[-3000:]
