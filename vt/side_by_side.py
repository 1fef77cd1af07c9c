"""Train a notebook's runs side by side on one GPU, inside a time budget: ``python -m vt.side_by_side --help``.

Small models on 32x32 images leave most of a large GPU idle, one at a time; run side by side in separate
processes they share it and finish together in a fraction of the time. This fits time-limited GPU machines
(a Colab runtime, a spot instance): first two epochs of every run, side by side, measure the epoch time; the
number of epochs is then the profile's, or fewer where that would not finish inside the budget; then every run
trains to that many epochs in its own process, checkpointed as the notebook would. Executing the notebook
afterwards with the chosen epochs (``--write-profile``) reads the finished runs back instead of training them.
Runs already landed in the results (``results/<profile>/<notebook>/runs/``) are not trained again: more seeds of a
profile train alone, to the epochs of the landed ones.

The images/s the runs record are measured while they share the GPU (their history's ``shared_by`` column says
with how many): the speed of models is compared with ``vt.bench``, not with these.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import queue as queue_module
import sys
import time
from dataclasses import replace
from pathlib import Path

import yaml

from vt.config import TrainConfig
from vt.errors import ConfigError, entry_point
from vt.notebooks import Parameters, Run, landed_run, load_profile, parameters

# Share of the time left after the probe that the epochs may fill. The probe underestimates the epoch: its runs
# start a few seconds apart, so their second epochs overlap only in part. On an H200, 4 CIFAR-10 runs probed at
# 4.7 s an epoch took up to 7.2 s in training (ViTResNet: 23 of 30 epochs in 165 s), 1.5 times more; 0.85 let
# that run stop short, 0.6 covers it.
SAFETY = 0.6
# The notebooks whose runs can be listed ahead of the notebook: one run per model of ``models``.
NOTEBOOK_RUNS = {"01_baseline": lambda P: [Run(m, m) for m in P.models]}


def configs(notebook: str, values: dict) -> list[TrainConfig]:
    """The training configs ``notebook`` would train with ``values`` (every run, every seed), as it builds them."""
    if notebook not in NOTEBOOK_RUNS:
        raise ConfigError(f"cannot list the runs of {notebook}; known: {', '.join(NOTEBOOK_RUNS)}")
    P: Parameters = parameters(notebook, values, profile_named=True)
    return [P.config(run, seed) for run in NOTEBOOK_RUNS[notebook](P) for seed in P.seeds]


def pending(notebook: str, values: dict) -> tuple[list[TrainConfig], int]:
    """The configs of ``notebook`` not yet landed in its results nor in another study's (``vt.notebooks.landed_run``
    copies those), and how many are."""
    P = parameters(notebook, values, profile_named=True)
    every = configs(notebook, values)
    data = P.load_data()  # decoded once and cached: the runs' processes read the cache
    todo = [c for c in every if landed_run(P, c, data) is None]
    return todo, len(every) - len(todo)


def fewer_seeds(runs: list[TrainConfig], epoch_seconds: float, needed: float, left: float
                ) -> tuple[list[TrainConfig], float]:
    """``runs`` without their highest seeds until the rest fits in ``left`` seconds, taking the epoch time to scale
    with the number of runs sharing the device (``needed``: the seconds all of ``runs`` would take), and the epoch
    time then expected.

    Raises:
        ConfigError: when not even the runs of one seed fit.
    """
    kept = list(runs)
    while needed * len(kept) / len(runs) > left:
        highest = max(c.seed for c in kept)
        if all(c.seed == highest for c in kept):
            raise ConfigError(f"{len(kept)} runs need about {needed * len(kept) / len(runs):.0f} s, {left:.0f} s are "
                              "left: give more time")
        kept = [c for c in kept if c.seed != highest]
    return kept, epoch_seconds * len(kept) / len(runs)


def fitting_epochs(epoch_seconds: float, budget_seconds: float, planned: int, warmup_epochs: float) -> int:
    """The most epochs, at most ``planned``, whose time at ``epoch_seconds`` each stays inside ``budget_seconds``.

    Raises:
        ConfigError: when fewer epochs fit than the warm-up needs (the recipe would be another one).
    """
    fit = min(planned, math.floor(budget_seconds / epoch_seconds))
    if fit <= warmup_epochs:
        raise ConfigError(f"only {fit} epoch(s) of {epoch_seconds:.0f} s fit in {budget_seconds:.0f} s, not more than "
                          f"the {warmup_epochs:g} warm-up epochs: give more time or fewer runs")
    return fit


def _train(index: int, config: TrainConfig, sharing: int, queue) -> None:
    from vt.epoch import SHARED_BY_ENV
    from vt.train import train

    os.environ[SHARED_BY_ENV] = str(sharing)
    # On a CPU the runs split the cores instead of each taking all of them.
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, len(os.sched_getaffinity(0)) // sharing)))
    try:
        history = train(config)
        queue.put((index, history.iloc[-1].to_dict() if len(history) else {}, None))
    except Exception as error:  # reported by the parent, which fails with it
        queue.put((index, {}, f"{type(error).__name__}: {error}"))


def side_by_side(configs: list[TrainConfig]) -> list[tuple[str, dict]]:
    """Train ``configs`` in one process each, all at once; ``(checkpoint_dir, last history row)`` of each.

    Raises:
        RuntimeError: naming every run that failed.
    """
    context = mp.get_context("spawn")  # CUDA cannot be used in forked children
    queue = context.Queue()
    processes = [context.Process(target=_train, args=(i, c, len(configs), queue)) for i, c in enumerate(configs)]
    for process in processes:
        process.start()
    results: dict[int, tuple[dict, str | None]] = {}
    while len(results) < len(processes):
        try:
            index, row, error = queue.get(timeout=5)
            results[index] = (row, error)
        except queue_module.Empty:  # a run killed outright (out of memory, a signal) reports nothing
            for index, process in enumerate(processes):
                if index not in results and not process.is_alive() and process.exitcode != 0:
                    results[index] = ({}, f"process ended with exit code {process.exitcode}")
    for process in processes:
        process.join()
    failed = [f"{configs[i].model} ({configs[i].checkpoint_dir or 'no checkpoint'}): {error}"
              for i, (_, error) in sorted(results.items()) if error]
    if failed:
        raise RuntimeError("; ".join(failed))
    return [(configs[i].checkpoint_dir, results[i][0]) for i in range(len(configs))]


def probe(configs: list[TrainConfig]) -> float:
    """Seconds of the slowest run's second epoch (training and evaluation), all runs side by side, nothing saved.
    The first epoch is left out: it holds the start-up and the convolution algorithms' search."""
    trial = [replace(c, epochs=3, warmup_epochs=0.0, stop_after=2, checkpoint_dir="", time_limit_min=0.0,
                     progress=False) for c in configs]
    return max(row["epoch_time_s"] for _, row in side_by_side(trial))


