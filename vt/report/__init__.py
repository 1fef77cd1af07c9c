"""The collection's summary, built only from the result files under ``results/``: verdicts and accuracies.

``results/<profile>/<notebook>/summary.csv`` (training notebooks, ``05_attention`` and ``07_segmentation``) and
``results/<profile>/04_flops/flops.csv`` are read for every profile found. A claim's headline verdict comes from
the first profile in ``PREFERENCE`` that ran it: real data before the synthetic smoke run, which only shows that
the pipeline works. ``python -m vt.report`` prints the README's results section; ``python -m vt.report
--update-docs`` writes it, the plain summary and runtimes (``vt.report.readers``) into README.md and the reference
tables (runs, speed, FLOPs, deviations) into ``docs/``; ``python -m vt.report --html
DIR`` renders every executed notebook into a browsable report (``vt.report.page``, which builds on this module and
never the other way round; the command line is ``vt.report.__main__``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from vt.findings import CHECKS, NOT_REPRODUCED, NOT_RUN, REPRODUCED, Finding, found_runs
from vt.notebooks import command, results_root
from vt.paths import ROOT
from vt.stats import MIN_SEEDS, holm

# Real data first, a longer budget before a shorter one on the same data, the smoke run last.
PREFERENCE = ["tiny-imagenet", "cifar10-long", "cifar10", "cifar10-noclip", "cifar10-cpu-long", "cifar10-cpu",
              "cifar10-cpu-tokenizers", "cifar10-cpu-tokens", "cifar10-cpu-resolution", "tiny-imagenet-cpu-r18",
              "tiny-imagenet-cpu", "tiny-imagenet-cpu-tokenizers", "tiny-imagenet-cpu-tokens",
              "tiny-imagenet-cpu-resolution", "tiny-imagenet-cpu-attention", "paper", "smoke"]
REAL_DATA = {"tiny-imagenet": "Tiny ImageNet", "cifar10-long": "CIFAR-10 (GPU, longer)",
             "cifar10-noclip": "CIFAR-10, ResNet-18 without gradient clipping (GPU)",
             "cifar10": "CIFAR-10 (GPU)", "cifar10-cpu": "CIFAR-10 (2 CPU cores)",
             "cifar10-cpu-tokenizers": "CIFAR-10, VT-ResNet-20 (2 CPU cores)",
             "cifar10-cpu-tokens": "CIFAR-10, VT-ResNet-20 (2 CPU cores)",
             "cifar10-cpu-resolution": "CIFAR-10, ResNet-20 and VT-ResNet-20, 32 vs 64 px (2 CPU cores)",
             "cifar10-cpu-long": "CIFAR-10 (2 CPU cores, longer)",
             "tiny-imagenet-cpu-attention": "Tiny ImageNet, 20 classes, VT-ResNet-20 (2 CPU cores)",
             "tiny-imagenet-cpu": "Tiny ImageNet, 20 classes (2 CPU cores)",
             "tiny-imagenet-cpu-tokenizers": "Tiny ImageNet, 20 classes, VT-ResNet-20 (2 CPU cores)",
             "tiny-imagenet-cpu-tokens": "Tiny ImageNet, 20 classes, VT-ResNet-20 (2 CPU cores)",
             "tiny-imagenet-cpu-r18": "Tiny ImageNet, 20 classes, ResNet-18 and VT-ResNet-18 (2 CPU cores)",
             "tiny-imagenet-cpu-resolution": "Tiny ImageNet, 20 classes, 64 vs 128 px (2 CPU cores)",
             "paper": "paper recipe",
             "lip": "LIP", "smoke": "synthetic smoke run"}
DATASET_NAMES = {"cifar10": "CIFAR-10", "tiny-imagenet": "Tiny ImageNet", "imagenet": "ImageNet", "lip": "LIP",
                 "synthetic": "synthetic"}


# Notebooks whose summary is no table of classification accuracies, and claims judged on counts, not on runs.
NOT_ACCURACY = ("04_flops", "05_attention", "07_segmentation")
COUNTED = ("vt_cheaper", "vt_fpn_fewer_flops")


def _table(folder: Path, notebook: str) -> pd.DataFrame | None:
    path = folder / notebook / ("flops.csv" if notebook == "04_flops" else "summary.csv")
    if not path.exists():
        return None
    table = pd.read_csv(path)
    table.attrs["folder"] = str(path.parent)  # where vt.findings finds the runs' predictions
    return table


def profiles(results_dir: str | Path = "results") -> list[str]:
    """Profiles with results, in order of preference (unknown names last, alphabetically)."""
    root = results_root(results_dir)
    found = sorted(p.name for p in root.iterdir() if p.is_dir() and any(p.glob("*/*.csv"))) if root.exists() else []
    return [p for p in PREFERENCE if p in found] + [p for p in found if p not in PREFERENCE]


def verdicts(results_dir: str | Path = "results") -> pd.DataFrame:
    """Every check on every profile that has its notebook's table, with the data set it ran on (``dataset``; empty for
    a claim judged on counts); ``not yet run`` where none has."""
    root = results_root(results_dir)
    rows = []
    for notebook, checks in CHECKS.items():
        for check in checks:
            found = False
            for profile in profiles(results_dir):
                table = _table(root / profile, notebook)
                if table is None:
                    continue
                finding = check(table)
                if found_runs(finding):
                    found = True
                    dataset = "" if finding.key in COUNTED or "dataset" not in table else str(table.dataset.iloc[0])
                    if finding.key == "vt_slower" and profile != "smoke" and dataset != "synthetic":
                        finding.evidence += _against_flops(root)
                    rows.append({**vars(finding), "notebook": notebook, "profile": profile, "dataset": dataset})
            if not found:
                finding = check(pd.DataFrame(columns=["label", "model", "section", "resolution"]))
                rows.append({**vars(finding), "notebook": notebook, "profile": "", "dataset": ""})
    return pd.DataFrame(rows)


FAMILY_LEVEL = 0.05


def headline(table: pd.DataFrame) -> pd.DataFrame:
    """The claims table: per claim, one row per real data set it was tested on (CIFAR-10 and Tiny ImageNet side by
    side), else one row from the smoke run or *not yet run*. Each row is the most preferred profile's on its data
    set, where a comparison with at least ``vt.stats.MIN_SEEDS`` seeds an arm (one that can decide the claim) comes
    before any with fewer, whatever their profiles' order.

    Two columns read the rows together: ``holm_p``, the p-value of each row's deciding test adjusted over the
    family of tested rows (``vt.stats.holm``), and ``family``, what that says at a family-wise error rate of 5%;
    ``disagrees`` names another data set's different verdict on the same claim."""
    order = {p: i for i, p in enumerate(PREFERENCE)}
    last = order["smoke"]  # a profile not listed is real data: after the listed real ones, before the smoke run
    synthetic = _synthetic(table)  # the smoke run, and any rerun of it with other parameters under a name of its own
    rank = table.profile.map(lambda p: order.get(p, last - 0.5) if p else len(order) + 1).where(~synthetic, last)
    seeded = ~synthetic & (pd.to_numeric(table.seeds, errors="coerce") >= MIN_SEEDS)
    real = ~synthetic & (table.profile != "")
    ranked = table.assign(rank=rank + len(order) * ~seeded, real=real)
    ranked = ranked.sort_values("rank", kind="stable")
    best_real = ranked[ranked.real].groupby(["key", "dataset"], sort=False).head(1)
    rest = ranked[~ranked.key.isin(best_real.key)].groupby("key", sort=False).head(1)
    best = pd.concat([best_real, rest]).sort_index().drop(columns=["rank", "real"])
    p = pd.to_numeric(best.p_value, errors="coerce") if "p_value" in best else pd.Series(float("nan"), index=best.index)
    tested = ~_synthetic(best) & best.profile.ne("") & p.notna()
    adjusted = pd.Series(float("nan"), index=best.index)
    adjusted[tested] = holm(list(p[tested]))
    best = best.assign(holm_p=adjusted)
    best["family"] = [_family(v, a) for v, a in zip(best.verdict, best.holm_p)]
    best["disagrees"] = [_disagreement(best, row) for _, row in best.iterrows()]
    return best


