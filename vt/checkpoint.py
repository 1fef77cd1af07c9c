"""Atomic checkpoint and history files, and the random-number state a resumed run needs."""

from __future__ import annotations

import os
import random
import tempfile
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from vt.errors import CheckpointCorruptError, CheckpointMismatchError


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, flush it to disk, then rename it to ``path``.

    A kill at any moment leaves either the old file or the new one, never a half-written one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    tmp = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o666 & ~umask)  # mkstemp makes it private; the result should read like any file written here
    try:
        write(tmp)
        with open(tmp, "rb+") as file:
            os.fsync(file.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def save_array(path: Path, array: np.ndarray) -> None:
    """Write ``array`` as ``.npy`` atomically (through a file object: ``np.save`` would rename a temporary file)."""

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as file:
            np.save(file, array)

    atomic_write(path, write)


def previous(path: Path) -> Path:
    """Where ``save`` keeps the checkpoint it replaces: ``checkpoint.pt`` -> ``checkpoint.prev.pt``."""
    return path.with_suffix(".prev" + path.suffix)


def save(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` (tensors, state dicts, plain values) atomically with ``torch.save``, keeping the checkpoint
    it replaces as ``previous(path)``: a file damaged after it was written (a full disk, a copy cut short) then
    costs one epoch, not the run."""
    if path.exists():
        os.replace(path, previous(path))
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def load_latest(path: Path, identity: dict[str, Any], defaults: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """``load`` the checkpoint at ``path``, or the one ``save`` kept before it where ``path`` is missing or
    unreadable (with a warning: the run goes back one epoch); None when there is neither.

    Raises:
        CheckpointCorruptError: when every checkpoint there is unreadable, naming them.
        CheckpointMismatchError: as ``load``.
    """
    candidates = [p for p in (path, previous(path)) if p.exists()]
    for candidate in candidates:
        try:
            return load(candidate, identity, defaults)
        except CheckpointCorruptError as error:
            warnings.warn(f"{error}; resuming from the checkpoint before it" if candidate == path else str(error))
    if candidates:
        raise CheckpointCorruptError(f"{' and '.join(map(str, candidates))} are unreadable (truncated or damaged); "
                                     "move them aside to start the run again")
    return None


def load(path: Path, identity: dict[str, Any], defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read the checkpoint at ``path``, refusing one written by a run whose config identity differs.

    A field the checkpoint does not know (added to the config after it was written) matches when it holds
    its value in ``defaults``: the old run computed with that behaviour.

    Raises:
        CheckpointMismatchError: naming the differing fields and both values.
        CheckpointCorruptError: for a file torch cannot read.
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:  # a truncated or damaged file
        raise CheckpointCorruptError(f"{path} is unreadable ({type(error).__name__}: {error}); move it aside") from None
    saved = {**(defaults or {}), **state.get("identity", {})}
    differ = sorted(k for k in set(saved) | set(identity) if saved.get(k) != identity.get(k))
    if differ:
        detail = "; ".join(f"{k}: checkpoint {saved.get(k)!r}, now {identity.get(k)!r}" for k in differ[:4])
        raise CheckpointMismatchError(f"{path} belongs to another run ({detail}); choose another checkpoint_dir")
    return state


def rng_state() -> dict[str, Any]:
    """The state of every random-number generator a training step may draw from."""
    return {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore the generators saved by ``rng_state`` (CUDA ones only where the same GPUs are present)."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])
