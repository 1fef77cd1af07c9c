"""Semantic segmentation for ``notebooks/07_segmentation.ipynb``: mask data, mIoU, and a training loop for the
FPN and VT-FPN models of ``vt.models.fpn`` (Wu et al. 2020, section 5.3, Tables 9-10).

Data: the synthetic shapes, whose per-object masks give 7 classes (background and the six shapes), or LIP
(Look Into Person: 20 classes, background and 19 human parts; Tables 9-10's second data set) from ``data/LIP/``.
mIoU is the mean over classes of ``TP / (TP + FP + FN)`` on the eval split's pixels, classes absent from both the
prediction and the truth left out, as the paper's segmentation benchmarks compute it.

Training is plain and the same for both models: AdamW, a cosine schedule, random horizontal flips of image and
mask together, pixel-wise cross-entropy (LIP's unlabelled pixels ignored). Each epoch ends in an atomic checkpoint
(``vt.checkpoint``); a rerun with the same settings resumes from it exactly.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vt import checkpoint
from vt.data import data_dir as default_data_dir
from vt.data import shapes
from vt.errors import ConfigError, DataError, DataNotFoundError
from vt.models import create, names
from vt.train import resolve_device

IGNORE = 255  # target value of pixels no class is given to (LIP's unlabelled border); ignored by the loss and mIoU
SEG_DATASETS = ("synthetic", "lip")
LIP_CLASSES = ["background", "hat", "hair", "glove", "sunglasses", "upper-clothes", "dress", "coat", "socks", "pants",
               "jumpsuits", "scarf", "skirt", "face", "left-arm", "right-arm", "left-leg", "right-leg", "left-shoe",
               "right-shoe"]
CHECKPOINT = "checkpoint.pt"
HISTORY_COLUMNS = ["epoch", "train_loss", "eval_miou", "eval_pixel_acc", "lr", "images_per_s", "epoch_time_s"]


@dataclass
class MaskSplit:
    """Images uint8 ``(N, 3, H, W)`` and class masks uint8 ``(N, H, W)`` (``IGNORE`` where no class is given)."""

    images: Tensor
    masks: Tensor

    def __post_init__(self) -> None:
        if self.images.shape[0] != self.masks.shape[0] or self.images.shape[-2:] != self.masks.shape[-2:]:
            raise DataError(f"images {tuple(self.images.shape)} and masks {tuple(self.masks.shape)} do not match")

    def __len__(self) -> int:
        return self.images.shape[0]


@dataclass
class MaskData:
    """A segmentation data set: train and eval splits, class names, normalization, where it came from."""

    name: str
    train: MaskSplit
    eval: MaskSplit
    classes: list[str]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    source: str

    @property
    def num_classes(self) -> int:
        return len(self.classes)


def synthetic_masks(resolution: int = 64, train_size: int = 512, eval_size: int = 128, seed: int = 0) -> MaskData:
    """The shapes data as a segmentation task: each pixel is background (0) or its object's shape class (1-6)."""
    data = shapes.synthetic(resolution, train_size, eval_size, seed=seed)

    def split(s) -> MaskSplit:
        masks = torch.where(s.masks, s.labels[:, None, None] + 1, 0).to(torch.uint8)
        return MaskSplit(s.images, masks)

    return MaskData("synthetic", split(data.train), split(data.eval), ["background", *shapes.CLASSES], data.mean,
                    data.std, data.source)