@entry_point
def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: probe, choose the epochs, train every run, write the profile to execute with; user
    errors end with one line and exit status 2 (``vt.errors.entry_point``)."""
    parser = argparse.ArgumentParser(prog="python -m vt.side_by_side", description=__doc__.splitlines()[0])
    parser.add_argument("notebook", choices=sorted(NOTEBOOK_RUNS), help="the notebook whose runs to train")
    parser.add_argument("--profile", required=True, help="profile name or YAML path (python -m vt.notebooks resolve)")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="override a profile value, as papermill's -p (VALUE read as YAML)")
    parser.add_argument("--minutes", type=float, required=True, help="time budget for the probe and the training")
    parser.add_argument("--write-profile", type=Path, required=True,
                        help="where to write the profile (with the chosen epochs) to execute the notebook with")
    args = parser.parse_args(argv)
    started = time.monotonic()
    values = {**load_profile(args.profile), **{name: yaml.safe_load(value) for name, value in args.parameter}}
    values["progress"] = False
    runs, landed = pending(args.notebook, values)
    planned = parameters(args.notebook, values, profile_named=True).epochs
    if not runs:
        print(f"all {landed} runs have landed in the results: nothing to train", flush=True)
        args.write_profile.write_text(yaml.safe_dump(values, sort_keys=False))
        return 0
    epoch_seconds = probe(runs)
    left = SAFETY * (60 * args.minutes - (time.monotonic() - started))
    if landed:  # the new runs join landed ones: the same epochs, or they would be another recipe
        kept, epoch_seconds = fewer_seeds(runs, epoch_seconds, planned * epoch_seconds, left)
        dropped = {c.seed for c in runs} - {c.seed for c in kept}
        values["seeds"] = [seed for seed in values.get("seeds", [0]) if seed not in dropped]  # for the notebook
        runs, epochs = kept, planned
    else:
        epochs = fitting_epochs(epoch_seconds, left, planned, runs[0].warmup_epochs)
    print(f"{len(runs)} runs side by side ({landed} landed before): an epoch {epoch_seconds:.1f} s, {left:.0f} s left "
          f"-> {epochs} epochs", flush=True)
    values = {**values, "epochs": epochs}
    args.write_profile.write_text(yaml.safe_dump(values, sort_keys=False))
    left_min = (60 * args.minutes - (time.monotonic() - started)) / 60
    runs = [replace(c, epochs=epochs, time_limit_min=left_min) for c in runs]
    for where, row in side_by_side(runs):
        print(f"{Path(where).name}: {int(row.get('epoch', 0))}/{epochs} epochs, eval_acc {row.get('eval_acc', float('nan')):.4f}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
