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


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT semantics")
def test_interrupted_check_is_not_recorded_and_the_run_stops(tmp_path: Path) -> None:
    (tmp_path / "test_checks.py").write_text(BLOCKING_CHECK)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
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
