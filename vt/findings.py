"""Claims of the paper and findings of the earlier report, each checked against our result tables.

Each check takes the ``summary.csv`` table of the notebook that tests it (one row per run: ``label``, ``model``,
``eval_acc``, ``eval_acc_std``, ``gap``, ``images_per_s``, ``mflops``, ...) and returns a ``Finding``: the claim,
its source, a verdict computed from the numbers, and the numbers. A difference counts when it exceeds
``MARGIN`` (in accuracy, 0-1) and the seeds' spread; otherwise the two are called level.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from vt.reference import HE_2016_RESNET20

MARGIN = 0.005
REPRODUCED, NOT_REPRODUCED, NOT_RUN = "reproduced", "not reproduced", "not yet run"


@dataclass
class Finding:
    """A checked claim: ``verdict`` is ``reproduced``, ``not reproduced`` or ``not yet run``."""

    key: str
    source: str
    claim: str
    verdict: str
    evidence: str

    def markdown(self) -> str:
        """One paragraph for a notebook's finding cell."""
        return f"**{self.claim}** ({self.source}) — **{self.verdict}**. {self.evidence}"


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _row(summary: pd.DataFrame, label: str) -> pd.Series | None:
    rows = summary[summary.label == label]
    return None if rows.empty else rows.iloc[0]


def _ahead(a: pd.Series, b: pd.Series) -> bool:
    """Whether run ``a`` is more accurate than run ``b`` by more than the margin and the seeds' spread."""
    spread = max(MARGIN, a.get("eval_acc_std", 0) or 0, b.get("eval_acc_std", 0) or 0)
    return a.eval_acc - b.eval_acc > spread


def _level(a: pd.Series, b: pd.Series, tolerance: float = 0.01) -> bool:
    spread = max(tolerance, a.get("eval_acc_std", 0) or 0, b.get("eval_acc_std", 0) or 0)
    return abs(a.eval_acc - b.eval_acc) <= spread


def _missing(key: str, source: str, claim: str, what: str) -> Finding:
    return Finding(key, source, claim, NOT_RUN, f"No finished run of {what} in this table.")


def vit_beats_resnets(summary: pd.DataFrame) -> Finding:
    """Report, experiment 1: the ViTResNet beats every ResNet on test (and ResNet-18 is better on train)."""
    key, source = "vit_beats_resnets", "earlier report, exp. 1"
    claim = "ViTResNet is more accurate on test than every ResNet trained beside it"
    vit = _row(summary, "vit_resnet_cifar")
    resnets = summary[summary.model.str.match(r"^resnet\d+$")]
    if vit is None or resnets.empty:
        return _missing(key, source, claim, "vit_resnet_cifar and a ResNet")
    beaten = [r.label for _, r in resnets.iterrows() if _ahead(vit, r)]
    numbers = ", ".join(f"{r.label} {_pct(r.eval_acc)} (gap {_pct(r.gap)})" for _, r in resnets.iterrows())
    verdict = REPRODUCED if len(beaten) == len(resnets) else NOT_REPRODUCED
    return Finding(key, source, claim, verdict,
                   f"ViTResNet {_pct(vit.eval_acc)} test (train/test gap {_pct(vit.gap)}); {numbers}; "
                   f"it beats {len(beaten)} of {len(resnets)}.")


def vt_beats_resnet(summary: pd.DataFrame) -> Finding:
    """Paper, Tables 2 and 8: VT-ResNet is more accurate than its ResNet with fewer FLOPs."""
    key, source = "vt_beats_resnet", "paper, Tables 2, 8"
    claim = "VT-ResNet is more accurate than its ResNet at fewer FLOPs"
    pairs = [(_row(summary, f"vt_{m}"), _row(summary, m)) for m in summary.label if f"vt_{m}" in set(summary.label)]
    if not pairs:
        return _missing(key, source, claim, "a VT-ResNet beside its ResNet")
    holds = all(_ahead(vt, ref) and vt.mflops < ref.mflops for vt, ref in pairs)
    evidence = "; ".join(f"{vt.label} {_pct(vt.eval_acc)} at {vt.mflops:.1f} MFLOPs vs {ref.label} {_pct(ref.eval_acc)} "
                         f"at {ref.mflops:.1f}" for vt, ref in pairs)
    return Finding(key, source, claim, REPRODUCED if holds else NOT_REPRODUCED, evidence + ".")


