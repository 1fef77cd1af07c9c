"""vt.walkthrough: the traced tensors are the model's own, and the part costs add up."""

import torch

from vt.models import create
from vt.walkthrough import part_flops, trace


def test_the_trace_is_the_forward_pass_of_the_first_module():
    torch.manual_seed(0)
    model = create("vt_resnet20").eval()
    images = torch.randn(3, 3, 32, 32)
    t = trace(model, images)
    with torch.no_grad():
        x = model.backbone(images)
        out, tokens, attention = model.vt[0](x, need_attention=True)
    torch.testing.assert_close(t.features, x)
    torch.testing.assert_close(t.attention, attention)
    torch.testing.assert_close(t.tokens_out, tokens)
    torch.testing.assert_close(t.features_out, out)
    torch.testing.assert_close(t.relations.sum(-1), torch.ones(3, 16))
    torch.testing.assert_close(t.projection.sum(-1), torch.ones(3, 16 * 16))
    # eq. 5 as written, from the traced weights: X_out = X_in + P (T_out W_V)
    pixels = torch.bmm(t.projection, model.vt[0].projector.value(t.tokens_out))  # (B, HW, C)
    torch.testing.assert_close(t.features + pixels.transpose(1, 2).reshape_as(x), t.features_out, atol=1e-5, rtol=1e-4)


def test_part_costs_add_up_to_the_vt_and_name_the_replaced_stage():
    costs = part_flops().set_index("part")
    vt_parts = costs[costs.index.str.startswith("vt.")]
    assert len(vt_parts) == 8  # three tokenizers, three transformers, two projectors (the last module has none)
    assert costs.flops.iloc[-1] == 13_025_280  # ResNet-20's third stage at 32x32, as vt.flops counts it
