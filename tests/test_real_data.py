"""The real archives in ../shared/datasets (skipped where that folder is absent): counts, labels, boxes, a batch."""

from __future__ import annotations

import io
import tarfile

import pytest
import torch

from vt import data
from vt.data.base import shared_dir
from vt.data.cifar import CLASSES

SHARED = shared_dir()
needs_cifar = pytest.mark.skipif(not (SHARED / "cifar10-jpeg.tar.gz").exists(), reason=f"no CIFAR-10 in {SHARED}")
needs_tiny = pytest.mark.skipif(
    not (SHARED / "tiny-imagenet-200.tar.gz.part0").exists(), reason=f"no Tiny ImageNet in {SHARED}"
)


def _first_batch(dataset: data.Dataset, resolution: int) -> tuple[torch.Tensor, torch.Tensor]:
    loader = data.make_loader(dataset, "train", batch_size=16, resolution=resolution)
    return next(iter(loader.epoch(0)))


def _pixel_range(images: torch.Tensor, dataset: data.Dataset) -> tuple[float, float]:
    mean, std = torch.tensor(dataset.mean).view(1, 3, 1, 1), torch.tensor(dataset.std).view(1, 3, 1, 1)
    pixels = images * std + mean
    return pixels.min().item(), pixels.max().item()


@needs_cifar
def test_cifar10_has_its_canonical_splits_and_labels():
    d = data.load("cifar10", data_dir=SHARED, cache=False)
    assert (len(d.train), len(d.eval)) == (50_000, 10_000) and d.classes == CLASSES
    assert d.train.labels.bincount().tolist() == [5000] * 10 and d.eval.labels.bincount().tolist() == [1000] * 10
    assert d.train.images.shape == (50_000, 3, 32, 32) and d.train.images.dtype == torch.uint8
    x, y = _first_batch(d, 32)
    low, high = _pixel_range(x, d)
    assert x.shape == (16, 3, 32, 32) and y.shape == (16,) and -0.01 <= low < 0.2 and 0.8 < high <= 1.01


@needs_tiny
def test_tiny_imagenet_has_its_splits_val_labels_and_boxes():
    d = data.load("tiny-imagenet", data_dir=SHARED, cache=False)
    assert (len(d.train), len(d.eval), d.num_classes) == (100_000, 10_000, 200)
    assert d.train.labels.bincount().tolist() == [500] * 200
    joined = io.BytesIO(b"".join(p.read_bytes() for p in sorted(SHARED.glob("tiny-imagenet-200.tar.gz.part*"))))
    with tarfile.open(fileobj=joined, mode="r:gz") as archive:
        member = next(m for m in archive if m.name.endswith("val/val_annotations.txt"))
        rows = [line.split("\t") for line in archive.extractfile(member).read().decode().splitlines()]
    by_name = {name: (wnid, [int(v) for v in box]) for name, wnid, *box in rows}
    wnids = d.extra["wnids"]
    for i in range(10_000):  # eval image i is val_i.JPEG
        wnid, box = by_name[f"val_{i}.JPEG"]
        assert wnids[d.eval.labels[i]] == wnid and d.eval.boxes[i].tolist() == box
    assert len(d.train.boxes) == 100_000 and len(d.eval.boxes) == 10_000
    for boxes in (d.train.boxes, d.eval.boxes):
        assert boxes.shape[1] == 4 and boxes.min() >= 0 and boxes.max() <= 63
        assert (boxes[:, 2] >= boxes[:, 0]).all() and (boxes[:, 3] >= boxes[:, 1]).all()
    x, y = _first_batch(d, 64)
    low, high = _pixel_range(x, d)
    assert x.shape == (16, 3, 64, 64) and -0.01 <= low < 0.2 and 0.8 < high <= 1.01
    upscaled, _ = _first_batch(d, 224)
    assert upscaled.shape == (16, 3, 224, 224)
