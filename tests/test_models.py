"""Shapes and equations of every model and VT part."""

import pytest
import torch

import vt.models as M
from vt.models.tokenizers import token_grid

CIFAR_ONLY = {"resnet20", "vt_resnet20", "vit_resnet_cifar"}
SIZES = [32, 64, 224]


def _kwargs_for(name: str, size: int) -> dict:
    args = M.arguments(name)
    kwargs = {"num_classes": 7}
    if "small_input" in args:
        kwargs["small_input"] = size < 128
    return kwargs


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", M.names())
def test_every_model_outputs_logits(name, size):
    model = M.create(name, **_kwargs_for(name, size)).eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, size, size))
    assert out.shape == (2, 7)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", M.names())
def test_every_parameter_of_every_model_receives_a_gradient(name):
    """A part left out of the graph (a tokenizer whose output is dropped, an unused projector) would train nothing."""
    model = M.create(name, **_kwargs_for(name, 32)).train()
    model(torch.randn(2, 3, 32, 32)).logsumexp(1).sum().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing, f"{name}: no gradient for {missing[:5]}"


@pytest.mark.parametrize("name", M.names())
def test_every_model_runs_at_any_batch_size(name):
    """One image (a last, short batch in eval) and an odd batch, as the loader may give."""
    model = M.create(name, **_kwargs_for(name, 32)).eval()
    with torch.no_grad():
        for batch in (1, 3):
            assert model(torch.randn(batch, 3, 32, 32)).shape == (batch, 7)


def test_names_list_every_family():
    expected = {f"{p}resnet{d}" for p in ("", "vt_") for d in (18, 34, 50, 101)}
    expected |= {"resnet20", "vt_resnet20", "vit_resnet_cifar"}
    assert expected <= set(M.names())


def test_a_cifar_batch_runs_through_the_documented_call():
    model = M.create("vt_resnet18", num_classes=10, small_input=True).eval()
    assert model(torch.randn(4, 3, 32, 32)).shape == (4, 10)


def test_unknown_name_lists_known_models():
    with pytest.raises(ValueError, match="unknown model 'vt_resnet19'.*vt_resnet18"):
        M.create("vt_resnet19")


def test_unknown_keyword_lists_allowed_ones():
    with pytest.raises(ValueError, match="takes no argument token_chanels.*token_channels"):
        M.create("vt_resnet18", token_chanels=256)


def test_bad_tokenizer_is_refused():
    with pytest.raises(ValueError, match="unknown tokenizer 'kmeans'"):
        M.create("vt_resnet18", tokenizer="kmeans")


@pytest.mark.parametrize("kind", ["filter", "recurrent", "pooling"])
def test_tokenizer_attention_sums_to_one_over_pixels(kind):
    module = M.VTModule(32, 48, tokens=16, tokenizer=kind)
    x = torch.randn(3, 32, 7, 9)
    tokens_in = torch.randn(3, 16, 48)
    _, tokens, attention = module(x, tokens_in, need_attention=True)
    assert tokens.shape == (3, 16, 48)
    assert attention.shape == (3, 63, 16)  # (B, HW, L)
    torch.testing.assert_close(attention.sum(dim=1), torch.ones(3, 16))
    assert (attention >= 0).all()


def test_filter_tokenizer_follows_equation_1():
    tok = M.FilterTokenizer(8, 8, tokens=4)  # D == C: no width change
    x = torch.randn(2, 8, 5, 5)
    tokens, _ = tok(x)
    pixels = x.flatten(2).transpose(1, 2)  # (B, HW, C)
    a = torch.softmax(pixels @ tok.filters.weight.t(), dim=1)  # softmax_HW(X W_A)
    torch.testing.assert_close(tokens, a.transpose(1, 2) @ pixels)  # T = A^T X


