"""Where the project's folders are, whatever the working directory of a notebook kernel."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def project_path(path: str | Path) -> Path:
    """``path`` itself if absolute, else relative to the project root (the folder holding ``vt/``)."""
    path = Path(path)
    return path if path.is_absolute() else ROOT / path


def shown(path: str | Path) -> str:
    """``path`` as results record it: relative to the project root (``checkpoints/...``, ``../shared/datasets/...``),
    so that no result names the folders of the machine that made it; empty stays empty."""
    if not str(path):
        return ""
    return os.path.relpath(Path(path).resolve(), ROOT)
