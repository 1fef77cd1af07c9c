"""Batches for training and evaluation: normalized float images and labels on the training device.

``DeviceLoader`` keeps a whole ``Split`` as one uint8 tensor on the device and augments in batch there (the
airbench approach: no workers, no host-to-device copies in the loop). ``FolderLoader`` streams a
``FolderSplit`` (ImageNet) through DataLoader workers. Both give the same order for the same
``(seed, epoch)`` wherever and whenever they run: the order and the augmentation of batch ``i`` of epoch
``e`` are functions of ``(seed, e, rank, i)`` alone, so a run resumed at an epoch boundary sees exactly the
batches the uninterrupted run would have seen.
"""

from __future__ import annotations

import os
from typing import Iterator

import numpy as np
import torch

from vt.data import augment as aug
from vt.data.base import Dataset, FolderSplit, Split, decode_image
from vt.errors import ConfigError

Batch = tuple[torch.Tensor, torch.Tensor]


def make_loader(
    data: Dataset,
    split: str,
    *,
    batch_size: int,
    device: torch.device | str = "cpu",
    resolution: int | None = None,
    augment: str | None = None,
    seed: int = 0,
    rank: int = 0,
    world_size: int = 1,
    channels_last: bool = False,
) -> "DeviceLoader | FolderLoader":
    """A loader over ``data.train`` (``split="train"``: shuffled, augmented, last partial batch dropped) or
    ``data.eval`` (``split="eval"``: in order, not augmented, every image once across ranks).

    ``augment`` defaults to the data set's own (``data.augment``) on train; ``resolution`` defaults to the
    stored one (set 224 to upscale 64x64 Tiny ImageNet as the report's resolution study does).
    """
    if split not in ("train", "eval"):
        raise ConfigError(f"split must be 'train' or 'eval', got {split!r}")
    train = split == "train"
    augment = (augment or data.augment) if train else "none"
    if augment not in aug.AUGMENTATIONS:
        raise ConfigError(f"unknown augmentation {augment!r}; known: {', '.join(aug.AUGMENTATIONS)}")
    source = data.train if train else data.eval
    cls = FolderLoader if isinstance(source, FolderSplit) else DeviceLoader
    return cls(
        source, batch_size=batch_size, device=torch.device(device), mean=data.mean, std=data.std,
        resolution=resolution, augment=augment, train=train, seed=seed, rank=rank, world_size=world_size,
        channels_last=channels_last,
    )


def _seed(*parts: int) -> int:
    return int(np.random.SeedSequence(list(parts)).generate_state(1)[0])


class _Loader:
    """Order, sharding and normalization shared by both loaders."""

    def __init__(
        self, source: Split | FolderSplit, *, batch_size: int, device: torch.device, mean, std,
        resolution: int | None, augment: str, train: bool, seed: int, rank: int, world_size: int,
        channels_last: bool,
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be positive, got {batch_size}")
        self.source, self.batch_size, self.device = source, batch_size, device
        self.resolution, self.augment, self.train = resolution, augment, train
        self.seed, self.rank, self.world_size, self.channels_last = seed, rank, world_size, channels_last
        self._scale = (1 / (255 * torch.tensor(std))).view(1, 3, 1, 1).to(device)
        self._shift = (-torch.tensor(mean) / torch.tensor(std)).view(1, 3, 1, 1).to(device)
        if train and len(self._indices(0)) == 0:
            raise ConfigError(f"batch_size {batch_size} x {world_size} process(es) exceeds the {len(source)} "
                              "training images")

    def __len__(self) -> int:
        count = len(self._indices(0))
        return count // self.batch_size if self.train else -(-count // self.batch_size)

    def _indices(self, epoch: int) -> torch.Tensor:
        n = len(self.source)
        if self.train:
            order = torch.randperm(n, generator=torch.Generator().manual_seed(_seed(self.seed, epoch)))
            per_rank = n // self.world_size // self.batch_size * self.batch_size
            return order[self.rank :: self.world_size][:per_rank]
        return torch.arange(n)[self.rank :: self.world_size]

    def _batches(self, epoch: int) -> Iterator[tuple[int, torch.Tensor]]:
        indices = self._indices(epoch)
        for i in range(len(self)):
            yield i, indices[i * self.batch_size : (i + 1) * self.batch_size]

    def _normalize(self, images: torch.Tensor) -> torch.Tensor:
        return images.float() * self._scale + self._shift

    def _layout(self, images: torch.Tensor) -> torch.Tensor:
        return images.contiguous(memory_format=torch.channels_last if self.channels_last else torch.contiguous_format)


class DeviceLoader(_Loader):
    """A resident split: uint8 images on the device, augmented and normalized in batch there."""

    def __init__(self, source: Split, **kwargs) -> None:
        super().__init__(source, **kwargs)
        self.images = source.images.to(self.device)
        self.labels = source.labels.to(self.device)

    def epoch(self, epoch: int) -> Iterator[Batch]:
        """The batches of epoch ``epoch`` for this rank."""
        for i, index in self._batches(epoch):
            index = index.to(self.device)
            images = self.images[index]
            generator = torch.Generator().manual_seed(_seed(self.seed, epoch, self.rank, i, 1))
            if self.augment in ("crop_flip", "flip"):
                pad = images.shape[-1] // 8 if self.augment == "crop_flip" else 0
                images = aug.crop_flip(images, pad, generator)
            images = self._normalize(images)
            size = self.resolution or images.shape[-1]
            if self.augment == "resized_crop_flip":
                images = aug.resized_crop_flip(images, size, generator)
            else:
                images = aug.resize(images, size)
            yield self._layout(images), self.labels[index]


class FolderLoader(_Loader):
    """A split read from image files by DataLoader workers (crop on the workers, normalization on the device)."""

    def epoch(self, epoch: int) -> Iterator[Batch]:
        """The batches of epoch ``epoch`` for this rank."""
        from torch.utils.data import DataLoader

        indices = torch.cat([index for _, index in self._batches(epoch)]).tolist()
        workers = min(8, len(os.sched_getaffinity(0)))
        loader = DataLoader(
            _Files(self.source, self.resolution or 224, self.train), batch_size=self.batch_size, sampler=indices,
            num_workers=workers, pin_memory=self.device.type == "cuda",
            generator=torch.Generator().manual_seed(_seed(self.seed, epoch, self.rank, 2)),
        )
        for images, labels in loader:
            images = images.to(self.device, non_blocking=True)
            yield self._layout(self._normalize(images)), labels.to(self.device, non_blocking=True)


class _Files(torch.utils.data.Dataset):
    """Image files decoded to uint8 (3, size, size): random-resized-crop + flip on train, resize + crop on val."""

    def __init__(self, source: FolderSplit, size: int, train: bool) -> None:
        from torchvision.transforms import v2

        self.source = source
        crop = [v2.RandomResizedCrop(size, antialias=True), v2.RandomHorizontalFlip()] if train else [
            v2.Resize(round(size * 256 / 224), antialias=True), v2.CenterCrop(size)]
        self.transform = v2.Compose(crop)

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        image = decode_image(self.source.files[i].read_bytes())
        return self.transform(image), int(self.source.labels[i])
