"""What every check shares: the ``Finding`` it returns, the verdict names, and how a table's rows become arms,
comparisons, a verdict and its deciding p-value (``vt.stats``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from vt import stats
from vt.train import machine_name

REPRODUCED, NOT_REPRODUCED, NOT_RUN = stats.REPRODUCED, stats.NOT_REPRODUCED, "not yet run"
INCONCLUSIVE, SMOKE = stats.INCONCLUSIVE, "pipeline ran (synthetic data)"
# How charts colour each verdict: held green, failed red, undecided amber, nothing tested greys.
VERDICT_COLOURS = {REPRODUCED: "#2e7d32", NOT_REPRODUCED: "#c62828", INCONCLUSIVE: "#f9a825", SMOKE: "#90a4ae",
                   NOT_RUN: "#e0e0e0"}
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
    because: str = ""

    def statistic(self) -> str:
        """``+1.2 pt [+0.4, +2.0], 3 seeds`` (``-42.0 % [...]`` for speed), or empty."""
        if self.difference is None or pd.isna(self.difference):
            return ""
        seeds = int(self.seeds)
        interval = ("no interval" if pd.isna(self.ci_low) or pd.isna(self.ci_high)
                    else f"[{signed(self.ci_low)}, {signed(self.ci_high)}]")
        return f"{signed(self.difference)} {self.unit} {interval}, {seeds} seed{'s' if seeds != 1 else ''}"

    def markdown(self) -> str:
        """One paragraph for a notebook's finding cell: what the report prints for this claim."""
        statistic = f" ({self.statistic()})" if self.statistic() else ""
        because = f", {self.because}" if self.because else ""
        return f"**{self.claim}** ({self.source}) — **{self.verdict}**{statistic}{because}. {self.evidence}"


# What the interval must do for each kind of claim, by verdict (``vt.stats.verdict_*``).
RULES = {
    "better": {REPRODUCED: "lies wholly above 0", NOT_REPRODUCED: "lies wholly below 0", INCONCLUSIVE: "includes 0"},
    "lower": {REPRODUCED: "lies wholly below 0", NOT_REPRODUCED: "lies wholly above 0", INCONCLUSIVE: "includes 0"},
    "level": {REPRODUCED: "lies within ±1 pt", NOT_REPRODUCED: "lies wholly outside ±1 pt",
              INCONCLUSIVE: "reaches past ±1 pt without lying wholly outside"},
    "not worse": {REPRODUCED: "lies above -1 pt", NOT_REPRODUCED: "lies wholly below -1 pt",
                  INCONCLUSIVE: "includes -1 pt"},
}


def signed(value: float, digits: int = 1) -> str:
    """``value`` with its sign, ``digits`` decimals, and no sign where it rounds to zero (``0.0``, never ``-0.0``)."""
    shown = f"{value:+.{digits}f}"
    return shown if float(shown) != 0 else f"{0:.{digits}f}"


def because(verdict: str, contrast: str, difference: float, low: float, high: float, seeds: int, rule: str,
            unit: str = "pt", sign: str = "") -> str:
    """Why a compared claim got its verdict, with the numbers that decided it and what their sign means:
    ``because vt_resnet20 − resnet20 is -3.3 pt, 95% interval [-4.2, -2.3], which lies wholly below 0 (positive:
    vt_resnet20 ahead)``. ``rule`` names the claim's kind (``RULES``); ``sign`` overrides the sign's meaning."""
    if verdict == SMOKE:
        return "because synthetic data only shows that the pipeline runs"
    if seeds < stats.MIN_SEEDS or pd.isna(low) or pd.isna(high):
        return (f"because an arm has {seeds} seed{'s' * (seeds != 1)}, fewer than the {stats.MIN_SEEDS} a verdict "
                "needs")
    first = contrast.split(" − ")[0]
    sign = sign or f"positive: {first} ahead"
    return (f"because {contrast} is {signed(difference)} {unit}, 95% interval [{signed(low)}, {signed(high)}], which "
            f"{RULES[rule][verdict]} ({sign})")


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _points(x: float) -> str:
    """A difference of two accuracies (0-1) in points: ``+7.6 pt``."""
    return f"{signed(100 * x)} pt"


def _row(summary: pd.DataFrame, label: str) -> pd.Series | None:
    rows = summary[summary.label == label]
    return None if rows.empty else rows.iloc[0]


MISSING = "Not tested here: no finished run of "


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


def machines(summary: pd.DataFrame, row: pd.Series) -> set[str]:
    """The machines (``vt.train.machine_name``: a CPU with its cores, or a GPU) that the row's runs trained on, as
    each landed run's ``config.json`` records its environment; empty where no run landed (a smoke run keeps none)."""
    folder, keys = summary.attrs.get("folder"), row.get("run_keys")
    if not folder or not isinstance(keys, str):
        return set()
    found = set()
    for key in json.loads(keys):
        path = Path(folder) / "runs" / key / "config.json"
        if path.exists():
            found.add(machine_name(json.loads(path.read_text()).get("environment") or {}))
    return found


