"""Models of the reproduction, by name: ``vt.models.create(name, **kwargs)``; ``vt.models.names()``.

Paper models: ``vt_resnet18/34/50/101`` (Wu et al. 2020) and their baselines ``resnet18/34/50/101``
(torchvision), each with ``small_input=True`` for 32x32/64x64 images. CIFAR models: ``resnet20`` (He et al.
2016), ``vt_resnet20`` and the earlier report's ``vit_resnet_cifar``.
"""

from torch import nn

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

__all__ = [
    "TOKENIZERS",
    "FilterTokenizer",
    "PoolingTokenizer",
    "Projector",
    "RecurrentTokenizer",
    "TokenTransformer",
    "VTModule",
    "VTResNet",
    "ViTResNet",
    "arguments",
    "create",
    "names",
    "register",
]
