"""docs/tornado-history.toml, the inventory of Tornado's release notes from 4.5.0 to 6.6.1
(issue 18): every bullet of every release is there, each is complete for its status, every
check id it names is one the kit collects, every fix the expectations record (``fixed_in``)
is named by the release that made it, and docs/tornado-history.md is rendered from it.

Run as a script to rewrite the page after editing the TOML:
``python tests/test_tornado_history.py``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from conformance.history import shipped_fixes

pytestmark = pytest.mark.primary_python

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[1]
TOML = ROOT / "docs" / "tornado-history.toml"
PAGE = ROOT / "docs" / "tornado-history.md"
EXPECTATIONS = ROOT / "conformance" / "deviations" / "tornado.toml"

#: The bullets of each release note (docs/releases/vX.Y.Z.rst in Tornado 6.6.1's sdist, its
#: Credits list left out): the inventory must hold exactly these, numbered 1..n.
RELEASES = {
    "4.5.0": 42, "4.5.1": 2, "4.5.2": 1, "4.5.3": 8,
    "5.0.0": 91, "5.0.1": 1, "5.0.2": 4, "5.1.0": 48, "5.1.1": 3,
    "6.0.0": 38, "6.0.1": 1, "6.0.2": 2, "6.0.3": 2, "6.0.4": 3,
    "6.1.0": 26, "6.2.0": 32, "6.3.0": 23, "6.3.1": 1, "6.3.2": 1, "6.3.3": 1,
    "6.4.0": 21, "6.4.1": 6, "6.4.2": 1,
    "6.5.0": 32, "6.5.1": 1, "6.5.2": 5, "6.5.3": 5, "6.5.4": 1, "6.5.5": 3, "6.5.6": 5,
    "6.5.7": 1, "6.5.8": 4, "6.5.9": 6, "6.5.10": 1,
    "6.6.0": 58, "6.6.1": 7,
}  # fmt: skip

KIND_ORDER = ("security", "bug fix", "behaviour change", "new feature", "deprecation", "removal", "support", "other")
KINDS = set(KIND_ORDER)
STATUSES = ("checked", "no-check-yet", "not-observable")
FIELDS = {
    "release", "item", "section", "summary", "kind", "status", "checks", "reason", "sketch", "advisory", "note",
    "fixed_in", "client",
}  # fmt: skip


def _version(release: str) -> tuple[int, ...]:
    return tuple(int(part) for part in release.split("."))


def _release(version: str) -> str:
    """'6.5' -> '6.5.0', as the release notes name it."""
    return ".".join([*version.split("."), "0", "0"][:3])


def load_all() -> dict[str, Any]:
    data: dict[str, Any] = tomllib.loads(TOML.read_text(encoding="utf-8"))
    return data


def load() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = load_all()["item"]
    return items


def recorded_fixes() -> list[tuple[str, str]]:
    """(check id, release) for every entry of Tornado's expectations that names the release
    that fixed it (``fixed_in``); a flaky entry's bound is where a verdict depends on the
    machine, not a fix."""
    checks = tomllib.loads(EXPECTATIONS.read_text(encoding="utf-8"))["checks"]
    return [
        (key, _release(entry["fixed_in"]))
        for key, value in checks.items()
        for entry in (value if isinstance(value, list) else [value])
        if "fixed_in" in entry and entry.get("status") != "flaky"
    ]


def _md(text: str) -> str:
    """Plain text for a table cell: no HTML, no emphasis, no cell breaks."""
    text = text.replace("\\", "\\\\").replace("<", "&lt;").replace("|", "\\|").replace("*", "\\*")
    return re.sub(r"(?<![A-Za-z0-9])_", r"\\_", text)


def render(items: list[dict[str, Any]], unlisted: list[dict[str, Any]]) -> str:
    """docs/tornado-history.md, from the TOML's items and unlisted fixes."""
    counts = Counter(item["status"] for item in items)
    by_release: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        by_release[item["release"]].append(item)
    lines = [
        "# Tornado's history, release note by release note (4.5.0 → 6.6.1)",
        "",
        "<!-- Rendered from docs/tornado-history.toml by `python tests/test_tornado_history.py`; edit the TOML. -->",
        "",
        f"**{len(items)} items: {counts['checked']} checked, {counts['no-check-yet']} no check yet, "
        f"{counts['not-observable']} not observable.**",
        "",
        "Every bullet of Tornado's release notes from 4.5.0 to 6.6.1 (`docs/releases/v*.rst` in Tornado's",
        "source distribution, the Credits lists left out), paraphrased, with what the kit makes of it.",
        "It is the inventory behind issue 18: a fork or a distribution's build that branched off at",
        "some release learns, from the checks named here, which later fixes it carries.",
        "A run answers that directly: `--history` ends it with every fix recorded in",
        "`conformance/deviations/tornado.toml` (an entry with a `fixed_in`), release by release, carried",
        "or lacked; the matrix page (docs/matrix.html) shows the same for every column.",
        "",
        "How to read a row:",
        "",
        "- **#** is the bullet's position in that release's notes, **section** the heading it sits under.",
        "- **kind**: bug fix, behaviour change, security (with the advisory where there is one), new",
        "  feature, deprecation, removal, support (Python versions, platforms, wheels), other (docs, demos,",
        "  performance, typing).",
        "- **observable?** yes: a black-box check can see it through the public API or the wire; no: the",
        "  last column says why not.",
        "- The last column names the checks that observe the item (ids as the summary prints them), or says",
        "  **no check yet** and sketches what the check would send or do and observe, or gives the reason it",
        "  cannot be observed. A *note* is a caveat about the mapping.",
        "",
        "Each checked item is proven against the matrix's runs (results/ and results/history/): a case of",
        "its checks fails on the last release before the fix, or is not provided there for a feature the",
        "release added, and passes on the fix release (`tests/test_tornado_history.py`, one test per",
        "item). The fix release is the item's own, or the one its `fixed_in` names (*proven on*): an",
        "earlier patch release that shipped the same fix first (5.0.0 repeats 4.5.3's fixes), or a later",
        "one from which the item works as the notes say (its note says why). Items of the curl client",
        "(*curl client*) are judged in the curl client's runs (`tox -m history-curl`). The items whose",
        "proof does not hold yet are listed in that test's `NOT_YET_ADJACENT`, each with the reason.",
        "",
        "How it is kept: `docs/tornado-history.toml` is the source (one `[[item]]` per bullet, with",
        "`release`, `item`, `section`, `summary`, `kind`, `status`, `checks`, `reason` or `sketch`,",
        "`advisory`, `note`, `fixed_in`, `client`); this page is rendered from it by",
        "`python tests/test_tornado_history.py`.",
        "`tests/test_tornado_history.py` fails when a release or a bullet is missing, when an item lacks",
        "its checks, sketch or reason, when a check id it names is not one the kit collects, or when this",
        "page differs from the TOML. When a check is written for an item, move it to `checked`, name the",
        "check, and record the releases it fails in the expectations file with `fixed_in`.",
        "",
        "| kind | items | checked | no check yet | not observable |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind in KIND_ORDER:
        c = Counter(item["status"] for item in items if item["kind"] == kind)
        lines.append(f"| {kind} | {sum(c.values())} | {c['checked']} | {c['no-check-yet']} | {c['not-observable']} |")
    lines += [
        "",
        "| release | items | checked | no check yet | not observable |",
        "|---|---:|---:|---:|---:|",
    ]
    for release in sorted(by_release, key=_version):
        c = Counter(item["status"] for item in by_release[release])
        lines.append(
            f"| [{release}](#{release.replace('.', '')}) | {len(by_release[release])} | {c['checked']} | "
            f"{c['no-check-yet']} | {c['not-observable']} |"
        )
    lines += [
        "",
        "Fixes the kit records (a `fixed_in` in `conformance/deviations/tornado.toml`) that no release note",
        "names:",
        "",
        "| fixed in | check | what changed |",
        "|---|---|---|",
    ]
    for fix in unlisted:
        lines.append(f"| {fix['fixed_in']} | `{fix['check']}` | {_md(fix['summary'])} |")
    for release in sorted(by_release, key=_version):
        lines += [
            "",
            f"## {release}",
            "",
            "| # | section | note | kind | observable? | checks, or what a check would do, or why not |",
            "|---:|---|---|---|---|---|",
        ]
        for item in by_release[release]:
            kind = item["kind"] + (f" ({item['advisory']})" if item.get("advisory") else "")
            if item["status"] == "checked":
                last = ", ".join(f"`{check}`" for check in item["checks"])
            elif item["status"] == "no-check-yet":
                last = "**no check yet**: " + _md(item["sketch"])
            else:
                last = _md(item["reason"])
            if item.get("client"):
                last += f" (the {item['client']} client)"
            if item.get("fixed_in"):
                last += f" *Proven on {item['fixed_in']} against the release before it.*"
            if item.get("note"):
                last += " *Note: " + _md(item["note"]) + "*"
            observable = "no" if item["status"] == "not-observable" else "yes"
            lines.append(
                f"| {item['item']} | {_md(item['section'])} | {_md(item['summary'])} | {kind} | {observable} | {last} |"
            )
    return "\n".join(lines) + "\n"


def collected_check_ids(cwd: Path) -> set[str]:
    """The kit's check ids (``<area>.<name>[case]``, and the bare ``<area>.<name>``), from a
    ``--collect-only`` run against Tornado, as a user collects them."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--impl=tornado", "--collect-only", "-q"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    ids: set[str] = set()
    for line in proc.stdout.splitlines():
        path, sep, rest = line.strip().partition("::")
        if not sep:
            continue
        area = path.split("/", 1)[0]
        name, _, case = rest.partition("[")
        bare = f"{area}.{name.removeprefix('test_')}"
        ids.add(bare)
        if case:
            ids.add(f"{bare}[{case}")
    assert len(ids) > 200, proc.stdout[-3000:] + proc.stderr[-3000:]
    return ids


@pytest.fixture(scope="module")
def items() -> list[dict[str, Any]]:
    return load()


def test_every_bullet_of_every_release_from_4_5_to_6_6_1_is_an_item(items: list[dict[str, Any]]) -> None:
    numbers: dict[str, list[int]] = defaultdict(list)
    for item in items:
        numbers[item["release"]].append(item["item"])
    assert sorted(numbers, key=_version) == list(RELEASES), "releases missing or unknown"
    wrong = {
        release: numbers[release]
        for release, count in RELEASES.items()
        if numbers[release] != list(range(1, count + 1))
    }
    assert not wrong, f"items must be numbered 1..n in the notes' order, n the release's bullets: {wrong}"


def test_every_item_is_complete_for_its_status(items: list[dict[str, Any]]) -> None:
    problems = []
    for item in items:
        where = f"{item.get('release')} #{item.get('item')}"
        if set(item) - FIELDS:
            problems.append(f"{where}: unknown fields {sorted(set(item) - FIELDS)}")
        if not {"release", "item", "section", "summary", "kind", "status", "checks"} <= set(item):
            problems.append(f"{where}: lacks one of release, item, section, summary, kind, status, checks")
            continue
        if item["kind"] not in KINDS:
            problems.append(f"{where}: kind {item['kind']!r}")
        if not item["summary"].strip():
            problems.append(f"{where}: empty summary")
        status = item["status"]
        if status not in STATUSES:
            problems.append(f"{where}: status {status!r}")
        elif status == "checked" and not item["checks"]:
            problems.append(f"{where}: checked, but names no check")
        elif status != "checked" and item["checks"]:
            problems.append(f"{where}: {status}, but names checks")
        if status == "not-observable" and not item.get("reason", "").strip():
            problems.append(f"{where}: not-observable without a reason")
        if status == "no-check-yet" and not item.get("sketch", "").strip():
            problems.append(f"{where}: no-check-yet without a sketch of the check")
        if item.get("client", "curl") != "curl":
            problems.append(f"{where}: client {item['client']!r} (the curl client's items say 'curl')")
        fixed = item.get("fixed_in", item["release"])
        if fixed not in RELEASES:
            problems.append(f"{where}: fixed_in {fixed!r} is no release of the corpus")
        elif _version(fixed) > _version(item["release"]) and not item.get("note"):
            problems.append(f"{where}: fixed_in {fixed}, after the item's own release, without a note saying why")
    assert not problems, "\n".join(problems)


def test_every_named_check_exists(items: list[dict[str, Any]], tmp_path: Path) -> None:
    known = collected_check_ids(tmp_path)
    unknown = [
        f"{item['release']} #{item['item']}: {check}"
        for item in items
        for check in item["checks"]
        if check not in known
    ]
    unknown += [f"unlisted: {fix['check']}" for fix in load_all().get("unlisted", []) if fix["check"] not in known]
    assert not unknown, "check ids the kit does not collect:\n" + "\n".join(unknown)


def test_every_fix_the_expectations_record_is_named_by_its_release(items: list[dict[str, Any]]) -> None:
    """An expectations entry with ``fixed_in`` is a fix the kit observes: the item of that
    release that it fixes names its check, or the fix is listed as one no note names."""
    fixes = recorded_fixes()
    assert len(fixes) > 20, f"only {len(fixes)} fixed_in entries read from {EXPECTATIONS}"
    named = {(item["release"], check.split("[", 1)[0]) for item in items for check in item["checks"]}
    unlisted = {(_release(fix["fixed_in"]), fix["check"]) for fix in load_all().get("unlisted", [])}
    missing = [
        f"{check} (fixed_in {release})"
        for check, release in fixes
        if (release, check.split("[", 1)[0]) not in named and (release, check) not in unlisted
    ]
    assert not missing, "fixes recorded in tornado.toml that no item of their release names:\n" + "\n".join(missing)


def test_the_page_is_rendered_from_the_toml(items: list[dict[str, Any]]) -> None:
    assert PAGE.read_text(encoding="utf-8") == render(items, load_all().get("unlisted", [])), (
        "docs/tornado-history.md differs from docs/tornado-history.toml: run python tests/test_tornado_history.py"
    )


RESULTS = ROOT / "results"


@pytest.fixture(scope="module")
def release_runs() -> dict[str, dict[str, str]]:
    """Tornado's own releases on CPython as the matrix recorded them: release ('6.5.0') ->
    check id -> outcome. The newest patch of each series is in results/ (`tox -m releases`),
    the patch releases around each fix in results/history/ (`tox -m history`)."""
    import json

    runs: dict[str, dict[str, str]] = {}
    for path in sorted([*RESULTS.glob("tornado[0-9]*.json"), *(RESULTS / "history").glob("tornado[0-9]*.json")]):
        data = json.loads(path.read_text(encoding="utf-8"))
        runs[_release(data["impl"]["version"])] = {t["id"]: _outcome(t) for t in data["tests"]}
    return runs


def _outcome(test: dict[str, Any]) -> str:
    """A results file's outcome, with a check the release does not provide told apart from
    another skip: for an item that adds a feature, "not provided" is how a release before it
    is flagged."""
    return NOT_PROVIDED if test.get("not_provided") else str(test["outcome"])


NOT_PROVIDED = "not provided"


@pytest.mark.parametrize(
    "client, fix",
    [("simple", fix) for fix in shipped_fixes()] + [("curl", fix) for fix in shipped_fixes("tornado-curl")],
    ids=lambda value: value if isinstance(value, str) else f"{value.release}:{value.name}".replace(" ", ""),
)
def test_a_fix_is_flagged_on_the_release_before_it_and_not_on_its_own(
    client: str, fix: Any, release_runs: dict[str, dict[str, str]], curl_runs: dict[str, dict[str, str]]
) -> None:
    """Issue 18: pointed at the last release before a fix, the kit flags the bug the fix
    removed; pointed at the fix release, it does not. Both releases are runs of the matrix
    (a fix of a patch release needs that patch release and the one before it there); the
    fixes tornado-curl.toml records, in the curl client's runs (`tox -m history-curl`)."""
    from conformance.history import CARRIES, LACKS, status

    runs = curl_runs if client == "curl" else release_runs
    ordered = sorted(RELEASES, key=_version)
    fixed = _release(fix.release)
    before = ordered[ordered.index(fixed) - 1]
    missing = [r for r in (before, fixed) if r not in runs]
    assert not missing, (
        f"no matrix run of Tornado {', '.join(missing)}: add its env to tox.ini (labels releases/history)"
    )
    assert status(fix, runs[before]) == LACKS, (
        f"{fix.name}, fixed in {fix.release}: Tornado {before}, the release before the fix, is not flagged "
        f"({status(fix, runs[before])})"
    )
    assert status(fix, runs[fixed]) == CARRIES, (
        f"{fix.name}, fixed in {fix.release}: Tornado {fixed}, the fix release, is still flagged "
        f"({status(fix, runs[fixed])})"
    )


@pytest.fixture(scope="module")
def curl_runs() -> dict[str, dict[str, str]]:
    """The same as `release_runs` for Tornado's curl client (``--impl=conformance.adapters.curl``):
    results/curl.json and results/history/curl[0-9]*.json (`tox -m history-curl`)."""
    import json

    runs: dict[str, dict[str, str]] = {}
    for path in sorted([RESULTS / "curl.json", *(RESULTS / "history").glob("curl[0-9]*.json")]):
        data = json.loads(path.read_text(encoding="utf-8"))
        runs[_release(data["impl"]["version"])] = {t["id"]: _outcome(t) for t in data["tests"]}
    return runs


#: Checked items whose flag the matrix does not show yet, each with the reason. The test
#: below expects each to fail (strictly: one that starts to hold must leave this list).
NOT_YET_ADJACENT: dict[str, str] = {}


def _pair(item: dict[str, Any]) -> tuple[str | None, str]:
    """(the last release before the fix, the fix release) for a checked item. The fix
    release is the item's own, or its ``fixed_in``: an earlier patch release that shipped
    the same fix first (5.0.0 repeats 4.5.3's), or a later one from which the item works as
    its note says (5.1.0's finish() Future, right from 5.1.1). The oldest release of the
    corpus has nothing before it in the matrix."""
    fixed = item.get("fixed_in", item["release"])
    ordered = sorted(RELEASES, key=_version)
    index = ordered.index(fixed)
    return (ordered[index - 1] if index else None), fixed


def _outcomes(item: dict[str, Any], outcomes: dict[str, str]) -> dict[str, str]:
    """The outcomes of the item's checks in one run (a name without cases names them all)."""
    return {
        cid: outcome
        for cid, outcome in outcomes.items()
        if any(cid == name or (cid.startswith(name + "[") and "[" not in name) for name in item["checks"])
    }


def _checked() -> list[Any]:
    params = []
    for item in load():
        if item["status"] != "checked":
            continue
        key = f"{item['release']} #{item['item']}"
        marks = []
        if key in NOT_YET_ADJACENT:
            marks = [pytest.mark.xfail(strict=True, reason=NOT_YET_ADJACENT[key])]
        params.append(pytest.param(item, id=key.replace(" ", ""), marks=marks))
    return params


@pytest.mark.parametrize("item", _checked())
def test_every_checked_item_is_flagged_on_the_release_before_its_fix_and_not_on_the_fix(
    item: dict[str, Any], release_runs: dict[str, dict[str, str]], curl_runs: dict[str, dict[str, str]]
) -> None:
    """Issue 18, item by item: a case of the checks an item of the release notes names
    fails on the last release before the fix (or is not provided there, for a feature the
    release added) and passes on the fix release, as the matrix ran them (the curl client's
    items in the curl client's runs). An item of the oldest release, 4.5.0, has no release
    before it in the matrix: its checks pass on 4.5.0."""
    from conformance.history import _BROKEN, _HELD

    runs = curl_runs if item.get("client") == "curl" else release_runs
    before, fixed = _pair(item)
    where = f"{item['release']} #{item['item']} ({', '.join(item['checks'])})"
    missing = [r for r in (before, fixed) if r is not None and r not in runs]
    assert not missing, f"{where}: no matrix run of Tornado {', '.join(str(r) for r in missing)}"
    after = _outcomes(item, runs[fixed])
    assert after, f"{where}: not run on Tornado {fixed}"
    if before is None:
        assert any(outcome in _HELD for outcome in after.values()), f"{where}: Tornado {fixed} fails it: {after}"
        return
    ahead = _outcomes(item, runs[before])
    # The item is a case (or several) that the fix turned from failing into passing; other
    # cases of the same check may follow other fixes, earlier or later.
    turned = [cid for cid, outcome in ahead.items() if outcome in (*_BROKEN, NOT_PROVIDED) and after.get(cid) in _HELD]
    assert turned, (
        f"{where}: no case of it fails on Tornado {before} (the release before the fix) and passes on "
        f"{fixed}: {before} {ahead or 'not run'}; {fixed} {after}"
    )


def test_every_entry_without_a_fix_release_is_still_open_in_the_newest_release(
    release_runs: dict[str, dict[str, str]],
) -> None:
    """An entry without ``fixed_in`` says Tornado still deviates: on the newest release of
    the matrix each such entry's checks still fail (are expected failures there). So every
    entry for an old release names the release that fixed it (issue 18)."""
    from conformance.expectations import load, shipped

    newest = max(RELEASES, key=_version)
    assert newest in release_runs, f"no matrix run of Tornado {newest} (tox -e tornado66)"
    outcomes = release_runs[newest]
    path = shipped("tornado")
    assert path is not None
    fixed_nowhere = [e for e in load(path) if e.fixed_in is None and e.applies_to(newest)]
    assert fixed_nowhere, "no open entry read from the shipped tornado.toml"
    passing = [
        e.key
        for e in fixed_nowhere
        if not any(outcome == "xfailed" for cid, outcome in outcomes.items() if e.matches(cid))
    ]
    assert not passing, f"entries without fixed_in whose checks Tornado {newest} passes: {passing}"


if __name__ == "__main__":
    PAGE.write_text(render(load(), load_all().get("unlisted", [])), encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}")
