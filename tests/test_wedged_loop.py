"""A wedged implementation loop is abandoned, and its thread does not outlive it
(conformance/server.py, rule 2): a busy loop left running would take the CPU and the GIL
from every later check."""

from __future__ import annotations

import platform
import threading
import time

import pytest

from conformance.errors import LoopUnresponsive
from conformance.impl import load
from conformance.server import LoopThread

pytestmark = pytest.mark.skipif(
    platform.python_implementation() != "CPython", reason="ends the thread with CPython's PyThreadState_SetAsyncExc"
)

#: How long the abandoned thread may take to end: bounds a wait, never decides a verdict.
LONG = 30.0


def _spin() -> None:
    while True:  # an implementation's busy loop: never yields to its event loop
        pass


def _sleep_then_spin(started: threading.Event) -> None:
    started.set()
    time.sleep(0.2)  # blocked in C when the loop is abandoned: ended once back in Python
    _spin()


@pytest.mark.parametrize("busy", ["spinning", "blocked-then-spinning"])
def test_a_wedged_loop_thread_ends_once_abandoned(busy: str) -> None:
    loop = LoopThread(load("tornado"), timeout=LONG).start()
    if busy == "spinning":
        with pytest.raises(LoopUnresponsive):
            loop.call(_spin, timeout=0.05)
    else:
        started = threading.Event()
        with pytest.raises(LoopUnresponsive):
            loop.call(_sleep_then_spin, started, timeout=0.05)
        assert started.wait(LONG)
    assert loop.wedged
    loop.stop()
    loop.thread.join(LONG)
    assert not loop.thread.is_alive(), "the abandoned loop's thread is still running the implementation's busy loop"


def test_a_loop_that_answers_is_stopped_as_before() -> None:
    loop = LoopThread(load("tornado"), timeout=LONG).start()
    assert loop.call(lambda: 42) == 42
    loop.stop()
    assert not loop.thread.is_alive()
