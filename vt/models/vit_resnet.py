"""The earlier report's CIFAR-10 model, "ViTResNet" (after the public repository
tahmid0007/VisualTransformers), rebuilt from its description so that the report's experiment 1 can be rerun.

It differs from the paper's VT-ResNet in the ways the report lists: one tokenizer on the output of a full
CIFAR ResNet-20 backbone (16/32/64 channels), learned token embeddings (a class token and position
embeddings) between tokenizer and transformer, a standard ViT transformer (multi-head attention, layer
norm, GELU MLP) instead of eqs. (3)-(4), no projector, and the class token to the head.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from vt.models.resnet import cifar_backbone
from vt.models.tokenizers import FilterTokenizer


class ViTResNet(nn.Module):
    """CIFAR ResNet-20 backbone -> filter tokenizer (eq. 1) -> [class token; tokens] + positions ->
    transformer encoder -> linear head on the class token.

    The report's configuration is the default: 8 tokens of width 128, 6 layers, 8 heads, MLP width 256,
    dropout 0.1; about 1.07 M parameters with 10 classes (the report's table: 1.06217 M).
    """

    def __init__(
        self,
        num_classes: int = 10,
        tokens: int = 8,
        dim: int = 128,
        depth: int = 6,
        heads: int = 8,
        mlp_dim: int = 256,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.backbone = cifar_backbone(stages=3)  # (B, 64, 8, 8) at 32x32
        self.tokenizer = FilterTokenizer(64, dim, tokens)  # T = A^T (X W_V): (B, L, dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embedding = nn.Parameter(torch.empty(1, tokens + 1, dim).normal_(std=0.02))
        self.dropout = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(
            dim, heads, mlp_dim, dropout, activation="gelu", batch_first=True, norm_first=True
        )
        self.transformer = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.fc = nn.Linear(dim, num_classes)

    def forward(self, x: Tensor, return_attention: bool = False) -> Tensor | tuple[Tensor, list[Tensor]]:
        """Class logits; with ``return_attention`` also the tokenizer's ``A (B, HW, L)`` in a list."""
        features = self.backbone(x)
        tokens, attention = self.tokenizer(features, need_attention=return_attention)  # (B, L, dim)
        cls = self.cls_token.expand(tokens.shape[0], -1, -1)
        tokens = self.dropout(torch.cat([cls, tokens], dim=1) + self.pos_embedding)  # (B, L+1, dim)
        logits = self.fc(self.transformer(tokens)[:, 0])
        return (logits, [attention]) if return_attention else logits


def vit_resnet_cifar(num_classes: int = 10, tokens: int = 8, dim: int = 128, depth: int = 6) -> ViTResNet:
    """The earlier report's ViTResNet for 32x32 images (its experiment 1 on CIFAR-10)."""
    return ViTResNet(num_classes=num_classes, tokens=tokens, dim=dim, depth=depth)