def _all_hold(summary: pd.DataFrame, verdicts: list[str]) -> str:
    """A claim that needs every comparison: reproduced when all are, not reproduced when any is not, inconclusive
    otherwise; the smoke verdict on synthetic data."""
    if _synthetic(summary):
        return SMOKE
    return (NOT_REPRODUCED if NOT_REPRODUCED in verdicts else
            REPRODUCED if all(v == REPRODUCED for v in verdicts) else INCONCLUSIVE)


def _judge(summary: pd.DataFrame, pairs: list[tuple[pd.Series, pd.Series]], decide,
           boundaries: tuple[float, ...] = (0.0,)) -> tuple[str, stats.Difference, float, str]:
    """Compare each ``(a, b)`` pair; the verdict is the claim's over all pairs (every pair must hold; any pair
    that fails it fails the claim), the difference reported is that of the pair the verdict rests on (``deciding``),
    named by the contrast returned last (``"a − b"``, with the number of pairs where there are several), and the
    p-value is the claim's (``_claim_p``) against the verdict rule's ``boundaries``."""
    differences = [stats.compare(_arm(summary, a), _arm(summary, b)) for a, b in pairs]
    decided = [(decide(d), stats.decision_p(d, boundaries)) for d in differences]
    verdict = _all_hold(summary, [v for v, _ in decided])
    i = deciding(verdict, decided)
    shown = differences[i]
    shown.seeds = min(d.seeds for d in differences)
    contrast = deciding_of(f"{pairs[i][0].label} − {pairs[i][1].label}", len(pairs))
    return verdict, shown, _claim_p(verdict, decided), contrast


def deciding(verdict: str, decided: list[tuple[str, float]]) -> int:
    """Which of several pairs, each with its own verdict and p-value, the claim's ``verdict`` rests on: the clearest
    failure where it is not reproduced; else, among the pairs with the claim's verdict (all of them where it holds),
    the weakest, the one with the largest p-value."""
    same = [k for k, (v, _) in enumerate(decided) if v == verdict] or list(range(len(decided)))
    if verdict == NOT_REPRODUCED:
        return min(same, key=lambda k: decided[k][1])
    return max(same, key=lambda k: decided[k][1])


def deciding_of(contrast: str, pairs: int) -> str:
    """``contrast``, said to be the one the verdict rests on (``deciding``) of ``pairs`` pairs where a claim compared
    several."""
    return f"{contrast} (the deciding one of {pairs} pairs)" if pairs > 1 else contrast


def _claim_p(verdict: str, decided: list[tuple[str, float]]) -> float:
    """The p-value of a claim made of comparisons that must all hold, each ``(verdict, p)``: reproduced needs every
    one, so the largest p (an intersection-union test); not reproduced needs one of the ``k`` to fail, so the
    smallest p among those that failed times ``k`` (Bonferroni within the claim, at most 1); an inconclusive claim
    keeps the largest, at least 0.05: it counts in a family's size (``vt.stats.holm``) without being decided. nan,
    out of the family, on synthetic data or where some comparison had no interval (too few seeds: nothing tested)."""
    if verdict == SMOKE or any(np.isnan(p) for _, p in decided):
        return float("nan")
    if verdict == NOT_REPRODUCED:
        return min(1.0, len(decided) * min(p for v, p in decided if v == NOT_REPRODUCED))
    return max(p for _, p in decided) if verdict == REPRODUCED else max(0.05, max(p for _, p in decided))


def diverged(rows: tuple[pd.Series, ...]) -> str:
    """What a reader must know before reading a difference: the compared runs that failed to train (``diverged``
    in the summary: final train accuracy under twice chance), as ``1 of 3 channels=512 runs diverged ...``;
    empty where none did."""
    failed = [(int(r.get("diverged", 0) or 0), int(r.get("seeds", 1) or 1), r.label) for r in rows]
    failed = [f"{n} of {seeds} {label} run{'s' * (seeds != 1)}" for n, seeds, label in failed if n > 0]
    if not failed:
        return ""
    return (f"but {' and '.join(failed)} diverged (final train accuracy under twice chance), so the difference "
            "measures a failure to train, not the accuracy of a trained model")


def _compared(key: str, source: str, claim: str, verdict: str, d: stats.Difference, evidence: str,
              p_value: float = float("nan"), contrast: str = "", rule: str = "better", reason: str = "",
              rows: tuple[pd.Series, ...] = ()) -> Finding:
    """A claim decided on one difference ``d`` (accuracy, 0-1), with its ``because`` clause: ``reason`` where
    something other than the interval decided the verdict, else the interval against the ``rule``; then, where
    some of the compared ``rows`` diverged, that (``diverged``)."""
    points = [100 * d.difference, 100 * d.low, 100 * d.high]
    why = reason or because(verdict, contrast, *points, d.seeds, rule)
    failed = diverged(rows) if verdict != SMOKE else ""
    return Finding(key, source, claim, verdict, evidence, d.seeds, *points, p_value=p_value,
                   because=f"{why}; {failed}" if failed else why)
