"""The ``httputil`` helpers an application calls directly: ``url_concat``, ``qs_to_qsl`` and ``HTTPHeaders``.

Each check calls the implementation's ``httputil`` part (no loop, no wire) and judges the
value it returns against the behaviour Tornado documents in its docstrings and release notes.

References: Tornado docs, ``tornado.httputil`` (https://www.tornadoweb.org/en/stable/httputil.html);
Tornado 4.5.0, 4.5.1, 5.0.0, 6.5.4 and 6.6.0 release notes
(https://www.tornadoweb.org/en/stable/releases.html); RFC 9110 §5.1 (field names are
case-insensitive).
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance import Level, Violation, check, not_provided, requires

pytestmark = [pytest.mark.http11, requires("httputil")]


def _helper(impl: Any, name: str) -> Any:
    httputil = impl.part("httputil")
    helper = getattr(httputil, name, None)
    if helper is None:
        not_provided(f"{impl.name}'s httputil part has no {name}")
    return helper


def _call(fn: Any, *args: Any) -> Any:
    """``fn(*args)``, or the exception it raised, spelled ``Type(message)``."""
    try:
        return fn(*args)
    except Exception as exc:
        return f"raised {type(exc).__name__}({exc})"


# -- url_concat ---------------------------------------------------------------------------

URL_CONCAT_CASES = {
    "query-and-fragment-dict": ("http://h.example/p?a=1#frag", {"b": "2"}, "http://h.example/p?a=1&b=2#frag"),
    "query-and-fragment-pairs": (
        "http://h.example/p?a=1#frag",
        [("b", "2"), ("b", "3")],
        "http://h.example/p?a=1&b=2&b=3#frag",
    ),
    "fragment-without-query": ("http://h.example/p#frag", {"b": "2"}, "http://h.example/p?b=2#frag"),
    "blank-value-kept": ("http://h.example/p?a=&c=3", {"b": "2"}, "http://h.example/p?a=&c=3&b=2"),
}


@check("Tornado 4.5.0 release notes (tornado.httputil); Tornado docs: httputil.url_concat", Level.TORNADO)
@pytest.mark.parametrize("case", list(URL_CONCAT_CASES))
def test_url_concat_merges_the_query_and_keeps_the_fragment(impl, case):
    """Tornado docs, ``url_concat``: "Concatenate url and arguments regardless of whether url
    has existing query parameters" (``url_concat("http://example.com/foo?a=b", dict(c="d"))``
    is ``'http://example.com/foo?a=b&c=d'``). Tornado 4.5.0 release notes: "``url_concat``
    correctly handles fragments and existing query arguments": the arguments join the
    existing query (its blank values kept), the fragment stays last."""
    url, args, expected = URL_CONCAT_CASES[case]
    url_concat = _helper(impl, "url_concat")
    got = _call(url_concat, url, args)
    if got != expected:
        raise Violation(
            f"url_concat({url!r}, {args!r}) did not append the arguments to the existing query and keep the "
            "fragment after it.",
            expected=repr(expected),
            observed=got if isinstance(got, str) and got.startswith("raised") else repr(got),
        )


@check("Tornado 4.5.1 release notes (tornado.httputil); Tornado docs: httputil.url_concat", Level.TORNADO)
def test_url_concat_with_none_returns_the_url_unchanged(impl):
    """Tornado 4.5.1 release notes: "``url_concat`` once again treats None as equivalent to
    an empty sequence" (a regression of 4.5.0): ``url_concat(url, None)`` adds nothing."""
    url_concat = _helper(impl, "url_concat")
    for url in ("http://h.example/p", "http://h.example/p?a=1#frag"):
        got = _call(url_concat, url, None)
        if got != url:
            raise Violation(
                f"url_concat({url!r}, None) did not return the URL unchanged: None means no arguments.",
                expected=repr(url),
                observed=got if isinstance(got, str) and got.startswith("raised") else repr(got),
            )


# -- qs_to_qsl ----------------------------------------------------------------------------


