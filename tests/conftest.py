"""Helpers for the kit's own tests: run the kit as a user would, in a subprocess."""

from __future__ import annotations

import ast
import gc
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# hypothesis is imported here, once, at the top of the stack: otherwise the first in-process
# pytester run that reaches hypothesis's terminal summary imports (and assertion-rewrites) it
# deep inside pytest's hooks, where CPython 3.11's ast.parse can fail with "AST constructor
# recursion depth mismatch" (seen as an INTERNAL_ERROR of an unrelated in-process run).
import hypothesis  # noqa: F401
import pytest

# trustme (and through it cryptography) for the same reason, with a harder failure: an
# in-process pytester run forgets the modules first imported during it, and cryptography's
# compiled core cannot be imported twice in one process. Its second import keeps the first
# EllipticCurve class, so every later wss check failed with "curve must be an EllipticCurve
# instance" (seen on CI, in whichever xdist worker ran a wss check in-process first).
import trustme  # noqa: F401

_ast_parse = ast.parse


def _parse_with_the_collector_paused(*args: Any, **kwargs: Any) -> Any:
    """``ast.parse``, with no garbage collection while it builds the tree.

    CPython 3.11.7 (CI's primary Python) keeps the depth counter of its tree building in
    state shared by every thread. A collection in the middle of one runs finalizers, that is
    Python code, where another thread can take over and parse too (the threads an in-process
    run of the kit leaves to wind down import lazily, and pytest rewrites those imports):
    then "SystemError: AST constructor recursion depth mismatch" fails whichever test was
    parsing (seen in tests/test_architecture.py once the tests ran longest first). With the
    collector paused, no Python code runs inside the C conversion, so no thread can cut in."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _ast_parse(*args, **kwargs)
    finally:
        if enabled:
            gc.enable()


ast.parse = _parse_with_the_collector_paused  # type: ignore[assignment]  # this test process only


@dataclass
class KitRun:
    returncode: int
    output: str
    results: dict[str, Any] | None

    def outcomes(self) -> dict[str, str]:
        """check id -> outcome"""
        assert self.results is not None, self.output
        return {t["id"]: t["outcome"] for t in self.results["tests"]}

    def ids_with(self, outcome: str) -> set[str]:
        return {cid for cid, got in self.outcomes().items() if got == outcome}

    def tests(self) -> list[dict[str, Any]]:
        assert self.results is not None, self.output
        return list(self.results["tests"])


def _kit_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_XDIST_WORKER", None)
    return env


def run_kit(cwd: Path, *args: str, timeout: float = 300, forked: bool = False) -> KitRun:
    """``python -m pytest ARGS --conformance-json=...`` in ``cwd``, as a user runs the kit.

    ``forked``: in a child forked from a warm interpreter (tests/_forkserver.py), which
    saves the imports of a fresh one; for the many runs that only read verdicts (the
    per-area proof). Where ``os.fork`` is missing, a fresh interpreter as usual."""
    out = cwd / "results.json"
    argv = ["-p", "no:cacheprovider", "-q", f"--conformance-json={out}", *args]
    if forked and hasattr(os, "fork"):
        returncode, output = _fork_server().run(cwd, argv, _kit_env(), timeout)
    else:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", *argv],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=_kit_env(),
        )
        returncode, output = proc.returncode, proc.stdout + proc.stderr
    results = json.loads(out.read_text()) if out.exists() else None
    return KitRun(returncode, output, results)


class _ForkServer:
    """The client of one tests/_forkserver.py process (one per xdist worker)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("_forkserver.py"))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,  # unbuffered: select() on the pipe then sees every answer
            env=_kit_env(),
        )
        self._answer(timeout=120)  # {"ready": true}

    def _answer(self, timeout: float) -> dict[str, Any]:
        import select

        assert self.proc.stdout is not None
        if not select.select([self.proc.stdout], [], [], timeout)[0]:
            raise subprocess.TimeoutExpired("tests/_forkserver.py", timeout)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"tests/_forkserver.py ended (exit {self.proc.wait()})")
        return dict(json.loads(line))

    def run(self, cwd: Path, argv: list[str], env: dict[str, str], timeout: float) -> tuple[int, str]:
        """``python -m pytest ARGV`` in ``cwd`` with ``env``: (exit code, output)."""
        import signal

        assert self.proc.stdin is not None
        out = cwd / "kit-output.txt"
        # The warm interpreter has imported hypothesis and anyio, which are pytest plugins:
        # pytest warns that it cannot rewrite their asserts (the kit skips rewriting them anyway).
        argv = [*argv, "-W", "ignore::pytest.PytestAssertRewriteWarning"]
        request = {"cwd": str(cwd), "argv": argv, "env": env, "out": str(out)}
        self.proc.stdin.write((json.dumps(request) + "\n").encode())
        pid = self._answer(timeout=60)["pid"]
        try:
            code = self._answer(timeout)["returncode"]
        except subprocess.TimeoutExpired:
            os.kill(pid, signal.SIGKILL)
            self._answer(timeout=60)
            raise
        return int(code), out.read_text(errors="replace") if out.exists() else ""

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


