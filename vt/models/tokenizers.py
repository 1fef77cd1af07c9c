"""Tokenizers: a feature map ``X (B, C, H, W)`` becomes ``L`` visual tokens ``T (B, L, D)``.

Wu et al. 2020, section 3.1. ``C`` is the feature map's channel size, ``D`` the tokens' channel size
("token channels"), ``L`` the number of tokens. Where ``D != C`` the tokens pass through one learned
point-wise map ``W_V in R^{C x D}`` after pooling (the paper's equations assume ``D == C`` and leave the
change of width open; applying it per token, after pooling, costs ``L`` rather than ``HW`` products).

Every tokenizer returns ``(tokens, attention)`` where ``attention`` is the spatial attention
``A (B, HW, L)`` (each column sums to 1 over ``HW``) when ``need_attention`` is set, else ``None``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vt.models.attention import attend


def _pixels(x: Tensor) -> Tensor:
    """``(B, C, H, W) -> (B, HW, C)``; a view, without a copy, for channels_last tensors."""
    return x.flatten(2).transpose(1, 2)


def _value_map(channels: int, token_channels: int) -> nn.Module:
    """The per-token change of width ``C -> D`` (identity when the widths agree)."""
    if channels == token_channels:
        return nn.Identity()
    return nn.Linear(channels, token_channels, bias=False)


class FilterTokenizer(nn.Module):
    """Filter-based tokenizer, eq. (1): ``A = softmax_HW(X W_A)``, ``T = A^T X``.

    ``W_A in R^{C x L}`` is a point-wise convolution: each of its ``L`` columns is a learned filter whose
    response, normalized over all pixels, says how much each pixel belongs to that token. Computed as ``L``
    learned queries attending over the pixels, which is the same expression.
    """

    def __init__(self, channels: int, token_channels: int, tokens: int = 16) -> None:
        super().__init__()
        self.tokens = tokens
        self.filters = nn.Linear(channels, tokens, bias=False)  # W_A^T: (L, C)
        self.value = _value_map(channels, token_channels)

    def forward(self, x: Tensor, need_attention: bool = False) -> tuple[Tensor, Tensor | None]:
        pixels = _pixels(x)  # (B, HW, C)
        queries = self.filters.weight.unsqueeze(0).expand(x.shape[0], -1, -1)  # (B, L, C)
        tokens, weights = attend(queries.to(pixels.dtype), pixels, pixels, scale=1.0, need_weights=need_attention)
        # tokens: (B, L, C); weights: (B, L, HW)
        attention = weights.transpose(1, 2) if weights is not None else None  # A: (B, HW, L)
        return self.value(tokens), attention  # (B, L, D)


class RecurrentTokenizer(nn.Module):
    """Recurrent tokenizer, eq. (2): ``W_R = T_in W_{T->R}``, ``T = softmax_HW(X W_R)^T X``.

    The previous module's tokens ``T_in (B, L, D)`` choose the filters, so that the grouping of pixels
    depends on the image. ``W_{T->R} in R^{D x C}``. The logits are scaled by ``1/sqrt(C)``, the usual
    scaling of a dot product of two learned ``C``-wide vectors (the paper's eq. 2 does not write it).
    """

    def __init__(self, channels: int, token_channels: int, tokens: int = 16) -> None:
        super().__init__()
        self.tokens = tokens
        self.token_to_filter = nn.Linear(token_channels, channels, bias=False)  # W_{T->R}
        self.value = _value_map(channels, token_channels)
        self.scale = 1.0 / math.sqrt(channels)

    def forward(
        self, x: Tensor, tokens_in: Tensor, need_attention: bool = False
    ) -> tuple[Tensor, Tensor | None]:
        pixels = _pixels(x)  # (B, HW, C)
        filters = self.token_to_filter(tokens_in)  # W_R^T: (B, L, C)
        tokens, weights = attend(filters, pixels, pixels, scale=self.scale, need_weights=need_attention)
        attention = weights.transpose(1, 2) if weights is not None else None  # (B, HW, L)
        return self.value(tokens), attention  # (B, L, D)


def token_grid(tokens: int) -> tuple[int, int]:
    """The ``(h, w)`` grid with ``h * w == tokens`` closest to square (16 -> 4x4, 32 -> 4x8)."""
    h = int(math.isqrt(tokens))
    while tokens % h:
        h -= 1
    return h, tokens // h


class PoolingTokenizer(nn.Module):
    """Pooling-based tokenizer, the paper's ablation baseline (Table 3).

    The feature map is bilinearly interpolated from ``H x W`` to ``L`` positions (a ``4 x 4`` grid for 16
    tokens), and those positions are the tokens. Nothing is learned but the width change ``W_V``. Its
    "attention" is the fixed bilinear weight of each pixel in each token, returned for comparison.
    """

    def __init__(self, channels: int, token_channels: int, tokens: int = 16) -> None:
        super().__init__()
        self.tokens = tokens
        self.grid = token_grid(tokens)
        self.value = _value_map(channels, token_channels)

    def forward(self, x: Tensor, need_attention: bool = False) -> tuple[Tensor, Tensor | None]:
        pooled = F.interpolate(x, size=self.grid, mode="bilinear", align_corners=False)  # (B, C, h, w)
        tokens = self.value(_pixels(pooled))  # (B, L, D)
        attention = None
        if need_attention:
            attention = self.bilinear_weights(x.shape[-2:], x.device, x.dtype).expand(x.shape[0], -1, -1)
        return tokens, attention

    def bilinear_weights(self, size: torch.Size, device: torch.device, dtype: torch.dtype) -> Tensor:
        """The ``(1, HW, L)`` matrix ``A`` with ``tokens = A^T X``, normalized so each token sums to 1."""
        h, w = size
        basis = torch.eye(h * w, device=device, dtype=dtype).view(h * w, 1, h, w)  # one image per pixel
        weights = F.interpolate(basis, size=self.grid, mode="bilinear", align_corners=False)
        weights = weights.flatten(1)  # (HW, L)
        return (weights / weights.sum(0, keepdim=True)).unsqueeze(0)
