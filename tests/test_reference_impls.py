"""The kit's proof that its checks can pass: the reference implementations in
``fixtures/impls`` pass what they are built to pass."""

from __future__ import annotations

REPAIRED = "conformance.fixtures.impls.repaired_tornado"


def test_repaired_tornado_passes_every_check(kit) -> None:  # type: ignore[no-untyped-def]
    """Tornado with each recorded departure repaired passes every check, strictly: without
    its expectations, no check may fail, be non-strict, be skipped or go unprovided. A check
    that fails here either has no repair yet in ``repaired_tornado`` or cannot pass at all."""
    run = kit(f"--impl={REPAIRED}", "--expectations=none")
    tests = run.tests()
    assert tests, run.output[-3000:]
    not_passed = [f"{t['id']}: {t['outcome']}: {t['message']}" for t in tests if t["outcome"] != "passed"]
    assert not not_passed, f"{REPAIRED} must pass every check; these did not:\n" + "\n".join(not_passed)
    assert run.returncode == 0, run.output[-3000:]
