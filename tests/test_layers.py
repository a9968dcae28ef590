"""Dependencies point one way: core -> watch -> services -> ui -> app (design.md §1)."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import pytest

import qfinder

FORBIDDEN = {
    "qfinder.core": ("PySide6", "qfinder.watch", "qfinder.services", "qfinder.ui", "qfinder.cli", "qfinder.app"),
    "qfinder.watch": ("PySide6", "qfinder.services", "qfinder.ui", "qfinder.cli", "qfinder.app"),
    "qfinder.services": ("PySide6.QtWidgets", "PySide6.QtGui", "qfinder.ui", "qfinder.cli", "qfinder.app"),
    "qfinder.ui": ("qfinder.cli", "qfinder.app"),
    "qfinder.cli": ("PySide6", "qfinder.ui", "qfinder.app"),
}


def _modules_of(layer: str) -> list[str]:
    package = __import__(layer, fromlist=["_"])
    names = [layer]
    for info in pkgutil.walk_packages(package.__path__, prefix=layer + "."):
        names.append(info.name)
    return names


def _loaded_after_import(module: str) -> set[str]:
    code = f"import importlib, json, sys; importlib.import_module({module!r}); print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


LAYER_MODULES = [(layer, m) for layer in FORBIDDEN for m in _modules_of(layer)]


@pytest.mark.parametrize(("layer", "module"), LAYER_MODULES, ids=[m for _, m in LAYER_MODULES])
def test_module_loads_nothing_from_a_higher_layer(layer: str, module: str) -> None:
    loaded = _loaded_after_import(module)
    offenders = sorted(m for m in loaded for bad in FORBIDDEN[layer] if m == bad or m.startswith(bad + "."))
    assert not offenders, f"{module} ({layer}) pulls in {offenders}"


def test_the_check_catches_a_violation() -> None:
    """The subprocess probe does see Qt when a module loads it."""
    assert "PySide6.QtWidgets" in _loaded_after_import("PySide6.QtWidgets")
    assert qfinder.__version__
