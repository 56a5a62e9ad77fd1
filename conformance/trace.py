"""A thread-safe trace of hook calls, recorded on the loop thread and read by checks."""

from __future__ import annotations

import difflib
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

    def wait_for_event(self, event: Any, timeout: float, what: str) -> list[Any]:
        """Block until ``event`` itself is recorded (whatever else was recorded around it).

        Prefer it to `wait_for` when an implementation may record more or fewer events
        before it: a count would then time out, or return early, naming the wrong step.

        Raises:
            Timeout: ``event`` not recorded within ``timeout`` seconds.
        """
        __tracebackhide__ = True
        with self._cond:
            if self._cond.wait_for(lambda: event in self._events, timeout):
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
    """Two traces in columns, aligned as a diff: a missing or extra event leaves a gap on
    one side (``-``) instead of shifting every later row; differing rows are marked ``>``."""
    expected_text = [str(e) for e in expected]
    observed_text = [str(o) for o in observed]
    rows: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=expected_text, b=observed_text, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        left, right = expected_text[i1:i2], observed_text[j1:j2]
        if tag == "equal" or tag == "replace":
            rows += list(zip(left, right))
            # a replacement of unequal length: the rest stands alone on its side
            rows += [(e, _GAP) for e in left[len(right) :]] + [(_GAP, o) for o in right[len(left) :]]
        elif tag == "delete":
            rows += [(e, _GAP) for e in left]
        else:
            rows += [(_GAP, o) for o in right]
    width = max([len("expected")] + [len(e) for e in expected_text]) + 2
    lines = [f"    {'expected'.ljust(width)}observed"]
    for shown_left, shown_right in rows:
        marker = "> " if shown_left != shown_right else "  "
        lines.append(f"  {marker}{shown_left.ljust(width)}{shown_right}")
    return "\n".join(lines)


_GAP = "-"
