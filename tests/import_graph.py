"""qfinder's import graph, read from the source with ast: module -> the modules it imports.

Module-level and function-level imports both count (a lazy import still runs, just later);
imports under `if TYPE_CHECKING:` do not (they never run).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

Graph = dict[str, set[str]]


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_graph(root: Path) -> Graph:
    """Every module of the package at `root` and what it imports (in or outside the package)."""
    files = {module_name(root, p): p for p in sorted(root.rglob("*.py"))}
    return {name: set(imports_of(path.read_text(encoding="utf-8"), name, path.name == "__init__.py",
                                 set(files)))
            for name, path in files.items()}


def imports_of(source: str, module: str, is_package: bool, known: set[str]) -> Iterator[str]:
    package = module if is_package else module.rpartition(".")[0]
    for node in _running_nodes(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            for alias in node.names:  # `from pkg import mod` imports pkg.mod when it is a module
                yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = ".".join(parts[: len(parts) - node.level + 1])
    return f"{base}.{node.module}" if node.module else base


def _running_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """All nodes except the bodies of `if TYPE_CHECKING:` blocks."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for branch in node.orelse:
                yield branch
                yield from _running_nodes(branch)
            continue
        yield node
        yield from _running_nodes(node)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def find_cycle(graph: Graph) -> list[str] | None:
    """One import cycle as [a, b, …, a], or None. Only edges between modules of the graph count."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" once fully explored
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for target in sorted(graph[node]):
            if target not in graph or state.get(target) == "done":
                continue
            if state.get(target) == "open":
                return path[path.index(target):] + [target]
            found = visit(target)
            if found:
                return found
        path.pop()
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None
