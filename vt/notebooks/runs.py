"""Running a notebook's arms over its seeds, within its time budget: each run trained, resumed from its checkpoint,
or read back where it landed, then summarized."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
from torch import nn

from vt.config import TrainConfig
from vt.data import Dataset
from vt.errors import ConfigError
from vt.notebooks.landing import computes, finished_checkpoint, keep_histories, land_run, landed_as, landed_run
from vt.notebooks.parameters import Parameters, Run
from vt.notebooks.summary import summarize
from vt.run_checkpoint import CHECKPOINT, HISTORY
from vt.train import fit, train

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
            same = computes(config, data.num_classes)
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
    keep_histories(P, data, history)
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
        if P.values.get("read_only") and not finished_checkpoint(config):
            raise ConfigError(f"read_only: {run.label}, seed {seed} has no finished checkpoint to read its model from "
                              f"({config.checkpoint_dir or 'checkpoint_root is empty'}); run without read_only to train it")
        result = fit(config, data)
        land_run(P, config, data)
        models[seed] = result.model
        histories.append(result.history.assign(label=run.label, model=run.model, seed=seed))
    history = pd.concat(histories, ignore_index=True)
    keep_histories(P, data, history)
    return models, history


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
        stopped = landed_as(P.landed_dir(config), config, data, finished=False)
        return stopped[0] if stopped else None
    history = train(config if left is None else replace(config, time_limit_min=left), data)
    land_run(P, config, data)
    return history
