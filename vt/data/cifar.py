"""CIFAR-10 (Krizhevsky 2009): the canonical ``cifar-10-batches-py`` release or the JPEG folder layout.

Looked for under the data folder, then beside the project in ``../shared/datasets``, in this order:
``cifar-10-batches-py/``, ``cifar-10-python.tar.gz``, ``cifar10-jpeg/``, ``cifar10-jpeg.tar.gz``.
The JPEG copy went through one lossy encoding, so accuracies on it differ slightly from the original's.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch

from vt.data import archive
from vt.data.base import Dataset, Split, cached, decode_all, find, not_found, search_dirs
from vt.paths import shown
from vt.errors import DataError

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)
URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
MD5 = "c58f30108f718f92721af3b95e74349a"
PICKLE_SOURCES = ("cifar-10-batches-py", "cifar-10-python.tar.gz")
JPEG_SOURCES = ("cifar10-jpeg", "cifar10-jpeg.tar.gz")
_TRAIN_BATCHES = [f"data_batch_{i}" for i in range(1, 6)]


def cifar10(
    root: str | Path | None = None, download: bool = False, progress: bool = False, cache: bool = True
) -> Dataset:
    """CIFAR-10: 50,000 train and 10,000 test images, 32x32, in the canonical label order.

    Args:
        root: data folder (default ``$VT_DATA_DIR`` or the project's ``data/``).
        download: fetch the canonical release from ``URL`` into ``root`` if it is found nowhere.
        progress: show a bar while decoding JPEGs.
        cache: keep the decoded arrays under ``root/cache`` (decoding is then done once).

    Raises:
        DataNotFoundError: if no copy is found (and ``download`` is off), saying where to put one.
        DataError: if a copy is corrupt, truncated or incomplete.
    """
    folders = search_dirs(root, download)
    root = folders[0]
    source = find(folders, PICKLE_SOURCES + JPEG_SOURCES)
    if source is None and download:
        from torchvision.datasets.utils import download_and_extract_archive

        download_and_extract_archive(URL, download_root=str(root), md5=MD5)
        source = root / PICKLE_SOURCES[0]
    if source is None:
        raise not_found(
            "CIFAR-10",
            folders,
            PICKLE_SOURCES + JPEG_SOURCES,
            f"Download {URL} and unpack it into {root} (or call with download=True when online), "
            "or put cifar10-jpeg.tar.gz there.",
        )
    if source.name in PICKLE_SOURCES:
        train, test = _read_pickles(source)
    else:
        build = lambda: _read_jpegs(source, progress)  # noqa: E731
        arrays = cached(root / "cache", "cifar10-jpeg", source, build) if cache else build()
        train = Split(arrays["train_images"], arrays["train_labels"])
        test = Split(arrays["test_images"], arrays["test_labels"])
    return Dataset("cifar10", train, test, list(CLASSES), MEAN, STD, augment="crop_flip", source=shown(source))


def _read_pickles(source: Path) -> tuple[Split, Split]:
    wanted = set(_TRAIN_BATCHES + ["test_batch", "batches.meta"])
    batches = {
        Path(name).name: pickle.loads(blob, encoding="bytes")
        for name, blob in archive.read(source, lambda name: Path(name).name in wanted)
    }
    missing = sorted(wanted - set(batches))
    if missing:
        raise DataError(f"{source} is incomplete: {', '.join(missing)} missing")
    names = [name.decode() for name in batches["batches.meta"][b"label_names"]]
    if names != CLASSES:
        raise DataError(f"{source} lists classes {names}, expected {CLASSES}")

    def split(keys: list[str]) -> Split:
        data = np.concatenate([batches[key][b"data"] for key in keys]).reshape(-1, 3, 32, 32)
        labels = np.concatenate([batches[key][b"labels"] for key in keys])
        return Split(torch.from_numpy(data), torch.from_numpy(labels).long())

    return split(_TRAIN_BATCHES), split(["test_batch"])


def _read_jpegs(source: Path, progress: bool) -> dict[str, torch.Tensor]:
    files: dict[str, list[tuple[str, str, bytes]]] = {"train": [], "test": []}
    for name, blob in archive.read(source, lambda name: name.lower().endswith((".jpg", ".jpeg", ".png"))):
        parts = name.split("/")
        if len(parts) < 3 or parts[-3] not in files:
            continue
        files[parts[-3]].append((parts[-2], parts[-1], blob))
    arrays = {}
    for split, items in files.items():
        classes = sorted({label for label, _, _ in items})
        if classes != CLASSES:
            raise DataError(f"{source}: {split}/ holds classes {classes}, expected {CLASSES}")
        items.sort(key=lambda item: (item[0], item[1]))  # ImageFolder's order
        arrays[f"{split}_images"] = decode_all([blob for _, _, blob in items], 32, f"CIFAR-10 {split}", progress)
        arrays[f"{split}_labels"] = torch.tensor([CLASSES.index(label) for label, _, _ in items])
    return arrays


# A few hundred test images shipped with the package (the JPEG copy's decoded pixels, as the runs saw them), so that
# the shipped weights can be checked against their runs' recorded predictions, and the walkthrough can show real
# images, without the data set: ``scripts/cifar10_test_subset.py`` wrote it.
TEST_SUBSET = Path(__file__).with_name("samples") / "cifar10-test-subset.npz"


def test_subset(path: Path = TEST_SUBSET) -> tuple[Dataset, np.ndarray]:
    """The shipped CIFAR-10 test images as a ``Dataset`` (the same images as its eval and its train split) and their
    indices in the 10,000-image test split, in which the runs' ``predictions.npy`` are ordered.

    Raises:
        DataNotFoundError: where the file is missing (a checkout without it).
    """
    from vt.errors import DataNotFoundError

    if not path.exists():
        raise DataNotFoundError(f"no CIFAR-10 test subset at {shown(path)}; scripts/cifar10_test_subset.py makes it")
    with np.load(path) as saved:
        split = Split(torch.from_numpy(saved["images"]), torch.from_numpy(saved["labels"].astype(np.int64)))
        indices = saved["indices"].astype(np.int64)
    return Dataset("cifar10", split, split, list(CLASSES), MEAN, STD, augment="crop_flip",
                   source=f"{shown(path)} ({len(indices)} test images)"), indices
