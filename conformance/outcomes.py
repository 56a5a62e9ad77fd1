"""The outcome vocabulary: one set of words for every verdict the kit gives.

The plugin, the terminal summary, the JSON file, the JUnit properties, the matrix page
and the kit's own tests all speak these words; nothing else spells them.

* `Outcome`: how a check ended, as recorded per check (the JSON ``outcome``).
* `Verdict`: for a check that did not pass, what kind of failure it was (the JSON ``verdict``).

Both are ``str`` enums, so they compare equal to (and serialise as) their plain values:
``Outcome.PASSED == "passed"`` and ``json.dumps(Outcome.PASSED) == '"passed"'``.
"""

from __future__ import annotations

from enum import Enum


class _Word(str, Enum):
    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class Outcome(_Word):
    """How one check ended."""

    PASSED = "passed"
    #: the implementation broke the rule
    FAILED = "failed"
    #: the rule's intent was met but not its strict form (a failure under --strict-verdicts)
    NON_STRICT = "non-strict"
    #: a known deviation listed in the expectations, and it still fails
    XFAILED = "xfailed"
    #: a known deviation that now passes: the expectation is stale (fails the run)
    XPASSED = "xpassed"
    #: not run here: the implementation lacks a part or feature, or the check was skipped
    SKIPPED = "skipped"
    #: the matrix only: a results file that predates the check
    NOT_RUN = "not run"

    @property
    def key(self) -> str:
        """The word as an identifier (summary tables, CSS classes): ``non-strict`` -> ``non_strict``."""
        return self.value.replace("-", "_").replace(" ", "_")


class Verdict(_Word):
    """What kind of failure a check that did not pass reports."""

    FAILED = "failed"
    #: the implementation did not answer within --conformance-timeout
    TIMEOUT = "timeout"
    #: an oracle (h11, wsproto) rejected what the implementation sent
    PROTOCOL = "protocol"
    NON_STRICT = "non-strict"
    #: the check could not run: its setup or teardown (the implementation's server, app or
    #: client) raised something other than a violation, so no rule was judged
    ERROR = "error"


__all__ = ["Outcome", "Verdict"]
