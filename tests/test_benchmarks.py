"""benchmarks/bench_vs_tornado.py: it loads, and its arithmetic is right (it is never run here)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_vs_tornado.py"


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("bench_vs_tornado", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def test_help_names_the_options(bench: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        bench.main(["--help"])
    assert exited.value.code == 0
    usage = capsys.readouterr().out
    assert "--rounds" in usage and "--markdown" in usage


def test_ninetieth_percentile_is_the_nearest_rank(bench: ModuleType) -> None:
    samples = [float(n) for n in range(10, 0, -1)]
    assert bench.percentile(samples, 0.9) == 9.0
    assert bench.percentile(samples, 0.5) == 5.0
    assert bench.percentile([4.0], 0.9) == 4.0


def test_tornado_suite_count_comes_from_unittest_summary(bench: ModuleType) -> None:
    output = "....ss..\n----------------------------------------------------------------------\nRan 1517 tests in 43.279s\n\nOK (skipped=83)\n"
    assert bench.tests_ran(output) == (1517, 83)
    assert bench.tests_ran("Ran 1 test in 0.001s\n\nOK\n") == (1, 0)
    assert bench.tests_ran("Traceback (most recent call last):\n") is None


def test_verdict_differences_include_checks_only_one_run_has(bench: ModuleType) -> None:
    serial = {"a": "passed", "b": "xfailed", "c": "passed"}
    parallel = {"a": "passed", "b": "failed", "d": "passed"}
    assert bench.differences(serial, parallel) == ["b", "c", "d"]
    assert bench.differences(serial, dict(serial)) == []
