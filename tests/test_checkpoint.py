"""vt.checkpoint.atomic_write: all or nothing, and an ordinary file when it succeeds."""

import os

import pytest

from vt.checkpoint import atomic_write


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "state.bin"
    path.write_bytes(b"old")

    def fail(tmp):
        tmp.write_bytes(b"half")
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        atomic_write(path, fail)
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.bin"]


def test_a_written_file_has_the_permissions_of_the_umask(tmp_path):
    path = tmp_path / "sub" / "state.bin"
    umask = os.umask(0o022)
    try:
        atomic_write(path, lambda tmp: tmp.write_bytes(b"new"))
    finally:
        os.umask(umask)
    assert path.read_bytes() == b"new"
    assert path.stat().st_mode & 0o777 == 0o644
