"""The embedded default data set: shapes on cluttered backgrounds, generated offline with torch in batch.

Each image holds one object of one of six shape classes, at a random place, size, rotation and colour, on a
smooth random background crossed by distractor lines and soft blobs. Every image comes with its object's
foreground mask, so that the attention notebook can measure how much of the tokens' spatial attention
falls on the object (the paper's first claim, Sec. 3: tokens attend to semantic regions).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from vt.data.base import Dataset, Split

CLASSES = ["disk", "ring", "square", "diamond", "cross", "triangle"]
MEAN = (0.5, 0.5, 0.5)
STD = (0.25, 0.25, 0.25)
_CHUNK = 1024


def synthetic(
    resolution: int = 32, train_size: int = 5000, eval_size: int = 1000, seed: int = 0
) -> Dataset:
    """Shapes data at ``resolution`` (any side >= 16): ``train_size`` and ``eval_size`` images, six classes.

    Deterministic in ``seed``; train and eval are drawn from independent streams of the same distribution.
    """
    if resolution < 16:
        raise ValueError(f"synthetic resolution must be at least 16, got {resolution}")
    return Dataset(
        name="synthetic",
        train=generate(train_size, resolution, seed=2 * seed),
        eval=generate(eval_size, resolution, seed=2 * seed + 1),
        classes=list(CLASSES),
        mean=MEAN,
        std=STD,
        augment="crop_flip",
        source=f"generated (seed {seed})",
    )


def generate(n: int, resolution: int, seed: int) -> Split:
    """``n`` images of side ``resolution`` with labels and foreground masks, from generator seed ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(len(CLASSES), (n,), generator=generator)
    images, masks = [], []
    for start in range(0, n, _CHUNK):
        chunk_images, chunk_masks = _draw(labels[start : start + _CHUNK], resolution, generator)
        images.append(chunk_images)
        masks.append(chunk_masks)
    if not images:
        return Split(torch.empty(0, 3, resolution, resolution, dtype=torch.uint8), labels, torch.empty(0, resolution, resolution, dtype=torch.bool))
    return Split(torch.cat(images), labels, torch.cat(masks))


def _uniform(n: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=generator)


def _draw(labels: torch.Tensor, size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    n = len(labels)
    axis = (torch.arange(size) + 0.5) / size
    y, x = torch.meshgrid(axis, axis, indexing="ij")  # (H, W) in [0, 1]
    background = _background(n, size, x, y, generator)  # (n, 3, H, W)

    radius = _uniform(n, 0.16, 0.3, generator)[:, None, None]
    cx = radius[:, 0, 0] + (1 - 2 * radius[:, 0, 0]) * torch.rand(n, generator=generator)
    cy = radius[:, 0, 0] + (1 - 2 * radius[:, 0, 0]) * torch.rand(n, generator=generator)
    tilt = _uniform(n, -math.pi / 12, math.pi / 12, generator)
    angle = torch.where(labels == CLASSES.index("triangle"), _uniform(n, 0, 2 * math.pi, generator), tilt)
    dx, dy = x - cx[:, None, None], y - cy[:, None, None]
    cos, sin = angle.cos()[:, None, None], angle.sin()[:, None, None]
    u, v = (dx * cos + dy * sin) / radius, (-dx * sin + dy * cos) / radius  # object frame, unit radius
    mask = _shape_mask(labels, u, v)

    under = (background * mask[:, None]).sum((2, 3)) / mask.sum((1, 2)).clamp(min=1)[:, None]
    colour = (under + 0.35 + 0.3 * torch.rand(n, 3, generator=generator)) % 1.0  # >= 0.35 from the ground
    shade = 1 + 0.15 * (u - v)[:, None].clamp(-1, 1)  # a little shading, so colour alone is not flat
    image = torch.where(mask[:, None], (colour[:, :, None, None] * shade).clamp(0, 1), background)
    return (image * 255).round().to(torch.uint8), mask


def _shape_mask(labels: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    r = (u**2 + v**2).sqrt()
    triangle = torch.ones_like(r, dtype=torch.bool)
    for k in range(3):  # three half-planes, inradius 0.6, circumradius 1.2
        theta = math.pi / 2 + 2 * math.pi * k / 3
        triangle &= u * math.cos(theta) + v * math.sin(theta) <= 0.6
    shapes = {
        "disk": r <= 1,
        "ring": (r <= 1) & (r >= 0.55),
        "square": torch.maximum(u.abs(), v.abs()) <= 0.85,
        "diamond": u.abs() + v.abs() <= 1.15,
        "cross": ((u.abs() <= 0.33) & (v.abs() <= 1)) | ((v.abs() <= 0.33) & (u.abs() <= 1)),
        "triangle": triangle,
    }
    stacked = torch.stack([shapes[name] for name in CLASSES], dim=1)  # (n, classes, H, W)
    return stacked[torch.arange(len(labels)), labels]


def _background(n: int, size: int, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    coarse = torch.rand(n, 3, 4, 4, generator=generator)
    ground = 0.15 + 0.7 * F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False).clamp(0, 1)
    for _ in range(2):  # soft blobs: no edges, so they cannot pass for an object
        bx, by = torch.rand(n, 1, 1, generator=generator), torch.rand(n, 1, 1, generator=generator)
        width = _uniform(n, 0.08, 0.2, generator)[:, None, None]
        weight = torch.exp(-((x - bx) ** 2 + (y - by) ** 2) / (2 * width**2))[:, None]
        ground = ground * (1 - weight) + torch.rand(n, 3, 1, 1, generator=generator) * weight
    for _ in range(2):  # thin straight lines across the whole image
        px, py = torch.rand(n, 1, 1, generator=generator), torch.rand(n, 1, 1, generator=generator)
        theta = _uniform(n, 0, math.pi, generator)[:, None, None]
        line = ((x - px) * theta.sin() - (y - py) * theta.cos()).abs() <= 0.6 / size
        ground = torch.where(line[:, None], torch.rand(n, 3, 1, 1, generator=generator), ground)
    noise = 0.04 * torch.randn(n, 3, size, size, generator=generator)
    return (ground + noise).clamp(0, 1)
