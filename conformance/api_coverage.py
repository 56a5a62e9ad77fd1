"""Which of Tornado's public API the checks exercise: ``docs/coverage.md``.

``python -m conformance.api_coverage [--out docs/coverage.md] [pytest options]`` runs the
shipped suites against the installed Tornado with a profiler on every thread and writes,
module by module and class by class, which checks exercise each public function, class
and method. It is a maintainers' tool (the page tells a port author what a green run
does and does not vouch for); checks never depend on it.

Two relations are recorded per check:

- **drives**: the check's own code (a file under ``suites/``, or the kit's harness and
  client fixtures acting for it) calls the member, or names it (``web.Finish``,
  ``websocket.WebSocketClosedError``), so a defect in it shows up in what the check
  judges;
- **reaches**: the member runs during the check, called by Tornado itself (for example
  ``httputil.HTTPHeaders.parse`` under every request): a defect there is likely, but not
  certainly, visible.

A member that no check drives or reaches is listed as *not exercised*: a port may break
it and stay green. The public API is what each module defines without a leading
underscore (methods of public classes included, ``__init__`` standing for the
constructor); names a module only imports from another are listed under their home.
Measured on Tornado's code, the page describes the suites, not Tornado: a rewrite that
calls its methods differently is judged by the same checks.

The profiler slows every call, so the scaling checks (ratios of CPU time) and the scale
area are left out of the run, and the wire deadline is raised.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import os
import sys
import threading
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from types import CodeType, FrameType, ModuleType
from typing import Any

import pytest

from ._meta import check_id

#: Tornado's documented modules (https://www.tornadoweb.org/en/stable/), in the order of
#: its documentation's table of contents.
MODULES = (
    "web",
    "template",
    "routing",
    "escape",
    "locale",
    "websocket",
    "httpserver",
    "httpclient",
    "httputil",
    "http1connection",
    "ioloop",
    "iostream",
    "netutil",
    "tcpclient",
    "tcpserver",
    "gen",
    "locks",
    "queues",
    "process",
    "concurrent",
    "auth",
    "wsgi",
    "platform.asyncio",
    "autoreload",
    "log",
    "options",
    "testing",
    "util",
)

#: Modules the kit does not set out to judge, and why; they are still listed, so a check
#: that starts to exercise them shows.
OUT_OF_SCOPE = {
    "autoreload": "development-time reloading of changed source files; nothing a request can observe",
    "log": "the format of Tornado's own log lines, which applications configure",
    "process": "forking worker processes and watching subprocesses; the harness runs one server thread",
    "testing": "helpers for an application's own unit tests, not behaviour a port must reproduce on the wire",
}

#: Checks left out of the traced run: their verdict depends on CPU time, which the
#: profiler distorts.
DESELECTED = (
    "-m",
    "not scale",
    "-k",
    "not parsing_time_grows_linearly and not fragmented_message_reassembly_time_grows_linearly",
)


def _suites_dir() -> str:
    import conformance.suites

    return str(Path(conformance.suites.__file__).resolve().parent)


SUITES_DIR = _suites_dir()
#: Code whose calls count as the check's own: the suites, and the kit's harness and client
#: fixtures, which start servers and clients with the arguments a check gives them.
KIT_DIRS = (SUITES_DIR, str(Path(__file__).resolve().parent))


def _plain_name(check: str) -> str:
    return check.split("[", 1)[0]


class Api:
    """The public members of Tornado's documented modules and their code objects."""

    def __init__(self, package: str = "tornado") -> None:
        self.package = package
        self.members: dict[str, list[str]] = {}  # module -> ["Class", "Class.method", "func"]
        # code object -> ["module.Class.method", ...]: an alias (``set_signed_cookie =
        # set_secure_cookie``) shares its code, and a call counts for every name of it.
        self.codes: dict[CodeType, list[str]] = {}
        self.names: dict[str, dict[str, str]] = {}  # module -> {public name -> qualified member}
        self.classes: dict[type, str] = {}  # public class -> "module.Class"
        for short in MODULES:
            try:
                module = importlib.import_module(f"{package}.{short}")
            except Exception:  # an optional module (curl, twisted) may be absent
                continue
            self._collect(short, module)

    def _collect(self, short: str, module: ModuleType) -> None:
        listed: list[str] = []
        names: dict[str, str] = {}
        exported = getattr(module, "__all__", None)
        for name, obj in sorted(vars(module).items()):
            if name.startswith("_") or inspect.ismodule(obj):
                continue
            home = getattr(obj, "__module__", None)
            if home != module.__name__ and not (exported and name in exported and home is None):
                continue
            if not (inspect.isclass(obj) or callable(obj)):
                continue
            names[name] = f"{short}.{name}"
            listed.append(name)
            if inspect.isclass(obj):
                self._collect_class(short, name, obj, listed)
            else:
                self._remember(obj, f"{short}.{name}")
        self.members[short] = listed
        self.names[short] = names

    def _collect_class(self, short: str, name: str, cls: type, listed: list[str]) -> None:
        self.classes.setdefault(cls, f"{short}.{name}")
        init = cls.__dict__.get("__init__")
        if init is not None:
            self._remember(init, f"{short}.{name}")
        for attr, value in sorted(cls.__dict__.items()):
            if attr.startswith("_"):
                continue
            if isinstance(value, property):
                targets: list[Any] = [value.fget, value.fset]
            elif isinstance(value, (classmethod, staticmethod)):
                targets = [value.__func__]
            elif inspect.isfunction(value):
                targets = [value]
            else:
                continue
            qualified = f"{short}.{name}.{attr}"
            listed.append(f"{name}.{attr}")
            for target in targets:
                if target is not None:
                    self._remember(target, qualified)

    def _remember(self, obj: Any, qualified: str) -> None:
        try:
            function = inspect.unwrap(obj)
        except ValueError:
            function = obj
        code = getattr(function, "__code__", None)
        if isinstance(code, CodeType):
            names = self.codes.setdefault(code, [])
            if qualified not in names:
                names.append(qualified)


