"""Semantic segmentation: Panoptic FPN's semantic branch and VT-FPN (Wu et al. 2020, section 4.2, Tables 9-10).

Both models are a ResNet backbone (torchvision), an FPN module that turns its stages ``C2..C5`` into the pyramid
``P2..P5`` (256 channels, strides 4-32), and the same semantic head (Kirillov et al. 2019, Panoptic FPN,
section 3.2). They differ in the FPN module only, the part whose FLOPs Tables 9 and 10 compare:

* ``fpn_resnet50``: torchvision's ``FeaturePyramidNetwork``: a 1x1 lateral convolution per stage, the top-down
  sum, and a 3x3 output convolution per level (``fpn.fpn.layer_blocks``).
* ``vt_fpn_resnet50``: "we replace the convolutions in FPN with VT": the same laterals and top-down sum, then,
  in place of the 3x3 output convolutions, one VT over all levels: a filter-based tokenizer (eq. 1) takes 8
  tokens of 1024 channels from each level, one transformer (eqs. 3-4) relates the 32 tokens of all levels, and
  each level's tokens are projected back onto its map (eq. 5).

Choices the paper leaves open (see ``vt.deviations``): the laterals stay (the head needs 256 channels at every
level, and a projector writes back at its map's width); the top-down sum stays (it has no weights); keys and
queries are ``D/2`` wide as in VT-ResNet; the projector runs eq. 5 in the associative order; no LayerNorm.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.models.feature_extraction import create_feature_extractor
from torchvision.ops import Conv2dNormActivation, FeaturePyramidNetwork

from vt.models.projector import Projector
from vt.models.resnet import torchvision_resnet
from vt.models.tokenizers import FilterTokenizer
from vt.models.transformer import TokenTransformer

STAGES = {"layer1": "c2", "layer2": "c3", "layer3": "c4", "layer4": "c5"}


class PyramidVT(nn.Module):
    """The VT of VT-FPN: tokens from every level, one transformer over all of them, each level's projected back.

    Eq. (1) per level ``i``: ``T_i = softmax_HW(X_i W_A,i)^T X_i W_V,i`` (``L`` tokens, ``D`` wide); eqs. (3)-(4)
    on ``[T_1; ...; T_n]`` (``nL`` tokens), so tokens of different resolutions attend to each other; eq. (5) per
    level: ``X_i,out = X_i + softmax_L((X_i W_Q,i)(T'_i W_K,i)^T) T'_i W_V'``, with ``T'_i`` the level's tokens
    after the transformer.
    """

    def __init__(self, levels: int, channels: int, tokens: int = 8, token_channels: int = 1024) -> None:
        super().__init__()
        self.tokens = tokens
        self.tokenizers = nn.ModuleList(FilterTokenizer(channels, token_channels, tokens) for _ in range(levels))
        self.transformer = TokenTransformer(token_channels)
        self.projectors = nn.ModuleList(Projector(channels, token_channels) for _ in range(levels))

    def forward(self, maps: list[Tensor]) -> list[Tensor]:
        tokens = [tokenizer(x)[0] for tokenizer, x in zip(self.tokenizers, maps)]  # each (B, L, D)
        related = self.transformer(torch.cat(tokens, dim=1)).split(self.tokens, dim=1)  # (B, nL, D) -> n x (B, L, D)
        return [projector(x, t) for projector, x, t in zip(self.projectors, maps, related)]


class FPNModule(nn.Module):
    """Stages ``C2..C5`` (a dict) to the pyramid ``P2..P5`` (a list, finest first): torchvision's FPN, or, with
    ``vt``, its laterals and top-down sum followed by ``vt`` instead of its 3x3 output convolutions."""

    def __init__(self, in_channels: list[int], channels: int = 256, vt: PyramidVT | None = None) -> None:
        super().__init__()
        self.fpn = FeaturePyramidNetwork(in_channels, channels)
        if vt is not None:
            self.fpn.layer_blocks = nn.ModuleList(nn.Identity() for _ in in_channels)
        self.vt = vt

    def forward(self, stages: dict[str, Tensor]) -> list[Tensor]:
        maps = list(self.fpn(stages).values())
        return maps if self.vt is None else self.vt(maps)


class SemanticHead(nn.Module):
    """Panoptic FPN's semantic branch (Kirillov et al. 2019, section 3.2): each level ``P_k`` (stride ``2^k``)
    goes through ``max(1, k - 2)`` blocks of 3x3 conv (128 channels), GroupNorm (32 groups), ReLU, each but a P2
    block followed by a 2x bilinear upsampling, to stride 4; the levels are summed; a 1x1 convolution gives the
    class logits at stride 4."""

    def __init__(self, channels: int, num_classes: int, levels: int = 4, head_channels: int = 128) -> None:
        super().__init__()

        def block(c_in: int) -> nn.Module:
            return Conv2dNormActivation(c_in, head_channels, 3, norm_layer=lambda c: nn.GroupNorm(32, c))

        self.levels = nn.ModuleList(
            nn.ModuleList(block(channels if i == 0 else head_channels) for i in range(max(1, level)))
            for level in range(levels)
        )
        self.classifier = nn.Conv2d(head_channels, num_classes, 1)

    def forward(self, maps: list[Tensor]) -> Tensor:
        size = maps[0].shape[-2:]
        total = 0
        for blocks, x in zip(self.levels, maps):
            for block in blocks:
                x = block(x)
                if x.shape[-2:] != size:
                    x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
            total = total + (x if x.shape[-2:] == size else F.interpolate(x, size=size, mode="bilinear",
                                                                          align_corners=False))
        return self.classifier(total)


class SemanticFPN(nn.Module):
    """Backbone -> FPN module -> semantic head -> logits ``(B, num_classes, H, W)`` at the input's size.

    ``fpn`` is the module Tables 9-10 count (``vt.flops.count(model).by_module`` row ``"fpn"``).
    """

    def __init__(self, backbone: nn.Module, in_channels: list[int], num_classes: int, vt: PyramidVT | None = None,
                 channels: int = 256) -> None:
        super().__init__()
        self.backbone = backbone
        self.fpn = FPNModule(in_channels, channels, vt)
        self.head = SemanticHead(channels, num_classes, len(in_channels))

    def forward(self, x: Tensor) -> Tensor:
        logits = self.head(self.fpn(self.backbone(x)))  # (B, K, H/4, W/4)
        return F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)


def _resnet_stages(depth: int) -> tuple[nn.Module, list[int]]:
    """torchvision's ResNet-``depth`` (untrained) returning ``{"c2": ..., "c5": ...}``, and their widths."""
    widths = [64, 128, 256, 512] if depth < 50 else [256, 512, 1024, 2048]  # basic vs bottleneck blocks
    return create_feature_extractor(torchvision_resnet(depth), STAGES), widths


def semantic_fpn(depth: int, num_classes: int, vt: bool, tokens: int = 8, token_channels: int = 1024) -> SemanticFPN:
    """A Panoptic-FPN semantic-segmentation model on ResNet-``depth``, with torchvision's FPN or VT-FPN."""
    backbone, widths = _resnet_stages(depth)
    pyramid_vt = PyramidVT(len(widths), 256, tokens, token_channels) if vt else None
    return SemanticFPN(backbone, widths, num_classes, pyramid_vt)