_FORK_SERVER: _ForkServer | None = None


def _fork_server() -> _ForkServer:
    global _FORK_SERVER
    if _FORK_SERVER is None or _FORK_SERVER.proc.poll() is not None:
        _FORK_SERVER = _ForkServer()
    return _FORK_SERVER


def pytest_unconfigure(config: pytest.Config) -> None:
    global _FORK_SERVER
    if _FORK_SERVER is not None:
        _FORK_SERVER.close()
        _FORK_SERVER = None


@pytest.fixture
def kit(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Run the kit from an empty directory: ``kit("--impl=tornado", "-m", "http11")``."""

    def run(*args: str, timeout: float = 300, forked: bool = False) -> KitRun:
        return run_kit(tmp_path, *args, timeout=timeout, forked=forked)

    return run


@pytest.fixture(scope="session")
def tornado_expectations() -> str:
    """The expectations file the kit ships for the installed Tornado: the broken
    implementations are Tornado plus one defect, so Tornado's own deviations apply to them."""
    from conformance.impl import load
    from conformance.run import shipped_expectations

    path = shipped_expectations(load("tornado"))
    return str(path) if path else "none"


@pytest.fixture(scope="session")
def tornado_run(tmp_path_factory: pytest.TempPathFactory) -> KitRun:
    """One full run of every suite against Tornado, shared by the tests that read it, and
    by the xdist workers: the first worker to need it runs it under a lock and leaves it in
    the run's shared temporary folder; the others read it there (one run, not one per worker)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:
        return run_kit(tmp_path_factory.mktemp("tornado-run"), "--impl=tornado")
    import fcntl

    shared = tmp_path_factory.getbasetemp().parent  # the same folder for every worker of this run
    saved = shared / "tornado-run.json"
    with open(shared / "tornado-run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not saved.exists():
            run = run_kit(tmp_path_factory.mktemp("tornado-run"), "--impl=tornado")
            saved.write_text(json.dumps({"returncode": run.returncode, "output": run.output, "results": run.results}))
        record = json.loads(saved.read_text())
    return KitRun(record["returncode"], record["output"], record["results"])


#: CI runs every test of the kit on its primary Python and a sample on the others
#: (tox.ini: CONFORMANCE_TESTS=sample). A test marked ``primary_python`` proves something
#: that does not depend on the interpreter (a page generated from data, pytest's own
#: option and marker handling, xdist's equivalence with a serial run) and is long: on the
#: other Pythons it is skipped, saying why.
SAMPLE_ONLY = os.environ.get("CONFORMANCE_TESTS", "all") == "sample"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "primary_python: runs on CI's primary Python only (skipped with CONFORMANCE_TESTS=sample)"
    )


#: Roughly what the kit's longest tests take on CI's 2-core machine, in seconds (test function
#: name -> seconds; a parametrised test's cases each). They are started first, so that under
#: xdist they overlap the many short tests instead of ending the run alone on one worker.
LONG_TESTS = {
    "test_tornado_passes_every_check": 30,  # the first to ask for the shared tornado_run pays for it
    "test_closing_instead_of_400_fails_the_must_refusals_and_is_non_strict_on_the_others": 23,
    "test_repaired_tornado_passes_every_check": 21,
    "test_full_run_leaves_no_thread_socket_or_descriptor_behind": 19,
    "test_dead_implementation_fails_wire_checks_at_once_as_unresponsive": 19,
    "test_implementation_without_websocket_reports_those_checks_not_provided": 18,
    "test_parallel_run_gives_the_same_verdicts_as_a_serial_run": 15,
    "test_implementation_that_stops_mid_frame_ends_in_bounded_time_with_timeout_verdicts": 7,
}
#: One broken implementation's proof runs its area's checks: their cost by area.
AREA_PROOF_COST = {"scale": 15.0, "http11": 6.0, "websocket": 5.0, "coroutines": 4.0, "lifecycle": 3.0, "cookies": 2.5}


def _expected_cost(item: pytest.Item) -> float:
    name = getattr(item, "originalname", item.name)
    if name == "test_broken_implementation_fails_exactly_its_declared_checks":
        module = item.callspec.params["module"]  # type: ignore[attr-defined]
        return AREA_PROOF_COST.get(module.AREA, 1.0)
    return LONG_TESTS.get(name, 0.0)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=_expected_cost, reverse=True)  # stable: equal costs keep their order
    if not SAMPLE_ONLY:
        return
    skip = pytest.mark.skip(
        reason="interpreter-independent and long: run on CI's primary Python (CONFORMANCE_TESTS=sample)"
    )
    for item in items:
        if item.get_closest_marker("primary_python"):
            item.add_marker(skip)


#: Checks of an API feature newer than some Tornado the kit's tests run with (CI's py39 and
#: py310 install Tornado 6.5, the newest those Pythons get): there the installed Tornado lacks
#: it, and the check rightly reports it "not provided". Check id (bare name) -> the release
#: that added the feature (Tornado's release notes).
FEATURES_SINCE = {
    # gen.with_timeout(message=...): Tornado 6.6.0 release notes
    "coroutines.with_timeout_message_becomes_the_timeout_error_message": "6.6",
    # the cross_origin_protection setting and check_trusted_origin: Tornado 6.6.0 release notes
    "cookies.cross_origin_protection_refuses_cross_origin_state_changes": "6.6",
}


#: Client checks of what Tornado documents for curl_httpclient only: its default client,
#: SimpleAsyncHTTPClient, refuses proxies and leaves time_info empty, so they are "not
#: provided" for --impl=tornado; the curl adapter (tox -e curl) and the broken
#: implementations built on fixtures/broken/_parts/http_proxy.py run them.
CURL_ONLY = {
    "http11.client_answers_a_proxy_digest_challenge_with_proxy_auth_mode_digest",
    "http11.client_sends_no_proxy_credentials_of_a_previous_request",
    "http11.client_time_info_reports_appconnect",
}


def _lacks_newer_feature(test: dict[str, Any]) -> bool:
    """Whether ``test`` (a results record) is "not provided" only because the installed
    Tornado predates the feature it checks (`FEATURES_SINCE`), or because the feature is
    one of curl_httpclient's (`CURL_ONLY`)."""
    import tornado

    from conformance._version import version_tuple

    if test["outcome"] == "skipped" and test["id"].split("[", 1)[0] in CURL_ONLY:
        return True
    since = FEATURES_SINCE.get(test["id"].split("[", 1)[0])
    installed = version_tuple(tornado.version) or ()
    return since is not None and test["outcome"] == "skipped" and installed < (version_tuple(since) or ())


@pytest.fixture(scope="session")
def lacks_newer_feature() -> Any:
    """`_lacks_newer_feature`, for the tests that require Tornado to provide everything."""
    return _lacks_newer_feature
