"""Two kinds of error, kept apart as h11 keeps Local- and RemoteProtocolError apart.

* `ImplementationError` / ``pytest.UsageError``: the kit was misused (exit code 4).
* `Violation` and its subclasses: the implementation broke a rule; the check fails.
  The message reads like a bug report: what was sent, what came back, what the rule says.
"""

from __future__ import annotations

from .impl import ImplementationError as ImplementationError


class Violation(AssertionError):
    """The implementation did something the reference forbids. ``verdict`` names how."""

    verdict = "failed"


class Timeout(Violation):
    """The implementation did not answer within ``--conformance-timeout``."""

    verdict = "timeout"


class LoopUnresponsive(Timeout):
    """The implementation's event loop did not run a callback within the deadline."""


class ProtocolViolation(Violation):
    """An oracle (h11, wsproto) rejected what the implementation sent."""

    verdict = "protocol"


class NonStrict(Violation):
    """The implementation met the rule's intent but not its strict form.

    Autobahn's "non-strict": e.g. a connection that must be failed with close code 1002
    was failed by dropping TCP instead. Reported apart from passes and failures; a
    failure under ``--strict-verdicts``.
    """

    verdict = "non-strict"
