"""The failure report of a verdict, written without pytest's source analysis.

pytest's ``--tb=short`` report (the kit's default style) shows, for each frame, the first
line of the statement that raised; to find the statement it parses the frame's whole
module into a syntax tree, once per failure. A suite module of a thousand lines takes
about 10 ms, so Tornado's three dozen expected failures cost half a second of a run, and
a broken implementation's run far more. A verdict (`conformance.Violation` and its kinds)
is reported here in the same layout from the frames and `linecache` alone; every other
exception, and every other ``--tb`` style, ``--showlocals`` or ``--full-trace``, keeps
pytest's own report.
"""

from __future__ import annotations

import linecache
import os
from types import TracebackType
from typing import Any, Callable

import pytest


def install(item: pytest.Function) -> None:
    """Make ``item`` report its verdicts with `short_report` (its own method otherwise)."""
    pytest_repr: Callable[[pytest.ExceptionInfo[BaseException]], Any] = item.repr_failure

    def repr_failure(excinfo: pytest.ExceptionInfo[BaseException]) -> Any:
        text = short_report(item, excinfo)
        return pytest_repr(excinfo) if text is None else text

    # An instance attribute: pytest calls ``item.repr_failure(excinfo)`` for the call phase.
    setattr(item, "repr_failure", repr_failure)  # noqa: B010 - assigning to a method


def short_report(item: pytest.Function, excinfo: pytest.ExceptionInfo[BaseException]) -> str | None:
    """``--tb=short``'s report of a verdict raised by ``item``, or None to leave it to pytest."""
    from .errors import Violation

    config = item.config
    if (
        config.getoption("tbstyle", "auto") != "short"
        or config.getoption("showlocals", False)
        or config.getoption("fulltrace", False)
        or not isinstance(excinfo.value, Violation)
    ):
        return None
    frames = _check_frames(excinfo, getattr(item.obj, "__code__", None))
    if not frames:
        return None
    root = str(config.invocation_params.dir)
    lines: list[str] = []
    for tb in frames:
        code = tb.tb_frame.f_code
        path = code.co_filename
        shown = os.path.relpath(path, root) if path.startswith(root + os.sep) else path
        lines.append(f"{shown}:{tb.tb_lineno}: in {code.co_name}")
        source = linecache.getline(path, tb.tb_lineno).strip()
        if source:
            lines.append(f"    {source}")
    exc = excinfo.value
    kind = type(exc)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    message = str(exc).splitlines() or [""]
    lines.append(f"E   {name}: {message[0]}".rstrip())
    lines.extend(f"E   {line}".rstrip() for line in message[1:])
    return "\n".join(lines)


def _check_frames(excinfo: pytest.ExceptionInfo[BaseException], check_code: Any) -> list[TracebackType]:
    """The frames from the check's own function down to the raise, hidden ones left out
    (``__tracebackhide__``, as pytest does); empty when the check's frame is not there."""
    tb: TracebackType | None = excinfo.tb
    while tb is not None and tb.tb_frame.f_code is not check_code:
        tb = tb.tb_next
    frames: list[TracebackType] = []
    while tb is not None:
        hide = tb.tb_frame.f_locals.get("__tracebackhide__", False)
        if not (hide(excinfo) if callable(hide) else hide):
            frames.append(tb)
        tb = tb.tb_next
    return frames
