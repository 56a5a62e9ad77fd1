"""Shared pieces of the lifecycle checks: the three ways to write a hook, and response summaries.

Rule: a hook records what it did into a `conformance.Trace` (from the loop thread); the
check compares the whole trace with the documented one, so a failure shows the expected
and the observed order side by side. Nothing here sleeps: a coroutine hook suspends on
``gen.sleep(0)``, a real suspension that lets the loop run other callbacks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conformance import Implementation, requires

#: How a hook is written: a plain method, ``async def``, or ``@gen.coroutine``.
STYLES = ("sync", "async-def", "gen-coroutine")

#: The parts a coroutine hook needs (``gen`` for ``gen.sleep`` and ``gen.coroutine``).
COROUTINE_PARTS = requires("web", "httpserver", "gen")


def styled(impl: Implementation, style: str, body: Callable[..., Any]) -> Callable[..., Any]:
    """A handler method in ``style`` that runs ``body(self, *args)``.

    The coroutine styles suspend once (``gen.sleep(0)``) before running ``body``, so what
    ``body`` records lands in the trace only if the framework really awaits the method.
    """
    if style == "sync":
        return body
    gen: Any = impl.part("gen")
    if style == "async-def":

        async def native(self: Any, *args: Any, **kwargs: Any) -> Any:
            await gen.sleep(0)
            return body(self, *args, **kwargs)

        return native
    if style == "gen-coroutine":

        @gen.coroutine
        def decorated(self: Any, *args: Any, **kwargs: Any) -> Any:
            yield gen.sleep(0)
            return body(self, *args, **kwargs)

        return decorated
    raise ValueError(f"unknown hook style {style!r}; use one of {', '.join(STYLES)}")


def style_params(*styles: str) -> list[Any]:
    """``pytest.param`` per style, the coroutine ones marked as needing ``gen``."""
    return [pytest.param(s, id=s, marks=() if s == "sync" else COROUTINE_PARTS) for s in styles]


def summary(response: Any, *headers: str) -> str:
    """``200 OK, body b'...'`` plus the named headers: one row of an observed trace."""
    parts = [f"{response.status} {response.reason}"]
    for name in headers:
        values = response.header_list(name)
        parts.append(f"{name}: {' | '.join(values) if values else '(absent)'}")
    parts.append(f"body {response.body[:120]!r}")
    return ", ".join(parts)
