"""Hypothesis profiles for the property and differential checks.

``ci`` (the default when the kit runs) keeps every property check to a few seconds and
is derandomised, so a CI verdict is reproducible; ``thorough`` is for long fuzzing
sessions: ``pytest --impl=X --hypothesis-profile=thorough``.
"""

from __future__ import annotations

PROFILES = ("ci", "thorough")


def register() -> None:
    from hypothesis import HealthCheck, settings

    common = dict(
        deadline=None,  # wire round trips vary on a loaded machine; the kit has its own deadlines
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,  # leave no .hypothesis/ directory in the user's project
    )
    settings.register_profile("ci", max_examples=25, derandomize=True, **common)  # type: ignore[arg-type]
    settings.register_profile("thorough", max_examples=2000, **common)  # type: ignore[arg-type]


def load_default() -> None:
    from hypothesis import settings

    settings.load_profile("ci")
