"""What the notebooks share: parameter checking, the training recipe, runs over models and seeds, result files.

Every notebook's second cell is ``P = vt.notebooks.parameters("<name>", globals())``. It reads the names the
notebook's ``parameters`` cell declares, refuses names papermill injected that no notebook knows (papermill
itself ignores them silently), turns JSON text from ``-p`` into lists and dicts, checks the recipe through
``TrainConfig``, and gives the notebook its output folder ``results/<profile>/<notebook>/``.

Profiles (``profiles/<name>.yaml``) are flat papermill parameter files; a key that a notebook does not declare
but another one does is left unused there. ``extends: <profile>`` starts a profile from another one's values, so
that a variant (a longer budget, fewer models) keeps its parent's recipe. ``python -m vt.notebooks check
cifar10`` checks a profile before a long run; ``python -m vt.notebooks resolve cifar10`` prints it with its
parent's values filled in, the file ``run_all.sh`` hands to papermill.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pandas as pd
import yaml
from torch import nn

from vt import checkpoint
from vt.config import TrainConfig
from vt.data import Dataset, load
from vt.errors import ConfigError
from vt.flops import count
from vt.models import TOKENIZERS, arguments, create, names
from vt.paths import ROOT, project_path
from vt.train import CHECKPOINT, HISTORY, PREDICTIONS, environment, fit, resolve_device, train

NOTEBOOKS_DIR = ROOT / "notebooks"
PROFILES_DIR = ROOT / "profiles"
# Training-recipe parameters shared by the training notebooks (TrainConfig fields not tied to one run).
RECIPE = tuple(f.name for f in fields(TrainConfig) if f.name not in {
    "model", "model_kwargs", "seed", "checkpoint_dir", "resume", "stop_after"})
RESULTS_ENV = "VT_RESULTS_DIR"
EVAL_LABELS = "eval_labels.npy"  # beside summary.csv: the eval split's labels, in the order of the runs' predictions
# The columns of ``summary.csv`` a training notebook shows (``finished``: the run reached its planned epochs).
SUMMARY_COLUMNS = ["model", "resolution", "epochs", "finished", "eval_acc", "eval_acc_std", "train_acc", "gap",
                   "images_per_s", "mflops", "mparams"]


def results_root(results_dir: str | Path = "results") -> Path:
    """Where results go: ``results_dir`` under the project root; the default ``results`` is replaced by
    ``$VT_RESULTS_DIR`` when set (the tests point it at a temporary folder)."""
    if str(results_dir) == "results" and os.environ.get(RESULTS_ENV):
        return Path(os.environ[RESULTS_ENV])
    return project_path(results_dir)


def declared(notebook: str) -> dict[str, object]:
    """The parameters that ``notebooks/<notebook>.ipynb`` declares in its ``parameters`` cell, with defaults."""
    path = NOTEBOOKS_DIR / f"{notebook}.ipynb"
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


@dataclass
class Run:
    """One trained configuration of a notebook: a label, a model, its kwargs, and optionally its own resolution
    (the data stay at their stored resolution and are upscaled on the device, as in the report's study)."""

    label: str
    model: str
    kwargs: dict = field(default_factory=dict)
    resolution: int | None = None


@dataclass
class Parameters:
    """A notebook's checked parameters, its output folder and the recipe they define."""

    notebook: str
    values: dict[str, object]
    unused: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def __getattr__(self, name: str):
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(f"{self.notebook} has no parameter {name!r}") from None

    @property
    def out_dir(self) -> Path:
        """``<results_dir>/<profile>/<notebook>/``, created."""
        folder = results_root(self.values.get("results_dir", "results")) / str(self.values.get("profile", "smoke")) / self.notebook
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def config(self, run: Run, seed: int = 0) -> TrainConfig:
        """The training config of ``run`` with ``seed``: this notebook's recipe with the run's model and kwargs,
        checkpointed in ``<checkpoint_root>/<profile>/<notebook>/<label>-seed<seed>`` (none if the root is empty)."""
        recipe = {k: v for k, v in self.values.items() if k in RECIPE}
        if run.resolution:
            recipe["resolution"] = run.resolution
        root = self.values.get("checkpoint_root", "")
        folder = project_path(root) / str(self.values.get("profile", "smoke")) / self.notebook / f"{run.label}-seed{seed}"
        return TrainConfig(model=run.model, model_kwargs=dict(run.kwargs), seed=seed,
                           checkpoint_dir=str(folder) if root else "", **recipe)

    def landed_dir(self, config: TrainConfig) -> Path:
        """``out_dir/runs/<label>-seed<seed>/``, where the run ``config`` checkpoints lands (``land_run``)."""
        return self.out_dir / "runs" / Path(config.checkpoint_dir).name

    def minutes_left(self) -> float | None:
        """What is left of the notebook's ``time_limit_min`` budget, counted from its parameter check; ``None``
        when it has none, and none at all (``0.0``) with ``read_only``: a spent budget trains nothing."""
        if self.values.get("read_only"):
            return 0.0
        limit = self.values.get("time_limit_min", 0.0)
        return limit - (time.monotonic() - self.started) / 60 if limit else None

    def load_data(self) -> Dataset:
        """The notebook's data set (synthetic data is generated at the recipe's resolution), with the ``classes``
        subset of a notebook that declares it (``vt.data.class_subset``)."""
        v = self.values
        return load(v["dataset"], data_dir=v.get("data_dir") or None, resolution=v.get("resolution", 32),
                    train_size=v.get("train_size", 0), eval_size=v.get("eval_size", 0), classes=v.get("classes", 0),
                    progress=v.get("progress", True))

    def save(self) -> Path:
        """Write the parameters, the machine the notebook ran on and, for runs that landed in ``out_dir/runs/``,
        the machine each trained on (``trained_on``: a run read back may come from another) to
        ``out_dir/parameters.json``."""
        path = self.out_dir / "parameters.json"
        device = resolve_device(str(self.values.get("device", "auto")))
        record = {"notebook": self.notebook, "parameters": self.values, "environment": environment(device)}
        landed = sorted((self.out_dir / "runs").glob("*/config.json"))
        if landed:
            record["trained_on"] = {p.parent.name: json.loads(p.read_text()).get("environment") for p in landed}
        path.write_text(json.dumps(record, indent=2, default=str))
        return path


def parameters(notebook: str, namespace: dict) -> Parameters:
    """Check the parameters of ``notebook`` as they stand in the kernel's ``namespace`` (``globals()``).

    Raises:
        ConfigError: for a name no notebook declares, a value of the wrong type, or a bad recipe.
    """
    defaults = declared(notebook)
    injected = _injected(namespace) - set(defaults)
    known = vocabulary()
    unknown = sorted(injected - known)
    if unknown:
        raise ConfigError(f"unknown parameter(s) {', '.join(unknown)} for {notebook}; it takes: {', '.join(sorted(defaults))}")
    values = {name: _coerce(name, namespace.get(name, default), default) for name, default in defaults.items()}
    if "profile" in values and "profile" not in injected and values["profile"] == defaults["profile"]:
        values["profile"] = _own_profile(notebook, values, defaults)
    checked = Parameters(notebook, values, sorted(injected & known))
    if "dataset" in values:
        checked.config(Run("check", "resnet20"))  # validates every recipe value through TrainConfig
    for name in ("models", "resolution_models", "vt_model", "model"):
        for model in _as_list(values.get(name)):
            if isinstance(model, str):
                arguments(model)  # raises for an unknown model name
    _check_elements(values)
    return checked


# Parameters that change neither what a notebook computes nor what it shows: a run differing from its profile only
# in these still writes the profile's results.
SAME_RESULTS = ("time_limit_min", "read_only", "progress", "results_dir", "data_dir", "device", "checkpoint_root")


def _own_profile(notebook: str, values: dict, defaults: dict) -> str:
    """The profile name a run on the default profile writes its results under: the default's own name if ``values``
    are that profile's, else a name of its own made from what differs (``smoke-epochs-1-resolutions-24-48``), so
    that a rerun with other parameters never writes over the committed results of the profile; said in one line."""
    profile = str(defaults["profile"])
    planned = {**defaults, **{k: v for k, v in load_profile(profile).items() if k in defaults}}
    changed = {k: v for k, v in values.items() if k not in SAME_RESULTS and v != planned[k]}
    if not changed:
        return profile
    words = [profile] + [str(part) for k, v in changed.items() for part in [k, *_as_list(v)]]
    name = re.sub(r"[^A-Za-z0-9_.=-]+", "-", "-".join(words)).strip("-")
    if len(name) > 80:
        digest = hashlib.sha256(json.dumps(changed, sort_keys=True, default=str).encode()).hexdigest()[:8]
        name = f"{profile}-{'-'.join(changed)}"[:60].rstrip("-") + f"-{digest}"
    print(f"{', '.join(changed)} differ from profile {profile}: results go to results/{name}/, not over {profile}'s "
          "(-p profile NAME names them)")
    return name


# List parameters and what each element must be, checked before the first run trains.
def _integer_from(low: int) -> tuple:
    """An ``ELEMENTS`` check: an integer (not a bool) of at least ``low``, and how to name it."""
    return (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= low,
            "a positive integer" if low == 1 else f"an integer >= {low}")


ELEMENTS = {
    "tokenizers": (lambda v: v in TOKENIZERS, f"one of {', '.join(TOKENIZERS)}"),
    "resolutions": _integer_from(16),
    "token_counts": _integer_from(1),
    "token_channels": _integer_from(1),
    "seeds": _integer_from(0),
    "seg_seeds": _integer_from(0),
    "seg_models": (lambda v: v in names("segmentation"), f"a segmentation model ({', '.join(names('segmentation'))})"),
}


NOT_EMPTY = ("tokenizers", "seeds", "seg_seeds", "seg_models")  # an empty sweep of 03_resolution (resolutions, ...) leaves that study out


def _check_elements(values: dict) -> None:
    for name, (ok, what) in ELEMENTS.items():
        bad = [v for v in _as_list(values.get(name)) if not ok(v)]
        if bad:
            raise ConfigError(f"parameter {name}: {bad[0]!r} is not {what}")
        if name in NOT_EMPTY and name in values and not values[name]:
            raise ConfigError(f"parameter {name} is empty")


def _injected(namespace: dict) -> set[str]:
    """Names assigned by papermill's injected cell (its source starts with ``# Parameters``), read from the
    kernel's input history ``In``; empty when the notebook runs without papermill."""
    names = set()
    for source in namespace.get("In", []):
        if source.startswith("# Parameters\n"):
            names |= {t.id for node in ast.parse(source).body if isinstance(node, ast.Assign)
                      for t in node.targets if isinstance(t, ast.Name)}
    return names


def _as_list(value) -> list:
    return value if isinstance(value, list) else ([] if value is None else [value])


def _coerce(name: str, value, default):
    """``value`` as the type of ``default``: JSON text becomes a list or dict; ints pass for floats."""
    if isinstance(default, (list, dict)) and isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            value = [value] if isinstance(default, list) else value
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) != isinstance(default, bool) or not isinstance(value, type(default)):
        raise ConfigError(f"parameter {name} must be {type(default).__name__} like {default!r}, got {value!r}")
    return value


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


