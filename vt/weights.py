"""Trained weights shipped with the collection, loadable offline by name:
``vt.models.create("resnet20", weights="cifar10")``.

``results/weights/manifest.csv`` lists each file with the run it comes from (``profile``, ``seed``, ``epochs``, the
recipe's ``precision``, ``resolution`` and ``batch_size``), the test accuracy that run recorded, and the file's
SHA-256, checked on every load. ``python -m vt.weights publish <checkpoint folder> --tag cifar10`` adds a finished
run's final weights (the model's state only, float32, about 1 MB for the CIFAR models).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import pandas as pd
import torch
from torch import nn

from vt import checkpoint
from vt.errors import ConfigError, DataError, entry_point
from vt.paths import ROOT

WEIGHTS_DIR = ROOT / "results" / "weights"
MANIFEST_COLUMNS = ["model", "weights", "file", "profile", "notebook", "seed", "epochs", "dataset", "resolution",
                    "precision", "batch_size", "eval_acc", "sha256"]


class WeightsError(DataError):
    """Weights that are not listed, missing, or whose hash differs from the manifest's."""


def manifest(folder: Path = WEIGHTS_DIR) -> pd.DataFrame:
    """The manifest's rows (empty when nothing is published)."""
    path = folder / "manifest.csv"
    return pd.read_csv(path) if path.exists() else pd.DataFrame(columns=MANIFEST_COLUMNS)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def entry(model: str, tag: str, folder: Path = WEIGHTS_DIR, seed: int | None = None) -> pd.Series:
    """The manifest row of ``model``'s ``tag`` weights: of ``seed``, or the lowest seed where several are published.

    Raises:
        WeightsError: when none is listed, naming what is.
    """
    table = manifest(folder)
    rows = table[(table.model == model) & (table.weights == tag)].sort_values("seed")
    if seed is not None:
        rows = rows[rows.seed == seed]
    if rows.empty:
        listed = ", ".join(f"{m} ({w})" for m, w in zip(table.model, table.weights)) or "none"
        which = f"{tag!r} weights of seed {seed}" if seed is not None else f"{tag!r} weights"
        raise WeightsError(f"no {which} for {model!r}; published: {listed}")
    return rows.iloc[0]


def state_dict(model: str, tag: str, folder: Path = WEIGHTS_DIR, seed: int | None = None) -> dict[str, torch.Tensor]:
    """The published state dict of ``model``'s ``tag`` weights (of ``seed``, else the lowest), after checking its
    SHA-256 against the manifest."""
    row = entry(model, tag, folder, seed)
    path = folder / row.file
    if not path.exists():
        raise WeightsError(f"{path} is listed in {folder / 'manifest.csv'} but missing")
    if sha256(path) != row.sha256:
        raise WeightsError(f"{path} does not match its SHA-256 in the manifest (damaged or replaced); restore it")
    return torch.load(path, map_location="cpu", weights_only=True)


def load_into(net: nn.Module, model: str, tag: str, folder: Path = WEIGHTS_DIR, seed: int | None = None) -> nn.Module:
    """``net`` (built as ``model``) with the published weights loaded (of ``seed``, else the lowest); returns it."""
    try:
        net.load_state_dict(state_dict(model, tag, folder, seed))
    except RuntimeError as error:  # built with other arguments (another num_classes, another width)
        raise ConfigError(f"the {tag!r} weights of {model!r} do not fit the model as built: "
                          f"{str(error).splitlines()[0]}") from None
    return net


def publish(run_dir: Path, tag: str, folder: Path = WEIGHTS_DIR) -> pd.Series:
    """Add the final weights of the finished run checkpointed in ``run_dir``
    (``<checkpoint_root>/<profile>/<notebook>/<label>-seed<N>/``) under ``tag``; a row of the same model, tag and
    seed is replaced. Returns the manifest row."""
    state = torch.load(Path(run_dir) / "checkpoint.pt", map_location="cpu", weights_only=False)
    identity, history = state["identity"], state["history"]
    if not history or len(history) < identity["epochs"]:
        raise ConfigError(f"{run_dir} has not finished ({len(history)} of {identity['epochs']} epochs)")
    model, seed = identity["model"], int(identity["seed"])
    folder.mkdir(parents=True, exist_ok=True)
    file = f"{model}-{tag}-seed{seed}.pt"
    weights = {k: v.float() if v.is_floating_point() else v for k, v in state["model"].items()}
    checkpoint.atomic_write(folder / file, lambda tmp: torch.save(weights, tmp))
    parts = Path(run_dir).resolve().parts
    row = {"model": model, "weights": tag, "file": file, "profile": parts[-3], "notebook": parts[-2], "seed": seed,
           "epochs": len(history), "dataset": identity["dataset"], "resolution": identity["resolution"],
           "precision": identity["precision"], "batch_size": identity["batch_size"],
           "eval_acc": float(history[-1]["eval_acc"]), "sha256": sha256(folder / file)}
    table = manifest(folder)
    table = table[~((table.model == model) & (table.weights == tag) & (table.seed == seed))]
    table = pd.concat([table, pd.DataFrame([row])], ignore_index=True).sort_values(["model", "weights", "seed"])
    checkpoint.atomic_write(folder / "manifest.csv", lambda tmp: table.to_csv(tmp, index=False))
    return pd.Series(row)


@entry_point
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m vt.weights", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    pub = sub.add_parser("publish", help="add a finished run's final weights to results/weights/")
    pub.add_argument("run_dir", type=Path, help="the run's checkpoint folder")
    pub.add_argument("--tag", required=True, help="the name to load them by, e.g. cifar10")
    sub.add_parser("list", help="print the manifest")
    args = parser.parse_args(argv)
    if args.command == "publish":
        if not (args.run_dir / "checkpoint.pt").exists():
            raise ConfigError(f"no checkpoint.pt in {args.run_dir}")
        print(publish(args.run_dir, args.tag).to_string())
    else:
        print(manifest().to_string(index=False))


if __name__ == "__main__":
    sys.exit(main())
