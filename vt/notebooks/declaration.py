"""What the notebooks declare: their folders, the parameter names of each notebook's ``parameters`` cell with the
defaults there, the training-recipe names they share, and where results go."""

from __future__ import annotations

import ast
import os
from dataclasses import fields
from pathlib import Path

import nbformat

from vt.config import TrainConfig
from vt.errors import ConfigError
from vt.paths import ROOT, project_path

NOTEBOOKS_DIR = ROOT / "notebooks"


PROFILES_DIR = ROOT / "profiles"


# Training-recipe parameters shared by the training notebooks (TrainConfig fields not tied to one run).
RECIPE = tuple(f.name for f in fields(TrainConfig) if f.name not in {
    "model", "model_kwargs", "seed", "checkpoint_dir", "resume", "stop_after"})


RESULTS_ENV = "VT_RESULTS_DIR"


def results_root(results_dir: str | Path = "results") -> Path:
    """Where results go: ``results_dir`` under the project root; the default ``results`` is replaced by
    ``$VT_RESULTS_DIR`` when set (the tests point it at a temporary folder)."""
    if str(results_dir) == "results" and os.environ.get(RESULTS_ENV):
        return Path(os.environ[RESULTS_ENV])
    return project_path(results_dir)


def declared(notebook: str | Path) -> dict[str, object]:
    """The parameters that ``notebooks/<notebook>.ipynb`` (or the notebook at a path) declares in its
    ``parameters`` cell, with defaults."""
    path = notebook if isinstance(notebook, Path) else NOTEBOOKS_DIR / f"{notebook}.ipynb"
    cells = [c for c in nbformat.read(path, as_version=4).cells if "parameters" in c.metadata.get("tags", [])]
    if not cells:
        raise ConfigError(f"{path} has no cell tagged 'parameters'")
    names = {}
    for node in ast.parse(cells[0].source).body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                names[target.id] = ast.literal_eval(node.value)
    return names


def vocabulary() -> set[str]:
    """Every parameter name some notebook of the collection declares."""
    return {name for path in sorted(NOTEBOOKS_DIR.glob("[0-9]*.ipynb")) for name in declared(path.stem)}
