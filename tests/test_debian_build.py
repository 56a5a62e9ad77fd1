"""conformance.adapters.debian_build: Debian's python3-tornado unpacked for PYTHONPATH."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.adapters import debian_build

needs_dpkg = pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb is not installed")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance.adapters.debian_build", *args], capture_output=True, text=True, timeout=60
    )


def _deb(tmp_path: Path, package: str = "python3-tornado", version: str = "6.2.0-3+deb12u4") -> Path:
    """A minimal package laid out like Debian's (built with dpkg-deb -b)."""
    root = tmp_path / "pkg"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        f"Package: {package}\nVersion: {version}\nArchitecture: all\nMaintainer: kit <kit@example.invalid>\n"
        "Description: test package\n"
    )
    site = root / debian_build.SITE / "tornado"
    site.mkdir(parents=True)
    (site / "__init__.py").write_text('version = "6.2"\n')
    doc = root / debian_build.CHANGELOG
    doc.parent.mkdir(parents=True)
    with gzip.open(doc, "wt") as f:
        f.write(f"python-tornado ({version}) bookworm-security; urgency=medium\n")
    out = tmp_path / f"{package}.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(root), str(out)], check=True, capture_output=True)
    return out


@pytest.mark.parametrize(
    "args",
    [(), ("extract",), ("extract", "DEST", "--no-such-option"), ("extract", "DEST", "--deb", "/no/such/file.deb")],
    ids=["no-command", "no-dest", "unknown-option", "missing-deb"],
)
def test_bad_input_is_one_line_and_exit_4(tmp_path: Path, args: tuple[str, ...]) -> None:
    proc = _cli(*(str(tmp_path / a) if a == "DEST" else a for a in args))
    assert proc.returncode == 4, proc.stderr
    assert proc.stdout == "" and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


@pytest.fixture(scope="module")
def tornado_deb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb is not installed")
    return _deb(tmp_path_factory.mktemp("deb"))


@needs_dpkg
def test_a_deb_of_another_package_is_refused(tmp_path: Path) -> None:
    proc = _cli("extract", str(tmp_path / "dest"), "--deb", str(_deb(tmp_path, package="python3-other")))
    assert proc.returncode == 4 and "expected a python3-tornado package, got python3-other" in proc.stderr


def test_extract_unpacks_the_package_and_names_its_version(tmp_path: Path, tornado_deb: Path) -> None:
    dest = tmp_path / "dest"
    proc = _cli("extract", str(dest), "--deb", str(tornado_deb))
    assert proc.returncode == 0, proc.stderr
    assert "extracted python3-tornado 6.2.0-3+deb12u4" in proc.stdout
    assert (dest / debian_build.SITE / "tornado" / "__init__.py").is_file()
    assert debian_build.version_in(dest) == "6.2.0-3+deb12u4"
    again = _cli("extract", str(dest))  # the asked (default) version is there: nothing to download
    assert again.returncode == 0 and "already there" in again.stdout


def test_a_dest_holding_something_else_is_refused(
    tmp_path: Path, tornado_deb: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "mine.txt").write_text("not a package")
    proc = debian_build.main(["extract", str(dest), "--deb", str(tornado_deb)])
    assert proc == 4
    assert "holds no python3-tornado" in capsys.readouterr().err
    assert (dest / "mine.txt").exists() and not (dest / "usr").exists()