def for_csv(every: pd.DataFrame, claims: pd.DataFrame) -> pd.DataFrame:
    """``results/verdicts.csv``: every check on every profile (``verdicts``) with the claims table's reading beside
    it (``in_claims_table`` marks the rows ``headline`` chose; ``holm_p``, ``family`` theirs), differences and
    intervals in points to 3 decimals and p-values to 3 significant digits."""
    table = every.join(claims[["holm_p", "family"]]).assign(in_claims_table=every.index.isin(claims.index))
    for column in ("difference", "ci_low", "ci_high"):
        table[column] = pd.to_numeric(table[column], errors="coerce").round(3)
    for column in ("p_value", "holm_p"):
        table[column] = pd.to_numeric(table[column], errors="coerce").map(lambda p: float(f"{p:.3g}"))
    return table


def _synthetic(table: pd.DataFrame) -> pd.Series:
    """Rows from synthetic data: the smoke profile's, and those of a smoke rerun saved under a name of its own."""
    return table.profile.eq("smoke") | table.get("dataset", pd.Series("", index=table.index)).eq("synthetic")


def family_reading(verdict: str, adjusted: float) -> tuple[bool, str] | None:
    """Whether a row's verdict still holds after Holm's adjustment (``adjusted``, its p-value adjusted over the
    family), and that p-value as shown; ``None`` for a row with no decided verdict or no test."""
    if pd.isna(adjusted) or verdict not in (REPRODUCED, NOT_REPRODUCED):
        return None
    return adjusted < FAMILY_LEVEL, _p(adjusted)


