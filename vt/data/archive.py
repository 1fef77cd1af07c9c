"""Read the files of a data set from a folder, a zip, a tar(.gz) or a tar.gz split into parts, alike."""

from __future__ import annotations

import io
import tarfile
import zipfile
import zlib
from pathlib import Path
from typing import Callable, Iterator

from vt.errors import DataError

Member = tuple[str, bytes]


def parts(path: Path) -> list[Path]:
    """``path`` alone, or, for ``x.part0``, every ``x.partN`` beside it in order (as ``cat x.part*`` joins them)."""
    if not path.name.endswith(".part0"):
        return [path]
    stem = path.name[: -len("0")]
    found = sorted(path.parent.glob(stem + "*"), key=lambda p: int(p.name[len(stem) :]))
    return found


def read(path: Path, keep: Callable[[str], bool]) -> Iterator[Member]:
    """``(name, bytes)`` for each file under ``path`` whose name (relative, '/'-separated) satisfies ``keep``.

    ``path`` is a folder, a ``.zip``, a ``.tar``/``.tar.gz``, or the first of ``.tar.gz.partN`` pieces.

    Raises:
        DataError: when the archive is corrupt or truncated.
    """
    try:
        if path.is_dir():
            yield from _read_folder(path, keep)
        elif path.suffix == ".zip":
            yield from _read_zip(path, keep)
        else:
            yield from _read_tar(parts(path), keep)
    except (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise DataError(f"{path} is corrupt or truncated ({type(error).__name__}: {error}); fetch it again") from None


def _read_folder(root: Path, keep: Callable[[str], bool]) -> Iterator[Member]:
    for file in sorted(root.rglob("*")):
        name = file.relative_to(root).as_posix()
        if file.is_file() and keep(name):
            yield name, file.read_bytes()


def _read_zip(path: Path, keep: Callable[[str], bool]) -> Iterator[Member]:
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.is_dir() and keep(info.filename):
                yield info.filename, archive.read(info)


def _read_tar(pieces: list[Path], keep: Callable[[str], bool]) -> Iterator[Member]:
    with _Joined(pieces) as stream, tarfile.open(fileobj=stream, mode="r|*") as archive:
        for member in archive:
            if member.isfile() and keep(member.name):
                data = archive.extractfile(member).read()
                if len(data) != member.size:
                    raise EOFError(f"{member.name} is cut short")
                yield member.name, data


class _Joined(io.RawIOBase):
    """The concatenation of files read as one stream, like ``cat part0 part1 ...``."""

    def __init__(self, pieces: list[Path]) -> None:
        self._pieces = list(pieces)
        self._file = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while True:
            if self._file is None:
                if not self._pieces:
                    return 0
                self._file = open(self._pieces.pop(0), "rb")
            count = self._file.readinto(buffer)
            if count:
                return count
            self._file.close()
            self._file = None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        super().close()
