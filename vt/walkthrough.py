"""One VT module, equation by equation, for ``notebooks/06_walkthrough.ipynb`` (Wu et al. 2020, section 3).

``trace`` runs a VT-ResNet's backbone and its first VT module step by step and keeps every intermediate tensor:
the feature map ``X``, the tokenizer's spatial attention ``A`` and tokens ``T`` (eq. 1), the transformer's
token-to-token weights and output tokens (eqs. 3-4), and the projector's pixel-to-token weights and output map
(eq. 5). The forward pass of the model computes the same values (a test checks it); the trace only keeps them.
``part_flops`` sets the FLOPs of each part beside the ResNet stage the VT modules replace. ``walk_model`` picks the
model walked through: the shipped CIFAR-10 weights on CIFAR-10, untrained weights otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch
from torch import Tensor

from vt.flops import count
from vt.models import create
from vt.models.attention import attend
from vt.models.tokenizers import _pixels
from vt.models.vt_resnet import VTResNet
from vt.weights import WEIGHTS_DIR, WeightsError, entry, load_into

WALK_MODEL = "vt_resnet20"


@dataclass
class Trace:
    """Every tensor of the first VT module for a batch of ``B`` images (shapes with the paper's symbols)."""

    features: Tensor  # X_in (B, C, H, W): the backbone's map, the VT's input
    attention: Tensor  # A (B, HW, L): eq. 1, softmax over the HW pixels
    tokens: Tensor  # T (B, L, D): eq. 1, A^T X, widened by W_V
    relations: Tensor  # (B, L, L): eq. 3, softmax_L((T K)(T Q)^T), row i: what token i reads from each token
    tokens_out: Tensor  # T_out (B, L, D): eqs. 3-4
    projection: Tensor  # (B, HW, L): eq. 5, softmax_L((X W_Q)(T W_K)^T), row p: what pixel p reads from each token
    features_out: Tensor  # X_out (B, C, H, W): eq. 5, X_in + the projected tokens


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


@torch.no_grad()
def trace(model: VTResNet, images: Tensor) -> Trace:
    """The first VT module of ``model`` on normalized ``images`` (B, 3, H, W), step by step (eval mode)."""
    model.eval()
    module = model.vt[0]
    x = model.backbone(images)  # X_in: (B, C, H, W)
    tokens, attention = module.tokenizer(x, need_attention=True)  # eq. 1
    t = module.transformer
    _, relations = attend(t.key(tokens), t.query(tokens), tokens, scale=t.scale, need_weights=True)  # eq. 3's softmax
    tokens_out = t(tokens)  # eqs. 3-4
    p = module.projector
    _, projection = attend(p.query(_pixels(x)), p.key(tokens_out), p.value(tokens_out), scale=p.scale,
                           need_weights=True)  # eq. 5's softmax, in the order the paper writes it
    return Trace(x, attention, tokens, relations, tokens_out, projection, p(x, tokens_out))


def part_flops(vt_model: str = "vt_resnet20", resnet: str = "resnet20", resolution: int = 32,
               replaced_stage: str = "features.5") -> pd.DataFrame:
    """FLOPs and parameters (``vt.flops.count``, one multiply-add = one FLOP) of each part of every VT module of
    ``vt_model`` and, as the last row, of the ResNet stage they replace (``replaced_stage`` of ``resnet``)."""
    ours = count(create(vt_model), (3, resolution, resolution)).by_module.set_index("module")
    base = count(create(resnet), (3, resolution, resolution)).by_module.set_index("module")
    rows = [{"part": name, "flops": ours.flops[name], "params": ours.params[name]}
            for name in ours.index if name.count(".") == 2 and name.startswith("vt.")]
    rows.append({"part": f"{resnet} {replaced_stage} (the replaced stage)", "flops": base.flops[replaced_stage],
                 "params": base.params[replaced_stage]})
    return pd.DataFrame(rows)
