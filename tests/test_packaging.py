"""The distribution ships every package: the suites and fixtures travel with the plugin."""

from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PREFIXES = {"conformance": "conformance", "suites": "conformance.suites", "fixtures": "conformance.fixtures"}


def test_every_package_folder_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    found = set()
    for folder, dotted in PREFIXES.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((dotted, *relative)))
    assert found - listed == set(), f"add these packages to [tool.setuptools] packages: {sorted(found - listed)}"
    assert listed - found == set(), f"these listed packages do not exist: {sorted(listed - found)}"


def test_entry_point_names_the_plugin_module() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert config["project"]["entry-points"]["pytest11"] == {"conformance": "conformance.plugin"}


def test_plugin_module_imports_nothing_heavy() -> None:
    import subprocess

    code = (
        "import sys, conformance.plugin; "
        "heavy = [m for m in ('tornado', 'h11', 'wsproto', 'hypothesis', 'trio', 'anyio') if m in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, f"importing conformance.plugin imported {proc.stdout.strip()}"


def test_console_script_runs_the_shipped_suites_from_any_directory(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess

    code = "import sys, tornado_conformance_cli; sys.exit(tornado_conformance_cli.main(sys.argv[1:]))"
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "-p",
            "no:cacheprovider",
            "-W",
            "error::pytest.PytestAssertRewriteWarning",
            "-m",
            "coroutines",
            "--conformance-json=out.json",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "tornado-conformance summary" in proc.stdout
    assert "conformance: implementation tornado" in proc.stdout
    assert (tmp_path / "out.json").exists()


def test_console_script_leaves_telling_paths_from_option_values_to_pytest(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``out.json`` and ``cookies`` are option values even when files of those names exist."""
    import subprocess

    (tmp_path / "out.json").write_text("{}")
    (tmp_path / "cookies").mkdir()
    code = "import sys, tornado_conformance_cli; sys.exit(tornado_conformance_cli.main(sys.argv[1:]))"
    args = ["-p", "no:cacheprovider", "--conformance-json", "out.json", "-m", "cookies", "-k", "xsrf_form_html"]
    for _ in range(2):  # the second run finds out.json written by the first
        proc = subprocess.run(
            [sys.executable, "-c", code, *args], cwd=tmp_path, capture_output=True, text=True, timeout=300
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert "tornado-conformance summary" in proc.stdout
    assert '"tests"' in (tmp_path / "out.json").read_text()


def test_console_script_version_names_the_kit_and_its_oracles() -> None:
    import subprocess

    code = "import sys, tornado_conformance_cli; sys.exit(tornado_conformance_cli.main(sys.argv[1:]))"
    proc = subprocess.run([sys.executable, "-c", code, "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.strip()
    assert line.startswith("tornado-conformance ") and "pytest " in line, line
    for oracle in ("h11", "wsproto", "hypothesis", "anyio", "trio"):
        assert f"{oracle} " in line, line


def test_console_script_is_run_whose_quick_exit_keeps_status_output_and_exit_handlers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The command skips the interpreter's finalisation (``tornado_conformance_cli.run``), and
    loses nothing by it: the exit status, the report piped to a file, the results file, and
    what an exit handler registered during the run does (a coverage tool's save, say)."""
    import subprocess

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert config["project"]["scripts"]["tornado-conformance"] == "tornado_conformance_cli:run"
    (tmp_path / "conftest.py").write_text(
        "import atexit, pathlib\n"
        "def pytest_configure(config):\n"
        "    atexit.register(pathlib.Path('exit-handler-ran').write_text, 'yes')\n"
    )
    code = "import tornado_conformance_cli; tornado_conformance_cli.run()"
    args = ["-p", "no:cacheprovider", "--conformance-json=out.json", "-m", "cookies", "-k", "xsrf_form_html"]
    with open(tmp_path / "report.txt", "w") as report:
        proc = subprocess.run(
            [sys.executable, "-c", code, *args], cwd=tmp_path, stdout=report, stderr=subprocess.PIPE, timeout=300
        )
    text = (tmp_path / "report.txt").read_text()
    assert proc.returncode == 0, text[-3000:] + proc.stderr.decode()[-3000:]
    assert text.rstrip().splitlines()[-1].startswith("="), text[-500:]  # pytest's last line, flushed
    assert "tornado-conformance summary" in text
    assert '"tests"' in (tmp_path / "out.json").read_text()
    assert (tmp_path / "exit-handler-ran").read_text() == "yes"

    proc = subprocess.run(
        [sys.executable, "-c", code, "--impl=no_such_module_anywhere"], cwd=tmp_path, capture_output=True, timeout=300
    )
    assert proc.returncode == 4, proc.stderr.decode()
