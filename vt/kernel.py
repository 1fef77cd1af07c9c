"""The Jupyter kernel that runs this checkout's notebooks with this checkout's code and interpreter.

Every notebook run names the kernel ``vt`` (the notebooks' metadata, ``vt.execute``, nbval). A kernel registered
once for the user would belong to whichever checkout registered it last: with two checkouts on a machine, the
notebooks of one would import the other's ``vt`` without a word, and fail once that one is deleted. So the kernel
is never registered user-wide. ``bind()`` writes its spec inside the checkout (``.kernel/kernels/vt/``, git-ignored)
with the running interpreter and the checkout's root on ``PYTHONPATH``, and puts that folder first on
``JUPYTER_PATH`` for this process and what it starts; ``vt.execute`` and the test suite call it before a kernel
starts. To open the notebooks in Jupyter with the same kernel::

    JUPYTER_PATH=.kernel .venv/bin/python -m jupyter lab     # after one ./run_all.sh or ./run_tests.sh
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from vt.checkpoint import atomic_write
from vt.paths import ROOT

NAME = "vt"
DATA_DIR = ROOT / ".kernel"  # a Jupyter data folder: kernels/<NAME>/kernel.json


def _prepend(variable: str, entry: str) -> str:
    """``entry`` first on the path list in environment variable ``variable`` (once), set and returned."""
    rest = [p for p in os.environ.get(variable, "").split(os.pathsep) if p and p != entry]
    os.environ[variable] = os.pathsep.join([entry, *rest])
    return os.environ[variable]


def bind() -> Path:
    """Make kernel ``vt`` this checkout's: its spec written under ``DATA_DIR`` (``sys.executable``, the checkout's
    root first on ``PYTHONPATH``), and ``DATA_DIR`` first on ``JUPYTER_PATH``, where Jupyter looks before the
    user's own kernels. Also puts the root first on this process's ``PYTHONPATH``, so that every process it
    starts imports this checkout's ``vt``. Returns the spec's path."""
    python_path = _prepend("PYTHONPATH", str(ROOT))
    _prepend("JUPYTER_PATH", str(DATA_DIR))
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Python (vt: {ROOT.name})",
        "language": "python",
        "env": {"PYTHONPATH": python_path},
        "metadata": {"debugger": False},
    }
    path = DATA_DIR / "kernels" / NAME / "kernel.json"
    text = json.dumps(spec, indent=1)
    if not path.exists() or path.read_text() != text:
        atomic_write(path, lambda tmp: tmp.write_text(text))
    return path
