"""Every way this collection, the earlier report's model and the public implementations depart from the paper.

One list, ``DEVIATIONS``, is the single place these are written down: ``notebooks/04_flops.ipynb`` prints it as a
table with each cost counted on the models (``vt.flops``, VT-ResNet-18 at 224x224 with 1000 classes, Table 2's
setting, unless a row names another model) and writes ``results/<profile>/04_flops/deviations.csv``;
docs/deviations.md shows that file (``python -m vt.report --update-docs``). A cost is what the departure adds to the model as this
collection builds it, against the paper's text taken literally: negative where it saves.

The rows about public implementations describe their code at the commit named, as read and run beside this
collection with fvcore at 224x224; their numbers are quoted as measured on their code, not recounted here.
"""

from __future__ import annotations

import re
from pathlib import Path
from dataclasses import dataclass
from functools import cached_property
from typing import Callable

import pandas as pd
import torch

from vt.flops import FlopReport, count
from vt.models import create
from vt.models.projector import set_order

COLUMNS = ["source", "part", "paper", "here", "why", "cost", "shown by"]


class Costs:
    """FLOPs and parameter counts that the cost column needs, each computed once, on CPU."""

    @cached_property
    def vt_r18(self) -> FlopReport:
        """VT-ResNet-18 as run (eq. 5 in the associative order), 224x224, 1000 classes."""
        return count(create("vt_resnet18"))

    @cached_property
    def vt_r18_literal(self) -> FlopReport:
        """The same model with eq. 5 computed as written (``X W_Q`` per pixel), the paper's count."""
        return count(set_order(create("vt_resnet18"), "literal"))

    @cached_property
    def pooling(self) -> dict[str, FlopReport]:
        """VT-ResNet-18 under each reading of Table 3's pooling tokenizer, 224x224, 1000 classes."""
        return {kind: count(create("vt_resnet18", tokenizer=kind)) for kind in ("pooling", "pooling_first")}

    @cached_property
    def fpn(self) -> dict[str, FlopReport]:
        """FPN and VT-FPN on ResNet-50 at LIP's 473x473, 20 classes (Tables 9-10)."""
        return {name: count(create(name, num_classes=20), (3, 473, 473)) for name in ("fpn_resnet50", "vt_fpn_resnet50")}

    @cached_property
    def cifar(self) -> dict[str, FlopReport]:
        """ResNet-20, VT-ResNet-20 and ViTResNet at 32x32, 10 classes."""
        return {name: count(create(name), (3, 32, 32)) for name in ("resnet20", "vt_resnet20", "vit_resnet_cifar")}

    def modules(self, pattern: str, report: FlopReport | None = None) -> tuple[float, float]:
        """(MFLOPs, M params) summed over the modules whose full name matches ``pattern`` (a regex, whole name)."""
        table = (report or self.vt_r18).by_module
        rows = table[table.module.map(lambda name: re.fullmatch(pattern, name) is not None)]
        if rows.empty:
            raise ValueError(f"no module matches {pattern!r}")
        return rows.flops.sum() / 1e6, rows.params.sum() / 1e6

    @cached_property
    def logit_std(self) -> tuple[float, float]:
        """Standard deviation of VT-ResNet-18's logits at initialization, with its head's LayerNorm and without
        (the norm replaced by the identity): 8 Gaussian images at 224x224, seed 0."""
        torch.manual_seed(0)
        model = create("vt_resnet18").eval()
        images = torch.randn(8, 3, 224, 224)
        with torch.no_grad():
            with_norm = model(images).std().item()
            model.norm = torch.nn.Identity()
            without = model(images).std().item()
        return with_norm, without


def _amount(value: float, unit: str) -> str:
    """``value`` (a count) in millions when large, whole otherwise: "+12.6 MFLOPs", "+2,048 params"."""
    if abs(value) >= 1e5:
        return f"{value / 1e6:+,.{1 if unit == 'FLOPs' else 2}f} M{'' if unit == 'FLOPs' else ' '}{unit}"
    return f"{value:+,.0f} {unit}"


