"""What an implementation *is*: its distribution, runtime, loop and HTTP client.

A version number alone misleads: windhose (a fork of Tornado) installs the ``tornado``
package and says ``version = "2.0.2"``; Debian's ``python3-tornado`` says ``6.2`` and carries
security fixes from later releases. The kit therefore identifies an implementation by

* its **distribution**: the installed distribution that provides the imported package
  (``importlib.metadata``, looked up in the folder the package was imported from), or the
  Debian package that owns it (``python3-tornado``, version ``6.2.0-3+deb12u4``), read from
  dpkg's database or from the package's ``changelog.Debian.gz`` beside it (an extracted
  ``.deb``);
* its **runtime**: CPython or PyPy, its version, and ``-O`` (asserts stripped);
* its **loop**: asyncio's own, uvloop, or Tornado's own IOLoop (Tornado 4.x);
* its **HTTP client**: the class ``AsyncHTTPClient`` is configured to use.

Rules:

1. Shipped expectations are chosen by distribution (`FAMILIES`): the Tornado file only for
   the ``tornado`` distribution, windhose's and Debian's build their own files. Anything
   else (a port, a package with no distribution metadata) gets none: a finding is never
   hidden by another implementation's expectations. An adapter may say its family itself
   (``Implementation.expectations_family``).
2. Every lookup is best effort and never raises: what cannot be found reads ``unknown``.
"""

from __future__ import annotations

import gzip
import platform
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

#: distribution name (as `identify` reports it) -> the shipped expectations family.
FAMILIES: dict[str, str] = {
    "tornado": "tornado",
    "windhose": "windhose",
    "debian:python3-tornado": "debian-tornado",
}
#: Families an adapter names itself (`Implementation.expectations_family`), not a distribution.
ADAPTER_FAMILIES = ("tornado-curl",)

#: The distributions that *are* Tornado's code at the release their version names (the
#: release-keyed API translations of `TornadoLike` apply to them).
TORNADO_BUILDS = ("tornado", "debian:python3-tornado")

#: dpkg's database (a package installed by apt under /usr).
DPKG_DIR = Path("/var/lib/dpkg")


@dataclass(frozen=True)
class Identity:
    """An implementation's identity, as the report header and the JSON ``impl`` object show it."""

    #: ``tornado``, ``windhose``, ``debian:python3-tornado``, or None when unknown
    distribution: str | None = None
    distribution_version: str | None = None
    #: ``CPython 3.11.7`` or ``PyPy 7.3.11 (Python 3.9.16)``, with `` -O`` when asserts are stripped
    runtime: str = ""
    #: ``asyncio``, ``uvloop``, ``tornado IOLoop`` or the loop class's module path
    loop: str = "unknown"
    #: the class AsyncHTTPClient creates (module.qualname), or None without an httpclient part
    http_client: str | None = None

    def describe(self) -> str:
        """One line: ``windhose 2.0.2; CPython 3.11.7; loop asyncio; client tornado.simple_httpclient...``."""
        dist = (
            f"{self.distribution} {self.distribution_version}"
            if self.distribution
            else "distribution unknown (no installed distribution provides it)"
        )
        client = self.http_client or "none"
        return f"{dist}; {self.runtime}; loop {self.loop}; HTTP client {client}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def runtime() -> str:
    """``CPython 3.11.7``, ``PyPy 7.3.11 (Python 3.9.16)``, each with `` -O`` (or ``-OO``) when set."""
    impl = platform.python_implementation()
    python = platform.python_version()
    if impl == "PyPy":
        pypy = getattr(sys, "pypy_version_info", None)
        version = ".".join(str(v) for v in pypy[:3]) if pypy else "?"
        text = f"PyPy {version} (Python {python})"
    else:
        text = f"{impl} {python}"
    if sys.flags.optimize:
        text += " -" + "O" * sys.flags.optimize
    return text


def distribution_of(module: ModuleType) -> tuple[str, str] | None:
    """(name, version) of what provides ``module``'s top-level package, or None."""
    top = module.__name__.split(".", 1)[0]
    package = module if top == module.__name__ else sys.modules.get(top, module)
    file = getattr(package, "__file__", None)
    if not file:
        return None
    init = Path(file).resolve()
    pkg_dir = init.parent if init.name.startswith("__init__.") else init
    site = pkg_dir.parent
    return _debian_package(init, site, top) or _python_distribution(site, top, init)


