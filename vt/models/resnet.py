"""Baseline ResNets: torchvision's ImageNet ResNets (optionally with a small-image stem) and He et al.'s
CIFAR ResNet-20, both built from torchvision's ``BasicBlock``."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.models import resnet as tv_resnet
from torchvision.models.resnet import BasicBlock


def small_input_stem(model: tv_resnet.ResNet) -> tv_resnet.ResNet:
    """Give a torchvision ResNet the usual CIFAR stem: a 3x3 stride-1 first conv and no max-pool.

    For 32x32 and 64x64 images, where the ImageNet stem (7x7 stride 2 + max-pool) would shrink the map 4x
    before the first stage.
    """
    model.conv1 = nn.Conv2d(3, model.conv1.out_channels, kernel_size=3, stride=1, padding=1, bias=False)
    nn.init.kaiming_normal_(model.conv1.weight, mode="fan_out", nonlinearity="relu")
    model.maxpool = nn.Identity()
    return model


def torchvision_resnet(depth: int, num_classes: int = 1000, small_input: bool = False) -> tv_resnet.ResNet:
    """torchvision's ``resnet{depth}`` (He et al. 2016), untrained, with an optional small-image stem."""
    builders = {18: tv_resnet.resnet18, 34: tv_resnet.resnet34, 50: tv_resnet.resnet50, 101: tv_resnet.resnet101}
    model = builders[depth](weights=None, num_classes=num_classes)
    return small_input_stem(model) if small_input else model


class PadShortcut(nn.Module):
    """He et al.'s CIFAR "option A" shortcut: subsample by 2 and zero-pad the new channels (no weights)."""

    def __init__(self, extra_channels: int) -> None:
        super().__init__()
        self.extra_channels = extra_channels

    def forward(self, x: Tensor) -> Tensor:
        half = self.extra_channels // 2
        return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, half, self.extra_channels - half))


def cifar_stage(in_channels: int, channels: int, blocks: int, stride: int) -> nn.Sequential:
    """One stage of the CIFAR ResNet: ``blocks`` torchvision ``BasicBlock``s, the first one striding."""
    shortcut = PadShortcut(channels - in_channels) if stride != 1 or in_channels != channels else None
    layers = [BasicBlock(in_channels, channels, stride=stride, downsample=shortcut)]
    layers += [BasicBlock(channels, channels) for _ in range(blocks - 1)]
    return nn.Sequential(*layers)


def cifar_backbone(stages: int = 3, blocks: int = 3) -> nn.Sequential:
    """Stem and the first ``stages`` stages (16, 32, 64 channels) of He et al.'s CIFAR ResNet-(6n+2)."""
    widths = (16, 32, 64)[:stages]
    layers: list[nn.Module] = [
        nn.Conv2d(3, 16, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(16),
        nn.ReLU(inplace=True),
    ]
    in_channels = 16
    for i, width in enumerate(widths):
        layers.append(cifar_stage(in_channels, width, blocks, stride=1 if i == 0 else 2))
        in_channels = width
    backbone = nn.Sequential(*layers)
    init_weights(backbone)
    return backbone


def init_weights(module: nn.Module) -> None:
    """He initialization for convs, unit BatchNorm, as torchvision's ResNet does."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


class CifarResNet(nn.Module):
    """He et al. 2016's CIFAR ResNet (section 4.2): 3 stages of 16/32/64 channels, global pool, FC."""

    def __init__(self, blocks: int = 3, num_classes: int = 10) -> None:
        super().__init__()
        self.features = cifar_backbone(stages=3, blocks=blocks)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1))