def vt_slower(summary: pd.DataFrame) -> Finding:
    """Report, conclusion: the visual transformers train slower than the ResNets."""
    key, source = "vt_slower", "earlier report, conclusion"
    claim = "VT models train slower (images/s) than ResNets"
    vts = summary[summary.model.str.startswith(("vt_", "vit_"))]
    resnets = summary[summary.model.str.match(r"^resnet\d+$")]
    if vts.empty or resnets.empty:
        return _missing(key, source, claim, "a VT model and a ResNet")
    evidence = ", ".join(f"{r.label} {r.images_per_s:.0f}" for _, r in summary.iterrows())
    shared = int(summary.get("shared_by", pd.Series([1])).fillna(1).max())
    if shared > 1:
        return Finding(key, source, claim, NOT_RUN, f"These runs trained {shared} at a time on one device, so their "
                       f"images/s ({evidence}) are not the models' own speeds: see `python -m vt.bench`.")
    slower = vts.images_per_s.max() < resnets.images_per_s.min()
    return Finding(key, source, claim, REPRODUCED if slower else NOT_REPRODUCED, f"Training images/s: {evidence}.")


def resnet20_matches_he(summary: pd.DataFrame) -> Finding:
    """He et al. 2016, Table 6: the CIFAR ResNet-20 our VT models are measured against reaches 91.25% top-1.

    Reproduced when ours is within ``MARGIN`` of it; the evidence gives our budget in epochs beside theirs.
    """
    key, source = "resnet20_matches_he", "He et al. 2016, Table 6"
    claim = f"the CIFAR ResNet-20 baseline reaches He et al.'s {HE_2016_RESNET20['top1']}% test accuracy"
    ours = _row(summary, "resnet20")
    if ours is None:
        return _missing(key, source, claim, "resnet20")
    theirs = HE_2016_RESNET20["top1"] / 100
    verdict = REPRODUCED if ours.eval_acc >= theirs - MARGIN else NOT_REPRODUCED
    return Finding(key, source, claim, verdict,
                   f"resnet20 {_pct(ours.eval_acc)} after {ours.epochs:.0f} epochs vs He et al.'s {HE_2016_RESNET20['top1']}% "
                   f"after {HE_2016_RESNET20['iterations'] // 1000}k iterations at batch {HE_2016_RESNET20['batch_size']} "
                   f"({100 * (ours.eval_acc - theirs):+.1f} pt).")


def _one_beats_other(summary: pd.DataFrame, key: str, source: str, claim: str, winner: str, loser: str,
                     paper: str) -> Finding:
    a, b = _row(summary, winner), _row(summary, loser)
    if a is None or b is None:
        return _missing(key, source, claim, f"both {winner} and {loser}")
    return Finding(key, source, claim, REPRODUCED if _ahead(a, b) else NOT_REPRODUCED,
                   f"{winner} {_pct(a.eval_acc)} vs {loser} {_pct(b.eval_acc)} ({paper}).")


def filter_beats_pooling(summary: pd.DataFrame) -> Finding:
    """Report, exp. 2, and paper, Table 3: the filter-based tokenizer beats pooling."""
    return _one_beats_other(summary, "filter_beats_pooling", "earlier report, exp. 2; paper, Table 3",
                            "the filter-based tokenizer is more accurate than pooling", "filter", "pooling",
                            "paper, VT-R18: 72.0 vs 70.6")


def recurrent_beats_filter(summary: pd.DataFrame) -> Finding:
    """Paper, Table 4: the recurrent tokenizer beats filter-based tokenizers everywhere (the report ran 30 epochs)."""
    return _one_beats_other(summary, "recurrent_beats_filter", "paper, Table 4; report left it at 30 epochs",
                            "the recurrent tokenizer is more accurate than filter-based ones alone", "recurrent",
                            "filter", "paper, VT-R18: 72.0 vs 71.4")


def upscaling_helps(summary: pd.DataFrame) -> Finding:
    """Report, exp. 2: at the native low resolution accuracy is much lower than upscaled; ResNet-18 overfits."""
    key, source = "upscaling_helps", "earlier report, exp. 2"
    claim = "the native low resolution is much worse than upscaled images, and the ResNet overfits there"
    res = summary[summary.label.str.contains("@")]
    if res.resolution.nunique() < 2:
        return _missing(key, source, claim, "two resolutions")
    low, high = res.resolution.min(), res.resolution.max()
    parts, holds = [], True
    for model, rows in res.groupby("model", sort=False):
        lo, hi = rows[rows.resolution == low], rows[rows.resolution == high]
        if lo.empty or hi.empty:
            continue
        lo, hi = lo.iloc[0], hi.iloc[0]
        holds &= _ahead(hi, lo)
        parts.append(f"{model}: {_pct(lo.eval_acc)} at {low} vs {_pct(hi.eval_acc)} at {high} "
                     f"(train/test gap {_pct(lo.gap)} vs {_pct(hi.gap)})")
    resnet = res[res.model.str.match(r"^resnet\d+$")]
    overfits = len(resnet) and (resnet[resnet.resolution == low].gap.max() > resnet[resnet.resolution == high].gap.max())
    return Finding(key, source, claim, REPRODUCED if holds and overfits else NOT_REPRODUCED, "; ".join(parts) + ".")


