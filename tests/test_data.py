"""vt.data: the synthetic default, the file readers on small generated copies, augmentation and loaders."""

from __future__ import annotations

import hashlib
import io
import pickle
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vt import data
from vt.data import archive, augment, cifar, shapes
from vt.errors import ConfigError, DataError, DataNotFoundError


def encode(image: torch.Tensor, format: str = "JPEG") -> bytes:
    """uint8 (C, H, W) as JPEG or PNG bytes."""
    buffer = io.BytesIO()
    array = image.permute(1, 2, 0).numpy()
    Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array).save(buffer, format=format, quality=95)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def no_shared(monkeypatch, tmp_path):
    """Readers must not fall back on ../shared/datasets here: these tests build their own files."""
    monkeypatch.setenv("VT_SHARED_DATASETS", str(tmp_path / "no-shared"))


# synthetic ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("resolution", [32, 64])
def test_synthetic_shapes_masks_and_classes(resolution):
    d = shapes.synthetic(resolution, train_size=300, eval_size=60)
    assert d.train.images.shape == (300, 3, resolution, resolution) and d.train.images.dtype == torch.uint8
    assert d.train.masks.shape == (300, resolution, resolution) and d.train.masks.dtype == torch.bool
    assert len(d.eval) == 60 and d.num_classes == len(shapes.CLASSES)
    assert set(d.train.labels.tolist()) == set(range(d.num_classes))
    share = d.train.masks.float().mean((1, 2))
    assert share.min() > 0.01 and share.max() < 0.6  # every image has an object, none fills the frame


def test_synthetic_object_differs_from_background():
    d = shapes.synthetic(32, train_size=200, eval_size=10)
    images, masks = d.train.images.float(), d.train.masks[:, None]
    inside = (images * masks).sum((2, 3)) / masks.sum((2, 3))
    outside = (images * ~masks).sum((2, 3)) / (~masks).sum((2, 3))
    assert (inside - outside).abs().max(1).values.median() > 40  # the object stands out in some channel


def test_synthetic_is_deterministic_per_seed():
    a, b = shapes.synthetic(32, 50, 10, seed=3), shapes.synthetic(32, 50, 10, seed=3)
    c = shapes.synthetic(32, 50, 10, seed=4)
    assert torch.equal(a.train.images, b.train.images) and torch.equal(a.eval.masks, b.eval.masks)
    assert not torch.equal(a.train.images, c.train.images)
    assert not torch.equal(a.train.images[:10], a.eval.images)  # train and eval are different draws


def test_synthetic_rejects_tiny_resolution():
    with pytest.raises(ValueError, match="at least 16"):
        shapes.synthetic(8)


def test_load_refuses_unknown_dataset_and_negative_size():
    with pytest.raises(ConfigError, match="unknown dataset 'mnist'.*cifar10"):
        data.load("mnist")
    with pytest.raises(ConfigError, match=">= 0"):
        data.load("synthetic", train_size=-1)


# augmentation and loaders ---------------------------------------------------------------------------------


def test_crop_flip_is_a_translation_and_a_mirror():
    images = torch.arange(2 * 3 * 6 * 6, dtype=torch.uint8).view(2, 3, 6, 6)
    out = augment.crop_flip(images, pad=2, generator=torch.Generator().manual_seed(0))
    assert out.shape == images.shape and out.dtype == torch.uint8
    for i in range(2):  # each output is a window of the zero-padded image, maybe mirrored
        padded = torch.nn.functional.pad(images[i], (2, 2, 2, 2))
        windows = [padded[:, y : y + 6, x : x + 6] for y in range(5) for x in range(5)]
        assert any(torch.equal(out[i], w) or torch.equal(out[i], w.flip(-1)) for w in windows)
    same = augment.crop_flip(images, pad=0, generator=torch.Generator(), flip=False)
    assert torch.equal(same, images)


def test_resized_crop_and_resize_give_the_asked_size():
    images = torch.rand(4, 3, 64, 64)
    assert augment.resized_crop_flip(images, 224, torch.Generator().manual_seed(0)).shape == (4, 3, 224, 224)
    assert augment.resize(images, 224).shape == (4, 3, 224, 224)
    assert augment.resize(images, 64) is images


