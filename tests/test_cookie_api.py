"""The cookies checks reach signed values through Tornado's documented API only.

Tornado documents signed values through ``RequestHandler.create_signed_value``,
``set_signed_cookie`` and ``get_signed_cookie`` (with ``max_age_days``, ``min_version``
and the ``cookie_secret``/``key_version`` settings); the module-level
``create_signed_value``/``decode_signed_value`` and their ``clock`` keyword are not
documented. A port without that keyword must still have every cookies check run
against it: a check that were *not provided* there would hide a defect (and Tornado's
own two recorded cookie deviations) from any port that lacks the hook.
"""

from __future__ import annotations

import pytest

from conformance.fixtures.impls import no_clock_keyword

NO_CLOCK = "conformance.fixtures.impls.no_clock_keyword"


def test_the_fixture_refuses_a_clock_keyword() -> None:
    # The premise of the test below: the implementation really has no clock hook.
    web = no_clock_keyword.web
    with pytest.raises(TypeError):
        web.create_signed_value("secret", "n", "v", clock=lambda: 0)  # type: ignore[call-arg]
    signed = web.create_signed_value("secret", "n", "v")
    with pytest.raises(TypeError):
        web.decode_signed_value("secret", "n", signed, clock=lambda: 0)  # type: ignore[call-arg]
    assert web.decode_signed_value("secret", "n", signed) == b"v"


def test_every_cookies_check_runs_without_a_clock_keyword(kit, tornado_expectations, lacks_newer_feature) -> None:  # type: ignore[no-untyped-def]
    run = kit(f"--impl={NO_CLOCK}", "-m", "cookies", f"--expectations={tornado_expectations}")
    tests = run.tests()
    assert len(tests) >= 70, f"only {len(tests)} cookies checks were collected\n{run.output[-3000:]}"
    wrong = [
        f"{t['id']}: {t['outcome']} {t['message'][:300]}"
        for t in tests
        if t["outcome"] not in ("passed", "xfailed") and not lacks_newer_feature(t)
    ]
    assert not wrong, "every cookies check must run (and pass, or fail as Tornado is recorded to):\n" + "\n".join(wrong)
    # Tornado's two recorded cookie deviations are observed through the documented API too
    # (with those the installed release has and 6.6 fixed, e.g. set_cookie's max_age on 6.5).
    import tornado

    from conformance.expectations import load

    deviations = load(tornado_expectations).for_version(tornado.version)
    xfailed = {t["id"] for t in tests if t["outcome"] == "xfailed"}
    assert {
        "cookies.signed_value_is_rejected[v1-value-under-key-rotation]",
        "cookies.every_single_byte_substitution_of_a_reference_value_is_rejected[v2-key-version]",
    } <= xfailed
    assert all(deviations.match(cid) is not None for cid in xfailed), xfailed
    assert run.returncode == 0, run.output[-3000:]
