"""Debian's build of Tornado (``python3-tornado``) as an implementation, without installing it.

Debian ships Tornado 6.2 with security fixes backported (bookworm: ``6.2.0-3+deb12u4``); it
says ``version = "6.2"``. This module unpacks the ``.deb`` into a folder, as dpkg would lay
it out under ``/``, so the kit runs it on a Python of the same series (Debian 12's is 3.11)::

    python -m conformance.adapters.debian_build extract DEST      # apt-get download, dpkg-deb -x
    PYTHONPATH=DEST/usr/lib/python3/dist-packages tornado-conformance --impl=tornado

The kit identifies the build by the package's ``changelog.Debian.gz`` that comes with it
(`conformance.identity`), and applies ``deviations/debian-tornado.toml``, not upstream 6.2's.

Rules:

1. The package is taken as shipped: ``dpkg-deb -x``, no file changed, no maintainer script run.
2. ``extract`` does nothing when DEST already holds the asked version (read from its changelog).
3. Bad input (a ``--deb`` that is not a readable ``python3-tornado`` package, a DEST holding
   something else) is one line on stderr and exit code 4; a failed download, exit code 1.
"""

from __future__ import annotations

import argparse
import gzip
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

PACKAGE = "python3-tornado"
#: Debian 12 (bookworm)'s build when this was written; `extract --version` picks another.
DEFAULT_VERSION = "6.2.0-3+deb12u4"
#: Where the Python package lands below DEST.
SITE = Path("usr", "lib", "python3", "dist-packages")
CHANGELOG = Path("usr", "share", "doc", PACKAGE, "changelog.Debian.gz")


class DebianBuildError(Exception):
    """One line for the user; ``code`` is the exit status (4: bad input, 1: the download failed)."""

    def __init__(self, message: str, code: int = 4) -> None:
        super().__init__(message)
        self.code = code


def version_in(dest: Path) -> str | None:
    """The package version DEST holds (first line of its changelog), or None."""
    try:
        with gzip.open(dest / CHANGELOG, "rt", encoding="utf-8", errors="replace") as f:
            first = f.readline()
    except (OSError, EOFError):
        return None
    match = re.match(r"\S+ \(([^)\s]+)\)", first)
    return match.group(1) if match else None


def download(version: str, into: Path) -> Path:
    """``apt-get download python3-tornado=VERSION`` into ``into`` (needs Debian's apt sources)."""
    if shutil.which("apt-get") is None:
        raise DebianBuildError("apt-get is not available: pass the package file with --deb FILE", code=1)
    proc = subprocess.run(
        ["apt-get", "download", f"{PACKAGE}={version}"], cwd=into, capture_output=True, text=True, check=False
    )
    debs = sorted(into.glob(f"{PACKAGE}_*.deb"))
    if proc.returncode != 0 or not debs:
        tail = [line for line in (proc.stderr or proc.stdout).strip().splitlines() if line.startswith("E:")][-1:]
        raise DebianBuildError(
            f"apt-get download {PACKAGE}={version} failed: {tail[0] if tail else 'no package file'}", code=1
        )
    return debs[0]


def extract(deb: Path, dest: Path) -> str:
    """Unpack ``deb`` into ``dest`` (``dpkg-deb -x``); returns the package version it holds."""
    if not deb.is_file():
        raise DebianBuildError(f"--deb {deb}: no such file")
    if shutil.which("dpkg-deb") is None:
        raise DebianBuildError("dpkg-deb is not available (it comes with dpkg)", code=1)
    field = subprocess.run(["dpkg-deb", "-f", str(deb), "Package"], capture_output=True, text=True, check=False)
    if field.returncode != 0 or field.stdout.strip() != PACKAGE:
        what = field.stdout.strip() or "not a Debian package"
        raise DebianBuildError(f"--deb {deb}: expected a {PACKAGE} package, got {what}")
    if dest.exists() and any(dest.iterdir()) and version_in(dest) is None:
        raise DebianBuildError(f"{dest} exists and holds no {PACKAGE}; pass an empty DEST")
    if (dest / "usr").exists():
        shutil.rmtree(dest / "usr")  # an earlier extract, of another version
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(["dpkg-deb", "-x", str(deb), str(dest)], check=True)
    version = version_in(dest)
    if version is None or not (dest / SITE / "tornado" / "__init__.py").is_file():
        raise DebianBuildError(f"--deb {deb}: the package has no {SITE}/tornado or no {CHANGELOG}")
    return version


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line and exit 4, like every usage error of the kit
        self.exit(4, f"{self.prog}: {message} (see --help)\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _Parser(
        prog="python -m conformance.adapters.debian_build",
        description=f"Unpack Debian's {PACKAGE} into a folder, for PYTHONPATH=DEST/{SITE.as_posix()}.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub = commands.add_parser("extract", help=f"apt-get download {PACKAGE} and dpkg-deb -x it into DEST")
    sub.add_argument("dest", metavar="DEST")
    sub.add_argument("--version", default=DEFAULT_VERSION, help=f"package version (default: {DEFAULT_VERSION})")
    sub.add_argument("--deb", metavar="FILE", help="unpack this .deb instead of downloading")
    args = parser.parse_args(argv)
    dest = Path(args.dest)
    try:
        if args.deb is None and version_in(dest) == args.version:
            print(f"{dest}: {PACKAGE} {args.version} is already there")
        elif args.deb is not None:
            print(f"extracted {PACKAGE} {extract(Path(args.deb), dest)} into {dest}")
        else:
            with tempfile.TemporaryDirectory(prefix="debian-tornado-") as scratch:
                print(f"extracted {PACKAGE} {extract(download(args.version, Path(scratch)), dest)} into {dest}")
    except DebianBuildError as exc:
        print(f"debian_build: {exc}", file=sys.stderr)
        return exc.code
    print(f"run: PYTHONPATH={dest / SITE} tornado-conformance --impl=tornado")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