def _family(verdict: str, adjusted: float) -> str:
    """A row's family-wise reading for the claims table (``family_reading``)."""
    reading = family_reading(verdict, adjusted)
    if reading is None:
        return "—"
    holds, p = reading
    return f"{'holds' if holds else 'does not hold'} (adjusted p {p})"


def _p(value: float) -> str:
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _disagreement(best: pd.DataFrame, row: pd.Series) -> str:
    """``"Tiny ImageNet: not reproduced"`` for each other real data set whose verdict on the same claim differs (runs
    that decided nothing, *not yet run*, differ from none)."""
    if row.verdict == NOT_RUN:
        return ""
    others = best[(best.key == row.key) & (best.dataset != row.dataset) & best.dataset.ne("") & best.verdict.ne(NOT_RUN)
                  & ~_synthetic(best) & best.profile.ne("") & (best.verdict != row.verdict)]
    return "; ".join(f"{DATASET_NAMES.get(o.dataset, o.dataset)}: {o.verdict}" for o in others.itertuples())


def accuracies(results_dir: str | Path = "results") -> pd.DataFrame:
    """Every training run's summary row, with its profile and notebook."""
    root = results_root(results_dir)
    frames = [
        _table(root / profile, notebook).assign(profile=profile, notebook=notebook)
        for profile in profiles(results_dir)
        for notebook in CHECKS
        if notebook not in NOT_ACCURACY and _table(root / profile, notebook) is not None
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def real_accuracies(results_dir: str | Path = "results") -> pd.DataFrame:
    """``accuracies`` of the runs on real data: neither the smoke profile's nor a rerun of it on synthetic data."""
    runs = accuracies(results_dir)
    return runs[(runs.profile != "smoke") & (runs.dataset != "synthetic")] if len(runs) else runs


def markdown(results_dir: str | Path = "results") -> str:
    """The whole results section (``results/report.md``, the HTML report): the verdict per claim
    (``claims_markdown``), then the accuracy of every run on real data and its command (``runs_markdown``)."""
    return claims_markdown(results_dir) + "\n\n" + runs_markdown(results_dir)


def evidence_from(row, root: Path) -> str:
    """Where a claim's row was decided: ``counted`` for a claim on counts, else the data and scale of its profile with
    the epochs its ``parameters.json`` records."""
    if row.key in COUNTED:
        return "counted"
    return REAL_DATA.get(row.profile, row.profile) + _budget(root / row.profile / row.notebook)


def claims_markdown(results_dir: str | Path = "results") -> str:
    """README's claims table: the verdict per claim and data set, why, and at what scale (``headline``)."""
    lines = ["| claim | source | data set | verdict | family-wise (Holm) | difference [95% CI], seeds | evidence from "
             "| why, and the numbers |", "|---|---|---|---|---|---|---|---|"]
    root = results_root(results_dir)
    for row in headline(verdicts(results_dir)).itertuples():
        where = f"{evidence_from(row, root)} (`{row.notebook}`)" if row.profile else "—"
        statistic = Finding(**{f: getattr(row, f) for f in Finding.__dataclass_fields__}).statistic() or "—"
        verdict = row.verdict + (f" (differs on {row.disagrees})" if row.disagrees else "")
        dataset = DATASET_NAMES.get(row.dataset, row.dataset) or "—"
        why = getattr(row, "because", "")
        why = f"{why[0].upper()}{why[1:]}. " if isinstance(why, str) and why else ""
        lines.append(f"| {row.claim} | {row.source} | {dataset} | {verdict} | {row.family} | {statistic} | {where} | "
                     f"{why}{row.evidence} |")
    return "\n".join(lines)


def runs_markdown(results_dir: str | Path = "results") -> str:
    """Every run on real data with its budget and accuracy, then the command that produced each notebook's rows."""
    root = results_root(results_dir)
    lines = []
    real = real_accuracies(results_dir)
    lines += ["| data (profile) | notebook | run | epochs | test top-1 | train − test | MFLOPs | M params | images/s |",
              "|---|---|---|---|---|---|---|---|---|"]
    if len(real) == 0:
        lines.append("| no real-data run yet | | | | | | | | |")
    for r in real.itertuples():
        spread = f" ± {100 * r.eval_acc_std:.1f}" if r.seeds > 1 else ""
        stopped = getattr(r, "stopped_early", 0)
        if stopped > 0 and r.epochs == r.planned_epochs:  # the finished seeds' accuracy; the others left out
            spread += f" ({stopped:.0f} more seed{'s' * (stopped > 1)} stopped early, left out)"
        lines.append(f"| {REAL_DATA.get(r.profile, r.profile)} | `{r.notebook}` | {r.label} | {r.epochs} | "
                     f"{100 * r.eval_acc:.2f}%{spread} | {100 * r.gap:+.1f} pt | {r.mflops:.1f} | {r.mparams:.3f} | "
                     f"{_speed(r)} |")
    if len(real):
        lines += ["", "| data (profile) | notebook | the command that produced these rows |", "|---|---|---|"]
        for (profile, notebook), _ in real.groupby(["profile", "notebook"], sort=False):
            recorded = root / profile / notebook / "parameters.json"
            shown = f"`{command(recorded)}`" if recorded.exists() else "no parameters.json"
            lines.append(f"| {REAL_DATA.get(profile, profile)} | `{notebook}` | {shown.replace('|', chr(92) + '|')} |")
    return "\n".join(lines)


def _budget(folder: Path) -> str:
    """``", N epochs"`` as ``folder/parameters.json`` records the training budget; empty where it records none."""
    recorded = folder / "parameters.json"
    values = json.loads(recorded.read_text())["parameters"] if recorded.exists() else {}
    epochs = values.get("epochs", values.get("seg_epochs"))  # 07_segmentation's recipe has its own names
    return f", {epochs} epoch{'s' * (epochs != 1)}" if epochs else ""


def _speed(row) -> str:
    shared = getattr(row, "shared_by", 1)
    return f"{row.images_per_s:.0f}" if pd.isna(shared) or shared <= 1 else f"({row.images_per_s:.0f}, {shared:.0f} runs sharing)"


# The CPU measurements README shows: python -m vt.bench ... --compile-model --out results/bench/<CPU_BENCH>, and
# python -m vt.profile --out results/bench/<CPU_PROFILE> (both commands are in README beside the tables).
CPU_BENCH = "cpu-compiled-*.csv"
CPU_PROFILE = "profile-cpu-32.csv"
# ... and on a GPU: bash scripts/gpu_speed.sh (python -m vt.profile --out results/bench/profile-<gpu>-224.csv).
GPU_PROFILES = "profile-*-224.csv"


def _against_flops(root: Path) -> str:
    """For the speed claim: each VT model's training efficiency against its ResNet on the CPU bench (compiled, at
    its lowest resolution, with the lowest and highest round) and how much of the profiled step the code's own
    layout changes and casts take (``vt.profile``); empty without those files."""
    from vt.bench import compare
    from vt.profile import against_resnets, ceiling

    paths = sorted((root / "bench").glob(CPU_BENCH))
    if not paths:
        return ""
    bench = pd.concat([pd.read_csv(path) for path in paths], ignore_index=True)
    bench = bench[(bench.device == "cpu") & bench.compiled]
    pairs = compare(bench)
    pairs = pairs[pairs["mode"] == "train"].sort_values("resolution").groupby("model", sort=False).head(1)
    if pairs.empty:
        return ""
    rates = ", ".join(f"{r.model} {r.efficiency:.2f} [{r.efficiency_min:.2f}, {r.efficiency_max:.2f}] at "
                      f"{r.resolution} px" for r in pairs.itertuples())
    cores = f"{int(bench.cpus.iloc[0])} CPU cores" if "cpus" in bench.columns else "CPU"
    text = (f" Against their FLOPs (`vt.bench`, {cores}, {bench.precision.iloc[0]}, "
            f"compiled), the VT-ResNets train at this share of the speed the FLOPs promise: {rates}.")
    profiled = root / "bench" / CPU_PROFILE
    if profiled.exists():
        kinds = pd.read_csv(profiled).query("table == 'by_operator' and compiled")
        for model, _, rows, base in against_resnets(kinds):
            c = ceiling(rows, base)
            text += (f" The profile (`vt.profile`) finds {model} at {c['profiled']:.2f}, {100 * c['code_share']:.1f}% "
                     f"of its step in the code's own layout changes and casts, and the rest of the shortfall in work "
                     f"the method prescribes, which FLOPs do not count or which runs below the convolutions' rate "
                     f"(`docs/speed.md`).")
    return text


def speed_markdown(results_dir: str | Path = "results", pattern: str = "*-224.csv", device: str = "cuda") -> str:
    """VT models against their ResNets in images/s, one row per (pair, resolution, mode), from every
    ``results/bench/<pattern>`` written by ``python -m vt.bench`` (rows measured on ``device``): the measured speed
    ratio beside the FLOPs ratio the paper's efficiency claim predicts (Tables 2, 8), and their quotient
    (``vt.bench.compare``). The defaults give README's GPU table at 224x224."""
    from vt.bench import compare

    lines = ["| device | setting | VT model | resolution | mode | images/s (ResNet → VT) | speed ratio | FLOPs ratio | "
             "efficiency |", "|---|---|---|---|---|---|---|---|---|"]
    for path in sorted((results_root(results_dir) / "bench").glob(pattern)):
        table = pd.read_csv(path)
        table = table[table.device == device]
        for (compiled, precision), group in table.groupby(["compiled", "precision"]):
            speed = group.set_index(["model", "mode", "resolution"]).images_per_s
            setting = f"{precision}, {'compiled' if compiled else 'eager'}, batch {group.batch_size.iloc[0]}"
            for r in compare(group).itertuples():
                spread = (f" [{r.efficiency_min:.2f}, {r.efficiency_max:.2f}]"
                          if pd.notna(getattr(r, "efficiency_min", float("nan"))) else "")
                lines.append(f"| {group.device_name.iloc[0]} | {setting} | {r.model} | {r.resolution} | {r.mode} | "
                             f"{speed[(r.baseline, r.mode, r.resolution)]:,.0f} → "
                             f"{speed[(r.model, r.mode, r.resolution)]:,.0f} | "
                             f"{r.speed_ratio:.2f} | {r.flops_ratio:.2f} | {r.efficiency:.2f}{spread} |")
    if len(lines) == 2:
        lines.append(f"| no {device} benchmark yet | | | | | | | | |")
    return "\n".join(lines)


def gpu_profiles_markdown(root: Path) -> str:
    """README's GPU profile tables (``vt.profile.markdown``), one per ``results/bench/<GPU_PROFILES>`` measured on a
    GPU; a line that says how to make one where there is none."""
    from vt.profile import markdown as profile_markdown

    paths = [p for p in sorted((root / "bench").glob(GPU_PROFILES)) if not p.name.startswith("profile-cpu")]
    return "\n\n".join(profile_markdown(p) for p in paths) or (
        "No GPU profile yet: `bash scripts/gpu_speed.sh` on a GPU machine writes one.")


# Where each generated block lives: README holds what a newcomer reads first, docs/ the method and reference tables.
DOCUMENTS = {"summary": "README.md", "runtimes": "README.md", "results-table": "README.md",
             "runs-table": "docs/results.md", "speed-table": "docs/speed.md", "cpu-speed-table": "docs/speed.md",
             "profile-table": "docs/speed.md", "gpu-profile-table": "docs/speed.md", "flops-table": "docs/flops.md",
             "deviations-table": "docs/deviations.md"}


def blocks(results_dir: str | Path = ROOT / "results") -> dict[str, str]:
    """Every generated block of README and docs/, by name (``DOCUMENTS`` says where each goes), from the result
    files."""
    from vt import deviations
    from vt.flops import summary_markdown as flops_markdown
    from vt.profile import markdown as profile_markdown
    from vt.report.readers import runtimes_markdown, summary_markdown

    root = results_root(results_dir)
    flops = root / "smoke" / "04_flops"
    return {"summary": summary_markdown(results_dir), "runtimes": runtimes_markdown(results_dir),
            "results-table": claims_markdown(results_dir), "runs-table": runs_markdown(results_dir),
            "speed-table": speed_markdown(results_dir),
            "flops-table": flops_markdown(str(flops / "flops.csv")),
            "deviations-table": deviations.markdown(deviations.read(flops / "deviations.csv")),
            "cpu-speed-table": speed_markdown(results_dir, CPU_BENCH, "cpu"),
            "profile-table": profile_markdown(root / "bench" / CPU_PROFILE),
            "gpu-profile-table": gpu_profiles_markdown(root)}


def update_docs(root: Path = ROOT, results_dir: str | Path = ROOT / "results") -> None:
    """Rewrite the generated blocks (between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``) of README.md and
    the documents under ``docs/`` from the result files, and draw the one-figure summary ``<root>/results/overview.png``
    (``vt.report.overview``) from them."""
    from vt.report import overview

    def pattern(name: str) -> re.Pattern:
        return re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)

    texts = {document: (root / document).read_text() for document in sorted(set(DOCUMENTS.values()))}
    for name, document in DOCUMENTS.items():  # every marker in place before anything is generated or written
        if not pattern(name).search(texts[document]):
            raise ValueError(f"{root / document} lacks the {name} markers")
    generated = blocks(results_dir)
    for document, text in texts.items():
        path = root / document
        for name in (n for n, d in DOCUMENTS.items() if d == document):
            text = pattern(name).sub(lambda m: m.group(1) + generated[name].rstrip("\n") + "\n" + m.group(2), text)
        path.write_text(text)
    overview.write(root / "results" / overview.OVERVIEW, results_dir)