def _cost(mflops: float, mparams: float) -> str:
    return f"{_amount(mflops * 1e6, 'FLOPs')}, {_amount(mparams * 1e6, 'params')}"


def _value_maps(c: Costs) -> str:
    return _cost(*c.modules(r"vt\.\d+\.(tokenizer|projector)\.value"))


def _keys_and_queries(c: Costs) -> str:
    flops, params = c.modules(r"vt\.\d+\.(transformer|projector)\.(key|query)")
    return f"{_cost(-flops, -params)} against full-width (D x D) keys and queries"


def _feed_forward(c: Costs) -> str:
    flops, params = c.modules(r"vt\.\d+\.transformer\.ff[12]")
    return f"F1, F2 cost {flops:,.1f} MFLOPs, {params:.2f} M params at D x D (1/16 of that at C x C)"


def _projector_order(c: Costs) -> str:
    return _cost((c.vt_r18.flops - c.vt_r18_literal.flops) / 1e6, 0.0)


def _last_projector(c: Costs) -> str:
    flops, params = c.modules(r"vt\.0\.projector")
    return _cost(-flops, -params) + " (one projector, not built)"


def _head_norm(c: Costs) -> str:
    flops, params = c.modules(r"norm")
    with_norm, without = c.logit_std
    return f"{_cost(flops, params)}; logit std at initialization {with_norm:.2f} with it, {without:.2f} without"


def _pooling_readings(c: Costs) -> str:
    from vt.reference import paper_ablations

    table = paper_ablations()
    paper = table[(table.table == "Table 3") & (table.model == "vt_resnet18") & (table.variant == "pooling tokenizer")].iloc[0]
    counts = "; ".join(f"`{kind}` {r.flops / 1e6:,.0f} MFLOPs, {r.params / 1e6:.2f} M params" for kind, r in c.pooling.items())
    return f"{counts}; Table 3: {paper.mflops:,.0f} MFLOPs, {paper.mparams} M params"


def _cifar_models(c: Costs) -> str:
    r20, vt20 = c.cifar["resnet20"], c.cifar["vt_resnet20"]
    return (f"VT-ResNet-20 {vt20.flops / 1e6:,.1f} MFLOPs, {vt20.params / 1e6:.2f} M params; ResNet-20 "
            f"{r20.flops / 1e6:,.1f} MFLOPs, {r20.params / 1e6:.2f} M params (32x32)")


def _fpn_laterals(c: Costs) -> str:
    flops, params = c.modules(r"fpn\.fpn\.inner_blocks\.\d+", c.fpn["vt_fpn_resnet50"])
    return f"the laterals kept: {_cost(flops, params)} (ResNet-50 at 473x473)"


def _fpn_vt(c: Costs) -> str:
    fpn = c.modules(r"fpn", c.fpn["fpn_resnet50"])
    vt = c.modules(r"fpn", c.fpn["vt_fpn_resnet50"])
    return (f"FPN module {fpn[0] / 1e3:.2f} -> {vt[0] / 1e3:.2f} GFLOPs, {fpn[1]:.2f} -> {vt[1]:.2f} M params "
            "(ResNet-50 at 473x473)")


def _recipe(_: Costs) -> str:
    from vt.notebooks import load_profile

    p = load_profile("cifar10-cpu")
    return (f"{p['epochs']} epochs, batch {p['batch_size']}, {p['optimizer'].upper()} lr {p['lr']} "
            f"({'Nesterov, ' if p['nesterov'] else ''}{p['schedule']}, {p['warmup_epochs']:g} warm-up epoch), "
            f"weight decay {p['weight_decay']}, label smoothing {p['label_smoothing']}, {p['precision']} "
            f"(profiles/cifar10-cpu.yaml)")


def _vit_embedding_params(c: Costs) -> str:
    model = create("vit_resnet_cifar")
    params = (model.cls_token.numel() + model.pos_embedding.numel()) / 1e6
    return _cost(0.0, params) + " (added, not multiplied)"


