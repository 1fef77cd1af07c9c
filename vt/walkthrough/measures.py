"""The numbers the walkthrough reads off a traced VT module (``vt.walkthrough.trace``), so that each figure is read
for the student in words computed from the run."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def entropy(attention: Tensor) -> float:
    """Mean entropy in nats, over images and tokens, of the spatial attention ``A (B, HW, L)`` of eqs. 1-2, each
    token's column a distribution over the ``HW`` pixels: ``-sum_p A log A``. A token that weighs every pixel alike
    has ``log HW``; one that looks at ``k`` pixels alike has ``log k``."""
    return float(-(attention * attention.clamp_min(1e-12).log()).sum(dim=1).mean())


def uniform_entropy(attention: Tensor) -> float:
    """``log HW``, the entropy of a token that weighs all ``HW`` pixels of ``A (B, HW, L)`` alike."""
    return math.log(attention.shape[1])


def filter_similarity(filters: Tensor) -> float:
    """Mean cosine similarity, over tokens and over pairs of images, of the filters ``W_R (B, L, C)`` that eq. 2
    computes from each image's previous tokens: 1 where every image gets the same filters, as with eq. 1's fixed
    ``W_A``; lower where the filters follow the image."""
    unit = torch.nn.functional.normalize(filters.float(), dim=-1)  # (B, L, C)
    cosines = torch.einsum("blc,dlc->lbd", unit, unit)  # (L, B, B)
    b = filters.shape[0]
    off_diagonal = ~torch.eye(b, dtype=torch.bool)
    return float(cosines[:, off_diagonal].mean())


def spread_from_uniform(relations: Tensor) -> float:
    """The largest ``|w - 1/L|`` over the token-to-token weights ``(B, L, L)`` of eq. 3: 0 where every token reads
    all ``L`` tokens alike (then eq. 3 adds the same mean token to each)."""
    return float((relations - 1 / relations.shape[-1]).abs().max())


def winners(projection: Tensor) -> tuple[int, float]:
    """For the pixel-to-token weights ``(B, HW, L)`` of eq. 5: how many distinct tokens are some pixel's largest
    weight, in any image, and the share of pixels whose largest weight goes to the most frequent winner."""
    best = projection.argmax(dim=-1).flatten()
    counts = torch.bincount(best, minlength=projection.shape[-1])
    return int((counts > 0).sum()), float(counts.max() / best.numel())
