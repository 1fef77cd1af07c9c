"""Claims of the paper and findings of the earlier report, each checked against our result tables.

Each check takes the ``summary.csv`` table of the notebook that tests it (one row per run: ``label``, ``model``,
``eval_acc`` (mean over seeds), ``eval_acc_std`` (sample std over seeds), ``seeds``, ``eval_size``, ``run_keys``,
``images_per_s`` and its per-seed medians, ``mflops``, ``dataset``, ...) and returns a ``Finding``: the claim, its source, the
difference between the compared arms in points with its 95% interval (``vt.stats``: spread over seeds plus test-set
sampling, paired over the same test images where the runs' predictions were kept), the fewer seeds of the arms,
and a verdict:

- **reproduced** / **not reproduced**: real data, at least ``vt.stats.MIN_SEEDS`` seeds in every compared arm, and
  an interval that excludes the other outcome;
- **inconclusive**: real data, but too few seeds or an interval that does not separate the outcomes;
- **pipeline ran (synthetic data)**: the smoke run, which shows that the code runs, never whether a claim holds;
- **not yet run**: no finished run of the arms.

Deterministic claims (FLOPs, parameters) are judged on their counts. The table's folder (``summary.attrs["folder"]``,
set by the notebook and the report) gives the per-example predictions under ``runs/`` and ``eval_labels.npy``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from vt import stats
from vt.reference import HE_2016_RESNET20

REPRODUCED, NOT_REPRODUCED, NOT_RUN = stats.REPRODUCED, stats.NOT_REPRODUCED, "not yet run"
INCONCLUSIVE, SMOKE = stats.INCONCLUSIVE, "pipeline ran (synthetic data)"
# "About the same": the whole interval within this many points (accuracy, 0-1) of zero.
LEVEL_TOLERANCE = 0.01
# A baseline "reaches" a published number when the interval lies above it less this much (a one-run published
# number carries about a third of a point of test-set noise alone).
REACH_TOLERANCE = 0.01


@dataclass
class Finding:
    """A checked claim. ``difference``, ``ci_low`` and ``ci_high`` are in ``unit``: points of accuracy, or percent
    of speed for the speed claim (None where the claim is no comparison); ``seeds`` is the fewer seeds of the
    compared arms; ``p_value`` is that of the test that decided the verdict (``vt.stats.decision_p``; over several
    comparisons that must all hold, the weakest), None for a claim judged on counts or with no interval."""

    key: str
    source: str
    claim: str
    verdict: str
    evidence: str
    seeds: int | None = None
    difference: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    unit: str = "pt"
    p_value: float | None = None

    def statistic(self) -> str:
        """``+1.2 pt [+0.4, +2.0], 3 seeds`` (``-42.0 % [...]`` for speed), or empty."""
        if self.difference is None or pd.isna(self.difference):
            return ""
        seeds = int(self.seeds)
        interval = ("no interval" if pd.isna(self.ci_low) or pd.isna(self.ci_high)
                    else f"[{self.ci_low:+.1f}, {self.ci_high:+.1f}]")
        return f"{self.difference:+.1f} {self.unit} {interval}, {seeds} seed{'s' if seeds != 1 else ''}"

    def markdown(self) -> str:
        """One paragraph for a notebook's finding cell: what the report prints for this claim."""
        statistic = f" ({self.statistic()})" if self.statistic() else ""
        return f"**{self.claim}** ({self.source}) — **{self.verdict}**{statistic}. {self.evidence}"


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _row(summary: pd.DataFrame, label: str) -> pd.Series | None:
    rows = summary[summary.label == label]
    return None if rows.empty else rows.iloc[0]


MISSING = "No finished run of "


def _missing(key: str, source: str, claim: str, what: str) -> Finding:
    return Finding(key, source, claim, NOT_RUN, f"{MISSING}{what} in this table.")


def found_runs(finding: Finding) -> bool:
    """Whether the check found the runs it needs in its table: every verdict but *not yet run* for want of them
    (a check may find runs and still decide nothing, as the speed claim for runs that shared a device)."""
    return not (finding.verdict == NOT_RUN and finding.evidence.startswith(MISSING))


def _synthetic(summary: pd.DataFrame) -> bool:
    return "dataset" in summary.columns and (summary.dataset == "synthetic").any()


