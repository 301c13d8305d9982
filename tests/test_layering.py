"""DESIGN.md's one-way dependencies, checked on every import statement (also lazy ones).

audio (the signal-processing base), layers, configs and losses import no other subpackage;
synths build on audio; models on those; gans on models and losses; data, metrics, export and
generation never import gans or training; training (the driver and its callbacks) may use
everything below; recipes (one per family) use training too; experiments pair a config family
with a recipe; the cli uses what a trained model needs and training's device report, never
recipes.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tfaudiogan"
BASE = {"audio", "layers", "configs", "losses"}
ALLOWED = {
    "audio": set(), "layers": set(), "configs": set(), "losses": set(), "console": set(),
    "synths": {"audio"},
    "models": {"audio", "synths", "layers"},
    "gans": {"audio", "synths", "layers", "models", "losses"},
    "data": {"audio", "configs"},
    "metrics": {"audio", "models"},
    "generation": {"audio"},
    "export": BASE | {"synths", "models"},
    "training": {"audio", "configs", "layers"},
    "recipes": BASE | {"synths", "models", "gans", "data", "metrics", "export", "generation",
                       "training"},
    "experiments": {"configs", "training", "recipes", "console"},
    "cli": BASE | {"synths", "models", "data", "metrics", "export", "generation", "training",
            "console"},
}


def _imports(path: Path) -> set[str]:
    """Top-level tfaudiogan subpackages imported anywhere in the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            if parts[0] == "tfaudiogan":
                found |= {parts[1]} if len(parts) > 1 else {a.name for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names
                      if a.name.startswith("tfaudiogan.")}
    return found


def _owner(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if _owner(p) in ALLOWED)


def test_every_subpackage_has_a_rule():
    owners = {_owner(p) for p in PACKAGE.rglob("*.py")} - {"__init__", "__main__"}
    assert owners <= set(ALLOWED), owners - set(ALLOWED)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_follow_the_dependency_order(path):
    owner = _owner(path)
    wrong = _imports(path) - ALLOWED[owner] - {owner}
    assert not wrong, f"{path.relative_to(PACKAGE)} ({owner}) must not import {sorted(wrong)}"
