"""The expectations format: one entry per finding, matched to checks, cases and releases.

Also holds the shipped files to their rule: a reason is written once, never copied for the
cases of one check or for another release.
"""

from __future__ import annotations

import itertools
import textwrap
from pathlib import Path

import pytest

from conformance import expectations
from conformance.expectations import ExpectationsError, ExpectationSet

DEVIATIONS = Path(expectations.__file__).parent / "deviations"
SHIPPED = sorted(DEVIATIONS.glob("*.toml"))

IDS = [
    "http11.plain",
    "http11.family[a]",
    "http11.family[b-1]",
    "http11.family[b-2]",
    "http11.family_longer[a]",
    "websocket.close[code-1004]",
    "websocket.close[code-1005]",
    "websocket.close[one-byte-body]",
    "websocket.close[reason-not-utf8]",
]


def _load(tmp_path: Path, text: str) -> ExpectationSet:
    path = tmp_path / "e.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return expectations.load(path)


def _matched(entries: ExpectationSet, ids: list[str] = IDS) -> dict[str, str]:
    found = {cid: entries.match(cid) for cid in ids}
    return {cid: e.key for cid, e in found.items() if e is not None}


def test_one_line_entries_name_a_check_a_family_a_glob_and_a_list_of_cases(tmp_path: Path) -> None:
    entries = _load(
        tmp_path,
        """
        [checks]
        "http11.plain" = { reason = "r1" }
        "http11.family" = { reason = "r2", fixed_in = "6.5" }
        "websocket.close[code-*]" = { reason = "r3" }
        "websocket.close" = { cases = ["one-byte-body"], reason = "r4", advisory = "CVE-1" }
        """,
    )
    assert [(e.key, e.line) for e in entries] == [
        ("http11.plain", 3),
        ("http11.family", 4),
        ("websocket.close[code-*]", 5),
        ("websocket.close", 6),
    ]
    assert _matched(entries) == {
        "http11.plain": "http11.plain",
        "http11.family[a]": "http11.family",
        "http11.family[b-1]": "http11.family",
        "http11.family[b-2]": "http11.family",
        "websocket.close[code-1004]": "websocket.close[code-*]",
        "websocket.close[code-1005]": "websocket.close[code-*]",
        "websocket.close[one-byte-body]": "websocket.close",
    }
    assert entries.match("websocket.close[one-byte-body]").advisory == "CVE-1"  # type: ignore[union-attr]


def test_the_multi_line_table_form_of_one_entry_per_check_still_loads(tmp_path: Path) -> None:
    entries = _load(
        tmp_path,
        """
        # an expectations file written for the kit before one file per family
        [checks."http11.family[a]"]
        reason = " r "
        reference = "RFC 9112 §6.3"
        fixed_in = "6.5"

        [checks."http11.plain"]
        reason = "r2"
        """,
    )
    first = entries.match("http11.family[a]")
    assert first is not None and (first.reason, first.reference, first.fixed_in, first.line) == (
        "r",
        "RFC 9112 §6.3",
        "6.5",
        3,
    )
    assert _matched(entries) == {"http11.family[a]": "http11.family[a]", "http11.plain": "http11.plain"}


def test_brackets_are_literal_and_a_bare_name_does_not_cover_a_longer_name(tmp_path: Path) -> None:
    entries = _load(tmp_path, '[checks]\n"http11.family[b-?]" = { reason = "r" }\n"http11.family" = { reason = "s" }\n')
    assert entries.match("http11.family[b-1]").key == "http11.family"  # type: ignore[union-attr]
    assert entries.match("http11.family_longer[a]") is None


def test_a_list_of_entries_covers_one_check_differently_in_different_releases(tmp_path: Path) -> None:
    entries = _load(
        tmp_path,
        """
        [checks]
        "http11.plain" = [
            { reason = "before 6.5", fixed_in = "6.5" },
            { reason = "a regression of 6.5.1", since = "6.5.1", fixed_in = "6.5.5" },
        ]
        """,
    )
    reasons = {
        v: getattr(entries.for_version(v).match("http11.plain"), "reason", None)
        for v in ("6.4.2", "6.5.0", "6.5.3", "6.5.5")
    }
    assert reasons == {"6.4.2": "before 6.5", "6.5.0": None, "6.5.3": "a regression of 6.5.1", "6.5.5": None}
    with pytest.raises(ExpectationsError, match=r"e.toml:5: 'http11.plain' and 'http11.plain' \(line 4\) both name"):
        entries.match("http11.plain")  # unbounded by a release, both entries claim it


