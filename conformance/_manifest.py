"""The manifest of the shipped suites: their checks listed once, their modules imported
only when one of their checks runs.

Collecting the shipped suites through pytest's own machinery (import 135 modules, build
a ``Function`` for each of 1300 parametrized cases, resolve each one's fixtures) took
three quarters of a second of every run, before the first check and whatever the
selection: ``-k`` one check paid for all of them. The suites change only when the kit
is upgraded or edited, so what that collection finds is written down once, as
web-platform-tests keeps a ``MANIFEST.json`` of its tests:

* **Recording.** When a shipped module is collected the ordinary way, its items (name,
  parameter id, marks, line, the function's attributes that ``-k`` matches) are recorded,
  and the file is written at the end of collection in the user's cache directory
  (``$XDG_CACHE_HOME/tornado-conformance``, else ``~/.cache/...``). Everything the
  collection depends on decides whether a file may be used: which file, the setting
  (the interpreter, pytest's version, the installed copy of the kit, the plugins shaping
  collection, the ini values that steer it); the key inside, the files (every file of
  the kit, and the top module of each library a module may read at import, by path,
  size and modification time).
* **Listing.** With a manifest of that key, a shipped module becomes a `ManifestModule`
  whose children are `Check` items built from the record, without importing anything.
  Selection (``-k``, ``-m``, ``--deselect``, the kit's ``--level``/``--check``...),
  expectations, ``--collect-only`` and xdist's collection all work on them: they carry
  the node id, the marks and the keywords the real items carry.
* **Running.** Just before the run loop, ``session.items`` becomes a list that hands out,
  for each `Check`, the real ``pytest.Function`` of the same node id, made by pytest's
  own collection of its module (the module is collected once, on its first check). What
  collection added to the `Check` (the expectations' ``xfail`` marks, the kit's report
  data) is carried over, so the run sees exactly what an ordinary collection gives.

It is all or nothing per module, and falls back to the ordinary collection whenever it
cannot be exact: a module whose marks are not plain data, whose items are not module
level functions, or that parametrizes a fixture wider than a function; a run with a
plugin the manifest does not know hooking collection; ``TORNADO_CONFORMANCE_NO_MANIFEST=1``;
``--last-failed`` (which trims what it sees of a module); a cache directory that cannot
be written. A module whose real collection no longer
matches its record (a file changed without changing its stamp) fails each of its checks
with that explanation rather than running something else.
"""

from __future__ import annotations

import hashlib
import marshal
import operator
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, SupportsIndex, overload

import pytest

#: Bump when what an entry holds changes.
FORMAT = 1
#: Set to 1 to collect the shipped suites the ordinary way (and write no manifest).
DISABLE = "TORNADO_CONFORMANCE_NO_MANIFEST"

#: Hooks that shape what collecting a module yields: the plugins implementing them are part
#: of the manifest's key (a plugin added or removed collects anew).
SHAPING_HOOKS = (
    "pytest_pycollect_makemodule",
    "pytest_pycollect_makeitem",
    "pytest_generate_tests",
    "pytest_make_parametrize_id",
)
#: Hooks that read or reorder the collected items, where a listed `Check` stands in for
#: a Function.
READING_HOOKS = ("pytest_itemcollected", "pytest_collection_modifyitems", "pytest_collection_finish")
#: Where the plugins come from whose part in these hooks holds for a `Check` as for a
#: Function (node ids, marks, keywords; a Function-only step passes a `Check` over, as
#: it passes over the shipped checks anyway): pytest's own, xdist's, anyio's,
#: hypothesis's and the kit's. A project's conftest.py or another plugin turns the
#: manifest off for the run.
KNOWN_PLUGINS = (
    "_pytest.",
    "xdist.",
    "__channelexec__.WorkerInteractor",  # xdist's worker side, sent to the worker by execnet
    "anyio.",
    "_hypothesis_pytestplugin",
    "conformance.",
)
#: ini values that change what collecting a module yields (those that exist in the run).
COLLECTION_INI = ("python_files", "python_classes", "python_functions", "usefixtures", "markers", "anyio_mode")

_MANIFEST = pytest.StashKey["Manifest"]()


def _plain(value: Any) -> bool:
    """Whether ``value`` survives marshal unchanged: plain data of exact built-in types (a
    ``str`` subclass such as an enum member would come back as another type)."""
    kind = type(value)
    if value is None or kind in (bool, int, float, str, bytes):
        return True
    if kind in (tuple, list):
        return all(_plain(v) for v in value)
    if kind is dict:
        return all(type(k) is str and _plain(v) for k, v in value.items())
    return False


