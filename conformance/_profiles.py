"""Hypothesis profiles for the property and differential checks.

``ci`` (the default when the kit runs) keeps every property check to a few seconds and
is derandomised, so a CI verdict is reproducible; ``thorough`` is for long fuzzing
sessions: ``pytest --impl=X --hypothesis-profile=thorough``.

Hypothesis is imported only when it is needed: when the first property check runs
(`ensure`, called by ``conformance._fuzz`` as it builds the check), or at start-up when
a ``--hypothesis-*`` option is given (then hypothesis's own pytest plugin imports it in
its ``pytest_configure`` anyway, and the kit chooses its profile first: `configure`).
"""

from __future__ import annotations

import os
from typing import Any

PROFILES = ("ci", "thorough")

#: The options of hypothesis's pytest plugin (their ``dest``); any of them makes that
#: plugin import hypothesis and load a profile in its ``pytest_configure``.
HYPOTHESIS_OPTIONS = (
    "hypothesis_profile",
    "hypothesis_verbosity",
    "hypothesis_show_statistics",
    "hypothesis_seed",
    "hypothesis_explain",
)

_registered = False


def _storage_outside_the_project() -> None:
    """Even with no example database, hypothesis keeps caches (the constants it reads from
    local modules, its Unicode tables) under ``./.hypothesis/``: in the user's project, which
    the kit leaves untouched. Unless the user chose a place for them
    (``HYPOTHESIS_STORAGE_DIRECTORY``), they go to the user's cache directory instead
    (``$XDG_CACHE_HOME`` or ``~/.cache``, then ``tornado-conformance/hypothesis``), where
    later runs find them. Hypothesis reads the variable when it first touches its storage."""
    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        return
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = os.path.join(cache, "tornado-conformance", "hypothesis")


def register() -> None:
    """Register the kit's profiles with hypothesis (once per process)."""
    global _registered
    if _registered:
        return
    _storage_outside_the_project()
    from hypothesis import HealthCheck, settings

    common = dict(
        deadline=None,  # wire round trips vary on a loaded machine; the kit has its own deadlines
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,  # no example database (nor, `_storage_outside_the_project`, a .hypothesis/ directory)
        # One verdict per check: the first failing example's, not a group of several
        # (whose kind, failed or non-strict, would be no single example's).
        report_multiple_bugs=False,
    )
    settings.register_profile("ci", max_examples=25, derandomize=True, **common)  # type: ignore[arg-type]
    settings.register_profile("thorough", max_examples=2000, **common)  # type: ignore[arg-type]
    _registered = True


def load_default() -> None:
    from hypothesis import settings

    settings.load_profile("ci")


def hypothesis_options(config: Any) -> bool:
    """Whether the command line gives any ``--hypothesis-*`` option."""
    option = getattr(config, "option", None)
    return any(getattr(option, name, None) for name in HYPOTHESIS_OPTIONS)


def configure(config: Any) -> None:
    """At the kit's activation (in ``pytest_configure``, before hypothesis's own): when a
    ``--hypothesis-*`` option is given, hypothesis is about to be imported anyway, so the
    profiles are registered and ``ci`` chosen now (unless ``--hypothesis-profile`` names
    one), and options such as ``--hypothesis-verbosity`` build on it. Otherwise nothing
    happens: `ensure` does it when a property check first runs."""
    if hypothesis_options(config):
        register()
        if not getattr(config.option, "hypothesis_profile", None):
            load_default()


def ensure(config: Any = None) -> None:
    """Before a property check is built: the profiles exist, and ``ci`` is loaded unless a
    profile was chosen (on the command line, or by the user's own code)."""
    register()
    if config is not None and hypothesis_options(config):
        return  # chosen at configuration (`configure`, then hypothesis's plugin)
    from hypothesis import settings

    if settings.get_current_profile_name() == "default":
        load_default()