def test_two_entries_naming_one_case_are_an_error_naming_both(tmp_path: Path) -> None:
    entries = _load(
        tmp_path, '[checks]\n"websocket.close" = { reason = "a" }\n"websocket.close[code-*]" = { reason = "b" }\n'
    )
    assert entries.match("websocket.close[one-byte-body]") is not None
    with pytest.raises(ExpectationsError) as info:
        entries.match("websocket.close[code-1004]")
    assert str(info.value) == (
        f"--expectations={tmp_path / 'e.toml'}:3: 'websocket.close[code-*]' and 'websocket.close' (line 2) both name "
        "the check 'websocket.close[code-1004]'; narrow one of them (cases = [...], since/fixed_in)"
    )


def test_entries_that_name_no_collected_check_are_unmatched_per_case(tmp_path: Path) -> None:
    entries = _load(
        tmp_path,
        """
        [checks]
        "http11.family" = { cases = ["a", "renamed", "c-*"], reason = "r" }
        "http11.gone" = { reason = "r2" }
        "cookies.not_collected" = { reason = "r3" }
        "websocket.close[code-*]" = { reason = "r4" }
        """,
    )
    assert entries.unmatched(IDS, {"http11", "websocket"}) == [
        "http11.family[c-*]",
        "http11.family[renamed]",
        "http11.gone",
    ]


@pytest.mark.parametrize(
    ("since", "fixed_in", "version", "applies"),
    [
        (None, "6.5.3", "6.5.2", True),
        (None, "6.5.3", "6.5.3", False),
        (None, "6.5.3", "6.5.10", False),
        ("6.4.1", None, "6.4.0", False),
        ("6.4.1", None, "6.4.1", True),
        (None, "6.6", "6.6.0b1", False),
        (None, "6.6", "git-main", True),
        # Tornado 6.5 reports version "6.5": a bound written 6.5.0 is the same release
        ("6.5.0", "6.5.2", "6.5", True),
        (None, "6.5.0", "6.5", False),
        ("6.5", None, "6.5.0", True),
    ],
)
def test_expectation_bounded_by_release_applies_only_in_its_range(
    tmp_path: Path, since: str | None, fixed_in: str | None, version: str, applies: bool
) -> None:
    bounds = "".join(f', {k} = "{v}"' for k, v in (("since", since), ("fixed_in", fixed_in)) if v)
    entries = _load(tmp_path, f'[checks]\n"http11.x" = {{ reason = "r"{bounds} }}\n')
    assert entries.entries[0].applies_to(version) is applies
    assert len(entries.for_version(version)) == int(applies)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[checks]\n"http11.x" = { reason = "r", fixed_in = "soon" }\n',
            r"e.toml:2: checks.'http11.x' fixed_in = 'soon' is not a version",
        ),
        (
            '[checks]\n"http11.x" = { reason = "r", since = "6.5", fixed_in = "6.4" }\n',
            r"e.toml:2: checks.'http11.x' applies to no release: since = '6.5' is not before fixed_in = '6.4'",
        ),
        ('[checks]\n"http11.x" = { reason = "" }\n', r"e.toml:2: checks.'http11.x' needs reason = "),
        (
            '[checks]\n"http11.x[a]" = { reason = "r", cases = ["b"] }\n',
            r"e.toml:2: checks.'http11.x\[a\]' names a case already",
        ),
        ('[checks]\n"http11.x" = { reason = "r", cases = "a" }\n', r"e.toml:2: checks.'http11.x' cases must be a list"),
        ('[checks]\n"x" = { reason = "r" }\n', r"e.toml:2: checks.'x' is not a check id"),
        ('[checks]\n"*.x" = { reason = "r" }\n', r"e.toml:2: checks.'\*.x' is not a check id"),
        ("[checks.http11.x]\nreason = 'r'\n", r"e.toml: checks.'http11' has unknown key 'x'.*quote the check id"),
        ('[checks]\n"http11.x" = 3\n', r"e.toml:2: checks.'http11.x' must be a table"),
    ],
    ids=[
        "bad-version",
        "empty-range",
        "empty-reason",
        "case-twice",
        "cases-not-a-list",
        "no-area",
        "glob-area",
        "unquoted-id",
        "not-a-table",
    ],
)
def test_a_malformed_entry_is_one_line_naming_the_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ExpectationsError, match=message) as info:
        _load(tmp_path, text)
    assert "\n" not in str(info.value)


