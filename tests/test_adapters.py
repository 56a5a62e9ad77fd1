"""The shipped adapters for real implementations, without those implementations or a network.

cyclone and Salt are not dependencies of the kit: these tests prove that the adapter
module imports without cyclone and says how to install it, and that the Salt extraction
takes exactly the fork out of an sdist (a small fake one, built here).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from conformance import adapters
from conformance.adapters import salt_fork

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


# -- cyclone ---------------------------------------------------------------------------
def test_cyclone_adapter_module_imports_without_cyclone_or_twisted() -> None:
    code = (
        "import sys; sys.modules['cyclone'] = None; sys.modules['twisted'] = None\n"
        "import conformance.adapters.cyclone as adapter\n"
        "assert callable(adapter.conformance_adapter)\n"
        "loaded = [m for m in sys.modules if m.startswith(('cyclone.', 'twisted.'))]\n"
        "assert not loaded, loaded\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_cyclone_adapter_without_cyclone_is_a_one_line_usage_error_naming_the_install(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "cyclone", None)  # what `import cyclone` meets where it is not installed
    result = pytester.runpytest("--impl=conformance.adapters.cyclone")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str() + result.stderr.str()
    lines = [line for line in result.stderr.lines if line.strip()]
    assert len(lines) == 1, f"a usage error must be one line, got: {lines}"
    assert lines[0].startswith("ERROR: --impl=conformance.adapters.cyclone: "), lines[0]
    assert "cyclone is not installed" in lines[0], lines[0]
    assert "pip install 'tornado-conformance[cyclone]'" in lines[0], lines[0]


# -- running a real implementation: findings are not a broken run ------------------------
@pytest.mark.parametrize(
    ("kit_exit", "expected"),
    [(0, 0), (1, 0), (2, 2), (3, 3), (4, 4), (5, 5)],
    ids=["all-passed", "checks-failed", "interrupted", "internal-error", "usage-error", "no-checks"],
)
def test_record_succeeds_only_when_the_run_completed(
    kit_exit: int, expected: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "results" / "impl.json"
    seen: dict[str, object] = {}

    def fake_kit(command: list[str], env: dict[str, str], cwd: str) -> int:
        seen["command"], seen["pythonpath"], seen["cwd"] = command, env.get("PYTHONPATH", ""), cwd
        out.write_text("{}")  # the kit writes its results before it exits
        return kit_exit

    monkeypatch.setattr(adapters.subprocess, "call", fake_kit)
    code = adapters.record(["--impl=x", f"--conformance-json={out}"], path=[str(tmp_path / "fork")])
    assert code == expected
    assert seen["command"][-2:] == ["--impl=x", f"--conformance-json={out}"]  # type: ignore[index]
    assert str(seen["pythonpath"]).startswith(str(tmp_path / "fork"))


def test_record_counts_a_run_without_its_results_file_as_incomplete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(adapters.subprocess, "call", lambda command, env, cwd: 1)
    assert adapters.record([f"--conformance-json={tmp_path / 'missing.json'}"]) == 3


def test_record_runs_outside_the_current_project_with_absolute_result_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Started in a project, pytest would apply that project's configuration to the kit."""
    monkeypatch.chdir(tmp_path)
    seen: dict[str, object] = {}

    def fake_kit(command: list[str], env: dict[str, str], cwd: str) -> int:
        seen["command"], seen["cwd"] = command, cwd
        (tmp_path / "out" / "r.json").write_text("{}")
        return 0

    monkeypatch.setattr(adapters.subprocess, "call", fake_kit)
    assert adapters.record(["--conformance-json=out/r.json", "--expectations", "exp.toml"]) == 0
    assert not Path(str(seen["cwd"])).resolve().is_relative_to(tmp_path.resolve())
    assert seen["command"][-3:] == [  # type: ignore[index]
        f"--conformance-json={tmp_path / 'out' / 'r.json'}",
        "--expectations",
        str(tmp_path / "exp.toml"),
    ]


# -- Salt's fork -----------------------------------------------------------------------
FORK_INIT = 'version = "6.5.5"\nversion_info = (6, 5, 5, 0)\n'
FORK_WEB = "from salt.ext.tornado import escape\nfrom salt.ext.backports_abc import Generator\n"


