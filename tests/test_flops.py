"""FLOPs and parameters against the paper's tables (``../shared/paper-spec.md``)."""

import pytest
import torch

import vt.flops
import vt.models as M

IMAGENET = (3, 224, 224)


@pytest.fixture(scope="module")
def counts():
    """FLOPs and params at 224x224, 1000 classes, for the paper's eight models."""
    out = {}
    for depth in (18, 34, 50, 101):
        for prefix in ("", "vt_"):
            name = f"{prefix}resnet{depth}"
            out[name] = vt.flops.count(M.create(name), IMAGENET)
    return out


def test_resnet18_is_fvcore_1819_mflops(counts):
    assert counts["resnet18"].flops == 1_819_065_856
    assert counts["resnet18"].params == 11_689_512


@pytest.mark.parametrize("depth,paper_gflops", [(18, 1.814), (34, 3.664), (50, 4.089), (101, 7.802)])
def test_resnets_within_one_percent_of_the_paper(counts, depth, paper_gflops):
    assert counts[f"resnet{depth}"].gflops == pytest.approx(paper_gflops, rel=0.01)


@pytest.mark.parametrize(
    "depth,paper",  # (GFLOPs, M params) from Table 2 and Table 8
    [(18, [(1.579, 11.6), (1.569, 11.7)]), (34, [(3.299, 21.8), (3.236, 19.2)]), (101, [(7.129, 41.5)])],
)
def test_vt_resnets_within_three_percent_of_a_paper_table(counts, depth, paper):
    report = counts[f"vt_resnet{depth}"]
    assert any(
        report.gflops == pytest.approx(g, rel=0.03) and report.mparams == pytest.approx(p, rel=0.03)
        for g, p in paper
    )


def test_vt_resnet50_gap_is_the_documented_one(counts):
    """VT-R50 cannot match Table 8 (3.412 G, 21.4 M) together with VT-R101 (41.5 M) when both have the same VT part,
    as the paper says they do: the two then differ by ResNet-101's 17 extra third-stage bottlenecks alone, 18.99 M
    by hand, not the paper's 41.5 - 21.4 = 20.1 M. With VT-R101 within 2% of its 41.5 M, VT-R50 lands 1-9% above
    its 21.4 M; the notebook explains it."""
    report = counts["vt_resnet50"]
    assert report.gflops == pytest.approx(3.412, rel=0.05)
    bottleneck = 1024 * 256 + 256 * 256 * 9 + 256 * 1024 + 2 * (256 + 256 + 1024)  # three convs, three batch norms
    assert bottleneck == 1_117_184
    assert counts["vt_resnet101"].params - report.params == 17 * bottleneck
    assert counts["vt_resnet101"].mparams == pytest.approx(41.5, rel=0.02)
    assert (41.5 * 0.98 - 17 * bottleneck / 1e6) / 21.4 - 1 > 0.01  # even at VT-R101's lowest, VT-R50 is above
    assert report.mparams / 21.4 - 1 == pytest.approx((counts["vt_resnet101"].mparams - 18.992128) / 21.4 - 1)


@pytest.mark.parametrize("depth", [18, 34, 50, 101])
def test_every_vt_resnet_is_cheaper_than_its_resnet(counts, depth):
    assert counts[f"vt_resnet{depth}"].flops < counts[f"resnet{depth}"].flops


def test_vt_resnet20_is_cheaper_than_resnet20():
    assert vt.flops.count(M.create("vt_resnet20"), (3, 32, 32)).flops < vt.flops.count(
        M.create("resnet20"), (3, 32, 32)
    ).flops


@pytest.mark.parametrize("name", ["vt_resnet18", "vit_resnet_cifar", "resnet20"])
def test_no_operator_goes_unexplained(name):
    size = (3, 224, 224) if name == "vt_resnet18" else (3, 32, 32)
    assert vt.flops.count(M.create(name), size).unsupported == {}


def test_attention_ops_are_counted():
    """On a CPU the VT parts attend with matmul and softmax (vt.models.attention): both are counted."""
    report = vt.flops.count(M.create("vt_resnet18"), IMAGENET)
    assert report.by_operator["matmul"] > 0 and report.by_operator["softmax"] > 0


def test_fused_attention_costs_what_the_explicit_path_does():
    """The handle for scaled_dot_product_attention (the GPU path) counts logits, weighted sum and softmax."""
    import torch.nn.functional as F

    class Fused(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.unused = torch.nn.Parameter(torch.zeros(1))  # count() reads the device from a parameter

        def forward(self, x):
            q = x.flatten(2).transpose(1, 2)  # (1, 196, 256)
            return F.scaled_dot_product_attention(q[:, :16], q, q)

    assert vt.flops.count(Fused(), (256, 14, 14)).flops == 16 * 196 * (256 + 256 + 1)


def test_sdpa_count_matches_hand_count():
    """A filter tokenizer on a 14x14x256 map with 16 tokens: logits and weighted sum are each
    16*196*256 multiply-adds, plus 16*196 softmax elements."""
    tok = M.FilterTokenizer(256, 256, tokens=16)

    class Wrap(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = tok

        def forward(self, x):
            return self.tok(x)[0]

    report = vt.flops.count(Wrap(), (256, 14, 14))
    assert report.flops == 16 * 196 * (256 + 256 + 1)


def test_by_module_breakdown_adds_up():
    report = vt.flops.count(M.create("vt_resnet18"), IMAGENET)
    top = report.by_module[report.by_module.depth == 1]
    assert top.flops.sum() == report.flops
    assert top.params.sum() == report.params
    assert report.by_module.iloc[0].module == "(total)"


def test_model_training_mode_is_restored():
    model = M.create("resnet20").train()
    vt.flops.count(model, (3, 32, 32))
    assert model.training


def test_bad_input_size_is_refused():
    with pytest.raises(ValueError, match="input_size must be"):
        vt.flops.count(M.create("resnet20"), (32, 32))


def test_eq5_as_written_computes_the_same_and_costs_what_the_paper_counts():
    """The literal order takes X W_Q per pixel and its logits D/2 wide; ours takes W_Q per token and logits C wide.
    VT-R18 has one projector (its last module projects nothing) on 14x14x256 with D/2 = 512 and 16 tokens."""
    from vt.models.projector import set_order

    model = M.create("vt_resnet18").eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        ours = model(x)
        literal = set_order(model, "literal")(x)
    torch.testing.assert_close(literal, ours, rtol=1e-4, atol=1e-4)
    hw, c, dk, tokens = 14 * 14, 256, 512, 16
    expected = hw * c * dk + hw * tokens * dk - (tokens * dk * c + hw * tokens * c)
    more = vt.flops.count(model, (3, 224, 224)).flops - vt.flops.count(set_order(model, "associative"), (3, 224, 224)).flops
    assert more == expected
    with pytest.raises(ValueError, match="unknown projector order"):
        set_order(model, "backwards")
