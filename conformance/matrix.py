"""The matrix report: results JSON files of several runs merged into one static HTML page.

``tornado-conformance-matrix results/*.json -o docs/matrix.html``

Columns are the runs (implementation name and version, Python ``X.Y``), rows the checks,
grouped by area and then by reference; each cell is a verdict, with the failure message
on hover (``title=``) and in a ``<details>`` element. Per-area percentages come first.

Rules of this module:

* **Same inputs, same bytes.** Everything is sorted, nothing depends on the clock, the
  machine or the paths of the inputs, so ``--check`` can compare a committed page with
  a fresh rendering byte for byte. What varies between two runs of the same environment
  stays out of the page: the bytes exchanged (ports, WebSocket keys and masks), the
  durations, the ``metrics`` of scale checks, Python's patch level, and the install
  paths in tracebacks. The results files keep all of it.
* **One file, no network, readable without JavaScript.** CSS and JavaScript are inline
  and pinned by hash in a Content-Security-Policy that allows nothing else; every
  verdict and message is in the markup, the script only adds filters.
* **A bad input is one line.** A file that is not a results file of the kit, or is
  malformed, is reported as ``PATH: what is wrong`` (exit status 2), never a traceback.

The percentage of an area is ``met / judged``, rounded down, where *met* counts the
checks that passed (``pass``, and ``stale``: passed although listed as expected) and
*judged* counts every check that ran to a verdict (pass, non-strict, fail, expected,
stale). Not provided, skipped and not run are not judged; they are counted apart.

The console script's entry point is `main` here, inside the package: unlike
``tornado_conformance_cli`` it never starts pytest, so importing the package first cannot
keep pytest from rewriting it (the reason that other script lives outside).
"""

from __future__ import annotations

import argparse
import base64
import glob
import hashlib
import html
import itertools
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._meta import AREAS
from .outcomes import Outcome, Verdict

__all__ = [
    "CELLS",
    "VERDICTS",
    "Change",
    "Column",
    "Matrix",
    "MatrixInputError",
    "Score",
    "build",
    "diff",
    "expand_inputs",
    "load_results",
    "main",
    "render",
    "verdict_of",
]

PROG = "tornado-conformance-matrix"

#: The page's word (a cell's verdict and CSS class) for each outcome of a results file; a
#: check missing from a results file is `Outcome.NOT_RUN` there.
CELLS: dict[Outcome, str] = {
    Outcome.PASSED: "pass",
    Outcome.NON_STRICT: "non-strict",
    Outcome.FAILED: "fail",
    Outcome.XFAILED: "expected",
    Outcome.XPASSED: "stale",
    Outcome.SKIPPED: "skipped",
    Outcome.NOT_RUN: "not-run",
}
PASS, NON_STRICT, FAIL, EXPECTED, STALE, SKIPPED, NOT_RUN = (CELLS[o] for o in CELLS)
#: A skipped check whose implementation lacks what it needs (``not_provided`` in the record).
NOT_PROVIDED = "not-provided"

#: Every cell's verdict, in legend order, with what it means.
VERDICTS: dict[str, str] = {
    PASS: "the check passed",
    NON_STRICT: "the rule's intent was met but not its strict form (e.g. TCP dropped where a close code was due); "
    "not a failure unless --strict-verdicts",
    FAIL: "the implementation broke the rule (the cell says timeout or protocol when it did not answer in time "
    "or sent what h11 or wsproto could not parse)",
    EXPECTED: "a known deviation, listed in the expectations file with its reason",
    STALE: "listed in the expectations file as failing, but passed: the file needs updating",
    NOT_PROVIDED: "the implementation lacks the API part or feature the check needs",
    SKIPPED: "skipped for another reason (the message says why)",
    NOT_RUN: "the check is not in this results file (another kit version, or a selection such as -m http11)",
}
_LABELS = {NOT_PROVIDED: "not provided", NOT_RUN: str(Outcome.NOT_RUN)}
_MET = (PASS, STALE)
_JUDGED = (PASS, NON_STRICT, FAIL, EXPECTED, STALE)
#: The outcomes a results file records (not run is the matrix's own).
_OUTCOMES = tuple(
    str(o)
    for o in (Outcome.PASSED, Outcome.FAILED, Outcome.NON_STRICT, Outcome.SKIPPED, Outcome.XFAILED, Outcome.XPASSED)
)
_MESSAGE_LIMIT = 2000
_TITLE_LIMIT = 300


class MatrixInputError(Exception):
    """A results file (or an input argument) the matrix cannot use; the text is one line."""


# -- loading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One check of one run, reduced to what the page shows."""

    id: str
    area: str
    reference: str
    level: str
    verdict: str  #: a key of VERDICTS
    detail: str  #: for failures: failed | timeout | protocol
    message: str  #: already made stable (see _stable_message)
    expectation: str
    advisory: str
    fixed_in: str


