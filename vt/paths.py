"""Where the project's folders are, whatever the working directory of a notebook kernel."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def project_path(path: str | Path) -> Path:
    """``path`` itself if absolute, else relative to the project root (the folder holding ``vt/``)."""
    path = Path(path)
    return path if path.is_absolute() else ROOT / path