@check("Tornado 5.0.0 release notes (tornado.httputil); Tornado docs: httputil.qs_to_qsl", Level.TORNADO)
def test_qs_to_qsl_yields_one_pair_per_value(impl):
    """Tornado 5.0.0 release notes: "New function ``qs_to_qsl`` converts the result of
    ``urllib.parse.parse_qs`` to name-value pairs." Tornado docs, ``qs_to_qsl``: "Generator
    converting a result of ``parse_qs`` back to name-value pairs": every value of a name
    becomes one pair, in order."""
    qs_to_qsl = _helper(impl, "qs_to_qsl")
    qs = {"a": ["1", "2"], "b": ["3"], "c": []}
    got = _call(lambda q: list(qs_to_qsl(q)), qs)
    expected = [("a", "1"), ("a", "2"), ("b", "3")]
    if got != expected:
        raise Violation(
            f"list(qs_to_qsl({qs!r})) did not give one name-value pair per value, in order.",
            expected=repr(expected),
            observed=got if isinstance(got, str) else repr(got),
        )


# -- HTTPHeaders --------------------------------------------------------------------------


def _headers(impl: Any) -> Any:
    headers_class = _helper(impl, "HTTPHeaders")
    return headers_class


@check("RFC 9110 §5.1; Tornado 6.5.4 release notes (Bug fixes)", Level.MUST)
@pytest.mark.parametrize("built", ["add", "parse"])
def test_httpheaders_membership_ignores_the_case_of_the_name(impl, built):
    """RFC 9110 §5.1: "Field names are case-insensitive." Tornado docs, ``HTTPHeaders``: "A
    dictionary that maintains ``Http-Header-Case`` for all keys". Tornado 6.5.4 release notes:
    "The ``in`` operator for ``HTTPHeaders`` was incorrectly case-sensitive, causing lookups
    to fail for headers with different casing than the original header name" (a 6.5.3
    regression). A field added (or parsed) as ``X-Probe`` is ``in`` the headers under
    every spelling of its name."""
    headers_class = _headers(impl)
    if built == "add":
        headers = headers_class()
        headers.add("X-Probe", "value")
    else:
        headers = headers_class.parse("x-pRoBe: value\r\n")
    names = ["X-Probe", "x-probe", "X-PROBE", "x-pRoBe"]
    got = {name: name in headers for name in names}
    expected = dict.fromkeys(names, True)
    if got != expected:
        raise Violation(
            "'name in headers' depended on the case of the name: field names are case-insensitive, and "
            "HTTPHeaders normalises every lookup.",
            expected=expected,
            observed=got,
        )


@check("Tornado 6.6.0 release notes (tornado.httputil); Tornado docs: httputil.HTTPHeaders", Level.TORNADO)
@pytest.mark.parametrize("added", ["once", "twice-in-two-cases"])
def test_httpheaders_del_removes_a_field_without_a_prior_lookup(impl, added):
    """Tornado 6.6.0 release notes: "``HTTPHeaders.__delitem__`` no longer raises ``KeyError``
    at inappropriate times" (6.5.3 to 6.5.x raised it for a field added with ``add`` and
    never read before). Tornado
    docs, ``HTTPHeaders``: a ``MutableMapping`` whose keys are case-insensitive, so after
    ``del h['A']`` the field is gone under every spelling, all its values with it."""
    headers = _headers(impl)()
    headers.add("A", "1")
    if added == "twice-in-two-cases":
        headers.add("a", "2")
    headers.add("B", "kept")
    try:
        del headers["A"]
    except Exception as exc:
        raised: str | None = f"{type(exc).__name__}({exc})"
    else:
        raised = None
    left = {"A" in headers, "a" in headers}, headers.get_list("a"), headers.get("B")
    if raised is not None or left != ({False}, [], "kept"):
        raise Violation(
            "del headers['A'] on a field added with add() (and never read) did not remove it: the field is present, "
            "so deleting it must succeed and leave no value under any spelling.",
            expected="no exception; 'A' absent, get_list('a') == [], B kept",
            observed=f"{raised or 'no exception'}; 'A'/'a' present: {left[0]}, get_list('a') == {left[1]!r}, "
            f"B: {left[2]!r}",
        )
