"""Ctrl-C during a check stops the run and is never recorded as a verdict."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

BLOCKING_CHECK = """
import sys
import anyio
import pytest
from conformance import check, Level
pytestmark = pytest.mark.http11

@check("RFC 9112 §9.3", Level.MUST)
def test_first(impl):
    pass

@check("RFC 9112 §9.3", Level.MUST)
async def test_interrupted(impl, server):
    print("STARTED", flush=True)
    await anyio.sleep(120)

@check("RFC 9112 §9.3", Level.MUST)
def test_never_reached(impl):
    pass
"""


#: ``python -m pytest``, with Ctrl-C restored: a process started in the background by a
#: shell without job control (``cmd &`` in a script, as CI may be) inherits SIGINT ignored,
#: and Python then leaves it ignored, so the interrupt this test sends would never arrive.
_PYTEST_WITH_CTRL_C = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'pytest'; runpy.run_module('pytest', run_name='__main__', alter_sys=True)"
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT semantics")
def test_interrupted_check_is_not_recorded_and_the_run_stops(tmp_path: Path) -> None:
    (tmp_path / "test_checks.py").write_text(BLOCKING_CHECK)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _PYTEST_WITH_CTRL_C,
            "-p",
            "no:cacheprovider",
            "-s",
            "-q",
            "test_checks.py",
            "--impl=tornado",
            "--conformance-json=out.json",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    seen = []
    try:
        for line in proc.stdout:  # blocks until the check prints; the check itself waits 120 s at most
            seen.append(line)
            if "STARTED" in line:
                proc.send_signal(signal.SIGINT)
                break
        output = "".join(seen) + proc.communicate(timeout=60)[0]
    finally:
        proc.kill()
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, output
    tests = {t["id"]: t for t in json.loads((tmp_path / "out.json").read_text())["tests"]}
    assert set(tests) == {"http11.first"}, f"only the finished check may be recorded: {sorted(tests)}\n{output}"
