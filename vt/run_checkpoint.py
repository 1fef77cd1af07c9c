"""A run's checkpoint folder (``vt.train``): after each epoch, ``checkpoint.pt`` (model, optimizer, schedule, random
state, history; atomic, the previous one kept), ``history.csv``, ``config.json`` and, for a single process,
``predictions.npy``; and the run found there, resumed only by the run that wrote it (the same identity: recipe,
model arguments, processes and data)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from vt import checkpoint
from vt.config import TrainConfig
from vt.epoch import Parts
from vt.errors import ConfigError
from vt.paths import shown

CHECKPOINT = "checkpoint.pt"
HISTORY = "history.csv"
PREDICTIONS = "predictions.npy"  # the last evaluation's predicted class of every eval image, in the split's order
COLUMNS = ["epoch", "train_loss", "train_acc", "eval_loss", "eval_acc", "eval_top5", "lr", "images_per_s",
           "epoch_time_s", "wall_time_s", "shared_by"]


class RunCheckpoint:
    """The checkpoint folder of one run, ``folder`` (None: the run keeps none), for the run ``identity``."""

    def __init__(self, folder: str, identity: dict, resume: bool) -> None:
        """Raises ConfigError for a folder that already holds a run when ``resume`` is off."""
        self.dir = Path(folder) if folder else None
        self.identity = identity
        if self.dir and ((self.dir / CHECKPOINT).exists() or checkpoint.previous(self.dir / CHECKPOINT).exists()) \
                and not resume:
            raise ConfigError(f"{self.dir} already holds a run; set resume=True to continue it, or choose another "
                              "checkpoint_dir")

    def restore(self, parts: Parts) -> tuple[int, list[dict]]:
        """Load the run found in the folder into ``parts`` and the random state; its epoch and history, or
        ``(0, [])`` where there is none.

        Raises:
            CheckpointMismatchError: for a checkpoint another run wrote.
        """
        if self.dir is None:
            return 0, []
        # A checkpoint from before data fingerprints were kept is taken to be of these data.
        known = {**TrainConfig().identity(), "data": self.identity["data"]}
        state = checkpoint.load_latest(self.dir / CHECKPOINT, self.identity, known)
        if state is None:
            return 0, []
        parts.model.load_state_dict(state["model"])
        parts.optimizer.load_state_dict(state["optimizer"])
        parts.scheduler.load_state_dict(state["scheduler"])
        checkpoint.set_rng_state(state["rng"])
        return state["epoch"], state["history"]

    def save(self, parts: Parts, epoch: int, history: list[dict], predictions: np.ndarray, record: dict) -> None:
        """Write the folder's files after ``epoch`` epochs; ``record`` is ``config.json`` (the config, the model's
        arguments, the machine, the data)."""
        if self.dir is None:
            return
        state = {"identity": self.identity, "epoch": epoch, "model": parts.model.state_dict(),
                 "optimizer": parts.optimizer.state_dict(), "scheduler": parts.scheduler.state_dict(),
                 "rng": checkpoint.rng_state(), "history": history}
        checkpoint.save(self.dir / CHECKPOINT, state)
        frame = pd.DataFrame(history, columns=COLUMNS)
        checkpoint.atomic_write(self.dir / HISTORY, lambda tmp: frame.to_csv(tmp, index=False))
        if parts.world == 1:  # ranks evaluate disjoint shares of the split: only a single process holds them all
            checkpoint.save_array(self.dir / PREDICTIONS, predictions)
        checkpoint.atomic_write(self.dir / "config.json", lambda tmp: tmp.write_text(json.dumps(record, indent=2)))


def config_record(config: TrainConfig, model_kwargs: dict, environment: dict, world: int, data_source: str,
                  data: str) -> dict:
    """What ``config.json`` holds: the config (its checkpoint folder relative to the project), the model's arguments,
    the machine, the processes and the data (where from, and its fingerprint)."""
    return {"config": {**asdict(config), "checkpoint_dir": shown(config.checkpoint_dir)}, "model_kwargs": model_kwargs,
            "environment": environment, "world_size": world, "data_source": data_source, "data": data}
