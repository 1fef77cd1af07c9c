"""How two arms of a comparison are told apart: the difference of their mean test accuracies over seeds, with a
95% interval that counts both sources of variance a benchmark result has (Bouthillier et al., "Accounting for
Variance in Machine Learning Benchmarks", MLSys 2021):

- **seed-to-seed spread** (initialisation, data order, augmentation): the sample variance of each arm's final
  accuracies over its seeds, as in Welch's two-sample t-interval;
- **test-set sampling** (the 10,000 test images are one sample of the data distribution): the variance of the
  difference of seed-averaged accuracies under a *paired* bootstrap over the test images (Efron & Tibshirani
  1993, ch. 6; the same images are resampled for both arms, so that images both arms get right or wrong cancel,
  as in McNemar's test), from each run's saved per-example predictions. Where a run's predictions are missing
  (runs made before they were kept), the unpaired binomial variance ``p (1 - p) / N`` of each arm stands in, which
  can only widen the interval.

The variances add (independent sources); the interval is ``difference ± t · se`` with Student's t at the
Welch-Satterthwaite degrees of freedom over all three components (Satterthwaite 1946): each arm's seed part with
``seeds - 1`` degrees of freedom and the test-sampling part with ``test images - 1``, at least 1. Where the
test-sampling part is most of the variance the degrees of freedom are many and t is near the normal's 1.96; where
the seeds' part is, they are few and the interval wide. Where both arms' seeds agree exactly (a seed variance of
0), only the test-sampling part is left and gives the degrees of freedom; a comparison with no variance at all
(``seeds_only`` with identical seeds) gets no interval. An arm of one seed has no estimate of the seed spread, so
its comparisons get no interval; with fewer than ``MIN_SEEDS`` seeds in an arm a verdict is *inconclusive* whatever
the interval (``verdict_better``, ``verdict_level``).

Each verdict also has the p-value of the test that decided it (``decision_p``: the largest level at which the
interval would still give the same verdict), and ``holm`` adjusts those of a family of claims (Holm 1979), so that
the collection's claims can be read together: a verdict that holds after the adjustment holds with a family-wise
error rate of 5%.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats as scipy_stats

MIN_SEEDS = 3
BOOTSTRAP_SAMPLES = 2000
REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE = "reproduced", "not reproduced", "inconclusive"


@dataclass
class Arm:
    """One side of a comparison: the mean and sample standard deviation (ddof 1) of its final test accuracies (0-1)
    over ``seeds`` seeds, the test-set size, and optionally each seed's per-example correctness (bool, seeds x
    images, the same images in the same order for both arms)."""

    mean: float
    std: float
    seeds: int
    eval_size: int | None
    correct: np.ndarray | None = None

    @classmethod
    def of(cls, accuracies: list[float], eval_size: int | None, correct: np.ndarray | None = None) -> "Arm":
        """An arm from its per-seed accuracies."""
        std = float(np.std(accuracies, ddof=1)) if len(accuracies) > 1 else 0.0
        return cls(float(np.mean(accuracies)), std, len(accuracies), eval_size, correct)


@dataclass
class Difference:
    """``a - b`` in accuracy (0-1) with its 95% interval, the fewer seeds of the two arms, and the standard error
    and degrees of freedom the interval was made with (``nan`` where there is none)."""

    difference: float
    low: float
    high: float
    seeds: int
    paired: bool
    se: float = math.nan
    df: float = math.nan

    def points(self) -> str:
        """``+1.2 pt [+0.4, +2.0], 3 seeds``."""
        return (f"{100 * self.difference:+.1f} pt [{100 * self.low:+.1f}, {100 * self.high:+.1f}], "
                f"{self.seeds} seed{'s' if self.seeds != 1 else ''}")


def compare(a: Arm, b: Arm, level: float = 0.95, seed: int = 0, seeds_only: bool = False) -> Difference:
    """The difference ``mean(a) - mean(b)`` of two arms' accuracies and its ``level`` interval (module docstring).

    ``seeds_only``: the interval covers the spread over seeds alone, for a metric that is no proportion of
    independent test examples (mIoU over the pixels of one fixed eval split)."""
    diff = a.mean - b.mean
    no_interval = Difference(diff, math.nan, math.nan, min(a.seeds, b.seeds), False)
    if min(a.seeds, b.seeds) < 2:  # the spread over seeds is unknown: no interval
        return no_interval
    parts = [(x.std ** 2 / x.seeds, x.seeds - 1) for x in (a, b)]  # (variance, degrees of freedom)
    paired = a.correct is not None and b.correct is not None and a.correct.shape[1] == b.correct.shape[1]
    if not seeds_only:
        if paired:
            parts.append((_paired_bootstrap_variance(a.correct, b.correct, seed), a.correct.shape[1] - 1))
        elif a.eval_size and b.eval_size:
            parts += [(x.mean * (1 - x.mean) / x.eval_size, x.eval_size - 1) for x in (a, b)]
        else:  # the test-set size is not known (a table from before it was recorded): no interval
            return no_interval
    variance = sum(v for v, _ in parts)
    if variance == 0:  # identical seeds and no test-set part: nothing to make an interval of
        return no_interval
    df = satterthwaite_df(parts)
    se = math.sqrt(variance)
    t = float(scipy_stats.t.ppf(0.5 + level / 2, df))
    return Difference(diff, diff - t * se, diff + t * se, min(a.seeds, b.seeds), paired, se, df)


def satterthwaite_df(parts: list[tuple[float, float]]) -> float:
    """The Welch-Satterthwaite degrees of freedom of a sum of independent variance estimates ``(variance, df)``:
    ``(sum v)^2 / sum(v^2 / df)``, at least 1; parts of variance 0 add nothing to either sum."""
    total = sum(v for v, _ in parts)
    return max(1.0, total ** 2 / sum(v ** 2 / df for v, df in parts if v > 0))


def decision_p(d: Difference, boundaries: tuple[float, ...]) -> float:
    """The p-value of the test that decided a verdict on ``d``: the verdict rules compare the interval with the
    claim's ``boundaries`` (0 for "better", ±tolerance for "about the same"), so this is ``1 -`` the largest level
    at which the interval would still lie on the same side of the nearest one, ``2 P(T_df > |d - b| / se)``.
    ``nan`` where ``d`` has no interval."""
    if math.isnan(d.se) or d.se == 0:
        return math.nan
    distance = min(abs(d.difference - b) for b in boundaries)
    return float(2 * scipy_stats.t.sf(distance / d.se, d.df))


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjustment of a family's p-values (Holm 1979): sorted ascending, the i-th (from 0) of ``m``
    is multiplied by ``m - i``, kept non-decreasing and capped at 1. A claim whose adjusted p is below 0.05 holds
    with a family-wise error rate of 5%. ``nan`` (no test) stays ``nan`` and is not counted in ``m``."""
    tested = sorted((p, i) for i, p in enumerate(p_values) if not math.isnan(p))
    adjusted, running = [math.nan] * len(p_values), 0.0
    for rank, (p, i) in enumerate(tested):
        running = max(running, min(1.0, (len(tested) - rank) * p))
        adjusted[i] = running
    return adjusted


