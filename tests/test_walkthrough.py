"""vt.walkthrough: the traced tensors are the model's own (eqs. 1, 2 and 5 written out), the part costs add up, the exercises take the answers worked out by hand and the measures read hand-made cases right."""

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
    # eq. 5 as written costs more than as computed, by the products with W_Q done per pixel rather than per token:
    # X W_Q (HW C D/2) and the logits (HW L D/2) against T W_K W_Q^T (L D/2 C) and the logits X (.)^T (HW C L)
    hw, c, half, tokens = 16 * 16, 32, 64, 16
    extra = hw * c * half + hw * tokens * half - tokens * half * c - hw * c * tokens
    projectors = costs[costs.index.str.endswith("projector")]
    assert ((projectors.flops_as_written - projectors.flops) == extra).all()
    others = costs[~costs.index.str.endswith("projector")]
    assert (others.flops_as_written == others.flops).all()


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


def test_the_trace_of_a_recurrent_module_follows_equation_2_and_its_forward_pass():
    torch.manual_seed(1)
    model = create("vt_resnet20").eval()
    images = torch.randn(2, 3, 32, 32)
    t = trace(model, images, module=1)
    with torch.no_grad():
        x = model.backbone(images)
        x, tokens_in, _ = model.vt[0](x)
        out, tokens, attention = model.vt[1](x, tokens_in, need_attention=True)
    torch.testing.assert_close(t.tokens_in, tokens_in)
    torch.testing.assert_close(t.features, x)
    torch.testing.assert_close(t.attention, attention)
    torch.testing.assert_close(t.tokens_out, tokens)
    torch.testing.assert_close(t.features_out, out)
    # eq. 2 written out: W_R = T_in W_{T->R}; A = softmax_HW(X W_R / sqrt(C)); T = (A^T X) W_V
    tokenizer = model.vt[1].tokenizer
    c = x.shape[1]
    w_r = tokens_in @ tokenizer.token_to_filter.weight.T  # (B, L, C)
    torch.testing.assert_close(t.filters, w_r)
    pixels = x.flatten(2).transpose(1, 2)  # (B, HW, C)
    a = torch.softmax(pixels @ w_r.transpose(1, 2) / c**0.5, dim=1)  # over the HW pixels
    torch.testing.assert_close(t.attention, a)
    torch.testing.assert_close(t.tokens, tokenizer.value(a.transpose(1, 2) @ pixels))


def test_the_last_module_has_no_projector_and_returns_its_input_map():
    import pytest

    from vt.walkthrough.figures import projector_winners

    model = create("vt_resnet20").eval()
    t = trace(model, torch.randn(1, 3, 32, 32), module=2)
    assert t.projection is None
    torch.testing.assert_close(t.features_out, t.features)
    with pytest.raises(ValueError, match="no projector"):
        projector_winners(torch.zeros(1, 3, 32, 32, dtype=torch.uint8), {"trained": t})
    with pytest.raises(ValueError, match="has no transformer"):
        trace(create("vt_resnet20", transformer=False), torch.randn(1, 3, 32, 32))