def _python_distribution(site: Path, top: str, init: Path) -> tuple[str, str] | None:
    """The distribution in ``site`` whose files hold ``init`` (or, lacking a file list, whose
    top_level.txt names ``top``)."""
    from importlib.metadata import distributions

    fallback = None
    try:
        found = list(distributions(path=[str(site)]))
    except Exception:
        return None
    for dist in found:
        name = dist.metadata["Name"] if dist.metadata else None
        if not name:
            continue
        record = dist.read_text("RECORD")
        if record and f"{top}/" not in record:
            continue  # parsing the file lists of every distribution installed costs a start-up
        try:
            files = dist.files
        except Exception:
            files = None
        if files:
            if any(_same(dist.locate_file(f), init) for f in files if str(f).startswith(f"{top}/")):
                return _canonical(name), dist.version
            continue
        top_level = dist.read_text("top_level.txt") or ""
        if top in top_level.split() and fallback is None:
            fallback = (_canonical(name), dist.version)
    return fallback


def _same(located: Any, path: Path) -> bool:
    try:
        return Path(str(located)).resolve() == path
    except OSError:
        return False


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _debian_package(init: Path, site: Path, top: str) -> tuple[str, str] | None:
    """Debian's package owning ``init``: dpkg's database when installed, else the
    ``changelog.Debian.gz`` of ``python3-<top>`` in the same tree (an extracted .deb)."""
    if site.name != "dist-packages" or site.parent.name != "python3":
        return None
    prefix = site.parent.parent.parent  # <prefix>/lib/python3/dist-packages
    package = f"python3-{top}"
    version = _dpkg_version(package, init) if prefix == Path("/usr") else None
    if version is None:
        version = _changelog_version(prefix / "share" / "doc" / package / "changelog.Debian.gz")
    return (f"debian:{package}", version) if version else None


def _dpkg_version(package: str, init: Path) -> str | None:
    listing = DPKG_DIR / "info" / f"{package}.list"
    try:
        if str(init) not in listing.read_text(encoding="utf-8", errors="replace").split("\n"):
            return None
        status = (DPKG_DIR / "status").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for stanza in status.split("\n\n"):
        if re.search(rf"^Package: {re.escape(package)}$", stanza, re.M):
            match = re.search(r"^Version: (\S+)$", stanza, re.M)
            if match:
                return match.group(1)
    return None


def _changelog_version(path: Path) -> str | None:
    """``6.2.0-3+deb12u4`` from the first line, ``python-tornado (6.2.0-3+deb12u4) ...``."""
    try:
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
            first = f.readline()
    except (OSError, EOFError):
        return None
    match = re.match(r"\S+ \(([^)\s]+)\)", first)
    return match.group(1) if match else None


def loop_kind() -> str:
    """The loop a fresh asyncio event loop would be (the kit's `TornadoLike` creates one)."""
    try:
        import asyncio

        policy = asyncio.get_event_loop_policy()
    except Exception:
        return "unknown"
    module = type(policy).__module__
    if module.split(".", 1)[0] == "uvloop":
        return "uvloop"
    if module.split(".", 1)[0] == "asyncio":
        return "asyncio"
    return module


def http_client_of(httpclient: Any) -> str | None:
    """The class ``AsyncHTTPClient`` creates, as ``module.QualName`` (documented:
    ``Configurable.configured_class``); None when there is no client."""
    client = getattr(httpclient, "AsyncHTTPClient", None)
    if client is None:
        return None
    try:
        # A subclass of the configurable base (CurlAsyncHTTPClient) is instantiated as itself.
        cls = client.configured_class() if client.configurable_base() is client else client
    except Exception:
        return f"{client.__module__}.{client.__qualname__}"
    return f"{cls.__module__}.{cls.__qualname__}"


def family_of(distribution: str | None) -> str | None:
    """The shipped expectations family for a distribution, or None (rule 1)."""
    return FAMILIES.get(distribution or "")
