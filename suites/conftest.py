"""Settings shared by every suite: hypothesis profiles.

``ci`` (the default) keeps property checks to a few seconds; ``thorough`` is for long
fuzzing runs: ``pytest --impl=X --hypothesis-profile=thorough``.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

_common = dict(
    deadline=None,  # wire round trips vary on a loaded machine; deadlines are the kit's own
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,  # no .hypothesis/ directory in the user's project
)
settings.register_profile("ci", max_examples=25, derandomize=True, **_common)
settings.register_profile("thorough", max_examples=2000, **_common)
settings.load_profile("ci")