@dataclass(frozen=True)
class Column:
    """One results file: one implementation on one Python."""

    path: str
    name: str
    version: str
    python: str  #: major.minor
    entries: dict[str, Entry]

    @property
    def label(self) -> str:
        return f"{self.name} {self.version} / Python {self.python}"

    @property
    def family(self) -> str:
        """The group of columns it heads under (`FAMILIES`)."""
        if self.name == "tornado":
            return FAMILIES[0]
        if self.name.startswith("tornado"):  # tornado+curl, tornado+uvloop, tornado on PyPy
            return FAMILIES[1]
        if ":" in self.name:  # a distribution's package: debian:python3-tornado
            return FAMILIES[2]
        return FAMILIES[3]


#: The column groups of the page, in their order: a page of sixteen runs reads as four
#: groups of a few columns each.
FAMILIES = (
    "Tornado releases",
    "Tornado on another client, loop or runtime",
    "distro builds",
    "forks, ports, others",
)


def verdict_of(test: dict[str, Any]) -> tuple[str, str]:
    """The cell verdict of one test record of a results file, and its detail.

    Args:
        test: an element of the ``tests`` list of a results file.

    Returns:
        ``(verdict, detail)``: the verdict is a key of `VERDICTS`; the detail is the
        kind of failure (``failed``, ``timeout``, ``protocol``) for ``fail``, else ``""``.

    Example::

        >>> verdict_of({"outcome": "skipped", "not_provided": True})
        ('not-provided', '')
    """
    word = test.get("outcome")
    if word not in _OUTCOMES:
        raise ValueError(f"unknown outcome {word!r}")
    outcome = Outcome(word)
    if outcome is Outcome.SKIPPED and test.get("not_provided"):
        return NOT_PROVIDED, ""
    if outcome is Outcome.FAILED:
        return FAIL, str(test.get("verdict") or Verdict.FAILED)
    return CELLS[outcome], ""


