"""Errors that ``vt`` raises for bad input, each with a message meant to be read in one line."""


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
