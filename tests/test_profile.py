"""vt.profile: operators sorted into kinds, a profiled step that names the VT parts and counts each kind's FLOPs,
and the efficiency ceiling the work FLOPs do not count leaves."""

import pandas as pd
import pytest

from vt import profile


@pytest.mark.parametrize("op, kind", [
    ("aten::_scaled_dot_product_flash_attention_for_cpu_backward", "attention"), ("aten::_softmax", "attention"),
    ("aten::convolution_backward", "convolution"), ("aten::bmm", "per-image product"), ("aten.bmm", "per-image product"),
    ("aten::addmm", "weight product"), ("aten.mm", "weight product"), ("aten.convolution", "convolution"),
    ("aten::native_batch_norm", "normalization"), ("aten::copy_", "layout and copies"), ("aten::_to_copy", "dtype casts"),
    ("aten::threshold_backward", "element-wise"), ("aten::_foreach_add_", "optimizer"), ("aten::resize_", "other"),
    ("## Call CompiledFxGraph fx3q2 ##", "fused kernels"),
])
def test_operators_fall_into_their_kind(op, kind):
    assert profile.kind(op) == kind


def test_a_profiled_step_times_each_vt_part_and_every_kind_and_counts_their_flops():
    parts, kinds = profile.profile_steps(["vt_resnet20", "resnet20"], batch_size=4, steps=1, warmup=1, precision="fp32",
                                         rounds=2)
    names = set(parts[parts.model == "vt_resnet20"].part)
    assert {"vt.0.tokenizer", "vt.0.transformer", "vt.0.projector", "vt.2.transformer", "backbone.3"} <= names
    assert "features.5" in set(parts[parts.model == "resnet20"].part)
    assert (parts.ms >= 0).all() and (parts.groupby("model").share.sum() <= 1.0).all()
    vt = kinds[kinds.model == "vt_resnet20"].set_index("kind")
    assert vt.share.sum() == pytest.approx(1.0) and vt.step_ms.iloc[0] > 0
    # FLOPs of a training step (2 a multiply-add; backward twice the forward for these kinds): forward
    # convolutions and weight products counted by vt.flops, 4 images, times 2 for FLOPs, times 3 with the backward.
    from vt.flops import count
    from vt.models import create
    forward = count(create("vt_resnet20", num_classes=10), (3, 32, 32)).flops
    assert vt.gflop.sum() * 1e9 == pytest.approx(4 * 2 * 3 * forward, rel=0.02)
    assert vt.gflop["per-image product"] > 0 and vt.gflop.get("normalization", 0.0) == 0.0
    assert "per-image product" not in set(kinds[(kinds.model == "resnet20") & (kinds.gflop > 0)].kind)


def _kinds(rows: dict[str, tuple[float, float]]) -> pd.DataFrame:
    return pd.DataFrame([{"kind": k, "ms": ms, "gflop": g} for k, (ms, g) in rows.items()])


def test_the_ceiling_runs_every_counted_flop_at_the_baselines_rate_and_keeps_the_rest():
    # ResNet: 100 GFLOP of convolution in 50 ms (2 GFLOP/ms), 50 ms of work FLOPs do not count.
    resnet = _kinds({"convolution": (50.0, 100.0), "fused kernels": (50.0, 0.0)})
    # VT: half the FLOPs (ratio 2), 10 GFLOP of them in per-image products that take 20 ms, and 60 ms uncounted.
    vt = _kinds({"convolution": (30.0, 40.0), "per-image product": (20.0, 10.0), "fused kernels": (60.0, 0.0)})
    c = profile.ceiling(vt, resnet)
    assert c["flops_ratio"] == pytest.approx(2.0)
    assert c["ceiling"] == pytest.approx(100 / (50 / 2 + 60) / 2)  # 25 ms counted at 2 GFLOP/ms, 60 ms kept
    # Then each counted kind takes the time it took: per-image products first, the convolutions last, which
    # leaves the profiled efficiency.
    assert list(c["as_run"]) == ["per-image product", "convolution"]
    assert c["as_run"]["per-image product"] == pytest.approx(100 / (40 / 2 + 20 + 60) / 2)
    assert c["as_run"]["convolution"] == pytest.approx(100 / 110 / 2) == pytest.approx(c["profiled"])
    assert c["uncounted_share"] == pytest.approx(60 / 110) and c["baseline_uncounted_share"] == pytest.approx(0.5)
    assert c["code_share"] == 0.0
    # The code's own layout changes and dtype casts: a share of the VT model's step, counted in its uncounted work.
    copies = _kinds({"convolution": (30.0, 40.0), "layout and copies": (4.0, 0.0), "dtype casts": (1.0, 0.0),
                     "fused kernels": (55.0, 0.0)})
    assert profile.ceiling(copies, resnet)["code_share"] == pytest.approx(5 / 90)


def test_readme_shows_each_gpu_profile_and_says_so_where_there_is_none(tmp_path):
    from vt.paths import ROOT
    from vt.report import gpu_profiles_markdown

    (tmp_path / "bench").mkdir()
    measured = ROOT / "results" / "bench" / "profile-cpu-32.csv"
    (tmp_path / "bench" / "profile-cpu-224.csv").write_bytes(measured.read_bytes())  # a CPU's, at 224: not shown
    assert gpu_profiles_markdown(tmp_path).startswith("No GPU profile yet")
    (tmp_path / "bench" / "profile-h200-224.csv").write_bytes(measured.read_bytes())
    assert gpu_profiles_markdown(tmp_path) == profile.markdown(tmp_path / "bench" / "profile-h200-224.csv")
