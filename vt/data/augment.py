"""Train-time augmentation applied to a whole batch at once, on whatever device the batch lives on.

As in airbench: random numbers come from a CPU ``torch.Generator`` (few per image), the pixel work is one
gather or one ``grid_sample`` on the device. Names used by ``Dataset.augment`` and ``TrainConfig.augment``:

- ``"crop_flip"``: random crop of the zero-padded image (pad = side / 8, 4 px for CIFAR's 32) and a horizontal
  flip with probability 1/2, as the report and He et al. (2016) train CIFAR;
- ``"resized_crop_flip"``: random-resized-crop (area 25-100 %, aspect 3/4-4/3) and flip, as the paper trains
  ImageNet (Sec. 5.1 follows the ResNet recipe);
- ``"flip"``: flip only; ``"none"``: nothing.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

AUGMENTATIONS = ("crop_flip", "resized_crop_flip", "flip", "none")


def crop_flip(images: torch.Tensor, pad: int, generator: torch.Generator, flip: bool = True) -> torch.Tensor:
    """Random ``pad``-pixel translation (zero fill) and horizontal flip of ``images`` (B, C, H, W), any dtype.

    The result keeps the shape; it comes back with channels-last strides (a free by-product of the gather).
    """
    b, _, h, w = images.shape
    device = images.device
    dy = torch.randint(0, 2 * pad + 1, (b,), generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (b,), generator=generator)
    mirrored = torch.rand(b, generator=generator) < 0.5 if flip else torch.zeros(b, dtype=torch.bool)
    rows = (dy[:, None] + torch.arange(h)).to(device)  # (B, H) rows of the padded image
    cols = dx[:, None] + torch.arange(w)
    cols = torch.where(mirrored[:, None], cols.flip(1), cols).to(device)  # (B, W)
    padded = F.pad(images, (pad, pad, pad, pad)) if pad else images
    batch = torch.arange(b, device=device)[:, None, None]
    return padded[batch, :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)  # gather gives (B, H, W, C)


def resized_crop_flip(
    images: torch.Tensor,
    size: int,
    generator: torch.Generator,
    scale: tuple[float, float] = (0.25, 1.0),
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
) -> torch.Tensor:
    """Random-resized-crop of float ``images`` (B, C, H, W) to ``size`` x ``size`` and a random flip, bilinear."""
    b = images.shape[0]
    area = scale[0] + (scale[1] - scale[0]) * torch.rand(b, generator=generator)
    log_ratio = math.log(ratio[0]) + (math.log(ratio[1]) - math.log(ratio[0])) * torch.rand(b, generator=generator)
    width = (area * log_ratio.exp()).sqrt().clamp(max=1)  # fraction of the image side
    height = (area / log_ratio.exp()).sqrt().clamp(max=1)
    cx = (1 - width) * (2 * torch.rand(b, generator=generator) - 1)  # centre in [-1, 1] coordinates
    cy = (1 - height) * (2 * torch.rand(b, generator=generator) - 1)
    sign = torch.where(torch.rand(b, generator=generator) < 0.5, -1.0, 1.0)
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0], theta[:, 0, 2] = width * sign, cx
    theta[:, 1, 1], theta[:, 1, 2] = height, cy
    grid = F.affine_grid(theta.to(images.device, images.dtype), [b, images.shape[1], size, size], align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def resize(images: torch.Tensor, size: int) -> torch.Tensor:
    """Float ``images`` resized to ``size`` x ``size`` (bilinear; antialiased when shrinking)."""
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    shrink = size < images.shape[-1]
    return F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False, antialias=shrink)
