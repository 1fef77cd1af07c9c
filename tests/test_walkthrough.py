"""vt.walkthrough: the traced tensors are the model's own, and the part costs add up."""

import torch

from vt.models import create
from vt.walkthrough import part_flops, trace, walk_model


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
    # ResNet-20's third stage at 32x32 (He et al.'s option A shortcuts: no convolution), as vt.flops counts it: on the
    # 8x8 map, a 3x3 convolution 32 -> 64 with stride 2, then five 3x3 convolutions 64 -> 64, one multiply-add each
    # per output pixel and weight, and six batch norms of 64 x 8 x 8 elements at 2 FLOPs each.
    convolutions = 8 * 8 * 64 * 32 * 9 + 5 * (8 * 8 * 64 * 64 * 9)
    assert convolutions == 12_976_128
    assert costs.flops.iloc[-1] == convolutions + 6 * (64 * 8 * 8) * 2


def _publish_by_hand(folder, model, seed: int = 4) -> None:
    """A manifest in ``folder`` listing ``model``'s state as the 'cifar10' weights of vt_resnet20."""
    import pandas as pd

    from vt import weights as W

    torch.save(model.state_dict(), folder / "vt.pt")
    row = {"model": "vt_resnet20", "weights": "cifar10", "file": "vt.pt", "profile": "p", "notebook": "n",
           "seed": seed, "epochs": 1, "dataset": "cifar10", "resolution": 32, "precision": "bf16", "batch_size": 8,
           "eval_acc": 0.5, "sha256": W.sha256(folder / "vt.pt")}
    pd.DataFrame([row], columns=W.MANIFEST_COLUMNS).to_csv(folder / "manifest.csv", index=False)


def test_the_walk_model_has_the_shipped_weights_on_cifar10_only(tmp_path):
    torch.manual_seed(7)
    trained = create("vt_resnet20")
    _publish_by_hand(tmp_path, trained)
    model, whose = walk_model("cifar10", 32, 10, tmp_path)
    assert whose.startswith("trained weights") and "seed 4" in whose
    for name, value in trained.state_dict().items():
        torch.testing.assert_close(model.state_dict()[name], value)
    for dataset, resolution in (("synthetic", 32), ("cifar10", 64)):
        other, whose = walk_model(dataset, resolution, 10, tmp_path)
        assert whose.startswith("untrained")
        assert not torch.equal(other.state_dict()["fc.weight"], trained.state_dict()["fc.weight"])


def test_the_walk_model_says_so_while_no_weights_are_published(tmp_path):
    model, whose = walk_model("cifar10", 32, 10, tmp_path)
    assert whose == "untrained weights (no trained CIFAR-10 weights are published yet)"
