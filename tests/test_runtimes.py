"""The kit on other runtimes: what a runtime lacks degrades a figure, never collection."""

from __future__ import annotations

import pytest


def test_memory_per_connection_is_not_measured_without_tracemalloc(monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.suites.scale import test_c10k as c10k

    monkeypatch.setattr(c10k, "tracemalloc", None)  # as on PyPy, which has no tracemalloc module
    run = c10k.Run("impl", 10)
    with c10k.python_heap() as held:
        c10k.record_memory(run, held(), 10)
    assert "memory_per_connection" not in run.figures
    assert run.not_measured == {"memory_per_connection": "not measured: this Python has no tracemalloc"}
    metrics: list[tuple[str, object, str]] = []
    c10k.report(run, None, lambda name, value, unit="": metrics.append((name, value, unit)))
    assert ("memory_per_connection", "not measured: this Python has no tracemalloc", "") in metrics


def test_memory_per_connection_is_measured_with_tracemalloc() -> None:
    pytest.importorskip("tracemalloc")
    from conformance.suites.scale import test_c10k as c10k

    run = c10k.Run("impl", 10)
    with c10k.python_heap() as held:
        kept = [bytearray(4096) for _ in range(10)]
        c10k.record_memory(run, held(), 10)
    del kept
    assert run.figures["memory_per_connection"] >= 4 and not run.not_measured
