"""Expectations: an implementation family's known deviations, as data, in one file per family.

One file holds every release of a family (``conformance/deviations/tornado.toml``); what
applies to one release is derived from it (`ExpectationSet.for_version`, or
``python -m conformance.expectations tornado 6.2``), never copied. An entry names, once:

* a check, ``"http11.absolute_form_target_is_routed_by_its_path"``; a bare name of a
  parametrised check covers every case of it;
* a glob of cases, ``"websocket.invalid_close_frame_fails_the_connection_with_1002[code-*]"``
  (``*`` matches any run of characters; nothing else is special, so ``[`` and ``]`` are
  literal);
* or a list of cases, ``cases = ["plus-sign", "minus-sign"]`` (each may hold a ``*``).

File format (TOML). An entry fits on one line, as an inline table under ``[checks]``::

    [checks]
    # HTTP/1.1: body framing
    "http11.invalid_content_length_is_rejected" = { cases = ["plus-sign", "minus-sign"], reason = "Content-Length is parsed with int()", reference = "RFC 9112 §6.3", fixed_in = "6.3.3", advisory = "GHSA-qppv-j76h-2rpx" }

and the multi-line table form reads the same::

    [checks."http11.rejects_content_length_with_plus_sign"]
    reason = "Tornado accepts '+5' as a Content-Length"   # required
    reference = "RFC 9112 §6.3"                            # optional
    since = "4.5.3"                                        # optional: first release with the deviation
    fixed_in = "6.7"                                       # optional: first release without it
    advisory = "CVE-2023-28370"                            # optional

A key may also hold a list of entries (``"id" = [{...}, {...}]`` or ``[[checks."id"]]``)
when one check deviates differently in different releases.

Rules:

1. An entry applies to the releases from ``since`` (inclusive) up to ``fixed_in``
   (exclusive); a version without a leading number (``git-main``) gets every entry.
2. A check matched by an entry that applies is a strict expected failure; if it passes
   it is *stale* and fails the run, so expectations never rot (as in web-platform-tests).
3. An entry (each case of a ``cases`` list) that matches no collected check of an area
   that was collected is *unknown*: a renamed or removed check (`ExpectationSet.unmatched`).
4. Two applicable entries that match the same check are a usage error naming both.
5. A malformed file is an `ExpectationsError` of one line naming the file and the line.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._version import version_tuple

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 in tox
    import tomli as tomllib

__all__ = ["Expectation", "ExpectationSet", "ExpectationsError", "load", "shipped", "version_tuple"]

_ALLOWED_KEYS = ("reason", "reference", "since", "fixed_in", "advisory", "cases")
_DEVIATIONS = Path(__file__).parent / "deviations"


class ExpectationsError(Exception):
    """The expectations file is malformed, or two of its entries claim one check (a usage error)."""


def _compile(pattern: str) -> re.Pattern[str]:
    """A check id pattern as a regex: ``*`` is any run of characters, a bare name also covers its cases."""
    body = ".*".join(re.escape(part) for part in pattern.split("*"))
    if "[" not in pattern and "*" not in pattern:
        body += r"(?:\[.*\])?"
    return re.compile(body + r"\Z", re.DOTALL)


@dataclass(frozen=True)
class Expectation:
    """One entry of an expectations file: the checks it names, why they fail, and for which releases."""

    key: str  #: the key as written in the file
    reason: str
    reference: str | None = None
    since: str | None = None
    fixed_in: str | None = None
    advisory: str | None = None
    cases: tuple[str, ...] = ()
    where: str = ""  #: ``path:line`` of the entry, for messages
    patterns: tuple[str, ...] = field(default=(), compare=False)
    _regexes: tuple[re.Pattern[str], ...] = field(default=(), compare=False, repr=False)

    @property
    def check_id(self) -> str:
        """The key as written (kept for callers of the one-entry-per-check format)."""
        return self.key

    @property
    def line(self) -> int | None:
        tail = self.where.rsplit(":", 1)[-1]
        return int(tail) if tail.isdigit() else None

    def applies_to(self, version: str) -> bool:
        """Whether the entry covers implementation ``version`` (``since`` <= version < ``fixed_in``)."""
        current = version_tuple(version)
        if current is None:
            return True
        if self.fixed_in is not None and current >= (version_tuple(self.fixed_in) or ()):
            return False
        return not (self.since is not None and current < (version_tuple(self.since) or ()))

    def matches(self, check_id: str) -> bool:
        return any(regex.match(check_id) for regex in self._regexes)

    def span(self) -> str:
        """The releases the entry covers, e.g. ``4.5.3 <= v < 6.5``, or ``every release``."""
        low = f"{self.since} <= " if self.since else ""
        high = f" < {self.fixed_in}" if self.fixed_in else ""
        return f"{low}v{high}" if low or high else "every release"


@dataclass
class ExpectationSet:
    """The entries of one file (or the part of them that applies to one release)."""

    entries: list[Expectation] = field(default_factory=list)
    path: str | None = None

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Expectation]:
        return iter(self.entries)

    def for_version(self, version: str) -> ExpectationSet:
        """The entries that apply to implementation ``version``."""
        return ExpectationSet([e for e in self.entries if e.applies_to(version)], self.path)

    def match(self, check_id: str) -> Expectation | None:
        """The entry naming ``check_id``, or None.

        Raises:
            ExpectationsError: two entries name it (one line naming both).
        """
        found = [e for e in self.entries if e.matches(check_id)]
        if len(found) > 1:
            first, second = found[0], found[1]
            raise ExpectationsError(
                f"--expectations={second.where}: {second.key!r} and {first.key!r} (line {first.line}) both name "
                f"the check {check_id!r}; narrow one of them (cases = [...], since/fixed_in)"
            )
        return found[0] if found else None

    def unmatched(self, seen_ids: Iterable[str], collected_areas: Iterable[str]) -> list[str]:
        """Patterns that name no check in ``seen_ids`` although their area was collected (renamed or removed)."""
        seen = list(seen_ids)
        areas = set(collected_areas)
        missing: set[str] = set()
        for entry in self.entries:
            for pattern, regex in zip(entry.patterns, entry._regexes):
                if pattern.split(".", 1)[0] in areas and not any(regex.match(cid) for cid in seen):
                    missing.add(pattern)
        return sorted(missing)


def _lines_of(text: str, key: str) -> list[int]:
    """Lines where ``key`` is defined: ``"key" = ...``, ``[checks."key"]`` or ``[[checks."key"]]``."""
    quoted = r"[\"']" + re.escape(key) + r"[\"']"
    pattern = re.compile(
        r"^[ \t]*(?:\[\[?\s*checks\s*\.\s*" + quoted + r"\s*\]\]?|" + quoted + r"\s*=)",
        re.M,
    )
    return [text.count("\n", 0, m.start()) + 1 for m in pattern.finditer(text)]


def _member_lines(text: str, key_line: int, count: int) -> list[int] | None:
    """Lines of the ``count`` inline tables of a multi-line array that follows a key's line, if laid out so."""
    lines = text.splitlines()
    found: list[int] = []
    for number in range(key_line + 1, len(lines) + 1):
        stripped = lines[number - 1].strip()
        if stripped.startswith("{"):
            found.append(number)
        elif stripped and not stripped.startswith("#"):
            break
    return found if len(found) == count else None


