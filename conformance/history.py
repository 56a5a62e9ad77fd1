"""Which of Tornado's fixes an implementation carries, release by release (issue 18).

Every entry of the shipped ``conformance/deviations/tornado.toml`` that has a ``fixed_in``
is a fix Tornado made: the check it names failed on the releases before ``fixed_in`` and
passes from it on (the release envs of the matrix prove both). A run of any implementation
then says, for each such fix, whether the implementation *carries* it (every case the entry
names passed, or met the rule's intent: non-strict), *lacks* it (a case failed, or was
expected to fail by the implementation's own expectations), or whether it was *not run*
(not selected, or not provided). So a
fork reads as "6.5.7 plus these fixes, lacking those", and a distribution's patched build
as "6.2 plus these backported fixes".

An entry with a ``since`` is a regression and its fix: a build from before the regression
passes the check too, and reads as carrying it (it never had the bug).

Used by ``--history`` (a section at the end of a run) and by the matrix page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ._version import version_tuple
from .expectations import Expectation, load

CARRIES = "carries"
LACKS = "lacks"
NOT_RUN = "not run"

#: outcomes (as results files spell them) that mean the fix is there / is not. A non-strict
#: verdict met the rule's intent (a refusal by closing where a status code was due): the
#: behaviour the fix removed is gone, so it counts as carried, as it passes a default run.
_HELD = ("passed", "xpassed", "non-strict")
_BROKEN = ("failed", "xfailed")


@dataclass(frozen=True)
class Fix:
    """One fix: an entry of Tornado's expectations with the release that fixed it."""

    release: str  #: the entry's ``fixed_in``
    expectation: Expectation

    @property
    def name(self) -> str:
        """The check the entry names, with its cases: ``http11.x[plus-sign, minus-sign]``."""
        key = self.expectation.key
        cases = self.expectation.cases
        return f"{key}[{', '.join(cases)}]" if cases else key

    @property
    def advisory(self) -> str:
        return self.expectation.advisory or ""


def shipped_fixes(family: str = "tornado") -> list[Fix]:
    """Every fix recorded in the expectations shipped for ``family`` (Tornado's, or its curl
    client's: ``tornado-curl``), oldest release first."""
    from .expectations import shipped

    path = shipped(family)
    if path is None:
        return []
    # A flaky entry's bounds say where a verdict depends on the machine, not what a release fixed.
    entries = [e for e in load(path) if e.fixed_in and e.status != "flaky"]
    fixes = [Fix(str(e.fixed_in), e) for e in entries]
    return sorted(fixes, key=lambda f: (version_tuple(f.release) or (), f.name))


def status(fix: Fix, outcomes: Mapping[str, str]) -> str:
    """``carries``, ``lacks`` or ``not run``: the fix as the outcomes of one run show it.

    Args:
        fix: what `shipped_fixes` returned.
        outcomes: check id -> outcome, as a results file spells it (``passed``...).
    """
    seen = [outcome for cid, outcome in outcomes.items() if fix.expectation.matches(cid)]
    if any(outcome in _BROKEN for outcome in seen):
        return LACKS
    if any(outcome in _HELD for outcome in seen):
        return CARRIES
    return NOT_RUN


def by_release(fixes: Iterable[Fix], outcomes: Mapping[str, str]) -> dict[str, dict[str, list[Fix]]]:
    """release -> status -> the fixes of that release with that status."""
    table: dict[str, dict[str, list[Fix]]] = {}
    for fix in fixes:
        table.setdefault(fix.release, {CARRIES: [], LACKS: [], NOT_RUN: []})[status(fix, outcomes)].append(fix)
    return table


def summary_lines(outcomes: Mapping[str, str], fixes: Iterable[Fix] | None = None) -> list[str]:
    """The ``--history`` section: per release, the fixes carried and the fixes lacked, by name."""
    fixes = shipped_fixes() if fixes is None else list(fixes)
    table = by_release(fixes, outcomes)
    count = {s: sum(len(row[s]) for row in table.values()) for s in (CARRIES, LACKS, NOT_RUN)}
    lines = [
        f"Tornado's fixes since 4.5 that a check observes ({sum(count.values())}, from conformance/deviations/"
        f"tornado.toml): this implementation carries {count[CARRIES]}, lacks {count[LACKS]}; "
        f"{count[NOT_RUN]} not run here."
    ]
    for release, row in table.items():
        judged = len(row[CARRIES]) + len(row[LACKS])
        if not judged:
            lines.append(f"  {release:<7} {len(row[NOT_RUN])} not run")
            continue
        head = f"  {release:<7} carries {len(row[CARRIES])} of {judged}"
        if row[NOT_RUN]:
            head += f" ({len(row[NOT_RUN])} not run)"
        lines.append(head + (":" if row[LACKS] else ""))
        for fix in row[LACKS]:
            advisory = f" ({fix.advisory})" if fix.advisory else ""
            lines.append(f"            lacks {fix.name}{advisory}")
    return lines
