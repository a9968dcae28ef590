"""Dependencies point one way: core -> watch -> services -> ui -> app (design.md §1)."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import pytest

FORBIDDEN = {
    "qfinder.core": (
        "PySide6",
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
    "qfinder.ui": ("qfinder.cli", "qfinder.app"),
    "qfinder.cli": ("PySide6", "qfinder.ui", "qfinder.app"),
}

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
    return [layer] + [
        info.name for info in pkgutil.walk_packages(package.__path__, prefix=layer + ".")
    ]


def newly_loaded(modules: list[str]) -> dict[str, list[str]]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(modules)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def offenders(layer: str, loaded: dict[str, list[str]]) -> dict[str, list[str]]:
    bad = FORBIDDEN[layer]
    found = {
        name: [m for m in added if any(m == b or m.startswith(b + ".") for b in bad)]
        for name, added in loaded.items()
    }
    return {name: mods for name, mods in found.items() if mods}


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_loads_nothing_from_a_higher_layer(layer: str) -> None:
    modules = modules_of(layer)
    assert len(modules) > 1 or layer == "qfinder.app"
    assert offenders(layer, newly_loaded(modules)) == {}


def test_the_probe_charges_a_violation_to_its_module() -> None:
    loaded = newly_loaded(["qfinder.core.results", "PySide6.QtWidgets"])
    assert offenders("qfinder.core", loaded) == {
        "PySide6.QtWidgets": sorted(
            m for m in loaded["PySide6.QtWidgets"] if m.startswith("PySide6")
        )
    }
    assert loaded["qfinder.core.results"] and "PySide6" not in loaded["qfinder.core.results"]
