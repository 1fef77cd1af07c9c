"""The projector: visual tokens back onto the feature map, eq. (5) of Wu et al. 2020 (section 3.3)."""

from __future__ import annotations

import math

from torch import Tensor, nn

from vt.models.attention import attend
from vt.models.tokenizers import _pixels, _value_map


class Projector(nn.Module):
    """Each pixel reads from the tokens it attends to, with a residual.

    Eq. (5): ``X_out = X_in + softmax_L((X_in W_Q)(T W_K)^T) T``

    ``W_Q in R^{C x D/2}``, ``W_K in R^{D x D/2}``; where ``D != C`` the tokens added to the ``C``-wide
    feature map pass through ``W_V in R^{D x C}``. The logits are scaled by ``1/sqrt(D/2)``.

    The logits are computed in the cheaper associative order
    ``(X W_Q)(T W_K)^T = X (T W_K W_Q^T)^T``: the product with ``W_Q`` is taken once per token (``L`` rows)
    rather than once per pixel (``HW`` rows). Same function, ``HW/L`` times fewer products for that term.
    ``order = "literal"`` (an attribute, see ``set_order``) computes eq. 5 as written, which is how the paper
    counts its FLOPs.
    """

    order: str = "associative"

    def __init__(self, channels: int, token_channels: int, key_channels: int | None = None) -> None:
        super().__init__()
        key_channels = key_channels or token_channels // 2
        self.query = nn.Linear(channels, key_channels, bias=False)  # W_Q
        self.key = nn.Linear(token_channels, key_channels, bias=False)  # W_K
        self.value = _value_map(token_channels, channels)  # W_V (identity when D == C)
        self.scale = 1.0 / math.sqrt(key_channels)

    def forward(self, x: Tensor, tokens: Tensor) -> Tensor:
        b, c, h, w = x.shape
        pixels = _pixels(x)  # (B, HW, C)
        if self.order == "literal":
            queries, keys = self.query(pixels), self.key(tokens)  # X W_Q: (B, HW, D/2); T W_K: (B, L, D/2)
        else:
            queries, keys = pixels, self.key(tokens) @ self.query.weight  # X; T W_K W_Q^T: (B, L, C)
        update, _ = attend(queries, keys, self.value(tokens), scale=self.scale)  # (B, HW, C)
        return x + update.transpose(1, 2).reshape(b, c, h, w)


ORDERS = ("associative", "literal")


def set_order(model: nn.Module, order: str) -> nn.Module:
    """Make every ``Projector`` in ``model`` compute eq. 5 in ``order`` (the same function either way); returns it."""
    if order not in ORDERS:
        raise ValueError(f"unknown projector order {order!r}; choose one of {', '.join(ORDERS)}")
    for module in model.modules():
        if isinstance(module, Projector):
            module.order = order
    return model
