"""Hypothesis over the wire: the first example that times out ends the property.

A property check sends dozens of generated exchanges. Against an implementation that
has stopped answering, each example would wait out the deadline, and hypothesis would
then spend hundreds more deadlines shrinking a failure that shrinking cannot explain.
`wire_property` turns the first `Timeout` into the check's verdict at once: the
remaining examples are skipped, nothing is shrunk, and the message names the example
that was waiting when the deadline passed.

`hypothesis_property` declares a property check lazily: its strategies are functions of
``hypothesis.strategies``, and the ``@given`` test is built only when the check runs.
Collecting the suites, and running every other check, never imports hypothesis (it costs
about a second at start-up); the first property check imports it, after the kit's
profile is registered and loaded (``conformance._profiles.ensure``).
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from .errors import Timeout

F = TypeVar("F", bound=Callable[..., Any])


def wire_property(test: F) -> F:
    """Decorate a ``@given`` test (put it above ``@given``) whose examples use the wire."""
    handle = getattr(test, "hypothesis", None)
    if handle is None or not hasattr(handle, "inner_test"):
        raise TypeError(f"@wire_property goes above @given; {test.__qualname__} is not a hypothesis test")
    timed_out: list[tuple[Timeout, dict[str, Any]]] = []
    inner = handle.inner_test

    @functools.wraps(inner)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if timed_out:
            return None  # the verdict is already known; spend no more deadlines
        try:
            return inner(*args, **kwargs)
        except Timeout as exc:
            timed_out.append((exc, kwargs))
            return None

    handle.inner_test = guarded

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> Any:
        timed_out.clear()
        result = test(*args, **kwargs)
        if timed_out:
            exc, example = timed_out[0]
            shown = ", ".join(f"{k}={v!r}" for k, v in example.items() if not _is_fixture(v))
            raise type(exc)(
                f"{exc}\n(generated example that was waiting when the deadline passed: {shown}; the property "
                f"stopped there, since an implementation that does not answer cannot be judged further)"
            ) from None
        return result

    return run  # type: ignore[return-value]


def _is_fixture(value: Any) -> bool:
    return type(value).__module__.startswith(("conformance.", "_pytest", "pytest"))


#: What a strategy is built from: a function of the ``hypothesis.strategies`` module.
StrategyOf = Callable[[Any], Any]


@dataclass(frozen=True)
class _Property:
    test: Callable[..., Any]
    given: Mapping[str, StrategyOf]
    seed: int | None
    examples: Sequence[Mapping[str, Any]]
    wire: bool
    ci_max_examples: int | None

    def build(self, config: Any = None) -> Callable[..., Any]:
        """The ``@given`` test, with the settings of the profile loaded now."""
        from . import _profiles

        _profiles.ensure(config)
        from hypothesis import HealthCheck, example, given, seed, settings
        from hypothesis import strategies as st

        built: Any = given(**{name: strategy(st) for name, strategy in self.given.items()})(self.test)
        for values in reversed(self.examples):  # the last one applied is tried first
            built = example(**values)(built)
        if self.seed is not None:
            built = seed(self.seed)(built)
        overrides: dict[str, Any] = {}
        profile = settings.get_current_profile_name()
        if self.ci_max_examples is not None and (profile == "ci" or profile.startswith("ci-with-")):
            overrides["max_examples"] = min(self.ci_max_examples, settings().max_examples)
        built = settings(
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
            deadline=None,
            **overrides,
        )(built)
        return wire_property(built) if self.wire else built


def hypothesis_property(
    given: Mapping[str, StrategyOf],
    *,
    seed: int | None = None,
    examples: Sequence[Mapping[str, Any]] = (),
    wire: bool = False,
    ci_max_examples: int | None = None,
) -> Callable[[F], F]:
    """A hypothesis property check whose ``@given`` is built when it runs, not at import.

    ``given`` maps each generated argument to a function of ``hypothesis.strategies``
    returning its strategy (``{"cuts": lambda st: st.lists(st.integers(0, 99))}``); the
    test's other arguments are fixtures. ``seed`` pins the examples (``@seed``),
    ``examples`` are tried first, in order (``@example``, one dict of arguments each),
    ``wire=True`` puts the property under `wire_property`, and ``ci_max_examples`` caps
    the examples under the ``ci`` profile (``thorough`` keeps its own count). The body
    imports from hypothesis what it calls (``assume``) inside the function.
    """

    def decorate(test: F) -> F:
        params = inspect.signature(test).parameters
        unknown = [name for name in given if name not in params]
        if unknown:
            raise TypeError(f"{test.__qualname__} takes no argument {', '.join(unknown)} to generate")
        spec = _Property(test, dict(given), seed, tuple(examples), wire, ci_max_examples)

        @functools.wraps(test)
        def check(**fixtures: Any) -> Any:
            # Called as is only outside the kit's pytest hook (which swaps in the built test).
            return spec.build()(**fixtures)

        check.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [p for name, p in params.items() if name not in given]
        )
        check._conformance_property = spec  # type: ignore[attr-defined]
        return check  # type: ignore[return-value]

    return decorate


def is_property(item: pytest.Item) -> bool:
    """Whether ``item`` is a property check (a Function, or a check the manifest lists)."""
    if isinstance(item, pytest.Function):
        return isinstance(getattr(item.obj, "_conformance_property", None), _Property)
    return bool(getattr(item, "is_property", False))


@pytest.hookimpl(trylast=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Swap a lazy property check for its ``@given`` test once its fixtures are set up,
    so that hypothesis's own pytest plugin sees a hypothesis test when it runs."""
    if not isinstance(item, pytest.Function):
        return
    spec = getattr(item.obj, "_conformance_property", None)
    if isinstance(spec, _Property):
        item.obj = spec.build(item.config)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Leave hypothesis's own pytest plugin out of a kit run where no property check runs
    and nothing imported hypothesis: that plugin would import it in its terminal summary
    (about 0.4 s), with nothing to report."""
    if "hypothesis" in sys.modules:
        return
    from .run import Run

    config = session.config
    if not Run.of(config).active:
        return  # someone else's test run: not the kit's to change
    for item in () if config.option.collectonly else session.items:
        if is_property(item):
            return
    plugin = config.pluginmanager.get_plugin("hypothesispytest")
    if plugin is not None:
        config.pluginmanager.unregister(plugin)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The same in xdist's controller, which collects nothing (so the hook above never ran)
    and imported nothing of hypothesis's: its plugin's summary would import hypothesis at
    the very end of the run (0.3 s after the last check), to print only what the reports
    carry. When no statistics were asked for and no report carries failing examples, it
    has nothing to print, and is left out."""
    config = session.config
    plugin = config.pluginmanager.get_plugin("hypothesispytest")
    if plugin is None or "hypothesis" in sys.modules or hasattr(config, "workerinput"):
        return
    from .run import Run

    if not Run.of(config).active or config.getoption("hypothesis_show_statistics", False):
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    # What it would print: the statistics the reports carry (only when asked for, above),
    # and a patch of the failing examples they carry.
    for reports in reporter.stats.values():
        for report in reports:
            if getattr(report, "__dict__", {}).get("_hypothesis_failing_examples"):
                return
    config.pluginmanager.unregister(plugin)
