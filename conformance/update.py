"""``--update-expectations=FILE``: write or refresh an expectations file from a run.

After the run, FILE is made to describe what the run saw, as web-platform-tests'
update-expectations does:

* **new failures** (checks that failed and no expectation lists) are added, one line each,
  with the failure's first line as ``reason`` (prefixed ``(generated)``) and the check's
  ``reference``, under a comment that says they were generated and need review. A
  parametrised check whose every collected case failed becomes one bare-name entry; one
  with some cases failing one entry with ``cases = [...]``;
* **stale entries** of FILE (every check they name passed) are removed; an entry naming
  several cases of which some passed is narrowed to ``cases = [...]`` of those still failing;
* an **inherited entry** (``inherit = ...``) whose checks passed is overridden in FILE: an
  entry of FILE for the same key with ``status = "pass"`` (or the cases still failing);
* **unknown ids** (entries, or listed cases, that name no collected check of a collected
  area) are dropped;
* under ``--verify=N``, a check whose outcome changed between runs gets (or its entry is
  rewritten with) ``status = "flaky"``;
* everything else (comments, ``inherit``, the order and form of the kept entries, entries
  of other releases) is kept as written.

The run uses FILE's entries when FILE exists (added to the ``--expectations`` files, or
instead of the kit's shipped file when none is given), so a re-run with
``--expectations=FILE`` (and the same other ``--expectations`` files) is green, except for
checks whose outcome changes between runs: mark those ``status = "flaky"``.

Entries of other files (another ``--expectations`` file, or inherited with ``inherit = ...``)
are never edited: the summary names the ones that went stale.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .expectations import Expectation, ExpectationsError, ExpectationSet, load, tomllib
from .outcomes import Outcome
from .report import Record

__all__ = ["Update", "refresh"]

GENERATED = "(generated)"
_MAX_REASON = 200


@dataclass
class Update:
    """What `refresh` did to FILE."""

    path: Path
    added: list[str] = field(default_factory=list)  #: keys of the new entries
    removed: list[str] = field(default_factory=list)  #: keys of entries whose checks all passed
    narrowed: list[str] = field(default_factory=list)  #: keys rewritten with fewer cases
    dropped: list[str] = field(default_factory=list)  #: patterns that name no check
    elsewhere: list[str] = field(default_factory=list)  #: stale entries of other files, as label: key
    #: inherited entries FILE now overrides (status = "pass", or the cases still failing)
    overridden: list[str] = field(default_factory=list)
    #: entries written or rewritten with status = "flaky" (--verify saw their outcome change)
    flaky: list[str] = field(default_factory=list)
    #: new failures whose key FILE already holds for other releases (to be added by hand)
    not_added: list[str] = field(default_factory=list)
    rewritten: bool = False  #: the file had to be written anew (its layout could not be edited in place)

    def line(self) -> str:
        parts = [
            f"{len(self.added)} added (new failures, marked {GENERATED}: review them)",
            f"{len(self.removed)} removed (passed)",
        ]
        if self.overridden:
            parts.append(f"{len(self.overridden)} inherited overridden (passed here)")
        if self.flaky:
            parts.append(f"{len(self.flaky)} marked flaky (outcome changed under --verify)")
        if self.narrowed:
            parts.append(f"{len(self.narrowed)} narrowed to their failing cases")
        parts.append(f"{len(self.dropped)} dropped (name no check)")
        if self.not_added:
            parts.append(
                f"{len(self.not_added)} not added (an entry for other releases has the key; extend it by hand: "
                f"{', '.join(self.not_added)})"
            )
        text = f"--update-expectations={self.path}: " + ", ".join(parts)
        return text + (" (the file was rewritten whole; its comments are lost)" if self.rewritten else "")


def _quote(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's, bar DEL and non-BMP \\u pairs, avoided here)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _key(text: str) -> str:
    return _quote(text)


def _inline(key: str, fields: dict[str, object]) -> str:
    body = ", ".join(
        f"{name} = [{', '.join(_quote(str(c)) for c in value)}]"
        if isinstance(value, (list, tuple))
        else f"{name} = {_quote(str(value))}"
        for name, value in fields.items()
        if value not in (None, "", (), [])
    )
    return f"{_key(key)} = {{ {body} }}"


def _fields(entry: Expectation, cases: Sequence[str] | None = None) -> dict[str, object]:
    return {
        "cases": list(cases if cases is not None else entry.cases),
        "reason": entry.reason,
        "reference": entry.reference,
        "since": entry.since,
        "fixed_in": entry.fixed_in,
        "advisory": entry.advisory,
        "status": entry.status if entry.status != "fail" else None,
    }


def _case(check_id: str) -> str | None:
    return check_id[check_id.index("[") + 1 : -1] if check_id.endswith("]") and "[" in check_id else None


def _base(check_id: str) -> str:
    return check_id.split("[", 1)[0]


def _place(entry: Expectation) -> tuple[str, int | None]:
    """Where an entry is written, whatever spelling of the path named its file."""
    try:
        return str(Path(entry.file).resolve()), entry.line
    except OSError:
        return entry.file, entry.line


def _same(a: str | Path, b: str | Path) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def _reason(record: Record) -> str:
    first = next((line.strip() for line in record.message.splitlines() if line.strip()), "")
    first = first or f"{record.verdict or 'failed'} (no message)"
    if len(first) > _MAX_REASON:
        first = first[: _MAX_REASON - 1].rstrip() + "…"
    return f"{GENERATED} {first}"


def refresh(
    path: str | Path,
    records: Iterable[Record],
    expectations: ExpectationSet,
    collected_ids: Sequence[str] = (),
    unknown: Sequence[str] = (),
    today: datetime.date | None = None,
) -> Update:
    """Write or refresh the expectations file ``path`` from the records of a run.

    Args:
        records: the run's records (`conformance.report.Results.records` values).
        expectations: the entries that applied in the run (to find which entry each record met).
        collected_ids: every check id collected (so that a bare name is written only when
            every case of a check failed); the records' ids when empty.
        unknown: the patterns that named no collected check (`ExpectationSet.unmatched`).

    Raises:
        ExpectationsError: the file exists and is not a readable expectations file.
    """
    path = Path(path)
    update = Update(path)
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    own = load(path, "--update-expectations", keep_pass=True) if text else ExpectationSet()
    records = list(records)
    collected = list(collected_ids) or [r.id for r in records]
    ran = {r.id for r in records}
    unknown_set = set(unknown)

    # Which entry each record met (those of FILE are ours to edit; those FILE inherits, ours to override).
    met: dict[tuple[str, int | None], list[Record]] = {}
    inherited: dict[str, tuple[Expectation, list[Record]]] = {}
    for record in records:
        if record.expectation is None:
            continue
        try:
            entry = expectations.match(record.id)
        except ExpectationsError:
            continue  # cannot happen after a run: collection refused it
        if entry is None:
            continue
        if not entry.inherited and _same(entry.file, path):
            met.setdefault(_place(entry), []).append(record)
        elif entry.inherited and _same(entry.inherited_by.split("=", 1)[-1], path):
            inherited.setdefault(entry.key, (entry, []))[1].append(record)
        elif record.stale:
            update.elsewhere.append(f"{entry.label}: {entry.key}")

    delete: list[Expectation] = []
    add: list[str] = []
    for entry in own:
        if entry.inherited:
            continue
        seen = met.get(_place(entry), [])
        if entry.status in ("flaky", "pass"):
            continue  # seen with both outcomes, never stale; or cancelling an inherited entry
        # Checks it names that were collected but not run (-k, -m, -x): nothing is known of them.
        unrun = [cid for cid in collected if cid not in ran and entry.matches(cid)]
        patterns_unknown = [p for p in entry.patterns if p in unknown_set]
        if any(r.unstable for r in seen):  # --verify saw its outcome change: flaky, not stale
            delete.append(entry)
            add.append(_inline(entry.key, {**_fields(entry), "status": "flaky"}))
            update.flaky.append(entry.key)
            continue
        if seen and all(r.stale for r in seen) and not unrun:
            delete.append(entry)
            update.removed.append(entry.key)
            continue
        if patterns_unknown and len(patterns_unknown) == len(entry.patterns):
            delete.append(entry)
            update.dropped += patterns_unknown
            continue
        still = [r for r in seen if not r.stale]
        if seen and len(still) < len(seen):
            keep = [r.id for r in still] + unrun
            cases = sorted({c for cid in keep if (c := _case(cid)) is not None})
            if cases and len(cases) == len(keep):
                delete.append(entry)
                add.append(_inline(_base(entry.key), _fields(entry, cases)))
                update.narrowed.append(entry.key)
                continue
        if patterns_unknown and entry.cases:
            kept = [c for c in entry.cases if f"{entry.key}[{c}]" not in unknown_set]
            delete.append(entry)
            add.append(_inline(entry.key, _fields(entry, kept)))
            update.dropped += patterns_unknown

    # Inherited entries whose checks pass here: FILE overrides them (an entry of its own for the key).
    for key, (entry, seen) in sorted(inherited.items()):
        unrun = [cid for cid in collected if cid not in ran and entry.matches(cid)]
        holding = [r.id for r in seen if not r.stale] + unrun
        if len(holding) == len(seen) + len(unrun):
            continue  # nothing passed
        cases = sorted({c for cid in holding if (c := _case(cid)) is not None})
        if not holding:
            reason = f"{GENERATED} passes here, unlike {entry.inherited}: {entry.reason}"
            add.append(_inline(key, {"reason": reason, "status": "pass"}))
        elif cases and len(cases) == len(holding) and "[" not in key:
            add.append(_inline(key, {**_fields(entry, cases), "since": None, "fixed_in": None}))
        else:
            update.elsewhere.append(f"{entry.label}: {key}")
            continue
        update.overridden.append(key)

    # New failures, grouped by check.
    new: dict[str, list[Record]] = {}
    unstable: list[Record] = []
    for record in sorted(records, key=lambda r: r.id):
        if record.expectation is None and record.unstable:
            unstable.append(record)
        elif record.outcome is Outcome.FAILED and record.expectation is None:
            new.setdefault(_base(record.id), []).append(record)
    own_keys = {e.key for e in own if not e.inherited}
    generated: list[str] = []
    for record in unstable:
        if record.id in own_keys:
            update.not_added.append(record.id)
            continue
        reason = f"{GENERATED} its outcome changed between runs under --verify: {' -> '.join(record.runs)}"
        generated.append(_inline(record.id, {"reason": reason, "reference": record.reference, "status": "flaky"}))
        update.added.append(record.id)
        update.flaky.append(record.id)
    for base, failing in new.items():
        reference = next((r.reference for r in failing if r.reference), None)
        cases = [c for r in failing if (c := _case(r.id)) is not None]
        every = [cid for cid in collected if _base(cid) == base and cid != base]
        overlaps = any(_base(key) == base for key in own_keys)
        if not overlaps and (not cases or set(cases) == {_case(cid) for cid in every}):
            generated.append(_inline(base, {"reason": _reason(failing[0]), "reference": reference}))
            update.added.append(base)
        elif not overlaps:
            generated.append(_inline(base, {"cases": cases, "reason": _reason(failing[0]), "reference": reference}))
            update.added.append(base)
        else:
            # FILE has an entry under this key for other releases (since/fixed_in): a key is
            # written once, so each case gets its own key; a check without cases cannot.
            for record in failing:
                if record.id in own_keys:
                    update.not_added.append(record.id)
                    continue
                generated.append(_inline(record.id, {"reason": _reason(record), "reference": record.reference}))
                update.added.append(record.id)
    if generated:
        stamp = (today or datetime.date.today()).isoformat()
        add += [
            f"# added by --update-expectations on {stamp}: new failures; review each {GENERATED} reason",
            *generated,
        ]

    try:
        new_text = _edit(text, delete, add)
        _parse(new_text, path)
    except ExpectationsError:
        new_text = _whole(text, own, delete, add)
        update.rewritten = True
        _parse(new_text, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new_text, encoding="utf-8")
    return update


def _parse(text: str, path: Path) -> None:
    """Raise `ExpectationsError` unless ``text`` reads as an expectations file."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / path.name
        probe.write_text(text, encoding="utf-8")
        load(probe)


