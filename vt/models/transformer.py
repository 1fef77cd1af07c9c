"""The transformer over visual tokens, eqs. (3)-(4) of Wu et al. 2020 (section 3.2)."""

from __future__ import annotations

import math

from torch import Tensor, nn

from vt.models.attention import attend


class TokenTransformer(nn.Module):
    """Self-attention between tokens, then a point-wise feed-forward, each with a residual.

    Eq. (3): ``T'_out = T_in + softmax_L((T_in K)(T_in Q)^T) T_in``
    Eq. (4): ``T_out = T'_out + relu(T'_out F1) F2``

    ``K, Q in R^{D x D/2}`` (keys and queries at half the token width) and ``F1, F2 in R^{D x D}``: the
    widths whose FLOPs and parameters match Table 2 (see ``vt/models/vt_resnet.py``). The values are the
    tokens themselves, as eq. (3) writes. The logits are scaled by ``1/sqrt(D/2)`` (standard; not written
    in eq. 3). No normalization layer, as in the equations.
    """

    def __init__(self, token_channels: int, key_channels: int | None = None, hidden_channels: int | None = None):
        super().__init__()
        key_channels = key_channels or token_channels // 2
        hidden_channels = hidden_channels or token_channels
        self.key = nn.Linear(token_channels, key_channels, bias=False)  # K
        self.query = nn.Linear(token_channels, key_channels, bias=False)  # Q
        self.ff1 = nn.Linear(token_channels, hidden_channels, bias=False)  # F1
        self.ff2 = nn.Linear(hidden_channels, token_channels, bias=False)  # F2
        self.relu = nn.ReLU(inplace=True)
        self.scale = 1.0 / math.sqrt(key_channels)

    def forward(self, tokens: Tensor) -> Tensor:
        # tokens: (B, L, D)
        mixed, _ = attend(self.key(tokens), self.query(tokens), tokens, scale=self.scale)  # (B, L, D)
        tokens = tokens + mixed  # eq. (3)
        return tokens + self.ff2(self.relu(self.ff1(tokens)))  # eq. (4)