def _arm(summary: pd.DataFrame, row: pd.Series) -> stats.Arm:
    """A table row as a ``vt.stats.Arm``: per-seed accuracies are not in the table, so the arm carries the mean and
    sample std over its seeds; per-example correctness where every seed's predictions were kept."""
    seeds = int(row.get("seeds", 1) or 1)
    std = row.get("eval_acc_std", 0.0)
    std = 0.0 if pd.isna(std) else float(std)
    correct = None
    folder = summary.attrs.get("folder")
    keys = row.get("run_keys")
    if folder and isinstance(keys, str) and (Path(folder) / "eval_labels.npy").exists():
        correct = stats.correctness(Path(folder) / "runs", json.loads(keys), np.load(Path(folder) / "eval_labels.npy"))
    size = row.get("eval_size")
    return stats.Arm(float(row.eval_acc), std, seeds, None if size is None or pd.isna(size) else int(size), correct)


def _all_hold(summary: pd.DataFrame, verdicts: list[str]) -> str:
    """A claim that needs every comparison: reproduced when all are, not reproduced when any is not, inconclusive
    otherwise; the smoke verdict on synthetic data."""
    if _synthetic(summary):
        return SMOKE
    return (NOT_REPRODUCED if NOT_REPRODUCED in verdicts else
            REPRODUCED if all(v == REPRODUCED for v in verdicts) else INCONCLUSIVE)


def _judge(summary: pd.DataFrame, pairs: list[tuple[pd.Series, pd.Series]], decide,
           boundaries: tuple[float, ...] = (0.0,)) -> tuple[str, stats.Difference, float]:
    """Compare each ``(a, b)`` pair; the verdict is the claim's over all pairs (every pair must hold; any pair
    that fails it fails the claim), the difference reported is the closest pair's (smallest ``a - b``), and the
    p-value is the claim's (``_claim_p``) against the verdict rule's ``boundaries``."""
    differences = [stats.compare(_arm(summary, a), _arm(summary, b)) for a, b in pairs]
    decided = [(decide(d), stats.decision_p(d, boundaries)) for d in differences]
    verdict = _all_hold(summary, [v for v, _ in decided])
    closest = min(differences, key=lambda d: d.difference)
    closest.seeds = min(d.seeds for d in differences)
    return verdict, closest, _claim_p(verdict, decided)


def _claim_p(verdict: str, decided: list[tuple[str, float]]) -> float:
    """The p-value of a claim made of comparisons that must all hold, each ``(verdict, p)``: reproduced needs every
    one, so the largest p; not reproduced needs one failing, so the smallest p among those that failed; an
    inconclusive claim keeps the largest (at least 0.05: it counts in a family's size, ``vt.stats.holm``, without
    being decided); nan on synthetic data or where no comparison had an interval."""
    if verdict == SMOKE or all(np.isnan(p) for _, p in decided):
        return float("nan")
    if verdict == NOT_REPRODUCED:
        return min(p for v, p in decided if v == NOT_REPRODUCED)
    return max(p for _, p in decided)


def _compared(key: str, source: str, claim: str, verdict: str, d: stats.Difference, evidence: str,
              p_value: float = float("nan")) -> Finding:
    return Finding(key, source, claim, verdict, evidence, d.seeds, 100 * d.difference, 100 * d.low, 100 * d.high,
                   p_value=p_value)


def vit_beats_resnets(summary: pd.DataFrame) -> Finding:
    """Report, experiment 1: the ViTResNet beats every ResNet on test (and ResNet-18 is better on train)."""
    key, source = "vit_beats_resnets", "earlier report, exp. 1"
    claim = "ViTResNet is more accurate on test than every ResNet trained beside it"
    vit = _row(summary, "vit_resnet_cifar")
    resnets = summary[summary.model.str.match(r"^resnet\d+$")]
    if vit is None or resnets.empty:
        return _missing(key, source, claim, "vit_resnet_cifar and a ResNet")
    verdict, d, p = _judge(summary, [(vit, r) for _, r in resnets.iterrows()], stats.verdict_better)
    numbers = ", ".join(f"{r.label} {_pct(r.eval_acc)} (gap {_pct(r.gap)})" for _, r in resnets.iterrows())
    return _compared(key, source, claim, verdict, d,
                     f"ViTResNet {_pct(vit.eval_acc)} test (train/test gap {_pct(vit.gap)}); {numbers}; "
                     "the difference is against the closest ResNet.", p)


