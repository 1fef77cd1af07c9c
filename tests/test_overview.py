"""The one-figure summary (``vt.report.overview``): each arm's interval is the seed-level t interval of its mean,
recomputed here from the landed runs' histories; a panel per study."""

import math

import pandas as pd
import pytest

from vt.paths import ROOT
from vt.report.overview import family, figure, points

T_975_DF2 = 4.302652729911275  # Student's t, 97.5% quantile, 2 degrees of freedom (a printed table's value)


def test_an_arms_interval_is_the_t_interval_of_its_seeds_final_accuracies():
    runs = ROOT / "results" / "tiny-imagenet-cpu" / "01_baseline" / "runs"
    finals = [pd.read_csv(runs / f"resnet20-seed{s}" / "history.csv").eval_acc.iloc[-1] * 100 for s in range(3)]
    mean = sum(finals) / 3
    sd = math.sqrt(sum((f - mean) ** 2 for f in finals) / 2)  # ddof = 1
    table = points(ROOT / "results")
    row = table[(table.profile == "tiny-imagenet-cpu") & (table.label == "resnet20")].iloc[0]
    assert row.seeds == 3 and math.isclose(row.acc, mean, rel_tol=1e-9)
    assert math.isclose(row.hi - row.acc, T_975_DF2 * sd / math.sqrt(3), rel_tol=1e-6)
    assert math.isclose(row.acc - row.lo, row.hi - row.acc, rel_tol=1e-9)


def test_fewer_than_three_seeds_have_no_interval_and_no_smoke_run_is_shown(tmp_path):
    rows = [{"label": m, "model": m, "seeds": n, "eval_acc": 0.8, "eval_acc_std": 0.01, "mflops": 40.0,
             "dataset": "cifar10", "epochs": 2} for m, n in (("resnet20", 2), ("vt_resnet20", 3))]
    for profile, dataset in (("some-study", "cifar10"), ("smoke", "synthetic")):
        (tmp_path / profile / "01_baseline").mkdir(parents=True)
        pd.DataFrame(rows).assign(dataset=dataset).to_csv(tmp_path / profile / "01_baseline" / "summary.csv",
                                                          index=False)
    table = points(tmp_path).set_index("label")
    assert set(table.profile) == {"some-study"}  # no smoke run, no synthetic data
    assert pd.isna(table.lo["resnet20"])  # 2 seeds: a one-degree-of-freedom interval is not drawn
    assert table.hi["vt_resnet20"] - table.acc["vt_resnet20"] == pytest.approx(T_975_DF2 * 1.0 / math.sqrt(3))
    assert "smoke" not in set(table.profile) and "synthetic" not in set(table.dataset)


def test_a_panel_per_study_and_the_families_by_name():
    table = points(ROOT / "results")
    fig = figure(table)
    shown = [ax for ax in fig.axes if ax.axison]
    assert len(shown) == len(table.groupby(["profile", "notebook"]))
    assert [family(m) for m in ("vt_resnet18", "vit_resnet_cifar", "resnet20")] == ["VT-ResNet", "ViTResNet", "ResNet"]
