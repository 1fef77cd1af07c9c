"""Profiles (``profiles/<name>.yaml``): flat papermill parameter files, one extending another; and what a study's
recorded ``parameters.json`` says about its profile: the command that reran it, and whether it has landed."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import yaml

from vt.config import TrainConfig
from vt.errors import ConfigError
from vt.notebooks.declaration import PROFILES_DIR, RECIPE, declared, results_root, vocabulary

def load_profile(name_or_path: str, _children: tuple[Path, ...] = ()) -> dict:
    """The parameters of a profile, by name (``profiles/<name>.yaml``) or path, with the values of the profile
    it ``extends`` (if any) under its own; checked against the collection.

    Raises:
        ConfigError: for a missing profile or parent, a cycle of ``extends``, an unknown name or a bad value.
    """
    path = Path(name_or_path)
    if not path.suffix:
        path = PROFILES_DIR / f"{name_or_path}.yaml"
    if not path.exists():
        known = ", ".join(p.stem for p in sorted(PROFILES_DIR.glob("*.yaml")))
        raise ConfigError(f"no profile {name_or_path!r} ({path} missing); profiles: {known}")
    chain = _children + (path.resolve(),)
    if chain[-1] in _children:
        raise ConfigError(f"{path}: profiles extend each other in a cycle ({' -> '.join(p.stem for p in chain)})")
    values = yaml.safe_load(path.read_text()) or {}
    parent = values.pop("extends", None)
    if parent is not None:
        values = {**load_profile(str(parent), chain), **values}
    unknown = sorted(set(values) - vocabulary())
    if unknown:
        raise ConfigError(f"{path}: unknown parameter(s) {', '.join(unknown)}")
    recipe = {k: v for k, v in values.items() if k in RECIPE}
    TrainConfig(**recipe)
    return values


WHEN_ONLY = ("time_limit_min", "read_only", "progress")


def planned(notebook: str, profile: str) -> dict:
    """What ``notebook`` runs with on ``profile``: its declared defaults with the profile's values on top.

    Raises:
        ConfigError: for a profile that is not shipped (``load_profile``).
    """
    defaults = declared(notebook)
    return {**defaults, **{k: v for k, v in load_profile(profile).items() if k in defaults}}


def _departures(record: dict) -> tuple[dict, bool]:
    """The recorded parameters of a ``parameters.json`` that its profile (as it stands now, with the notebook's
    defaults under it) does not give, ``WHEN_ONLY`` ones left out; and whether that profile still exists."""
    notebook, values = record["notebook"], record["parameters"]
    try:
        given = planned(notebook, str(values.get("profile", "smoke")))
    except ConfigError:  # a profile no longer shipped
        return {k: v for k, v in values.items() if k not in WHEN_ONLY}, False
    return {k: v for k, v in values.items() if k not in WHEN_ONLY and given.get(k, object()) != v}, True


def command(parameters_json: str | Path) -> str:
    """The command that reran a notebook as ``parameters.json`` records it: ``./run_all.sh --profile P NB`` when the
    profile (as it stands now, with the notebook's defaults under it) gives every recorded value, else
    ``vt.execute`` on the resolved profile with a ``-p`` for each value that differs. ``WHEN_ONLY`` parameters are
    left out: they decide when a notebook stops or what it prints, not its numbers."""
    record = json.loads(Path(parameters_json).read_text())
    notebook, profile = record["notebook"], str(record["parameters"].get("profile", "smoke"))
    differ, known = _departures(record)
    if not differ:
        return f"./run_all.sh --profile {profile} {notebook}"
    options = " ".join(f"-p {k} {_shell(v)}" for k, v in differ.items())
    source = f"-f <(.venv/bin/python -m vt.notebooks resolve {profile}) " if known else ""
    return f".venv/bin/python -m vt.execute notebooks/{notebook}.ipynb out.ipynb --cwd notebooks {source}{options}"


def landed(profile: str, notebook: str, results_dir: str | Path = "results") -> bool:
    """Whether ``results/<profile>/<notebook>/`` holds what ``./run_all.sh --profile <profile> <notebook>`` would
    make now: a ``parameters.json`` that the profile gives in full (``command``) and a summary whose runs all
    finished. The CPU campaign skips such a study, so that a notebook whose trained models live only in
    checkpoints (``05_attention``) is not trained again once they are gone."""
    folder = results_root(results_dir) / profile / notebook
    recorded, summary = folder / "parameters.json", folder / "summary.csv"
    if not recorded.exists() or not summary.exists():
        return False
    record = json.loads(recorded.read_text())
    if str(record["parameters"].get("profile")) != profile or _departures(record)[0]:
        return False
    table = pd.read_csv(summary)
    return "finished" not in table or bool(table.finished.all())


def _shell(value) -> str:
    """A parameter value as the shell and ``vt.execute -p`` (YAML) read it back."""
    text = json.dumps(value) if isinstance(value, (list, dict, bool)) or value is None else str(value)
    return f"'{text}'" if any(c in text for c in " []{}\"'$") else text
