"""Helpers for the kit's own tests: run the kit as a user would, in a subprocess."""

from __future__ import annotations

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


def run_kit(cwd: Path, *args: str, timeout: float = 300) -> KitRun:
    """``python -m pytest ARGS --conformance-json=...`` in ``cwd``, as a user runs the kit."""
    out = cwd / "results.json"
    env = dict(os.environ)
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_XDIST_WORKER", None)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", f"--conformance-json={out}", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    results = json.loads(out.read_text()) if out.exists() else None
    return KitRun(proc.returncode, proc.stdout + proc.stderr, results)


@pytest.fixture
def kit(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Run the kit from an empty directory: ``kit("--impl=tornado", "-m", "http11")``."""

    def run(*args: str, timeout: float = 300) -> KitRun:
        return run_kit(tmp_path, *args, timeout=timeout)

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
    """One full run of every suite against Tornado, shared by the tests that read it."""
    return run_kit(tmp_path_factory.mktemp("tornado-run"), "--impl=tornado")


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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
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
}


def _lacks_newer_feature(test: dict[str, Any]) -> bool:
    """Whether ``test`` (a results record) is "not provided" only because the installed
    Tornado predates the feature it checks (`FEATURES_SINCE`)."""
    import tornado

    from conformance._version import version_tuple

    since = FEATURES_SINCE.get(test["id"].split("[", 1)[0])
    installed = version_tuple(tornado.version) or ()
    return since is not None and test["outcome"] == "skipped" and installed < (version_tuple(since) or ())


@pytest.fixture(scope="session")
def lacks_newer_feature() -> Any:
    """`_lacks_newer_feature`, for the tests that require Tornado to provide everything."""
    return _lacks_newer_feature
