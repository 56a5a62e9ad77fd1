"""The kit's own modules, and the libraries it runs on, are imported as Python imports
them, not through pytest's assertion rewriting.

pytest rewrites every module of every plugin's distribution (the kit, and also anyio and
hypothesis, which ship pytest plugins) and every ``test_*.py`` it imports, by parsing and
recompiling its source on each run when bytecode caching is off (``PYTHONDONTWRITEBYTECODE``,
a read-only site-packages). For the ~180 modules of a kit run that was two of the three
seconds spent before the first check. None of it is needed: a check reports a `Violation`
(or an ``assert`` with its own message), never pytest's introspection of a bare
``assert``, and a library's internal asserts are not test assertions.

* `skip_assertion_rewriting` (at import of the package): names under ``conformance.``,
  and the shipped suites' modules whatever their import name (collected by path from a
  checkout, they are ``suites.<area>.test_*``).
* `skip_assertion_rewriting_of_oracles` (when the kit runs, before it imports them): the
  libraries the kit's clients and properties run on. A project's own tests, conftests and
  plugins are rewritten as before.

The hook is found through the meta-path protocol (``find_spec``), nothing private: when it
is absent (``--assert=plain``, another runner) this does nothing.
"""

from __future__ import annotations

import sys
from typing import Any

#: Top-level packages the rewriting hook passes over.
_SKIPPED: set[str] = {__name__.split(".")[0]}

#: What the kit imports to judge: oracles, client backends, the property engine.
ORACLES = ("anyio", "sniffio", "trio", "outcome", "h11", "wsproto", "hypothesis")


def _suites_dirs() -> tuple[str, ...]:
    """Where the shipped suites live: collected by path (``--impl`` with no test paths), a
    checkout's suites import as ``suites.<area>.test_*``, outside the ``conformance`` name."""
    import importlib.util
    import os

    try:
        spec = importlib.util.find_spec("conformance.suites")
    except ImportError:  # pragma: no cover
        return ()
    locations = list(getattr(spec, "submodule_search_locations", None) or ())
    return tuple(os.path.join(os.path.realpath(location), "") for location in locations)


def _wrap(finder: Any) -> None:
    rewriting_find_spec = finder.find_spec
    suites = _suites_dirs()

    def find_spec(name: str, path: Any = None, target: Any = None) -> Any:
        if name.split(".", 1)[0] in _SKIPPED:
            return None  # the next finder imports it, from its bytecode when cached
        spec = rewriting_find_spec(name, path, target)
        origin = getattr(spec, "origin", None)
        if suites and origin and origin.startswith(suites):
            return None  # a shipped check module, whatever name its path gave it
        return spec

    finder.find_spec = find_spec
    finder._conformance_skips = True


def skip_assertion_rewriting(*packages: str) -> None:
    _SKIPPED.update(packages)
    for finder in sys.meta_path:
        if type(finder).__module__ == "_pytest.assertion.rewrite" and not getattr(finder, "_conformance_skips", False):
            _wrap(finder)


def skip_assertion_rewriting_of_oracles() -> None:
    skip_assertion_rewriting(*ORACLES)