def _entry(key: str, raw: Any, where: str) -> Expectation:
    def fail(what: str) -> ExpectationsError:
        return ExpectationsError(f"--expectations={where}: checks.{key!r} {what}")

    if not isinstance(raw, dict):
        raise fail(f'must be a table such as "{key}" = {{ reason = "..." }}')
    unknown = sorted(set(raw) - set(_ALLOWED_KEYS))
    if unknown:
        nested = raw and all(isinstance(v, dict) for v in raw.values())
        hint = '; quote the check id, it contains dots: [checks."area.check"]' if nested else ""
        raise fail(f"has unknown key {unknown[0]!r}; allowed keys: {', '.join(sorted(_ALLOWED_KEYS))}{hint}")
    reason = raw.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise fail('needs reason = "<why the implementation deviates>"')
    area, dot, name = key.partition(".")
    if not dot or not area or not name or "*" in area or any(c.isspace() for c in key):
        raise fail(
            "is not a check id: write <area>.<check>, <area>.<check>[<case>] or a glob such as <area>.<check>[code-*]"
        )
    texts: dict[str, str | None] = {}
    for name_ in ("reference", "since", "fixed_in", "advisory"):
        value = raw.get(name_)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise fail(f'{name_} must be a non-empty string such as {name_} = "6.5.3"')
        texts[name_] = value.strip() if value is not None else None
    for name_ in ("since", "fixed_in"):
        bound = texts[name_]
        if bound is not None and version_tuple(bound) is None:
            raise fail(f'{name_} = {bound!r} is not a version; write it like {name_} = "6.5.3"')
    since, fixed_in = texts["since"], texts["fixed_in"]
    if since and fixed_in and (version_tuple(since) or ()) >= (version_tuple(fixed_in) or ()):
        raise fail(f"applies to no release: since = {since!r} is not before fixed_in = {fixed_in!r}")
    cases = raw.get("cases", [])
    if (
        not isinstance(cases, list)
        or not all(isinstance(c, str) and c for c in cases)
        or ("cases" in raw and not cases)
    ):
        raise fail('cases must be a list of case ids such as cases = ["plus-sign", "code-*"]')
    if cases and "[" in key:
        raise fail(f'names a case already; with cases = [...] the key is the check alone, "{key.split("[", 1)[0]}"')
    if len(set(cases)) != len(cases):
        raise fail("lists a case twice")
    patterns = tuple(f"{key}[{case}]" for case in cases) or (key,)
    return Expectation(
        key,
        reason.strip(),
        texts["reference"],
        since,
        fixed_in,
        texts["advisory"],
        tuple(cases),
        where,
        patterns,
        tuple(_compile(p) for p in patterns),
    )


