"""Models of the reproduction, by name: ``vt.models.create(name, **kwargs)``; ``vt.models.names()``.

Paper models: ``vt_resnet18/34/50/101`` (Wu et al. 2020) and their baselines ``resnet18/34/50/101``
(torchvision), each with ``small_input=True`` for 32x32/64x64 images. CIFAR models: ``resnet20`` (He et al.
2016), ``vt_resnet20`` and the earlier report's ``vit_resnet_cifar``. Segmentation models
(``names("segmentation")``): ``fpn_resnet50`` and ``vt_fpn_resnet50`` (Panoptic FPN's semantic branch, Tables 9-10).
"""

from torch import nn

from vt.models.fpn import SemanticFPN, semantic_fpn
from vt.models.projector import Projector
from vt.models.registry import arguments, create, names, register
from vt.models.resnet import CifarResNet, torchvision_resnet
from vt.models.tokenizers import FilterTokenizer, PoolingTokenizer, RecurrentTokenizer
from vt.models.transformer import TokenTransformer
from vt.models.vit_resnet import ViTResNet, vit_resnet_cifar
from vt.models.vt_module import VTModule
from vt.models.vt_resnet import TOKENIZERS, VTResNet, vt_resnet18, vt_resnet20, vt_resnet34, vt_resnet50, vt_resnet101


@register
def resnet18(num_classes: int = 1000, small_input: bool = False) -> nn.Module:
    """torchvision's ResNet-18 (He et al. 2016), untrained."""
    return torchvision_resnet(18, num_classes, small_input)


@register
def resnet34(num_classes: int = 1000, small_input: bool = False) -> nn.Module:
    """torchvision's ResNet-34 (He et al. 2016), untrained."""
    return torchvision_resnet(34, num_classes, small_input)


@register
def resnet50(num_classes: int = 1000, small_input: bool = False) -> nn.Module:
    """torchvision's ResNet-50 (He et al. 2016), untrained."""
    return torchvision_resnet(50, num_classes, small_input)


@register
def resnet101(num_classes: int = 1000, small_input: bool = False) -> nn.Module:
    """torchvision's ResNet-101 (He et al. 2016), untrained."""
    return torchvision_resnet(101, num_classes, small_input)


@register
def resnet20(num_classes: int = 10) -> nn.Module:
    """He et al. 2016's CIFAR ResNet-20 (3 stages x 3 basic blocks, 16/32/64 channels, 0.27 M params)."""
    return CifarResNet(blocks=3, num_classes=num_classes)


for _builder in (vt_resnet18, vt_resnet34, vt_resnet50, vt_resnet101, vt_resnet20, vit_resnet_cifar):
    register(_builder)


def fpn_resnet50(num_classes: int = 171) -> nn.Module:
    """Panoptic FPN's semantic branch on ResNet-50 with torchvision's FPN (Wu et al. 2020, Tables 9-10's
    baseline), untrained; logits ``(B, K, H, W)``. 171 classes: COCO-stuff's 91 stuff + 80 thing classes."""
    return semantic_fpn(50, num_classes, vt=False)


def vt_fpn_resnet50(num_classes: int = 171, tokens: int = 8, token_channels: int = 1024) -> nn.Module:
    """VT-FPN on ResNet-50 (Wu et al. 2020, section 4.2): the FPN's 3x3 output convolutions replaced by one VT
    over all levels, 8 tokens of 1024 channels from each; untrained; logits ``(B, K, H, W)``."""
    return semantic_fpn(50, num_classes, vt=True, tokens=tokens, token_channels=token_channels)


def fpn_resnet18(num_classes: int = 171) -> nn.Module:
    """``fpn_resnet50`` on ResNet-18: the same FPN and head on a backbone light enough for a CPU smoke run."""
    return semantic_fpn(18, num_classes, vt=False)


def vt_fpn_resnet18(num_classes: int = 171, tokens: int = 8, token_channels: int = 1024) -> nn.Module:
    """``vt_fpn_resnet50`` on ResNet-18: the same VT-FPN and head on a backbone light enough for a CPU smoke run."""
    return semantic_fpn(18, num_classes, vt=True, tokens=tokens, token_channels=token_channels)


for _builder in (fpn_resnet50, vt_fpn_resnet50, fpn_resnet18, vt_fpn_resnet18):
    register(_builder, task="segmentation")

__all__ = [
    "TOKENIZERS",
    "FilterTokenizer",
    "PoolingTokenizer",
    "Projector",
    "RecurrentTokenizer",
    "SemanticFPN",
    "TokenTransformer",
    "VTModule",
    "VTResNet",
    "ViTResNet",
    "arguments",
    "create",
    "names",
    "register",
]