def load_results(path: str | Path) -> Column:
    """Read and validate one results file written by ``--conformance-json``.

    Raises:
        MatrixInputError: the file cannot be read, is not JSON, or is not a results file
            of the kit; the message names the file and what is wrong.
    """
    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MatrixInputError(f"{where}: cannot read it: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MatrixInputError(f"{where}: not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    foreign = f"{where}: not a results file of tornado-conformance (--conformance-json writes them)"
    if not isinstance(data, dict):
        raise MatrixInputError(f"{foreign}: the top level is {_kind(data)}, expected an object")
    missing = [key for key in ("impl", "python", "tests") if key not in data]
    if missing:
        raise MatrixInputError(f"{foreign}: no {', '.join(repr(k) for k in missing)} key")
    impl = data["impl"]
    if not isinstance(impl, dict):
        raise MatrixInputError(f"{where}: 'impl' must be an object with 'name' and 'version', got {_kind(impl)}")
    name = _text(where, "impl.name", impl.get("name"))
    version = _text(where, "impl.version", impl.get("version"))
    # What the implementation is (conformance/identity.py): windhose installs the `tornado`
    # package as version 2.0.2 and Debian's build says 6.2; their columns name the distribution.
    distribution, dist_version = impl.get("distribution"), impl.get("distribution_version")
    if isinstance(distribution, str) and distribution != "tornado" and isinstance(dist_version, str):
        name, version = distribution, dist_version
    runtime = impl.get("runtime")
    if isinstance(runtime, str) and runtime.startswith("PyPy"):
        name = f"{name} on PyPy"  # the same release on another runtime is another column
    python = _text(where, "python", data["python"])
    match = re.match(r"(\d+)\.(\d+)", python)
    if match is None:
        raise MatrixInputError(f"{where}: 'python' must be a version such as '3.11.7', got {python!r}")
    tests = data["tests"]
    if not isinstance(tests, list):
        raise MatrixInputError(f"{where}: 'tests' must be a list, got {_kind(tests)}")
    entries: dict[str, Entry] = {}
    for index, test in enumerate(tests):
        entry = _entry(f"{where}: tests[{index}]", test)
        if entry.id in entries:
            raise MatrixInputError(f"{where}: tests[{index}]: the check id {entry.id!r} appears twice")
        entries[entry.id] = entry
    return Column(where, name, version, f"{match.group(1)}.{match.group(2)}", entries)


def _entry(where: str, test: Any) -> Entry:
    if not isinstance(test, dict):
        raise MatrixInputError(f"{where}: must be an object, got {_kind(test)}")
    cid = _text(where, "id", test.get("id"))
    where = f"{where} ({cid})"
    if test.get("outcome") not in _OUTCOMES:
        raise MatrixInputError(
            f"{where}: unknown outcome {test.get('outcome')!r}; expected one of {', '.join(_OUTCOMES)}"
        )
    for key in ("area", "reference", "level", "message", "verdict", "expectation", "advisory", "fixed_in"):
        value = test.get(key)
        if value is not None and not isinstance(value, str):
            raise MatrixInputError(f"{where}: {key!r} must be a string or null, got {_kind(value)}")
    verdict, detail = verdict_of(test)
    return Entry(
        id=cid,
        area=test.get("area") or cid.partition(".")[0] or "unknown",
        reference=test.get("reference") or "(no reference)",
        level=test.get("level") or "",
        verdict=verdict,
        detail=detail,
        message=_stable_message(test.get("message") or ""),
        expectation=test.get("expectation") or "",
        advisory=test.get("advisory") or "",
        fixed_in=test.get("fixed_in") or "",
    )


def _text(where: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MatrixInputError(f"{where}: {key!r} must be a non-empty string, got {_kind(value)}")
    return value.strip()


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return "an object" if isinstance(value, dict) else "a list"
    return f"{value!r} ({type(value).__name__})"


# The part of a message that is the same in every run of the same environment. The bytes
# exchanged come last in a message (conformance.wire formats them so) and carry ports,
# WebSocket keys and masks; tracebacks in the implementation's log carry install paths.
_TRANSCRIPT = re.compile(r"^[ \t]*bytes exchanged:", re.MULTILINE)
_INSTALL_PATH = re.compile(r"(?:/[^/\s\"']+)+?/(lib/python\d+(?:\.\d+)?/)")
_ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]+")


def _stable_message(message: str) -> str:
    found = _TRANSCRIPT.search(message)
    if found is not None:
        message = message[: found.start()].rstrip() + "\n(the bytes exchanged are in the results file)"
    message = _INSTALL_PATH.sub(r".../\1", message)
    message = _ADDRESS.sub("at 0x...", message)
    message = "\n".join(line.rstrip() for line in message.strip().splitlines())
    if len(message) > _MESSAGE_LIMIT:
        message = message[:_MESSAGE_LIMIT].rstrip() + "\n... (cut here; the results file has the whole message)"
    return message


def expand_inputs(arguments: Iterable[str]) -> list[Path]:
    """Files named by the arguments: a file, a directory (its ``*.json``) or a glob pattern.

    Patterns are expanded here too, so that tools that do not use a shell (tox) can pass
    ``results/*.json``. The result is sorted and without duplicates.

    Raises:
        MatrixInputError: an argument matches nothing.
    """
    found: set[Path] = set()
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            files = sorted(p for p in path.glob("*.json") if p.is_file())
            if not files:
                raise MatrixInputError(f"{argument}: no *.json files in this directory")
            found.update(files)
        elif path.exists() or not any(c in argument for c in "*?["):
            found.add(path)  # a missing file is reported by load_results, with its name
        else:
            matches = [Path(p) for p in glob.glob(argument) if Path(p).is_file()]
            if not matches:
                raise MatrixInputError(f"{argument}: the pattern matches no file")
            found.update(matches)
    return sorted(found)


# -- merging --------------------------------------------------------------------------------


@dataclass
class Score:
    """Counts of one area (or of every area) in one column, and its percentage."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(VERDICTS, 0))

    @property
    def met(self) -> int:
        return sum(self.counts[v] for v in _MET)

    @property
    def judged(self) -> int:
        return sum(self.counts[v] for v in _JUDGED)

    @property
    def percent(self) -> int | None:
        """``met / judged`` in percent, rounded down (100 means every judged check was met);
        None when nothing was judged."""
        return None if self.judged == 0 else self.met * 100 // self.judged


@dataclass
class Row:
    id: str
    level: str
    cells: list[Entry | None]

    @property
    def verdicts(self) -> list[str]:
        return [c.verdict if c is not None else NOT_RUN for c in self.cells]


@dataclass
class Group:
    reference: str
    rows: list[Row]


@dataclass
class Matrix:
    """The merged view: columns in a fixed order, rows grouped by area then reference."""

    columns: list[Column]
    areas: dict[str, list[Group]]  #: area -> its references, in order
    scores: dict[str, list[Score]]  #: area (and "all areas") -> one Score per column

    def cell(self, check_id: str, column: int) -> Entry | None:
        for groups in self.areas.values():
            for group in groups:
                for row in group.rows:
                    if row.id == check_id:
                        return row.cells[column]
        raise KeyError(check_id)


ALL_AREAS = "all areas"


def build(columns: Sequence[Column]) -> Matrix:
    """Merge the columns: order them, group the checks, count the verdicts.

    Columns are grouped by family (`FAMILIES`), then ordered by implementation name, then
    newest version, then newest Python, whatever the order of the inputs. A check's area, reference and level are
    taken from the first column that has it.

    Raises:
        MatrixInputError: two files are results of the same implementation, version and
            Python (the page would have two identical columns).
    """
    ordered = sorted(columns, key=lambda c: _natural(c.python), reverse=True)
    ordered = sorted(ordered, key=lambda c: _natural(c.version), reverse=True)
    ordered = sorted(ordered, key=lambda c: _natural(c.name))
    ordered = sorted(ordered, key=lambda c: FAMILIES.index(c.family))
    seen: dict[str, str] = {}
    for column in ordered:
        if column.label in seen:
            raise MatrixInputError(
                f"{seen[column.label]} and {column.path}: both are results of {column.label}; give the matrix one file per "
                "implementation, version and Python"
            )
        seen[column.label] = column.path
    first: dict[str, Entry] = {}
    for column in ordered:
        for cid, entry in column.entries.items():
            first.setdefault(cid, entry)
    order = list(AREAS)
    by_area: dict[str, dict[str, list[Row]]] = {}
    for cid in sorted(first, key=_natural):
        meta = first[cid]
        row = Row(cid, meta.level, [column.entries.get(cid) for column in ordered])
        by_area.setdefault(meta.area, {}).setdefault(meta.reference, []).append(row)
    areas = {
        area: [Group(ref, by_area[area][ref]) for ref in sorted(by_area[area], key=_natural)]
        for area in sorted(by_area, key=lambda a: (order.index(a) if a in order else len(order), a))
    }
    scores: dict[str, list[Score]] = {}
    for area, groups in [*areas.items(), (ALL_AREAS, [g for gs in areas.values() for g in gs])]:
        row_scores = [Score() for _ in ordered]
        for group in groups:
            for row in group.rows:
                for score, verdict in zip(row_scores, row.verdicts):
                    score.counts[verdict] += 1
        scores[area] = row_scores
    return Matrix(ordered, areas, scores)


def _natural(text: str) -> tuple[tuple[int, int, str], ...]:
    # "6.10" after "6.9", "§10.2" after "§5.4": digits compare as numbers.
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", text) if p)


# -- rendering ------------------------------------------------------------------------------

_CSS = """
:root { color-scheme: light; --line: #c8ccd2; --muted: #555b63; }
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #16191d;
  margin: 0 1.2rem 3rem; background: #fff; }
h1 { font-size: 1.5rem; margin: 1rem 0 .3rem; }
h2 { font-size: 1.15rem; margin: 1.6rem 0 .5rem; }
p { margin: .3rem 0; max-width: 60rem; }
.muted, small { color: var(--muted); }
table { border-collapse: collapse; }
th, td { border: 1px solid var(--line); padding: .2rem .4rem; vertical-align: top; }
thead th { background: #eef0f3; font-weight: 600; text-align: left; }
.col { min-width: 4rem; max-width: 6.5rem; font-size: .75rem; line-height: 1.25; padding: .2rem .25rem; }
tr.family th { text-align: center; font-size: .75rem; background: #e3e7ec; overflow-wrap: anywhere; }
col.fs { border-left: 3px solid #7a8089; }
.summary td { text-align: center; font-size: .8rem; }
.summary tbody th { text-align: left; min-width: 12rem; max-width: 18rem; }
.summary .pct { font-size: 1.15rem; font-weight: 700; }
.summary tr.total th, .summary tr.total td { border-top: 2px solid #7a8089; }
.matrix { margin-top: .5rem; }
.matrix thead { position: sticky; top: 0; z-index: 2; }
.matrix tr.area th { background: #dfe6ee; font-size: 1.05rem; text-align: left; padding: .4rem; }
.matrix tr.ref th, .matrix tr.ref td { background: #f5f6f8; }
.matrix tr.ref th { text-align: left; overflow-wrap: anywhere; }
.matrix tr.ref td { text-align: center; color: var(--muted); font-size: .85rem; }
.matrix th.check { font-weight: normal; text-align: left; min-width: 13rem; max-width: 24rem; overflow-wrap: anywhere;
  position: sticky; left: 0; background: #fff; z-index: 1; }
.matrix th.check code { font-size: .78rem; }
.matrix td.level { font-size: .7rem; color: var(--muted); padding: .2rem .25rem; }
code.opt { white-space: nowrap; font-size: .8rem; }
code { font: .85rem/1.3 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
td.v { font-size: .72rem; line-height: 1.2; text-align: center; padding: .2rem .2rem; }
td.v details { white-space: normal; font-weight: normal; }
td.v summary { cursor: pointer; list-style: none; }
td.v summary::-webkit-details-marker { display: none; }
td.v pre { white-space: pre-wrap; overflow-wrap: anywhere; max-width: 40rem; min-width: 18rem; margin: .3rem 0; text-align: left;
  font: .8rem/1.3 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; color: #16191d; }
.pass { background: #d5f0d8; color: #0d5218; }
.non-strict { background: #eef4c8; color: #4a5200; }
.fail { background: #f9d2d0; color: #8a1010; }
.expected { background: #fbe6c8; color: #7a4500; }
.stale { background: #e6d8f5; color: #4b1d7e; }
.not-provided { background: #e4e6ea; color: #3f454d; }
.skipped { background: #f1f2f4; color: #555b63; }
.not-run { background: #fff; color: #8a9099; font-weight: normal; }
dl.legend { display: grid; grid-template-columns: max-content 1fr; gap: .25rem .8rem; max-width: 60rem; }
dl.legend dt { padding: .1rem .5rem; font-weight: 600; text-align: center; }
dl.legend dd { margin: 0; align-self: center; }
form.filters { display: flex; flex-wrap: wrap; gap: .4rem 1.2rem; align-items: center; margin: .4rem 0; }
form.filters input[type=search] { min-width: 18rem; padding: .2rem .4rem; }
[hidden] { display: none !important; }
"""

# Progressive enhancement only: the page is complete without it.
_JS = """
(function () {
  "use strict";
  var form = document.getElementById("filters");
  var table = document.getElementById("matrix");
  if (!form || !table) { return; }
  var rows = Array.prototype.slice.call(table.querySelectorAll("tr.check"));
  var heads = Array.prototype.slice.call(table.querySelectorAll("tr.ref, tr.area"));
  var shown = document.getElementById("shown");
  function apply() {
    var query = form.elements.q.value.trim().toLowerCase();
    var differ = form.elements.differ.checked;
    var problems = form.elements.problems.checked;
    var visible = 0;
    var byGroup = {};
    rows.forEach(function (row) {
      var show = (!query || row.getAttribute("data-check").toLowerCase().indexOf(query) !== -1) &&
        (!differ || row.getAttribute("data-uniform") !== "1") &&
        (!problems || row.getAttribute("data-clean") !== "1");
      row.hidden = !show;
      if (show) {
        visible += 1;
        byGroup[row.getAttribute("data-ref")] = true;
        byGroup[row.getAttribute("data-area")] = true;
      }
    });
    heads.forEach(function (head) {
      var key = head.getAttribute(head.classList.contains("ref") ? "data-ref" : "data-area");
      head.hidden = !byGroup[key];
    });
    shown.textContent = visible + " of " + rows.length + " checks shown";
  }
  form.addEventListener("input", apply);
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  document.getElementById("expand").addEventListener("click", function () {
    var all = table.querySelectorAll("td.v details");
    var open = !Array.prototype.some.call(all, function (d) { return d.open; });
    Array.prototype.forEach.call(all, function (d) { d.open = open; });
  });
  form.hidden = false;
  apply();
}());
"""


def render(matrix: Matrix, *, title: str = "Tornado conformance matrix", note: str = "") -> str:
    """The page, as text: one self-contained HTML document.

    Args:
        matrix: what `build` returned.
        title: the page's title and heading.
        note: free text shown under the heading (a date, say); the page contains no
            time of its own, so that the same inputs give the same bytes.
    """
    e = _escape
    n = len(matrix.columns)
    out: list[str] = []
    add = out.append
    add("<!DOCTYPE html>")
    add('<html lang="en">')
    add("<head>")
    add('<meta charset="utf-8">')
    add('<meta name="viewport" content="width=device-width, initial-scale=1">')
    add(
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        f"style-src '{_sha256(_CSS)}'; script-src '{_sha256(_JS)}'; img-src data:\">"
    )
    add('<meta name="generator" content="tornado-conformance-matrix">')
    add('<link rel="icon" href="data:,">')
    add(f"<title>{e(title)}</title>")
    add(f"<style>{_CSS}</style>")
    add("</head>")
    add("<body>")
    add(f"<h1>{e(title)}</h1>")
    if note:
        add(f'<p class="note">{e(note)}</p>')
    checks = sum(len(g.rows) for gs in matrix.areas.values() for g in gs)
    add(
        f'<p class="muted">{n} run{"s" if n != 1 else ""} of the kit, {checks} checks in {len(matrix.areas)} areas. '
        "Each cell is the verdict of one check on one implementation; hover over it, or open it, for the message. "
        'See <a href="#legend">the legend</a> and <a href="#percentages">how percentages are counted</a>.</p>'
    )
    missing = [(c, matrix.scores[ALL_AREAS][k].counts[NOT_RUN]) for k, c in enumerate(matrix.columns)]
    missing = [(c, count) for c, count in missing if count]
    if missing:
        runs = "; ".join(f"{e(c.label)}: {count}" for c, count in missing)
        add(
            f'<p class="not-run-count">{sum(count for _, count in missing)} cells are <em>not run</em>: checks '
            "missing from a results file (recorded by an older kit, or with a selection such as "
            f'<code class="opt">-m http11</code>). Not judged, so the percentages leave them out. By run: {runs}.</p>'
        )

    add('<h2 id="summary">Conformance per area</h2>')
    add('<table class="summary">')
    add(_colgroup(matrix.columns, 1))
    add("<thead>" + _family_row(matrix.columns, 1))
    add("<tr><th>area</th>" + "".join(f'<th class="col">{_column_head(c)}</th>' for c in matrix.columns))
    add("</tr></thead><tbody>")
    for area, scores in matrix.scores.items():
        cls = ' class="total"' if area == ALL_AREAS else ""
        about = f"<br><small>{e(AREAS[area])}</small>" if area in AREAS else ""
        add(
            f'<tr{cls} data-area="{e(area)}"><th>{e(area)}{about}</th>'
            + "".join(_score_cell(s) for s in scores)
            + "</tr>"
        )
    add("</tbody></table>")
    add(
        '<p id="percentages" class="muted">Percentage = met / judged, rounded down (100% only when every judged '
        "check was met). <em>Met</em>: pass, and stale (it passed). <em>Judged</em>: every check that ran to a "
        "verdict: pass, non-strict, fail, expected and stale. Non-strict and expected count as judged but not met, "
        "and are shown apart, as are not provided, skipped and not run, which are not judged.</p>"
    )

    add('<h2 id="legend">Legend</h2>')
    add('<dl class="legend">')
    for verdict, meaning in VERDICTS.items():
        meaning = re.sub(r"(--[a-z-]+|-m http11)", r'<code class="opt">\1</code>', e(meaning))
        add(f'<dt class="{verdict}">{_label(verdict)}</dt><dd>{meaning}</dd>')
    add("</dl>")

    add('<h2 id="checks">Checks by area and reference</h2>')
    add('<form id="filters" class="filters" hidden>')
    add('<label>check id contains <input type="search" name="q" id="f-query"></label>')
    add('<label><input type="checkbox" name="differ" id="f-differ"> only checks whose verdicts differ</label>')
    add('<label><input type="checkbox" name="problems" id="f-problems"> only checks not passed everywhere</label>')
    add('<button type="button" id="expand">open or close every message</button>')
    add('<output id="shown"></output>')
    add("</form>")
    add('<table class="matrix" id="matrix">')
    add(_colgroup(matrix.columns, 2))
    add(
        "<thead>"
        + _family_row(matrix.columns, 2)
        + "<tr><th>check</th><th>level</th>"
        + "".join(f'<th class="col">{_column_head(c)}</th>' for c in matrix.columns)
        + "</tr></thead>"
    )
    ref_index = 0
    for area, groups in matrix.areas.items():
        add(f'<tbody data-area="{e(area)}">')
        about = f" <small>{e(AREAS[area])}</small>" if area in AREAS else ""
        add(
            f'<tr class="area" data-area="{e(area)}"><th colspan="{n + 2}" id="area-{e(area)}">{e(area)}{about}</th></tr>'
        )
        for group in groups:
            ref_index += 1
            ref = f"r{ref_index}"
            add(
                f'<tr class="ref" data-ref="{ref}"><th colspan="2">{e(group.reference)}</th>'
                + "".join(_group_cell(group, k) for k in range(n))
                + "</tr>"
            )
            for row in group.rows:
                verdicts = row.verdicts
                uniform = "1" if len(set(verdicts)) == 1 else "0"
                clean = "1" if all(v == PASS for v in verdicts) else "0"
                add(
                    f'<tr class="check" data-check="{e(row.id)}" data-area="{e(area)}" data-ref="{ref}" '
                    f'data-uniform="{uniform}" data-clean="{clean}">'
                    f'<th class="check" id="{e(row.id)}"><code>{e(row.id)}</code></th><td class="level">{e(row.level)}</td>'
                    + "".join(_cell(c) for c in row.cells)
                    + "</tr>"
                )
        add("</tbody>")
    add("</table>")
    add_fixes(add, matrix.columns)
    add(
        '<p class="muted">Made by <code>tornado-conformance-matrix</code> from the results files of '
        "<code>--conformance-json</code>; the bytes exchanged, durations and metrics stay in those files.</p>"
    )
    add(f"<script>{_JS}</script>")
    add("</body>")
    add("</html>")
    return "\n".join(out) + "\n"


#: a cell verdict as the outcome a results file records, for conformance.history
_AS_OUTCOME = {PASS: "passed", STALE: "xpassed", NON_STRICT: "non-strict", FAIL: "failed", EXPECTED: "xfailed"}


def add_fixes(add: Any, columns: Sequence[Column]) -> None:
    """The section answering "which of Tornado's fixes does this build carry?", a row per
    fix recorded in Tornado's shipped expectations, grouped by the release that made it."""
    from .history import CARRIES, LACKS, by_release, shipped_fixes

    fixes = shipped_fixes()
    outcomes = [{cid: _AS_OUTCOME.get(e.verdict, "skipped") for cid, e in c.entries.items()} for c in columns]
    tables = [by_release(fixes, o) for o in outcomes]
    if not fixes or not any(t[r][CARRIES] or t[r][LACKS] for t in tables for r in t):
        return
    e = _escape
    add('<h2 id="fixes">Tornado\'s fixes, release by release</h2>')
    add(
        '<p class="muted">Each row is a fix Tornado made (an entry of <code>conformance/deviations/tornado.toml</code> '
        "with the release that fixed it): a build <em>carries</em> it when the checks it names pass there (or meet "
        "the rule's intent, non-strict), and <em>lacks</em> it when one fails. A fork or a distribution's patched "
        "build reads as a release plus the fixes it carries from later ones.</p>"
    )
    add('<table class="matrix fixes">')
    add(_colgroup(columns, 1))
    add("<thead>" + _family_row(columns, 1))
    add("<tr><th>fix (check)</th>" + "".join(f'<th class="col">{_column_head(c)}</th>' for c in columns))
    add("</tr></thead>")
    for release in tables[0]:
        add(f'<tbody><tr class="area"><th colspan="{len(columns) + 1}">fixed in {e(release)}</th></tr>')
        for fix in [f for f in fixes if f.release == release]:
            cells = []
            for table in tables:
                state = next(s for s, members in table[release].items() if fix in members)
                cls = {CARRIES: PASS, LACKS: FAIL}.get(state, NOT_RUN)
                cells.append(f'<td class="v {cls}">{e(state)}</td>')
            advisory = f" <small>{e(fix.advisory)}</small>" if fix.advisory else ""
            add(f'<tr><th class="check"><code>{e(fix.name)}</code>{advisory}</th>' + "".join(cells) + "</tr>")
        add("</tbody>")
    add("</table>")


def _escape(text: str) -> str:
    return html.escape(text, quote=True)


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def _label(verdict: str) -> str:
    return _LABELS.get(verdict, verdict)


def _family_row(columns: Sequence[Column], lead: int) -> str:
    """The header row naming each family over its columns (after ``lead`` other cells)."""
    cells = [f'<th colspan="{lead}"></th>']
    for family, members in itertools.groupby(columns, key=lambda c: c.family):
        count = len(list(members))
        cells.append(f'<th class="family" colspan="{count}">{_escape(family)}</th>')
    return '<tr class="family">' + "".join(cells) + "</tr>"


def _colgroup(columns: Sequence[Column], lead: int) -> str:
    """One ``col`` per column, the first of each family marked (a rule between families)."""
    cols = ["<col>"] * lead
    previous = None
    for column in columns:
        cols.append('<col class="fs">' if column.family != previous else "<col>")
        previous = column.family
    return "<colgroup>" + "".join(cols) + "</colgroup>"


def _column_head(column: Column) -> str:
    # Long module names (conformance.fixtures.broken.x) may break after a dot or underscore.
    name = re.sub(r"([._:+-])", r"\1<wbr>", _escape(column.name))
    version = re.sub(r"([.+-])", r"\1<wbr>", _escape(column.version))
    return f'{name}<br>{version}<br><small title="Python {_escape(column.python)}">py{_escape(column.python)}</small>'


def _score_cell(score: Score) -> str:
    counts = score.counts
    parts = [f"{score.met} of {score.judged} met" if score.judged else "nothing judged"]
    parts += [
        f"{counts[v]} {_label(v)}" for v in (NON_STRICT, FAIL, EXPECTED, NOT_PROVIDED, SKIPPED, NOT_RUN) if counts[v]
    ]
    percent = "&ndash;" if score.percent is None else f"{score.percent}%"
    data = f'data-met="{score.met}" data-judged="{score.judged}" data-percent="{"" if score.percent is None else score.percent}"'
    return f'<td {data}><span class="pct">{percent}</span><br><small>{"<br>".join(parts)}</small></td>'


def _group_cell(group: Group, column: int) -> str:
    score = Score()
    for row in group.rows:
        score.counts[row.verdicts[column]] += 1
    text = "" if score.judged == 0 else f"{score.met}/{score.judged}"
    return f'<td title="checks met / judged">{text}</td>'


def _cell(entry: Entry | None) -> str:
    if entry is None:
        return f'<td class="v {NOT_RUN}">{_label(NOT_RUN)}</td>'
    label = _label(entry.verdict)
    if entry.verdict == FAIL and entry.detail != Verdict.FAILED:
        label = f"fail: {entry.detail}"
    lines = [entry.message] if entry.message else []
    if entry.expectation and entry.verdict in (EXPECTED, STALE):
        lines.append(f"expectation: {entry.expectation}")
    if entry.advisory:
        lines.append(f"advisory: {entry.advisory}")
    if entry.fixed_in:
        lines.append(f"fixed in: {entry.fixed_in}")
    if not lines:
        return f'<td class="v {entry.verdict}">{label}</td>'
    text = "\n".join(lines)
    title = text if len(text) <= _TITLE_LIMIT else text[:_TITLE_LIMIT].rstrip() + " ..."
    return (
        f'<td class="v {entry.verdict}" title="{_escape(title)}"><details><summary>{label}</summary>'
        f"<pre>{_escape(text)}</pre></details></td>"
    )


# -- command line ---------------------------------------------------------------------------


#: the cells of a check that fails a run (a failure, or a stale expectation)
_FAILING = (FAIL, STALE)


@dataclass(frozen=True)
class Change:
    """One check whose cell differs between two results files (`diff`)."""

    kind: str  #: ``new failure``, ``fixed`` or ``changed``
    id: str
    old: str  #: the cell in BASE (with its detail, e.g. ``fail (timeout)``), or ``not run``
    new: str
    message: str  #: the first line of the new message

    def line(self) -> str:
        tail = f": {self.message}" if self.message else ""
        return f"{self.kind:<12} {self.id}: {self.old} \u2192 {self.new}{tail}"


def _diff_cell(entry: Entry | None) -> str:
    if entry is None:
        return _LABELS[NOT_RUN]
    word = _LABELS.get(entry.verdict, entry.verdict)
    return f"{word} ({entry.detail})" if entry.detail not in ("", str(Verdict.FAILED)) else word


def diff(base: Column, new: Column) -> list[Change]:
    """The checks whose verdict changed from ``base`` to ``new``, new failures first.

    A *new failure* fails ``new`` (``fail`` or ``stale``) and did not fail ``base`` (or
    was not run there); *fixed* failed ``base`` and does not fail ``new``; *changed* is any
    other change of verdict (``pass`` to ``non-strict``, ``fail (failed)`` to
    ``fail (timeout)``, ``expected`` to ``pass`` ...). A check that ``new`` did not run
    (removed, or not selected) is *changed* to ``not run``; one that only ``new`` ran and
    that does not fail is not listed.
    """
    changes: list[Change] = []
    for cid in sorted(set(base.entries) | set(new.entries)):
        was, now = base.entries.get(cid), new.entries.get(cid)
        old_cell, new_cell = _diff_cell(was), _diff_cell(now)
        if old_cell == new_cell or (was is None and now is not None and now.verdict not in _FAILING):
            continue
        message = (now.message.strip().splitlines() or [""])[0] if now is not None else ""
        failing_now = now is not None and now.verdict in _FAILING
        failing_before = was is not None and was.verdict in _FAILING
        if failing_now and not failing_before:
            kind = "new failure"
        elif failing_before and not failing_now and now is not None:
            kind = "fixed"
        else:
            kind = "changed"
        changes.append(
            Change(kind, cid, old_cell, new_cell, message if now is not None and now.verdict != PASS else "")
        )
    order = {"new failure": 0, "fixed": 1, "changed": 2}
    return sorted(changes, key=lambda c: (order[c.kind], c.id))


def diff_main(args: Sequence[str]) -> int:
    """``tornado-conformance-matrix --diff BASE.json NEW.json``: exit 1 on a new failure, 4 on bad input."""
    if len(args) != 2 or any(a.startswith("-") for a in args):
        print(
            f"{PROG}: error: --diff takes two results files: {PROG} --diff BASE.json NEW.json (got {' '.join(args) or 'none'})",
            file=sys.stderr,
        )
        return 4
    try:
        base, new = load_results(args[0]), load_results(args[1])
    except MatrixInputError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 4
    changes = diff(base, new)
    for change in changes:
        print(change.line())
    counts = {kind: sum(c.kind == kind for c in changes) for kind in ("new failure", "fixed", "changed")}
    print(
        f"{PROG} --diff: {counts['new failure']} new failure{'s' if counts['new failure'] != 1 else ''}, "
        f"{counts['fixed']} fixed, {counts['changed']} changed ({base.label} \u2192 {new.label})"
    )
    return 1 if counts["new failure"] else 0


def main(argv: Sequence[str] | None = None) -> int:
    """``tornado-conformance-matrix FILES... -o OUT [--check]``: write, or check, the page;
    ``tornado-conformance-matrix --diff BASE.json NEW.json``: compare two runs (`diff_main`).

    Returns:
        0 when written (or up to date under ``--check``), 1 when ``--check`` finds the
        output missing or stale, 2 for unusable inputs or arguments; under ``--diff``,
        1 on a new failure, 4 for unusable inputs or arguments, else 0.

    Example::

        tornado-conformance-matrix results/*.json -o docs/matrix.html
        tornado-conformance-matrix results/ -o docs/matrix.html --check
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] == "--diff":
        return diff_main(args_list[1:])
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Merge results files written by --conformance-json into one static HTML page.",
    )
    parser.add_argument(
        "inputs", nargs="+", metavar="RESULTS", help="results JSON files, directories of them, or glob patterns"
    )
    parser.add_argument("-o", "--output", required=True, metavar="HTML", help="the page to write (or to check)")
    parser.add_argument("--title", default="Tornado conformance matrix", help="the page's title")
    parser.add_argument(
        "--note", default="", help="free text under the title, e.g. a date (the page has none of its own)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when the output differs from what the inputs render (a stale committed page)",
    )
    args = parser.parse_args(args_list)
    try:
        files = expand_inputs(args.inputs)
        page = render(build([load_results(f) for f in files]), title=args.title, note=args.note)
    except MatrixInputError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    output = Path(args.output)
    fresh = page.encode("utf-8")
    if args.check:
        return _check(output, fresh, len(files), args)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(fresh)
    print(f"{PROG}: wrote {output} ({len(files)} results files)")
    return 0


def _check(output: Path, fresh: bytes, count: int, args: argparse.Namespace) -> int:
    again = " ".join([PROG, *args.inputs, "-o", str(output)])
    try:
        committed = output.read_bytes()
    except OSError as exc:
        print(f"{PROG}: {output} cannot be read ({exc.strerror}); render it with: {again}", file=sys.stderr)
        return 1
    if committed == fresh:
        print(f"{PROG}: {output} is up to date with {count} results files")
        return 0
    old = committed.decode("utf-8", "replace").splitlines()
    new = fresh.decode("utf-8").splitlines()
    line = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
    was = old[line][:120] if line < len(old) else "(end of file)"
    now = new[line][:120] if line < len(new) else "(end of file)"
    print(
        f"{PROG}: {output} is stale: it differs from what the {count} results files render, first at line {line + 1}:\n"
        f"  in {output}: {was}\n  rendered now: {now}\n"
        f"re-render it with: {again}",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
