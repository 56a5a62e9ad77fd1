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

An entry may also say ``status = "flaky"``: the check was seen with more than one outcome;
it runs and is reported as flaky, and neither a pass nor a failure of it fails the run.

A file may begin with ``inherit = "tornado-6.6"`` (a family the kit ships, with a release)
or ``inherit = "tornado"`` (the entries no release has fixed yet), for ports built on
Tornado's code: the inherited entries apply as if written in the file, to every version of
the port; an entry of the file with the same key replaces the inherited one, and one with
``status = "pass"`` cancels it (the port passes what the family fails).

Several files may be named (``--expectations`` repeated, or one file per line of the ini
key ``conformance_expectations``): the entries of all of them apply (`for_run`).
``--update-expectations=FILE`` writes or refreshes a file from a run (``conformance.update``).

A key may also hold a list of entries (``"id" = [{...}, {...}]`` or ``[[checks."id"]]``)
when one check deviates differently in different releases.

Rules:

1. An entry applies to the releases from ``since`` (inclusive) up to ``fixed_in``
   (exclusive); a version without a leading number (``git-main``) gets every entry.
2. A check matched by an entry that applies is a strict expected failure; if it passes
   it is *stale* and fails the run, so expectations never rot (as in web-platform-tests).
3. An entry (each case of a ``cases`` list) that matches no collected check of an area
   that was collected is *unknown*: a renamed or removed check (`ExpectationSet.unmatched`).
4. Two applicable entries that match the same check (in one file or in two) are a usage
   error naming both, with their files and lines.
5. A malformed file is an `ExpectationsError` of one line naming the option or ini key the
   file came from, the file and the line.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ._version import version_tuple

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 in tox
    import tomli as tomllib

__all__ = [
    "STATUSES",
    "Expectation",
    "ExpectationSet",
    "ExpectationsError",
    "for_run",
    "load",
    "shipped",
    "version_tuple",
]

_ALLOWED_KEYS = ("reason", "reference", "since", "fixed_in", "advisory", "cases", "status")
#: ``status`` of an entry: ``fail`` (the default: a strict expected failure), ``flaky``
#: (seen with more than one outcome: run and reported, never failing the run), or ``pass``
#: (only over an inherited entry: this port passes what the family fails)
STATUSES = ("fail", "flaky", "pass")
#: ``inherit = "family"`` or ``"family-VERSION"`` at the top of a file
_INHERIT = re.compile(r"(?P<family>[A-Za-z0-9_]+(?:-[A-Za-z_][A-Za-z0-9_]*)*)(?:-(?P<version>\d[0-9A-Za-z.]*))?")
_DEVIATIONS = Path(__file__).parent / "deviations"


class ExpectationsError(Exception):
    """The expectations file is malformed, or two of its entries claim one check (a usage error)."""