class Recorder:
    """A pytest plugin that profiles every thread and files each call under its check."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.current: str | None = None
        self.drives: dict[str, set[str]] = defaultdict(set)  # member -> checks
        self.reaches: dict[str, set[str]] = defaultdict(set)
        self.checks: set[str] = set()
        self.failed: list[str] = []
        self._overrides: dict[tuple[type, str], str | None] = {}

    # The profiler: one dictionary lookup per Python call, nothing else when it misses.
    def _profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        members = self.api.codes.get(frame.f_code)
        if members is None:
            if self.current is not None and frame.f_code.co_filename.startswith(SUITES_DIR):
                self._hook(frame)
            return
        if self.current is None:
            return
        caller = frame.f_back
        direct = caller is not None and caller.f_code.co_filename.startswith(KIT_DIRS)
        table = self.drives if direct else self.reaches
        for member in members:
            table[member].add(self.current)

    def _hook(self, frame: FrameType) -> None:
        """A check's subclass method overriding a public one (``write_error``,
        ``get_current_user``, ``on_message``) is a hook the implementation must call:
        the check drives the member it overrides."""
        code = frame.f_code
        if code.co_name.startswith("_") or not code.co_varnames or code.co_varnames[0] != "self":
            return
        owner = type(frame.f_locals.get("self"))
        key = (owner, code.co_name)
        if key not in self._overrides:
            member = None
            for klass in owner.__mro__[1:]:
                qualified = self.api.classes.get(klass)
                if qualified and code.co_name in vars(klass):
                    member = f"{qualified}.{code.co_name}"
                    break
            self._overrides[key] = member
        member = self._overrides[key]
        if member is not None and self.current is not None:
            self.drives[member].add(self.current)

    def start(self) -> None:
        if hasattr(threading, "setprofile_all_threads"):
            threading.setprofile_all_threads(self._profile)
        else:  # pragma: no cover - Python < 3.12: threads started from now on
            threading.setprofile(self._profile)
            sys.setprofile(self._profile)

    def stop(self) -> None:
        if hasattr(threading, "setprofile_all_threads"):
            threading.setprofile_all_threads(None)
        else:  # pragma: no cover
            threading.setprofile(None)
            sys.setprofile(None)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Iterator[None]:
        self.current = _plain_name(check_id(item))
        self.checks.add(self.current)
        for member in _named_by(item, self.api):
            self.drives[member].add(self.current)
        yield
        self.current = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.failed.append(report.nodeid)


# Names a check's source mentions (``web.Finish``): the check function, and the module's
# helpers it refers to, transitively.
_SOURCES: dict[str, tuple[dict[str, set[tuple[str, str]]], dict[str, set[str]]]] = {}


def _module_refs(path: str) -> tuple[dict[str, set[tuple[str, str]]], dict[str, set[str]]]:
    if path not in _SOURCES:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
        aliases: dict[str, str] = {short.rsplit(".", 1)[-1]: short for short in MODULES}
        for node in ast.walk(tree):
            # ``web = impl.part("web")`` and the like bind a variable to a part.
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Attribute)
                and node.value.func.attr == "part"
                and node.value.args
                and isinstance(node.value.args[0], ast.Constant)
            ):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        aliases[target.id] = str(node.value.args[0].value)
        attrs: dict[str, set[tuple[str, str]]] = {}
        calls: dict[str, set[str]] = {}
        for top in tree.body:
            if isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found: set[tuple[str, str]] = set()
                used: set[str] = set()
                for node in ast.walk(top):
                    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                        if node.value.id in aliases:
                            found.add((aliases[node.value.id], node.attr))
                    elif isinstance(node, ast.Name):
                        used.add(node.id)
                attrs[top.name] = found
                calls[top.name] = used
        _SOURCES[path] = (attrs, calls)
    return _SOURCES[path]


def _named_by(item: pytest.Item, api: Api) -> set[str]:
    function = getattr(item, "function", None)
    path = getattr(getattr(function, "__code__", None), "co_filename", "")
    if not path.startswith(SUITES_DIR):
        return set()
    attrs, calls = _module_refs(path)
    seen: set[str] = set()
    todo = [function.__name__]  # type: ignore[union-attr]
    while todo:
        name = todo.pop()
        if name in seen or name not in attrs:
            continue
        seen.add(name)
        todo.extend(calls[name])
    members: set[str] = set()
    for name in seen:
        for short, attr in attrs[name]:
            qualified = api.names.get(short, {}).get(attr)
            if qualified:
                members.add(qualified)
    return members


def _cell(checks: set[str], limit: int = 3) -> str:
    if not checks:
        return ""
    ordered = sorted(checks)
    shown = ", ".join(f"`{c}`" for c in ordered[:limit])
    more = len(ordered) - limit
    return f"{len(ordered)}: {shown}" + (f", +{more}" if more > 0 else "")


def render(api: Api, recorder: Recorder, version: str, command: str) -> str:
    lines = [
        "# Tornado's public API against the checks",
        "",
        f"Generated by `{command}` against Tornado {version}: {len(recorder.checks)} checks ran traced",
        "(parametrised cases folded into their check). Regenerate it after adding checks;",
        "`conformance/api_coverage.py` explains how it is measured.",
        "",
        "- **Driven by**: checks whose own code calls or names the member; a defect there shows",
        "  in what they judge. The count comes first, then up to three check ids.",
        "- **Reached by**: further checks during which Tornado itself calls it (for example the",
        "  header parser under every request); a defect there is likely, not certainly, seen.",
        "- **not exercised**: no check runs it. A port may change it and stay green.",
        "",
        "Measured on Tornado's own code: a rewrite is judged by the same checks whatever it",
        "calls internally. Members a module merely imports are listed under their home module.",
        "The scaling checks and the scale area are not traced (their verdict is a CPU-time",
        "ratio), so what only they exercise is missing here.",
        "",
        "## Summary",
        "",
        "| Module | Public members | Driven | Reached only | Not exercised | Note |",
        "|---|---:|---:|---:|---:|---|",
    ]
    sections: list[str] = []
    totals = [0, 0, 0, 0]
    for short, listed in api.members.items():
        if not listed:
            continue
        driven = reached = dark = 0
        rows: list[str] = []
        for name in listed:
            qualified = f"{short}.{name}"
            drives = recorder.drives.get(qualified, set())
            reaches = recorder.reaches.get(qualified, set()) - drives
            if drives:
                driven += 1
            elif reaches:
                reached += 1
            else:
                dark += 1
            label = f"`{name}`" if "." not in name else f"&nbsp;&nbsp;`.{name.split('.', 1)[1]}`"
            if not drives and not reaches:
                rows.append(f"| {label} | *not exercised* | |")
            else:
                rows.append(f"| {label} | {_cell(drives)} | {_cell(reaches)} |")
        counts = [len(listed), driven, reached, dark]
        totals = [a + b for a, b in zip(totals, counts)]
        scope = OUT_OF_SCOPE.get(short)
        note = "out of scope" if scope else ""
        lines.append(
            f"| [`tornado.{short}`](#tornado{short.replace('.', '')}) | "
            + " | ".join(map(str, counts))
            + f" | {note} |"
        )
        intro = [f"Out of the kit's scope: {scope}.", ""] if scope else []
        sections += [
            "",
            f"## tornado.{short}",
            "",
            *intro,
            "| Member | Driven by | Reached by |",
            "|---|---|---|",
            *rows,
        ]
    lines.append("| **all** | " + " | ".join(f"**{n}**" for n in totals) + " | |")
    return "\n".join(lines + sections) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.api_coverage", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/coverage.md", help="where to write the page (default: %(default)s)")
    parser.add_argument("--impl", default="tornado", help="the Tornado package to trace (default: %(default)s)")
    options, extra = parser.parse_known_args(argv)
    try:
        package = importlib.import_module(options.impl)
    except ImportError as exc:
        print(f"api_coverage: cannot import {options.impl!r}: {exc}", file=sys.stderr)
        return 4
    api = Api(options.impl)
    recorder = Recorder(api)
    args = [
        f"--impl={options.impl}",
        "--pyargs",
        "conformance.suites",
        "-p",
        "no:anyio",
        "-p",
        "no:cacheprovider",
        "-q",
        "--conformance-timeout=30",
        # This module imported the kit before pytest started: it cannot be rewritten, which
        # the kit does not want anyway (conformance/_no_rewrite.py).
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
        *DESELECTED,
        *extra,
    ]
    recorder.start()
    try:
        code = int(pytest.main(args, plugins=[recorder]))
    finally:
        recorder.stop()
    if code not in (0, 1):
        print(f"api_coverage: the traced run ended with exit {code}; nothing written", file=sys.stderr)
        return code
    page = render(api, recorder, getattr(package, "version", "?"), "python -m conformance.api_coverage")
    Path(options.out).parent.mkdir(parents=True, exist_ok=True)
    Path(options.out).write_text(page, encoding="utf-8")
    print(f"api_coverage: {len(recorder.checks)} checks, wrote {os.path.relpath(options.out)}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
