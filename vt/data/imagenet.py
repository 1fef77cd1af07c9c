"""ImageNet (ILSVRC-2012) in the standard ImageFolder layout: ``imagenet/{train,val}/<wnid>/*.JPEG``.

Too large to hold decoded in memory, so its splits are file lists (``FolderSplit``) that ``vt.data.loader``
streams through DataLoader workers (random-resized-crop + flip on train, resize + center crop on val).
"""

from __future__ import annotations

from pathlib import Path

import torch

from vt.data.base import Dataset, FolderSplit, find, not_found, search_dirs
from vt.paths import shown
from vt.errors import DataError

SOURCES = ("imagenet", "ILSVRC2012")
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
_EXTENSIONS = {".jpeg", ".jpg", ".png"}


def imagenet(
    root: str | Path | None = None, download: bool = False, progress: bool = False, cache: bool = True
) -> Dataset:
    """ImageNet from ``root/imagenet`` (or ``root/ILSVRC2012``); val must be sorted into class folders.

    ``download`` is refused: ImageNet's licence requires users to fetch it themselves.
    ``progress`` and ``cache`` are accepted for a uniform signature; nothing is decoded ahead of time.
    """
    if download:
        raise DataError("ImageNet cannot be downloaded automatically; get it from https://image-net.org")
    folders = search_dirs(root)
    source = find(folders, SOURCES)
    if source is None:
        raise not_found("ImageNet", folders, SOURCES, "Put the ImageFolder layout train/<wnid>/, val/<wnid>/ there.")
    train, classes = _folder_split(source / "train")
    val, val_classes = _folder_split(source / "val")
    if val_classes != classes:
        raise DataError(f"{source}: val/ has {len(val_classes)} class folders, train/ has {len(classes)}; "
                        "sort val images into class folders first")
    return Dataset("imagenet", train, val, classes, MEAN, STD, augment="resized_crop_flip", source=shown(source))


def _folder_split(folder: Path) -> tuple[FolderSplit, list[str]]:
    if not folder.is_dir():
        raise DataError(f"{folder} is missing")
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir())
    files, labels = [], []
    for label, name in enumerate(classes):
        images = sorted(p for p in (folder / name).iterdir() if p.suffix.lower() in _EXTENSIONS)
        files += images
        labels += [label] * len(images)
    if not files:
        raise DataError(f"{folder} holds no images in class folders")
    return FolderSplit(files, torch.tensor(labels)), classes
