"""The kit's proof that its checks can fail: every broken implementation in
``fixtures/broken`` fails exactly the checks it declares, all in its own area, and
Tornado (the reference) fails none."""

from __future__ import annotations

import importlib
import os
import pkgutil
from types import ModuleType

import pytest

import conformance.fixtures.broken as broken_pkg
from conformance.expectations import ExpectationSet


def _broken_modules() -> list[ModuleType]:
    found = []
    for info in pkgutil.iter_modules(broken_pkg.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{broken_pkg.__name__}.{info.name}")
        if getattr(module, "AREA", None):
            found.append(module)
    return found


ALL_BROKEN = _broken_modules()
BROKEN = ALL_BROKEN

#: "full" (default): every broken implementation runs every suite, proving its defect is
#: caught in its area *and only there*. "area": it runs the areas it targets only, its own
#: and those its declared checks (EXPECTED_FAILURES, CROSS_AREA) belong to, so every check
#: is still proven able to fail, each broken implementation once. "sample": area mode for
#: the first broken implementation of each area only, proving the machinery on another
#: Python. CI (tox) runs area mode on py311 and samples the other Pythons (tox.ini has the
#: budget); `tox -e selfcheck` runs the full proof, "only there" included.
MODE = os.environ.get("CONFORMANCE_SELF_VALIDATION", "full")
if MODE not in ("full", "area", "sample"):
    raise pytest.UsageError(f"CONFORMANCE_SELF_VALIDATION={MODE!r}: use full, area or sample")
if MODE == "sample":
    _first: dict[str, ModuleType] = {}
    for _module in sorted(ALL_BROKEN, key=lambda m: m.__name__):
        _first.setdefault(_module.AREA, _module)
    BROKEN = list(_first.values())


def test_tornado_passes_every_check(tornado_run, lacks_newer_feature) -> None:  # type: ignore[no-untyped-def]
    failures = [
        f"{t['id']}: {t['message']}"
        for t in tornado_run.tests()
        if t["outcome"] not in ("passed", "non-strict", "xfailed", "skipped")
    ]
    assert not failures, "the reference implementation must be green:\n" + "\n".join(failures)
    assert tornado_run.returncode == 0, tornado_run.output[-3000:]
    not_provided = [t["id"] for t in tornado_run.tests() if t["outcome"] == "skipped" and not lacks_newer_feature(t)]
    assert not not_provided, f"Tornado provides every part and feature, yet these were skipped: {not_provided}"


#: The verdicts that are a defect observed on the wire or through the API: a rule broken
#: (`Violation`, or a plain assert), or bytes an oracle could not parse. Not `timeout` (no
#: answer: proves only that nothing came) nor `error` (the check never ran).
OBSERVED = ("failed", "protocol")


def _tornado_deviations(path: str) -> ExpectationSet:
    """The expectations the kit ships for the installed Tornado (those that apply to its version)."""
    import tornado

    from conformance.expectations import load

    return ExpectationSet() if path == "none" else load(path).for_version(tornado.version)


#: Checks that wait on the implementation's own timers or time its parsing (seconds, where
#: a check takes milliseconds).
TIMED = (
    "http11.a_connection_in_use_outlives_idle_connection_timeout",
    "http11.idle_connection_is_closed_after_idle_connection_timeout",
    "http11.a_stalled_body_is_ended_by_body_timeout",
    "http11.parsing_time_grows_linearly",
    "websocket.fragmented_message_reassembly_time_grows_linearly",
)

#: Checks that cost tens of typical checks for a reason of their own design: a timer of the
#: check's that must elapse (the queued request of ``max_clients``, the quiet period after a
#: close, a connect timeout), a corpus or a burst sent whole. Each took 0.1 s or more
#: against Tornado in the benchmark's serial run (docs/performance.md), a typical check 6 ms.
SLOW = (
    "http11.client_queues_requests_beyond_max_clients",
    "http11.client_connect_timeout_ends_the_fetch_with_code_599",
    "http11.a_body_of_tiny_chunks_leaves_the_loop_to_other_callbacks",
    "websocket.no_ping_follows_the_servers_close_frame",
    "websocket.a_burst_of_messages_lets_other_callbacks_run_before_its_end",
    "websocket.ping_interval_is_kept_when_pongs_come_back",
    "cookies.current_user_comes_from_get_current_user_once_per_request",
    "coroutines.client_tls_stream_with_an_options_dict_verifies_the_certificate",
)


def _property_checks() -> set[str]:
    """Every property check of the shipped suites (dozens of generated examples each, and the
    first one of a run imports hypothesis): found by its declaration, so a new one is counted."""
    import conformance.suites as suites_pkg

    found = set()
    for area_info in pkgutil.iter_modules(suites_pkg.__path__):
        area = importlib.import_module(f"{suites_pkg.__name__}.{area_info.name}")
        for info in pkgutil.iter_modules(getattr(area, "__path__", [])):
            if not info.name.startswith("test_"):
                continue
            suite = importlib.import_module(f"{area.__name__}.{info.name}")
            for name, fn in vars(suite).items():
                if name.startswith("test_") and (hasattr(fn, "_conformance_property") or hasattr(fn, "hypothesis")):
                    found.add(f"{area_info.name}.{name[len('test_') :]}")
    return found


#: The long checks. In area and sample mode a broken implementation runs them only when it
#: declares one of their cases: every one is still proven able to fail, by the
#: implementations that target it, and Tornado passing them is proven by the whole-kit run;
#: only "no other defect trips them" is left to the full mode (`tox -e selfcheck`). Together
#: they were about a quarter of the time of a proof's checks.
LONG = (*TIMED, *SLOW, *sorted(_property_checks() - set(TIMED) - set(SLOW)))


def _skipped_long_checks(module: ModuleType) -> list[str]:
    """The LONG checks ``module`` does not name, as a ``-k`` exclusion (empty: none)."""
    named = (
        set(module.EXPECTED_FAILURES)
        | set(getattr(module, "CROSS_AREA", ()))
        | set(getattr(module, "MAY_ALSO_FAIL", ()))
    )
    skipped = [cid for cid in LONG if not any(n == cid or n.startswith(cid + "[") for n in named)]
    if not skipped:
        return []
    return ["-k", "not (" + " or ".join("test_" + cid.split(".", 1)[1] for cid in skipped) + ")"]


def _targeted_areas(module: ModuleType) -> set[str]:
    """The module's own area, and the areas of the checks it declares it fails."""
    declared = set(module.EXPECTED_FAILURES) | set(getattr(module, "CROSS_AREA", set()))
    return {module.AREA} | {cid.split(".", 1)[0] for cid in declared}


@pytest.mark.parametrize("module", BROKEN, ids=[m.__name__.rsplit(".", 1)[1] for m in BROKEN])
def test_broken_implementation_fails_exactly_its_declared_checks(kit, tornado_expectations, module: ModuleType) -> None:  # type: ignore[no-untyped-def]
    """The broken implementation fails exactly its EXPECTED_FAILURES, each with an observed
    violation, and nothing outside its area but its CROSS_AREA.

    A broken implementation is Tornado plus one defect, so it runs with Tornado's
    expectations: Tornado's own deviations show as expected failures, not as its defect.
    A module that names a check Tornado itself fails (a recorded deviation) cannot be judged
    that way, since its failure there would be counted `xfailed` whatever its defect. Such a
    module starts from a repaired behaviour: it fixes Tornado's departure on that check and
    brings its own defect (its docstring names both); it runs with ``--expectations=none``,
    so its named checks must fail outright, and the other checks Tornado's expectations list
    may fail there too (they are Tornado's, judged by test_tornado_passes_every_check). The
    proof then rests on the module's own code, and survives Tornado fixing its departure.

    Every expected failure must be an observed violation (verdict `failed` or `protocol`):
    a timeout or a setup error proves nothing about the rule. A defect that is a hang (the
    implementation stops answering) declares the checks that can only time out in
    ``HANGS``, a subset of EXPECTED_FAILURES; those may end in a timeout.
    """
    targeted = _targeted_areas(module)
    scope = ["-m", " or ".join(sorted(targeted))] if MODE in ("area", "sample") else []
    if MODE in ("area", "sample"):
        scope += _skipped_long_checks(module)
    if module.AREA == "scale":  # opt-in, and heavy: its own checks only, with a few hundred connections
        scope = ["-m", "scale", "--scale-connections=200"]
    deviations = _tornado_deviations(tornado_expectations)
    expected = module.EXPECTED_FAILURES
    repaired = {cid for cid in expected if deviations.match(cid)}
    run = kit(
        f"--impl={module.__name__}",
        f"--expectations={'none' if repaired else tornado_expectations}",
        *scope,
        forked=True,  # about five hundred runs that only read verdicts: from a warm interpreter
    )
    records = {t["id"]: t for t in run.tests()}
    failed = run.ids_with("failed")
    tornados_own = {cid for cid in failed - expected if deviations.match(cid)} if repaired else set()
    # A defect may show in another area only where the areas overlap by design (e.g. the
    # WebSocket lifecycle trace); such failures are declared one by one in CROSS_AREA.
    declared = getattr(module, "CROSS_AREA", set())
    outside = sorted(
        cid for cid in failed - tornados_own if not cid.startswith(module.AREA + ".") and cid not in declared
    )
    assert not outside, (
        f"{module.__name__} has a defect in the {module.AREA} area, yet checks of other areas fail: {outside}"
    )
    if MODE in ("area", "sample"):
        expected = {cid for cid in expected if cid.split(".", 1)[0] in targeted}
    missed = sorted(expected - failed)
    assert not missed, f"these checks did not catch the defect of {module.__name__}: {missed}\n{run.output[-4000:]}"
    hangs = getattr(module, "HANGS", set())
    assert hangs <= module.EXPECTED_FAILURES, f"{module.__name__}: HANGS names checks it does not expect to fail"
    unobserved = sorted(
        f"{cid}: {records[cid]['verdict']}: {records[cid]['message'][:200]}"
        for cid in expected - hangs
        if records[cid]["verdict"] not in OBSERVED
    )
    assert not unobserved, (
        f"{module.__name__}'s defect must show as a violation, not a timeout or a setup error "
        "(declare the checks of a hang in HANGS): " + "; ".join(unobserved)
    )
    unexpected = sorted(failed - expected - tornados_own - getattr(module, "MAY_ALSO_FAIL", set()))
    assert not unexpected, (
        f"{module.__name__} also fails {unexpected}; add them to its EXPECTED_FAILURES if the defect explains them"
    )


def test_every_check_is_caught_by_some_broken_implementation(tornado_run) -> None:  # type: ignore[no-untyped-def]
    """Every check id, every parametrised case, is named by a broken implementation: Tornado
    failing a check (a recorded deviation) does not count, since that proof would vanish the
    day Tornado fixes it, and says nothing of how the check fails (see the test above)."""
    caught: set[str] = set().union(*(m.EXPECTED_FAILURES for m in ALL_BROKEN))
    uncaught = sorted(set(tornado_run.outcomes()) - caught)
    assert not uncaught, (
        "every check must be able to fail, but no broken implementation in fixtures/broken fails these: "
        + ", ".join(uncaught)
    )


def test_every_long_check_names_a_check_of_the_kit(tornado_run) -> None:  # type: ignore[no-untyped-def]
    """LONG is matched by name (a ``-k`` exclusion): a renamed check must not leave a name
    that excludes nothing, nor one that also excludes a check it does not name."""
    collected = {cid.split("[", 1)[0] for cid in tornado_run.outcomes()}
    unknown = sorted(set(LONG) - collected)
    assert not unknown, f"LONG (tests/test_self_validation.py) names no check of the kit: {unknown}"
    names = {"test_" + cid.split(".", 1)[1] for cid in LONG}
    overlapping = sorted(
        cid for cid in collected - set(LONG) if any(name in "test_" + cid.split(".", 1)[1] for name in names)
    )
    assert not overlapping, f"a LONG name is part of these checks' names, so -k would skip them too: {overlapping}"


def test_every_area_has_a_broken_implementation() -> None:
    from conformance import AREAS

    assert {m.AREA for m in ALL_BROKEN} == set(AREAS)


# the parts machinery is pure Python: proven once, on the primary Python (a whole-kit run)
@pytest.mark.primary_python
def test_implementation_without_websocket_reports_those_checks_not_provided(
    kit, tornado_expectations, lacks_newer_feature
) -> None:  # type: ignore[no-untyped-def]
    run = kit("--impl=conformance.fixtures.impls.no_websocket", f"--expectations={tornado_expectations}")
    tests = run.tests()
    websocket = [t for t in tests if t["area"] == "websocket"]
    assert websocket, "no websocket checks were collected"
    wrong = [t["id"] for t in websocket if not (t["outcome"] == "skipped" and t["not_provided"])]
    assert not wrong, f"these websocket checks were not reported 'not provided': {wrong}"
    # Elsewhere, only checks that themselves need the websocket part may be not provided.
    others = [
        f"{t['id']}: {t['outcome']} {t['message']}"
        for t in tests
        if t["area"] != "websocket"
        and t["outcome"] not in ("passed", "non-strict", "xfailed")
        and not (t["not_provided"] and "'websocket'" in t["message"])
        and not lacks_newer_feature(t)
    ]

    assert not others, f"the other areas must be unaffected: {others}"
    assert run.returncode == 0
    assert run.results is not None and run.results["summary"]["websocket"]["not_provided"] == len(websocket)
