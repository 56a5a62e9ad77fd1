"""Two kinds of error, kept apart as h11 keeps Local- and RemoteProtocolError apart.

* `ImplementationError` / ``pytest.UsageError``: the kit was misused (exit code 4).
* `Violation` and its subclasses: the implementation broke a rule; the check fails.

A violation is data, not only a string: ``what`` (one sentence: what the implementation
did), ``expected`` and ``observed`` (short values, side by side), and ``transcript`` (the
bytes exchanged, a `Transcript` or text). `format_violation` turns them into the one
paragraph a failure shows; the JSON keeps each field apart. The reference and level are
not repeated here: they come from the check's ``@check`` mark.

This module imports nothing from the rest of the kit (it sits at the bottom of the
import graph).
"""

from __future__ import annotations

from typing import Any

from .outcomes import Verdict


class ImplementationError(Exception):
    """The kit cannot use the implementation (a usage error, not a failed check)."""


def _text(transcript: Any) -> str | None:
    if transcript is None:
        return None
    if isinstance(transcript, str):
        return transcript
    return str(transcript.format())


def format_violation(what: str, *, expected: Any = None, observed: Any = None, transcript: Any = None) -> str:
    """The paragraph of a failure: the sentence, then expected/observed, then the bytes."""
    parts = [what.rstrip()] if what else []
    if expected is not None:
        parts.append(f"expected: {expected}")
    if observed is not None:
        parts.append(f"observed: {observed}")
    text = _text(transcript)
    if text is not None:
        parts.append(f"bytes exchanged:\n{text}")
    return "\n".join(parts)


class Violation(AssertionError):
    """The implementation did something the reference forbids. ``verdict`` names how.

    Example::

        raise Violation(
            "the server answered a request without Host",
            expected="400 Bad Request",
            observed=f"{response.status} {response.reason}",
            transcript=conn.transcript,
        )
    """

    verdict: Verdict = Verdict.FAILED

    def __init__(self, what: str = "", *, expected: Any = None, observed: Any = None, transcript: Any = None) -> None:
        self.what = what
        self.expected = None if expected is None else str(expected)
        self.observed = None if observed is None else str(observed)
        self.transcript = _text(transcript)
        super().__init__(
            format_violation(what, expected=self.expected, observed=self.observed, transcript=self.transcript)
        )

    def fields(self) -> dict[str, str | None]:
        """The structured parts, as the JSON record carries them."""
        return {"expected": self.expected, "observed": self.observed, "transcript": self.transcript}


class Timeout(Violation):
    """The implementation did not answer within ``--conformance-timeout``."""

    verdict = Verdict.TIMEOUT


class LoopUnresponsive(Timeout):
    """The implementation's event loop did not run a callback within the deadline."""


class Unresponsive(Timeout):
    """The implementation answers nothing on the wire: a check timed out, and the liveness
    probe that followed (a fresh server whose one handler answers ``GET /`` with 200 "ok")
    got no response within the deadline either.

    Raised when a later check asks for the ``server`` fixture: the check fails at once with
    a *timeout* verdict instead of waiting its own deadline. ``after`` is the id of the check that
    first timed out; the transcript is the probe's.
    """

    def __init__(self, after: str, timeout: float, transcript: Any = None) -> None:
        self.after = after
        self.timeout = timeout
        super().__init__(
            f"the implementation is unresponsive: after {after} timed out, the liveness probe (a fresh "
            f'server from the implementation whose one handler answers GET / with 200 "ok", one request on a '
            f"fresh connection) got no response within {timeout:g}s (--conformance-timeout), so this check, "
            "which needs the implementation on the wire, fails at once instead of waiting its own deadline.",
            expected='a response to the liveness probe (GET / -> 200 "ok")',
            observed=f"nothing within {timeout:g}s",
            transcript=transcript,
        )

    def __reduce__(self) -> tuple[type[Unresponsive], tuple[str, float, str | None]]:
        return (Unresponsive, (self.after, self.timeout, self.transcript))

    def again(self) -> Unresponsive:
        """The same evidence as a fresh exception, for the next check it fails."""
        return Unresponsive(self.after, self.timeout, self.transcript)


class ProtocolViolation(Violation):
    """An oracle (h11, wsproto) rejected what the implementation sent."""

    verdict = Verdict.PROTOCOL


class NonStrict(Violation):
    """The implementation met the rule's intent but not its strict form.

    Autobahn's "non-strict": e.g. a connection that must be failed with close code 1002
    was failed by dropping TCP instead. Reported apart from passes and failures; a
    failure under ``--strict-verdicts``.
    """

    verdict = Verdict.NON_STRICT
