"""The package's shape: no import circles, and no test-framework code in product modules."""

from __future__ import annotations

import ast
from pathlib import Path

import ome_harness

PACKAGE_DIR = Path(ome_harness.__file__).parent
# Test-suite policy (`require`) and the pytest-bdd scenario layer are the only product modules that
# may load pytest (../notes style rule: no pytest imports in ome_harness/ outside these).
PYTEST_ALLOWED = ("ome_harness/scenarios/", "ome_harness/testing.py")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE_DIR.rglob("*.py") if "_bundled" not in p.parts}


def _imported(tree: ast.AST, module: str, is_package: bool, known: set[str]) -> set[str]:
    """Every project module this one imports, at any depth (a lazy import inside a function counts:
    it is still a dependency, only a later one); a parent package is not counted for its submodule."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                     for alias in node.names]
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id == "__import__" and node.args and isinstance(node.args[0], ast.Constant)):
            names = [node.args[0].value]
        else:
            continue
        found.update(name for name in names if name in known and name != module)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imported(ast.parse(path.read_text()), name, path.name == "__init__.py", known)
            for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as the path that closes it, or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_no_module_of_ome_harness_imports_a_module_that_imports_it_back():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_reports_a_circle_it_is_given():
    # The finder itself can fail: a three-module circle is found, a chain is not.
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_import_graph_sees_lazy_and_relative_imports():
    graph = import_graph()
    assert "ome_harness.cli_support" in graph["ome_harness.backend.command"]  # inside a function
    assert "ome_harness.backend.command" in graph["ome_harness.commands"]  # through __import__


def test_no_product_module_imports_pytest_outside_the_scenario_layer_and_testing():
    offenders = []
    for path in _modules().values():
        rel = path.relative_to(PACKAGE_DIR.parent).as_posix()
        if rel.startswith(PYTEST_ALLOWED):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            if any(n.split(".")[0] in ("pytest", "pytest_bdd", "_pytest") for n in names):
                offenders.append(f"{rel}:{node.lineno}")
    assert offenders == []
