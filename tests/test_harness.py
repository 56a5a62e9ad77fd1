"""The server harness: bounded time on a stalled implementation, nothing left behind.

A dead implementation (one that never answers) is ``tests/test_dead_impl.py``'s."""

from __future__ import annotations

import os
import threading
import time

import pytest

from conformance.outcomes import Outcome

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

DEAD_TIMEOUT = 0.5


def test_implementation_that_stops_mid_frame_ends_in_bounded_time_with_timeout_verdicts(kit) -> None:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    run = kit(
        "--impl=conformance.fixtures.broken.websocket_stalls_mid_frame",
        f"--conformance-timeout={DEAD_TIMEOUT}",
        "-m",
        "websocket",
        "-k",
        "message_arrives_whole",
    )
    elapsed = time.monotonic() - started
    failed = [t for t in run.tests() if t["outcome"] == Outcome.FAILED]
    assert failed, run.output[-3000:]
    wrong = [f"{t['id']}: {t['verdict']}" for t in failed if t["verdict"] != "timeout"]
    assert not wrong, "a frame that never completes must fail checks as timeouts:\n" + "\n".join(wrong)
    bound = 15 + len(run.tests()) * (DEAD_TIMEOUT * 2 + 0.5)
    assert elapsed < bound, f"the run took {elapsed:.1f}s, over the documented bound of {bound:.1f}s"


def _open_fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to count file descriptors")
def test_full_run_leaves_no_thread_socket_or_descriptor_behind(pytester: pytest.Pytester) -> None:
    threads_before = set(threading.enumerate())
    fds_before = _open_fds()
    result = pytester.runpytest_inprocess("--impl=tornado", "-p", "no:cacheprovider", "-q")
    assert result.ret == 0, result.stdout.str()[-3000:]
    # Trio keeps the worker threads of anyio.to_thread in a cache; idle, they exit by
    # themselves after 10 s. They are trio's, not threads the kit left running.
    left = [
        t.name
        for t in set(threading.enumerate()) - threads_before
        if t.is_alive() and not t.name.startswith("Trio thread")
    ]
    assert not left, f"threads left running after the run: {left}"
    leaked = _open_fds() - fds_before
    details = {fd: os.readlink(f"/proc/self/fd/{fd}") for fd in leaked if os.path.exists(f"/proc/self/fd/{fd}")}
    assert not details, f"file descriptors left open after the run: {details}"
