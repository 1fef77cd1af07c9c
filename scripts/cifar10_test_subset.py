"""Write the CIFAR-10 test subset the package ships (``vt/data/samples/cifar10-test-subset.npz``): the first
``PER_CLASS`` test images of each class, in test-split order, as the JPEG copy decodes them (the copy the runs were
evaluated on), with their labels and their indices in the 10,000-image test split. Needs the data set at hand:

    .venv/bin/python scripts/cifar10_test_subset.py
"""

from __future__ import annotations

import numpy as np

from vt.checkpoint import atomic_write
from vt.data import load
from vt.data.cifar import TEST_SUBSET
from vt.paths import shown

PER_CLASS = 30


def main() -> None:
    data = load("cifar10")
    labels = data.eval.labels.numpy()
    indices = np.sort(np.concatenate([np.flatnonzero(labels == k)[:PER_CLASS] for k in range(data.num_classes)]))
    images = data.eval.images[indices].numpy()

    def write(tmp):
        with open(tmp, "wb") as file:
            np.savez_compressed(file, images=images, labels=labels[indices].astype(np.int16),
                                indices=indices.astype(np.int16))

    atomic_write(TEST_SUBSET, write)
    print(f"wrote {shown(TEST_SUBSET)}: {len(indices)} images from {data.source}")


if __name__ == "__main__":
    main()