def test_recurrent_tokenizer_follows_equation_2():
    """Eq. 2, written out: W_R = T_in W_{T->R}, A = softmax over the HW pixels of X W_R / sqrt(C), T = (A^T X) W_V."""
    channels, width, tokens = 8, 12, 4  # C != D: the width map W_V applies
    tok = M.RecurrentTokenizer(channels, width, tokens=tokens)
    x, tokens_in = torch.randn(2, channels, 5, 6), torch.randn(2, tokens, width)
    pixels = x.flatten(2).transpose(1, 2)  # X: (B, HW, C)
    w_r = (tokens_in @ tok.token_to_filter.weight.t()).transpose(1, 2)  # W_R = T_in W_{T->R}: (B, C, L)
    a = torch.softmax(pixels @ w_r / channels ** 0.5, dim=1)  # (B, HW, L), each token's column sums to 1 over HW
    expected = (a.transpose(1, 2) @ pixels) @ tok.value.weight.t()  # (A^T X) W_V: (B, L, D)
    out, attention = tok(x, tokens_in, need_attention=True)
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(attention, a)


def test_transformer_follows_equations_3_and_4():
    """Eqs. 3-4, written out with keys and queries at D/2 and the logits scaled by 1/sqrt(D/2):
    T' = T + softmax_L((T K)(T Q)^T) T, each row of the L x L matrix normalized; T_out = T' + relu(T' F1) F2."""
    width, tokens = 16, 5
    transformer = M.TokenTransformer(width)
    t = torch.randn(2, tokens, width)
    k, q = transformer.key.weight.t(), transformer.query.weight.t()  # K, Q: (D, D/2)
    assert k.shape == q.shape == (width, width // 2)
    token_to_token = torch.softmax((t @ k) @ (t @ q).transpose(1, 2) / (width // 2) ** 0.5, dim=-1)  # (B, L, L)
    t_mid = t + token_to_token @ t  # eq. 3
    expected = t_mid + torch.relu(t_mid @ transformer.ff1.weight.t()) @ transformer.ff2.weight.t()  # eq. 4
    torch.testing.assert_close(transformer(t), expected)


def test_fused_and_explicit_attention_agree():
    """The explicit path (CPU, and wherever weights are asked for) computes what the fused kernel (GPU) does."""
    import torch.nn.functional as F

    from vt.models.attention import attend

    q, k, v = torch.randn(2, 36, 16), torch.randn(2, 4, 16), torch.randn(2, 4, 24)
    fused = F.scaled_dot_product_attention(q.unsqueeze(1), k.unsqueeze(1), v.unsqueeze(1), scale=0.25).squeeze(1)
    explicit, weights = attend(q, k, v, scale=0.25, need_weights=True)
    torch.testing.assert_close(fused, explicit)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 36))
    out, none = attend(q, k, v, scale=0.25)
    torch.testing.assert_close(out, explicit)
    assert none is None


def test_pooling_attention_reproduces_its_tokens():
    tok = M.PoolingTokenizer(6, 6, tokens=16)
    x = torch.randn(2, 6, 14, 14)
    tokens, attention = tok(x, need_attention=True)
    pixels = x.flatten(2).transpose(1, 2)
    torch.testing.assert_close(attention.transpose(1, 2) @ pixels, tokens)


def test_token_grid_is_near_square():
    assert token_grid(16) == (4, 4)
    assert token_grid(32) == (4, 8)
    assert token_grid(7) == (1, 7)


def test_projector_keeps_feature_map_shape():
    proj = M.Projector(32, 64)
    x = torch.randn(2, 32, 7, 5)
    assert proj(x, torch.randn(2, 16, 64)).shape == x.shape


def test_projector_matches_equation_5_in_the_direct_order():
    proj = M.Projector(12, 20)
    x, t = torch.randn(2, 12, 4, 4), torch.randn(2, 5, 20)
    pixels = x.flatten(2).transpose(1, 2)
    logits = proj.query(pixels) @ proj.key(t).transpose(1, 2) / (20 // 2) ** 0.5  # (X W_Q)(T W_K)^T / sqrt(D/2)
    expected = pixels + torch.softmax(logits, dim=-1) @ (t @ proj.value.weight.t())  # softmax over the L tokens
    torch.testing.assert_close(proj(x, t), expected.transpose(1, 2).reshape_as(x))


def test_transformer_is_permutation_equivariant_over_tokens():
    transformer = M.TokenTransformer(32)
    tokens = torch.randn(2, 16, 32)
    perm = torch.randperm(16)
    torch.testing.assert_close(transformer(tokens)[:, perm], transformer(tokens[:, perm]))


def test_transformer_mixes_tokens():
    """Equivariance alone would also hold for a per-token MLP: changing one token must move the others."""
    transformer = M.TokenTransformer(32)
    tokens = torch.randn(1, 4, 32)
    changed = tokens.clone()
    changed[:, 0] += 1.0
    assert not torch.allclose(transformer(tokens)[:, 1:], transformer(changed)[:, 1:])


def test_recurrent_module_requires_previous_tokens():
    with pytest.raises(ValueError, match="needs the previous module's tokens"):
        M.VTModule(8, 8, tokenizer="recurrent")(torch.randn(1, 8, 4, 4))


def test_vt_resnet_structure_follows_the_paper():
    for depth, modules in [(18, 2), (34, 3), (50, 3), (101, 3)]:
        model = M.create(f"vt_resnet{depth}")
        kinds = [type(m.tokenizer).__name__ for m in model.vt]
        assert kinds == ["FilterTokenizer"] + ["RecurrentTokenizer"] * (modules - 1)
        assert [m.projector is not None for m in model.vt] == [True] * (modules - 1) + [False]
        assert "layer4" not in dict(model.named_modules())


def test_ablation_switches_remove_their_part():
    model = M.create("vt_resnet18", tokenizer="pooling", transformer=False, projector=False)
    assert all(type(m.tokenizer).__name__ == "PoolingTokenizer" for m in model.vt)
    assert all(m.transformer is None and m.projector is None for m in model.vt)


def test_table_3s_two_readings_of_pooling_are_both_buildable():
    """Pooling everywhere (the reading the verdict compares) and pooling in the first module only."""
    kinds = {t: [type(m.tokenizer).__name__ for m in M.create("vt_resnet20", tokenizer=t).vt]
             for t in ("pooling", "pooling_first")}
    assert kinds["pooling"] == ["PoolingTokenizer"] * 3
    assert kinds["pooling_first"] == ["PoolingTokenizer", "RecurrentTokenizer", "RecurrentTokenizer"]
    assert M.create("vt_resnet20", tokenizer="pooling_first")(torch.randn(2, 3, 32, 32)).shape == (2, 10)


@pytest.mark.parametrize("name", ["vt_resnet18", "vt_resnet20", "vit_resnet_cifar"])
def test_attention_is_retrievable_for_a_batch(name):
    kwargs = {"small_input": True} if name == "vt_resnet18" else {}
    model = M.create(name, num_classes=5, **kwargs).eval()
    logits, attentions = model(torch.randn(3, 3, 32, 32), return_attention=True)
    assert logits.shape == (3, 5)
    assert len(attentions) >= 1
    for a in attentions:
        torch.testing.assert_close(a.sum(dim=1), torch.ones(a.shape[0], a.shape[2]))


def test_attention_maps_are_images():
    model = M.create("vt_resnet18", small_input=True, tokens=8).eval()
    maps = model.attention_maps(torch.randn(2, 3, 32, 32))
    assert [m.shape for m in maps] == [(2, 8, 8, 8)] * 2


def test_small_input_stem_keeps_resolution():
    model = M.create("resnet18", small_input=True)
    assert model.conv1.stride == (1, 1) and model.conv1.kernel_size == (3, 3)
    assert isinstance(model.maxpool, torch.nn.Identity)


def test_resnet20_has_he_et_al_size():
    params = sum(p.numel() for p in M.create("resnet20").parameters())
    assert 0.26e6 < params < 0.28e6  # He et al. 2016, Table 6: 0.27 M


@pytest.mark.parametrize(
    "name,optimizer",
    [
        ("vt_resnet20", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),  # the paper's optimizer
        ("vit_resnet_cifar", lambda p: torch.optim.Adam(p, lr=1e-3)),  # the earlier report's
    ],
)
def test_a_few_steps_fit_a_fixed_batch(name, optimizer):
    """Gradients reach every part and training is stable: a few steps on one batch must lower its loss."""
    model = M.create(name, num_classes=4).train()
    x, y = torch.randn(16, 3, 32, 32), torch.arange(16) % 4
    opt = optimizer(model.parameters())
    losses = []
    for _ in range(8):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
