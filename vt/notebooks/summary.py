"""A study's runs summarized over seeds (``summary.csv``) and its learning curves."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from vt.data import Dataset
from vt.flops import count
from vt.models import create
from vt.notebooks.parameters import Parameters, Run, model_kwargs

# The columns of ``summary.csv`` a training notebook shows (``finished``: the run reached its planned epochs).
SUMMARY_COLUMNS = ["model", "resolution", "epochs", "finished", "eval_acc", "eval_acc_std", "train_acc", "gap",
                   "images_per_s", "mflops", "mparams"]


# A run whose final train accuracy stays under this many times chance (1 / classes) failed to train: it diverged.
DIVERGED_BELOW_CHANCE = 2.0


def readable(summary: pd.DataFrame, context: tuple[str, ...] = ()) -> pd.DataFrame:
    """The summary as a notebook shows it, one row per run (the ``context`` columns, such as the profile, then
    ``SUMMARY_COLUMNS``, by label), rounded for reading:
    accuracies in percent and their spread and the train − test gap in points, one decimal; images/s whole; MFLOPs
    to one decimal, M params to three. ``summary.csv`` keeps every digit."""
    def show(x: float, form: str) -> str:
        return "—" if pd.isna(x) else form.format(x)

    shown = summary.set_index("label")[[*context, *SUMMARY_COLUMNS]].copy()
    for column in ("eval_acc", "train_acc"):
        shown[column] = shown[column].map(lambda x: show(100 * x, "{:.1f}%"))
    shown["eval_acc_std"] = shown.eval_acc_std.map(lambda x: show(100 * x, "{:.1f} pt"))
    shown["gap"] = shown.gap.map(lambda x: show(100 * x, "{:+.1f} pt"))
    shown["images_per_s"] = shown.images_per_s.map(lambda x: show(x, "{:,.0f}"))
    return shown.assign(mflops=shown.mflops.round(1), mparams=shown.mparams.round(3)).rename(columns={
        "eval_acc": "test top-1", "eval_acc_std": "± over seeds", "train_acc": "train top-1", "gap": "train − test",
        "images_per_s": "images/s", "mflops": "MFLOPs", "mparams": "M params"})


def summarize(history: pd.DataFrame, P: Parameters, data: Dataset, runs: list[Run]) -> pd.DataFrame:
    """One row per run: final accuracies over seeds (mean, sample std), the overfitting gap, speed (median training
    images/s over every epoch, so that one disturbed epoch does not move it, and its 2.5-97.5 percentiles over the
    epochs after the first, which holds compilation and warm-up) and cost; ``eval_size`` and ``run_keys`` (the
    landed runs' folders under ``runs/``) for ``vt.findings``' intervals.

    Where some seeds of a run reached the planned epochs and others a time budget stopped early, the accuracies are
    the finished seeds' alone (an average over unequal budgets measures no recipe); ``stopped_early`` counts the
    others, and ``finished`` stays false until every seed has finished. ``diverged`` counts the seeds whose final
    train accuracy stayed under ``DIVERGED_BELOW_CHANCE`` times chance: they failed to train."""
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
        cost = count(create(run.model, **model_kwargs(run.model, run.kwargs, data.num_classes, resolution)),
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
            "diverged": int((of_run.train_acc < DIVERGED_BELOW_CHANCE / data.num_classes).sum()),
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