def vt_beats_resnet(summary: pd.DataFrame) -> Finding:
    """Paper, Tables 2 and 8: VT-ResNet is more accurate than its ResNet with fewer FLOPs (the FLOPs are counts;
    a VT model that is not cheaper fails the claim whatever its accuracy)."""
    key, source = "vt_beats_resnet", "paper, Tables 2, 8"
    claim = "VT-ResNet is more accurate than its ResNet at fewer FLOPs"
    pairs = [(_row(summary, f"vt_{m}"), _row(summary, m)) for m in summary.label if f"vt_{m}" in set(summary.label)]
    if not pairs:
        return _missing(key, source, claim, "a VT-ResNet beside its ResNet")
    verdict, d, p = _judge(summary, pairs, stats.verdict_better)
    if any(vt.mflops >= ref.mflops for vt, ref in pairs) and verdict != SMOKE:
        verdict, p = NOT_REPRODUCED, 0.0  # decided by the FLOPs counts, which carry no sampling error
    evidence = "; ".join(f"{vt.label} {_pct(vt.eval_acc)} at {vt.mflops:.1f} MFLOPs vs {ref.label} {_pct(ref.eval_acc)} "
                         f"at {ref.mflops:.1f}" for vt, ref in pairs)
    return _compared(key, source, claim, verdict, d, evidence + ".", p)


def vt_slower(summary: pd.DataFrame) -> Finding:
    """Report, conclusion: the visual transformers train slower than the ResNets.

    Only runs known to have had the device to themselves count (``shared_by`` 1 in every epoch; unknown for
    histories from before it was recorded). Each seed's run gives one speed, its median training images/s over the
    epochs after the first (compilation, warm-up), which an epoch slowed by other work on the machine does not move; seeds are the replicates, as for
    accuracy. For each VT model and ResNet the ratio of their mean log speeds gets a 95% Welch interval over seeds
    (``vt.stats.speed_ratio``). Reproduced when every VT model's interval lies below 1, not reproduced when some
    VT model's lies wholly above 1; the statistic shown is the pair closest to failing, as a change in percent.
    """
    key, source = "vt_slower", "earlier report, conclusion"
    claim = "VT models train slower (images/s) than ResNets"
    vts = summary[summary.model.str.startswith(("vt_", "vit_"))]
    resnets = summary[summary.model.str.match(r"^resnet\d+$")]
    if vts.empty or resnets.empty:
        return _missing(key, source, claim, "a VT model and a ResNet")
    evidence = ", ".join(f"{r.label} {r.images_per_s:.0f}" for _, r in summary.iterrows())
    shared = pd.to_numeric(summary["shared_by"], errors="coerce") if "shared_by" in summary else None
    if shared is None or shared.isna().any():
        return Finding(key, source, claim, NOT_RUN, f"Whether these runs had the device to themselves is not recorded "
                       f"for every epoch, so their images/s ({evidence}) decide nothing: see `python -m vt.bench`.")
    if shared.max() > 1:
        return Finding(key, source, claim, NOT_RUN, f"These runs trained {shared.max():.0f} at a time on one device, so "
                       f"their images/s ({evidence}) are not the models' own speeds: see `python -m vt.bench`.")
    speeds = {r.label: _seed_speeds(r) for _, r in summary.iterrows()}
    if not all(speeds.values()):
        return Finding(key, source, claim, SMOKE if _synthetic(summary) else INCONCLUSIVE,
                       f"Training images/s (median over epochs): {evidence}; no per-seed speeds recorded.")
    ratios = [(v, r, stats.speed_ratio(speeds[v.label], speeds[r.label])) for _, v in vts.iterrows()
              for _, r in resnets.iterrows()]
    decided = [(stats.verdict_lower(d), stats.decision_p(d, (0.0,))) for _, _, d in ratios]
    verdict = _all_hold(summary, [v for v, _ in decided])
    closest = max((d for _, _, d in ratios), key=lambda d: d.difference)
    per_seed = "; ".join(f"{label} {' '.join(f'{s:.0f}' for s in values)}" for label, values in speeds.items())
    pairs = ", ".join(f"{v.label} / {r.label} {_ratio(d)}" for v, r, d in ratios)
    return Finding(key, source, claim, verdict, f"Speed ratio, mean over seeds [95% CI]: {pairs}. Each seed's "
                   f"median training images/s: {per_seed}.", closest.seeds, *_percent_change(closest), unit="%",
                   p_value=_claim_p(verdict, decided))


