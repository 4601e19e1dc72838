"""Layering and public surface: data flows grid_models → capacity → scheme_generator → api."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["grid_models", "capacity", "scheme_generator", "api"]
CONFINED = {  # third-party packages allowed only in these layers (style.md)
    "pandapower": {"grid_models", "capacity"},
    "simbench": {"grid_models", "capacity"},
    "ortools": {"scheme_generator"},
    "fastapi": {"api"},
    "sqlalchemy": {"api"},
    "typer": {"api"},
    "uvicorn": {"api"},
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("layer", LAYERS)
def test_no_layer_imports_from_its_right(layer):
    later = set(LAYERS[LAYERS.index(layer) + 1 :])
    for path in (ROOT / layer).rglob("*.py"):
        mods = imports_of(path)
        assert not mods & later, f"{path} imports {mods & later}"
        for lib, allowed in CONFINED.items():
            assert lib not in mods or layer in allowed, f"{path} imports {lib}"


@pytest.mark.parametrize("layer", LAYERS)
def test_public_names_are_exported_and_exist(layer):
    mod = importlib.import_module(layer)
    assert isinstance(mod.__all__, list)
    for name in mod.__all__:
        assert hasattr(mod, name), f"{layer}.{name} is in __all__ but missing"
    public = {n for n in vars(mod) if not n.startswith("_")} - {"annotations"}
    modules = {n for n in public if type(getattr(mod, n)).__name__ == "module"}
    assert public - modules <= set(mod.__all__), public - modules - set(mod.__all__)
    assert (ROOT / layer / "py.typed").exists()
