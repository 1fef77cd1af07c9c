"""Errors that ``vt`` raises for bad input, each with a message meant to be read in one line, and the wrapper that
turns them into that line and exit status 2 on every command line."""

from __future__ import annotations

import functools
import sys
from typing import Callable


class ConfigError(ValueError):
    """A training or notebook parameter is invalid (unknown name, wrong type, out of range)."""


class DataError(RuntimeError):
    """A data set is present but unusable: a corrupt or truncated archive, an incomplete folder."""


class DataNotFoundError(DataError, FileNotFoundError):
    """A data set is not where ``vt`` looked; the message lists the places and what to put there."""


class CheckpointMismatchError(ConfigError):
    """A checkpoint was written by a run with another configuration."""


class CheckpointCorruptError(DataError):
    """A checkpoint file cannot be read (truncated, damaged)."""


def entry_point(main: Callable[[list[str] | None], int | None]) -> Callable[[list[str] | None], int]:
    """A command-line entry point (``main(argv)``) whose user errors, ``ConfigError`` and ``DataError`` of every
    kind (a missing data set, a bad checkpoint or weights file), end with one line on stderr and exit status 2
    instead of a traceback. Every ``python -m vt.<tool>`` uses it; argparse's own errors already exit with 2."""

    @functools.wraps(main)
    def run(argv: list[str] | None = None) -> int:
        try:
            return main(argv) or 0
        except (ConfigError, DataError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2

    return run
