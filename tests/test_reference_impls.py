"""The kit's proof that its checks can pass: the reference implementations in
``fixtures/impls`` pass what they are built to pass."""

from __future__ import annotations

import pytest

REPAIRED = "conformance.fixtures.impls.repaired_tornado"


# a whole-kit run of a reference implementation: proven once, on the primary Python
@pytest.mark.primary_python
def test_repaired_tornado_passes_every_check(kit, tornado_expectations, lacks_newer_feature) -> None:  # type: ignore[no-untyped-def]
    """Tornado with each recorded departure repaired passes every check, strictly: without
    its expectations, no check may fail, be non-strict, be skipped or go unprovided. A check
    that fails here either has no repair yet in ``repaired_tornado`` or cannot pass at all.

    The repairs are those of the newest Tornado's open departures. On an older Tornado (the
    newest one a Python can install), a departure that a later release fixed (its entry has
    ``fixed_in``) is that release's, not a missing repair: it may still fail here."""
    import tornado

    from conformance.expectations import load

    deviations = load(tornado_expectations).for_version(tornado.version)
    run = kit(f"--impl={REPAIRED}", "--expectations=none")
    tests = run.tests()
    assert tests, run.output[-3000:]

    def fixed_later(cid: str) -> bool:
        entry = deviations.match(cid)
        return entry is not None and entry.fixed_in is not None

    not_passed = [
        f"{t['id']}: {t['outcome']}: {t['message']}"
        for t in tests
        if t["outcome"] != "passed"
        and not (t["outcome"] in ("failed", "non-strict") and fixed_later(t["id"]))
        and not lacks_newer_feature(t)
    ]
    assert not not_passed, f"{REPAIRED} must pass every check; these did not:\n" + "\n".join(not_passed)
