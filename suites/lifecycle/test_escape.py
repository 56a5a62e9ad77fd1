"""tornado.escape: ``xhtml_escape`` and ``xhtml_unescape`` as the standard library's
``html.escape`` and ``html.unescape`` (what handlers and templates write into HTML).

Reference: Tornado docs, ``tornado.escape`` (https://www.tornadoweb.org/en/stable/escape.html),
and the 6.4.0 release notes: "Several methods in this module now simply pass through to their
equivalents in the standard library."
"""

from __future__ import annotations

import html
from typing import Any

import pytest

from conformance import Level, Violation, check, requires

pytestmark = [pytest.mark.lifecycle, requires("escape")]

REFERENCE = (
    "Tornado docs: escape.xhtml_escape, escape.xhtml_unescape, versionchanged 6.4; 6.4.0 release notes, tornado.escape"
)

CASES = [
    pytest.param("xhtml_escape", html.escape, "<a href='x' title=\"t\">&</a>", id="escape-quotes-and-markup"),
    # HTML5's numeric character reference end state: &#x80; is the windows-1252 '€', not U+0080;
    # a named reference without its semicolon still counts ("&amp").
    pytest.param("xhtml_unescape", html.unescape, "&#x80;&#128; &amp &lt;b&gt;", id="unescape-html5-references"),
]


@check(REFERENCE, Level.TORNADO)
@pytest.mark.parametrize(("name", "stdlib", "text"), CASES)
def test_xhtml_functions_match_the_standard_library(impl, name, stdlib, text):
    """escape.xhtml_escape: "Equivalent to `html.escape` except that this function always
    returns type `str` [...] versionchanged 6.4: Now simply wraps `html.escape`. This is
    equivalent to the old behavior except that single quotes are now escaped as ``&#x27;``
    instead of ``&#39;``". escape.xhtml_unescape: "Equivalent to `html.unescape` [...]
    versionchanged 6.4: Now simply wraps `html.unescape`. This changes behavior for some
    inputs as required by the HTML 5 specification". For a str, the answer is the standard
    library's, character for character."""
    function = getattr(impl.part("escape"), name)
    expected = stdlib(text)
    try:
        answer: Any = function(text)
    except Exception as exc:
        answer = exc
    if answer != expected:
        shown = f"raised {type(answer).__name__}: {answer}" if isinstance(answer, Exception) else repr(answer)
        raise Violation(
            f"escape.{name}({text!r}) differs from the standard library's html.{stdlib.__name__}.",
            expected=repr(expected),
            observed=shown,
        )
