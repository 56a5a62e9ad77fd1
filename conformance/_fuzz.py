"""Hypothesis over the wire: the first example that times out ends the property.

A property check sends dozens of generated exchanges. Against an implementation that
has stopped answering, each example would wait out the deadline, and hypothesis would
then spend hundreds more deadlines shrinking a failure that shrinking cannot explain.
`wire_property` turns the first `Timeout` into the check's verdict at once: the
remaining examples are skipped, nothing is shrunk, and the message names the example
that was waiting when the deadline passed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

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