def _seed_speeds(row: pd.Series) -> list[float]:
    """The row's per-seed median images/s (``images_per_s_seeds``, space-separated; a number where the CSV had one
    seed), empty where not recorded."""
    value = row.get("images_per_s_seeds")
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return []
    return [float(x) for x in str(value).split()]


def _ratio(d: stats.Difference) -> str:
    """``0.58x [0.50, 0.67]`` from a difference of log speeds."""
    interval = "" if np.isnan(d.low) else f" [{np.exp(d.low):.2f}, {np.exp(d.high):.2f}]"
    return f"{np.exp(d.difference):.2f}x{interval}"


def _percent_change(d: stats.Difference) -> tuple[float, float, float]:
    """A difference of log speeds as the change in speed, in percent, with its interval."""
    return tuple(100 * (float(np.exp(x)) - 1) for x in (d.difference, d.low, d.high))


def resnet20_matches_he(summary: pd.DataFrame) -> Finding:
    """He et al. 2016, Table 6: the CIFAR ResNet-20 our VT models are measured against reaches 91.25% top-1.

    Our mean over seeds against their single number: reproduced when the whole interval lies above theirs less
    ``REACH_TOLERANCE``, not reproduced when it lies wholly below that; the evidence gives both budgets.
    """
    key, source = "resnet20_matches_he", "He et al. 2016, Table 6"
    claim = f"the CIFAR ResNet-20 baseline reaches He et al.'s {HE_2016_RESNET20['top1']}% test accuracy"
    ours = _row(summary, "resnet20")
    if ours is None:
        return _missing(key, source, claim, "resnet20")
    theirs = HE_2016_RESNET20["top1"] / 100
    d = stats.against(_arm(summary, ours), theirs)
    verdict = (SMOKE if _synthetic(summary) else INCONCLUSIVE if d.seeds < stats.MIN_SEEDS else
               REPRODUCED if d.low > -REACH_TOLERANCE else NOT_REPRODUCED if d.high < -REACH_TOLERANCE else INCONCLUSIVE)
    p = _claim_p(verdict, [(verdict, stats.decision_p(d, (-REACH_TOLERANCE,)))])
    return _compared(key, source, claim, verdict, d,
                     f"resnet20 {_pct(ours.eval_acc)} after {ours.epochs:.0f} epochs vs He et al.'s "
                     f"{HE_2016_RESNET20['top1']}% after {HE_2016_RESNET20['iterations'] // 1000}k iterations at batch "
                     f"{HE_2016_RESNET20['batch_size']} ({100 * (ours.eval_acc - theirs):+.1f} pt).", p)


def _one_beats_other(summary: pd.DataFrame, key: str, source: str, claim: str, winner: str, loser: str,
                     paper: str) -> Finding:
    a, b = _row(summary, winner), _row(summary, loser)
    if a is None or b is None:
        return _missing(key, source, claim, f"both {winner} and {loser}")
    verdict, d, p = _judge(summary, [(a, b)], stats.verdict_better)
    return _compared(key, source, claim, verdict, d, f"{winner} {_pct(a.eval_acc)} vs {loser} {_pct(b.eval_acc)} ({paper}).",
                     p)


def filter_beats_pooling(summary: pd.DataFrame) -> Finding:
    """Report, exp. 2, and paper, Table 3: the filter-based tokenizer beats pooling.

    Table 3's "filter" row (72.0%, 1579 MFLOPs) is the paper's default VT-R18, a filter-based tokenizer in the first
    VT module and recurrent ones after it (the same row as Table 4's "with"), so it is compared with the run
    ``recurrent``; its pooling row (70.6%, 1550 MFLOPs, 11.0 M parameters, fewer than any filter variant) is read as
    pooling in every module, the run ``pooling``. The filter-everywhere run (``filter``) stays in the table.
    """
    return _one_beats_other(summary, "filter_beats_pooling", "earlier report, exp. 2; paper, Table 3",
                            "the filter-based tokenizer (then recurrent, the paper's default) is more accurate than "
                            "pooling", "recurrent", "pooling", "paper, VT-R18: 72.0 vs 70.6")


def recurrent_beats_filter(summary: pd.DataFrame) -> Finding:
    """Paper, Table 4: filter then recurrent tokenizers beat filter-based tokenizers everywhere (the report ran
    30 epochs)."""
    return _one_beats_other(summary, "recurrent_beats_filter", "paper, Table 4; report left it at 30 epochs",
                            "the recurrent tokenizer is more accurate than filter-based ones alone", "recurrent",
                            "filter", "paper, VT-R18: 72.0 with, 71.4 without")


