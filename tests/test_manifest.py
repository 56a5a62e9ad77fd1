"""The manifest of the shipped suites (conformance/_manifest.py): a run that lists its
checks from it collects, selects and judges exactly as a run that imports every module."""

from __future__ import annotations

import json
import marshal
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance import _manifest


def _kit(cwd: Path, cache: Path, *args: str, manifest: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER")}
    env["XDG_CACHE_HOME"] = str(cache)
    env.pop(_manifest.DISABLE, None)
    if not manifest:
        env[_manifest.DISABLE] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--impl=tornado", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def _listing(proc: subprocess.CompletedProcess[str]) -> list[str]:
    """The node ids of ``--collect-only -q`` (its closing count line, with a time, left out)."""
    assert proc.returncode in (0, 5), proc.stdout + proc.stderr
    return [line for line in proc.stdout.splitlines() if "::" in line]


def _manifests(cache: Path) -> list[Path]:
    return sorted((cache / "tornado-conformance").glob("manifest-*"))


def _written(tmp_path: Path) -> Path:
    """A cache holding the manifest of the whole kit (written by an ordinary first run)."""
    cache = tmp_path / "cache"
    first = _kit(tmp_path, cache, "--collect-only", "-q")
    assert first.returncode == 0, first.stdout + first.stderr
    assert len(_manifests(cache)) == 1
    tree = _kit(tmp_path, cache, "--collect-only")
    assert "<Check " in tree.stdout and "<Function " not in tree.stdout, tree.stdout[-2000:]
    return cache


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache with the whole kit's manifest, for the tests that only read it."""
    return _written(tmp_path_factory.mktemp("manifest"))


SELECTIONS = [
    pytest.param((), id="everything"),
    pytest.param(("-m", "cookies or websocket and not parametrize"), id="markers", marks=pytest.mark.primary_python),
    pytest.param(("-m", "conformance(level='SHOULD')"), id="mark-keywords", marks=pytest.mark.primary_python),
    pytest.param(("-k", "persistent or cookies.xsrf or property"), id="keywords", marks=pytest.mark.primary_python),
    pytest.param(
        ("--level", "MUST", "--deselect", "websocket/test_wss.py"), id="kit-options", marks=pytest.mark.primary_python
    ),
]


@pytest.mark.parametrize("selection", SELECTIONS)
def test_the_manifest_lists_what_importing_every_module_collects(
    written: Path, tmp_path: Path, selection: tuple[str, ...]
) -> None:
    """Node ids, order, and what ``-m`` (names and keyword arguments), ``-k`` (names, the
    stable ids, the functions' attributes), ``--deselect`` and the kit's own options select."""
    listed = _listing(_kit(tmp_path, written, "--collect-only", "-q", *selection))
    collected = _listing(_kit(tmp_path, written, "--collect-only", "-q", *selection, manifest=False))
    assert listed == collected
    assert listed  # each selection keeps some checks: the comparison means something


def _judged(proc: subprocess.CompletedProcess[str], out: Path) -> list[tuple[str, ...]]:
    assert out.exists(), proc.stdout + proc.stderr
    return [
        (t["nodeid"], t["id"], t["outcome"], t.get("level") or "", t.get("reference") or "", t.get("expectation") or "")
        for t in json.loads(out.read_text())["tests"]
    ]


@pytest.mark.primary_python
@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["serial", "n2"])
def test_checks_listed_by_the_manifest_run_and_are_judged_as_usual(
    written: Path, tmp_path: Path, workers: tuple[str, ...], tornado_expectations: str
) -> None:
    """Verdicts, levels and expectations (xfail marks added to the listed item, carried to
    the real one) are those of an ordinary run; a broken implementation fails as usual."""
    cache = written
    for impl in ("tornado", "conformance.fixtures.broken.cookies_samesite_dropped"):
        judged = []
        for manifest in (True, False):
            out = tmp_path / f"{manifest}.json"
            args = [f"--impl={impl}", f"--expectations={tornado_expectations}", "-q", "-m", "cookies"]
            proc = _kit(tmp_path, cache, *args, f"--conformance-json={out}", *workers, manifest=manifest)
            judged.append(_judged(proc, out))
        assert judged[0] == judged[1]
        outcomes = [row[2] for row in judged[0]]
        assert "passed" in outcomes and "xfailed" in outcomes, impl  # Tornado's own deviations apply
        assert ("failed" in outcomes) == (impl != "tornado"), impl


@pytest.mark.parametrize(
    "workers", [(), pytest.param(("-n", "2"), marks=pytest.mark.primary_python)], ids=["serial", "n2"]
)
def test_a_check_its_module_no_longer_has_fails_and_says_why(tmp_path: Path, workers: tuple[str, ...]) -> None:
    """(With ``-n 2``, this also shows that the workers list the checks from the manifest:
    collecting the ordinary way, they would not know the listed check at all.)"""
    cache = _written(tmp_path)
    (path,) = _manifests(cache)
    data = marshal.loads(path.read_bytes())
    module = data["modules"]["http11/test_persistence.py"]
    gone = dict(module["items"][0], name="test_gone_from_its_module", originalname="test_gone_from_its_module")
    module["items"].append(gone)
    path.write_bytes(marshal.dumps(data))
    proc = _kit(tmp_path, cache, "-q", "-k", "gone_from_its_module or connection_is_persistent_by_default", *workers)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "1 failed, 1 passed" in proc.stdout
    assert "manifest lists" in proc.stdout and "test_gone_from_its_module" in proc.stdout


def test_a_plugin_the_manifest_does_not_know_in_collection_turns_it_off(written: Path, tmp_path: Path) -> None:
    cache = written
    (tmp_path / "conftest.py").write_text("def pytest_collection_modifyitems(items):\n    pass\n")
    tree = _kit(tmp_path, cache, "--collect-only")
    assert tree.returncode == 0, tree.stdout + tree.stderr
    assert "<Check " not in tree.stdout and "<Function " in tree.stdout


def test_no_manifest_when_told_not_to_nor_when_the_cache_cannot_be_written(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    off = _kit(tmp_path, cache, "--collect-only", "-q", "-m", "cookies", manifest=False)
    assert off.returncode == 0 and not _manifests(cache)
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    for _ in range(2):
        proc = _kit(tmp_path, blocked, "--collect-only", "-q", "-m", "cookies")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert _listing(proc) == _listing(off)


def test_the_key_changes_with_any_file_of_the_kit(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"")
    before = _manifest._stamp([tmp_path])
    assert len(before) == 1  # bytecode is not part of it
    os.utime(tmp_path / "a.py", ns=(0, 0))
    assert _manifest._stamp([tmp_path]) != before
    (tmp_path / "vectors.json").write_text("{}")
    assert len(_manifest._stamp([tmp_path])) == 2
