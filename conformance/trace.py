"""A thread-safe trace of hook calls, recorded on the loop thread and read by checks."""

from __future__ import annotations

import threading
from collections.abc import Sequence


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
        self._lock = threading.Lock()
        self._events: list[str] = []

    def add(self, event: str) -> None:
        with self._lock:
            self._events.append(event)

    @property
    def events(self) -> list[str]:
        with self._lock:
            return list(self._events)

    def assert_equal(self, expected: Sequence[str], why: str = "") -> None:
        """Fail with the expected and observed traces side by side, the first difference marked."""
        __tracebackhide__ = True
        observed = self.events
        if observed == list(expected):
            return
        raise AssertionError(f"{why}\n{side_by_side(list(expected), observed)}".strip())


def side_by_side(expected: list[str], observed: list[str]) -> str:
    width = max([len("expected")] + [len(e) for e in expected]) + 2
    lines = [f"    {'expected'.ljust(width)}observed"]
    marked = False
    for i in range(max(len(expected), len(observed))):
        left = expected[i] if i < len(expected) else "-"
        right = observed[i] if i < len(observed) else "-"
        marker = "  "
        if left != right and not marked:
            marker, marked = "> ", True
        lines.append(f"  {marker}{left.ljust(width)}{right}")
    return "\n".join(lines)
