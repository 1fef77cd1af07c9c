"""VT-ResNet: a ResNet whose last stage is replaced by VT modules (Wu et al. 2020, section 4.1).

Design choices where the paper's text leaves a width open. These widths are free, and they were chosen while
reading the totals of Table 2, so the FLOPs and parameters that ``notebooks/04_flops.ipynb`` sets beside the
paper's agree partly by construction: the comparison shows that one choice fits Tables 2 and 6 together, not
that the paper's numbers were confirmed independently.

* The VT input is the output of the stage before the last (14x14x256 for ResNet-18/34, 14x14x1024 for
  ResNet-50/101 at 224x224); the VT modules keep that width ``C`` and that resolution.
* Token channels ``D = 1024`` for all four depths (the earlier report calls 1024 "the paper's").
* Transformer keys and queries ``D/2`` wide, feed-forward ``D -> D -> D`` (eqs. 3-4).
* Projector keys and queries ``D/2`` wide (eq. 5), computed in the cheaper associative order.
* ``2/3/3/3`` modules; the first has a filter-based tokenizer, later ones recurrent tokenizers.
* Every module but the last projects its tokens back onto the feature map: the last module's tokens go to
  the head, so a projected map would be unused.
* Head: average pool over tokens, a LayerNorm, then a fully-connected layer. The LayerNorm is ours: the VT
  equations put no normalization between the last tokens and the classifier. It plays the part of the BatchNorm
  that ends a ResNet's last stage before its pool, and adds ``2 D`` parameters; no experiment here has
  measured what training without it would do.
* With ``projector=False`` (Table 7) every module tokenizes the same input feature map.
"""

from __future__ import annotations

from typing import Literal, get_args

import torch
from torch import Tensor, nn

from vt.models.resnet import cifar_backbone, torchvision_resnet
from vt.models.vt_module import VTModule

TokenizerChoice = Literal["recurrent", "filter", "pooling", "pooling_first"]
TOKENIZERS: tuple[str, ...] = get_args(TokenizerChoice)


class VTResNet(nn.Module):
    """A convolutional backbone followed by a chain of VT modules and a token classification head.

    Args:
        backbone: the ResNet up to (not including) its last stage; maps images to ``(B, C, H, W)``.
        channels: ``C``, the backbone's output channels.
        token_channels: ``D``.
        tokens: ``L``.
        modules: the number of VT modules (the number of blocks of the replaced stage).
        tokenizer: ``"recurrent"`` (the paper's VT: a filter-based tokenizer first, recurrent after it),
            ``"filter"`` (filter-based everywhere; Table 4's "without recurrent tokenizer"),
            ``"pooling"`` (Table 3's pooling baseline everywhere, the reading ``vt.findings`` compares) or
            ``"pooling_first"`` (Table 3's other reading: pooling in place of the first, filter-based tokenizer
            only, recurrent tokenizers after it).
        transformer: keep the token transformers (Table 5).
        projector: keep the projectors (Table 7).
        num_classes: outputs of the head.
    """

    def __init__(
        self,
        backbone: nn.Module,
        channels: int,
        *,
        token_channels: int,
        tokens: int,
        modules: int,
        tokenizer: TokenizerChoice,
        transformer: bool,
        projector: bool,
        num_classes: int,
    ) -> None:
        super().__init__()
        if tokenizer not in TOKENIZERS:
            raise ValueError(f"unknown tokenizer {tokenizer!r}; choose one of {', '.join(TOKENIZERS)}")
        if tokens < 1 or token_channels < 2:
            raise ValueError(f"need tokens >= 1 and token_channels >= 2, got {tokens} and {token_channels}")
        self.backbone = backbone
        self.project_back = projector
        first, later = {"recurrent": ("filter", "recurrent"), "pooling_first": ("pooling", "recurrent")}.get(
            tokenizer, (tokenizer, tokenizer))
        kinds = [first] + [later] * (modules - 1)
        self.vt = nn.ModuleList(
            VTModule(
                channels,
                token_channels,
                tokens,
                tokenizer=kind,
                transformer=transformer,
                projector=projector and i < modules - 1,
            )
            for i, kind in enumerate(kinds)
        )
        self.norm = nn.LayerNorm(token_channels)
        self.fc = nn.Linear(token_channels, num_classes)

    def forward(self, x: Tensor, return_attention: bool = False) -> Tensor | tuple[Tensor, list[Tensor]]:
        """Class logits ``(B, num_classes)``; with ``return_attention``, also each module's spatial
        attention ``A (B, HW, L)`` (eqs. 1-2), in module order."""
        features = self.backbone(x)  # (B, C, H, W)
        tokens: Tensor | None = None
        attentions: list[Tensor] = []
        for module in self.vt:
            # Without projectors every module reads the backbone's map; with them, the previous output.
            out, tokens, attention = module(features, tokens, need_attention=return_attention)
            if self.project_back:
                features = out
            if attention is not None:
                attentions.append(attention)
        assert tokens is not None
        logits = self.fc(self.norm(tokens.mean(dim=1)))  # average pool over the L tokens, norm, FC
        return (logits, attentions) if return_attention else logits

    @torch.no_grad()
    def attention_maps(self, x: Tensor) -> list[Tensor]:
        """Each module's tokenizer attention as images: a list of ``(B, L, H, W)`` tensors."""
        h, w = self.backbone(x).shape[-2:]
        _, attentions = self(x, return_attention=True)
        return [a.transpose(1, 2).reshape(a.shape[0], a.shape[2], h, w) for a in attentions]