def against(a: Arm, value: float, level: float = 0.95) -> Difference:
    """``mean(a) - value`` for a published number ``value`` taken as exact: a one-sample t-interval over ``a``'s
    seeds, widened by ``a``'s binomial test-set variance, at the Welch-Satterthwaite degrees of freedom of the two
    (no interval for one seed, as in ``compare``)."""
    diff = a.mean - value
    if a.seeds < 2 or not a.eval_size:
        return Difference(diff, math.nan, math.nan, a.seeds, False)
    parts = [(a.std ** 2 / a.seeds, a.seeds - 1), (a.mean * (1 - a.mean) / a.eval_size, a.eval_size - 1)]
    if sum(v for v, _ in parts) == 0:  # identical seeds at 0% or 100%: nothing to make an interval of
        return Difference(diff, math.nan, math.nan, a.seeds, False)
    se, df = math.sqrt(sum(v for v, _ in parts)), satterthwaite_df(parts)
    t = float(scipy_stats.t.ppf(0.5 + level / 2, df))
    return Difference(diff, diff - t * se, diff + t * se, a.seeds, False, se, df)


def speed_ratio(a: list[float], b: list[float], level: float = 0.95) -> Difference:
    """``log(a / b)`` for two models' per-seed speeds (images/s): the difference of their mean log speeds with a
    Welch ``level`` interval over seeds alone (``compare`` with ``seeds_only``); ``exp`` of it is the ratio of
    their geometric-mean speeds. Speeds are measured, not sampled from a test set, so seeds are the only spread."""
    logs = [Arm.of([math.log(x) for x in speeds], None) for speeds in (a, b)]
    return compare(*logs, level=level, seeds_only=True)