def test_the_command_line_prints_what_applies_to_one_release(capsys: pytest.CaptureFixture[str]) -> None:
    assert expectations.main(["tornado", "6.2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# tornado.toml: ") and "apply to tornado 6.2" in out.splitlines()[0]
    assert "cookies.xsrf_cookie_settings_are_honoured[xsrf-cookie-name]" in out  # fixed in 6.3
    assert "coroutines.periodic_coroutine_callback_does_not_overlap_itself" not in out  # fixed in 6.2
    assert expectations.main(["tornado"]) == 2


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_a_shipped_file_writes_every_reason_once(path: Path) -> None:
    entries = expectations.load(path)
    assert len(entries) > 0
    reasons = [e.reason for e in entries]
    copied = sorted({r for r in reasons if reasons.count(r) > 1})
    assert not copied, f"{path.name}: the same reason on several entries (merge them into one entry): {copied[:3]}"
    # A reason copied for another case or release with only its end rewritten.
    for first, second in itertools.combinations(entries, 2):
        assert first.reason[:80] != second.reason[:80], (
            f"{path.name}: {first.where} and {second.where} begin with the same reason; write it once "
            "(one entry for the cases, since/fixed_in for the releases)"
        )


def test_tornado_ships_one_file_for_every_release() -> None:
    # One file per family (conformance/identity.py FAMILIES), never one per release.
    from conformance.identity import ADAPTER_FAMILIES, FAMILIES

    assert "tornado.toml" in [p.name for p in SHIPPED]
    assert {p.stem for p in SHIPPED} <= {*FAMILIES.values(), *ADAPTER_FAMILIES}
    assert expectations.shipped("tornado") == DEVIATIONS / "tornado.toml"
    assert expectations.shipped("cyclone") is None and expectations.shipped("../tornado") is None


@pytest.mark.parametrize("pattern", ["a.b", "a.b[c]", "a.b[code-*]", "a.*", "a.b*", "a.b[*]", "a.b[", "a.b]"])
def test_a_pattern_without_a_glob_matches_as_its_regular_expression_would(pattern: str) -> None:
    """Patterns without ``*`` are matched by string comparison (a run asks for each of its
    thousand checks); the meaning is the regular expression's: ``*`` any run, a bare name
    its cases too, brackets literal."""
    import re

    from conformance.expectations import _compile

    body = ".*".join(re.escape(part) for part in pattern.split("*"))
    regex = re.compile(body + ("(?:\\[.*\\])?" if "[" not in pattern and "*" not in pattern else "") + "\\Z", re.S)
    ids = ["a.b", "a.b[c]", "a.b[code-1]", "a.bc", "a.b[]", "a.b[", "a.b[c]d", "a.b[c]d]", "a.bb[c]", "b.a", "a.b]"]
    assert [i for i in ids if _compile(pattern).match(i)] == [i for i in ids if regex.match(i)]


def test_the_entries_naming_a_check_are_found_in_file_order_by_the_index() -> None:
    """`ExpectationSet.match` looks up its candidates in an index; a glob, a bare name and a
    case that all name one check are still found, and two of them are still an error."""
    entries = [
        expectations._entry("http11.x", {"reason": "bare"}, "f:1"),
        expectations._entry("http11.y*", {"reason": "glob"}, "f:2"),
        expectations._entry("http11.x", {"reason": "cases", "cases": ["c"]}, "f:3"),
    ]
    assert ExpectationSet(entries[1:]).match("http11.yes[c]").reason == "glob"  # type: ignore[union-attr]
    assert ExpectationSet(entries[1:]).match("http11.x[c]").reason == "cases"  # type: ignore[union-attr]
    assert ExpectationSet(entries[1:]).match("http11.x[d]") is None
    with pytest.raises(ExpectationsError, match=r"'http11\.x' and 'http11\.x'"):
        ExpectationSet(entries).match("http11.x[c]")
