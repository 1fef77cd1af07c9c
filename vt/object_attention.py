"""How much of the tokenizer's spatial attention falls on the object (the paper's Fig. 6 and §6).

The filter-based tokenizer (eq. 1) spreads each token over the feature map with ``A = softmax_HW(X W_A)``, so
each token's attention sums to 1 over the pixels. The share of that mass on the object's pixels, set against
the object's share of the image, says whether tokens look at the object (share > area) or not (share = area,
what uniform attention would give). Object pixels come from the synthetic data's masks or Tiny ImageNet's boxes.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from vt.data import Dataset, Split, make_loader


def object_masks(split: Split) -> torch.Tensor:
    """Float (N, H, W) object masks of a split: its foreground masks, else its boxes filled in."""
    if split.masks is not None:
        return split.masks.float()
    if split.boxes is None:
        raise ValueError("this split has neither foreground masks nor bounding boxes")
    n, size = len(split), split.resolution
    axis = torch.arange(size)
    x0, y0, x1, y1 = (split.boxes[:, i].long()[:, None] for i in range(4))
    cols = (axis >= x0) & (axis <= x1)  # (N, W)
    rows = (axis >= y0) & (axis <= y1)  # (N, H)
    return (rows[:, :, None] & cols[:, None, :]).float().view(n, size, size)


@torch.no_grad()
def object_attention(model: torch.nn.Module, data: Dataset, resolution: int, images: int = 256, module: int = 0,
                     batch_size: int = 64) -> pd.DataFrame:
    """Per (image, token): attention mass on the object and the object's area share, for the first ``images``
    eval images, from the tokenizer of VT module ``module`` (0 = the filter-based tokenizer on the backbone's map).
    """
    model.eval()
    device = next(model.parameters()).device
    masks = object_masks(data.eval)
    rows, seen = [], 0
    for x, _ in make_loader(data, "eval", batch_size=batch_size, device=device, resolution=resolution).epoch(0):
        attention = model.attention_maps(x)[module].float()  # (B, L, h, w), each token sums to 1
        coverage = F.adaptive_avg_pool2d(masks[seen : seen + len(x)][:, None].to(device), attention.shape[-2:])
        mass = (attention * coverage).sum((2, 3))  # (B, L)
        area = coverage.mean((1, 2, 3))  # (B,)
        for b in range(len(x)):
            for token in range(mass.shape[1]):
                rows.append((seen + b, token, mass[b, token].item(), area[b].item()))
        seen += len(x)
        if seen >= images:
            break
    frame = pd.DataFrame(rows, columns=["image", "token", "object_attention", "object_area"])
    return frame[frame.image < images]


def summarize(per_token: pd.DataFrame, label: str) -> dict:
    """Mean attention on the object, mean object area, their ratio and the share of tokens above the area."""
    return {
        "label": label,
        "object_attention": per_token.object_attention.mean(),
        "object_area": per_token.object_area.mean(),
        "lift": per_token.object_attention.mean() / per_token.object_area.mean(),
        "tokens_above_area": (per_token.object_attention > per_token.object_area).mean(),
        "images": per_token.image.nunique(),
    }


def over_seeds(per_seed: pd.DataFrame) -> pd.DataFrame:
    """One row per label (``trained``, ``untrained``) from ``summarize`` rows of several seeds (a ``seed`` column):
    the means over seeds, the sample standard deviation over seeds (ddof 1; NaN for one seed) of the attention on
    the object and of the lift, and the number of seeds."""
    grouped = per_seed.groupby("label", sort=False)
    means = grouped[["object_attention", "object_area", "lift", "tokens_above_area", "images"]].mean()
    spread = grouped[["object_attention", "lift"]].std(ddof=1).add_suffix("_std")
    return means.join(spread).assign(images=means.images.round().astype(int), seeds=grouped.size()).reset_index()


@torch.no_grad()
def plot_maps(models: dict[str, torch.nn.Module], data: Dataset, resolution: int, count: int = 6,
              tokens: int = 4) -> plt.Figure:
    """Eval images with their object outline, and the attention of the first ``tokens`` tokens of each model."""
    x, _ = next(iter(make_loader(data, "eval", batch_size=count, resolution=resolution).epoch(0)))
    masks = object_masks(data.eval)[:count]
    pictures = data.eval.images[:count].permute(0, 2, 3, 1).numpy()
    fig, axes = plt.subplots(count, 1 + tokens * len(models), figsize=(1.6 * (1 + tokens * len(models)), 1.6 * count))
    for i in range(count):
        axes[i, 0].imshow(pictures[i])
        axes[i, 0].contour(masks[i].numpy(), levels=[0.5], colors="white", linewidths=0.8)
        column = 1
        for name, model in models.items():
            model.eval()
            device = next(model.parameters()).device
            maps = model.attention_maps(x[i : i + 1].to(device))[0][0].float().cpu().numpy()  # (L, h, w)
            for token in range(tokens):
                axes[i, column].imshow(maps[token], cmap="magma", vmin=0, vmax=float(np.max(maps[token])))
                if i == 0:
                    axes[i, column].set_title(f"{name}\ntoken {token}", fontsize=8)
                column += 1
    for ax in axes.flat:
        ax.axis("off")
    fig.tight_layout()
    return fig
