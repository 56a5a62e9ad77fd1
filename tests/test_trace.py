"""`conformance.Trace`: how a check waits for hooks and shows a wrong order."""

from __future__ import annotations

import threading

import pytest

from conformance import Timeout, Trace
from conformance.trace import side_by_side


def test_a_missing_event_leaves_a_gap_instead_of_shifting_every_later_row() -> None:
    table = side_by_side(
        ["prepare", "get", "on_finish", "prepare", "get", "on_finish"],
        ["prepare", "get", "on_finish", "prepare", "on_finish"],
    )
    rows = table.splitlines()[1:]
    assert [row.startswith("  > ") for row in rows] == [False, False, False, False, True, False]
    assert rows[4].split() == [">", "get", "-"]
    assert rows[5].split() == ["on_finish", "on_finish"]


def test_an_extra_event_is_shown_on_the_observed_side_only() -> None:
    rows = side_by_side(["a", "b"], ["a", "x", "b"]).splitlines()[1:]
    assert [row.split() for row in rows] == [["a", "a"], [">", "-", "x"], ["b", "b"]]


def test_wait_for_event_returns_once_the_named_event_is_recorded() -> None:
    trace = Trace()
    threading.Thread(target=lambda: [trace.add(e) for e in ("x", "y", "wanted")]).start()
    assert "wanted" in trace.wait_for_event("wanted", 5, "record it")


def test_wait_for_event_names_the_step_and_what_was_recorded_on_timeout() -> None:
    trace = Trace()
    trace.add("get")
    with pytest.raises(Timeout, match=r"did not call on_finish within 0.05s.*recorded so far: \['get'\]"):
        trace.wait_for_event("on_finish", 0.05, "call on_finish")
