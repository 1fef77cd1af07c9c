"""VT modules, equation by equation, for ``notebooks/06_walkthrough.ipynb`` (Wu et al. 2020, section 3).

``trace`` runs a VT-ResNet's backbone and its VT modules up to the one asked for, and keeps every intermediate
tensor of that module: the feature map ``X``, the tokenizer's spatial attention ``A`` and tokens ``T`` (eq. 1 for the
first module's filter-based tokenizer; eq. 2 for a recurrent one, with the filters ``W_R`` the previous tokens chose),
the transformer's token-to-token weights and output tokens (eqs. 3-4), and the projector's pixel-to-token weights and
output map (eq. 5). The model's forward pass computes the same values (a test checks it); the trace only keeps them.
``walk`` gathers what the walkthrough shows: CIFAR-10 test images shipped with the package, seen by the shipped
trained VT-ResNet-20 and by the same model untrained. ``part_flops`` sets the FLOPs of each part beside the ResNet
stage the VT modules replace.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch
from torch import Tensor

from vt.data.cifar import CLASSES, MEAN, STD, test_subset
from vt.errors import ConfigError
from vt.flops import count
from vt.models import create
from vt.models.attention import attend
from vt.models.projector import set_order
from vt.models.tokenizers import RecurrentTokenizer, _pixels
from vt.models.vt_resnet import VTResNet
from vt.weights import WEIGHTS_DIR, WeightsError, entry, load_into

WALK_MODEL = "vt_resnet20"


@dataclass
class Trace:
    """Every tensor of one VT module for a batch of ``B`` images (shapes with the paper's symbols)."""

    features: Tensor  # X_in (B, C, H, W): the module's input map
    attention: Tensor  # A (B, HW, L): eq. 1 or 2, softmax over the HW pixels
    tokens: Tensor  # T (B, L, D): A^T X, widened by W_V
    relations: Tensor  # (B, L, L): eq. 3, softmax_L((T K)(T Q)^T), row i: what token i reads from each token
    tokens_out: Tensor  # T_out (B, L, D): eqs. 3-4
    projection: Tensor | None  # (B, HW, L): eq. 5, row p: what pixel p reads from each token (None: no projector)
    features_out: Tensor  # X_out (B, C, H, W): eq. 5, X_in + the projected tokens (X_in without a projector)
    filters: Tensor | None  # W_R^T (B, L, C): eq. 2, the filters the previous tokens chose (None: not recurrent)
    tokens_in: Tensor | None  # T_in (B, L, D): the previous module's tokens (None for the first module)


@dataclass
class Walk:
    """What the walkthrough shows: ``pictures`` (B, 3, 32, 32) uint8 and ``images`` normalized, their ``labels``,
    the ``trained`` model with a sentence saying ``whose`` weights it has, and the same model ``untrained``."""

    pictures: Tensor
    images: Tensor
    labels: Tensor
    classes: list[str]
    source: str
    trained: VTResNet
    whose: str
    untrained: VTResNet


def walk_model(dataset: str, resolution: int, num_classes: int, folder: Path = WEIGHTS_DIR) -> tuple[VTResNet, str]:
    """The VT-ResNet-20 to walk through and a sentence saying whose weights it has: on CIFAR-10 at 32x32, the
    shipped ``"cifar10"`` weights of the lowest published seed (``vt.weights``, hash checked); otherwise, or while
    none are published, untrained weights drawn from the current torch seed."""
    model = create(WALK_MODEL, num_classes=num_classes)
    if dataset == "cifar10" and resolution == 32:
        try:
            row = entry(WALK_MODEL, "cifar10", folder)
        except WeightsError:  # not published yet: the walkthrough still runs, and says so
            return model, "untrained weights (no trained CIFAR-10 weights are published yet)"
        load_into(model, WALK_MODEL, "cifar10", folder, seed=int(row.seed))
        return model, (f"trained weights: {WALK_MODEL} 'cifar10' seed {row.seed} from profile {row.profile}, "
                       f"{row.epochs} epochs, {row.eval_acc:.2%} test accuracy")
    return model, "untrained weights: the maps show what the equations compute, not what training teaches"


def walk(images: int = 6, folder: Path = WEIGHTS_DIR, seed: int = 0) -> Walk:
    """``images`` CIFAR-10 test images from the sample shipped with the package (one of each class in turn, so no
    data set is needed), the shipped trained VT-ResNet-20 and the same model untrained (drawn with ``seed``).

    Raises:
        ConfigError: for fewer than 2 images (the figures compare images) or more than the sample holds.
        WeightsError: where no trained weights are published (the walkthrough would compare two untrained models).
    """
    subset, _ = test_subset()
    labels_all = subset.eval.labels
    if not 2 <= images <= len(labels_all):
        raise ConfigError(f"walk_images must be 2 to {len(labels_all)} (the shipped sample), got {images}")
    per_class = [torch.nonzero(labels_all == k).flatten().tolist() for k in range(len(CLASSES))]
    order = [per_class[i % len(CLASSES)][i // len(CLASSES)] for i in range(images)]
    pictures = subset.eval.images[order]
    mean, std = torch.tensor(MEAN).view(1, 3, 1, 1), torch.tensor(STD).view(1, 3, 1, 1)
    trained, whose = walk_model("cifar10", 32, len(CLASSES), folder)
    if whose.startswith("untrained"):
        raise WeightsError(f"the walkthrough sets the trained {WALK_MODEL} beside an untrained one, and no trained "
                           f"weights are published in {folder}: python -m vt.weights publish adds them")
    torch.manual_seed(seed)
    untrained = create(WALK_MODEL, num_classes=len(CLASSES))
    return Walk(pictures, (pictures.float() / 255 - mean) / std, labels_all[order], list(CLASSES), subset.source,
                trained.eval(), whose, untrained.eval())


@torch.no_grad()
def trace(model: VTResNet, images: Tensor, module: int = 0) -> Trace:
    """VT module ``module`` of ``model`` on normalized ``images`` (B, 3, H, W), step by step (eval mode): the
    modules before it run as the forward pass runs them, so that a recurrent tokenizer reads their tokens."""
    model.eval()
    x = model.backbone(images)  # X_in of the first module: (B, C, H, W)
    tokens_in = None
    for previous in model.vt[:module]:
        out, tokens_in, _ = previous(x, tokens_in)
        if model.project_back:
            x = out
    m = model.vt[module]
    if m.transformer is None:
        raise ValueError(f"VT module {module} has no transformer (built with transformer=False): nothing to trace "
                         "for eqs. 3-4")
    filters = None
    if isinstance(m.tokenizer, RecurrentTokenizer):
        filters = m.tokenizer.token_to_filter(tokens_in)  # eq. 2: W_R = T_in W_{T->R}, as (B, L, C)
        tokens, attention = m.tokenizer(x, tokens_in, need_attention=True)
    else:
        tokens, attention = m.tokenizer(x, need_attention=True)  # eq. 1
    t = m.transformer
    _, relations = attend(t.key(tokens), t.query(tokens), tokens, scale=t.scale, need_weights=True)  # eq. 3's softmax
    tokens_out = t(tokens)  # eqs. 3-4
    p = m.projector
    projection, features_out = None, x
    if p is not None:
        _, projection = attend(p.query(_pixels(x)), p.key(tokens_out), p.value(tokens_out), scale=p.scale,
                               need_weights=True)  # eq. 5's softmax, in the order the paper writes it
        features_out = p(x, tokens_out)
    return Trace(x, attention, tokens, relations, tokens_out, projection, features_out, filters, tokens_in)


def part_flops(vt_model: str = "vt_resnet20", resnet: str = "resnet20", resolution: int = 32,
               replaced_stage: str = "features.5") -> pd.DataFrame:
    """FLOPs and parameters (``vt.flops.count``, one multiply-add = one FLOP) of each part of every VT module of
    ``vt_model`` and, as the last row, of the ResNet stage they replace (``replaced_stage`` of ``resnet``).
    ``flops`` counts the projectors as the code computes eq. 5 (the associative order), ``flops_as_written`` as the
    paper writes it and counts it (``vt.models.projector``)."""
    size = (3, resolution, resolution)
    ours = count(create(vt_model), size).by_module.set_index("module")
    written = count(set_order(create(vt_model), "literal"), size).by_module.set_index("module")
    base = count(create(resnet), size).by_module.set_index("module")
    rows = [{"part": name, "flops": ours.flops[name], "flops_as_written": written.flops[name],
             "params": ours.params[name]}
            for name in ours.index if name.count(".") == 2 and name.startswith("vt.")]
    stage = base.flops[replaced_stage]
    rows.append({"part": f"{resnet} {replaced_stage} (the replaced stage)", "flops": stage,
                 "flops_as_written": stage, "params": base.params[replaced_stage]})
    return pd.DataFrame(rows)
