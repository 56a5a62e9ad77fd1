"""Benchmarks of the kit itself (not of the implementation): what a check costs.

Run: ``python benchmarks/bench_kit.py [--impl=tornado] [--rounds=200]``

It prints, for the implementation given (Tornado by default):

* the bare wire exchange: one GET over a fresh loopback connection, h11 parsing the
  response, against a server started by the kit's harness (median of ``--rounds``);
* server start-up per check: ``server.serve`` plus its stop, on the running loop;
* the median and 90th percentile duration of one check, from a full run's JSON, beside
  the bare exchange;
* the whole kit, wall time, serially and with ``-n 2`` (pytest-xdist);
* the hypothesis profiles: the whole kit under ``ci`` and under ``thorough``
  (only with ``--thorough``; it takes minutes).

It measures; it asserts nothing. Figures go to docs/performance.md with the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def bare_exchange_and_startup(impl_name: str, rounds: int) -> tuple[float, float]:
    import anyio

    from conformance.impl import load
    from conformance.server import LoopThread, Server, ServerLog
    from conformance.wire import HTTPClient

    impl = load(impl_name)
    web = impl.part("web")

    class Hello(web.RequestHandler):  # type: ignore[name-defined,misc]
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
    return _median_ms(wire), _median_ms(startups)


def whole_kit(impl_name: str, *extra: str) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "results.json"
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                f"--impl={impl_name}",
                f"--conformance-json={out}",
                *extra,
            ],
            cwd=tmp,
            capture_output=True,
            check=False,
        )
        elapsed = time.perf_counter() - started
        return elapsed, json.loads(out.read_text())


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--impl", default="tornado")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--thorough", action="store_true", help="also time the thorough hypothesis profile")
    args = parser.parse_args()

    print(f"machine: {machine()}")
    wire_ms, startup_ms = bare_exchange_and_startup(args.impl, args.rounds)
    print(f"bare wire exchange (GET on a fresh connection, h11-parsed), median: {wire_ms:.2f} ms")
    print(f"server start-up + stop per check, median:                        {startup_ms:.2f} ms")

    serial, results = whole_kit(args.impl)
    durations = sorted(t["duration"] for t in results["tests"] if t["outcome"] != "skipped")
    median_check = statistics.median(durations) * 1000
    p90 = durations[int(len(durations) * 0.9)] * 1000
    print(
        f"one check (setup+call+teardown), median: {median_check:.2f} ms (p90 {p90:.2f} ms) "
        f"= bare exchange + {median_check - wire_ms:.2f} ms, over {len(durations)} checks"
    )
    print(f"whole kit, serial, ci profile:  {serial:.2f} s wall")
    try:
        import xdist  # noqa: F401

        parallel, _ = whole_kit(args.impl, "-n", "2")
        print(f"whole kit, -n 2, ci profile:    {parallel:.2f} s wall")
    except ImportError:
        print("whole kit, -n 2: pytest-xdist not installed")
    if args.thorough:
        thorough, _ = whole_kit(args.impl, "--hypothesis-profile=thorough")
        print(f"whole kit, serial, thorough:    {thorough:.2f} s wall")


if __name__ == "__main__":
    main()
