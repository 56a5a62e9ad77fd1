"""What the kit costs, beside what Tornado's own test suite costs on the same machine.

Run from a checkout, with the interpreter the kit is installed in::

    nice -n 10 python benchmarks/bench_vs_tornado.py [--rounds 3] [--markdown]

First, once, the first run after installing or changing the kit: ``--collect-only`` in an
empty cache (``XDG_CACHE_HOME`` in the scratch directory), which collects every module the
ordinary way and writes the manifest the later runs list the checks from
(conformance/_manifest.py). Then each round runs, one after another (so the machine's
drift hits every figure alike), with that cache:

1. start-up: ``tornado-conformance --impl=tornado --collect-only -q -p no:cacheprovider``;
2. the whole kit, serially: ``tornado-conformance --impl=tornado -q -p no:cacheprovider
   --conformance-json=F`` (F gives the number of checks, each check's outcome and its
   duration: setup + call + teardown, as pytest reports them);
3. the same with ``-n 2`` (pytest-xdist), whose outcomes are compared check by check
   with the serial run of the same round;
4. Tornado's own test suite, ``python -m tornado.test.runtests`` (it ships inside the
   tornado wheel), with the same interpreter; its count of tests is its ``Ran N tests``.

Every run is a whole process timed from outside, from its start to its exit, and runs in
a scratch directory, with bytecode caching on (``PYTHONDONTWRITEBYTECODE`` is cleared for
the runs, as a user's interpreter has it). Before the rounds, in this process: the bare wire exchange (one GET on
a fresh loopback connection, h11-parsed) and the start-up of one server on the running
loop, which are the floor under a check's cost.

Figures are medians over the rounds. *All-in per check* is the serial wall time divided by
the number of checks (start-up included), and *per test* the same for Tornado's suite;
the ratio of the two is taken round by round (each kit run beside the Tornado run of its
round), as is the ``-n 2`` speed-up. The per-check median and 90th percentile pool the
durations of every serial run, skipped checks left out.

It measures and asserts nothing; its exit status is 0 whatever the figures are.
``--markdown`` prints the block docs/performance.md carries.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: every run gets this long before it is killed (the benchmark itself must never hang)
RUN_TIMEOUT = 1800.0
KIT = [sys.executable, "-m", "tornado_conformance_cli"]
TORNADO_SUITE = [sys.executable, "-m", "tornado.test.runtests"]


# -- pure helpers (tests/test_benchmarks.py exercises them) ------------------------------


def percentile(samples: list[float], fraction: float) -> float:
    """The sample below which ``fraction`` of the samples lie (nearest rank)."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    rank = math.ceil(round(fraction * len(ordered), 9))  # round: 0.9 * 10 is 9.000000000000002
    return ordered[min(max(rank, 1), len(ordered)) - 1]


def tests_ran(unittest_output: str) -> tuple[int, int] | None:
    """(tests run, tests skipped) from unittest's summary, or None when it has none."""
    ran = re.search(r"^Ran (\d+) tests? in ", unittest_output, re.MULTILINE)
    if ran is None:
        return None
    skipped = re.search(r"skipped=(\d+)", unittest_output)
    return int(ran.group(1)), int(skipped.group(1)) if skipped else 0


def outcomes(results: dict[str, Any]) -> dict[str, str]:
    """Check node id -> outcome, from a --conformance-json file's contents."""
    return {t["nodeid"]: t["outcome"] for t in results["tests"]}


def differences(a: dict[str, str], b: dict[str, str]) -> list[str]:
    """The checks whose outcome differs between two runs, or that only one of them ran."""
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def spread(values: list[float], unit: str, digits: int) -> str:
    """The median, and the range in brackets when there is more than one value."""
    text = f"{statistics.median(values):.{digits}f}{unit}"
    if len(values) > 1:
        text += f" ({min(values):.{digits}f} to {max(values):.{digits}f})"
    return text


def slowest(runs: list[KitRun], how_many: int) -> str:
    """The checks that take longest, each with its median duration over the runs."""
    per_check: dict[str, list[float]] = {}
    for run in runs:
        for t in run.results["tests"]:
            per_check.setdefault(t["id"], []).append(t["duration"])
    ranked = sorted(per_check.items(), key=lambda kv: statistics.median(kv[1]), reverse=True)
    return ", ".join(f"`{check}` {statistics.median(d):.1f} s" for check, d in ranked[:how_many])


# -- measuring ----------------------------------------------------------------------------


@dataclass
class Run:
    wall: float
    returncode: int
    output: str


@dataclass
class KitRun(Run):
    results: dict[str, Any] = field(default_factory=dict)