def _tiny_dataset(n: int = 40) -> data.Dataset:
    return shapes.synthetic(16, train_size=n, eval_size=n // 2)


def test_train_loader_order_depends_only_on_seed_and_epoch():
    d = _tiny_dataset()
    make = lambda seed: data.make_loader(d, "train", batch_size=8, seed=seed)  # noqa: E731
    first = [y for _, y in make(0).epoch(1)]
    again = [y for _, y in make(0).epoch(1)]
    other = [y for _, y in make(0).epoch(2)]
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not all(torch.equal(a, b) for a, b in zip(first, other))
    assert len(first) == len(make(0)) == 5


def test_ranks_take_disjoint_shards_of_equal_length():
    d = _tiny_dataset(44)
    shards = [data.make_loader(d, "train", batch_size=4, world_size=2, rank=r) for r in (0, 1)]
    assert len(shards[0]) == len(shards[1]) == 5
    seen = [torch.cat([idx for _, idx in s._batches(0)]) for s in shards]
    assert not set(seen[0].tolist()) & set(seen[1].tolist())
    evals = [data.make_loader(d, "eval", batch_size=4, world_size=2, rank=r) for r in (0, 1)]
    assert sum(len(torch.cat([y for _, y in e.epoch(0)])) for e in evals) == len(d.eval)


def test_eval_batches_are_in_order_channels_last_and_upscaled():
    d = _tiny_dataset()
    loader = data.make_loader(d, "eval", batch_size=7, resolution=32, channels_last=True)
    batches = list(loader.epoch(0))
    assert sum(len(y) for _, y in batches) == len(d.eval)
    x, y = batches[0]
    assert x.shape == (7, 3, 32, 32) and x.dtype == torch.float32
    assert x.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(y, d.eval.labels[:7])
    # upscaled 16 -> 32: the mean brightness stays (normalization and no augmentation, per channel and exactly, are
    # checked in test_recipe.py::test_augmentation_changes_a_train_batch_and_never_an_eval_batch)
    expected = (d.eval.images[:7].float() / 255 - 0.5) / 0.25
    assert torch.allclose(x.mean(dim=(2, 3)), expected.mean(dim=(2, 3)), atol=0.02)


def test_loader_refuses_a_batch_larger_than_the_data():
    with pytest.raises(ConfigError, match="exceeds"):
        data.make_loader(_tiny_dataset(), "train", batch_size=64)


# archives -------------------------------------------------------------------------------------------------


def _files_tree(root: Path, files: dict[str, bytes]) -> None:
    for name, blob in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(blob)


def _tar(path: Path, folder: Path) -> Path:
    with tarfile.open(path, "w:gz") as out:
        out.add(folder, arcname=folder.name)
    return path


def test_archive_reads_folder_zip_tar_and_parts_alike(tmp_path):
    files = {"set/a.txt": b"alpha", "set/sub/b.bin": bytes(range(256)) * 300}
    _files_tree(tmp_path / "tree", files)
    tgz = _tar(tmp_path / "set.tar.gz", tmp_path / "tree" / "set")
    with zipfile.ZipFile(tmp_path / "set.zip", "w") as z:
        for name, blob in files.items():
            z.writestr(name, blob)
    blob = tgz.read_bytes()
    for i, start in enumerate(range(0, len(blob), len(blob) // 3 + 1)):
        (tmp_path / f"set.tar.gz.part{i}").write_bytes(blob[start : start + len(blob) // 3 + 1])
    keep = lambda name: name.endswith((".txt", ".bin"))  # noqa: E731
    expect = {Path(n).name: b for n, b in files.items()}
    for source in (tmp_path / "tree", tmp_path / "set.zip", tgz, tmp_path / "set.tar.gz.part0"):
        assert {Path(n).name: b for n, b in archive.read(source, keep)} == expect, source
    assert len(archive.parts(tmp_path / "set.tar.gz.part0")) == 3


def test_archive_truncated_or_corrupt_is_a_clear_error(tmp_path):
    _files_tree(tmp_path / "tree", {"set/big.bin": np.random.default_rng(0).bytes(200_000)})
    blob = _tar(tmp_path / "set.tar.gz", tmp_path / "tree" / "set").read_bytes()
    (tmp_path / "cut.tar.gz").write_bytes(blob[: len(blob) // 2])
    (tmp_path / "junk.tar.gz").write_bytes(b"not an archive at all" * 100)
    for bad in ("cut.tar.gz", "junk.tar.gz"):
        with pytest.raises(DataError, match="corrupt or truncated"):
            list(archive.read(tmp_path / bad, lambda name: True))


# CIFAR-10 -------------------------------------------------------------------------------------------------


def _cifar_pickles(folder: Path, per_batch: int = 3) -> None:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
                 b"labels": rng.integers(0, 10, per_batch).tolist()}
        (folder / name).write_bytes(pickle.dumps(batch))
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": [c.encode() for c in cifar.CLASSES]}))


def _cifar_jpegs(folder: Path, per_class: int = 2) -> None:
    for split in ("train", "test"):
        for label in cifar.CLASSES:
            for i in range(per_class):
                image = torch.full((3, 32, 32), 20 * cifar.CLASSES.index(label), dtype=torch.uint8)
                path = folder / split / label / f"{i:04d}.jpg"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(encode(image))


def test_cifar10_reads_the_canonical_pickles_from_folder_and_archive(tmp_path):
    _cifar_pickles(tmp_path / "src" / "cifar-10-batches-py")
    d = data.load("cifar10", data_dir=tmp_path / "src")
    assert (len(d.train), len(d.eval)) == (15, 3) and d.classes == cifar.CLASSES
    raw = pickle.loads((tmp_path / "src" / "cifar-10-batches-py" / "data_batch_1").read_bytes())
    assert torch.equal(d.train.images[0].flatten(), torch.from_numpy(raw[b"data"][0]))
    (tmp_path / "arc").mkdir()
    _tar(tmp_path / "arc" / "cifar-10-python.tar.gz", tmp_path / "src" / "cifar-10-batches-py")
    from_archive = data.load("cifar10", data_dir=tmp_path / "arc")
    assert torch.equal(from_archive.train.images, d.train.images)
    assert from_archive.fingerprint() == d.fingerprint()  # where the data lie does not change what they are


def test_cifar10_reads_the_jpeg_layout_in_imagefolder_order_and_caches_it(tmp_path):
    _cifar_jpegs(tmp_path / "tree" / "cifar10-jpeg")
    (tmp_path / "data").mkdir()
    _tar(tmp_path / "data" / "cifar10-jpeg.tar.gz", tmp_path / "tree" / "cifar10-jpeg")
    d = data.load("cifar10", data_dir=tmp_path / "data")
    assert (len(d.train), len(d.eval)) == (20, 20)
    assert d.train.labels.tolist() == [c for c in range(10) for _ in range(2)]
    assert (d.train.images[d.train.labels == 3].float().mean() - 60).abs() < 2  # pixel values survive JPEG
    cache = list((tmp_path / "data" / "cache").iterdir())
    assert len(cache) == 1 and (cache[0] / "index.json").exists()
    again = data.load("cifar10", data_dir=tmp_path / "data")  # from the .npy cache
    assert torch.equal(again.train.images, d.train.images)
    folder = data.load("cifar10", data_dir=tmp_path / "tree")  # the unpacked folder reads the same
    assert torch.equal(folder.eval.images, d.eval.images) and folder.fingerprint() == d.fingerprint()


def test_cifar10_missing_says_where_to_put_it(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"CIFAR-10 not found.*cifar-10-batches-py.*download=True"):
        data.load("cifar10", data_dir=tmp_path)


def test_cifar10_incomplete_copy_is_refused(tmp_path):
    _cifar_pickles(tmp_path / "cifar-10-batches-py")
    (tmp_path / "cifar-10-batches-py" / "data_batch_4").unlink()
    with pytest.raises(DataError, match="incomplete: data_batch_4 missing"):
        data.load("cifar10", data_dir=tmp_path)


def test_cifar10_download_fetches_and_unpacks_the_release(tmp_path, monkeypatch):
    import functools
    import http.server
    import threading

    _cifar_pickles(tmp_path / "server" / "cifar-10-batches-py")
    release = _tar(tmp_path / "server" / "cifar-10-python.tar.gz", tmp_path / "server" / "cifar-10-batches-py")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "server"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setattr(cifar, "URL", f"http://127.0.0.1:{server.server_port}/{release.name}")
        monkeypatch.setattr(cifar, "MD5", hashlib.md5(release.read_bytes()).hexdigest())
        d = data.load("cifar10", data_dir=tmp_path / "data", download=True)
    finally:
        server.shutdown()
    assert len(d.train) == 15 and (tmp_path / "data" / "cifar-10-batches-py" / "test_batch").exists()


def test_data_dir_comes_from_the_environment(tmp_path, monkeypatch):
    _cifar_pickles(tmp_path / "cifar-10-batches-py")
    monkeypatch.setenv("VT_DATA_DIR", str(tmp_path))
    assert len(data.load("cifar10").train) == 15


def test_an_explicit_data_dir_is_the_only_place_searched(tmp_path, monkeypatch):
    """The shared folder is a fallback for the default data folder only: a data_dir given by name that lacks the
    data, or does not exist, is reported, not quietly replaced by another copy."""
    _cifar_pickles(tmp_path / "shared" / "cifar-10-batches-py")
    monkeypatch.setenv("VT_SHARED_DATASETS", str(tmp_path / "shared"))
    monkeypatch.setenv("VT_DATA_DIR", str(tmp_path / "default"))
    assert len(data.load("cifar10").train) == 15  # no data_dir: the default folder, then the shared one
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataNotFoundError, match="CIFAR-10 not found") as info:
        data.load("cifar10", data_dir=tmp_path / "empty")
    assert "shared" not in str(info.value)
    for name in ("cifar10", "tiny-imagenet", "imagenet"):
        with pytest.raises(DataNotFoundError, match=f"data_dir {tmp_path / 'nope'} does not exist"):
            data.load(name, data_dir=tmp_path / "nope")


# Tiny ImageNet --------------------------------------------------------------------------------------------


def _tiny_imagenet(root: Path) -> dict:
    """A two-class copy of the official layout, one grayscale image included; returns what it wrote."""
    wnids = ["n02", "n01"]
    (root / "val" / "images").mkdir(parents=True)
    (root / "wnids.txt").write_text("\n".join(wnids) + "\n")
    (root / "words.txt").write_text("n01\tgoldfish, Carassius auratus\nn02\tsalamander\nn99\tunused\n")
    boxes = {}
    for wnid in wnids:
        folder = root / "train" / wnid / "images"
        folder.mkdir(parents=True)
        lines = []
        for i in range(3):
            name = f"{wnid}_{i}.JPEG"
            gray = wnid == "n01" and i == 0
            image = torch.full((1 if gray else 3, 64, 64), 100 + i, dtype=torch.uint8)
            (folder / name).write_bytes(encode(image))
            boxes[name] = [i, i + 1, 60 - i, 61]
            lines.append(f"{name}\t" + "\t".join(map(str, boxes[name])))
        (root / "train" / wnid / f"{wnid}_boxes.txt").write_text("\n".join(lines) + "\n")
    annotations = [("val_1.JPEG", "n02", [1, 2, 3, 4]), ("val_0.JPEG", "n01", [5, 6, 7, 8])]
    for name, _, _ in annotations:
        (root / "val" / "images" / name).write_bytes(encode(torch.zeros(3, 64, 64, dtype=torch.uint8), "PNG"))
    (root / "val" / "val_annotations.txt").write_text(
        "\n".join(f"{n}\t{w}\t" + "\t".join(map(str, b)) for n, w, b in annotations) + "\n")
    return {"boxes": boxes}


def test_tiny_imagenet_reads_layout_labels_boxes_and_grayscale(tmp_path):
    written = _tiny_imagenet(tmp_path / "tiny-imagenet-200")
    d = data.load("tiny-imagenet", data_dir=tmp_path)
    assert d.extra["wnids"] == ["n01", "n02"] and d.classes == ["goldfish", "salamander"]
    assert d.train.images.shape == (6, 3, 64, 64) and d.train.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert d.train.boxes[0].tolist() == written["boxes"]["n01_0.JPEG"]
    assert d.train.images[0].float().std(0).max() < 1  # the grayscale image became equal R, G, B
    assert d.eval.labels.tolist() == [0, 1] and d.eval.boxes.tolist() == [[5, 6, 7, 8], [1, 2, 3, 4]]


def test_tiny_imagenet_from_zip_and_from_split_tar_match_the_folder(tmp_path):
    _tiny_imagenet(tmp_path / "tree" / "tiny-imagenet-200")
    reference = data.load("tiny-imagenet", data_dir=tmp_path / "tree")
    (tmp_path / "z").mkdir()
    with zipfile.ZipFile(tmp_path / "z" / "tiny-imagenet-200.zip", "w") as z:
        for file in sorted((tmp_path / "tree").rglob("*")):
            if file.is_file():
                z.write(file, file.relative_to(tmp_path / "tree").as_posix())
    (tmp_path / "p").mkdir()
    blob = _tar(tmp_path / "whole.tar.gz", tmp_path / "tree" / "tiny-imagenet-200").read_bytes()
    third = len(blob) // 3 + 1
    for i in range(3):
        (tmp_path / "p" / f"tiny-imagenet-200.tar.gz.part{i}").write_bytes(blob[i * third : (i + 1) * third])
    for folder in ("z", "p"):
        d = data.load("tiny-imagenet", data_dir=tmp_path / folder)
        assert torch.equal(d.train.images, reference.train.images) and torch.equal(d.eval.boxes, reference.eval.boxes)


def test_tiny_imagenet_without_boxes_is_incomplete(tmp_path):
    _tiny_imagenet(tmp_path / "tiny-imagenet-200")
    (tmp_path / "tiny-imagenet-200" / "train" / "n02" / "n02_boxes.txt").unlink()
    with pytest.raises(DataError, match="no box or no image"):
        data.load("tiny-imagenet", data_dir=tmp_path)


# ImageNet -------------------------------------------------------------------------------------------------


def test_imagenet_folder_streams_batches(tmp_path):
    for split in ("train", "val"):
        for k, wnid in enumerate(["n1", "n2"]):
            folder = tmp_path / "imagenet" / split / wnid
            folder.mkdir(parents=True)
            for i in range(3):
                image = torch.randint(0, 256, (3, 40 + 10 * i, 50), dtype=torch.uint8)
                (folder / f"{i}.JPEG").write_bytes(encode(image))
    d = data.load("imagenet", data_dir=tmp_path)
    assert d.classes == ["n1", "n2"] and len(d.train) == 6
    batches = list(data.make_loader(d, "train", batch_size=2, resolution=32).epoch(0))
    assert len(batches) == 3 and batches[0][0].shape == (2, 3, 32, 32)
    evals = list(data.make_loader(d, "eval", batch_size=4, resolution=32).epoch(0))
    assert torch.cat([y for _, y in evals]).tolist() == [0, 0, 0, 1, 1, 1]
    with pytest.raises(DataError, match="downloaded automatically"):
        data.load("imagenet", data_dir=tmp_path, download=True)
    before = d.fingerprint()
    (tmp_path / "imagenet" / "val" / "n2" / "0.JPEG").write_bytes(encode(torch.zeros(3, 40, 50, dtype=torch.uint8)))
    assert data.load("imagenet", data_dir=tmp_path).fingerprint() != before  # a folder split hashes its files


def test_imagenet_val_must_be_in_class_folders(tmp_path):
    (tmp_path / "imagenet" / "train" / "n1").mkdir(parents=True)
    (tmp_path / "imagenet" / "train" / "n1" / "a.JPEG").write_bytes(encode(torch.zeros(3, 8, 8, dtype=torch.uint8)))
    (tmp_path / "imagenet" / "val").mkdir()
    with pytest.raises(DataError, match="no images|class folders"):
        data.load("imagenet", data_dir=tmp_path)


def test_subset_draws_from_every_class():
    d = data.load("synthetic", train_size=600, eval_size=60)
    part = data.subset(d.train, 60)
    assert len(part) == 60 and len(set(part.labels.tolist())) == d.num_classes
    assert part.masks.shape[0] == 60


def test_class_subset_keeps_every_kth_class_relabelled_with_boxes():
    images = torch.zeros(20, 3, 8, 8, dtype=torch.uint8)
    labels = torch.arange(10).repeat_interleave(2)  # 10 classes, 2 images each, sorted by class
    boxes = torch.arange(80, dtype=torch.int16).view(20, 4)
    full = data.Dataset("tiny-imagenet", data.Split(images, labels, boxes=boxes), data.Split(images[::2], labels[::2],
                        boxes=boxes[::2]), [f"c{i}" for i in range(10)], (0.5,) * 3, (0.5,) * 3, "crop_flip",
                        extra={"wnids": [f"n{i}" for i in range(10)]})
    part = data.class_subset(full, 3)  # every third class: 0, 3, 6
    assert part.classes == ["c0", "c3", "c6"] and part.extra["wnids"] == ["n0", "n3", "n6"]
    assert part.train.labels.tolist() == [0, 0, 1, 1, 2, 2] and part.eval.labels.tolist() == [0, 1, 2]
    assert torch.equal(part.train.boxes, boxes[[0, 1, 6, 7, 12, 13]]) and part.fingerprint() != full.fingerprint()
    assert len(full.train) == 20  # the original is left as it was
    with pytest.raises(ConfigError, match="between 1 and 10"):
        data.class_subset(full, 11)
    with pytest.raises(ConfigError, match="real data set"):
        data.load("synthetic", classes=3)


def test_decode_error_names_the_image(tmp_path):
    from vt.data.base import decode_all

    good = encode(torch.zeros(3, 8, 8, dtype=torch.uint8))
    with pytest.raises(DataError, match="image 1 of test"):
        decode_all([good, b"\xff\xd8garbage"], 8, "test")
    with pytest.raises(DataError, match="expected 4x4"):
        decode_all([good], 4, "test")

