"""Where runs land and how they are read back: each finished run's small files (history, config, per-example
predictions) are copied to ``results/<profile>/<notebook>/runs/<label>-seed<seed>/``, so that it outlives its
checkpoint; a run another study landed with the same recipe, model, seed and data is copied, not trained again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from vt import checkpoint
from vt.config import TrainConfig
from vt.data import Dataset
from vt.models import arguments
from vt.notebooks.declaration import results_root
from vt.notebooks.parameters import Parameters, model_kwargs
from vt.run_checkpoint import CHECKPOINT, HISTORY, PREDICTIONS

EVAL_LABELS = "eval_labels.npy"  # beside summary.csv: the eval split's labels, in the order of the runs' predictions


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
    found = landed_as(P.landed_dir(config), config, data) or borrow_run(P, config, data)
    if found is None:
        return None
    history, record = found
    if "landed_from" in record:
        print(f"{Path(config.checkpoint_dir).name}: the same run (recipe, model, seed, data) as "
              f"{record['landed_from']}, copied from there, not trained again")
    return history


def landed_as(folder: Path, config: TrainConfig, data: Dataset, finished: bool = True
               ) -> tuple[pd.DataFrame, dict] | None:
    """The history and ``config.json`` landed in ``folder`` if they are ``config``'s run (``computes``) on ``data``,
    finished (at ``config.epochs``) unless ``finished`` is false, else ``None``."""
    if not (folder / "config.json").exists() or not (folder / HISTORY).exists():
        return None
    record = json.loads((folder / "config.json").read_text())
    if (computes(TrainConfig(**record["config"]), data.num_classes) != computes(config, data.num_classes)
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
        found = None if source.parent.parent == P.out_dir else landed_as(source, config, data)
        if found is None:
            continue
        history, record = found
        record = {**record, "landed_from": record.get("landed_from", source.relative_to(root).as_posix())}
        target = _copy_landed(source, P.landed_dir(config))
        checkpoint.atomic_write(target / "config.json", lambda tmp: tmp.write_text(json.dumps(record, indent=2)))
        return history, record
    return None


def computes(config: TrainConfig, num_classes: int) -> str:
    """What a run computes, as text to compare: its recipe (``TrainConfig.identity``) with the model's keyword
    arguments completed by the builder's defaults, so that two spellings of one model (``{"tokens": 16}`` and
    ``{"tokenizer": "recurrent"}`` for VT-ResNet-20) are one run."""
    built = {**arguments(config.model), **model_kwargs(config.model, config.model_kwargs, num_classes, config.resolution)}
    return json.dumps({**config.identity(), "model_kwargs": built}, sort_keys=True, default=str)


def finished_checkpoint(config: TrainConfig) -> bool:
    """Whether ``config``'s checkpoint folder holds the run trained to its ``epochs``."""
    if not config.checkpoint_dir or not (Path(config.checkpoint_dir) / CHECKPOINT).exists():
        return False
    saved = Path(config.checkpoint_dir) / HISTORY
    return saved.exists() and pd.read_csv(saved).epoch.max() == config.epochs


def keep_histories(P: Parameters, data: Dataset, history: pd.DataFrame) -> None:
    """``histories.csv`` in ``out_dir``, and the eval labels that score the runs' landed predictions."""
    if P.values.get("checkpoint_root"):  # the runs' predictions land in runs/: the labels to score them
        checkpoint.save_array(P.out_dir / EVAL_LABELS, data.eval.labels.numpy().astype(np.int16))
    history.to_csv(P.out_dir / "histories.csv", index=False)