def _torchvision_backbone(depth: int, small_input: bool) -> tuple[nn.Sequential, int]:
    """torchvision's ResNet-``depth`` up to the end of its third stage, and that stage's width."""
    net = torchvision_resnet(depth, small_input=small_input)
    backbone = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool, net.layer1, net.layer2, net.layer3)
    return backbone, net.layer3[-1].conv1.in_channels


_MODULES = {18: 2, 34: 3, 50: 3, 101: 3}


def _vt_resnet(
    depth: int,
    *,
    num_classes: int,
    tokens: int,
    token_channels: int,
    tokenizer: TokenizerChoice,
    projector: bool,
    transformer: bool,
    small_input: bool,
) -> VTResNet:
    backbone, channels = _torchvision_backbone(depth, small_input)
    return VTResNet(
        backbone,
        channels,
        token_channels=token_channels,
        tokens=tokens,
        modules=_MODULES[depth],
        tokenizer=tokenizer,
        transformer=transformer,
        projector=projector,
        num_classes=num_classes,
    )


def vt_resnet18(
    num_classes: int = 1000,
    tokens: int = 16,
    token_channels: int = 1024,
    tokenizer: TokenizerChoice = "recurrent",
    projector: bool = True,
    transformer: bool = True,
    small_input: bool = False,
) -> VTResNet:
    """VT-ResNet-18 (Wu et al. 2020, Table 2): ResNet-18's last stage replaced by 2 VT modules."""
    return _vt_resnet(18, **_kwargs(locals()))


def vt_resnet34(
    num_classes: int = 1000,
    tokens: int = 16,
    token_channels: int = 1024,
    tokenizer: TokenizerChoice = "recurrent",
    projector: bool = True,
    transformer: bool = True,
    small_input: bool = False,
) -> VTResNet:
    """VT-ResNet-34 (Wu et al. 2020, Table 2): ResNet-34's last stage replaced by 3 VT modules."""
    return _vt_resnet(34, **_kwargs(locals()))


def vt_resnet50(
    num_classes: int = 1000,
    tokens: int = 16,
    token_channels: int = 1024,
    tokenizer: TokenizerChoice = "recurrent",
    projector: bool = True,
    transformer: bool = True,
    small_input: bool = False,
) -> VTResNet:
    """VT-ResNet-50 (Wu et al. 2020, Table 8): ResNet-50's last stage replaced by 3 VT modules."""
    return _vt_resnet(50, **_kwargs(locals()))


def vt_resnet101(
    num_classes: int = 1000,
    tokens: int = 16,
    token_channels: int = 1024,
    tokenizer: TokenizerChoice = "recurrent",
    projector: bool = True,
    transformer: bool = True,
    small_input: bool = False,
) -> VTResNet:
    """VT-ResNet-101 (Wu et al. 2020, Table 8): ResNet-101's last stage replaced by 3 VT modules."""
    return _vt_resnet(101, **_kwargs(locals()))


def vt_resnet20(
    num_classes: int = 10,
    tokens: int = 16,
    token_channels: int = 128,
    tokenizer: TokenizerChoice = "recurrent",
    projector: bool = True,
    transformer: bool = True,
) -> VTResNet:
    """VT-ResNet-20 for 32x32 images: He et al.'s CIFAR ResNet-20 with its last stage (3 blocks, 64
    channels) replaced by 3 VT modules on the 16x16x32 map of the second stage, the paper's recipe applied
    to the CIFAR network. Token channels ``D = 4C = 128``, the ratio VT-ResNet-18/34 use (1024 = 4 x 256)."""
    return VTResNet(
        cifar_backbone(stages=2),
        32,
        token_channels=token_channels,
        tokens=tokens,
        modules=3,
        tokenizer=tokenizer,
        transformer=transformer,
        projector=projector,
        num_classes=num_classes,
    )


def _kwargs(local_vars: dict) -> dict:
    """A builder's own arguments, passed on unchanged."""
    return {k: v for k, v in local_vars.items() if not k.startswith("_")}
