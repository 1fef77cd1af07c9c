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


def _mean_cosine_within(groups: Tensor) -> float:
    """Mean cosine similarity between the different vectors of each group, ``groups (G, N, C)``, over groups."""
    unit = torch.nn.functional.normalize(groups.float(), dim=-1)
    cosines = unit @ unit.transpose(1, 2)  # (G, N, N)
    off_diagonal = ~torch.eye(groups.shape[1], dtype=torch.bool)
    return float(cosines[:, off_diagonal].mean())


def filter_similarity(filters: Tensor) -> float:
    """Mean cosine similarity, over tokens and over pairs of images, of the filters ``W_R (B, L, C)`` that eq. 2
    computes from each image's previous tokens: 1 where every image gets the same filters, as with eq. 1's fixed
    ``W_A``; lower where the filters follow the image."""
    return _mean_cosine_within(filters.transpose(0, 1))  # (L, B, C): each token's filters across the images


def token_similarity(tokens: Tensor) -> float:
    """Mean cosine similarity between the different tokens ``(B, L, D)`` of one image, over images: near 1 where the
    ``L`` tokens have collapsed into one."""
    return _mean_cosine_within(tokens)


def spread_from_uniform(relations: Tensor) -> tuple[float, float]:
    """The largest and the mean ``|w - 1/L|`` over the token-to-token weights ``(B, L, L)`` of eq. 3: 0 where every
    token reads all ``L`` tokens alike (then eq. 3 adds the same mean token to each)."""
    gap = (relations - 1 / relations.shape[-1]).abs()
    return float(gap.max()), float(gap.mean())


def transformer_terms(tokens: Tensor, relations: Tensor, tokens_out: Tensor) -> tuple[float, float]:
    """How much eq. 3's attention term ``softmax(...) T`` and eq. 4's feed-forward term each add to the tokens, as a
    share of the tokens' norm (mean over tokens and images): ``T_out = T + attention + feed-forward``."""
    attention = relations @ tokens  # eq. 3's added term
    feed_forward = tokens_out - tokens - attention  # eq. 4's added term
    norm = tokens.norm(dim=-1)
    return float((attention.norm(dim=-1) / norm).mean()), float((feed_forward.norm(dim=-1) / norm).mean())


def winners(projection: Tensor) -> tuple[int, float, float]:
    """For the pixel-to-token weights ``(B, HW, L)`` of eq. 5: how many distinct tokens are some pixel's largest
    weight, in any image; the share of pixels whose largest weight goes to the most frequent winner; and the mean of
    each pixel's largest weight (``1/L`` where a pixel reads all tokens alike, 1 where it reads one)."""
    best = projection.argmax(dim=-1).flatten()
    counts = torch.bincount(best, minlength=projection.shape[-1])
    return int((counts > 0).sum()), float(counts.max() / best.numel()), float(projection.max(dim=-1).values.mean())
