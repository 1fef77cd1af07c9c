"""The walkthrough's figures: every image shown, the trained model beside the untrained one, and one colour scale,
with its colour bar, for each quantity (``vt.walkthrough.trace`` gives the tensors)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from matplotlib.colors import ListedColormap, LogNorm
from matplotlib.figure import Figure
from torch import Tensor

from vt.walkthrough import Trace


def _picture(image: Tensor):
    return image.permute(1, 2, 0).numpy()


def _ratio_norm(ratios: Tensor, largest: float) -> LogNorm:
    """A logarithmic colour scale centred on 1 for weights over their uniform value, ``ratios``: from ``1/far`` to
    ``far``, ``far`` the 98th percentile of ``max(r, 1/r)`` and at most ``largest``."""
    far = torch.maximum(ratios, 1 / ratios.clamp_min(1e-12)).float()
    far = torch.quantile(far[:: max(1, len(far) // 100_000)], 0.98).clamp(1.5, largest).item()
    return LogNorm(vmin=1 / far, vmax=far)


# 16 colours that stay apart (tab10, then six more of other hues and values), one per token
TOKEN_COLOURS = ListedColormap(list(plt.get_cmap("tab10").colors)
                               + ["#000000", "#ffd700", "#000080", "#7fff00", "#ff00ff", "#008080"])


def predictions(pictures: Tensor, labels: Tensor, classes: list[str], predicted: dict[str, Tensor]) -> Figure:
    """Each image with its true class and each model's prediction (``predicted``: model name -> classes)."""
    fig, axes = plt.subplots(1, len(pictures), figsize=(1.6 * len(pictures), 2.2), squeeze=False)
    for k, ax in enumerate(axes[0]):
        ax.imshow(_picture(pictures[k]))
        said = "\n".join(f"{name}: {classes[int(p[k])]}" for name, p in predicted.items())
        ax.set_title(f"true: {classes[int(labels[k])]}\n{said}", fontsize=7)
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def token_maps(pictures: Tensor, traces: dict[str, Trace], title: str) -> Figure:
    """Each token's spatial attention ``A`` (eqs. 1-2) as a map over the feature grid, a row per image and model.
    The colour is the weight times ``HW``, on one logarithmic scale for every panel: 1 (white) is a token that weighs
    every pixel alike, red more than that, blue less; the scale ends at the 98th percentile of how far the weights
    shown are from 1 (at most ``HW``, the largest possible), so that a few outlying pixels do not wash out the rest."""
    first = next(iter(traces.values()))
    _, hw, tokens = first.attention.shape
    h, w = first.features.shape[-2:]
    norm = _ratio_norm(torch.cat([t.attention.flatten() for t in traces.values()]) * hw, hw)
    rows = [(k, name) for k in range(len(pictures)) for name in traces]
    fig, axes = plt.subplots(len(rows), tokens + 1, figsize=(0.72 * (tokens + 1) + 0.8, 0.78 * len(rows)),
                             squeeze=False)
    shown = None
    for row, (k, name) in zip(axes, rows):
        row[0].imshow(_picture(pictures[k]))
        row[0].set_ylabel(name, fontsize=7)
        maps = traces[name].attention[k].T.reshape(tokens, h, w) * hw
        for i in range(tokens):
            shown = row[i + 1].imshow(maps[i].clamp_min(1e-12), cmap="RdBu_r", norm=norm)
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
    for i in range(tokens):
        axes[0, i + 1].set_title(f"token {i}", fontsize=7)
    bar = fig.colorbar(shown, ax=axes, fraction=0.02, pad=0.01, extend="both")
    bar.set_label(f"weight x HW (1: a token weighing all {hw} pixels alike)", fontsize=8)
    fig.suptitle(title, fontsize=9)
    return fig


def relations(traces: dict[str, Trace]) -> Figure:
    """Eq. 3's token-to-token weights, a matrix per image (row ``i``: what token ``i`` reads from each token ``j``),
    a row of panels per model. The colour is the weight times ``L`` on one logarithmic scale centred on 1 (white), the
    weight where token ``i`` reads all tokens alike; red more, blue less."""
    first = next(iter(traces.values()))
    b, tokens = first.relations.shape[:2]
    norm = _ratio_norm(torch.cat([t.relations.flatten() for t in traces.values()]) * tokens, tokens)
    fig, axes = plt.subplots(len(traces), b, figsize=(1.5 * b + 0.8, 1.7 * len(traces)), squeeze=False)
    shown = None
    for row, (name, t) in zip(axes, traces.items()):
        for k, ax in enumerate(row):
            shown = ax.imshow((t.relations[k] * tokens).clamp_min(1e-12), cmap="RdBu_r", norm=norm)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"image {k}", fontsize=7)
            ax.set_xlabel("token j, read from", fontsize=6)
        row[0].set_ylabel(f"{name}\ntoken i, reading", fontsize=7)
    bar = fig.colorbar(shown, ax=axes, fraction=0.02, pad=0.01, extend="both")
    bar.set_label(f"weight x L (1: token i reads all {tokens} alike)", fontsize=8)
    fig.suptitle("eq. 3: softmax_L((T K)(T Q)^T) in the first module", fontsize=9)
    return fig


def projector_winners(pictures: Tensor, traces: dict[str, Trace]) -> Figure:
    """For each image and model, the token each pixel reads most from in eq. 5 (one colour per token, the same
    colours in every panel)."""
    first = next(iter(traces.values()))
    if any(t.projection is None for t in traces.values()):
        raise ValueError("a traced module has no projector (the last module's tokens go to the head): trace another")
    tokens = first.relations.shape[-1]
    h, w = first.features.shape[-2:]
    b = len(pictures)
    fig, axes = plt.subplots(len(traces) + 1, b, figsize=(1.5 * b + 0.8, 1.5 * (len(traces) + 1)), squeeze=False)
    shown = None
    for k in range(b):
        axes[0, k].imshow(_picture(pictures[k]))
        for r, (name, t) in enumerate(traces.items(), start=1):
            shown = axes[r, k].imshow(t.projection[k].argmax(dim=-1).reshape(h, w), cmap=TOKEN_COLOURS,
                                      vmin=-0.5, vmax=tokens - 0.5, interpolation="nearest")
            axes[r, 0].set_ylabel(name, fontsize=7)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    bar = fig.colorbar(shown, ax=axes, fraction=0.02, pad=0.01, ticks=range(tokens))
    bar.set_label("token a pixel reads most from", fontsize=8)
    bar.ax.tick_params(labelsize=6)
    fig.suptitle("eq. 5: argmax over the L tokens of softmax_L((X W_Q)(T W_K)^T)", fontsize=9)
    return fig
