"""The claims the training notebooks test (``01_baseline``, ``02_tokenizers``, ``03_resolution``): accuracy over
seeds, model against model, tokenizer against tokenizer, resolution, tokens and token widths, and training speed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from vt import stats
from vt.findings.base import (INCONCLUSIVE, LEVEL_TOLERANCE, NOT_REPRODUCED, NOT_RUN, REACH_TOLERANCE, REPRODUCED,
                              SMOKE, Finding, _all_hold, _arm, _claim_p, _compared, _judge, _missing, _pct, _points,
                              _row, _synthetic, because, deciding, deciding_of, machines, signed)
from vt.reference import HE_2016_RESNET20

def vit_beats_resnets(summary: pd.DataFrame) -> Finding:
    """Report, experiment 1: the ViTResNet beats every ResNet on test (and ResNet-18 is better on train)."""
    key, source = "vit_beats_resnets", "earlier report, exp. 1"
    claim = "ViTResNet is more accurate on test than every ResNet trained beside it"
    vit = _row(summary, "vit_resnet_cifar")
    resnets = summary[summary.model.str.match(r"^resnet\d+$")]
    if vit is None or resnets.empty:
        return _missing(key, source, claim, "vit_resnet_cifar and a ResNet")
    verdict, d, p, contrast = _judge(summary, [(vit, r) for _, r in resnets.iterrows()], stats.verdict_better)
    numbers = ", ".join(f"{r.label} {_pct(r.eval_acc)} (gap {_points(r.gap)})" for _, r in resnets.iterrows())
    return _compared(key, source, claim, verdict, d,
                     f"ViTResNet {_pct(vit.eval_acc)} test (train/test gap {_points(vit.gap)}); {numbers}; "
                     "the difference shown is the deciding pair's.", p, contrast,
                     rows=(vit, *(r for _, r in resnets.iterrows())))


def vt_beats_resnet(summary: pd.DataFrame) -> Finding:
    """Paper, Tables 2 and 8: VT-ResNet is more accurate than its ResNet with fewer FLOPs (the FLOPs are counts;
    a VT model that is not cheaper fails the claim whatever its accuracy)."""
    key, source = "vt_beats_resnet", "paper, Tables 2, 8"
    claim = "VT-ResNet is more accurate than its ResNet at fewer FLOPs"
    pairs = [(_row(summary, f"vt_{m}"), _row(summary, m)) for m in summary.label if f"vt_{m}" in set(summary.label)]
    if not pairs:
        return _missing(key, source, claim, "a VT-ResNet beside its ResNet")
    verdict, d, p, contrast = _judge(summary, pairs, stats.verdict_better)
    costlier = [(vt, ref) for vt, ref in pairs if vt.mflops >= ref.mflops]
    reason = ""
    if costlier and verdict != SMOKE:
        verdict, p = NOT_REPRODUCED, 0.0  # decided by the FLOPs counts, which carry no sampling error
        reason = "because " + ", ".join(f"{vt.label} counts {vt.mflops:.1f} MFLOPs, not fewer than {ref.label}'s "
                                        f"{ref.mflops:.1f}" for vt, ref in costlier)
    evidence = "; ".join(f"{vt.label} {_pct(vt.eval_acc)} at {vt.mflops:.1f} MFLOPs vs {ref.label} {_pct(ref.eval_acc)} "
                         f"at {ref.mflops:.1f}" for vt, ref in pairs)
    return _compared(key, source, claim, verdict, d, evidence + ".", p, contrast, reason=reason,
                     rows=tuple(row for pair in pairs for row in pair))


def vt_slower(summary: pd.DataFrame) -> Finding:
    """Report, conclusion: the visual transformers train slower than the ResNets.

    Only runs known to have had the device to themselves count (``shared_by`` 1 in every epoch; unknown for
    histories from before it was recorded), and only runs that all trained on one kind of machine (each landed run's
    recorded device). Each seed's run gives one speed, its median training images/s over the
    epochs after the first (compilation, warm-up), which an epoch slowed by other work on the machine does not move; seeds are the replicates, as for
    accuracy. For each VT model and ResNet the ratio of their mean log speeds gets a 95% Welch interval over seeds
    (``vt.stats.speed_ratio``). Reproduced when every VT model's interval lies below 1, not reproduced when some
    VT model's lies wholly above 1; the statistic shown is the deciding pair's (``deciding``), as a change in percent.
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
    where = {r.label: machines(summary, r) for _, r in summary.iterrows()}
    if len(set().union(*where.values())) > 1:
        listed = "; ".join(f"{label} on {', '.join(sorted(m))}" for label, m in where.items() if m)
        return Finding(key, source, claim, NOT_RUN, f"These runs trained on different machines ({listed}), so their "
                       f"images/s ({evidence}) compare the machines as much as the models: see `python -m vt.bench`.")
    speeds = {r.label: _seed_speeds(r) for _, r in summary.iterrows()}
    if not all(speeds.values()):
        return Finding(key, source, claim, SMOKE if _synthetic(summary) else INCONCLUSIVE,
                       f"Training images/s (median over epochs): {evidence}; no per-seed speeds recorded.")
    ratios = [(v, r, stats.speed_ratio(speeds[v.label], speeds[r.label])) for _, v in vts.iterrows()
              for _, r in resnets.iterrows()]
    decided = [(stats.verdict_lower(d), stats.decision_p(d, (0.0,))) for _, _, d in ratios]
    verdict = _all_hold(summary, [v for v, _ in decided])
    vt, resnet, closest = ratios[deciding(verdict, decided)]
    per_seed = "; ".join(f"{label} {' '.join(f'{s:.0f}' for s in values)}" for label, values in speeds.items())
    pairs = ", ".join(f"{v.label} / {r.label} {_ratio(d)}" for v, r, d in ratios)
    change = _percent_change(closest)
    contrast = deciding_of(f"{vt.label}'s speed against {resnet.label}'s", len(ratios))
    return Finding(key, source, claim, verdict, f"Speed ratio, mean over seeds [95% CI]: {pairs}. Each seed's "
                   f"median training images/s: {per_seed}.", closest.seeds, *change, unit="%",
                   p_value=_claim_p(verdict, decided),
                   because=because(verdict, contrast, *change, closest.seeds, "lower", "%",
                                   f"negative: {vt.label} slower"))


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
    ``REACH_TOLERANCE``, not reproduced when it lies wholly below that; the evidence gives both budgets. Their number
    is CIFAR-10's: a ResNet-20 on other real data (Tiny ImageNet) is no run of this claim.
    """
    key, source = "resnet20_matches_he", "He et al. 2016, Table 6"
    claim = f"the CIFAR ResNet-20 baseline reaches He et al.'s {HE_2016_RESNET20['top1']}% test accuracy"
    ours = _row(summary, "resnet20")
    if ours is None:
        return _missing(key, source, claim, "resnet20")
    if ours.get("dataset", "cifar10") not in ("cifar10", "synthetic"):
        return _missing(key, source, claim, "resnet20 on CIFAR-10")
    theirs = HE_2016_RESNET20["top1"] / 100
    d = stats.against(_arm(summary, ours), theirs)
    verdict = (SMOKE if _synthetic(summary) else INCONCLUSIVE if d.seeds < stats.MIN_SEEDS else
               REPRODUCED if d.low > -REACH_TOLERANCE else NOT_REPRODUCED if d.high < -REACH_TOLERANCE else INCONCLUSIVE)
    p = _claim_p(verdict, [(verdict, stats.decision_p(d, (-REACH_TOLERANCE,)))])
    return _compared(key, source, claim, verdict, d,
                     f"resnet20 {_pct(ours.eval_acc)} after {ours.epochs:.0f} epochs vs He et al.'s "
                     f"{HE_2016_RESNET20['top1']}% after {HE_2016_RESNET20['iterations'] // 1000}k iterations at batch "
                     f"{HE_2016_RESNET20['batch_size']} ({100 * (ours.eval_acc - theirs):+.1f} pt).", p,
                     f"resnet20 − He et al.'s {HE_2016_RESNET20['top1']}%", "not worse")


def _one_beats_other(summary: pd.DataFrame, key: str, source: str, claim: str, winner: str, loser: str,
                     paper: str) -> Finding:
    a, b = _row(summary, winner), _row(summary, loser)
    if a is None or b is None:
        return _missing(key, source, claim, f"both {winner} and {loser}")
    verdict, d, p, contrast = _judge(summary, [(a, b)], stats.verdict_better)
    return _compared(key, source, claim, verdict, d, f"{winner} {_pct(a.eval_acc)} vs {loser} {_pct(b.eval_acc)} ({paper}).",
                     p, contrast, rows=(a, b))


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
    return _one_beats_other(summary, "recurrent_beats_filter",
                            "paper, Table 4; the earlier report trained it only 30 epochs",
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
                     f"(train/test gap {_points(lo.gap)} vs {_points(hi.gap)})")
    verdict, d, p, contrast = _judge(summary, pairs, stats.verdict_better)
    resnet = res[res.model.str.match(r"^resnet\d+$")]
    overfits = len(resnet) and (resnet[resnet.resolution == low].gap.max() > resnet[resnet.resolution == high].gap.max())
    reason = ""
    if verdict == REPRODUCED and not overfits:
        verdict, p = NOT_REPRODUCED, float("nan")  # decided by the gaps, which get no test here
        reason = (f"because the ResNet's train/test gap is no larger at {low} px than at {high} px, although "
                  f"{contrast} is {signed(100 * d.difference)} pt")
    return _compared(key, source, claim, verdict, d, "; ".join(parts) + ".", p, contrast, reason=reason,
                     rows=tuple(row for pair in pairs for row in pair))


def tokens_level(summary: pd.DataFrame) -> Finding:
    """Report, exp. 2, and paper, Table 6: 32 tokens are no better than 16 (level within ``LEVEL_TOLERANCE``)."""
    key, source = "tokens_level", "earlier report, exp. 2; paper, Table 6"
    claim = f"16 and 32 tokens give about the same accuracy (within {100 * LEVEL_TOLERANCE:.0f} point)"
    rows = summary[summary.label.str.startswith("tokens=")].sort_values("label")
    if len(rows) < 2:
        return _missing(key, source, claim, "two token counts")
    a, b = rows.iloc[0], rows.iloc[1]
    verdict, d, p, contrast = _judge(summary, [(b, a)], lambda d: stats.verdict_level(d, LEVEL_TOLERANCE),
                                     (-LEVEL_TOLERANCE, LEVEL_TOLERANCE))
    return _compared(key, source, claim, verdict, d, f"{a.label} {_pct(a.eval_acc)} vs {b.label} {_pct(b.eval_acc)} "
                     "(paper, VT-R18: 72.0 with 16, 71.7 with 32).", p, contrast, "level", rows=(a, b))


def narrow_tokens_better(summary: pd.DataFrame) -> Finding:
    """Report, exp. 2: 256 token channels beat the paper's 1024 on Tiny ImageNet (the smaller of two widths wins)."""
    key, source = "narrow_tokens_better", "earlier report, exp. 2"
    claim = "narrower token channels (the report: 256) beat the paper's wider ones (1024)"
    rows = summary[summary.label.str.startswith("channels=")]
    if len(rows) < 2:
        return _missing(key, source, claim, "two token widths")
    widths = rows.assign(width=rows.label.str.split("=").str[1].astype(int)).sort_values("width")
    narrow, wide = widths.iloc[0], widths.iloc[-1]
    verdict, d, p, contrast = _judge(summary, [(narrow, wide)], stats.verdict_better)
    return _compared(key, source, claim, verdict, d, f"{narrow.label} {_pct(narrow.eval_acc)} vs {wide.label} "
                     f"{_pct(wide.eval_acc)}.", p, contrast, rows=(narrow, wide))
