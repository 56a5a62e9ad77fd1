"""How fast could ``-n 2`` be if the workers did not start and collect again? A measurement.

pytest-xdist starts every worker as a fresh interpreter that imports pytest and the plugin,
loads the implementation and collects all checks, and then forwards three full pytest
reports per check to a controller (docs/performance.md: 20.7 s of CPU for a run that
takes 14.1 s serially). This script measures the other design, as a prototype: the run
collects once, then forks; the parent runs every other check, the child the rest, and the
child sends back one small record per check. It is a measurement, not a feature: the
child's checks never reach the parent's terminal, summary or ``--conformance-json``.

Run from a checkout, with the interpreter the kit is installed in (pytest-xdist too)::

    nice -n 10 python benchmarks/fork_after_collection.py [--rounds 3]

Each round times, one after another, three whole runs of the kit against Tornado:
serially, with ``-n 2`` (pytest-xdist), and forked after collection; it prints each wall
time, the speed-ups over the serial run (medians over the rounds), and whether the forked
run's outcomes are the serial run's, check by check. Like ``bench_vs_tornado.py``, it
asserts nothing.

Used as a pytest plugin by the runs it times (``-p fork_after_collection`` with this folder
on ``PYTHONPATH``): it records each check's outcome into ``$FORK_AFTER_COLLECTION_OUT``,
and forks only when ``$FORK_AFTER_COLLECTION`` is ``1``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest

_outcomes: dict[str, str] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _outcomes[report.nodeid] = report.outcome + ("-xfail" if hasattr(report, "wasxfail") else "")


def _run(items: list[pytest.Item]) -> None:
    for i, item in enumerate(items):
        item.config.hook.pytest_runtest_protocol(item=item, nextitem=items[i + 1] if i + 1 < len(items) else None)


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    if os.environ.get("FORK_AFTER_COLLECTION") != "1":
        return None
    # Safe to fork: the implementation's loop and the kit's client thread start with the first check.
    assert threading.active_count() == 1, threading.enumerate()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        _run(session.items[1::2])
        with os.fdopen(write, "w") as pipe:
            json.dump(_outcomes, pipe)
        os._exit(0)
    os.close(write)
    _run(session.items[0::2])
    with os.fdopen(read) as pipe:
        _outcomes.update(json.load(pipe))
    os.waitpid(pid, 0)
    return True


def pytest_unconfigure(config: pytest.Config) -> None:
    out = os.environ.get("FORK_AFTER_COLLECTION_OUT")
    if out:
        Path(out).write_text(json.dumps(_outcomes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    from bench_vs_tornado import CHILD_ENV, KIT, timed  # this folder is on sys.path: run as a script

    command = [*KIT, "--impl=tornado", "-q", "-p", "no:cacheprovider", "-p", "fork_after_collection"]
    walls: dict[str, list[float]] = {"serial": [], "-n 2": [], "forked": []}
    same: list[bool] = []
    with tempfile.TemporaryDirectory() as scratch:
        env = {k: v for k, v in CHILD_ENV.items() if k != "PYTEST_ADDOPTS"}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).parent), env.get("PYTHONPATH")]))
        for n in range(rounds):
            found: dict[str, Any] = {}
            for name, extra, fork in (("serial", [], "0"), ("-n 2", ["-n", "2"], "0"), ("forked", [], "1")):
                out = Path(scratch, "outcomes.json")
                run_env = dict(env, FORK_AFTER_COLLECTION=fork, FORK_AFTER_COLLECTION_OUT=str(out))
                print(f"round {n + 1}/{rounds}: {name} ...", file=sys.stderr)
                walls[name].append(timed(command + extra, scratch, run_env).wall)
                found[name] = json.loads(out.read_text()) if out.exists() else {}
                out.unlink(missing_ok=True)
            same.append(bool(found["serial"]) and found["forked"] == found["serial"])
    serial = statistics.median(walls["serial"])
    for name, values in walls.items():
        median = statistics.median(values)
        line = f"{name}: {median:.1f} s ({min(values):.1f} to {max(values):.1f})"
        speedups = [s / v for s, v in zip(walls["serial"], values)]
        if name != "serial":
            line += f", speed-up {statistics.median(speedups):.2f}x"
        print(line)
    print(f"forked outcomes identical to the serial run's: {sum(same)} of {len(same)} rounds (serial {serial:.1f} s)")


if __name__ == "__main__":
    main()
