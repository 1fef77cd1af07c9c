"""One figure for the whole collection: every study on real data, its arms' test accuracy against their cost in
MFLOPs, with a 95% interval over seeds (``results/overview.png``; README and the HTML report show it first).

The interval is the seed-level Student-t interval of each arm's mean, ``mean ± t_{0.975, n-1} s / sqrt(n)``, drawn for
arms of at least 3 seeds, as a verdict needs (with 2, its one degree of freedom makes it too wide to read); the
claims' intervals also count the test images' sampling (``vt.stats``), so they are wider. An arm with fewer seeds is
drawn hollow, without an interval. Written by ``python -m vt.report --update-docs`` from the files under ``results/``.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter
from scipy import stats

from vt.stats import MIN_SEEDS

FAMILIES = {"VT-ResNet": "tab:orange", "ResNet": "tab:blue", "ViTResNet": "tab:green"}
OVERVIEW = "overview.png"
POINT_COLUMNS = ["profile", "notebook", "dataset", "epochs", "label", "family", "mflops", "seeds", "acc", "lo", "hi"]


def family(model: str) -> str:
    """The model family a registry name belongs to: ``vt_*`` VT-ResNet, ``vit_*`` the earlier report's ViTResNet,
    ``resnet*`` ResNet."""
    if model.startswith("vt_"):
        return "VT-ResNet"
    if model.startswith("vit_"):
        return "ViTResNet"
    return "ResNet"


def points(results_dir: str | Path = "results") -> pd.DataFrame:
    """Every arm of every study on real data: ``profile``, ``notebook``, ``dataset``, ``epochs``, ``label``,
    ``family``, ``mflops``, ``seeds``, the mean test accuracy ``acc`` in percent and its 95% seed interval ``lo``,
    ``hi`` (NaN under ``MIN_SEEDS`` seeds)."""
    from vt.report import real_accuracies

    real = real_accuracies(results_dir).copy()
    if len(real) == 0:
        return pd.DataFrame(columns=POINT_COLUMNS)
    half = [stats.t.ppf(0.975, n - 1) * s / math.sqrt(n) if n >= MIN_SEEDS else math.nan
            for n, s in zip(real.seeds, real.eval_acc_std)]
    real["acc"] = 100 * real.eval_acc
    real["lo"] = real.acc - 100 * pd.Series(half, index=real.index)
    real["hi"] = real.acc + 100 * pd.Series(half, index=real.index)
    real["family"] = real.model.map(family)
    return real[POINT_COLUMNS].reset_index(drop=True)


def figure(table: pd.DataFrame) -> Figure:
    """A panel per study (profile and notebook), accuracy against MFLOPs (on a log scale where they span more than
    4x), coloured by model family."""
    from vt.report import REAL_DATA

    studies = list(table.groupby(["profile", "notebook"], sort=False))
    columns = min(4, max(1, len(studies)))
    rows = max(1, math.ceil(len(studies) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 3.0 * rows), squeeze=False)
    for ax in axes.flat[len(studies):]:
        ax.set_axis_off()
    for ax, ((profile, notebook), arms) in zip(axes.flat, studies):
        # arms that are the same runs (a study's shared arm under two names) are one point with both names
        arms = arms.assign(mflops=arms.mflops.round(3), acc=arms.acc.round(6))
        arms = arms.groupby(["mflops", "acc"], as_index=False, sort=False).agg(
            {"label": " = ".join, "family": "first", "seeds": "first", "lo": "first", "hi": "first",
             "epochs": "first"})
        for arm in arms.itertuples():
            colour = FAMILIES[arm.family]
            one = arm.seeds < MIN_SEEDS
            ax.errorbar(arm.mflops, arm.acc, yerr=None if one else [[arm.acc - arm.lo], [arm.hi - arm.acc]],
                        fmt="o", color=colour, mfc="white" if one else colour, capsize=3, ms=5)
        if arms.mflops.max() > 4 * arms.mflops.min():
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
            ax.xaxis.set_major_formatter(ScalarFormatter())
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.margins(x=0.35, y=0.25)
        _label(ax, arms)
        seeds = f"{arms.seeds.min()}-{arms.seeds.max()}" if arms.seeds.nunique() > 1 else f"{arms.seeds.iloc[0]}"
        epochs = "/".join(str(e) for e in sorted(arms.epochs.unique()))
        ax.set_title(textwrap.fill(REAL_DATA.get(profile, profile), 48) +
                     f"\n{notebook}, {epochs} epochs, {seeds} seed(s) an arm", fontsize=7.5)
        ax.tick_params(labelsize=7)
        ax.set_xlabel("MFLOPs per image", fontsize=7)
        ax.set_ylabel("test top-1 (%)", fontsize=7)
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=name) for name, c in FAMILIES.items()]
    handles.append(plt.Line2D([], [], marker="o", ls="", color="grey", mfc="white",
                              label=f"fewer than {MIN_SEEDS} seeds (no interval)"))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, frameon=False)
    fig.suptitle("Every study on real data: test accuracy against cost, 95% interval over seeds (each panel its own "
                 "scale; the claims' intervals also count the test images)", fontsize=10)
    fig.tight_layout(rect=(0, 0.04, 1, 0.97))
    return fig


def _label(ax, arms: pd.DataFrame) -> None:
    """Name each arm beside its point, on the side where its label (about 1.8% of the panel's width a character)
    stays inside the panel and covers no other point near its height; above the point where neither side is free."""
    ax.autoscale_view()
    to_axes = ax.transData + ax.transAxes.inverted()
    at = to_axes.transform(arms[["mflops", "acc"]].to_numpy(dtype=float))
    for i, arm in enumerate(arms.itertuples()):
        x, y = at[i]
        width = 0.018 * len(arm.label) + 0.03
        near = [(ox, oy) for j, (ox, oy) in enumerate(at) if j != i and abs(oy - y) < 0.08]

        def free(lo: float, hi: float) -> bool:
            return 0 <= lo and hi <= 1 and not any(lo <= ox <= hi for ox, _ in near)

        side = "right" if free(x, x + width) else "left" if free(x - width, x) else "above"
        offset, ha, va = {"right": ((6, 0), "left", "center"), "left": ((-6, 0), "right", "center"),
                          "above": ((0, 7), "center", "bottom")}[side]
        ax.annotate(arm.label, (arm.mflops, arm.acc), textcoords="offset points", xytext=offset, ha=ha, va=va,
                    fontsize=6.5, color=FAMILIES[arm.family])


def write(path: Path, results_dir: str | Path = "results") -> Path:
    """Draw ``figure(points(results_dir))`` into ``path``; returns it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = figure(points(results_dir))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