def lip(resolution: int, train_size: int = 0, eval_size: int = 0, root: str | Path | None = None) -> MaskData:
    """LIP (Gong et al. 2017) from ``<data_dir>/LIP/``: ``train_images/*.jpg`` with ``train_segmentations/*.png``
    and ``val_images/`` with ``val_segmentations/`` (the layout of LIP's TrainVal_images and
    TrainVal_parsing_annotations archives, unpacked). Images and masks are resized to ``resolution`` squared
    (bilinear, nearest); ``train_size``/``eval_size`` > 0 keep the first files in name order."""
    from PIL import Image

    folder = Path(root) if root else default_data_dir() / "LIP"
    splits = {}
    for split, size in (("train", train_size), ("val", eval_size)):
        images_dir, masks_dir = folder / f"{split}_images", folder / f"{split}_segmentations"
        if not images_dir.is_dir() or not masks_dir.is_dir():
            raise DataNotFoundError(f"LIP not found: {images_dir} and {masks_dir} are needed (unpack LIP's "
                                    "TrainVal_images and TrainVal_parsing_annotations into data/LIP/)")
        files = sorted(images_dir.glob("*.jpg"))[: size or None]
        if not files:
            raise DataError(f"{images_dir} holds no .jpg image")
        images, masks = [], []
        for file in files:
            mask_file = masks_dir / f"{file.stem}.png"
            if not mask_file.exists():
                raise DataError(f"{file.name} has no mask {mask_file}")
            image = Image.open(file).convert("RGB").resize((resolution, resolution), Image.BILINEAR)
            mask = Image.open(mask_file).resize((resolution, resolution), Image.NEAREST)
            images.append(torch.from_numpy(np.asarray(image).copy()).permute(2, 0, 1))
            masks.append(torch.from_numpy(np.asarray(mask).astype(np.uint8).copy()))
        masks_t = torch.stack(masks)
        masks_t[masks_t >= len(LIP_CLASSES)] = IGNORE
        splits[split] = MaskSplit(torch.stack(images), masks_t)
    return MaskData("lip", splits["train"], splits["val"], list(LIP_CLASSES), (0.485, 0.456, 0.406),
                    (0.229, 0.224, 0.225), str(folder))


def load_masks(name: str, resolution: int, train_size: int = 0, eval_size: int = 0, seed: int = 0) -> MaskData:
    """The segmentation data set ``name`` (``synthetic`` or ``lip``).

    Raises:
        ConfigError: for an unknown name or a resolution the models cannot take (below 32).
        DataNotFoundError, DataError: when LIP's files are missing or broken.
    """
    if name not in SEG_DATASETS:
        raise ConfigError(f"unknown segmentation dataset {name!r}; known: {', '.join(SEG_DATASETS)}")
    if resolution < 32:
        raise ConfigError(f"segmentation resolution must be at least 32 (the FPN's coarsest level is 1/32), got {resolution}")
    if name == "synthetic":
        return synthetic_masks(resolution, train_size or 512, eval_size or 128, seed)
    return lip(resolution, train_size, eval_size)


def confusion(pred: Tensor, target: Tensor, num_classes: int) -> Tensor:
    """The ``(K, K)`` confusion matrix (rows: truth, columns: prediction) over pixels whose target is a class."""
    keep = target < num_classes
    index = target[keep].long() * num_classes + pred[keep].long()
    return torch.bincount(index, minlength=num_classes**2).reshape(num_classes, num_classes).cpu()


def iou(matrix: Tensor) -> np.ndarray:
    """Per-class IoU ``TP / (TP + FP + FN)`` from a confusion matrix; NaN for a class absent from truth and prediction."""
    m = matrix.double().numpy()
    tp = np.diag(m)
    union = m.sum(0) + m.sum(1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, tp / union, np.nan)


@dataclass
class SegConfig:
    """One segmentation run: model, data set, recipe, seed, where it checkpoints."""

    model: str
    dataset: str = "synthetic"
    resolution: int = 64
    train_size: int = 512
    eval_size: int = 128
    epochs: int = 3
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 1e-4
    seed: int = 0
    device: str = "auto"
    checkpoint_dir: str = ""
    progress: bool = True
    model_kwargs: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.model not in names("segmentation"):
            raise ConfigError(f"unknown segmentation model {self.model!r}; known: {', '.join(names('segmentation'))}")
        for name in ("epochs", "batch_size", "train_size", "eval_size"):
            if getattr(self, name) < (1 if name in ("epochs", "batch_size") else 0):
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if self.lr <= 0:
            raise ConfigError(f"lr must be positive, got {self.lr}")

    def identity(self) -> dict:
        """What a checkpoint must agree on to be resumed (everything but where it lives and what it prints)."""
        return {k: v for k, v in asdict(self).items() if k not in ("checkpoint_dir", "progress", "device")}


@dataclass
class SegResult:
    """A finished run: its history (one row per epoch), the model, and the eval confusion matrix of its last epoch."""

    history: pd.DataFrame
    model: nn.Module
    confusion: Tensor


def _normalize(images: Tensor, data: MaskData, device: torch.device) -> Tensor:
    mean = torch.tensor(data.mean, device=device).view(1, 3, 1, 1)
    std = torch.tensor(data.std, device=device).view(1, 3, 1, 1)
    return ((images.to(device).float() / 255 - mean) / std).contiguous(memory_format=torch.channels_last)