def tokens_level(summary: pd.DataFrame) -> Finding:
    """Report, exp. 2, and paper, Table 6: 32 tokens are no better than 16."""
    key, source = "tokens_level", "earlier report, exp. 2; paper, Table 6"
    claim = "16 and 32 tokens give about the same accuracy"
    rows = summary[summary.label.str.startswith("tokens=")].sort_values("label")
    if len(rows) < 2:
        return _missing(key, source, claim, "two token counts")
    a, b = rows.iloc[0], rows.iloc[1]
    return Finding(key, source, claim, REPRODUCED if _level(a, b) else NOT_REPRODUCED,
                   f"{a.label} {_pct(a.eval_acc)} vs {b.label} {_pct(b.eval_acc)} (level within 1 point; "
                   "paper, VT-R18: 72.0 with 16, 71.7 with 32).")


def narrow_tokens_better(summary: pd.DataFrame) -> Finding:
    """Report, exp. 2: 256 token channels beat the paper's 1024 on Tiny ImageNet (the smaller of two widths wins)."""
    key, source = "narrow_tokens_better", "earlier report, exp. 2"
    claim = "narrower token channels (the report: 256) beat the paper's wider ones (1024)"
    rows = summary[summary.label.str.startswith("channels=")]
    if len(rows) < 2:
        return _missing(key, source, claim, "two token widths")
    widths = rows.assign(width=rows.label.str.split("=").str[1].astype(int)).sort_values("width")
    narrow, wide = widths.iloc[0], widths.iloc[-1]
    return Finding(key, source, claim, REPRODUCED if _ahead(narrow, wide) else NOT_REPRODUCED,
                   f"{narrow.label} {_pct(narrow.eval_acc)} vs {wide.label} {_pct(wide.eval_acc)}.")


def attention_on_objects(summary: pd.DataFrame) -> Finding:
    """Paper, Sec. 3 and Fig. 5: the tokenizer's spatial attention concentrates on semantic regions (objects)."""
    key, source = "attention_on_objects", "paper, Sec. 3.1 / Fig. 5"
    claim = "trained tokens attend to the object more than its share of the image"
    trained, untrained = _row(summary, "trained"), _row(summary, "untrained")
    if trained is None or untrained is None:
        return _missing(key, source, claim, "trained and untrained attention")
    holds = trained.object_attention > trained.object_area and trained.object_attention > untrained.object_attention
    return Finding(key, source, claim, REPRODUCED if holds else NOT_REPRODUCED,
                   f"attention on the object: trained {_pct(trained.object_attention)}, untrained "
                   f"{_pct(untrained.object_attention)}, against the object's {_pct(trained.object_area)} of the image "
                   f"(lift {trained.object_attention / trained.object_area:.2f}x trained, "
                   f"{untrained.object_attention / untrained.object_area:.2f}x untrained).")


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


# notebook -> checks that read its summary.csv (04_flops: its flops.csv)
def _on_finished_runs(check: Callable[[pd.DataFrame], Finding]) -> Callable[[pd.DataFrame], Finding]:
    """``check`` applied to the runs that reached their planned epochs (a table without a ``finished`` column,
    such as the FLOPs table, is taken whole): a run cut short by a time budget tests nothing yet."""

    @functools.wraps(check)
    def on_finished(summary: pd.DataFrame) -> Finding:
        if "finished" in summary.columns:
            summary = summary[summary.finished.astype(bool)]
        return check(summary)

    return on_finished


CHECKS = {notebook: [_on_finished_runs(check) for check in checks] for notebook, checks in {
    "01_baseline": [vit_beats_resnets, vt_beats_resnet, vt_slower, resnet20_matches_he],
    "02_tokenizers": [filter_beats_pooling, recurrent_beats_filter],
    "03_resolution": [upscaling_helps, tokens_level, narrow_tokens_better],
    "04_flops": [vt_cheaper],
    "05_attention": [attention_on_objects],
}.items()}