class IdPattern:
    """A check id pattern (see `_compile`); one without a glob is matched without a regex."""

    __slots__ = ("_regex", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._regex: re.Pattern[str] | None = None

    def match(self, check_id: str) -> bool:
        text = self.text
        if "*" not in text:
            # What the regex would say: the id itself, or for a bare name any case of it.
            return check_id == text or ("[" not in text and check_id.startswith(text + "[") and check_id.endswith("]"))
        if self._regex is None:
            self._regex = re.compile(".*".join(re.escape(part) for part in text.split("*")) + r"\Z", re.DOTALL)
        return self._regex.match(check_id) is not None


@functools.lru_cache(maxsize=4096)
def _compile(pattern: str) -> IdPattern:
    """A check id pattern as a matcher: ``*`` is any run of characters, a bare name also covers its cases."""
    return IdPattern(pattern)


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
    status: str = "fail"  #: ``fail``, ``flaky`` or ``pass`` (see `STATUSES`)
    #: the option or ini key the file came from (``--expectations``, ``conformance_expectations``)
    source: str = "--expectations"
    #: for an entry inherited from a shipped family (``inherit = "tornado-6.6"``): that value,
    #: and the file that inherits it; such an entry applies to every version of the port
    inherited: str = ""
    inherited_by: str = ""
    patterns: tuple[str, ...] = field(default=(), compare=False)
    _regexes: tuple[IdPattern, ...] = field(default=(), compare=False, repr=False)

    @property
    def check_id(self) -> str:
        """The key as written (kept for callers of the one-entry-per-check format)."""
        return self.key

    @property
    def label(self) -> str:
        """Where the entry is written, naming the option or ini key: ``--expectations=port.toml:3``."""
        if self.inherited:
            return f"{self.where} (inherit = {self.inherited!r} in {self.inherited_by})"
        return f"{self.source}={self.where}"

    @property
    def file(self) -> str:
        """The path of the file the entry is written in."""
        head, _, tail = self.where.rpartition(":")
        return head if head and tail.isdigit() else self.where

    @property
    def line(self) -> int | None:
        tail = self.where.rsplit(":", 1)[-1]
        return int(tail) if tail.isdigit() else None

    def applies_to(self, version: str) -> bool:
        """Whether the entry covers implementation ``version`` (``since`` <= version < ``fixed_in``)."""
        current = version_tuple(version)
        if current is None or self.inherited:
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
    #: `_candidates`' index: (len(entries) when built, pattern -> positions, positions of globs)
    _index: tuple[int, dict[str, list[int]], list[int]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Expectation]:
        return iter(self.entries)

    @classmethod
    def merged(cls, sets: Iterable[ExpectationSet]) -> ExpectationSet:
        """The entries of several files together (two that claim one check stay a usage error, see `match`)."""
        sets = list(sets)
        return cls([e for s in sets for e in s.entries], ", ".join(s.path for s in sets if s.path) or None)

    def for_version(self, version: str) -> ExpectationSet:
        """The entries that apply to implementation ``version``."""
        return ExpectationSet([e for e in self.entries if e.applies_to(version)], self.path)

    def match(self, check_id: str) -> Expectation | None:
        """The entry naming ``check_id``, or None.

        Raises:
            ExpectationsError: two entries name it (one line naming both).
        """
        found = [e for e in self._candidates(check_id) if e.matches(check_id)]
        if len(found) > 1:
            first, second = found[0], found[1]
            other = (
                f"line {first.line}"
                if first.label.rpartition(":")[0] == second.label.rpartition(":")[0]
                else first.label
            )
            raise ExpectationsError(
                f"{second.label}: {second.key!r} and {first.key!r} ({other}) both name "
                f"the check {check_id!r}; narrow one of them (cases = [...], since/fixed_in)"
            )
        return found[0] if found else None

    def _candidates(self, check_id: str) -> list[Expectation]:
        """The entries that may name ``check_id``, in file order: those with a glob, and those
        whose pattern is the check's name or the check id itself (an index built once, as a
        run asks for each of its thousand checks)."""
        index = self._index
        if index is None or index[0] != len(self.entries):
            by_name: dict[str, list[int]] = {}
            globs: list[int] = []
            for position, entry in enumerate(self.entries):
                for pattern in entry.patterns:
                    if "*" in pattern:
                        globs.append(position)
                    else:
                        by_name.setdefault(pattern, []).append(position)
            index = self._index = (len(self.entries), by_name, globs)
        _, by_name, globs = index
        positions = set(globs)
        positions.update(by_name.get(check_id, ()))
        positions.update(by_name.get(check_id.split("[", 1)[0], ()))
        return [self.entries[p] for p in sorted(positions)]

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
    found = _key_lines(text).get(key)
    if found is not None:
        return found
    quoted = r"[\"']" + re.escape(key) + r"[\"']"
    pattern = re.compile(
        r"^[ \t]*(?:\[\[?\s*checks\s*\.\s*" + quoted + r"\s*\]\]?|" + quoted + r"\s*=)",
        re.M,
    )
    return [text.count("\n", 0, m.start()) + 1 for m in pattern.finditer(text)]


#: a line defining a key, as _lines_of matches it: the key is group 1 or group 2
_KEY_LINE = re.compile(
    r"^[ \t]*(?:\[\[?\s*checks\s*\.\s*[\"']([^\"'\n]*)[\"']\s*\]\]?|[\"']([^\"'\n]*)[\"']\s*=)", re.M
)


@functools.lru_cache(maxsize=8)
def _key_lines(text: str) -> dict[str, list[int]]:
    """Every key of a file and the lines defining it, in one pass (a file has a hundred keys)."""
    index: dict[str, list[int]] = {}
    line, position = 1, 0
    for match in _KEY_LINE.finditer(text):
        line += text.count("\n", position, match.start())
        position = match.start()
        index.setdefault(match.group(1) if match.group(1) is not None else match.group(2), []).append(line)
    return index


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


def _entry(key: str, raw: Any, where: str, source: str = "--expectations") -> Expectation:
    def fail(what: str) -> ExpectationsError:
        return ExpectationsError(f"{source}={where}: checks.{key!r} {what}")

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
    status = raw.get("status", "fail")
    if status not in STATUSES:
        raise fail(f"status = {status!r} is not a status; use one of: {', '.join(repr(s) for s in STATUSES)}")
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
        status,
        source,
        "",
        "",
        patterns,
        tuple(_compile(p) for p in patterns),
    )


