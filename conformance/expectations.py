"""Expectations: an implementation's known deviations, as data.

File format (TOML), keyed by stable check ids (see ``conformance._meta.check_id``)::

    # tornado-6.6.toml
    [checks."http11.rejects_content_length_with_plus_sign"]
    reason = "Tornado accepts '+5' as a Content-Length"   # required
    reference = "RFC 9112 §6.3"                            # optional
    fixed_in = "6.7"                                       # optional
    advisory = "CVE-2023-28370"                            # optional

``fixed_in`` and ``since`` bound an entry to a range of the implementation's versions:
it applies from ``since`` (inclusive) up to ``fixed_in`` (exclusive). One file per
Tornado X.Y can so say that 6.5.0-6.5.2 had a bug fixed in 6.5.3, and the entry stops
applying (rather than going stale) on 6.5.3 and later.

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

_ALLOWED_KEYS = {"reason", "reference", "fixed_in", "since", "advisory"}


class ExpectationsError(Exception):
    """The expectations file is malformed (a usage error)."""


@dataclass(frozen=True)
class Expectation:
    check_id: str
    reason: str
    reference: str | None = None
    line: int | None = None
    fixed_in: str | None = None
    since: str | None = None
    advisory: str | None = None

    def applies_to(self, version: str) -> bool:
        """Whether the entry covers implementation ``version`` (``since`` <= version < ``fixed_in``)."""
        current = version_tuple(version)
        if current is None:
            return True
        if self.fixed_in is not None and current >= (version_tuple(self.fixed_in) or ()):
            return False
        return not (self.since is not None and current < (version_tuple(self.since) or ()))


def version_tuple(version: str) -> tuple[int, ...] | None:
    """``"6.5.3"`` -> ``(6, 5, 3)``; ``"6.6.0b1"`` -> ``(6, 6, 0)``; None when it has no leading number."""
    numbers = []
    for part in version.split("."):
        match = re.match(r"\d+", part)
        if match is None:
            break
        numbers.append(int(match.group()))
        if match.end() != len(part):
            break
    return tuple(numbers) or None


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
        bounds: dict[str, str | None] = {}
        for key in ("fixed_in", "since", "advisory"):
            value = entry.get(key)
            if value is not None and not isinstance(value, str):
                raise ExpectationsError(
                    f'--expectations={where}: checks.{check_id!r}: {key} must be a string such as {key} = "6.5.3"'
                )
            bounds[key] = value
        for key in ("fixed_in", "since"):
            bound = bounds[key]
            if bound is not None and version_tuple(bound) is None:
                raise ExpectationsError(
                    f"--expectations={where}: checks.{check_id!r}: {key} = {bound!r} is not a version; "
                    f'write it like {key} = "6.5.3"'
                )
        result[check_id] = Expectation(check_id, reason.strip(), str(reference) if reference else None, line, **bounds)
    return result