def test_each_exercise_takes_the_answer_worked_out_by_hand_and_refuses_a_near_miss(capsys):
    import math

    from vt.walkthrough.exercises import NOT_ANSWERED, QUESTIONS, Exercises

    torch.manual_seed(0)
    check = Exercises(trace(create("vt_resnet20"), torch.randn(1, 3, 32, 32)))
    hw, L, D = 16 * 16, 16, 128

    def cost(L: int) -> int:  # two D -> D/2 maps, L x L logits of width D/2, the softmax, the sum, two D x D maps
        return 2 * L * D * D // 2 + L * L * D // 2 + L * L + L * L * D + 2 * L * D * D

    right = {1: [[hw, L], [L, D]], 2: 1.0, 3: math.log(4), 4: "b", 5: cost(16), 6: "(c)", 7: "B", 8: cost(32)}
    near_miss = {1: ((L, hw), (L, D)), 2: 1 / hw, 3: math.log(hw), 4: "a", 5: cost(16) - L * L, 6: "b", 7: "a",
                 8: 2 * cost(16)}
    assert set(right) == set(QUESTIONS) == set(near_miss)
    for number in QUESTIONS:
        check(number, right[number])
        assert check.right[number], number
        assert "right" in capsys.readouterr().out
        check(number, near_miss[number])
        assert not check.right[number], number
        said = capsys.readouterr().out
        assert "not yet. Hint:" in said and str(right[number]) not in said
    check(1, ...)
    assert NOT_ANSWERED in capsys.readouterr().out and not check.right[1]
    import numpy as np

    for number, answer in ((2, torch.tensor(1.0)), (3, np.float32(math.log(4))), (5, np.int64(cost(16)))):
        check(number, answer)  # computed in the notebook, an answer is a numpy or torch number
        assert check.right[number], (number, answer)
    check(2, "1")
    assert not check.right[2]


def test_the_walkthrough_measures_on_hand_made_cases():
    import math

    from vt.walkthrough import measures

    uniform = torch.full((2, 256, 16), 1 / 256)
    assert math.isclose(measures.entropy(uniform), math.log(256), rel_tol=1e-6)
    four = torch.zeros(1, 256, 1)
    four[0, :4, 0] = 0.25
    assert math.isclose(measures.entropy(four), math.log(4), rel_tol=1e-6)
    same = torch.randn(1, 16, 32).expand(3, -1, -1)
    assert math.isclose(measures.filter_similarity(same), 1.0, rel_tol=1e-6)
    assert math.isclose(measures.filter_similarity(torch.stack([same[0], -same[0]])), -1.0, rel_tol=1e-6)
    relations = torch.full((1, 16, 16), 1 / 16)
    assert measures.spread_from_uniform(relations) == (0, 0)
    relations[0, 3] = torch.eye(16)[5]  # token 3 reads token 5 alone: 15 weights 1/16 off, one 15/16 off
    largest, mean = measures.spread_from_uniform(relations)
    assert math.isclose(largest, 15 / 16, rel_tol=1e-6) and math.isclose(mean, (15 / 16 + 15 / 16) / 256, rel_tol=1e-6)
    projection = torch.full((1, 4, 16), 0.0)
    projection[0, [0, 1, 2], 7] = 1
    projection[0, 3, 2] = 0.5
    projection[0, 3, 3] = 0.5
    assert measures.winners(projection) == (2, 0.75, (1 + 1 + 1 + 0.5) / 4)
    tokens = torch.randn(1, 1, 8).expand(2, 5, -1)
    assert math.isclose(measures.token_similarity(tokens), 1.0, rel_tol=1e-6)
    assert math.isclose(measures.token_similarity(torch.eye(4).unsqueeze(0)), 0.0, abs_tol=1e-7)
    # T_out = T + W T + FF: with uniform weights the attention term is the mean token
    tokens = torch.tensor([[[3.0, 4.0], [3.0, 4.0]]])  # norm 5 each
    uniform = torch.full((1, 2, 2), 0.5)
    feed_forward = torch.tensor([[[0.0, 10.0], [0.0, 10.0]]])
    assert measures.transformer_terms(tokens, uniform, tokens + tokens + feed_forward) == (1.0, 2.0)


def test_the_walk_refuses_too_few_images_and_a_checkout_without_trained_weights(tmp_path):
    import pytest

    from vt.errors import ConfigError
    from vt.walkthrough import walk
    from vt.weights import WeightsError

    with pytest.raises(ConfigError, match="walk_images must be 2 to 300"):
        walk(1)
    with pytest.raises(WeightsError, match="no trained weights are published"):
        walk(2, folder=tmp_path)
    w = walk(12)  # more images than classes: one of each class, then the next of each
    assert w.labels.tolist() == list(range(10)) + [0, 1] and w.whose.startswith("trained weights")
