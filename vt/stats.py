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

The two variances add (independent sources); the interval is ``difference ± t · se`` with the Welch-Satterthwaite
degrees of freedom of the seed part (at least 1). An arm of one seed has no estimate of the seed spread, so its
comparisons get no interval; with fewer than ``MIN_SEEDS`` seeds in an arm a verdict is *inconclusive* whatever
the interval (``verdict_better``, ``verdict_level``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

import numpy as np

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
    """``a - b`` in accuracy (0-1) with its 95% interval and the fewer seeds of the two arms."""

    difference: float
    low: float
    high: float
    seeds: int
    paired: bool

    def points(self) -> str:
        """``+1.2 pt [+0.4, +2.0], 3 seeds``."""
        return (f"{100 * self.difference:+.1f} pt [{100 * self.low:+.1f}, {100 * self.high:+.1f}], "
                f"{self.seeds} seed{'s' if self.seeds != 1 else ''}")


def compare(a: Arm, b: Arm, level: float = 0.95, seed: int = 0, seeds_only: bool = False) -> Difference:
    """The difference ``mean(a) - mean(b)`` of two arms' accuracies and its ``level`` interval (module docstring).

    ``seeds_only``: the interval covers the spread over seeds alone, for a metric that is no proportion of
    independent test examples (mIoU over the pixels of one fixed eval split)."""
    diff = a.mean - b.mean
    seed_var = [x.std ** 2 / x.seeds if x.seeds > 1 else 0.0 for x in (a, b)]
    paired = a.correct is not None and b.correct is not None and a.correct.shape[1] == b.correct.shape[1]
    if seeds_only:
        test_var = 0.0
    elif paired:
        test_var = _paired_bootstrap_variance(a.correct, b.correct, seed)
    elif a.eval_size and b.eval_size:
        test_var = sum(x.mean * (1 - x.mean) / x.eval_size for x in (a, b))
    else:  # the test-set size is not known (a table from before it was recorded): no interval
        test_var = math.nan
    if min(a.seeds, b.seeds) < 2:  # the spread over seeds, the larger source, is unknown: no interval
        test_var = math.nan
    se = math.sqrt(sum(seed_var) + test_var)
    df = _welch_df(seed_var, a.seeds, b.seeds)
    t = t_quantile(0.5 + level / 2, df)
    return Difference(diff, diff - t * se, diff + t * se, min(a.seeds, b.seeds), paired)


def against(a: Arm, value: float, level: float = 0.95) -> Difference:
    """``mean(a) - value`` for a published number ``value`` taken as exact: a one-sample t-interval over ``a``'s
    seeds, widened by ``a``'s binomial test-set variance (no interval for one seed, as in ``compare``)."""
    diff = a.mean - value
    if a.seeds < 2 or not a.eval_size:
        return Difference(diff, math.nan, math.nan, a.seeds, False)
    se = math.sqrt(a.std ** 2 / a.seeds + a.mean * (1 - a.mean) / a.eval_size)
    t = t_quantile(0.5 + level / 2, a.seeds - 1)
    return Difference(diff, diff - t * se, diff + t * se, a.seeds, False)


def speed_ratio(a: list[float], b: list[float], level: float = 0.95) -> Difference:
    """``log(a / b)`` for two models' per-seed speeds (images/s): the difference of their mean log speeds with a
    Welch ``level`` interval over seeds alone (``compare`` with ``seeds_only``); ``exp`` of it is the ratio of
    their geometric-mean speeds. Speeds are measured, not sampled from a test set, so seeds are the only spread."""
    logs = [Arm.of([math.log(x) for x in speeds], None) for speeds in (a, b)]
    return compare(*logs, level=level, seeds_only=True)


def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile (``p`` > 0.5) of Student's t with ``df`` degrees of freedom (the normal's for infinite
    ``df``): its density integrated numerically and the quantile found by bisection, to about 1e-6."""
    if math.isinf(df):
        return NormalDist().inv_cdf(p)
    log_norm = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)

    def cdf(x: float) -> float:
        grid = np.linspace(0.0, x, 20001)
        density = np.exp(log_norm - (df + 1) / 2 * np.log1p(grid ** 2 / df))
        return 0.5 + float(np.sum((density[1:] + density[:-1]) / 2 * np.diff(grid)))

    low, high = 0.0, 1.0
    while cdf(high) < p:
        low, high = high, 2 * high
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if cdf(mid) < p else (low, mid)
    return (low + high) / 2


def _paired_bootstrap_variance(a: np.ndarray, b: np.ndarray, seed: int) -> float:
    """Variance, over bootstrap resamples of the test images, of (seed-mean accuracy of a) - (that of b)."""
    per_image = a.mean(axis=0) - b.mean(axis=0)  # each image's contribution, averaged over seeds
    rng = np.random.default_rng(seed)
    n = per_image.shape[0]
    means = np.array([per_image[rng.integers(0, n, n)].mean() for _ in range(BOOTSTRAP_SAMPLES)])
    return float(means.var(ddof=1))


def _welch_df(seed_var: list[float], na: int, nb: int) -> float:
    num = sum(seed_var) ** 2
    den = sum(v ** 2 / (n - 1) for v, n in zip(seed_var, (na, nb)) if n > 1 and v > 0)
    return max(1.0, num / den) if den > 0 else math.inf


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
