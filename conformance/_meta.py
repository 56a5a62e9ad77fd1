"""Check metadata: the area, the reference and the level every check declares.

Rule: a check is a pytest test function in ``suites/`` that carries exactly one
area marker and one ``conformance`` mark (reference + level). The plugin refuses
to run a suite where a check lacks either (see ``validate_item``), so a verdict
can always be traced back to the sentence in an RFC or in Tornado's documentation
that it enforces.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

import pytest

#: The areas, in the order the summary prints them. Each is a marker. ``scale`` is opt-in:
#: its checks run only when ``-m`` selects them (see ``OPT_IN_AREAS``).
AREAS: dict[str, str] = {
    "http11": "HTTP/1.1 server and client behaviour, judged by h11 (RFC 9110/9112)",
    "websocket": "WebSocket handler and client, with wsproto as the peer (RFC 6455/7692)",
    "coroutines": "Future, coroutine and IOLoop semantics (Tornado docs)",
    "lifecycle": "RequestHandler hook order and API (Tornado docs)",
    "cookies": "cookie signing, XSRF and authentication (Tornado docs)",
    "scale": "C10K: thousands of idle keep-alive and WebSocket connections held at once (opt-in: -m scale)",
}

#: Areas left out of a run unless the ``-m`` expression asks for them: they are heavy.
OPT_IN_AREAS = ("scale",)


class Level(str, enum.Enum):
    """How binding the rule a check enforces is."""

    MUST = "MUST"  #: an absolute requirement of the RFC (or of Tornado's documented API)
    SHOULD = "SHOULD"  #: a recommendation of the RFC
    TORNADO = "TORNADO"  #: what Tornado documents or exhibits where the RFC leaves freedom

    def __str__(self) -> str:
        return self.value


LEVEL_ORDER = {Level.MUST.value: 0, Level.SHOULD.value: 1, Level.TORNADO.value: 2}


def check(reference: str, level: Level | str) -> pytest.MarkDecorator:
    """Declare the rule a check enforces.

    Args:
        reference: where the rule is written, e.g. ``"RFC 9112 §6.3"`` or
            ``"Tornado docs: RequestHandler.on_finish"``.
        level: ``MUST``, ``SHOULD`` or ``TORNADO``.

    Returns:
        A pytest mark; use it as a decorator, or in ``pytest.param(marks=...)``
        to give one parametrized case its own level.

    Raises:
        ValueError: for an empty reference or an unknown level.

    Example::

        @check("RFC 9112 §9.3", Level.MUST)
        async def test_http11_connections_are_persistent_by_default(http): ...
    """
    if not isinstance(reference, str) or not reference.strip():
        raise ValueError(f"check() needs a reference such as 'RFC 9112 §6.3', got {reference!r}")
    value = level.value if isinstance(level, Level) else str(level)
    if value not in LEVEL_ORDER:
        raise ValueError(f"check() level must be one of MUST, SHOULD, TORNADO, got {level!r}")
    return pytest.mark.conformance(reference=reference, level=value)


def requires(*parts: str, features: Iterable[str] = ()) -> pytest.MarkDecorator:
    """Declare the API parts (``web``, ``websocket``...) and features a check needs.

    A check whose part or feature the implementation does not provide is skipped
    and counted as *not provided*.
    """
    return pytest.mark.conformance_requires(parts=tuple(parts), features=tuple(features))


NOT_PROVIDED = "not provided"


def not_provided(reason: str) -> None:
    """Skip the current check because the implementation lacks what it needs.

    The report counts it as *not provided* (never as passed). Use it for what
    ``requires(...)`` cannot express, e.g. a keyword argument an API lacks.
    """
    __tracebackhide__ = True
    pytest.skip(f"{NOT_PROVIDED}: {reason}")


def check_id(item: pytest.Item) -> str:
    """The stable id of a check: ``<area>.<function name without test_>[<param id>]``.

    It does not depend on where the suites are installed, so expectations files
    written against a checkout hold for a pip-installed kit and the other way round.
    """
    area = area_of(item) or "unknown"
    name = getattr(item, "originalname", None) or item.name.split("[", 1)[0]
    if name.startswith("test_"):
        name = name[len("test_") :]
    callspec = _case(item)
    suffix = f"[{callspec.id}]" if callspec is not None else ""
    return f"{area}.{name}{suffix}"


#: Per item: the area markers it carries, in `AREAS` order (read once: every report,
#: selection and expectation asks for the area, and walking the markers is not cheap).
_AREA_MARKERS = pytest.StashKey[tuple[str, ...]]()
#: Per item: what `describe` returns, computed once (its parts never change after collection).
_DESCRIPTION = pytest.StashKey[dict[str, Any]]()
#: What an item listed by the manifest hands to its real Function (conformance._manifest).
STASH_KEYS: tuple[pytest.StashKey[Any], ...] = (_AREA_MARKERS, _DESCRIPTION)


def _case(item: pytest.Item) -> Any:
    """The parametrized case of ``item`` (``id``, ``marks``), or None: a Function's
    ``callspec``, or what the manifest lists for a check it has not imported yet."""
    return getattr(item, "callspec", None) or getattr(item, "check_case", None)


def _area_markers(item: pytest.Item) -> tuple[str, ...]:
    found = item.stash.get(_AREA_MARKERS, None)
    if found is None:
        names = {mark.name for mark in item.iter_markers()}
        found = item.stash[_AREA_MARKERS] = tuple(name for name in AREAS if name in names)
    return found


def area_of(item: pytest.Item) -> str | None:
    found = _area_markers(item)
    return found[0] if len(found) == 1 else None


def check_mark(item: pytest.Item) -> pytest.Mark | None:
    """The `check` declaration of ``item``: a parametrized case's own (given in
    ``pytest.param(marks=check(...))``) before the function's, so one case can carry the
    level of its own rule."""
    for mark in getattr(_case(item), "marks", ()) or ():
        if mark.name == "conformance":
            return mark
    return item.get_closest_marker("conformance")


def describe(item: pytest.Item) -> dict[str, Any]:
    """The metadata of a check, as the report and the JSON use it (a new dict each call)."""
    found = item.stash.get(_DESCRIPTION, None)
    if found is None:
        mark = check_mark(item)
        found = item.stash[_DESCRIPTION] = {
            "id": check_id(item),
            "area": area_of(item),
            "reference": mark.kwargs.get("reference") if mark else None,
            "level": mark.kwargs.get("level") if mark else None,
        }
    return dict(found)


def validate_item(item: pytest.Item) -> str | None:
    """Say what is wrong with a check's metadata, or None when it is complete."""
    areas = _area_markers(item)
    if len(areas) != 1:
        return f"carries {len(areas)} area markers ({', '.join(areas) or 'none'}); exactly one of {', '.join(AREAS)} is required"
    mark = check_mark(item)
    if mark is None or not mark.kwargs.get("reference") or mark.kwargs.get("level") not in LEVEL_ORDER:
        return "has no @check(reference, level) declaration; every check must cite its reference and level"
    return None


def shipped_check_names() -> set[str]:
    """``area.name`` of every check function in the shipped suites, read from their source
    (no import, no collection): what an expectations entry may name even when the run
    collected only part of the suites."""
    import re
    from pathlib import Path

    import conformance.suites

    root = Path(conformance.suites.__file__).parent
    names: set[str] = set()
    pattern = re.compile(r"^(?:async )?def test_(\w+)", re.MULTILINE)
    for path in root.glob("*/test_*.py"):
        area = path.parent.name
        names.update(f"{area}.{name}" for name in pattern.findall(path.read_text(encoding="utf-8")))
    return names
