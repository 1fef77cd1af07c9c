"""Tiny ImageNet (the Stanford CS231n release): 200 classes, 100,000 train and 10,000 val images, 64x64.

Read from the official ``tiny-imagenet-200`` layout as a folder, the official zip, a tar.gz, or a tar.gz split
into ``.partN`` pieces (joined as ``cat`` would). Val labels come from ``val/val_annotations.txt``; the
bounding boxes of every train and val image are kept (``Split.boxes``, x0, y0, x1, y1 inclusive) for the
attention notebook. Grayscale images are converted to RGB. Decoded arrays are cached under ``root/cache``
(unless ``cache=False``).
"""

from __future__ import annotations

from pathlib import Path

import torch

from vt.data import archive
from vt.data.base import Dataset, Split, cached, decode_all, find, not_found, search_dirs
from vt.paths import shown
from vt.errors import DataError

FOLDER = "tiny-imagenet-200"
SOURCES = (FOLDER, f"{FOLDER}.zip", f"{FOLDER}.tar.gz", f"{FOLDER}.tar.gz.part0")
URL = "http://cs231n.stanford.edu/tiny-imagenet-200.zip"
MEAN = (0.4802, 0.4481, 0.3975)
STD = (0.2770, 0.2691, 0.2821)


def tiny_imagenet(
    root: str | Path | None = None, download: bool = False, progress: bool = False, cache: bool = True
) -> Dataset:
    """Tiny ImageNet with boxes; classes sorted by WordNet id (as ImageFolder), named by ``words.txt``.

    Raises:
        DataNotFoundError: if no copy is found (and ``download`` is off), saying where to put one.
        DataError: if a copy is corrupt, truncated or incomplete.
    """
    folders = search_dirs(root, download)
    root = folders[0]
    source = find(folders, SOURCES)
    if source is None and download:
        from torchvision.datasets.utils import download_and_extract_archive

        download_and_extract_archive(URL, download_root=str(root))
        source = root / FOLDER
    if source is None:
        raise not_found(
            "Tiny ImageNet",
            folders,
            SOURCES,
            f"Download {URL} into {root} (or call with download=True when online).",
        )
    build = lambda: _read(source, progress)  # noqa: E731
    arrays = cached(root / "cache", "tiny-imagenet", source, build) if cache else build()
    return Dataset(
        "tiny-imagenet",
        Split(arrays["train_images"], arrays["train_labels"], boxes=arrays["train_boxes"]),
        Split(arrays["val_images"], arrays["val_labels"], boxes=arrays["val_boxes"]),
        classes=_decode(arrays["names"]),
        mean=MEAN,
        std=STD,
        augment="crop_flip",
        source=shown(source),
        extra={"wnids": _decode(arrays["wnids"])},
    )


def _read(source: Path, progress: bool) -> dict[str, torch.Tensor]:
    texts: dict[str, str] = {}
    train: list[tuple[str, str, bytes]] = []  # (wnid, file name, JPEG)
    val: dict[str, bytes] = {}
    for name, blob in archive.read(source, _wanted):
        parts = name.split(FOLDER + "/", 1)[-1].split("/")
        if parts[-1].endswith(".txt"):
            texts[parts[-1]] = blob.decode()
        elif parts[0] == "train":
            train.append((parts[1], parts[-1], blob))
        else:
            val[parts[-1]] = blob
    missing = [f for f in ("wnids.txt", "words.txt", "val_annotations.txt") if f not in texts]
    if missing:
        raise DataError(f"{source} is incomplete: {', '.join(missing)} missing")
    wnids = sorted(texts["wnids.txt"].split())
    index = {wnid: i for i, wnid in enumerate(wnids)}
    words = dict(line.split("\t", 1) for line in texts["words.txt"].splitlines() if "\t" in line)

    train.sort(key=lambda item: (item[0], item[1]))
    boxes = {}
    for wnid in wnids:
        for line in texts.get(f"{wnid}_boxes.txt", "").splitlines():
            file, *box = line.split()
            boxes[file] = [int(v) for v in box]
    annotations = [line.split() for line in texts["val_annotations.txt"].splitlines() if line.strip()]
    annotations.sort(key=lambda row: int(row[0].split("_")[1].split(".")[0]))  # val_0, val_1, ...

    lost = [f for _, f, _ in train if f not in boxes] + [row[0] for row in annotations if row[0] not in val]
    if lost:
        raise DataError(f"{source} is incomplete: no box or no image for {len(lost)} files, e.g. {lost[0]}")
    unknown = {wnid for wnid, _, _ in train} - set(index)
    if unknown:
        raise DataError(f"{source}: train folders not in wnids.txt: {sorted(unknown)[:3]}")
    return {
        "train_images": decode_all([blob for _, _, blob in train], 64, "Tiny ImageNet train", progress),
        "train_labels": torch.tensor([index[wnid] for wnid, _, _ in train]),
        "train_boxes": torch.tensor([boxes[f] for _, f, _ in train], dtype=torch.int16),
        "val_images": decode_all([val[row[0]] for row in annotations], 64, "Tiny ImageNet val", progress),
        "val_labels": torch.tensor([index[row[1]] for row in annotations]),
        "val_boxes": torch.tensor([[int(v) for v in row[2:6]] for row in annotations], dtype=torch.int16),
        "wnids": _encode(wnids),
        "names": _encode([words.get(wnid, wnid).split(",")[0].strip() for wnid in wnids]),
    }


def _wanted(name: str) -> bool:
    parts = name.split(FOLDER + "/", 1)[-1].split("/")
    if parts[-1] in ("wnids.txt", "words.txt", "val_annotations.txt") or parts[-1].endswith("_boxes.txt"):
        return True
    return parts[0] in ("train", "val") and parts[-2:-1] == ["images"] and parts[-1].endswith(".JPEG")


def _encode(strings: list[str]) -> torch.Tensor:
    """Strings as one uint8 tensor (newline-joined UTF-8), so they sit in the .npy cache beside the images."""
    return torch.frombuffer(bytearray("\n".join(strings).encode()), dtype=torch.uint8)


def _decode(tensor: torch.Tensor) -> list[str]:
    return bytes(tensor.tolist()).decode().split("\n")

