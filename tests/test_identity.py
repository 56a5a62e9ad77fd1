"""An implementation is identified by what provides it, not by its version attribute:
distribution (importlib.metadata, or Debian's package), runtime, loop, HTTP client; the
shipped expectations follow the distribution (conformance/identity.py)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import types
from pathlib import Path

from conformance import identity
from conformance.impl import TornadoLike, load
from conformance.report import Results
from conformance.run import shipped_expectations

DEVIATIONS = Path(identity.__file__).parent / "deviations"


def _package(site: Path, top: str, version: str = "6.6.1") -> types.ModuleType:
    """A package ``top`` in ``site`` (never imported: a module object pointing at it)."""
    (site / top).mkdir(parents=True)
    init = site / top / "__init__.py"
    init.write_text(f'version = "{version}"\n')
    module = types.ModuleType(top)
    module.__file__ = str(init)
    module.version = version  # type: ignore[attr-defined]
    return module


def _dist_info(site: Path, name: str, version: str, top: str) -> None:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "RECORD").write_text(f"{top}/__init__.py,,\n{info.name}/METADATA,,\n")


def test_a_fork_installing_the_tornado_package_is_its_own_distribution(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    module = _package(site, "tornado", version="2.0.2")
    _dist_info(site, "windhose", "2.0.2", "tornado")
    assert identity.distribution_of(module) == ("windhose", "2.0.2")
    impl = TornadoLike(module)
    assert (impl.name, impl.version) == ("tornado", "2.0.2")
    assert impl.identity().distribution == "windhose"
    assert impl.shipped_family() == "windhose"
    assert shipped_expectations(impl) == DEVIATIONS / "windhose.toml"
    # windhose numbers its own releases: 2.0 is not Tornado 2.0, so no release-keyed translation
    assert impl._release() is None


def test_the_tornado_distribution_gets_the_tornado_file_and_only_it(tmp_path: Path) -> None:
    real = load("tornado")
    assert real.identity().distribution == "tornado"
    assert shipped_expectations(real) == DEVIATIONS / "tornado.toml"
    site = tmp_path / "site-packages"
    module = _package(site, "tornado")
    _dist_info(site, "tornado", "6.6.1", "tornado")
    assert TornadoLike(module).shipped_family() == "tornado"


def test_a_package_no_distribution_provides_gets_no_expectations(tmp_path: Path) -> None:
    # A copy of tornado on PYTHONPATH, a port named like Tornado: no metadata, no expectations.
    module = _package(tmp_path / "checkout", "tornado")
    impl = TornadoLike(module)
    assert impl.identity().distribution is None
    assert impl.shipped_family() is None
    assert shipped_expectations(impl) is None
    assert "distribution unknown" in impl.identity().describe()


def test_an_unknown_distribution_gets_no_expectations(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    module = _package(site, "tornado", version="6.6.1")
    _dist_info(site, "tornado-ng", "0.1", "tornado")
    impl = TornadoLike(module)
    assert impl.identity().distribution == "tornado-ng"
    assert shipped_expectations(impl) is None


def test_another_distributions_metadata_beside_it_is_not_taken_for_its_own(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    module = _package(site, "tornado")
    _dist_info(site, "windhose", "2.0.2", "other")  # its RECORD does not hold tornado/__init__.py
    assert identity.distribution_of(module) is None


def _debian_tree(root: Path, changelog_first_line: str) -> types.ModuleType:
    site = root / "usr" / "lib" / "python3" / "dist-packages"
    module = _package(site, "tornado", version="6.2")
    egg = site / "tornado-6.2.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: tornado\nVersion: 6.2\n")
    (egg / "top_level.txt").write_text("tornado\n")
    doc = root / "usr" / "share" / "doc" / "python3-tornado"
    doc.mkdir(parents=True)
    with gzip.open(doc / "changelog.Debian.gz", "wt") as f:
        f.write(changelog_first_line + "\n\n  * a change\n")
    return module


def test_debians_build_is_identified_by_its_package_version(tmp_path: Path) -> None:
    module = _debian_tree(tmp_path, "python-tornado (6.2.0-3+deb12u4) bookworm-security; urgency=medium")
    impl = TornadoLike(module)
    assert impl.version == "6.2"
    assert (impl.identity().distribution, impl.identity().distribution_version) == (
        "debian:python3-tornado",
        "6.2.0-3+deb12u4",
    )
    assert impl.shipped_family() == "debian-tornado"
    assert impl._release() == (6, 2)  # Tornado's own code at 6.2: its API translations apply


def test_a_dist_packages_tree_without_debians_records_falls_back_to_its_metadata(tmp_path: Path) -> None:
    site = tmp_path / "usr" / "lib" / "python3" / "dist-packages"
    module = _package(site, "tornado", version="6.2")
    egg = site / "tornado-6.2.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: tornado\nVersion: 6.2\n")
    (egg / "top_level.txt").write_text("tornado\n")
    assert identity.distribution_of(module) == ("tornado", "6.2")


def test_the_runtime_names_the_interpreter_and_dash_o() -> None:
    assert identity.runtime().startswith(("CPython ", "PyPy "))
    code = "from conformance.identity import runtime; print(runtime())"
    out = subprocess.run([sys.executable, "-O", "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith(" -O")


def test_the_loop_and_http_client_are_named() -> None:
    ident = load("tornado").identity()
    assert ident.loop == "asyncio"
    assert ident.http_client == "tornado.simple_httpclient.SimpleAsyncHTTPClient"


def test_the_json_impl_object_keeps_name_and_version_and_adds_the_identity() -> None:
    results = Results("tornado", "2.0.2")
    results.impl_identity = {**identity.Identity(distribution="windhose", distribution_version="2.0.2").to_json()}
    impl = json.loads(json.dumps(results.to_json()))["impl"]
    assert impl["name"] == "tornado" and impl["version"] == "2.0.2"
    assert impl["distribution"] == "windhose" and impl["distribution_version"] == "2.0.2"
    assert {"runtime", "loop", "http_client"} <= set(impl)


def test_the_header_and_json_say_what_ran(kit) -> None:  # type: ignore[no-untyped-def]
    from importlib.metadata import version

    installed = version("tornado")  # the newest Tornado this Python installs (6.5.x on 3.9)
    run = kit("--impl=tornado", "-m", "cookies", "-k", "max_age")
    assert f"identity: tornado {installed}; CPython " in run.output or f"identity: tornado {installed}; PyPy " in (
        run.output
    ), run.output
    assert run.results is not None
    impl = run.results["impl"]
    assert impl["distribution"] == "tornado" and impl["expectations_family"] == "tornado"
    assert "describe" not in impl
    header = kit("--impl=tornado", "-m", "cookies", "-k", "max_age", "-v")
    assert f"conformance: identity tornado {installed}; " in header.output, header.output


def test_a_matrix_column_names_the_distribution_when_it_is_not_tornado(tmp_path: Path) -> None:
    from conformance import matrix

    def column(impl: dict[str, str]) -> tuple[str, str]:
        path = tmp_path / "r.json"
        path.write_text(json.dumps({"impl": impl, "python": "3.11.7", "tests": []}))
        col = matrix.load_results(path)
        return col.name, col.version

    assert column(
        {"name": "tornado", "version": "2.0.2", "distribution": "windhose", "distribution_version": "2.0.2"}
    ) == (
        "windhose",
        "2.0.2",
    )
    assert column(
        {"name": "tornado", "version": "6.6.1", "distribution": "tornado", "distribution_version": "6.6.1"}
    ) == (
        "tornado",
        "6.6.1",
    )
    assert column({"name": "tornado", "version": "6.2"}) == ("tornado", "6.2")  # results written before identities
    pypy = {"name": "tornado", "version": "6.5.10", "distribution": "tornado", "runtime": "PyPy 7.3.11 (Python 3.9.16)"}
    assert column(pypy) == ("tornado on PyPy", "6.5.10")


def test_an_adapter_subclassing_tornadolike_gets_no_expectations_unless_it_names_them() -> None:
    import tornado

    class Patched(TornadoLike):  # may change Tornado's behaviour: not Tornado's expectations by accident
        pass

    class Declared(TornadoLike):
        expectations_family = "tornado"

    assert Patched(tornado).identity().distribution == "tornado"
    assert shipped_expectations(Patched(tornado)) is None
    assert shipped_expectations(Declared(tornado)) == DEVIATIONS / "tornado.toml"


def test_a_package_installed_by_apt_is_read_from_dpkgs_database(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    init = Path("/usr/lib/python3/dist-packages/tornado/__init__.py")
    (tmp_path / "info").mkdir()
    (tmp_path / "info" / "python3-tornado.list").write_text(f"/usr/lib/python3/dist-packages/tornado\n{init}\n")
    (tmp_path / "status").write_text(
        "Package: python3-other\nVersion: 1.0\n\n"
        "Package: python3-tornado\nStatus: install ok installed\nVersion: 6.2.0-3+deb12u4\n"
    )
    monkeypatch.setattr(identity, "DPKG_DIR", tmp_path)
    assert identity._dpkg_version("python3-tornado", init) == "6.2.0-3+deb12u4"
    assert identity._dpkg_version("python3-tornado", Path("/elsewhere/tornado/__init__.py")) is None


def test_a_run_applies_the_expectations_of_what_the_implementation_is(tmp_path: Path) -> None:
    """End to end: a copy of Tornado installed as another distribution (a fork that keeps the
    package name) is run with that distribution's expectations, here none, never with
    tornado.toml because it imports as ``tornado``."""
    import os
    import shutil

    import tornado

    site = tmp_path / "site-packages"
    site.mkdir()
    shutil.copytree(
        Path(tornado.__file__).parent, site / "tornado", ignore=shutil.ignore_patterns("test", "__pycache__")
    )
    _dist_info(site, "tornado-ng", "0.1", "tornado")
    out = tmp_path / "r.json"
    env = {**os.environ, "PYTHONPATH": str(site)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "--impl=tornado",
            "-m",
            "cookies",
            f"--conformance-json={out}",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    data = json.loads(out.read_text())
    assert data["impl"]["distribution"] == "tornado-ng", proc.stdout[-2000:]
    assert data["impl"]["expectations_family"] is None
    applied = [t["id"] for t in data["tests"] if t["outcome"] in ("xfailed", "xpassed")]
    assert applied == [], f"Tornado's shipped expectations were applied to another distribution: {applied}"
    assert any(t["outcome"] == "failed" for t in data["tests"]), "Tornado's own cookie departures must show as failures"