def upscaling_helps(summary: pd.DataFrame) -> Finding:
    """Report, exp. 2: at the native low resolution accuracy is much lower than upscaled; ResNet-18 overfits."""
    key, source = "upscaling_helps", "earlier report, exp. 2"
    claim = "the native low resolution is much worse than upscaled images, and the ResNet overfits there"
    res = summary[summary.label.str.contains("@")]
    if res.resolution.nunique() < 2:
        return _missing(key, source, claim, "two resolutions")
    low, high = res.resolution.min(), res.resolution.max()
    parts, pairs = [], []
    for model, rows in res.groupby("model", sort=False):
        lo, hi = rows[rows.resolution == low], rows[rows.resolution == high]
        if lo.empty or hi.empty:
            continue
        lo, hi = lo.iloc[0], hi.iloc[0]
        pairs.append((hi, lo))
        parts.append(f"{model}: {_pct(lo.eval_acc)} at {low} vs {_pct(hi.eval_acc)} at {high} "
                     f"(train/test gap {_pct(lo.gap)} vs {_pct(hi.gap)})")
    verdict, d, p = _judge(summary, pairs, stats.verdict_better)
    resnet = res[res.model.str.match(r"^resnet\d+$")]
    overfits = len(resnet) and (resnet[resnet.resolution == low].gap.max() > resnet[resnet.resolution == high].gap.max())
    if verdict == REPRODUCED and not overfits:
        verdict, p = NOT_REPRODUCED, float("nan")  # decided by the gaps, which get no test here
    return _compared(key, source, claim, verdict, d, "; ".join(parts) + ".", p)


def tokens_level(summary: pd.DataFrame) -> Finding:
    """Report, exp. 2, and paper, Table 6: 32 tokens are no better than 16 (level within ``LEVEL_TOLERANCE``)."""
    key, source = "tokens_level", "earlier report, exp. 2; paper, Table 6"
    claim = f"16 and 32 tokens give about the same accuracy (within {100 * LEVEL_TOLERANCE:.0f} point)"
    rows = summary[summary.label.str.startswith("tokens=")].sort_values("label")
    if len(rows) < 2:
        return _missing(key, source, claim, "two token counts")
    a, b = rows.iloc[0], rows.iloc[1]
    verdict, d, p = _judge(summary, [(b, a)], lambda d: stats.verdict_level(d, LEVEL_TOLERANCE),
                           (-LEVEL_TOLERANCE, LEVEL_TOLERANCE))
    return _compared(key, source, claim, verdict, d, f"{a.label} {_pct(a.eval_acc)} vs {b.label} {_pct(b.eval_acc)} "
                     "(paper, VT-R18: 72.0 with 16, 71.7 with 32).", p)


def narrow_tokens_better(summary: pd.DataFrame) -> Finding:
    """Report, exp. 2: 256 token channels beat the paper's 1024 on Tiny ImageNet (the smaller of two widths wins)."""
    key, source = "narrow_tokens_better", "earlier report, exp. 2"
    claim = "narrower token channels (the report: 256) beat the paper's wider ones (1024)"
    rows = summary[summary.label.str.startswith("channels=")]
    if len(rows) < 2:
        return _missing(key, source, claim, "two token widths")
    widths = rows.assign(width=rows.label.str.split("=").str[1].astype(int)).sort_values("width")
    narrow, wide = widths.iloc[0], widths.iloc[-1]
    verdict, d, p = _judge(summary, [(narrow, wide)], stats.verdict_better)
    return _compared(key, source, claim, verdict, d, f"{narrow.label} {_pct(narrow.eval_acc)} vs {wide.label} "
                     f"{_pct(wide.eval_acc)}.", p)


