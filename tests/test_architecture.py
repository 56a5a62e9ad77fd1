"""The house rules of the kit's own code, checked from its source (docs/architecture.md).

* No import cycle anywhere in ``conformance/``: every import, at module level or inside a
  function, points down the layers.
* The plugin module holds hooks only: no fixtures, no run state of its own.
* Suites import the kit through public names only: never the plugin, the run, or a private
  (``_name``) module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "conformance"
SUITES = ROOT / "suites"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> Iterator[str]:
    """Every module ``path`` imports (absolute names), wherever the import statement stands."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            yield module
            # "from . import x" / "from .pkg import sub" may name submodules
            yield from (f"{module}.{alias.name}" for alias in node.names)


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for imported in _imports(path):
            if imported in modules and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            # a package's __init__ re-exporting its own modules is not a cycle with them
            if node.startswith(target + ".") or (target.startswith(node + ".") and node.count(".") == 0):
                continue
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_in_the_kit() -> None:
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle in conformance/: " + " -> ".join(cycle or [])


def test_plugin_module_holds_hooks_only() -> None:
    tree = ast.parse((PACKAGE / "plugin.py").read_text(encoding="utf-8"))
    problems = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            is_fixture = any("fixture" in ast.unparse(d) for d in node.decorator_list)
            if is_fixture or not (node.name.startswith("pytest_") or node.name.startswith("_")):
                problems.append(f"{node.name} (line {node.lineno}) is not a hook or a hook's private helper")
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            target = ast.unparse(node.targets[0] if isinstance(node, ast.Assign) else node.target)
            if target not in ("pytest_plugins", "__all__"):
                problems.append(f"module-level state {target!r} (line {node.lineno}); run state belongs to the Run")
    assert not problems, "conformance/plugin.py must hold hooks only:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", sorted(SUITES.rglob("*.py")), ids=lambda p: str(p.relative_to(SUITES)))
def test_suites_import_the_kit_by_public_names_only(path: Path) -> None:
    bad = sorted(
        {
            name
            for name in _imports(path)
            if name.startswith("conformance.")
            and (
                name.split(".")[1] in ("plugin", "run")
                or any(part.startswith("_") and part != "__init__" for part in name.split(".")[1:])
            )
        }
    )
    assert not bad, f"{path.relative_to(ROOT)} imports kit internals {bad}; use the names conformance exports"
