"""Expectations: an implementation's known deviations, as data.

File format (TOML), keyed by stable check ids (see ``conformance._meta.check_id``)::

    # tornado-6.6.toml
    [checks."http11.rejects_content_length_with_plus_sign"]
    reason = "Tornado accepts '+5' as a Content-Length"   # required
    reference = "RFC 9112 §6.3"                            # optional
    fixed_in = "6.7"                                       # optional

A listed check that fails becomes a strict expected failure; a listed check that
passes fails the run as *stale*, so expectations never rot (web-platform-tests does
the same).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 in tox
    import tomli as tomllib

_ALLOWED_KEYS = {"reason", "reference", "fixed_in", "advisory"}


class ExpectationsError(Exception):
    """The expectations file is malformed (a usage error)."""


@dataclass(frozen=True)
class Expectation:
    check_id: str
    reason: str
    reference: str | None = None
    line: int | None = None


def _line_of(text: str, check_id: str) -> int | None:
    pattern = re.compile(r"^[ \t]*\[\s*checks\s*\.\s*[\"']" + re.escape(check_id) + r"[\"']\s*\]", re.M)
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def load(path: str | Path) -> dict[str, Expectation]:
    """Read an expectations file.

    Raises:
        ExpectationsError: with a one-line message naming the file and line.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ExpectationsError(f"--expectations={path}: cannot read the file ({exc.strerror})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ExpectationsError(f"--expectations={path}: not valid TOML: {exc}") from None
    extra = sorted(set(data) - {"checks"})
    if extra:
        raise ExpectationsError(
            f"--expectations={path}: unknown top-level key {extra[0]!r}; entries go in tables named "
            f'[checks."<check id>"] with a reason = "..." line'
        )
    checks = data.get("checks", {})
    if not isinstance(checks, dict):
        raise ExpectationsError(f'--expectations={path}: "checks" must be a table of [checks."<check id>"] entries')
    result: dict[str, Expectation] = {}
    for check_id, entry in checks.items():
        line = _line_of(text, check_id)
        where = f"{path}:{line}" if line else str(path)
        if not isinstance(entry, dict):
            raise ExpectationsError(
                f'--expectations={where}: checks.{check_id!r} must be a table such as [checks."{check_id}"] with reason = "..."'
            )
        unknown = sorted(set(entry) - _ALLOWED_KEYS)
        if unknown:
            raise ExpectationsError(
                f"--expectations={where}: checks.{check_id!r} has unknown key {unknown[0]!r}; "
                f"allowed keys: {', '.join(sorted(_ALLOWED_KEYS))}"
            )
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ExpectationsError(
                f'--expectations={where}: checks.{check_id!r} needs reason = "<why the implementation deviates>"'
            )
        reference = entry.get("reference")
        result[check_id] = Expectation(check_id, reason.strip(), str(reference) if reference else None, line)
    return result