def attention_on_objects(summary: pd.DataFrame) -> Finding:
    """Paper, Sec. 6 and Fig. 6: the tokenizer's spatial attention concentrates on semantic regions (objects); on
    LIP it puts 28.3% more attention on foreground than on background pixels (a ratio of attention densities,
    where ours is the attention mass on the object against the object's share of the image).

    Two intervals over seeds (Welch, the spread over seeds alone: every seed measures the same eval images):
    the trained model's attention on the object against the object's share of the image, and against the same
    model untrained. Reproduced when both lie above 0, not reproduced when either lies wholly below it."""
    key, source = "attention_on_objects", "paper, Sec. 6 / Fig. 6"
    claim = "trained tokens attend to the object more than its share of the image"
    trained, untrained = _row(summary, "trained"), _row(summary, "untrained")
    if trained is None or untrained is None:
        return _missing(key, source, claim, "trained and untrained attention")

    def arm(row: pd.Series) -> stats.Arm:
        std = row.get("object_attention_std", float("nan"))
        return stats.Arm(row.object_attention, 0.0 if pd.isna(std) else float(std), int(row.get("seeds", 1) or 1), None)

    over_untrained = stats.compare(arm(trained), arm(untrained), seeds_only=True)
    over_area = stats.compare(arm(trained), stats.Arm(trained.object_area, 0.0, over_untrained.seeds, None),
                              seeds_only=True)
    decided = [(stats.verdict_better(d), stats.decision_p(d, (0.0,))) for d in (over_untrained, over_area)]
    verdict = _all_hold(summary, [v for v, _ in decided])
    area_interval = ("" if pd.isna(over_area.low) else
                     f" [{100 * over_area.low:+.1f}, {100 * over_area.high:+.1f}]")
    return _compared(key, source, claim, verdict, over_untrained,
                     f"attention on the object: trained {_pct(trained.object_attention)}, untrained "
                     f"{_pct(untrained.object_attention)}, against the object's {_pct(trained.object_area)} of the image "
                     f"(trained over the area: {100 * over_area.difference:+.1f} pt{area_interval}; lift "
                     f"{trained.object_attention / trained.object_area:.2f}x trained, "
                     f"{untrained.object_attention / untrained.object_area:.2f}x untrained; the difference is trained "
                     "over untrained). The paper's LIP figure, 28.3% more attention on foreground than on background "
                     "pixels, is a ratio of attention per pixel, foreground over background (1.28x); the lift here is "
                     "the object's share of the attention over its share of the image, at most "
                     f"{1 / trained.object_area:.1f}x for these objects; for small objects the two nearly agree.",
                     _claim_p(verdict, decided))


def vt_cheaper(flops: pd.DataFrame) -> Finding:
    """Paper, Tables 2 and 8 (and the report's contrary table): VT-ResNet costs fewer FLOPs and parameters."""
    key, source = "vt_cheaper", "paper, Tables 2, 8; report's FLOPs table"
    claim = "VT-ResNet has fewer FLOPs and parameters than its ResNet (224x224, 1000 classes)"
    models = flops[flops.section == "paper models"].set_index("model")
    pairs = [(f"vt_{m}", m) for m in models.index if f"vt_{m}" in models.index]
    if not pairs:
        return _missing(key, source, claim, "a VT-ResNet beside its ResNet")
    holds = all(models.mflops[v] < models.mflops[r] and models.mparams[v] <= models.mparams[r] * 1.01 for v, r in pairs)
    evidence = "; ".join(f"{v} {models.mflops[v]:.0f} MFLOPs / {models.mparams[v]:.2f} M vs {r} {models.mflops[r]:.0f} / "
                         f"{models.mparams[r]:.2f} M" for v, r in pairs)
    return Finding(key, source, claim, REPRODUCED if holds else NOT_REPRODUCED, evidence + ".")


FLOPS_RATIO_TOLERANCE = 0.10  # a FLOPs ratio "about" the paper's: within 10% of it


