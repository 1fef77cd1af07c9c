"""The one attention primitive every VT part is written with.

All of the paper's equations (1)-(5) have the form ``softmax(Q K^T) V`` with the softmax over the keys'
axis; only what plays query, key and value changes. Writing them through one function keeps the fast path
(``scaled_dot_product_attention``, fused on GPU) and the inspectable path (explicit weights, for the attention
notebook) in one place, and a test checks that the two agree.

On a CPU the explicit path is also the fast one: PyTorch's CPU flash-attention kernel, at these small widths (one
head of 16-128 channels, 16 tokens), spent 30% of a VT-ResNet-20 training step in its backward alone (bf16, batch
128, 2 cores; ``python -m vt.profile``), and the step took 1.2-1.5x as long as with ``matmul`` and ``softmax``.
``scaled_dot_product_attention`` is kept for GPUs, where it is fused.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def attend(
    query: Tensor, key: Tensor, value: Tensor, *, scale: float, need_weights: bool = False
) -> tuple[Tensor, Tensor | None]:
    """Return ``softmax(scale * query @ key^T) @ value`` and, if asked, the attention weights.

    Args:
        query: ``(B, Lq, d)``.
        key: ``(B, Lk, d)``; the softmax runs over ``Lk``.
        value: ``(B, Lk, dv)``.
        scale: the factor applied to the logits before the softmax.
        need_weights: also return the ``(B, Lq, Lk)`` weights (explicit, unfused computation).

    Returns:
        ``(out, weights)`` with ``out`` of shape ``(B, Lq, dv)`` and ``weights`` ``None`` unless asked for.
    """
    if need_weights or query.device.type == "cpu":
        logits = torch.matmul(query, key.transpose(-2, -1)) * scale  # (B, Lq, Lk)
        weights = torch.softmax(logits.float(), dim=-1).to(value.dtype)
        return torch.matmul(weights, value), (weights if need_weights else None)
    # SDPA wants (B, heads, L, d); one head.
    out = F.scaled_dot_product_attention(
        query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1), scale=scale
    )
    return out.squeeze(1), None
