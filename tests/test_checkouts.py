"""Each checkout runs its notebooks with its own code and interpreter, whatever other checkouts there are."""

import os
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from vt.paths import ROOT

PROBE = "import sys, vt\nprint(vt.CHECKOUT, vt.__file__, sys.executable)"


def _checkout(parent: Path, name: str) -> Path:
    """A copy of this checkout's code and set-up (``vt/``, ``scripts/``, the pins), marked ``vt.CHECKOUT = name``."""
    folder = parent / name
    ignore = shutil.ignore_patterns("__pycache__", ".kernel")
    for part in ("vt", "scripts", "notebooks"):
        shutil.copytree(ROOT / part, folder / part, ignore=ignore)
    for part in ("requirements.txt", "pyproject.toml"):
        if (ROOT / part).exists():
            shutil.copy(ROOT / part, folder / part)
    with open(folder / "vt" / "__init__.py", "a") as init:
        init.write(f'\nCHECKOUT = "{name}"\n')
    return folder


def _set_up(checkout: Path, env: dict) -> None:
    """What README's two commands do first: the environment linked as .venv (scripts/ensure_env.sh)."""
    subprocess.run(["bash", "-c", "source scripts/ensure_env.sh"], cwd=checkout, env=env, check=True, timeout=300)


def _run_probe(checkout: Path, env: dict) -> str:
    """Run a notebook that prints which ``vt`` it imports with README's command, ``.venv/bin/python -m vt.execute``."""
    notebook = checkout / "probe.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(PROBE)])
    nb.metadata["kernelspec"] = {"name": "vt", "display_name": "vt", "language": "python"}
    nbformat.write(nb, notebook)
    run = subprocess.run([".venv/bin/python", "-m", "vt.execute", "probe.ipynb", "out.ipynb", "--cwd", "notebooks",
                          "--no-progress-bar"], cwd=checkout, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    executed = nbformat.read(checkout / "out.ipynb", as_version=4)
    return "".join(o.get("text", "") for o in executed.cells[-1].outputs)


@pytest.mark.skipif(not (ROOT / ".venv").is_symlink(), reason="needs the .venv link that scripts/ensure_env.sh makes")
def test_two_checkouts_each_run_their_own_code_and_one_survives_the_other(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "JUPYTER_PATH")}
    env["VT_ENV_CACHE"] = str((ROOT / ".venv").resolve().parent)  # the environment the set-up made: no install
    env["JUPYTER_DATA_DIR"] = str(tmp_path / "user-jupyter")  # the user's own Jupyter folder, kept apart
    a, b = _checkout(tmp_path, "a"), _checkout(tmp_path, "b")
    _set_up(a, env)
    _set_up(b, env)  # set up after a: it must not take a's place

    # b, set up last, runs b's code; with b gone, a still runs a's: neither the first nor the last set-up wins.
    assert _run_probe(b, env).split() == ["b", str(b / "vt" / "__init__.py"), str(b / ".venv" / "bin" / "python")]
    shutil.rmtree(b)
    assert _run_probe(a, env).split() == ["a", str(a / "vt" / "__init__.py"), str(a / ".venv" / "bin" / "python")]
