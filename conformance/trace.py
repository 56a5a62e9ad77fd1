"""A thread-safe trace of hook calls, recorded on the loop thread and read by checks."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from .errors import Timeout


class Trace:
    """Handlers append what happened; the check compares it with the documented order.

    Example::

        trace = Trace()
        class H(web.RequestHandler):
            def prepare(self): trace.add("prepare")
        ...
        trace.assert_equal(["initialize", "prepare", "get", "on_finish"])
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._events: list[Any] = []

    def add(self, event: Any) -> None:
        with self._cond:
            self._events.append(event)
            self._cond.notify_all()

    @property
    def events(self) -> list[Any]:
        with self._cond:
            return list(self._events)

    def wait_for(self, count: int, timeout: float, what: str) -> list[Any]:
        """Block until ``count`` events are recorded; return them.

        It blocks the calling thread, so call it once the client has nothing left to do
        (the implementation must not need the client to make progress).

        Raises:
            Timeout: fewer than ``count`` events within ``timeout`` seconds; ``what``
                completes "the implementation did not ...".
        """
        __tracebackhide__ = True
        with self._cond:
            if self._cond.wait_for(lambda: len(self._events) >= count, timeout):
                return list(self._events)
            recorded = list(self._events)
        raise Timeout(
            f"the implementation did not {what} within {timeout:g}s (--conformance-timeout); recorded so far: {recorded!r}"
        )

    def assert_equal(self, expected: Sequence[Any], why: str = "") -> None:
        """Fail with the expected and observed traces side by side, the first difference marked."""
        __tracebackhide__ = True
        observed = self.events
        if observed == list(expected):
            return
        raise AssertionError(f"{why}\n{side_by_side(list(expected), observed)}".strip())


def side_by_side(expected: list[Any], observed: list[Any]) -> str:
    """Two traces in columns, the first differing row marked with ``>``."""
    width = max([len("expected")] + [len(str(e)) for e in expected]) + 2
    lines = [f"    {'expected'.ljust(width)}observed"]
    marked = False
    for i in range(max(len(expected), len(observed))):
        left = str(expected[i]) if i < len(expected) else "-"
        right = str(observed[i]) if i < len(observed) else "-"
        marker = "  "
        if left != right and not marked:
            marker, marked = "> ", True
        lines.append(f"  {marker}{left.ljust(width)}{right}")
    return "\n".join(lines)
