"""Ending a process once its run is over, without the interpreter's finalisation.

Tearing down the million objects of a run of 1300 checks one by one took 0.16 s of every
run of the ``tornado-conformance`` command, and about 0.3 s at the end of a ``-n 2`` run,
where xdist's controller waits for each worker's process to end (docs/performance.md).
Every file the run wrote is closed by then, and what the exit handlers do (logging's
flush, a coverage tool's save) still happens here, in order. A thread that is not a
daemon is still running only if a plugin left one behind; then, as under a profiler or a
tracer (whose data is written after the run returns), the exit is the normal one.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading


def _ordinary_exit_needed() -> bool:
    if getattr(atexit, "_run_exitfuncs", None) is None:  # CPython's and PyPy's have it
        return True
    if sys.gettrace() is not None or sys.getprofile() is not None:
        return True  # a profiler or coverage tool writes its data after the run returns
    return any(not t.daemon for t in threading.enumerate() if t is not threading.main_thread())


def quick_exit(status: int) -> None:
    """Run the exit handlers, flush the standard streams and end the process with ``status``
    (or ``sys.exit(status)`` where a quick end could lose something)."""
    if _ordinary_exit_needed():
        sys.exit(status)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed or broken pipe: nothing more can reach it
            pass
    os._exit(status)


def end_worker_quickly() -> None:
    """In an xdist worker whose run is over: end its process as `quick_exit` does, when
    the interpreter exits (by then the worker has sent its last report and xdist's
    controller has told it to stop; the controller waits for the process to end)."""

    def end() -> None:
        atexit.unregister(end)  # the other handlers, registered before, run in quick_exit
        if threading.current_thread() is threading.main_thread() and not _ordinary_exit_needed():
            quick_exit(0)

    atexit.register(end)