_HEADER = re.compile(r"^\s*\[")
_CHECKS = re.compile(r"^\s*\[\s*checks\s*\]\s*(#.*)?$")


def _edit(text: str, delete: Sequence[Expectation], add: Sequence[str]) -> str:
    """``text`` with the lines of ``delete`` removed and ``add`` put at the end of ``[checks]``."""
    lines = text.splitlines()
    gone: set[int] = set()  # 0-based
    for entry in delete:
        number = entry.line
        if number is None or number > len(lines):
            raise ExpectationsError("the entry's line is unknown")
        index = number - 1
        stripped = lines[index].strip()
        if _HEADER.match(stripped):  # [checks."id"] or [[checks."id"]]: the header and its keys
            gone.add(index)
            for follow in range(index + 1, len(lines)):
                body = lines[follow].strip()
                if not body or body.startswith("#") or body.startswith("["):
                    break
                gone.add(follow)
        elif stripped.count("{") == 1 and stripped.count("}") == 1 and stripped.rstrip(",").endswith("}"):
            gone.add(index)  # "id" = { ... } or a { ... } member of a list, alone on its line
        else:
            raise ExpectationsError("the entry's layout cannot be edited line by line")
    kept = [line for i, line in enumerate(lines) if i not in gone]
    if add:
        start = next((i for i, line in enumerate(kept) if _CHECKS.match(line)), None)
        if start is None:
            tail = ["", "[checks]"] if any(line.strip() for line in kept) else ["[checks]"]
            kept += [*tail, *add]
        else:
            end = next((i for i in range(start + 1, len(kept)) if _HEADER.match(kept[i])), len(kept))
            while end > start + 1 and not kept[end - 1].strip():
                end -= 1
            kept[end:end] = list(add)
    return "\n".join(kept) + "\n" if kept else ""


def _whole(text: str, own: ExpectationSet, delete: Sequence[Expectation], add: Sequence[str]) -> str:
    """FILE written anew from its entries (when its layout could not be edited in place)."""
    gone = {id(e) for e in delete}
    out: list[str] = []
    inherited = tomllib.loads(text).get("inherit") if text else None
    if isinstance(inherited, str):
        out += [f"inherit = {_quote(inherited)}", ""]
    out.append("[checks]")
    out += [_inline(e.key, _fields(e)) for e in own if not e.inherited and id(e) not in gone]
    out += list(add)
    return "\n".join(out) + "\n"