def load(path: str | Path, source: str = "--expectations", *, keep_pass: bool = False) -> ExpectationSet:
    """Read an expectations file (either form, see the module's docstring).

    ``source`` is the option or ini key that named the file; every message names it.
    ``status = "pass"`` entries cancel the inherited entries of their keys and are left out,
    unless ``keep_pass`` (for a tool that rewrites the file).

    Raises:
        ExpectationsError: with a one-line message naming the option, the file and the line.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ExpectationsError(f"{source}={path}: cannot read the file ({why})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ExpectationsError(f"{source}={path}: not valid TOML: {exc}") from None
    extra = sorted(set(data) - {"checks", "inherit"})
    if extra:
        raise ExpectationsError(
            f"{source}={path}: unknown top-level key {extra[0]!r}; entries go under [checks], "
            f'one per line such as "<check id>" = {{ reason = "..." }} (and inherit = "tornado-6.6" may come first)'
        )
    checks = data.get("checks", {})
    if not isinstance(checks, dict):
        raise ExpectationsError(f'{source}={path}: "checks" must be a table of "<check id>" = {{ reason = "..." }}')
    entries: list[Expectation] = []
    for key, value in checks.items():
        lines = _lines_of(text, key)
        raws = value if isinstance(value, list) else [value]
        if isinstance(value, list) and len(lines) == 1:
            lines = _member_lines(text, lines[0], len(raws)) or lines
        for index, raw in enumerate(raws):
            line = lines[min(index, len(lines) - 1)] if lines else None
            entries.append(_entry(key, raw, f"{path}:{line}" if line else str(path), source))
    passing = [e for e in entries if e.status == "pass"]
    if "inherit" in data:
        own_keys = {e.key for e in entries}
        parent = _inherited(data["inherit"], text, path, source)
        inherited_keys = {e.key for e in parent}
        entries = [e for e in parent if e.key not in own_keys] + entries
    else:
        inherited_keys = set()
    stray = next((e for e in passing if e.key not in inherited_keys), None)
    if stray is not None:
        raise ExpectationsError(
            f"{stray.label}: checks.{stray.key!r} status = 'pass' only overrides an inherited entry "
            f'(inherit = "..."), and none has this key; remove the entry'
        )
    # A "pass" entry only cancels the inherited one: it expects nothing itself.
    return ExpectationSet([e for e in entries if keep_pass or e.status != "pass"], str(path))


def _inherited(value: Any, text: str, path: Path, source: str) -> list[Expectation]:
    """The entries ``inherit = "family[-VERSION]"`` brings in (see `load`)."""
    line = next((n for n, t in enumerate(text.splitlines(), 1) if re.match(r"\s*inherit\s*=", t)), None)
    where = f"{source}={path}:{line}" if line else f"{source}={path}"
    families = ", ".join(sorted(p.stem for p in _DEVIATIONS.glob("*.toml"))) or "none"
    match = _INHERIT.fullmatch(value) if isinstance(value, str) else None
    family = shipped(match.group("family")) if match else None
    if match is None or family is None:
        raise ExpectationsError(
            f'{where}: inherit = {value!r} names no family the kit ships; write inherit = "FAMILY" or '
            f'"FAMILY-VERSION" (e.g. "tornado-6.6"); families: {families}'
        )
    version = match.group("version")
    if version is not None and version_tuple(version) is None:
        raise ExpectationsError(f"{where}: inherit = {value!r}: {version!r} is not a version such as 6.6")
    parent = load(family)
    # A pinned release inherits what applies to it; a bare family what is still open
    # in its newest release (the entries that no release has fixed yet).
    chosen = parent.for_version(version).entries if version else [e for e in parent if e.fixed_in is None]
    return [replace(e, inherited=value, inherited_by=f"{source}={path}") for e in chosen]


def shipped(family: str) -> Path | None:
    """The expectations file the kit ships for an implementation family (``tornado``), if any."""
    path = _DEVIATIONS / f"{family}.toml"
    return path if re.fullmatch(r"[A-Za-z0-9_-]+", family) and path.is_file() else None


def for_run(
    specs: Sequence[tuple[str, str]], family: str | None, version: str, update: str | None = None
) -> tuple[ExpectationSet, str | None]:
    """The expectations of one run: every file named, merged, keeping what applies to ``version``.

    ``specs`` are ``(source, path)`` pairs: the option or ini key and the file it named, in
    order; ``none`` names no file. With no file named, the file the kit ships for ``family``
    applies (`Implementation.shipped_family`: what the implementation is, None for a port the
    kit knows nothing of). ``update`` is the file of ``--update-expectations``: when it exists it applies
    too (its entries are what the run refreshes), and it replaces the shipped default.

    Returns:
        the applicable entries and the files they came from (for the report header), or None.

    Raises:
        ExpectationsError: a file is malformed.
    """
    if update is not None:
        if not update.strip():
            raise ExpectationsError("--update-expectations=: empty; name the expectations file to write")
        if Path(update).is_dir():
            raise ExpectationsError(
                f"--update-expectations={update}: is a directory; name the expectations file to write"
            )
        parent = next((p for p in Path(update).absolute().parents if p.exists()), None)
        if parent is not None and not parent.is_dir():
            raise ExpectationsError(
                f"--update-expectations={update}: {parent} is not a directory; the file cannot be written"
            )
    named = [(source, path) for source, path in specs if path != "none"]
    if not specs and update is None:
        default = shipped(family) if family else None
        named = [("--expectations", str(default))] if default else []
    if update is not None and Path(update).is_file() and not any(_same_file(p, update) for _, p in named):
        named.append(("--update-expectations", update))
    sets = [load(path, source) for source, path in named]
    merged = ExpectationSet.merged(sets)
    return merged.for_version(version), merged.path


def _same_file(a: str | Path, b: str | Path) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


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
