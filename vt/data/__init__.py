"""Data sets by name and their loaders: ``vt.data.load("cifar10")``, ``vt.data.make_loader(data, "train", ...)``.

Sources: ``synthetic`` (the embedded default, generated offline), ``cifar10``, ``tiny-imagenet``, ``imagenet``.
Files are looked for in ``data_dir`` (default ``$VT_DATA_DIR`` or the project's ``data/``), then in
``../shared/datasets`` (``$VT_SHARED_DATASETS``).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch

from vt.data.base import Dataset, FolderSplit, Split, data_dir
from vt.data.cifar import cifar10
from vt.data.imagenet import imagenet
from vt.data.loader import DeviceLoader, FolderLoader, make_loader
from vt.data.shapes import synthetic
from vt.data.tiny_imagenet import tiny_imagenet
from vt.errors import ConfigError

DATASETS = ("synthetic", "cifar10", "tiny-imagenet", "imagenet")
_FILE_SOURCES = {"cifar10": cifar10, "tiny-imagenet": tiny_imagenet, "imagenet": imagenet}


def load(
    name: str,
    *,
    data_dir: str | Path | None = None,
    resolution: int = 32,
    train_size: int = 0,
    eval_size: int = 0,
    classes: int = 0,
    seed: int = 0,
    download: bool = False,
    progress: bool = False,
    cache: bool = True,
) -> Dataset:
    """The data set ``name``; ``classes`` > 0 keeps that many of its classes (``class_subset``), then
    ``train_size``/``eval_size`` > 0 keep a fixed random subset of each split.

    ``resolution`` and ``seed`` shape the synthetic data only (it is generated at the training resolution;
    the others are stored at their own and resized by the loader). For synthetic data the sizes default to
    5,000 train and 1,000 eval images. ``cache`` keeps decoded JPEG arrays as .npy under ``data_dir/cache``.

    Raises:
        ConfigError: for an unknown name or a negative size.
        DataNotFoundError, DataError: when the files are missing, incomplete or corrupt.
    """
    if name not in DATASETS:
        raise ConfigError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}")
    if train_size < 0 or eval_size < 0 or classes < 0:
        raise ConfigError(f"train_size, eval_size and classes must be >= 0, got {train_size}, {eval_size} and {classes}")
    if name == "synthetic":
        if classes:
            raise ConfigError("classes keeps a subset of a real data set's classes; the synthetic data has its own six")
        return synthetic(resolution, train_size or 5000, eval_size or 1000, seed=seed)
    data = _FILE_SOURCES[name](data_dir, download=download, progress=progress, cache=cache)
    if classes:
        data = class_subset(data, classes)
    if train_size:
        data.train = subset(data.train, train_size)
    if eval_size:
        data.eval = subset(data.eval, eval_size)
    return data


def class_subset(data: Dataset, classes: int) -> Dataset:
    """``data`` with ``classes`` of its classes, spread evenly over its label order (every ``k``-th class from the
    first, ``k = num_classes // classes``: for Tiny ImageNet, sorted by WordNet id, a spread over the hierarchy
    rather than its first branch), relabelled ``0 .. classes - 1`` in that order. All images of those classes are
    kept, with their boxes or masks.

    Raises:
        ConfigError: when ``classes`` exceeds the data set's classes.
    """
    if not 0 < classes <= data.num_classes:
        raise ConfigError(f"classes must be between 1 and {data.num_classes} for {data.name}, got {classes}")
    kept = torch.arange(classes) * (data.num_classes // classes)
    relabel = torch.full((data.num_classes,), -1, dtype=torch.long)
    relabel[kept] = torch.arange(classes)

    def keep(split: Split | FolderSplit) -> Split | FolderSplit:
        pick = torch.nonzero(relabel[split.labels] >= 0).flatten()
        labels = relabel[split.labels[pick]]
        if isinstance(split, FolderSplit):
            return FolderSplit([split.files[i] for i in pick], labels)
        return Split(split.images[pick], labels, None if split.masks is None else split.masks[pick],
                     None if split.boxes is None else split.boxes[pick])

    extra = {**data.extra, "class_indices": kept.tolist()}
    if "wnids" in data.extra:
        extra["wnids"] = [data.extra["wnids"][i] for i in kept]
    return replace(data, train=keep(data.train), eval=keep(data.eval), classes=[data.classes[i] for i in kept],
                   extra=extra)


def subset(split: Split | FolderSplit, size: int) -> Split | FolderSplit:
    """``size`` images of ``split`` drawn at random (fixed seed, kept in order), or all if it holds fewer.

    Real splits are sorted by class, so the first images would all be of a few classes.
    """
    pick = torch.randperm(len(split), generator=torch.Generator().manual_seed(0))[:size].sort().values
    if isinstance(split, FolderSplit):
        return FolderSplit([split.files[i] for i in pick], split.labels[pick])
    return Split(
        split.images[pick], split.labels[pick],
        None if split.masks is None else split.masks[pick],
        None if split.boxes is None else split.boxes[pick],
    )


__all__ = [
    "DATASETS", "Dataset", "DeviceLoader", "FolderLoader", "FolderSplit", "Split", "cifar10", "class_subset", "data_dir",
    "imagenet", "load", "make_loader", "subset", "synthetic", "tiny_imagenet",
]
