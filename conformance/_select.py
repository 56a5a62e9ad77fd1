"""Selecting checks by what they are: ``--check ID``, ``--level``, ``--reference``, ``--advisory``.

Each option narrows the run (pytest's ``-m`` and ``-k`` still apply on top); several
values of one option are alternatives. A value that selects nothing among the collected
checks is a usage error naming it (with the nearest id for ``--check``): a typo must not
read as a green run.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable

import pytest

from ._meta import AREAS, LEVEL_ORDER, describe
from .expectations import _compile


def validate(config: pytest.Config) -> None:
    """What can be judged before collection: a ``--level`` that is no level."""
    for level in _values(config, "conformance_level"):
        if level.upper() not in LEVEL_ORDER:
            raise pytest.UsageError(f"--level={level}: not a level; use one of {', '.join(LEVEL_ORDER)}")


def _values(config: pytest.Config, dest: str) -> list[str]:
    values: list[str] = []
    for value in config.getoption(dest, None) or ():
        values += [v.strip() for v in value.split(",")] if dest == "conformance_level" else [value]
    return [v for v in values if v]


def _references(item: pytest.Item) -> list[str]:
    """The parts of a check's reference: ``"RFC 9110 §8.4; Tornado docs: X"`` has two."""
    reference = describe(item)["reference"] or ""
    return [part.strip() for part in re.split(r";\s*", reference) if part.strip()]


def _advisories(item: pytest.Item) -> str:
    """Where a check names its advisory: its reference, its docstring, the expectation entry."""
    texts = [describe(item)["reference"] or "", getattr(getattr(item, "function", None), "__doc__", None) or ""]
    texts += [
        str(meta.get("advisory", ""))
        for name, meta in item.user_properties
        if name == "conformance" and isinstance(meta, dict)
    ]
    return "\n".join(texts)


def select(config: pytest.Config, checks: list[pytest.Item]) -> list[pytest.Item]:
    """The checks that every given selection option keeps."""
    kept = checks
    ids = _values(config, "conformance_check")
    if ids:
        kept = _narrow(kept, ids, "--check", lambda item, value: bool(_compile(value).match(describe(item)["id"])))
    levels = _values(config, "conformance_level")
    if levels:
        wanted = {level.upper() for level in levels}
        kept = _narrow(kept, sorted(wanted), "--level", lambda item, value: describe(item)["level"] == value)
    references = _values(config, "conformance_reference")
    if references:
        kept = _narrow(
            kept,
            references,
            "--reference",
            lambda item, value: any(part.casefold().startswith(value.casefold()) for part in _references(item)),
        )
    advisories = _values(config, "conformance_advisory")
    if advisories:
        kept = _narrow(
            kept, advisories, "--advisory", lambda item, value: value.casefold() in _advisories(item).casefold()
        )
    return kept


def _narrow(
    items: list[pytest.Item], values: list[str], option: str, matches: Callable[[pytest.Item, str], bool]
) -> list[pytest.Item]:
    for value in values:
        if not any(matches(item, value) for item in items):
            hint = ""
            if option == "--check":
                names = sorted({describe(item)["id"].split("[", 1)[0] for item in items})
                close = [name for name in names if name.startswith(value)] or difflib.get_close_matches(
                    value, names, n=1
                )
                hint = f"; did you mean {close[0]}?" if close else ""
            raise pytest.UsageError(f"{option}={value}: selects no collected check{hint}")
    return [item for item in items if any(matches(item, value) for value in values)]


def marker_names(markexpr: str) -> list[str]:
    """Every marker name in a ``-m`` expression (evaluating it would stop at ``and``/``or``)."""
    import re

    names = re.findall(r"[^\s()]+", re.sub(r"\([^()]*\)", " ", markexpr))
    return [name for name in names if name not in ("and", "or", "not")]


def unselected_areas(config: pytest.Config) -> frozenset[str]:
    """The areas of the shipped suites that the ``-m`` expression cannot select.

    Each area is one folder whose checks carry that area's marker and no other area's
    (tests/test_meta.py holds the suites to it). So when every name in the expression is
    an area, a folder whose area alone makes the expression false holds nothing it selects
    and is not collected: ``-m cookies`` imports the cookie checks only. Any other name in
    the expression (a marker of the project) keeps every folder; pytest's own selection
    decides as always.
    """
    markexpr = config.option.markexpr
    if not markexpr:
        return frozenset()
    from _pytest.mark.expression import Expression

    try:
        expression = Expression.compile(markexpr)
    except Exception:  # pytest reports a malformed expression itself
        return frozenset()
    names = marker_names(markexpr)
    if not names or any(name not in AREAS for name in names):
        return frozenset()

    def selects(area: str) -> bool:
        return expression.evaluate(lambda name, /, **kwargs: name == area and not kwargs)

    return frozenset(area for area in AREAS if not selects(area))