def _mark_record(mark: pytest.Mark) -> tuple[str, tuple[Any, ...], dict[str, Any]] | None:
    if mark.name == "parametrize":
        # Spent once the cases exist (its arguments are the cases' values, often objects):
        # its name alone is what selection can still see of it (``-m``, ``-k``).
        return (mark.name, (), {})
    args, kwargs = tuple(mark.args), dict(mark.kwargs)
    if not (_plain(args) and _plain(kwargs)):
        return None
    return (mark.name, args, kwargs)


def _mark(record: tuple[str, tuple[Any, ...], dict[str, Any]]) -> pytest.Mark:
    name, args, kwargs = record
    return getattr(pytest.mark, name)(*args, **kwargs).mark


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tornado-conformance"


def _kit_roots() -> list[Path]:
    """The folders whose files the shipped suites are made of (package, suites, fixtures)."""
    import conformance
    from conformance.run import suites_dir

    roots = [Path(conformance.__file__).parent, suites_dir()]
    try:
        import conformance.fixtures

        roots.append(Path(conformance.fixtures.__file__).parent)
    except ImportError:  # pragma: no cover - a trimmed install
        pass
    return roots


def _stamp(roots: Iterable[Path]) -> list[str]:
    stamp = []
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith((".pyc", ".pyo")):
                    continue
                path = os.path.join(folder, name)
                st = os.stat(path)
                stamp.append(f"{path}:{st.st_size}:{st.st_mtime_ns}")
    return stamp


#: Libraries a shipped module may read at import (its parameters can come from them).
LIBRARIES = ("tornado", "h11", "wsproto", "anyio", "trio", "hypothesis")


def _stamp_libraries() -> list[str]:
    """Each library's top module file, by path, size and time: an upgrade rewrites it.
    Found without importing it (hypothesis alone takes a third of a second)."""
    import importlib.util

    stamp = []
    for name in LIBRARIES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        origin = getattr(spec, "origin", None)
        if not origin or not os.path.exists(origin):
            stamp.append(f"{name}:absent")
            continue
        st = os.stat(origin)
        stamp.append(f"{origin}:{st.st_size}:{st.st_mtime_ns}")
    return stamp


def _collection_plugins(config: pytest.Config) -> list[str] | None:
    """Where the plugins shaping collection come from, or None when a plugin taking part in
    collection is not known."""
    shaping = set()
    for hook in (*SHAPING_HOOKS, *READING_HOOKS):
        for impl in getattr(config.pluginmanager.hook, hook).get_hookimpls():
            plugin = impl.plugin
            name = getattr(plugin, "__name__", None)
            if not isinstance(name, str):
                name = f"{type(plugin).__module__}.{type(plugin).__qualname__}"
            if not name.startswith(KNOWN_PLUGINS):
                return None
            if hook in SHAPING_HOOKS:
                shaping.add(name)
    return sorted(shaping)


def _digest(parts: list[str]) -> str:
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def _ini(config: pytest.Config, name: str) -> str:
    try:
        return repr(config.getini(name))
    except ValueError:  # not an ini key of this run (anyio's plugin is not loaded)
        return "-"