def _paired_bootstrap_variance(a: np.ndarray, b: np.ndarray, seed: int) -> float:
    """Variance, over bootstrap resamples of the test images, of (seed-mean accuracy of a) - (that of b)."""
    per_image = a.mean(axis=0) - b.mean(axis=0)  # each image's contribution, averaged over seeds
    rng = np.random.default_rng(seed)
    n = per_image.shape[0]
    means = np.array([per_image[rng.integers(0, n, n)].mean() for _ in range(BOOTSTRAP_SAMPLES)])
    return float(means.var(ddof=1))


def verdict_better(d: Difference) -> str:
    """For "a is more accurate than b": reproduced when the whole interval is above 0, not reproduced when it is
    wholly below 0, inconclusive otherwise or with fewer than ``MIN_SEEDS`` seeds in an arm."""
    if d.seeds < MIN_SEEDS:
        return INCONCLUSIVE
    return REPRODUCED if d.low > 0 else NOT_REPRODUCED if d.high < 0 else INCONCLUSIVE


def verdict_lower(d: Difference) -> str:
    """For "a is lower than b" (slower, for speeds): the mirror of ``verdict_better``."""
    if d.seeds < MIN_SEEDS:
        return INCONCLUSIVE
    return REPRODUCED if d.high < 0 else NOT_REPRODUCED if d.low > 0 else INCONCLUSIVE


def verdict_not_worse(d: Difference, tolerance: float) -> str:
    """For "a is as good as b or better": reproduced when the whole interval lies above ``-tolerance``, not
    reproduced when it lies wholly below, inconclusive otherwise or with fewer than ``MIN_SEEDS`` seeds in an arm."""
    if d.seeds < MIN_SEEDS:
        return INCONCLUSIVE
    return REPRODUCED if d.low > -tolerance else NOT_REPRODUCED if d.high < -tolerance else INCONCLUSIVE


def verdict_level(d: Difference, tolerance: float) -> str:
    """For "a and b are about the same" within ``tolerance`` (accuracy, 0-1): reproduced when the whole interval
    lies inside ±tolerance, not reproduced when it lies wholly outside, inconclusive otherwise."""
    if d.seeds < MIN_SEEDS:
        return INCONCLUSIVE
    if -tolerance <= d.low and d.high <= tolerance:
        return REPRODUCED
    return NOT_REPRODUCED if d.low > tolerance or d.high < -tolerance else INCONCLUSIVE


def correctness(runs_dir: Path, keys: list[str], labels: np.ndarray) -> np.ndarray | None:
    """Per-example correctness (seeds x images) of the landed runs ``keys`` under ``runs_dir``, or ``None`` if any
    run lacks its ``predictions.npy`` or it does not match ``labels`` in length."""
    rows = []
    for key in keys:
        path = runs_dir / key / "predictions.npy"
        if not path.exists():
            return None
        predicted = np.load(path)
        if predicted.shape != labels.shape:
            return None
        rows.append(predicted == labels)
    return np.stack(rows) if rows else None