def vt_fpn_fewer_flops(summary: pd.DataFrame) -> Finding:
    """Paper, Tables 9-10: VT-FPN's FPN module needs about 6.5x fewer FLOPs than Panoptic FPN's (ResNet-50;
    COCO-stuff 55.1 -> 8.5 G, LIP 12.8 -> 2.0 G). Judged on the counts in ``flops.csv`` beside the summary, at the
    input sizes ``vt.segmentation.PAPER_SIZES`` gives: reproduced when every ratio is within 10% of the paper's."""
    key, source = "vt_fpn_fewer_flops", "paper, Tables 9-10"
    claim = "VT-FPN's FPN module needs about 6.5x fewer FLOPs than FPN's (ResNet-50)"
    folder = summary.attrs.get("folder")
    path = Path(folder) / "flops.csv" if folder else None
    if path is None or not path.exists():
        return _missing(key, source, claim, "an FPN and a VT-FPN FLOPs count")
    flops = pd.read_csv(path).set_index(["data", "model"])
    parts, holds = [], []
    for data in flops.index.get_level_values(0).unique():
        fpn, vt = flops.loc[(data, "fpn_resnet50")], flops.loc[(data, "vt_fpn_resnet50")]
        ratio, paper = fpn.fpn_gflops / vt.fpn_gflops, fpn.paper_fpn_gflops / vt.paper_fpn_gflops
        holds.append(abs(ratio / paper - 1) <= FLOPS_RATIO_TOLERANCE)
        parts.append(f"{data} at {fpn.input}: {fpn.fpn_gflops:.1f} -> {vt.fpn_gflops:.2f} G, {ratio:.2f}x (paper "
                     f"{fpn.paper_fpn_gflops:.1f} -> {vt.paper_fpn_gflops:.1f} G, {paper:.2f}x)")
    verdict = REPRODUCED if all(holds) else NOT_REPRODUCED
    return Finding(key, source, claim, verdict, "FPN module, counted: " + "; ".join(parts) +
                   f". Within {100 * FLOPS_RATIO_TOLERANCE:.0f}% of the paper's ratio counts as reproduced.")


def vt_fpn_matches_miou(summary: pd.DataFrame) -> Finding:
    """Paper, Tables 9-10: VT-FPN's mIoU equals FPN's or is slightly higher (COCO-stuff 40.78 -> 41.00, LIP 47.04
    -> 47.39). Reproduced when VT-FPN's mIoU is not lower than FPN's by more than ``LEVEL_TOLERANCE`` over the
    whole interval (spread over seeds: the eval split is the same for both)."""
    key, source = "vt_fpn_matches_miou", "paper, Tables 9-10"
    claim = f"VT-FPN's mIoU is as high as FPN's (not more than {100 * LEVEL_TOLERANCE:.0f} point lower)"
    fpn, vt = _row(summary, "FPN"), _row(summary, "VT-FPN")
    if fpn is None or vt is None:
        return _missing(key, source, claim, "FPN and VT-FPN")
    arms = [stats.Arm(float(r.miou), 0.0 if pd.isna(r.miou_std) else float(r.miou_std), int(r.seeds), None)
            for r in (vt, fpn)]
    d = stats.compare(*arms, seeds_only=True)
    verdict = SMOKE if _synthetic(summary) else stats.verdict_not_worse(d, LEVEL_TOLERANCE)
    p = _claim_p(verdict, [(verdict, stats.decision_p(d, (-LEVEL_TOLERANCE,)))])
    return _compared(key, source, claim, verdict, d,
                     f"mIoU on {vt.dataset} at {int(vt.resolution)}x{int(vt.resolution)}, {int(vt.epochs)} epochs, "
                     f"{vt.model} vs {fpn.model}: {_pct(vt.miou)} vs {_pct(fpn.miou)} (paper, ResNet-50: COCO-stuff "
                     "41.00 vs 40.78, LIP 47.39 vs 47.04).", p)


# notebook -> checks that read its summary.csv (04_flops: its flops.csv)
def _on_finished_runs(check: Callable[[pd.DataFrame], Finding]) -> Callable[[pd.DataFrame], Finding]:
    """``check`` applied to the runs that reached their planned epochs (a table without a ``finished`` column,
    such as the FLOPs table, is taken whole): a run cut short by a time budget tests nothing yet. A row whose seeds
    a time budget stopped in part (``stopped_early``) holds the finished seeds' numbers (``vt.notebooks.summarize``)
    and counts with them."""

    @functools.wraps(check)
    def on_finished(summary: pd.DataFrame) -> Finding:
        if "finished" in summary.columns:
            finished = summary.finished.astype(bool)
            if "stopped_early" in summary.columns:
                finished |= summary.epochs == summary.planned_epochs
            summary = summary[finished]
        return check(summary)

    return on_finished


CHECKS = {notebook: [_on_finished_runs(check) for check in checks] for notebook, checks in {
    "01_baseline": [vit_beats_resnets, vt_beats_resnet, vt_slower, resnet20_matches_he],
    "02_tokenizers": [filter_beats_pooling, recurrent_beats_filter],
    "03_resolution": [upscaling_helps, tokens_level, narrow_tokens_better],
    "04_flops": [vt_cheaper],
    "05_attention": [attention_on_objects],
    "07_segmentation": [vt_fpn_fewer_flops, vt_fpn_matches_miou],
}.items()}