class Manifest:
    """The manifest of one run: what it read, and what this run's collection recorded."""

    def __init__(self, config: pytest.Config, key: str, path: Path) -> None:
        self.config = config
        self.key = key
        self.path = path
        self.modules: dict[str, Any] = {}
        self.recorded: dict[str, Any] = {}
        from .run import suites_dir

        self._suites = suites_dir().resolve()
        try:
            data = marshal.loads(path.read_bytes())
        except (OSError, ValueError, EOFError, TypeError):
            data = None
        if isinstance(data, dict) and data.get("key") == key and isinstance(data.get("modules"), dict):
            self.modules = data["modules"]

    @classmethod
    def of(cls, config: pytest.Config) -> Manifest | None:
        return config.stash.get(_MANIFEST, None)

    @classmethod
    def start(cls, config: pytest.Config) -> Manifest | None:
        """The manifest this run may use, or None for the ordinary collection."""
        if os.environ.get(DISABLE, "") not in ("", "0"):
            return None
        plugins = _collection_plugins(config)
        if plugins is None:
            return None
        import _pytest

        roots = _kit_roots()
        # What the run is: each installed copy of the kit, interpreter and set of plugins
        # has a file of its own (tox environments side by side, or the command beside
        # ``python -m pytest`` with anyio's plugin, do not overwrite each other's) ...
        setting = [
            str(FORMAT),
            sys.executable,
            sys.version,
            _pytest.__version__,
            repr(roots),
            str(config.getoption("importmode", None)),
            repr(plugins),
            *(f"{name}={_ini(config, name)}" for name in COLLECTION_INI),
        ]
        # ... and what the files are says whether its content still holds.
        stamp = [*_stamp(roots), *_stamp_libraries()]
        where = _digest(setting)
        name = f"manifest-{FORMAT}-{sys.implementation.cache_tag}-{where[:16]}.marshal"
        manifest = cls(config, _digest([where, *stamp]), cache_dir() / name)
        config.stash[_MANIFEST] = manifest
        return manifest

    def relative(self, path: Path) -> str | None:
        try:
            return Path(path).resolve().relative_to(self._suites).as_posix()
        except ValueError:
            return None

    def record(self, module: pytest.Module, children: list[Any]) -> None:
        """Write down what collecting ``module`` gave, when it can be replayed exactly."""
        name = self.relative(module.path)
        if name is None or name in self.modules:
            return
        entry = _entry(module, children)
        if entry is not None:
            self.recorded[name] = entry

    def save(self) -> None:
        if not self.recorded:
            return
        # Another run may have added modules since this one read the file (a run of one
        # area collects that area only): keep them.
        on_disk = Manifest(self.config, self.key, self.path).modules
        modules = {**on_disk, **self.modules, **self.recorded}
        data = marshal.dumps({"key": self.key, "modules": modules})
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, scratch = tempfile.mkstemp(dir=self.path.parent, prefix=".manifest-")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                os.replace(scratch, self.path)
            except BaseException:
                os.unlink(scratch)
                raise
        except OSError:
            return  # no cache then: the next run collects the ordinary way again
        self.modules, self.recorded = modules, {}


def _entry(module: pytest.Module, children: list[Any]) -> dict[str, Any] | None:
    from ._fuzz import is_property

    module_marks = []
    for mark in module.own_markers:
        record = _mark_record(mark)
        if record is None:
            return None
        module_marks.append(record)
    items = []
    for child in children:
        if type(child) is not pytest.Function:
            return None
        callspec = getattr(child, "callspec", None)
        spec = None
        if callspec is not None:
            scopes = getattr(callspec, "_arg2scope", {})
            if any(getattr(scope, "name", str(scope)) != "Function" for scope in scopes.values()):
                return None  # a wider parametrized fixture: pytest reorders such items
            spec = (callspec.id, [r for m in callspec.marks if (r := _mark_record(m)) is not None])
            if len(spec[1]) != len(callspec.marks):
                return None
        marks = [_mark_record(m) for m in child.own_markers]
        if any(m is None for m in marks):
            return None
        path, lineno, _domain = child.reportinfo()
        if Path(path) != Path(module.path):
            return None
        keywords = sorted(k for k in getattr(child.function, "__dict__", {}) if type(k) is str)
        if not (type(child.name) is str and type(child.originalname) is str and type(lineno) is int):
            return None
        items.append(
            {
                "name": child.name,
                "originalname": child.originalname,
                "callspec": spec,
                "marks": marks,
                "lineno": lineno,
                "keywords": keywords,
                "property": is_property(child),
            }
        )
    return {"marks": module_marks, "items": items}


class Case:
    """What a `Check` tells of its parametrized case: the id and the case's own marks
    (what `conformance._meta` reads from a Function's ``callspec``; a `Check` has no
    ``callspec``, so pytest's reordering by wider-scoped parameters passes it over, as it
    passes over the Functions the manifest accepts)."""

    def __init__(self, id: str, marks: list[pytest.Mark]) -> None:
        self.id = id
        self.marks = marks


class _Attributes:
    """Has the attributes of the given names (all None), as a test function has its own."""

    def __init__(self, names: Iterable[str]) -> None:
        self.__dict__.update(dict.fromkeys(names))