def evaluate(model: nn.Module, data: MaskData, device: torch.device, batch_size: int = 32) -> Tensor:
    """The eval split's confusion matrix under ``model`` (eval mode, no gradients)."""
    model.eval()
    total = torch.zeros(data.num_classes, data.num_classes, dtype=torch.long)
    with torch.no_grad(), torch.autocast(device.type, torch.bfloat16, enabled=device.type == "cuda"):
        for start in range(0, len(data.eval), batch_size):
            images = _normalize(data.eval.images[start:start + batch_size], data, device)
            pred = model(images).argmax(1)
            total += confusion(pred, data.eval.masks[start:start + batch_size].to(device), data.num_classes)
    return total


def train_segmentation(config: SegConfig, data: MaskData) -> SegResult:
    """Train ``config.model`` on ``data`` for ``config.epochs``, resuming from ``config.checkpoint_dir`` when it holds
    a checkpoint of the same settings; the eval mIoU after every epoch."""
    device = resolve_device(config.device)
    torch.manual_seed(config.seed)
    model = create(config.model, num_classes=data.num_classes, **config.model_kwargs)
    model = model.to(device, memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(data.train) / config.batch_size)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * min(step / (config.epochs * steps_per_epoch), 1.0))))
    history: list[list[float]] = []
    folder = Path(config.checkpoint_dir) if config.checkpoint_dir else None
    identity = {**config.identity(), "data": data.source}
    if folder is not None:
        state = checkpoint.load_latest(folder / CHECKPOINT, identity)
        if state is not None:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            schedule.load_state_dict(state["scheduler"])
            checkpoint.set_rng_state(state["rng"])
            history = state["history"]
    from tqdm import tqdm  # the text bar: papermill notebooks have no widgets

    matrix = evaluate(model, data, device) if len(history) == config.epochs else None
    for epoch in range(len(history) + 1, config.epochs + 1):
        model.train()
        order = torch.randperm(len(data.train), generator=torch.Generator().manual_seed(config.seed * 1000 + epoch))
        started, losses = time.perf_counter(), []
        bar = tqdm(range(steps_per_epoch), desc=f"{config.model} seed {config.seed} epoch {epoch}/{config.epochs}",
                   disable=not config.progress, leave=False)
        for step in bar:
            pick = order[step * config.batch_size:(step + 1) * config.batch_size]
            images, masks = data.train.images[pick], data.train.masks[pick]
            flip = torch.rand(len(pick)) < 0.5  # image and mask flipped together
            images = torch.where(flip[:, None, None, None], images.flip(-1), images)
            masks = torch.where(flip[:, None, None], masks.flip(-1), masks)
            with torch.autocast(device.type, torch.bfloat16, enabled=device.type == "cuda"):
                logits = model(_normalize(images, data, device))
            loss = F.cross_entropy(logits.float(), masks.to(device).long(), ignore_index=IGNORE)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            losses.append(loss.item())
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
        seconds = time.perf_counter() - started
        matrix = evaluate(model, data, device)
        per_class = iou(matrix)
        history.append([epoch, float(np.mean(losses)), float(np.nanmean(per_class)),
                        float(matrix.diag().sum() / matrix.sum()), schedule.get_last_lr()[0], len(data.train) / seconds,
                        seconds])
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            checkpoint.save(folder / CHECKPOINT, {"identity": identity, "model": model.state_dict(),
                                                  "optimizer": optimizer.state_dict(), "scheduler": schedule.state_dict(),
                                                  "rng": checkpoint.rng_state(), "history": history})
    assert matrix is not None
    return SegResult(pd.DataFrame(history, columns=HISTORY_COLUMNS), model, matrix)


# The input sizes Tables 9-10 imply (the paper states none): LIP's usual 473x473 crop, the size its section 6 uses;
# COCO-stuff at detectron2's Panoptic FPN test size for a 3:2 image, shorter side 800, padded to a multiple of 32.
PAPER_SIZES = {"LIP": (473, 473), "COCO-stuff": (800, 1216)}
PAPER_CLASSES = {"LIP": 20, "COCO-stuff": 171}


