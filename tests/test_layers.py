"""Dependencies point one way: core -> watch -> services -> ui -> app (design.md §1), and the
package has no import cycle.

Two checks per layer: a fresh interpreter imports each module and reports what that loaded
(catches a forbidden module pulled in through any chain), and the import graph read from the
source (catches a forbidden import inside a function, which loads only when it runs).
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from import_graph import Graph, find_cycle, imports_of, package_graph

import qfinder

# The UI shows plain data (core.results, state, errors, units, pathnames, instructions,
# model.registry/info/machine, config, search.snippets/fusion); the engine's parts stay behind
# the services.
ENGINE_INTERNALS = (
    "qfinder.core.storage", "qfinder.core.indexing", "qfinder.core.vectors", "qfinder.core.library",
    "qfinder.core.model.embedder", "qfinder.core.model.loader", "qfinder.core.model.optimize",
    "qfinder.core.model.download",
)
FORBIDDEN = {
    "qfinder.core": (
        "PySide6",
        "shiboken6",
        "qfinder.watch",
        "qfinder.services",
        "qfinder.ui",
        "qfinder.cli",
        "qfinder.app",
    ),
    "qfinder.watch": ("PySide6", "qfinder.services", "qfinder.ui", "qfinder.cli", "qfinder.app"),
    "qfinder.services": (
        "PySide6.QtWidgets",
        "PySide6.QtGui",
        "qfinder.ui",
        "qfinder.cli",
        "qfinder.app",
    ),
    "qfinder.ui": ("qfinder.cli", "qfinder.app", "onnxruntime", "hnswlib", "watchdog",
                   *ENGINE_INTERNALS),
    "qfinder.cli": ("PySide6", "qfinder.ui", "qfinder.app"),
}

# Known violations, each with the change that removes it; an entry that no longer applies fails
# test_every_allowed_violation_still_exists, so the list only shrinks. The probe imports these
# modules last: what they pull in is charged to them and hides nothing behind them.
ALLOWED: dict[str, tuple[str, ...]] = {}
# Import cycles not yet broken: (importer, imported) edges left out of the cycle search.
ALLOWED_CYCLE_EDGES: set[tuple[str, str]] = set()

# Imports each module in turn in a fresh interpreter and reports, per module, what it added to
# sys.modules. A forbidden module is charged to the first module that pulled it in.
PROBE = """
import importlib, json, sys
report = {}
for name in json.loads(sys.argv[1]):
    before = set(sys.modules)
    importlib.import_module(name)
    report[name] = sorted(set(sys.modules) - before)
print(json.dumps(report))
"""


def modules_of(layer: str) -> list[str]:
    package = __import__(layer, fromlist=["_"])
    found = [layer] + [
        info.name for info in pkgutil.walk_packages(package.__path__, prefix=layer + ".")
    ]
    return sorted(found, key=lambda name: name in ALLOWED)  # allowed offenders last


def newly_loaded(modules: list[str]) -> dict[str, list[str]]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(modules)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _matches(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def offenders(layer: str, loaded: dict[str, list[str]]) -> dict[str, list[str]]:
    found = {
        name: [m for m in added
               if _matches(m, FORBIDDEN[layer]) and not _matches(m, ALLOWED.get(name, ()))]
        for name, added in loaded.items()
    }
    return {name: mods for name, mods in found.items() if mods}


def imported_across(layer: str, graph: Graph, allowed: dict[str, tuple[str, ...]]) -> list[str]:
    """'module -> target' for each import of a module of `layer` that its layer forbids."""
    return sorted(f"{name} -> {target}" for name, targets in graph.items()
                  if _matches(name, (layer,)) for target in targets
                  if _matches(target, FORBIDDEN[layer]) and not _matches(target, allowed.get(name, ())))


@pytest.fixture(scope="module")
def graph() -> Graph:
    return package_graph(Path(qfinder.__file__).parent)


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_loads_nothing_from_a_higher_layer(layer: str) -> None:
    modules = modules_of(layer)
    assert len(modules) > 1 or layer == "qfinder.app"
    assert offenders(layer, newly_loaded(modules)) == {}


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_no_module_imports_what_its_layer_forbids_even_inside_a_function(layer: str, graph: Graph) -> None:
    assert imported_across(layer, graph, ALLOWED) == []


def test_the_package_has_no_import_cycle(graph: Graph) -> None:
    kept = {name: {t for t in targets if (name, t) not in ALLOWED_CYCLE_EDGES}
            for name, targets in graph.items()}
    cycle = find_cycle(kept)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or ())


def test_every_allowed_violation_still_exists(graph: Graph) -> None:
    loaded = newly_loaded(modules_of("qfinder.ui"))
    for name, prefixes in ALLOWED.items():
        for prefix in prefixes:
            reached = [*loaded[name], *graph[name]]  # at import, or in a function
            assert any(_matches(m, (prefix,)) for m in reached), \
                f"{name} no longer imports {prefix}: remove it from ALLOWED"
    for importer, imported in ALLOWED_CYCLE_EDGES:
        assert imported in graph[importer], f"{importer} no longer imports {imported}: remove the edge"


def test_the_probe_charges_a_violation_to_its_module() -> None:
    loaded = newly_loaded(["qfinder.core.results", "PySide6.QtWidgets"])
    assert offenders("qfinder.core", loaded) == {
        "PySide6.QtWidgets": sorted(
            m for m in loaded["PySide6.QtWidgets"] if m.startswith(("PySide6", "shiboken6"))
        )
    }
    assert loaded["qfinder.core.results"] and "PySide6" not in loaded["qfinder.core.results"]


SAMPLE = """
from typing import TYPE_CHECKING
import qfinder.core.units as units
from . import sibling
from ..errors import ModelError
if TYPE_CHECKING:
    from qfinder.ui.main_window import MainWindow
else:
    import numpy
def later():
    from PySide6.QtWidgets import QWidget
"""


def test_the_graph_counts_lazy_imports_and_skips_type_checking_ones() -> None:
    known = {"qfinder.core.model.sibling", "qfinder.core.errors", "qfinder.core.units"}
    found = set(imports_of(SAMPLE, "qfinder.core.model.machine", False, known))
    assert found == {"typing", "qfinder.core.units", "qfinder.core.model.sibling",
                     "qfinder.core.errors", "numpy", "PySide6.QtWidgets"}
    graph = {"qfinder.core.model.machine": found, "qfinder.core.units": set()}
    assert imported_across("qfinder.core", graph, {}) == ["qfinder.core.model.machine -> PySide6.QtWidgets"]


def test_the_cycle_search_names_the_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c", "x"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set(), "d": {"a", "c"}}) is None