def _vit_transformer(c: Costs) -> str:
    flops, params = c.modules(r"transformer", c.cifar["vit_resnet_cifar"])
    return f"the encoder: {flops:,.1f} MFLOPs, {params:.2f} M params (32x32)"


@dataclass(frozen=True)
class Deviation:
    """One departure from the paper: its text, ours, why, its cost (a string, or computed from ``Costs``), and
    the test or notebook cell that shows it."""

    source: str
    part: str
    paper: str
    here: str
    why: str
    cost: str | Callable[[Costs], str]
    shown_by: str

    def row(self, costs: Costs) -> dict[str, str]:
        cost = self.cost(costs) if callable(self.cost) else self.cost
        return dict(zip(COLUMNS, [self.source, self.part, self.paper, self.here, self.why, cost, self.shown_by]))


OURS = "this collection"
REPORT = "earlier report's ViTResNet"
BOCHAROV = "AndreyBocharnikov/Visual-Transformers @182e0d6"
NAZIR = "NazirNayal8/visual-transformer @3ab1517"
TAHMID = "tahmid0007/VisualTransformers @d9fd583"

DEVIATIONS: list[Deviation] = [
    Deviation(OURS, "token width (eqs. 1-2, 5)", "tokens T in R^{L x C}, as wide as the feature map (C = 256)",
              "D = 1024 = 4C: one W_V (C x D) per tokenizer on the L pooled tokens; W_V (D x C) in each projector",
              "the paper's three hyper-parameters name a token channel size apart from C, and Table 2's "
              "parameters need tokens wider than 256; applied per token, W_V costs L rather than HW products",
              _value_maps, "04_flops: Table 2 beside ours; tests/test_flops.py::test_vt_resnets_within_three_percent_of_a_paper_table"),
    Deviation(OURS, "keys and queries (eqs. 3, 5)", "K, Q of eq. 3 unsized; W_Q, W_K in R^{C x C} in eq. 5",
              "D/2 = 512 wide in the transformer and the projector",
              "chosen, with D, while reading Table 2's totals: these free widths agree with Table 2 partly by construction",
              _keys_and_queries, "04_flops: Tables 2 and 6 beside ours"),
    Deviation(OURS, "feed-forward (eq. 4)", "F1, F2 in R^{C x C}", "D x D, since the tokens are D wide",
              "follows from the token width", _feed_forward, "tests/test_models.py::test_vt_resnet_structure_follows_the_paper"),
    Deviation(OURS, "attention scaling (eqs. 2, 3, 5)", "softmax of the raw products",
              "logits times 1/sqrt(width) (the filter logits of eq. 1 unscaled)",
              "the usual scaling of a product of two learned vectors; without it the softmax saturates at initialization",
              "none (one multiply per logit, not counted)",
              "tests/test_models.py::test_filter_tokenizer_follows_equation_1, ::test_projector_matches_equation_5_in_the_direct_order"),
    Deviation(OURS, "projector order (eq. 5)", "(X_in W_Q)(T W_K)^T: W_Q applied to each of the HW pixels",
              "X_in (T W_K W_Q^T)^T: W_Q applied to the L tokens; the same function",
              "HW/L = 12 times fewer products for that term; FLOPs are reported in both orders",
              _projector_order,
              "tests/test_models.py::test_projector_matches_equation_5_in_the_direct_order; "
              "tests/test_flops.py::test_eq5_as_written_computes_the_same_and_costs_what_the_paper_counts; docs/flops.md"),
    Deviation(OURS, "last module's projector", "not said", "the last module's tokens go to the head; no projector is built",
              "its projected map would be unused", _last_projector, "tests/test_models.py::test_vt_resnet_structure_follows_the_paper"),
    Deviation(OURS, "classification head", "a standard average pool and a fully-connected layer",
              "average over tokens, a LayerNorm, the fully-connected layer",
              "in place of the BatchNorm that ends a ResNet stage; no training run here compares the two",
              _head_norm, "this row's logit spread (computed); no experiment"),
    Deviation(OURS, "pooling tokenizer (Table 3)", "bilinear interpolation to L positions; whether later modules pool too is not said",
              "`pooling` pools in every module (the reading the verdict uses); `pooling_first` pools in the first "
              "and recurs after", "both readings fit the text; the cost column sets each one's counts beside Table 3's",
              _pooling_readings,
              "tests/test_models.py::test_table_3s_two_readings_of_pooling_are_both_buildable"),
    Deviation(OURS, "VT-ResNet-50, -101 (Table 8)", "3,412 MFLOPs / 21.4 M params; 7,129 / 41.5",
              "the widths of VT-ResNet-18/34 on the 1024-wide map: C = D = 1024",
              "the notebook shows from the paper's own numbers that no VT part of the described kind has VT-R50's "
              "parameters with so few FLOPs", "the FLOPs table: ours beside Table 8",
              "04_flops: the feasibility cell; tests/test_flops.py::test_vt_resnet50_gap_is_the_documented_one"),
    Deviation(OURS, "CIFAR models", "ImageNet models only",
              "vt_resnet20: He et al.'s ResNet-20 with its last stage (3 blocks) replaced by 3 VT modules on the "
              "16x16x32 map, D = 4C = 128, 16 tokens", "a network two CPU cores train in hours", _cifar_models,
              "tests/test_flops.py::test_vt_resnet20_is_cheaper_than_resnet20"),
    Deviation(OURS, "training recipe", "ImageNet, SGD lr 0.1 divided by 10 every 30 epochs, weight decay 4e-5, "
              "batch 256, 90 epochs (Table 2)", "CIFAR-10 at 32x32", "what fits two CPU cores; He et al.'s CIFAR "
              "recipe shortened, a cosine schedule for the short budget", _recipe, "every results/<profile>/parameters.json"),
    Deviation(OURS, "CIFAR-10 images", "not used by the paper", "read from a JPEG copy (quality 75, 4:2:0 chroma) when "
              "the canonical release is not in data/", "the copy at hand; the canonical release is read first when present",
              "unmeasured: no canonical-release run yet", "data/README.md; each run's config.json names its data source"),
    Deviation(OURS, "Tiny ImageNet studies", "not used by the paper; the earlier report: 200 classes, VT-ResNet-18, "
              "images at 64 and upscaled to 224",
              "20 of the 200 classes (every tenth by WordNet id: 10,000 train images; the 1,000 val images, the only "
              "labelled held-out split, as the test set), native 64x64; VT-ResNet-20, whose tokenizer reads the "
              "32x32x32 map of its second stage; VT-ResNet-18 with a 3x3 stem in a study of its own; 128 px for 224",
              "what two CPU cores train in hours; with 1,000 test images the test-set part of an interval is "
              "sqrt(10), about 3x, wider than with CIFAR-10's 10,000", "none to the models; a smaller data set",
              "profiles/tiny-imagenet-cpu*.yaml; docs/method.md"),
    Deviation(OURS, "VT-FPN's FPN module (section 4.2)", "the convolutions in FPN replaced with VT",
              "torchvision's FPN with its 1x1 laterals and top-down sum kept; its 3x3 output convolutions replaced by "
              "one VT over all levels", "the semantic head needs 256 channels at every level, and a projector writes "
              "back at its map's width: the laterals are what brings each stage to 256", _fpn_laterals,
              "tests/test_segmentation.py::test_vt_fpn_keeps_the_laterals_and_replaces_the_output_convolutions"),
    Deviation(OURS, "VT-FPN widths (section 4.2)", "8 tokens of 1024 channels per level, one transformer",
              "as VT-ResNet: keys and queries D/2, feed-forward D x D, eq. 5 in the associative order, no normalization",
              "the paper gives the token count and width only", _fpn_vt,
              "07_segmentation: the FLOPs table; tests/test_segmentation.py::test_fpn_flops_ratio_is_the_papers_within_ten_percent"),
    Deviation(OURS, "Tables 9-10 input sizes", "not given",
              "473x473 for LIP, 800x1216 for COCO-stuff", "LIP's usual crop (the size of section 6); detectron2's "
              "Panoptic FPN test size for a 3:2 COCO image (shorter side 800, padded to a multiple of 32)",
              "none: a reading of the counts", "07_segmentation: the FLOPs table beside the paper's"),
    Deviation(REPORT, "token embeddings", "none: tokens go straight to the transformer",
              "a class token and learned position embeddings", "the earlier report's model (after tahmid0007's ViTResNet)",
              _vit_embedding_params, "tests/test_models.py::test_every_model_outputs_logits"),
    Deviation(REPORT, "transformer", "eqs. 3-4: one attention and a ReLU feed-forward, no normalization",
              "6 pre-norm ViT layers, 8 heads, GELU MLP 256 wide, dropout 0.1, the class token to the head",
              "the earlier report's model", _vit_transformer, "01_baseline: ViTResNet beside VT-ResNet-20"),
    Deviation(REPORT, "tokenizer, projector", "a filter tokenizer, then recurrent ones; a projector in each module",
              "one filter tokenizer on the full backbone's 8x8x64 map, 8 tokens of 128; no projector",
              "the earlier report's model", "Table 7's projector and Table 4's recurrence absent",
              "02_tokenizers and Table 7 rows of 04_flops"),
    Deviation(REPORT, "optimizer", "SGD (Table 2)", "SGD like every other arm here; the earlier report trained it with Adam",
              "one recipe for every arm of a comparison", "none", "profiles/cifar10-cpu.yaml"),
    Deviation(BOCHAROV, "VT-ResNet-18", "eqs. 1-5",
              "an extra D x D value projection in each transformer; the C -> D value map applied to every pixel, not "
              "every token; the projector's C x C query applied per pixel; no normalization anywhere",
              "as read in their code", "1,681 MFLOPs, 13.58 M params as measured on their code (their README: 543 M); "
              "logit std 346 at initialization, and SGD at lr 0.01 on a fixed batch diverges",
              "guarded here: the classification-head row; tests/test_models.py::test_a_few_steps_fit_a_fixed_batch"),
    Deviation(NAZIR, "VTResNet", "eqs. 3-4 feed the tokens on",
              "`nn.Transformer(num_decoder_layers=0)(t, t)` returns a LayerNorm of its target, so the encoders' output is "
              "discarded and they get no gradient; ResNet's layer4 and fc built and unused; BatchNorm before the VT; "
              "projector with BatchNorm + ReLU; every module projects; the head pools the map",
              "as read in their code", "1,780 MFLOPs traced; 55.93 M params built, 9.21 M trained, as measured on their code",
              "guarded here: tests/test_models.py::test_every_parameter_of_every_model_receives_a_gradient"),
    Deviation(TAHMID, "ViTResNet", "eq. 1's W_A in R^{C x L}",
              "tokenizer weights sized by the batch ([100, 8, 64], [100, 64, 128]): any other batch size fails; "
              "attention scaled by the full width, not the head's; the test set loaded with training augmentation",
              "as read in their code", "48.95 MFLOPs; 1.94 M params as shipped, 0.86 M of them spurious (1.08 M here)",
              "guarded here: tests/test_models.py::test_every_model_runs_at_any_batch_size"),
]


def table(costs: Costs | None = None) -> pd.DataFrame:
    """The deviations, one row each, with their costs computed (a few seconds of counting on CPU)."""
    costs = costs or Costs()
    return pd.DataFrame([d.row(costs) for d in DEVIATIONS], columns=COLUMNS)


def markdown(frame: pd.DataFrame) -> str:
    """The table as docs/deviations.md and ``04_flops`` show it (``|`` inside a cell escaped)."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |")
    return "\n".join(lines)


def read(path: str | Path) -> pd.DataFrame:
    """A ``deviations.csv`` written by ``04_flops``, every cell as the text it was written as."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)