def flops_table(models: tuple[str, ...] = ("fpn_resnet50", "vt_fpn_resnet50"),
                sizes: dict[str, tuple[int, int]] = PAPER_SIZES) -> pd.DataFrame:
    """FLOPs (``vt.flops.count``, one multiply-add = one FLOP) of the FPN module (``fpn``: what Tables 9-10
    compare), the backbone, the head and the whole model, one row per (data set's input size, model), with the
    paper's FPN-module GFLOPs beside ours where it gives them."""
    from vt.flops import count
    from vt.reference import PAPER_SEGMENTATION

    paper = PAPER_SEGMENTATION.set_index(["data", "model"]).fpn_gflops
    rows = []
    for data, (height, width) in sizes.items():
        for name in models:
            report = count(create(name, num_classes=PAPER_CLASSES.get(data, 171)), (3, height, width))
            part = report.by_module.set_index("module")
            rows.append({"data": data, "input": f"{height}x{width}", "model": name,
                         "fpn_gflops": part.flops["fpn"] / 1e9, "backbone_gflops": part.flops["backbone"] / 1e9,
                         "head_gflops": part.flops["head"] / 1e9, "total_gflops": report.flops / 1e9,
                         "fpn_mparams": part.params["fpn"] / 1e6, "mparams": report.params / 1e6,
                         "paper_fpn_gflops": paper.get((data, name), float("nan"))})
    return pd.DataFrame(rows)


def label(model: str) -> str:
    """``"VT-FPN"`` for a VT-FPN model, ``"FPN"`` for its baseline: the arms ``vt.findings`` compares."""
    return "VT-FPN" if model.startswith("vt_") else "FPN"


def summarize(runs: list[tuple[SegConfig, SegResult]], data: MaskData) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One row per model over its seeds (``miou`` mean and sample std, pixel accuracy, median images/s, FLOPs of
    the FPN module and the whole model at the trained resolution), per-class IoU (mean over seeds) and every
    epoch of every run."""
    from vt.flops import count

    histories = pd.concat([r.history.assign(model=c.model, label=label(c.model), seed=c.seed) for c, r in runs])
    rows, classes = [], []
    for model in dict.fromkeys(c.model for c, _ in runs):
        mine = [(c, r) for c, r in runs if c.model == model]
        config = mine[0][0]
        finals = [r.history.iloc[-1] for _, r in mine]
        per_class = np.nanmean([iou(r.confusion) for _, r in mine], axis=0)
        net = count(create(model, num_classes=data.num_classes, **config.model_kwargs),
                    (3, config.resolution, config.resolution))
        rows.append({"label": label(model), "model": model, "dataset": data.name, "resolution": config.resolution,
                     "epochs": config.epochs, "finished": all(len(r.history) == config.epochs for _, r in mine),
                     "seeds": len(mine), "miou": float(np.mean([f.eval_miou for f in finals])),
                     "miou_std": float(np.std([f.eval_miou for f in finals], ddof=1)) if len(mine) > 1 else float("nan"),
                     "pixel_acc": float(np.mean([f.eval_pixel_acc for f in finals])),
                     "images_per_s": float(histories[histories.model == model].images_per_s.median()),
                     "fpn_mflops": net.by_module.set_index("module").flops["fpn"] / 1e6, "mflops": net.flops / 1e6,
                     "mparams": net.params / 1e6, "eval_size": len(data.eval)})
        classes += [{"label": label(model), "model": model, "class": name, "iou": value}
                    for name, value in zip(data.classes, per_class)]
    return pd.DataFrame(rows), pd.DataFrame(classes), histories


def plot_masks(models: dict[str, nn.Module], data: MaskData, images: int = 6):
    """The first ``images`` eval images: the image, the true mask, and each model's predicted mask."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    colours = ListedColormap(plt.get_cmap("tab20")(np.linspace(0, 1, 20))[: max(data.num_classes, 2)])
    device = next(iter(models.values())).parameters().__next__().device
    batch = _normalize(data.eval.images[:images], data, device)
    predicted = {}
    for name, model in models.items():
        model.eval()
        with torch.no_grad():
            predicted[name] = model(batch).argmax(1).cpu()
    columns = ["image", "truth", *models]
    fig, axes = plt.subplots(images, len(columns), figsize=(1.8 * len(columns), 1.8 * images), squeeze=False)
    for i in range(images):
        truth = data.eval.masks[i].long().clone()
        truth[truth == IGNORE] = 0
        panels = [data.eval.images[i].permute(1, 2, 0).numpy(), truth.numpy(), *(p[i].numpy() for p in predicted.values())]
        for ax, title, panel in zip(axes[i], columns, panels):
            if panel.ndim == 3:
                ax.imshow(panel)
            else:
                ax.imshow(panel, cmap=colours, vmin=0, vmax=colours.N - 1, interpolation="nearest")
            ax.set_axis_off()
            if i == 0:
                ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig
