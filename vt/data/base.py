"""What every data source returns, where data sets are looked for, and the decoded-array cache."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from vt.errors import DataError, DataNotFoundError
from vt.paths import ROOT

DATA_DIR_ENV = "VT_DATA_DIR"
SHARED_DIR_ENV = "VT_SHARED_DATASETS"


@dataclass
class Split:
    """One split held in memory: ``images`` uint8 (N, 3, H, W), ``labels`` int64 (N,).

    ``masks`` (bool (N, H, W), the object's pixels) come with the synthetic data, ``boxes`` (int16 (N, 4),
    ``x0, y0, x1, y1`` inclusive, in pixels of the stored image) with Tiny ImageNet.
    """

    images: torch.Tensor
    labels: torch.Tensor
    masks: torch.Tensor | None = None
    boxes: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.ndim != 4 or self.images.shape[1] != 3:
            raise DataError(f"images must be uint8 (N, 3, H, W), got {self.images.dtype} {tuple(self.images.shape)}")
        if len(self.labels) != len(self.images):
            raise DataError(f"{len(self.images)} images but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def resolution(self) -> int:
        """Side of the stored (square) images."""
        return self.images.shape[-1]


@dataclass
class FolderSplit:
    """One split too large to hold in memory, read from image files: ``files[i]`` has label ``labels[i]``."""

    files: list[Path]
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.files)


@dataclass
class Dataset:
    """A data set's train and eval splits, class names, normalization and train augmentation.

    ``augment`` names the train-time augmentation the report and the paper use for this data
    (see ``vt.data.augment``); eval images are only resized and normalized.
    """

    name: str
    train: Split | FolderSplit
    eval: Split | FolderSplit
    classes: list[str]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    augment: str
    source: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        """Number of classes."""
        return len(self.classes)

    def fingerprint(self, images: int = 256) -> str:
        """A short hash of what the data are, not where they lie: the classes, both split sizes, the eval labels
        and the first ``images`` eval images (their pixels, or a folder split's file bytes). The JPEG copy of
        CIFAR-10 and the canonical release differ in it; one archive unpacked or not, here or on another
        machine, does not. A checkpoint keeps it so that a run is never resumed on other data.
        """
        digest = hashlib.sha256(json.dumps([self.name, self.classes, len(self.train), len(self.eval)]).encode())
        digest.update(self.eval.labels.numpy().tobytes())
        if isinstance(self.eval, Split):
            digest.update(self.eval.images[:images].contiguous().numpy().tobytes())
        else:
            for path in self.eval.files[:images]:
                digest.update(Path(path).read_bytes())
        return digest.hexdigest()[:16]


def data_dir(path: str | Path | None = None) -> Path:
    """The data folder: ``path`` if given, else ``$VT_DATA_DIR``, else the project's ``data/``."""
    if path is not None:
        return Path(path).expanduser()
    return Path(os.environ.get(DATA_DIR_ENV, ROOT / "data")).expanduser()


def shared_dir() -> Path:
    """Where prepared archives may lie beside the project: ``$VT_SHARED_DATASETS`` or ``../shared/datasets``."""
    return Path(os.environ.get(SHARED_DIR_ENV, ROOT.parent / "shared" / "datasets")).expanduser()


def search_dirs(path: str | Path | None, download: bool = False) -> tuple[Path, ...]:
    """Where a data set is looked for: an explicit ``path`` alone (a mistake to report if it does not exist, unless
    ``download`` will fill it), else the default ``data_dir()`` and then the shared folder (``shared_dir``).

    Raises:
        DataNotFoundError: for an explicit ``path`` that does not exist (and ``download`` is off).
    """
    if path is not None:
        root = data_dir(path)
        if not root.is_dir() and not download:
            raise DataNotFoundError(f"data_dir {root} does not exist (or is not a folder)")
        return (root,)
    return (data_dir(), shared_dir())


def find(folders: Iterable[Path], names: Iterable[str]) -> Path | None:
    """The first of ``names`` that exists under the first of ``folders`` that has one; None if none does."""
    for folder in folders:
        for name in names:
            if (folder / name).exists():
                return folder / name
    return None


def not_found(dataset: str, folders: Iterable[Path], names: Iterable[str], hint: str) -> DataNotFoundError:
    """The error for a data set found nowhere, naming the places searched and what to put there."""
    places = ", ".join(str(folder / name) for folder in folders for name in names)
    return DataNotFoundError(f"{dataset} not found; looked for {places}. {hint}")


def decode_image(blob: bytes) -> torch.Tensor:
    """One encoded image (JPEG, PNG, ...) as uint8 (3, H, W), grayscale or palette converted to RGB."""
    with Image.open(io.BytesIO(blob)) as image:
        return torch.from_numpy(np.asarray(image.convert("RGB")).copy()).permute(2, 0, 1)


def decode_all(blobs: list[bytes], size: int, what: str, progress: bool = False) -> torch.Tensor:
    """Decode encoded images to one uint8 (N, 3, size, size) tensor, grayscale as RGB (with Pillow)."""
    from tqdm import tqdm  # the text bar: papermill notebooks have no widgets

    out = torch.empty(len(blobs), 3, size, size, dtype=torch.uint8)
    for i, blob in enumerate(tqdm(blobs, desc=f"decoding {what}", disable=not progress, mininterval=2)):
        try:
            image = decode_image(blob)
        except (UnidentifiedImageError, OSError) as error:
            raise DataError(f"cannot decode image {i} of {what}: {error}") from None
        if image.shape[-2:] != (size, size):
            raise DataError(f"image {i} of {what} is {tuple(image.shape[-2:])}, expected {size}x{size}")
        out[i] = image
    return out


def cached(cache_dir: Path, key: str, source: Path, build: Callable[[], dict[str, torch.Tensor]]) -> dict:
    """Arrays built once by ``build`` and kept as ``.npy`` files under ``cache_dir/key-<source id>/``.

    The source id hashes the source's path, size and modification time, so that a changed archive is decoded
    again. Every file is written under a temporary name and renamed, the folder last, so that an interrupted
    build leaves no half cache behind.
    """
    stat = source.stat()
    ident = hashlib.sha256(f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    folder = cache_dir / f"{key}-{ident}"
    if (folder / "index.json").exists():
        names = json.loads((folder / "index.json").read_text())
        return {name: torch.from_numpy(np.load(folder / f"{name}.npy")) for name in names}
    arrays = build()
    staging = cache_dir / f".{key}-{ident}.{os.getpid()}.tmp"
    staging.mkdir(parents=True, exist_ok=True)
    for name, tensor in arrays.items():
        np.save(staging / f"{name}.npy", tensor.numpy())
    (staging / "index.json").write_text(json.dumps(sorted(arrays)))
    try:
        staging.rename(folder)
    except OSError:  # another process finished the same cache first
        shutil.rmtree(staging, ignore_errors=True)
    return arrays