def _departures(record: dict) -> tuple[dict, bool]:
    """The recorded parameters of a ``parameters.json`` that its profile (as it stands now, with the notebook's
    defaults under it) does not give, ``WHEN_ONLY`` ones left out; and whether that profile still exists."""
    notebook, values = record["notebook"], record["parameters"]
    defaults = declared(notebook)
    try:
        planned = {**defaults, **{k: v for k, v in load_profile(str(values.get("profile", "smoke"))).items()
                                  if k in defaults}}
    except ConfigError:  # a profile no longer shipped
        return {k: v for k, v in values.items() if k not in WHEN_ONLY}, False
    return {k: v for k, v in values.items() if k not in WHEN_ONLY and planned.get(k, object()) != v}, True


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


def run_models(P: Parameters, runs: list[Run], data: Dataset) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train every run for every seed in ``P.seeds``; write and return the results.

    Returns ``(histories, summary)``: every epoch of every run, and one row per run with the final eval accuracy
    (mean, std over seeds), the train/test gap, images/s, parameters and forward MFLOPs per image at the run's
    resolution. Both go to ``P.out_dir`` as ``histories.csv`` and ``summary.csv``, the parameters beside them.

    With ``time_limit_min`` set, training stops (checkpointed) before an epoch that would end past the notebook's
    budget and later runs are not started; ``finished`` in the summary says which runs reached their epochs, and
    running the notebook again continues from the checkpoints (what a GPU session of a few minutes at a time needs).
    ``read_only`` trains nothing and shows what landed or was checkpointed, the rest as not started.

    Raises:
        ConfigError: when not one run has anything to show (a budget spent before the first, or ``read_only``
            before any run landed).
    """
    histories, done = [], {}
    for run in runs:
        for seed in P.seeds:
            config = P.config(run, seed)
            same = _computes(config, data.num_classes)
            if same not in done:  # runs that build the same model (a default shared by two sweeps) train once
                done[same] = (_train_within_budget(P, config, data),
                              Path(config.checkpoint_dir).name if config.checkpoint_dir else None)
            trained, key = done[same]
            if trained is not None:
                histories.append(trained.assign(label=run.label, model=run.model, seed=seed, run_key=key,
                                                resolution=config.resolution, planned_epochs=config.epochs))
    if not histories:
        raise ConfigError(f"no run of {P.notebook} to show: none landed in {P.out_dir / 'runs'} or was checkpointed, "
                          "and " + ("read_only trains none" if P.values.get("read_only") else "the time budget was spent"))
    history = pd.concat(histories, ignore_index=True)
    _keep_histories(P, data, history)
    summary = summarize(history, P, data, runs)
    summary.to_csv(P.out_dir / "summary.csv", index=False)
    summary.attrs["folder"] = str(P.out_dir)  # where vt.findings finds runs/ and the labels
    P.save()
    return history, summary


def fit_seeds(P: Parameters, run: Run, data: Dataset) -> tuple[dict[int, nn.Module], pd.DataFrame]:
    """Train ``run`` for every seed in ``P.seeds`` and return the trained models by seed with every epoch's
    history, for a notebook that needs the models themselves (``05_attention``'s attention maps, eq. 1). A run
    finished in its checkpoint is read back, not retrained. As ``run_models`` does, each run lands in
    ``out_dir/runs/`` (history, config, per-example predictions) and the histories go to ``histories.csv``.

    Raises:
        ConfigError: with ``read_only``, for a seed whose checkpoint holds no finished run to read the model from.
    """
    models, histories = {}, []
    for seed in P.seeds:
        config = P.config(run, seed)
        if P.values.get("read_only") and not _finished_checkpoint(config):
            raise ConfigError(f"read_only: {run.label}, seed {seed} has no finished checkpoint to read its model from "
                              f"({config.checkpoint_dir or 'checkpoint_root is empty'}); run without read_only to train it")
        result = fit(config, data)
        land_run(P, config, data)
        models[seed] = result.model
        histories.append(result.history.assign(label=run.label, model=run.model, seed=seed))
    history = pd.concat(histories, ignore_index=True)
    _keep_histories(P, data, history)
    return models, history


def _finished_checkpoint(config: TrainConfig) -> bool:
    """Whether ``config``'s checkpoint folder holds the run trained to its ``epochs``."""
    if not config.checkpoint_dir or not (Path(config.checkpoint_dir) / CHECKPOINT).exists():
        return False
    saved = Path(config.checkpoint_dir) / HISTORY
    return saved.exists() and pd.read_csv(saved).epoch.max() == config.epochs


def _keep_histories(P: Parameters, data: Dataset, history: pd.DataFrame) -> None:
    """``histories.csv`` in ``out_dir``, and the eval labels that score the runs' landed predictions."""
    if P.values.get("checkpoint_root"):  # the runs' predictions land in runs/: the labels to score them
        checkpoint.save_array(P.out_dir / EVAL_LABELS, data.eval.labels.numpy().astype(np.int16))
    history.to_csv(P.out_dir / "histories.csv", index=False)


def _train_within_budget(P: Parameters, config: TrainConfig, data: Dataset) -> pd.DataFrame | None:
    """Train ``config`` in what is left of the notebook's time budget (all of it when there is none). Once the
    budget is spent, a run is not started: what its checkpoint folder holds is read back, or else what a time budget
    elsewhere left of it in ``out_dir/runs/`` (a run stopped early on a GPU whose disk is gone), or ``None``.

    A run that finished earlier and landed in ``out_dir/runs/`` (see ``land_run``) is read back from there when
    its checkpoint is gone (another machine, a lost disk), and so is a run another study landed with the same
    recipe, model and seed (``landed_run``); every run trained here lands there when it ends."""
    if config.checkpoint_dir and not (Path(config.checkpoint_dir) / CHECKPOINT).exists():
        landed = landed_run(P, config, data)
        if landed is not None:
            return landed
    left = P.minutes_left()
    if left is not None and left <= 0:
        if not config.checkpoint_dir:
            return None
        saved = Path(config.checkpoint_dir) / HISTORY
        if saved.exists():
            land_run(P, config, data)  # trained by another process (vt.side_by_side): it lands here
            return pd.read_csv(saved)
        stopped = _landed_as(P.landed_dir(config), config, data, finished=False)
        return stopped[0] if stopped else None
    history = train(config if left is None else replace(config, time_limit_min=left), data)
    land_run(P, config, data)
    return history


LANDED_FILES = (HISTORY, "config.json", PREDICTIONS)


def land_run(P: Parameters, config: TrainConfig, data: Dataset) -> Path | None:
    """Copy a checkpointed run's small files (history, config, per-example predictions; not the weights) to
    ``out_dir/runs/<label>-seed<seed>/``, where results are kept, so that a finished run outlives its checkpoint.

    The landed ``config.json`` always names the data fingerprint (``landed_run`` reads a run back only on the same
    data): a checkpoint written before fingerprints were kept lacks it, and ``vt.train`` resumed it as of ``data``."""
    if not config.checkpoint_dir:
        return None
    source = Path(config.checkpoint_dir)
    target = _copy_landed(source, P.landed_dir(config))
    record = json.loads((target / "config.json").read_text()) if (target / "config.json").exists() else None
    if record is not None and "data" not in record:
        record["data"] = data.fingerprint()
        checkpoint.atomic_write(target / "config.json", lambda tmp: tmp.write_text(json.dumps(record, indent=2)))
    return target


def _copy_landed(source: Path, target: Path) -> Path:
    """A run's small files (``LANDED_FILES``, those it has) copied from folder ``source`` into ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    for name in LANDED_FILES:
        if (source / name).exists():
            shutil.copyfile(source / name, target / name)
    return target


def landed_run(P: Parameters, config: TrainConfig, data: Dataset) -> pd.DataFrame | None:
    """The history of this run as landed in ``out_dir/runs/`` if it finished there with the same recipe and model on
    the same data (its ``config.json`` computes what ``config`` does, its data fingerprint is ``data``'s, as a
    checkpoint is checked: see ``Dataset.fingerprint``), or as another study landed it, copied here (``borrow_run``);
    else ``None``. A copied run says where it was trained, each time it is read back: its speed was measured there."""
    if not config.checkpoint_dir:
        return None
    found = _landed_as(P.landed_dir(config), config, data) or borrow_run(P, config, data)
    if found is None:
        return None
    history, record = found
    if "landed_from" in record:
        print(f"{Path(config.checkpoint_dir).name}: the same run (recipe, model, seed, data) as "
              f"{record['landed_from']}, copied from there, not trained again")
    return history


def _landed_as(folder: Path, config: TrainConfig, data: Dataset, finished: bool = True
               ) -> tuple[pd.DataFrame, dict] | None:
    """The history and ``config.json`` landed in ``folder`` if they are ``config``'s run (``_computes``) on ``data``,
    finished (at ``config.epochs``) unless ``finished`` is false, else ``None``."""
    if not (folder / "config.json").exists() or not (folder / HISTORY).exists():
        return None
    record = json.loads((folder / "config.json").read_text())
    if (_computes(TrainConfig(**record["config"]), data.num_classes) != _computes(config, data.num_classes)
            or record.get("data") != data.fingerprint()):
        return None
    history = pd.read_csv(folder / HISTORY)
    return (history, record) if history.epoch.max() == config.epochs or not finished else None


def borrow_run(P: Parameters, config: TrainConfig, data: Dataset) -> tuple[pd.DataFrame, dict] | None:
    """Copy a finished run that another study landed (under ``<results_dir>/*/*/runs/``) with ``config``'s recipe,
    model and seed on the same data into this study's ``out_dir/runs/``, its ``config.json`` naming where it came
    from (``landed_from``), so that an arm two studies share (the token study's 16 tokens and the tokenizer study's
    recurrent tokenizers, both VT-ResNet-20's defaults) is trained once. Returns the copy's history and
    ``config.json``, or ``None`` if no study has that run."""
    root = results_root(P.values.get("results_dir", "results"))
    for source in sorted(path.parent for path in root.glob("*/*/runs/*/config.json")):
        found = None if source.parent.parent == P.out_dir else _landed_as(source, config, data)
        if found is None:
            continue
        history, record = found
        record = {**record, "landed_from": record.get("landed_from", source.relative_to(root).as_posix())}
        target = _copy_landed(source, P.landed_dir(config))
        checkpoint.atomic_write(target / "config.json", lambda tmp: tmp.write_text(json.dumps(record, indent=2)))
        return history, record
    return None


def _computes(config: TrainConfig, num_classes: int) -> str:
    """What a run computes, as text to compare: its recipe (``TrainConfig.identity``) with the model's keyword
    arguments completed by the builder's defaults, so that two spellings of one model (``{"tokens": 16}`` and
    ``{"tokenizer": "recurrent"}`` for VT-ResNet-20) are one run."""
    built = {**arguments(config.model), **_kwargs(config.model, config.model_kwargs, num_classes, config.resolution)}
    return json.dumps({**config.identity(), "model_kwargs": built}, sort_keys=True, default=str)


def summarize(history: pd.DataFrame, P: Parameters, data: Dataset, runs: list[Run]) -> pd.DataFrame:
    """One row per run: final accuracies over seeds (mean, sample std), the overfitting gap, speed (median training
    images/s over every epoch, so that one disturbed epoch does not move it, and its 2.5-97.5 percentiles over the
    epochs after the first, which holds compilation and warm-up) and cost; ``eval_size`` and ``run_keys`` (the
    landed runs' folders under ``runs/``) for ``vt.findings``' intervals.

    Where some seeds of a run reached the planned epochs and others a time budget stopped early, the accuracies are
    the finished seeds' alone (an average over unequal budgets measures no recipe); ``stopped_early`` counts the
    others, and ``finished`` stays false until every seed has finished."""
    last = history.sort_values("epoch").groupby(["label", "seed"]).tail(1)
    last = last.assign(gap=last.train_acc - last.eval_acc)
    rows = []
    for run in runs:
        started, every_epoch = last[last.label == run.label], history[history.label == run.label]
        if started.empty:  # not started: the time budget ran out first
            continue
        done = started[started.epoch == started.planned_epochs]
        of_run = done if len(done) else started
        resolution = run.resolution or P.values.get("resolution", 32)
        cost = count(create(run.model, **_kwargs(run.model, run.kwargs, data.num_classes, resolution)),
                     (3, resolution, resolution))
        rows.append({
            "label": run.label, "model": run.model, "kwargs": json.dumps(run.kwargs, sort_keys=True),
            "resolution": resolution, "seeds": len(of_run), "epochs": int(of_run.epoch.max()),
            "planned_epochs": int(of_run.planned_epochs.max()),
            "finished": len(done) == len(started) == len(P.seeds), "stopped_early": len(started) - len(done),
            "eval_acc": of_run.eval_acc.mean(), "eval_acc_std": of_run.eval_acc.std(ddof=1),
            "eval_size": len(data.eval), "run_keys": json.dumps(sorted(set(of_run.run_key.dropna()))),
            "best_eval_acc": every_epoch.eval_acc.max(), "train_acc": of_run.train_acc.mean(),
            "gap": of_run.gap.mean(), "eval_top5": of_run.eval_top5.mean(),
            "images_per_s": every_epoch.images_per_s.median(), "images_per_s_seeds": _seed_speeds(every_epoch),
            "shared_by": _shared_by(every_epoch),
            "mflops": cost.flops / 1e6, "mparams": cost.params / 1e6, "dataset": data.name,
            "profile": P.values.get("profile", "smoke"),
        })
    return pd.DataFrame(rows)


def _shared_by(history: pd.DataFrame) -> float:
    """How many runs at most shared the device with this run's epochs (1: it trained alone); ``nan`` (unknown)
    where some epoch does not say, as in histories written before runs recorded it: such speeds decide nothing."""
    if "shared_by" not in history or history.shared_by.isna().any():
        return float("nan")
    return float(history.shared_by.max())


def _seed_speeds(history: pd.DataFrame) -> str:
    """Each seed's median training images/s over its epochs after the first (compilation, warm-up), space-separated
    in seed order: one speed a seed, robust to an epoch that other work on the machine slowed down."""
    later = history[history.epoch > 1]
    return " ".join(f"{speed:.2f}" for speed in later.groupby("seed").images_per_s.median())


def _kwargs(model: str, kwargs: dict, num_classes: int, resolution: int) -> dict:
    out = {"num_classes": num_classes, **kwargs}
    if "small_input" in arguments(model) and "small_input" not in kwargs:
        out["small_input"] = resolution < 128
    return out


def plot_curves(history: pd.DataFrame, path: Path, title: str) -> plt.Figure:
    """Train and eval accuracy per epoch for each run label (mean over seeds), saved to ``path``."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
    mean = history.groupby(["label", "epoch"])[["train_acc", "eval_acc"]].mean().reset_index()
    for label, rows in mean.groupby("label", sort=False):
        line, = axes[0].plot(rows.epoch, rows.eval_acc, marker=".", label=label)
        axes[1].plot(rows.epoch, rows.train_acc, marker=".", color=line.get_color(), label=label)
    for ax, name in zip(axes, ("eval (test) accuracy", "train accuracy (augmented)")):
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("top-1")
    axes[0].legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return fig


def main(argv: list[str] | None = None) -> int:
    """``python -m vt.notebooks check|resolve PROFILE``: check a profile; ``resolve`` also prints it as YAML on
    stdout (its parent's values filled in, the check's line going to stderr). Exit status 2 with one line if it
    is bad. ``python -m vt.notebooks landed PROFILE NOTEBOOK`` exits 0 when that study has landed (``landed``),
    1 when not."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 3 and argv[0] == "landed":
        return 0 if landed(argv[1], argv[2]) else 1
    if len(argv) != 2 or argv[0] not in ("check", "resolve"):
        print("usage: python -m vt.notebooks check|resolve PROFILE, or landed PROFILE NOTEBOOK", file=sys.stderr)
        return 2
    try:
        values = load_profile(argv[1])
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    checked = f"profile {argv[1]}: {len(values)} parameters, all known"
    if argv[0] == "resolve":
        print(checked, file=sys.stderr)
        print(yaml.safe_dump(values, sort_keys=False), end="")
    else:
        print(checked)
    return 0


if __name__ == "__main__":
    sys.exit(main())
