"""What README says first, generated from ``results/`` so that no measured number is typed: the findings in plain
words (``summary_markdown``) and how long each notebook took (``runtimes_markdown``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pandas as pd

from vt.findings import INCONCLUSIVE, NOT_REPRODUCED, NOT_RUN, REPRODUCED, SMOKE
from vt.findings.base import signed
from vt.notebooks.declaration import results_root
from vt.paths import ROOT
from vt.stats import MIN_SEEDS
from vt.train import machine_name

# Checks of the recipe against a published baseline, not claims of the paper or the report: shown on their own.
BASELINE_CHECKS = ("resnet20_matches_he",)
# The order the summary reads in, and what each group is called there.
GROUPS = [(REPRODUCED, "Reproduced"), (NOT_REPRODUCED, "Not reproduced"), (INCONCLUSIVE, "Not settled"),
          (NOT_RUN, "Not yet run, or no run yet that can decide it"),
          (SMOKE, "Only the synthetic pipeline check so far")]


def _line(row, root: Path) -> str:
    """One claim on one data set, in a sentence: the claim, where and at what scale it was tested, why it got its
    verdict."""
    from vt.report import DATASET_NAMES, evidence_from, family_reading

    claim = row.claim[0].upper() + row.claim[1:]
    if row.verdict == NOT_RUN:
        where = f", on {DATASET_NAMES.get(row.dataset, row.dataset)}" if row.dataset else ""
        return f"- {claim} ({row.source}){where}: {row.evidence.split('. ')[0].rstrip('.')}."
    where = evidence_from(row, root)
    where = where if where == "counted" else f"on {where}"
    why = f", {row.because}" if isinstance(row.because, str) and row.because else ""
    reading = family_reading(row.verdict, getattr(row, "holm_p", float("nan")))
    together = ""
    if reading:
        holds, p = reading
        together = (f"; this verdict {'holds family-wise too' if holds else 'does not hold family-wise'} "
                    f"(Holm over all verdicts, adjusted p {p})")
    return f"- {claim} ({row.source}), {where}{why}{together}."


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def in_short(table: pd.DataFrame) -> str:
    """The summary's first lines: how many claims tested on real data held, failed or are not settled, and the
    paper's central claim (VT-ResNet beats its ResNet) per data set, with its difference."""
    from vt.report import DATASET_NAMES

    real = table[table.verdict.isin([REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE]) & table.profile.ne("")
                 & table.dataset.ne("synthetic") & ~table.key.isin(BASELINE_CHECKS)]
    counts = real.verdict.value_counts()
    twice = int((real.groupby("key").dataset.nunique() > 1).sum())
    on_two = (f"; {_count(twice, 'of them', 'of them')} tested on two data sets, with a verdict for each" if twice
              else "")
    line = (f"**In short**: of {len(real)} verdicts on the claims, from real data or from counts "
            f"({_count(real.key.nunique(), 'claim', 'claims')}{on_two}), {counts.get(REPRODUCED, 0)} reproduced, "
            f"{counts.get(NOT_REPRODUCED, 0)} did not, and {counts.get(INCONCLUSIVE, 0)} are not settled.")
    central = real[real.key == "vt_beats_resnet"]
    if len(central):
        outcome = ("was reproduced" if (central.verdict == REPRODUCED).all() else
                   "was not reproduced" if (central.verdict == NOT_REPRODUCED).all() else "is not settled")
        per_set = ", ".join(f"{DATASET_NAMES.get(r.dataset, r.dataset)} {r.difference:+.1f} pt"
                            for r in central.itertuples())
        line += (f" The paper's central claim, that a VT-ResNet is more accurate than its ResNet at fewer FLOPs, "
                 f"{outcome} at this scale ({per_set}, VT-ResNet minus ResNet; details below).")
    return line


CAMPAIGN = ROOT / "scripts" / "campaign_cpu.sh"
# A study line of the campaign's list: "profile notebook [paired]", then perhaps a comment on what it trains
_STUDY = re.compile(r'^\s+"([\w-]+) (\d\d_\w+)( paired)?"[ \t]*(?:#[ \t]*(.*))?$', re.M)


def planned(results_dir: str | Path = "results", script: Path = CAMPAIGN) -> list[tuple[str, str, str]]:
    """The CPU campaign's studies (``scripts/campaign_cpu.sh``, in its order) that have not landed, as ``(profile,
    notebook, the script's note on it)``, by the script's own tests: a study has landed when
    ``vt.notebooks.landed`` says so; a "paired" retrain when its study landed, every run there has its per-example
    predictions and none waits in ``checkpoints/unpaired/`` to be replaced."""
    from vt.notebooks import landed

    pending = []
    for profile, notebook, paired, note in _STUDY.findall(script.read_text()):
        done = landed(profile, notebook, results_dir)
        if paired:
            runs = list((results_root(results_dir) / profile / notebook).glob("runs/*/"))
            aside = ROOT / "checkpoints" / "unpaired" / profile / notebook
            done = done and bool(runs) and all((r / "predictions.npy").exists() for r in runs) and not aside.exists()
        if not done:
            runs = len(list((results_root(results_dir) / profile / notebook).glob("runs/*/history.csv")))
            note = (note or "").strip() + (f" ({runs} run{'s' * (runs != 1)} landed so far)" if runs and not paired
                                           else "")
            pending.append((profile, notebook, note))
    return pending