def load(path: str | Path) -> ExpectationSet:
    """Read an expectations file (either form, see the module's docstring).

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
            f"--expectations={path}: unknown top-level key {extra[0]!r}; entries go under [checks], "
            f'one per line such as "<check id>" = {{ reason = "..." }}'
        )
    checks = data.get("checks", {})
    if not isinstance(checks, dict):
        raise ExpectationsError(
            f'--expectations={path}: "checks" must be a table of "<check id>" = {{ reason = "..." }}'
        )
    entries: list[Expectation] = []
    for key, value in checks.items():
        lines = _lines_of(text, key)
        raws = value if isinstance(value, list) else [value]
        if isinstance(value, list) and len(lines) == 1:
            lines = _member_lines(text, lines[0], len(raws)) or lines
        for index, raw in enumerate(raws):
            line = lines[min(index, len(lines) - 1)] if lines else None
            entries.append(_entry(key, raw, f"{path}:{line}" if line else str(path)))
    return ExpectationSet(entries, str(path))


def shipped(family: str) -> Path | None:
    """The expectations file the kit ships for an implementation family (``tornado``), if any."""
    path = _DEVIATIONS / f"{family}.toml"
    return path if re.fullmatch(r"[A-Za-z0-9_-]+", family) and path.is_file() else None


def describe(entries: Sequence[Expectation]) -> list[str]:
    """Lines listing ``entries`` by area, as ``python -m conformance.expectations`` prints them."""
    out: list[str] = []
    area = None
    for entry in sorted(entries, key=lambda e: (e.key, e.since or "")):
        if entry.key.split(".", 1)[0] != area:
            area = entry.key.split(".", 1)[0]
            out += ["", f"## {area}"] if out else [f"## {area}"]
        out.append(f"{entry.key}" + (f"[{', '.join(entry.cases)}]" if entry.cases else ""))
        bounds = [f"since {entry.since}" if entry.since else "", f"fixed in {entry.fixed_in}" if entry.fixed_in else ""]
        facts = [b for b in bounds if b] + [entry.advisory or "", entry.reference or ""]
        if any(facts):
            out.append(f"    ({'; '.join(f for f in facts if f)})")
        out.append(f"    {entry.reason}")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m conformance.expectations FAMILY|FILE VERSION``: what applies to one release."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print(
            "usage: python -m conformance.expectations FAMILY|FILE VERSION  (e.g. tornado 6.2)",
            file=sys.stderr,
        )
        return 2
    source, version = args
    path = shipped(source) or Path(source)
    try:
        view = load(path).for_version(version)
    except ExpectationsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"# {path.name}: {len(view)} entries apply to {source} {version}")
    for line in describe(view.entries):
        print(line)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
