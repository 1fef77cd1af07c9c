"""vt.profile: operators sorted into kinds, and a profiled step that names the VT parts."""

import pytest

from vt import profile


@pytest.mark.parametrize("op, kind", [
    ("aten::_scaled_dot_product_flash_attention_for_cpu_backward", "attention"), ("aten::_softmax", "attention"),
    ("aten::convolution_backward", "convolution"), ("aten::bmm", "matrix product"), ("aten::addmm", "matrix product"),
    ("aten::native_batch_norm", "normalization"), ("aten::copy_", "layout and copies"), ("aten::_to_copy", "dtype casts"),
    ("aten::threshold_backward", "element-wise"), ("aten::_foreach_add_", "optimizer"), ("aten::resize_", "other"),
])
def test_operators_fall_into_their_kind(op, kind):
    assert profile.kind(op) == kind


def test_a_profiled_step_times_each_vt_part_and_every_kind(tmp_path):
    parts, kinds = profile.profile_steps("vt_resnet20", batch_size=4, steps=1, warmup=1, precision="fp32")
    names = set(parts.part)
    assert {"vt.0.tokenizer", "vt.0.transformer", "vt.0.projector", "vt.2.transformer", "backbone.3"} <= names
    assert (parts.ms >= 0).all() and parts.share.sum() <= 1.0
    assert kinds.share.sum() == pytest.approx(1.0) and "convolution" in set(kinds.kind)
    assert kinds.step_ms.iloc[0] > 0
