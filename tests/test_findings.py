"""vt.findings, vt.report and vt.object_attention: verdicts follow the numbers, both ways; the report reads only files."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats as scipy_stats

from vt import findings, report, stats
from vt.notebooks import summary as summary_module
from vt.object_attention import object_attention, object_masks, over_seeds, summarize
from vt.data import Split, load


def summary(rows):
    """A summary of real-data runs, 3 seeds each, 10,000 test images, unless a row says otherwise."""
    base = {"eval_acc_std": 0.002, "gap": 0.0, "images_per_s": 100.0, "mflops": 10.0, "mparams": 0.3, "resolution": 32,
            "seeds": 3, "epochs": 20, "eval_size": 10000, "dataset": "cifar10", "shared_by": 1}
    return pd.DataFrame([{**base, **row} for row in rows])


def test_a_clear_win_a_loss_a_tie_inside_noise_one_seed_and_smoke():
    rows = [{"label": "resnet20", "model": "resnet20", "eval_acc": 0.80},
            {"label": "vit_resnet_cifar", "model": "vit_resnet_cifar", "eval_acc": 0.85}]
    win = findings.vit_beats_resnets(summary(rows))
    assert win.verdict == findings.REPRODUCED and win.seeds == 3
    # Four variance parts: each arm's seeds, 0.002^2 / 3 with 2 degrees of freedom, and each arm's binomial
    # test-set variance, p (1 - p) / 10,000 with 9,999. Welch-Satterthwaite over all four:
    # (sum v)^2 / sum(v^2 / df) = (3.1417e-5)^2 / 1.8196e-12 = 542.4 degrees of freedom, t(0.975, 542.4) = 1.9643.
    parts = [(0.002 ** 2 / 3, 2), (0.002 ** 2 / 3, 2), (0.85 * 0.15 / 1e4, 9999), (0.80 * 0.20 / 1e4, 9999)]
    df = sum(v for v, _ in parts) ** 2 / sum(v ** 2 / n for v, n in parts)
    assert df == pytest.approx(542.42, abs=0.01)
    half = 1.96435 * np.sqrt(sum(v for v, _ in parts))  # the t quantile from a table, not from the code under test
    assert win.difference == pytest.approx(5.0)
    assert (win.ci_low, win.ci_high) == pytest.approx((5.0 - 100 * half, 5.0 + 100 * half), abs=1e-3)
    # the seeds' two degrees of freedom alone (t = 4.303) would give an interval more than twice as wide
    assert win.ci_high - win.ci_low < 100 * 2 * 4.303 * np.sqrt(sum(v for v, _ in parts)) / 2
    rows[1]["eval_acc"] = 0.75
    assert findings.vit_beats_resnets(summary(rows)).verdict == findings.NOT_REPRODUCED
    rows[1].update(eval_acc=0.805, eval_acc_std=0.01)  # half a point, seeds spread by a point: noise
    tie = findings.vit_beats_resnets(summary(rows))
    assert tie.verdict == findings.INCONCLUSIVE and tie.ci_low < 0 < tie.ci_high
    rows[1].update(eval_acc=0.85, eval_acc_std=0.002)
    one_seed = summary(rows).assign(seeds=1, eval_acc_std=float("nan"))
    assert findings.vit_beats_resnets(one_seed).verdict == findings.INCONCLUSIVE
    assert findings.vit_beats_resnets(summary(rows).assign(dataset="synthetic")).verdict == findings.SMOKE
    assert findings.vit_beats_resnets(summary(rows).iloc[:1]).verdict == findings.NOT_RUN


def test_the_interval_widens_with_the_seeds_spread():
    rows = [{"label": "recurrent", "model": "vt", "eval_acc": 0.70, "eval_acc_std": 0.03},
            {"label": "pooling", "model": "vt", "eval_acc": 0.68, "eval_acc_std": 0.01}]
    assert findings.filter_beats_pooling(summary(rows)).verdict == findings.INCONCLUSIVE
    rows[0]["eval_acc_std"] = 0.002
    rows[1]["eval_acc_std"] = 0.002
    assert findings.filter_beats_pooling(summary(rows)).verdict == findings.REPRODUCED


def test_paired_predictions_narrow_the_interval_as_the_same_images_cancel():
    rng = np.random.default_rng(0)
    a = rng.random((3, 10000)) < 0.8
    b = a.copy()
    b[:, :150] = ~b[:, :150]  # b differs from a on 150 images only
    accs_a, accs_b = a.mean(1).tolist(), b.mean(1).tolist()
    paired = stats.compare(stats.Arm.of(accs_a, 10000, a), stats.Arm.of(accs_b, 10000, b))
    unpaired = stats.compare(stats.Arm.of(accs_a, 10000), stats.Arm.of(accs_b, 10000))
    assert paired.paired and not unpaired.paired
    assert paired.difference == pytest.approx(unpaired.difference)
    assert paired.high - paired.low < 0.5 * (unpaired.high - unpaired.low)


def test_satterthwaite_degrees_of_freedom_and_a_comparison_without_seed_spread():
    # Welch's two-sample case: variances 4/5 and 9/7 with 4 and 6 degrees of freedom:
    # (0.8 + 1.2857)^2 / (0.8^2 / 4 + 1.2857^2 / 6) = 4.3502 / 0.43551 = 9.989
    assert stats.satterthwaite_df([(4 / 5, 4), (9 / 7, 6)]) == pytest.approx(9.989, abs=1e-3)
    assert stats.satterthwaite_df([(0.0, 2), (0.5, 9)]) == pytest.approx(9.0)  # a part of variance 0 adds nothing
    assert stats.satterthwaite_df([(1.0, 0.2)]) == 1.0  # never below 1
    # Both arms' seeds agree exactly: the two test-set parts alone are left, 1.6e-5 and 1.716e-5 with 9,999 degrees of
    # freedom each: (3.316e-5)^2 / ((1.6e-5^2 + 1.716e-5^2) / 9999) = 19,973.6, not a silent infinity.
    same = stats.compare(stats.Arm(0.80, 0.0, 3, 10000), stats.Arm(0.78, 0.0, 3, 10000))
    assert same.df == pytest.approx(19973.6, abs=0.1)
    half = 1.96000 * np.sqrt(0.8 * 0.2 / 1e4 + 0.78 * 0.22 / 1e4)  # t(0.975, 19974) from a table
    assert (same.low, same.high) == pytest.approx((0.02 - half, 0.02 + half), abs=1e-6)
    # ... and with no test-set part either (speeds, mIoU): no variance, so no interval
    flat = stats.compare(stats.Arm(0.80, 0.0, 3, None), stats.Arm(0.78, 0.0, 3, None), seeds_only=True)
    assert np.isnan(flat.low) and np.isnan(flat.high)
    assert findings.INCONCLUSIVE == stats.verdict_better(flat)


def test_a_verdict_carries_the_p_value_that_decided_it_and_holm_adjusts_a_family():
    # d = 2 pt, se = 0.5 pt, 10 degrees of freedom: against 0, t = 4, p = 2 P(T_10 > 4) = 0.002518 (tables)
    d = stats.Difference(0.02, 0.0, 0.0, 3, False, se=0.005, df=10)
    assert stats.decision_p(d, (0.0,)) == pytest.approx(0.002518, abs=2e-6)
    # about the same within 1 pt: the nearest boundary, +1 pt, is 1 pt away: t = 2, p = 2 P(T_10 > 2) = 0.07339
    assert stats.decision_p(stats.Difference(0.0, 0, 0, 3, False, 0.005, 10), (-0.01, 0.01)) == pytest.approx(
        0.07339, abs=2e-5)
    assert np.isnan(stats.decision_p(stats.Difference(0.02, np.nan, np.nan, 1, False), (0.0,)))
    # Holm on (0.01, 0.04, 0.03, nan): sorted 0.01, 0.03, 0.04 times 3, 2, 1 -> 0.03, 0.06, 0.06 (kept monotone)
    adjusted = stats.holm([0.01, 0.04, 0.03, float("nan")])
    assert adjusted[:3] == pytest.approx([0.03, 0.06, 0.06]) and np.isnan(adjusted[3])
    assert stats.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_vt_beats_resnet_needs_accuracy_and_fewer_flops():
    rows = [{"label": "resnet20", "model": "resnet20", "eval_acc": 0.80, "mflops": 40.9},
            {"label": "vt_resnet20", "model": "vt_resnet20", "eval_acc": 0.82, "mflops": 32.5}]
    assert findings.vt_beats_resnet(summary(rows)).verdict == findings.REPRODUCED
    rows[1]["mflops"] = 50.0
    assert findings.vt_beats_resnet(summary(rows)).verdict == findings.NOT_REPRODUCED


def test_upscaling_and_token_sweeps():
    rows = [{"label": "resnet18@64", "model": "resnet18", "resolution": 64, "eval_acc": 0.40, "gap": 0.30},
            {"label": "resnet18@224", "model": "resnet18", "resolution": 224, "eval_acc": 0.55, "gap": 0.10},
            {"label": "tokens=16", "model": "vt", "eval_acc": 0.50}, {"label": "tokens=32", "model": "vt", "eval_acc": 0.502},
            {"label": "channels=1024", "model": "vt", "eval_acc": 0.45}, {"label": "channels=256", "model": "vt", "eval_acc": 0.50}]
    table = summary(rows)
    assert findings.upscaling_helps(table).verdict == findings.REPRODUCED
    # Unpaired, 10,000 images cannot confirm a one-point tie (binomial half-width about 1.4 points at 50%)...
    assert findings.tokens_level(table).verdict == findings.INCONCLUSIVE
    # ...a far larger test set (or predictions paired over the same images) can.
    level = findings.tokens_level(table.assign(eval_size=1_000_000))
    assert level.verdict == findings.REPRODUCED and -1 < level.ci_low and level.ci_high < 1
    table.loc[3, "eval_acc"] = 0.54  # four points apart: not level
    assert findings.tokens_level(table).verdict == findings.NOT_REPRODUCED
    narrow = findings.narrow_tokens_better(table)
    assert narrow.verdict == findings.REPRODUCED and narrow.evidence.startswith("channels=256")
    table.loc[1, "gap"] = 0.5  # the ResNet overfits more when upscaled: the report's finding fails
    assert findings.upscaling_helps(table).verdict == findings.NOT_REPRODUCED


def test_report_reads_result_files_and_prefers_real_data(tmp_path):
    real = summary([{"label": "resnet20", "model": "resnet20", "eval_acc": 0.90},
                    {"label": "vit_resnet_cifar", "model": "vit_resnet_cifar", "eval_acc": 0.85}])
    smoke = real.assign(eval_acc=[0.2, 0.3])
    longer = real[real.model == "resnet20"].assign(eval_acc=0.92)  # a longer run of one model, as cifar10-cpu-long
    for profile, table in (("cifar10-cpu", real), ("cifar10-cpu-long", longer), ("smoke", smoke)):
        (tmp_path / profile / "01_baseline").mkdir(parents=True)
        table.to_csv(tmp_path / profile / "01_baseline" / "summary.csv", index=False)
    every = report.verdicts(tmp_path)
    # the claims' order, whichever profile each verdict comes from
    assert list(report.headline(every).key) == list(dict.fromkeys(every.key))
    head = report.headline(every).set_index("key")
    assert head.loc["resnet20_matches_he", "profile"] == "cifar10-cpu-long"
    assert head.loc["vit_beats_resnets", "profile"] == "cifar10-cpu"
    assert head.loc["vit_beats_resnets", "verdict"] == findings.NOT_REPRODUCED  # from real data, not smoke's win
    assert head.loc["attention_on_objects", "verdict"] == findings.NOT_RUN
    text = report.markdown(tmp_path)
    assert "90.00%" in text and "20.00%" not in text  # the accuracy table lists real runs only
    assert text.count("not yet run") == len(head[head.verdict == findings.NOT_RUN])


def test_object_masks_from_boxes_are_inclusive_rectangles():
    split = Split(torch.zeros(2, 3, 8, 8, dtype=torch.uint8), torch.tensor([0, 1]),
                  boxes=torch.tensor([[0, 0, 3, 1], [2, 2, 2, 2]], dtype=torch.int16))
    masks = object_masks(split)
    assert masks[0].sum() == 4 * 2 and masks[0, 1, 3] == 1 and masks[0, 2, 0] == 0 and masks[1].sum() == 1


def test_uniform_attention_has_no_lift():
    """A model whose tokens attend uniformly puts exactly the object's area share on the object."""
    data = load("synthetic", train_size=64, eval_size=32)

    class Uniform(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def attention_maps(self, x):
            return [torch.full((len(x), 4, 8, 8), 1 / 64)]

    per_token = object_attention(Uniform(), data, 32, images=32, batch_size=8)
    row = summarize(per_token, "uniform")
    assert row["images"] == 32 and row["lift"] == pytest.approx(1.0)
    assert row["object_area"] == pytest.approx(data.eval.masks.float().mean().item(), rel=0.05)


def _attention(trained: list[float], untrained: list[float], area: float = 0.20, dataset: str = "tiny-imagenet"):
    per_seed = pd.DataFrame([{"label": label, "seed": s, "object_attention": a, "object_area": area, "lift": a / area,
                              "tokens_above_area": 0.5, "images": 1000}
                             for label, values in (("trained", trained), ("untrained", untrained))
                             for s, a in enumerate(values)])
    return over_seeds(per_seed).assign(dataset=dataset)


def test_over_seeds_gives_means_and_the_spread_over_seeds():
    table = _attention([0.30, 0.32, 0.34], [0.20, 0.21, 0.19]).set_index("label")
    assert table.loc["trained", "object_attention"] == pytest.approx(0.32)
    assert table.loc["trained", "object_attention_std"] == pytest.approx(0.02)
    assert table.loc["untrained", "seeds"] == 3 and table.loc["trained", "images"] == 1000


def test_attention_on_objects_needs_both_intervals_above_zero_and_three_seeds():
    clear = findings.attention_on_objects(_attention([0.30, 0.32, 0.34], [0.20, 0.21, 0.19]))
    assert clear.verdict == findings.REPRODUCED and clear.seeds == 3
    # trained over untrained: 12 pt, Welch interval with the two seed variances (0.02^2 and 0.01^2 over 3)
    se = np.sqrt(0.02 ** 2 / 3 + 0.01 ** 2 / 3)
    df = (0.02 ** 2 / 3 + 0.01 ** 2 / 3) ** 2 / ((0.02 ** 2 / 3) ** 2 / 2 + (0.01 ** 2 / 3) ** 2 / 2)
    half = 100 * scipy_stats.t.ppf(0.975, df) * se
    assert clear.difference == pytest.approx(12.0) and clear.ci_low == pytest.approx(12.0 - half, abs=1e-3)
    assert "trained over the area: +12.0 pt [" in clear.evidence
    assert "at most 5.0x for these objects" in clear.evidence and "28.3%" in clear.evidence  # 1 / the 20% area
    # attention above the untrained model's, but not above the box's share of the image: not reproduced
    below_area = findings.attention_on_objects(_attention([0.15, 0.16, 0.17], [0.10, 0.11, 0.09]))
    assert below_area.verdict == findings.NOT_REPRODUCED
    # seeds that disagree: an interval across zero decides nothing
    noisy = findings.attention_on_objects(_attention([0.30, 0.10, 0.45], [0.20, 0.21, 0.19]))
    assert noisy.verdict == findings.INCONCLUSIVE
    assert findings.attention_on_objects(_attention([0.30], [0.20])).verdict == findings.INCONCLUSIVE
    assert findings.attention_on_objects(_attention([0.30] * 3, [0.2] * 3, dataset="synthetic")).verdict == findings.SMOKE


def test_a_run_cut_short_by_its_time_budget_tests_nothing():
    table = summary([{"label": "resnet20", "model": "resnet20", "eval_acc": 0.80, "finished": True},
                     {"label": "vit_resnet_cifar", "model": "vit_resnet_cifar", "eval_acc": 0.85, "finished": False}])
    check = findings.CHECKS["01_baseline"][0]
    assert check.__name__ == "vit_beats_resnets" and check(table).verdict == findings.NOT_RUN
    table["finished"] = True
    assert check(table).verdict == findings.REPRODUCED
    # one seed finished, one stopped early: the row holds the finished seed's numbers, and it counts
    table = table.assign(finished=[True, False], epochs=30, planned_epochs=[30, 30], stopped_early=[0, 1])
    assert check(table).verdict == findings.REPRODUCED
    table["epochs"] = [30, 24]  # no seed finished: the row is a stopped run's
    assert check(table).verdict == findings.NOT_RUN


def test_resnet20_matches_he_within_the_margin_and_states_the_budget():
    rows = [{"label": "resnet20", "model": "resnet20", "eval_acc": 0.9180, "epochs": 100}]
    close = findings.resnet20_matches_he(summary(rows))
    assert close.verdict == findings.REPRODUCED and "after 100 epochs" in close.evidence and "(+0.6 pt)" in close.evidence
    # One-sample interval against 91.25: the seeds' part 0.002^2 / 3 (2 degrees of freedom) and the test set's
    # 0.918 x 0.082 / 10,000 (9,999): Welch-Satterthwaite gives 87.77, t(0.975, 87.77) = 1.98736 (tables), so the
    # half-width is 1.98736 x sqrt(8.8609e-6) = 0.5916 pt around +0.55 pt.
    assert close.difference == pytest.approx(0.55)
    assert (close.ci_low, close.ci_high) == pytest.approx((0.55 - 0.5916, 0.55 + 0.5916), abs=1e-3)
    rows[0]["eval_acc"] = 0.9030  # about a point below: the interval holds both -1 pt and less
    assert findings.resnet20_matches_he(summary(rows)).verdict == findings.INCONCLUSIVE
    rows[0]["eval_acc"] = 0.8735
    assert findings.resnet20_matches_he(summary(rows)).verdict == findings.NOT_REPRODUCED
    assert findings.resnet20_matches_he(summary(rows).assign(label="vt_resnet20")).verdict == findings.NOT_RUN
    assert findings.resnet20_matches_he(summary(rows).assign(dataset="tiny-imagenet")).verdict == findings.NOT_RUN


def test_speed_is_judged_over_seeds_and_runs_that_shared_a_device_decide_nothing():
    rows = [{"label": "resnet18", "model": "resnet18", "eval_acc": 0.9, "images_per_s": 900.0,
             "images_per_s_seeds": "880 900 920"},
            {"label": "vt_resnet18", "model": "vt_resnet18", "eval_acc": 0.9, "images_per_s": 800.0,
             "images_per_s_seeds": "790 800 810"}]
    slower = findings.vt_slower(summary(rows))
    # Welch over log speeds: 800/900 geometric means, 4 degrees of freedom; the change in speed is about -11%.
    assert slower.verdict == findings.REPRODUCED and slower.unit == "%" and slower.seeds == 3
    assert slower.difference == pytest.approx(100 * (np.exp(np.mean(np.log([790, 800, 810]))
                                                            - np.mean(np.log([880, 900, 920]))) - 1), abs=1e-6)
    assert slower.ci_high < 0 and "0.89x [" in slower.evidence and "resnet18 880 900 920" in slower.evidence
    assert "-11.1 % [" in slower.statistic()
    rows[1]["images_per_s_seeds"] = "700 900 1100"  # one seed faster, one slower: seeds cannot order them
    assert findings.vt_slower(summary(rows)).verdict == findings.INCONCLUSIVE
    rows[1]["images_per_s_seeds"] = "790 800"  # two seeds: a clear gap, but too few to decide
    assert findings.vt_slower(summary(rows)).verdict == findings.INCONCLUSIVE
    one_seed = findings.vt_slower(summary([{**rows[0], "images_per_s_seeds": 900.0, "seeds": 1},
                                           {**rows[1], "images_per_s_seeds": 800.0, "seeds": 1}]))
    assert one_seed.verdict == findings.INCONCLUSIVE and "no interval, 1 seed" in one_seed.statistic()
    rows[1]["images_per_s_seeds"] = "990 1000 1010"
    assert findings.vt_slower(summary(rows)).verdict == findings.NOT_REPRODUCED
    assert findings.vt_slower(summary(rows).drop(columns="images_per_s_seeds")).verdict == findings.INCONCLUSIVE
    shared = summary(rows).assign(shared_by=4)
    finding = findings.vt_slower(shared)
    assert finding.verdict == findings.NOT_RUN and "4 at a time" in finding.evidence
    unknown = summary(rows).assign(shared_by=[1, float("nan")])  # a history from before runs recorded it
    finding = findings.vt_slower(unknown)
    assert finding.verdict == findings.NOT_RUN and "not recorded" in finding.evidence
    history = pd.DataFrame({"epoch": [1, 2], "shared_by": [1.0, float("nan")]})
    assert np.isnan(summary_module._shared_by(history)) and np.isnan(summary_module._shared_by(history.drop(columns="shared_by")))
    assert summary_module._shared_by(history.fillna(1)) == 1
    assert "4 runs sharing" in report._speed(next(shared.itertuples()))


def test_speeds_of_runs_trained_on_different_machines_decide_nothing(tmp_path):
    rows = [{"label": "resnet20", "model": "resnet20", "eval_acc": 0.9, "images_per_s": 900.0,
             "images_per_s_seeds": "880 900 920", "run_keys": '["resnet20-seed0"]'},
            {"label": "vt_resnet20", "model": "vt_resnet20", "eval_acc": 0.9, "images_per_s": 800.0,
             "images_per_s_seeds": "790 800 810", "run_keys": '["vt_resnet20-seed0"]'}]
    table = summary(rows)
    table.attrs["folder"] = str(tmp_path)

    def land(key: str, device: str) -> None:
        (tmp_path / "runs" / key).mkdir(parents=True, exist_ok=True)
        (tmp_path / "runs" / key / "config.json").write_text(json.dumps({"environment": {"device_name": device}}))

    land("resnet20-seed0", "CPU A")
    land("vt_resnet20-seed0", "CPU A")
    assert findings.vt_slower(table).verdict == findings.REPRODUCED  # one machine: the seeds decide
    land("vt_resnet20-seed0", "CPU B")
    finding = findings.vt_slower(table)
    assert finding.verdict == findings.NOT_RUN
    assert "different machines (resnet20 on CPU A; vt_resnet20 on CPU B)" in finding.evidence


def test_a_profile_the_report_does_not_list_still_outranks_the_smoke_run(tmp_path):
    rows = [{"label": "resnet20", "model": "resnet20", "eval_acc": 0.90},
            {"label": "vit_resnet_cifar", "model": "vit_resnet_cifar", "eval_acc": 0.85}]
    for profile, table in (("my-gpu-run", summary(rows)), ("smoke", summary(rows).assign(dataset="synthetic"))):
        (tmp_path / profile / "01_baseline").mkdir(parents=True)
        table.to_csv(tmp_path / profile / "01_baseline" / "summary.csv", index=False)
    head = report.headline(report.verdicts(tmp_path)).set_index("key")
    assert head.loc["vit_beats_resnets", "profile"] == "my-gpu-run"
    assert head.loc["vit_beats_resnets", "verdict"] == findings.NOT_REPRODUCED


def test_a_verdict_on_enough_seeds_outranks_a_preferred_profile_with_one_seed(tmp_path):
    rows = [{"label": "resnet20", "model": "resnet20", "eval_acc": 0.80},
            {"label": "vit_resnet_cifar", "model": "vit_resnet_cifar", "eval_acc": 0.85}]
    for profile, table in (("cifar10-long", summary(rows).assign(seeds=1, eval_acc_std=float("nan"))),
                           ("cifar10-cpu", summary(rows))):
        (tmp_path / profile / "01_baseline").mkdir(parents=True)
        table.to_csv(tmp_path / profile / "01_baseline" / "summary.csv", index=False)
    head = report.headline(report.verdicts(tmp_path)).set_index("key")
    assert (head.loc["vit_beats_resnets", "profile"], head.loc["vit_beats_resnets", "verdict"]) == (
        "cifar10-cpu", findings.REPRODUCED)
    (tmp_path / "cifar10-cpu" / "01_baseline" / "summary.csv").unlink()  # only the one-seed run left
    head = report.headline(report.verdicts(tmp_path)).set_index("key")
    assert (head.loc["vit_beats_resnets", "profile"], head.loc["vit_beats_resnets", "verdict"]) == (
        "cifar10-long", findings.INCONCLUSIVE)


def test_a_claim_on_two_data_sets_gets_a_row_each_that_names_the_disagreement_and_a_family_reading(tmp_path):
    """Recurrent beats pooling by 5 points on CIFAR-10 and loses by 5 on Tiny ImageNet (3 seeds, 0.2 pt spread):
    two rows, each naming the other's verdict; both decided far beyond chance, so both hold after Holm's adjustment
    over the table's tested rows; the smoke run, synthetic, is left out of the family."""
    rows = [{"label": "recurrent", "model": "vt_resnet20", "eval_acc": 0.80},
            {"label": "pooling", "model": "vt_resnet20", "eval_acc": 0.75}]
    flipped = [{**rows[0], "eval_acc": 0.70}, rows[1]]
    for profile, table in (("cifar10-cpu-tokenizers", summary(rows)),
                           ("tiny-imagenet-cpu-tokenizers", summary(flipped).assign(dataset="tiny-imagenet")),
                           ("smoke", summary(rows).assign(dataset="synthetic", seeds=1))):
        (tmp_path / profile / "02_tokenizers").mkdir(parents=True)
        table.to_csv(tmp_path / profile / "02_tokenizers" / "summary.csv", index=False)
    head = report.headline(report.verdicts(tmp_path))
    pooling = head[head.key == "filter_beats_pooling"].set_index("dataset")
    assert list(pooling.index) == ["cifar10", "tiny-imagenet"]
    assert list(pooling.verdict) == [findings.REPRODUCED, findings.NOT_REPRODUCED]
    assert pooling.disagrees["cifar10"] == "Tiny ImageNet: not reproduced"
    assert pooling.disagrees["tiny-imagenet"] == "CIFAR-10: reproduced"
    assert all(pooling.family.str.startswith("holds (adjusted p < 0.001)"))
    inconclusive = head.set_index("key").loc["recurrent_beats_filter"]
    assert inconclusive.verdict == findings.NOT_RUN and inconclusive.family == "—"
    text = report.markdown(tmp_path)
    assert "| CIFAR-10 | reproduced (differs on Tiny ImageNet: not reproduced) | holds" in text


def test_each_verdict_says_why_with_the_numbers_that_decided_it_and_what_their_sign_means():
    rows = [{"label": "resnet20", "model": "resnet20", "eval_acc": 0.85},
            {"label": "vit_resnet_cifar", "model": "vit_resnet_cifar", "eval_acc": 0.80}]
    loss = findings.vit_beats_resnets(summary(rows))
    assert loss.verdict == findings.NOT_REPRODUCED
    assert loss.because == (f"because vit_resnet_cifar − resnet20 is -5.0 pt, 95% interval [{loss.ci_low:+.1f}, "
                            f"{loss.ci_high:+.1f}], which lies wholly below 0 (positive: vit_resnet_cifar ahead)")
    assert loss.because in loss.markdown()
    one_seed = findings.vit_beats_resnets(summary(rows).assign(seeds=1, eval_acc_std=float("nan")))
    assert one_seed.because == "because an arm has 1 seed, fewer than the 3 a verdict needs"
    level = findings.tokens_level(summary([{"label": "tokens=16", "model": "vt_resnet20", "eval_acc": 0.800},
                                           {"label": "tokens=32", "model": "vt_resnet20", "eval_acc": 0.801}]).assign(
        eval_size=200_000))  # unpaired, 10,000 images alone would give about ±1.1 pt
    assert level.verdict == findings.REPRODUCED and "which lies within ±1 pt (positive: tokens=32 ahead)" in level.because
    # A verdict decided by counts names the count that decided it.
    flops = pd.DataFrame({"section": "paper models", "model": ["resnet18", "vt_resnet18"], "mflops": [1819.0, 1542.0],
                          "mparams": [11.69, 11.81]})
    cheaper = findings.vt_cheaper(flops)
    assert cheaper.verdict == findings.NOT_REPRODUCED
    assert cheaper.because.startswith("because vt_resnet18 has 11.81 M parameters, more than resnet18's 11.69 M")
    slower = rows + [{"label": "vt_resnet20", "model": "vt_resnet20", "eval_acc": 0.84, "mflops": 20.0}]
    costlier = findings.vt_beats_resnet(summary(slower).assign(mflops=[10.0, 10.0, 20.0]))
    assert costlier.because == "because vt_resnet20 counts 20.0 MFLOPs, not fewer than resnet20's 10.0"


def test_every_verdict_shown_in_readme_and_report_gives_its_reason_and_sign():
    from vt.paths import ROOT

    shown = (ROOT / "README.md").read_text() + (ROOT / "results" / "report.md").read_text()
    table = report.headline(report.verdicts(ROOT / "results"))
    decided = table[table.verdict.isin([findings.REPRODUCED, findings.NOT_REPRODUCED, findings.INCONCLUSIVE])]
    assert len(decided) >= 10
    for row in decided.itertuples():
        assert row.because.startswith("because "), row.claim
        why = row.because[0].upper() + row.because[1:]
        assert why in shown, why
        if pd.notna(row.difference) and row.seeds >= 3 and "MFLOPs, not fewer" not in row.because:
            assert findings.base.signed(row.difference) in row.because and ("positive: " in row.because or "negative: " in row.because)


def test_segmentation_models_that_predict_only_background_are_said_to_have_learnt_nothing(tmp_path):
    rows = [{"label": "FPN", "model": "fpn_resnet18", "miou": 0.124, "miou_std": float("nan"), "seeds": 3},
            {"label": "VT-FPN", "model": "vt_fpn_resnet18", "miou": 0.124, "miou_std": float("nan"), "seeds": 3}]
    table = summary(rows).assign(dataset="lip")
    table.attrs["folder"] = str(tmp_path)
    iou = {"background": 0.87, "disk": 0.0, "ring": 0.0}
    pd.DataFrame([{"label": r["label"], "class": c, "iou": v} for r in rows for c, v in iou.items()]).to_csv(
        tmp_path / "per_class.csv", index=False)
    collapsed = findings.vt_fpn_matches_miou(table)
    assert collapsed.verdict == findings.INCONCLUSIVE and collapsed.difference is None
    assert collapsed.because == "because FPN and VT-FPN learnt nothing to compare"
    iou["ring"] = 0.3  # both learnt a shape: a comparison again
    pd.DataFrame([{"label": r["label"], "class": c, "iou": v} for r in rows for c, v in iou.items()]).to_csv(
        tmp_path / "per_class.csv", index=False)
    assert findings.vt_fpn_matches_miou(table).difference is not None


def test_the_pair_a_verdict_rests_on_is_the_clearest_failure_or_else_the_weakest_pair_of_its_verdict():
    from vt.findings.base import deciding

    R, N, I = findings.REPRODUCED, findings.NOT_REPRODUCED, findings.INCONCLUSIVE
    # not reproduced: of the failing pairs the one with the smallest p, never the inconclusive pair beside them
    assert deciding(N, [(I, 0.40), (N, 0.03), (N, 0.001)]) == 2
    # reproduced (every pair holds): the weakest, largest p
    assert deciding(R, [(R, 0.001), (R, 0.04), (R, 0.01)]) == 1
    # inconclusive: an inconclusive pair, not the one that holds
    assert deciding(I, [(R, 0.30), (I, 0.20), (I, 0.60)]) == 2


def test_a_signed_number_that_rounds_to_zero_is_shown_without_a_sign():
    assert [findings.base.signed(x) for x in (-0.04, 0.04, -0.06, 2.0, -3.25)] == ["0.0", "0.0", "-0.1", "+2.0", "-3.2"]
    assert findings.base.signed(-0.004, 2) == "0.00" and findings.base.signed(0.126, 2) == "+0.13"


def test_a_comparison_with_diverged_runs_says_so_beside_its_interval():
    """Three seeds of the wide arm ended at chance: the verdict stands on its interval, the reason says what it
    measures; with no diverged run nothing is added."""
    table = pd.DataFrame([
        {"label": "channels=128", "model": "vt_resnet20", "eval_acc": 0.60, "eval_acc_std": 0.01, "seeds": 3,
         "eval_size": 1000, "diverged": 0},
        {"label": "channels=512", "model": "vt_resnet20", "eval_acc": 0.05, "eval_acc_std": 0.005, "seeds": 3,
         "eval_size": 1000, "diverged": 3}])
    finding = findings.narrow_tokens_better(table)
    assert finding.verdict == findings.REPRODUCED
    assert finding.because.endswith("which lies wholly above 0 (positive: channels=128 ahead); but 3 of 3 "
                                    "channels=512 runs diverged (final train accuracy under twice chance), so the "
                                    "difference measures a failure to train, not the accuracy of a trained model")
    assert "diverged" not in findings.narrow_tokens_better(table.assign(diverged=0)).because