#: The runs' environment: this process's, but with bytecode caching on, as a user's
#: interpreter has it. A shell or CI job that sets PYTHONDONTWRITEBYTECODE (this project's tox
#: envs do) would make every run recompile the modules it imports, Tornado's suite's alike.
CHILD_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str], cwd: str, env: dict[str, str] | None = None) -> Run:
    """``command`` run in ``cwd`` (with CHILD_ENV, or ``env``), timed from its start to its exit."""
    started = time.perf_counter()
    done = subprocess.run(
        command,
        cwd=cwd,
        env=CHILD_ENV if env is None else env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    wall = time.perf_counter() - started
    return Run(wall, done.returncode, done.stdout.decode("utf-8", "replace"))


def kit_run(impl: str, cwd: str, *extra: str, env: dict[str, str] | None = None) -> KitRun:
    out = Path(cwd) / "results.json"
    if out.exists():
        out.unlink()
    run = timed([*KIT, f"--impl={impl}", "-q", "-p", "no:cacheprovider", f"--conformance-json={out}", *extra], cwd, env)
    if not out.exists():
        tail = "\n".join(run.output.splitlines()[-15:])
        raise SystemExit(f"the kit wrote no results (exit {run.returncode}); its last lines:\n{tail}")
    return KitRun(run.wall, run.returncode, run.output, json.loads(out.read_text(encoding="utf-8")))


def bare_exchange_and_server_startup(impl_name: str, rounds: int) -> tuple[float, float]:
    """Median seconds of one GET on a fresh connection, and of one server's start + stop."""
    import anyio

    from conformance.impl import load
    from conformance.server import LoopThread, Server, ServerLog
    from conformance.wire import HTTPClient

    impl = load(impl_name)
    web = impl.part("web")

    class Hello(web.RequestHandler):  # type: ignore[name-defined]
        def get(self) -> None:
            self.write("hello")

    loop = LoopThread(impl, timeout=5).start()
    try:
        server = Server(loop, ServerLog())
        target = server.serve([("/", Hello)])
        client = HTTPClient(timeout=5)

        async def exchanges() -> list[float]:
            samples = []
            for _ in range(rounds):
                started = time.perf_counter()
                await client.request(target, "GET", "/")
                samples.append(time.perf_counter() - started)
            return samples

        wire = anyio.run(exchanges, backend="trio")
        server.close()
        startups = []
        for _ in range(rounds):
            started = time.perf_counter()
            one = Server(loop, ServerLog())
            one.serve([("/", Hello)])
            one.close()
            startups.append(time.perf_counter() - started)
    finally:
        loop.stop()
    return statistics.median(wire), statistics.median(startups)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def version_of(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the report ---------------------------------------------------------------------------


def render(rows: list[tuple[str, str]], markdown: bool) -> str:
    if markdown:
        lines = ["| figure | value |", "|---|---|"]
        lines += [f"| {label} | {value} |" for label, value in rows]
        return "\n".join(lines)
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="What the kit costs beside Tornado's own test suite (measures, asserts nothing)."
    )
    parser.add_argument("--rounds", type=int, default=3, help="runs of each command, alternated (default 3)")
    parser.add_argument("--markdown", action="store_true", help="print the block for docs/performance.md")
    parser.add_argument("--impl", default="tornado", help="the implementation the kit runs against (default tornado)")
    parser.add_argument(
        "--exchanges", type=int, default=200, help="samples of the bare wire exchange and server start-up (default 200)"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")

    cores = usable_cores()
    load_before = os.getloadavg()[0]
    if load_before > 0.5 * cores:
        say(
            f"WARNING: load average {load_before:.2f} on {cores} cores before the runs: "
            "the machine is busy, so these figures say little about the kit"
        )
    has_xdist = importlib.util.find_spec("xdist") is not None
    has_tornado_suite = importlib.util.find_spec("tornado.test.runtests") is not None

    say(f"bare wire exchange and server start-up, {args.exchanges} samples each ...")
    exchange, server_startup = bare_exchange_and_server_startup(args.impl, args.exchanges)

    startups: list[float] = []
    serial: list[KitRun] = []
    parallel: list[KitRun] = []
    tornado: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="bench-vs-tornado-") as scratch:
        # The first run after the kit is installed or changed collects every module and
        # writes the manifest the later runs list the checks from (conformance/_manifest.py),
        # as a user's first run does; it is timed apart, in a cache of its own.
        say("first run: start-up in an empty cache (writes the manifest) ...")
        cache_env = {**CHILD_ENV, "XDG_CACHE_HOME": os.path.join(scratch, "cache")}
        collect_only = [*KIT, f"--impl={args.impl}", "--collect-only", "-q", "-p", "no:cacheprovider"]
        first_startup = timed(collect_only, scratch, cache_env).wall
        for n in range(1, args.rounds + 1):
            say(f"round {n}/{args.rounds}: start-up ...")
            startups.append(timed(collect_only, scratch, cache_env).wall)
            say(f"round {n}/{args.rounds}: the kit, serially ...")
            serial.append(kit_run(args.impl, scratch, env=cache_env))
            if has_xdist:
                say(f"round {n}/{args.rounds}: the kit, -n 2 ...")
                parallel.append(kit_run(args.impl, scratch, "-n", "2", env=cache_env))
            if has_tornado_suite:
                say(f"round {n}/{args.rounds}: Tornado's own suite ...")
                tornado.append(timed(TORNADO_SUITE, scratch))
    load_after = os.getloadavg()[0]

    checks = len(serial[0].results["tests"])
    per_check = [run.wall / len(run.results["tests"]) for run in serial]
    durations = [t["duration"] for run in serial for t in run.results["tests"] if t["outcome"] != "skipped"]
    rows: list[tuple[str, str]] = [
        ("start-up (`--collect-only`), wall", spread(startups, " s", 2)),
        (
            "start-up of the first run after installing or changing the kit (writes the manifest)",
            f"{first_startup:.2f} s",
        ),
        (f"whole kit, serial, wall ({checks} checks)", spread([r.wall for r in serial], " s", 1)),
        ("kit all-in cost per check (serial wall ÷ checks)", spread([c * 1000 for c in per_check], " ms", 1)),
        (
            "one check (setup + call + teardown), median / p90",
            f"{statistics.median(durations) * 1000:.1f} / {percentile(durations, 0.9) * 1000:.1f} ms",
        ),
        (
            "sum of check durations, serial run",
            spread([sum(t["duration"] for t in r.results["tests"]) for r in serial], " s", 1),
        ),
        ("slowest checks (median over the serial runs)", slowest(serial, 3)),
        ("bare wire exchange (GET, fresh loopback connection), median", f"{exchange * 1000:.2f} ms"),
        ("server start-up + stop on the running loop, median", f"{server_startup * 1000:.2f} ms"),
    ]
    if parallel:
        differing = sorted(
            {k for s, p in zip(serial, parallel) for k in differences(outcomes(s.results), outcomes(p.results))}
        )
        if differing:
            shown = ", ".join(differing[:5]) + (f" and {len(differing) - 5} more" if len(differing) > 5 else "")
            verdicts = f"DIFFERENT for {len(differing)} checks: {shown}"
        else:
            verdicts = f"identical ({checks} checks, {len(parallel)} run pair{'s' if len(parallel) != 1 else ''})"
        rows += [
            ("whole kit, `-n 2`, wall", spread([r.wall for r in parallel], " s", 1)),
            (
                "`-n 2` speed-up (serial wall ÷ `-n 2` wall)",
                spread([s.wall / p.wall for s, p in zip(serial, parallel)], "x", 2),
            ),
            ("`-n 2` verdicts beside the serial run's", verdicts),
        ]
    else:
        rows.append(("`-n 2`", "not measured: pytest-xdist is not installed"))
    if tornado:
        counts = [c for c in (tests_ran(run.output) for run in tornado) if c is not None]
        if len(counts) == len(tornado):
            ran = [c[0] for c in counts]
            skipped = counts[0][1]
            per_test = [run.wall / count for run, count in zip(tornado, ran)]
            failed = sum(1 for run in tornado if run.returncode != 0)
            rows += [
                (
                    f"Tornado's own suite, wall ({ran[0]} tests, {skipped} skipped)",
                    spread([r.wall for r in tornado], " s", 1) + (f"; {failed} runs failed" if failed else ""),
                ),
                ("Tornado all-in cost per test (wall ÷ tests)", spread([t * 1000 for t in per_test], " ms", 1)),
                (
                    "ratio: kit per check ÷ Tornado per test",
                    spread([k / t for k, t in zip(per_check, per_test)], "", 2),
                ),
            ]
        else:
            rows.append(("Tornado's own suite", "no `Ran N tests` line in its output: not counted"))
    else:
        rows.append(("Tornado's own suite", "not measured: tornado.test is not installed"))

    facts = (
        f"{platform.system()} {platform.machine()}, {cores} cores usable ({os.cpu_count()} online), {cpu_model()}; "
        f"Python {platform.python_version()}; Tornado {version_of('tornado')}; kit against `{args.impl}`; "
        f"{args.rounds} round{'s' if args.rounds != 1 else ''}; "
        f"load average {load_before:.2f} before, {load_after:.2f} after (the runs' own load)"
    )
    if load_before > 0.5 * cores:  # the load after is the benchmark's own: only the load before says "busy"
        facts += " (a busy machine: above half the cores before the runs, the figures are unreliable)"
    if args.markdown:
        print(f"`python benchmarks/bench_vs_tornado.py --rounds {args.rounds}` on {facts}.")
        print(
            "Figures are medians over the rounds" + (", with the range in brackets." if args.rounds > 1 else ".") + "\n"
        )
    else:
        print(facts)
    print(render(rows, args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