def summary_markdown(results_dir: str | Path = "results") -> str:
    """README's opening: every claim of the claims table in one sentence, grouped by verdict, then what was never
    trained (no run on ImageNet or on a segmentation data set)."""
    from vt.report import REAL_DATA, headline, verdicts

    every = verdicts(results_dir)
    table = headline(every)
    root = results_root(results_dir)
    lines = [in_short(table), ""]
    claims, baseline = table[~table.key.isin(BASELINE_CHECKS)], table[table.key.isin(BASELINE_CHECKS)]
    for verdict, title in GROUPS:
        rows = claims[claims.verdict == verdict]
        if len(rows):
            lines += [f"**{title}** ({len(rows)}):", *(_line(r, root) for r in rows.itertuples()), ""]
    if len(baseline):
        lines += ["**The recipe against a published baseline** (a check of this collection's training, not a claim "
                  "of the paper or the report):",
                  *(f"- {r.verdict[0].upper()}{r.verdict[1:]}: {_line(r, root)[2].lower()}{_line(r, root)[3:]}"
                    for r in baseline.itertuples()), ""]
    datasets = set(table.dataset.dropna())
    never = [what for key, what in (
        ("imagenet", "nothing was trained on ImageNet, so none of the paper's ImageNet accuracies (Tables 2-8) "
                     "was retrained; its FLOPs and parameter counts were counted"),
        ("lip", "VT-FPN was not trained on LIP or COCO-stuff (Tables 9-10); its FLOPs were counted"))
        if key not in datasets]
    few = _too_few_seeds(every, table, root)
    if few:
        lines += [f"**Also run, with too few seeds for a verdict** ({len(few)}; the claims above use the runs with "
                  f"{MIN_SEEDS} seeds an arm):", *few, ""]
    waiting = planned(results_dir)
    if waiting:
        lines += [f"**Planned, not landed yet** ({len(waiting)}, the CPU campaign's next studies, in order): "
                  + "; ".join(f"{REAL_DATA.get(p, p)}, `{n}`: {note}" for p, n, note in waiting) + ".", ""]
    if never:
        lines += ["**Never run here**: " + "; ".join(never) + "."]
    return "\n".join(lines).rstrip("\n")


def _too_few_seeds(every: pd.DataFrame, table: pd.DataFrame, root: Path) -> list[str]:
    """A line for each comparison on real data that the claims table passed over for want of seeds (the GPU
    windows' runs of the paper's own models, say): its difference, interval where two seeds give one, and numbers."""
    from vt.report import evidence_from

    rows = every[~every.index.isin(table.index) & every.profile.ne("") & every.profile.ne("smoke")
                 & every.dataset.ne("synthetic") & pd.to_numeric(every.difference, errors="coerce").notna()
                 & (pd.to_numeric(every.seeds, errors="coerce") < MIN_SEEDS)]
    lines = []
    for r in rows.itertuples():
        interval = ("no interval" if pd.isna(r.ci_low) else
                    f"95% interval [{signed(r.ci_low)}, {signed(r.ci_high)}]")
        seeds = int(r.seeds)
        lines.append(f"- {r.claim[0].upper()}{r.claim[1:]} ({r.source}), on {evidence_from(r, root)}, {seeds} "
                     f"seed{'s' * (seeds != 1)} an arm: {signed(r.difference)} {r.unit}, {interval}. {r.evidence}")
    return lines


def duration(seconds: float) -> str:
    """A duration for reading: seconds under 90 s, minutes under 2 h, else hours."""
    if seconds >= 7200:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def training_seconds(folder: Path) -> tuple[int, int, float]:
    """How many runs landed in ``folder/runs/``, how many of them were copied from another study (``landed_from`` in
    their ``config.json``), and the summed wall time of the others (each history's last ``wall_time_s``): a copied
    run's time is its own study's, so that no hour is counted twice."""
    histories = sorted(folder.glob("runs/*/history.csv"))
    copied, total = 0, 0.0
    for path in histories:
        config = path.parent / "config.json"
        if config.exists() and json.loads(config.read_text()).get("landed_from"):
            copied += 1
            continue
        history = pd.read_csv(path)
        if "wall_time_s" in history and len(history):
            total += float(history.wall_time_s.iloc[-1])
    return len(histories), copied, total


