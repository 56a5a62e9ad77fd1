"""Salt's vendored Tornado fork as an implementation: ``--impl=salt.ext.tornado``.

Salt shipped a patched Tornado 4.5.3 as ``salt/ext/tornado`` inside its source
distribution up to the 3006.x releases. This module takes that folder out of the
``salt`` sdist from the package index, and nothing else of Salt::

    python -m conformance.adapters.salt_fork extract DEST          # salt==3006.30
    PYTHONPATH=DEST tornado-conformance --impl=salt.ext.tornado

Rules:

1. Only ``salt/ext/tornado`` is extracted, with two empty stub packages (``salt`` and
   ``salt.ext``) above it: the fork imports nothing else of Salt (its only other
   ``salt.*`` import, ``salt.ext.backports_abc``, is a fallback for Pythons without
   ``collections.abc``). `extract` lists any such import it finds, so a release for
   which that stops being true says so instead of failing obscurely.
2. The fork's code is run as shipped: no file is changed. Its ``test`` package is left
   out (it is not part of the API under test).
3. DEST records where the code came from (`PROVENANCE`): the salt release, the sdist's
   name and SHA-256. Extracting again into the same DEST replaces only what this tool
   made there.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import posixpath
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: The newest Salt release line that still vendors Tornado (3007 moved to Tornado 6).
DEFAULT_SALT_VERSION = "3006.30"

#: The fork, inside the sdist (below its top folder ``salt-<version>/``).
FORK = "salt/ext/tornado"

#: The file DEST gets, next to ``salt/``, saying where the fork came from.
PROVENANCE = "SALT_FORK.json"

_STUB = '"""Stub made by conformance.adapters.salt_fork: only salt/ext/tornado was extracted from {sdist}."""\n'

_SALT_IMPORT = re.compile(r"^\s*(?:from|import)\s+(salt(?:\.\w+)*)\b", re.MULTILINE)


class SaltForkError(Exception):
    """The sdist cannot be fetched or does not hold the fork (one line, for the user)."""


def download_sdist(version: str, into: Path) -> Path:
    """Fetch the ``salt==version`` source distribution with pip, without its dependencies.

    Returns:
        The path of the ``.tar.gz`` file.

    Raises:
        SaltForkError: pip failed or brought something other than an sdist.
    """
    into.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--no-binary",
        ":all:",
        f"salt=={version}",
        "--dest",
        str(into),
    ]
    proc = subprocess.run(command, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["(no output)"]
        raise SaltForkError(f"pip could not download the salt=={version} sdist: {tail[0]}")
    found = sorted(into.glob(f"salt-{version}.tar.gz"))
    if not found:
        raise SaltForkError(f"pip download salt=={version} produced no salt-{version}.tar.gz in {into}")
    return found[0]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fork_members(archive: tarfile.TarFile, sdist: Path) -> list[tuple[tarfile.TarInfo, str]]:
    """The regular files of the fork, each with its path relative to DEST (``salt/ext/tornado/...``)."""
    members = []
    for member in archive.getmembers():
        parts = member.name.split("/", 1)
        if len(parts) != 2:
            continue
        # Normalised first, so that no name (``../``, links) can lead outside DEST/salt/ext/tornado;
        # only regular files are taken, and written by this code, never by tarfile.
        relative = posixpath.normpath(parts[1])
        if not relative.startswith(FORK + "/") or not member.isfile():
            continue
        if relative.startswith(f"{FORK}/test/"):
            continue  # rule 2: the fork's own tests are not part of the API under test
        members.append((member, relative))
    if not any(rel == f"{FORK}/__init__.py" for _, rel in members):
        raise SaltForkError(
            f"{sdist.name} has no {FORK}/__init__.py: this salt release does not vendor Tornado "
            f"(it was removed in 3007; use a 3006.x release such as {DEFAULT_SALT_VERSION})"
        )
    return members


def foreign_salt_imports(dest: Path) -> list[str]:
    """Modules outside the fork that the extracted fork names in an import statement."""
    found: set[str] = set()
    for source in (dest / FORK).rglob("*.py"):
        for name in _SALT_IMPORT.findall(source.read_text(encoding="utf-8", errors="replace")):
            if name != "salt.ext.tornado" and not name.startswith("salt.ext.tornado."):
                found.add(name)
    return sorted(found)


def extract(sdist: Path, dest: Path, salt_version: str | None = None) -> dict[str, Any]:
    """Extract ``salt/ext/tornado`` from the ``sdist`` tarball into ``dest``, with stubs above it.

    Args:
        sdist: a ``salt-<version>.tar.gz``.
        dest: the folder to put on ``PYTHONPATH``; created if needed. A ``dest/salt`` made
            by an earlier `extract` is replaced; any other ``dest/salt`` is left alone and
            is an error.
        salt_version: recorded in the provenance (default: read from the sdist's name).

    Returns:
        The provenance written to ``dest/SALT_FORK.json``.

    Raises:
        SaltForkError: the tarball does not hold the fork, or ``dest/salt`` is not ours.

    Example::

        extract(Path("salt-3006.30.tar.gz"), Path("fork"))   # then PYTHONPATH=fork
    """
    dest = Path(dest)
    target = dest / "salt"
    if target.exists() and not (dest / PROVENANCE).exists():
        raise SaltForkError(f"{target} exists and was not made by this tool; pass an empty DEST")
    if salt_version is None:
        match = re.match(r"salt-(.+)\.tar\.gz$", sdist.name)
        salt_version = match.group(1) if match else "unknown"
    if not sdist.is_file() or not tarfile.is_tarfile(sdist):
        raise SaltForkError(f"{sdist}: not a readable tarball")
    with tarfile.open(sdist, "r:*") as archive:
        members = _fork_members(archive, sdist)  # checked before anything in DEST is touched
        if target.exists():
            shutil.rmtree(target)
        for member, relative in members:
            out = dest.joinpath(*relative.split("/"))
            out.parent.mkdir(parents=True, exist_ok=True)
            stream = archive.extractfile(member)
            assert stream is not None  # a regular file always has content
            with stream, out.open("wb") as sink:
                shutil.copyfileobj(stream, sink)
        licence = next(
            (m for m in archive.getmembers() if m.isfile() and m.name.count("/") == 1 and m.name.endswith("/LICENSE")),
            None,
        )
        if licence is not None:
            stream = archive.extractfile(licence)
            assert stream is not None
            with stream:
                (target / "LICENSE").write_bytes(stream.read())
    stub = _STUB.format(sdist=sdist.name)
    for package in (target, target / "ext"):
        (package / "__init__.py").write_text(stub, encoding="utf-8")
    provenance = {
        "salt": salt_version,
        "sdist": sdist.name,
        "sha256": _sha256(sdist),
        "fork": FORK,
        "files": len(members),
        "imports_outside_the_fork": foreign_salt_imports(dest),
    }
    (dest / PROVENANCE).write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
    return provenance


def _extract_command(args: argparse.Namespace) -> int:
    dest = Path(args.dest)
    provenance_file = dest / PROVENANCE
    if not args.force and args.sdist is None and provenance_file.exists() and (dest / FORK / "__init__.py").exists():
        recorded = json.loads(provenance_file.read_text(encoding="utf-8"))
        if recorded.get("salt") == args.salt_version:
            print(f"{dest}: salt {args.salt_version}'s {FORK} is already there (--force extracts it again)")
            return 0
    try:
        if args.sdist is not None:
            provenance = extract(Path(args.sdist), dest)
        else:
            with tempfile.TemporaryDirectory(prefix="salt-sdist-") as scratch:
                sdist = download_sdist(args.salt_version, Path(scratch))
                provenance = extract(sdist, dest, args.salt_version)
    except SaltForkError as exc:
        print(f"salt_fork: {exc}", file=sys.stderr)
        return 1
    print(f"extracted {provenance['files']} files of {FORK} from {provenance['sdist']} into {dest}")
    if provenance["imports_outside_the_fork"]:
        print(
            "note: the fork names these modules outside it (only fallbacks in 3006.x): "
            + ", ".join(provenance["imports_outside_the_fork"])
        )
    print(f"run: PYTHONPATH={dest} tornado-conformance --impl=salt.ext.tornado")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m conformance.adapters.salt_fork",
        description="Take Salt's vendored Tornado fork (salt/ext/tornado) out of the salt sdist.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    extract_parser = commands.add_parser("extract", help="extract salt/ext/tornado (with stub packages) into DEST")
    extract_parser.add_argument("dest", metavar="DEST", help="folder to put on PYTHONPATH")
    extract_parser.add_argument(
        "--salt-version",
        default=DEFAULT_SALT_VERSION,
        help=f"salt release to download with pip (default: {DEFAULT_SALT_VERSION}; the fork exists up to 3006.x)",
    )
    extract_parser.add_argument("--sdist", metavar="FILE", help="use this salt-<version>.tar.gz instead of downloading")
    extract_parser.add_argument("--force", action="store_true", help="extract even if DEST already has this release")
    args = parser.parse_args(argv)
    return _extract_command(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