class Check(pytest.Item):
    """A shipped check as the manifest lists it; the run swaps it for the real Function."""

    def __init__(self, *, entry: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.entry = entry
        self.originalname: str = entry["originalname"]
        spec = entry["callspec"]
        self.check_case = Case(spec[0], [_mark(r) for r in spec[1]]) if spec is not None else None
        self.own_markers.extend(_mark(r) for r in entry["marks"])
        for mark in self.own_markers:
            self.keywords[mark.name] = mark
        # ``-k`` also matches the test function's attributes (those pytest deems meant as
        # keywords): a stand-in carrying the recorded names lets pytest apply its own rule.
        self.function = _Attributes(entry["keywords"])
        self._recorded = list(self.own_markers)
        self._adopters: list[Callable[[pytest.Function], None]] = []

    @property
    def is_property(self) -> bool:
        return bool(self.entry["property"])

    def when_real(self, adopt: Callable[[pytest.Function], None]) -> None:
        """Run ``adopt`` on the real Function when it replaces this item."""
        self._adopters.append(adopt)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.entry["lineno"], self.name

    def runtest(self) -> None:  # pragma: no cover - the run loop hands out the real item
        raise RuntimeError(f"{self.nodeid} ran from the manifest without its module; report this")

    def adopt(self, real: pytest.Function) -> None:
        """Give ``real`` what collection added to this item."""
        # Marks added in front of or after the recorded ones (``add_marker``), around the
        # real item's own (the recorded ``parametrize`` marks are names only).
        recorded = {id(mark) for mark in self._recorded}
        at = [i for i, mark in enumerate(self.own_markers) if id(mark) in recorded]
        head = self.own_markers[: at[0]] if at else []
        tail = self.own_markers[at[-1] + 1 :] if at else list(self.own_markers)
        for mark in head + tail:
            real.keywords[mark.name] = mark
        real.own_markers[:] = [*head, *real.own_markers, *tail]
        real.user_properties[:] = self.user_properties
        real.extra_keyword_matches.update(self.extra_keyword_matches)
        from ._meta import STASH_KEYS

        for key in STASH_KEYS:
            if key in self.stash:
                real.stash[key] = self.stash[key]
        for adopt in self._adopters:
            adopt(real)


class _Stale(pytest.Item):
    """Stands for a `Check` whose module did not collect as recorded: fails with why."""

    def __init__(self, *, why: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.why = why

    def runtest(self) -> None:
        raise pytest.fail.Exception(self.why, pytrace=False)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, self.name


class ManifestModule(pytest.Module):
    """A shipped module whose checks come from the manifest; imported on its first run."""

    def __init__(self, *, entry: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.entry = entry
        self._real: dict[str, Any] | None = None
        self._failure: str | None = None

    def collect(self) -> list[Any]:
        self.own_markers.extend(_mark(r) for r in self.entry["marks"])
        return [Check.from_parent(self, name=item["name"], entry=item) for item in self.entry["items"]]

    def real(self, check: Check) -> pytest.Item:
        if self._real is None:
            del self.own_markers[:]  # they come back with the module object
            try:
                self._real = {child.name: child for child in pytest.Module.collect(self)}
            except (Exception, pytest.skip.Exception) as exc:
                self._real = {}
                self._failure = f"collecting {self.nodeid} failed: {type(exc).__name__}: {exc}"
        found = self._real.get(check.name)
        if isinstance(found, pytest.Function):
            check.adopt(found)
            return found
        why = self._failure or (
            f"the kit's manifest lists {check.nodeid}, which collecting its module no longer gives; "
            f"run with {DISABLE}=1, or delete {cache_dir()}"
        )
        return _Stale.from_parent(self, name=check.name, why=why)


class Items(list):
    """``session.items`` during the run: each `Check` is handed out as its real Function."""

    def _real(self, index: int) -> Any:
        item = list.__getitem__(self, index)
        if isinstance(item, Check):
            parent = item.parent
            assert isinstance(parent, ManifestModule)
            item = parent.real(item)
            list.__setitem__(self, index, item)
        return item

    @overload
    def __getitem__(self, index: SupportsIndex) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...
    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._real(i) for i in range(len(self))[index]]
        position = operator.index(index)
        return self._real(position + len(self) if position < 0 else position)

    def __iter__(self) -> Iterator[Any]:
        for index in range(len(self)):
            yield self._real(index)


# -- hooks (registered as "conformance-manifest" when the run collects the shipped suites) --


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path: Path, parent: Any) -> pytest.Module | None:
    manifest = Manifest.of(parent.config)
    if manifest is None:
        return None
    name = manifest.relative(module_path)
    entry = manifest.modules.get(name) if name is not None else None
    if entry is None:
        return None
    return ManifestModule.from_parent(parent, path=module_path, entry=entry)


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Any:
    report = yield
    manifest = Manifest.of(collector.config)
    if (
        manifest is not None
        and report.passed
        and isinstance(collector, pytest.Module)
        and not isinstance(collector, ManifestModule)
        # --last-failed trims the modules' reports to the checks that failed last time
        and not collector.config.getoption("lf", False)
    ):
        manifest.record(collector, list(report.result))
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session: pytest.Session) -> None:
    Manifest.start(session.config)


def pytest_collection_finish(session: pytest.Session) -> None:
    manifest = Manifest.of(session.config)
    if manifest is not None:
        manifest.save()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> Any:
    if any(isinstance(item, Check) for item in session.items):
        session.items = Items(session.items)
    return (yield)