def _sdist(path: Path, files: dict[str, str], top: str = "salt-3006.99") -> Path:
    """A gzipped tarball laid out like Salt's sdist: every file under ``top/``."""
    with tarfile.open(path, "w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def _fake_salt_sdist(tmp_path: Path) -> Path:
    return _sdist(
        tmp_path / "salt-3006.99.tar.gz",
        {
            "LICENSE": "Apache License 2.0\n",
            "setup.py": "raise SystemExit('never run')\n",
            "salt/__init__.py": "raise ImportError('the real salt package must not be extracted')\n",
            "salt/utils/files.py": "",
            "salt/ext/__init__.py": "raise ImportError('the real salt.ext package must not be extracted')\n",
            "salt/ext/backports_abc.py": "",
            "salt/ext/tornado/__init__.py": FORK_INIT,
            "salt/ext/tornado/web.py": FORK_WEB,
            "salt/ext/tornado/platform/__init__.py": "",
            "salt/ext/tornado/test/web_test.py": "",
        },
    )


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)).replace("\\", "/") for p in root.rglob("*") if p.is_file())


def test_salt_extraction_takes_only_the_fork_and_stubs_its_parents(tmp_path: Path) -> None:
    dest = tmp_path / "fork"
    provenance = salt_fork.extract(_fake_salt_sdist(tmp_path), dest)
    assert _files(dest) == [
        "SALT_FORK.json",
        "salt/LICENSE",
        "salt/__init__.py",
        "salt/ext/__init__.py",
        "salt/ext/tornado/__init__.py",
        "salt/ext/tornado/platform/__init__.py",
        "salt/ext/tornado/web.py",
    ]
    assert (dest / "salt/ext/tornado/web.py").read_text() == FORK_WEB  # shipped code is not changed
    assert provenance["salt"] == "3006.99" and provenance["files"] == 3
    assert provenance["imports_outside_the_fork"] == ["salt.ext.backports_abc"]
    assert json.loads((dest / "SALT_FORK.json").read_text()) == provenance


def test_extracted_fork_imports_as_salt_ext_tornado(tmp_path: Path) -> None:
    dest = tmp_path / "fork"
    salt_fork.extract(_fake_salt_sdist(tmp_path), dest)
    code = "import salt.ext.tornado as t; print(t.version)"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": str(dest)}, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "6.5.5"


def test_extracting_again_replaces_what_the_tool_made(tmp_path: Path) -> None:
    dest = tmp_path / "fork"
    salt_fork.extract(_fake_salt_sdist(tmp_path), dest)
    (dest / "salt/ext/tornado/stale.py").write_text("")
    salt_fork.extract(_fake_salt_sdist(tmp_path), dest)
    assert not (dest / "salt/ext/tornado/stale.py").exists()


def test_extraction_leaves_a_salt_folder_it_did_not_make_alone(tmp_path: Path) -> None:
    dest = tmp_path / "fork"
    (dest / "salt").mkdir(parents=True)
    (dest / "salt" / "mine.py").write_text("")
    with pytest.raises(salt_fork.SaltForkError, match="was not made by this tool"):
        salt_fork.extract(_fake_salt_sdist(tmp_path), dest)
    assert (dest / "salt" / "mine.py").exists()


def test_sdist_without_the_fork_says_which_releases_have_it(tmp_path: Path) -> None:
    sdist = _sdist(tmp_path / "salt-3007.1.tar.gz", {"salt/__init__.py": ""}, top="salt-3007.1")
    with pytest.raises(salt_fork.SaltForkError, match=r"does not vendor Tornado .*3006\.x"):
        salt_fork.extract(sdist, tmp_path / "fork")


def test_sdist_member_naming_a_path_outside_the_fork_is_not_extracted(tmp_path: Path) -> None:
    sdist = _sdist(
        tmp_path / "salt-3006.99.tar.gz",
        {"salt/ext/tornado/__init__.py": FORK_INIT, "salt/ext/tornado/../../../../escaped.py": "", "/abs.py": ""},
    )
    dest = tmp_path / "fork"
    salt_fork.extract(sdist, dest)
    assert not (tmp_path / "escaped.py").exists()
    assert _files(dest / "salt" / "ext") == ["__init__.py", "tornado/__init__.py"]


def test_extract_command_uses_a_given_sdist_and_prints_how_to_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "fork"
    code = salt_fork.main(["extract", str(dest), "--sdist", str(_fake_salt_sdist(tmp_path))])
    assert code == 0
    assert f"PYTHONPATH={dest} tornado-conformance --impl=salt.ext.tornado" in capsys.readouterr().out