def _runs(runs: int, copied: int) -> str:
    """``9`` or ``9 (3 copied)``."""
    return f"{runs} ({copied} copied)" if copied else str(runs)


def machine(record: dict) -> str:
    """Where a notebook's runs trained, as its ``parameters.json`` records it: the machines named in ``trained_on``
    (runs trained elsewhere), else the notebook's own machine when it trained (not ``read_only``)."""
    elsewhere = sorted({machine_name(env) for env in record.get("trained_on", {}).values()})
    if elsewhere:
        return "; ".join(elsewhere)
    if record.get("parameters", {}).get("read_only") or not record.get("environment"):
        return "not recorded"
    return machine_name(record["environment"])


def _recorded(executed: Path, folder: Path) -> tuple[dict, dict]:
    """What papermill recorded of an executed notebook's last execution (its ``papermill`` metadata) and what the
    notebook recorded beside its results (``folder/parameters.json``; empty where there is none)."""
    meta = nbformat.read(executed, as_version=4).metadata.get("papermill", {})
    recorded = folder / "parameters.json"
    return meta, json.loads(recorded.read_text()) if recorded.exists() else {}


def runtimes(results_dir: str | Path = "results") -> pd.DataFrame:
    """Per executed notebook under ``results/<profile>/``: its last execution's duration (papermill's record), the
    runs it trained or read back, their summed training time, and the machine (``parameters.json``)."""
    root = results_root(results_dir)
    rows = []
    for path in sorted(root.glob("*/[0-9][0-9]_*.ipynb")):
        meta, record = _recorded(path, path.parent / path.stem)
        runs, copied, training = training_seconds(path.parent / path.stem)
        rows.append({"profile": path.parent.name, "notebook": path.stem, "executed_s": meta.get("duration"),
                     "runs": runs, "copied": copied, "training_s": training, "machine": machine(record)})
    return pd.DataFrame(rows)


def runtimes_markdown(results_dir: str | Path = "results") -> str:
    """README's runtime table: the smoke profile's notebooks (what ``./run_all.sh`` runs) with their times, their
    sum, and every real study with the training time its runs took."""
    from vt.report import REAL_DATA

    table = runtimes(results_dir)
    if table.empty:
        return "No executed notebook yet: `./run_all.sh` makes them."
    smoke = table[table.profile == "smoke"]
    lines = ["| profile | notebook | runs (copied from another study) | training (its own runs, summed) | "
             "the notebook, last executed | trained on |",
             "|---|---|---:|---:|---:|---|"]
    for r in pd.concat([smoke, table[table.profile != "smoke"]]).itertuples():
        training = duration(r.training_s) if r.runs > r.copied else "—"
        executed = duration(r.executed_s) if pd.notna(r.executed_s) else "—"
        data = REAL_DATA.get(r.profile, r.profile)
        machine = "—" if r.machine == "not recorded" and not r.runs else r.machine
        runs = _runs(r.runs, r.copied) if r.runs else "—"
        lines.append(f"| `{r.profile}` ({data}) | `{r.notebook}` | {runs} | {training} | {executed} | {machine} |")
    if len(smoke):
        total = smoke.executed_s.sum()
        machines = smoke.machine[smoke.machine != "not recorded"]
        lines.append(f"| `smoke`: every notebook | `./run_all.sh` | | | {duration(total)} | "
                     f"{machines.mode().iloc[0] if len(machines) else '—'} |")
    return "\n".join(lines)


RUNTIME_TAG = "runtime"


def runtime_line(executed: Path, folder: Path, here: dict) -> str:
    """The line atop a saved notebook: when and how long ``executed`` ran (papermill's record) and on what machine
    (the environment its ``folder/parameters.json`` records, else ``here``, as ``vt.train.environment`` gives it),
    and how long the runs landed in ``folder/runs/`` trained in all, and where."""
    meta, record = _recorded(executed, folder)
    when = f" on {str(meta['end_time'])[:10]}" if meta.get("end_time") else ""
    took = f" in {duration(meta['duration'])}" if meta.get("duration") is not None else ""
    line = f"*This copy was executed{when}{took} ({machine_name(record.get('environment') or here)})."
    runs, copied, seconds = training_seconds(folder)
    if runs:
        where = machine(record)
        own = runs - copied
        took = f"trained for {duration(seconds)} in all{'' if where == 'not recorded' else f' ({where})'}"
        shows = f"{runs} run{'s' * (runs > 1)} it shows"
        if not copied:
            line += f" The {shows} {took}."
        elif not own:
            line += f" The {shows} {'were' if runs > 1 else 'was'} copied from another study."
        else:
            line += (f" Of the {shows}, {copied} {'were' if copied > 1 else 'was'} copied from another study; its "
                     f"own {own} {took}.")
    return line + "*"
