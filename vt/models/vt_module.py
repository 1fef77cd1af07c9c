"""One VT module: tokenizer -> transformer -> projector (Wu et al. 2020, Fig. 1)."""

from __future__ import annotations

from typing import Literal

from torch import Tensor, nn

from vt.models.projector import Projector
from vt.models.tokenizers import FilterTokenizer, PoolingTokenizer, RecurrentTokenizer
from vt.models.transformer import TokenTransformer

TokenizerKind = Literal["filter", "recurrent", "pooling"]
_TOKENIZERS = {"filter": FilterTokenizer, "recurrent": RecurrentTokenizer, "pooling": PoolingTokenizer}


class VTModule(nn.Module):
    """A visual-transformer module with each part switchable, for the ablations of Tables 3-7.

    Args:
        channels: ``C``, the feature map's channel size.
        token_channels: ``D``, the tokens' channel size.
        tokens: ``L``, the number of visual tokens.
        tokenizer: ``"filter"`` (eq. 1), ``"recurrent"`` (eq. 2; needs the previous module's tokens) or
            ``"pooling"`` (bilinear pooling, Table 3's baseline).
        transformer: apply the token transformer (eqs. 3-4); ``False`` is Table 5's "none" row.
        projector: project the tokens back onto the feature map (eq. 5); ``False`` returns ``x`` unchanged.

    ``forward(x, tokens_in)`` returns ``(x_out (B, C, H, W), tokens (B, L, D), attention (B, HW, L) | None)``.
    """

    def __init__(
        self,
        channels: int,
        token_channels: int,
        tokens: int = 16,
        *,
        tokenizer: TokenizerKind = "filter",
        transformer: bool = True,
        projector: bool = True,
    ) -> None:
        super().__init__()
        if tokenizer not in _TOKENIZERS:
            raise ValueError(f"unknown tokenizer {tokenizer!r}; choose one of {sorted(_TOKENIZERS)}")
        self.recurrent = tokenizer == "recurrent"
        self.tokenizer = _TOKENIZERS[tokenizer](channels, token_channels, tokens)
        self.transformer = TokenTransformer(token_channels) if transformer else None
        self.projector = Projector(channels, token_channels) if projector else None

    def forward(
        self, x: Tensor, tokens_in: Tensor | None = None, need_attention: bool = False
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        if self.recurrent:
            if tokens_in is None:
                raise ValueError("a recurrent tokenizer needs the previous module's tokens (tokens_in)")
            tokens, attention = self.tokenizer(x, tokens_in, need_attention=need_attention)
        else:
            tokens, attention = self.tokenizer(x, need_attention=need_attention)
        if self.transformer is not None:
            tokens = self.transformer(tokens)
        if self.projector is not None:
            x = self.projector(x, tokens)
        return x, tokens, attention
