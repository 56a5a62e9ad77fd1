"""A dead implementation is judged at once: the first wire check times out, the liveness
probe gets no answer either, and every later wire check fails as *unresponsive* without
waiting its deadline, while the checks that never touch the wire are judged as usual
(docs/harness.md, "Dead and deadlocked implementations")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conformance.outcomes import Outcome, Verdict

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

DEAD = "conformance.fixtures.impls.dead_server"
SUITES = Path(__file__).resolve().parent.parent / "suites"
#: What a check that does not touch the dead server ends as: Tornado's own verdicts.
USUAL = (Outcome.PASSED, Outcome.XFAILED, Outcome.NON_STRICT)


def _serving_checks() -> set[str]:
    """``<area>.<name>`` of every check that takes the ``server`` fixture: those that need the
    implementation on the wire (every other check drives only its loop, its API, or its
    client against the kit's servers)."""
    found = set()
    for path in SUITES.glob("*/test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or not node.name.startswith("test_"):
                continue
            if "server" in {arg.arg for arg in node.args.args}:
                found.add(f"{path.parent.name}.{node.name[len('test_') :]}")
    return found


def test_dead_implementation_fails_wire_checks_at_once_as_unresponsive(
    kit, tornado_expectations, lacks_newer_feature
) -> None:  # type: ignore[no-untyped-def]
    # The subprocess's timeout is a hang guard only: the run itself takes about a minute
    # (one deadline for the first wire check, one for the probe, and the other checks).
    run = kit(
        f"--impl={DEAD}",
        f"--expectations={tornado_expectations}",
        "-W",
        "error::ResourceWarning",
        timeout=180,
    )
    tests = run.tests()
    serving = _serving_checks()
    wire = [t for t in tests if t["id"].split("[", 1)[0] in serving]
    rest = [t for t in tests if t["id"].split("[", 1)[0] not in serving]
    assert wire and rest, run.output[-3000:]

    # The first wire check times out on its own; the probe that follows gets no answer.
    first = [t for t in wire if "Then the liveness probe got no answer either" in t["message"]]
    assert len(first) == 1, [f"{t['id']}: {t['message'][:200]}" for t in wire[:5]]
    (first_check,) = first
    assert first_check["outcome"] == Outcome.FAILED and first_check["verdict"] == Verdict.TIMEOUT, first_check

    # Every other wire check fails at once, naming the probe, the first timeout and the evidence.
    wrong = []
    for t in wire:
        if t is first_check:
            continue
        # Tornado's own recorded deviations apply (the dead server is Tornado's): those read as xfailed.
        failed = t["outcome"] == Outcome.FAILED and t["verdict"] == Verdict.TIMEOUT
        if not (failed or t["outcome"] == Outcome.XFAILED):
            wrong.append(f"{t['id']}: {t['outcome']} {t['verdict']}")
        elif not t["message"].startswith(f"the implementation is unresponsive: after {first_check['id']} timed out"):
            wrong.append(f"{t['id']}: {t['message'][:200]}")
        elif failed and not (
            t["observed"] and t["observed"].startswith("nothing within") and "GET / HTTP/1.1" in (t["transcript"] or "")
        ):
            wrong.append(f"{t['id']}: no probe evidence: {t['observed']!r} {t['transcript']!r}")
    assert not wrong, "wire checks against a dead server must fail at once as unresponsive:\n" + "\n".join(wrong)

    # The loop is alive: checks that do not touch the implementation's server get their usual verdicts.
    judged = [
        f"{t['id']}: {t['outcome']} {t['message'][:200]}"
        for t in rest
        if t["outcome"] not in USUAL and not lacks_newer_feature(t)
    ]
    assert not judged, "checks that do not touch the wire must be judged as against Tornado:\n" + "\n".join(judged)
    areas = {t["area"] for t in rest}
    assert {"coroutines", "http11"} <= areas, areas  # the loop's checks, and the client's

    assert "ResourceWarning" not in run.output, run.output[-5000:]
