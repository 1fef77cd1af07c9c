"""A notebook's parameters, checked: names no notebook declares refused, JSON text from ``-p`` turned into lists and
dicts, the recipe checked through ``TrainConfig``, and the output folder ``results/<profile>/<notebook>/``; a run whose
parameters are not its default profile's gets a profile name of its own."""

from __future__ import annotations

import ast
import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from vt.config import TrainConfig
from vt.data import Dataset, load
from vt.errors import ConfigError
from vt.models import TOKENIZERS, arguments, names
from vt.notebooks.declaration import RECIPE, declared, results_root, vocabulary
from vt.notebooks.profiles import planned
from vt.paths import project_path
from vt.train import environment, resolve_device

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


def parameters(notebook: str, namespace: dict, profile_named: bool = False) -> Parameters:
    """Check the parameters of ``notebook`` as they stand in the kernel's ``namespace`` (``globals()``). Unless the
    profile was named (injected by papermill, or ``profile_named`` by a caller that read it from a profile), a run
    on the default profile with other values than its profile's gets a profile name of its own (``_own_profile``).

    Raises:
        ConfigError: for a name no notebook declares, a value of the wrong type, or a bad recipe.
    """
    defaults = declared(notebook)
    given = _injected(namespace)
    injected = given - set(defaults)
    known = vocabulary()
    unknown = sorted(injected - known)
    if unknown:
        raise ConfigError(f"unknown parameter(s) {', '.join(unknown)} for {notebook}; it takes: {', '.join(sorted(defaults))}")
    values = {name: _coerce(name, namespace.get(name, default), default) for name, default in defaults.items()}
    named = "profile" in given or profile_named or values.get("profile") != defaults.get("profile")
    if "profile" in values and not named:
        values["profile"] = _own_profile(notebook, values, defaults)
    checked = Parameters(notebook, values, sorted(injected & known))
    if "profile" in values and named:
        _refuse_overwrite(checked)
    if "dataset" in values:
        checked.config(Run("check", "resnet20"))  # validates every recipe value through TrainConfig
    for name in ("models", "resolution_models", "vt_model", "model"):
        for model in _as_list(values.get(name)):
            if isinstance(model, str):
                arguments(model)  # raises for an unknown model name
    _check_elements(values)
    return checked


# Parameters that change neither what a notebook computes nor what it shows (compile_model: the same numbers, at
# another speed): a run differing from its profile only in these still writes the profile's results.
SAME_RESULTS = ("time_limit_min", "read_only", "progress", "results_dir", "data_dir", "device", "checkpoint_root",
                "compile_model")


def _own_profile(notebook: str, values: dict, defaults: dict) -> str:
    """The profile name a run on the default profile writes its results under: the default's own name if ``values``
    are that profile's, else a name of its own made from what differs (``smoke-epochs-1-resolutions-24-48``), so
    that a rerun with other parameters never writes over the committed results of the profile; said in one line."""
    profile = str(defaults["profile"])
    given = planned(notebook, profile)
    changed = {k: v for k, v in values.items() if k not in SAME_RESULTS and v != given[k]}
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


def _refuse_overwrite(P: Parameters) -> None:
    """Refuse a run on a named profile whose values are neither the profile's nor those its results already hold
    (``parameters.json``): it would write another recipe's numbers over the profile's results. A run with the
    profile's values, or the values its results hold (a re-render, a GPU window's fitted budget), goes on.

    Raises:
        ConfigError: naming what differs and how to name the run's own results.
    """
    recorded = results_root(P.values.get("results_dir", "results")) / str(P.profile) / P.notebook / "parameters.json"
    if not recorded.exists():
        return
    try:
        given = planned(P.notebook, str(P.profile))
    except ConfigError:  # a name of the user's own: its results are the user's
        return
    held = json.loads(recorded.read_text())["parameters"]
    differ = [k for k, v in P.values.items() if k not in SAME_RESULTS and v != given.get(k)]
    if differ and any(P.values[k] != held.get(k, given.get(k)) for k in P.values if k not in SAME_RESULTS):
        raise ConfigError(f"{', '.join(differ)} differ from profile {P.profile}'s and from what results/{P.profile}/"
                          f"{P.notebook}/ holds: name this run's results with -p profile NAME")


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


def model_kwargs(model: str, kwargs: dict, num_classes: int, resolution: int) -> dict:
    out = {"num_classes": num_classes, **kwargs}
    if "small_input" in arguments(model) and "small_input" not in kwargs:
        out["small_input"] = resolution < 128
    return out
