"""The training configuration: one dataclass whose fields are the notebooks' papermill parameters."""

from __future__ import annotations

import functools
import json
import re
import typing
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from vt.errors import ConfigError

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("cosine", "step", "none")
PRECISIONS = ("auto", "bf16", "fp32")
MIN_RESOLUTION = 16  # the smallest side the models (a 4x4 map for the tokenizers) and the synthetic data take

# Fields that change how a run is carried out, not what it computes: a checkpoint may be resumed under other values.
RUNTIME_FIELDS = frozenset(
    {"data_dir", "device", "compile_model", "checkpoint_dir", "resume", "stop_after", "time_limit_min", "progress"}
)


# One line per field for ``python -m vt.train --help`` (the class docstring groups them).
HELP = {
    "model": "model name (vt.models.names())",
    "model_kwargs": "the model's keyword arguments, JSON, e.g. '{\"tokens\": 32}'",
    "dataset": "data set",
    "data_dir": "where to look for data files (default $VT_DATA_DIR or data/)",
    "resolution": "side of the images the model sees, in pixels (stored images are resized on the device)",
    "train_size": "fixed random subset of the training split (0: all)",
    "eval_size": "fixed random subset of the eval split (0: all)",
    "augment": "training augmentation (empty: the data set's own)",
    "epochs": "epochs to train",
    "batch_size": "images per step, over all processes",
    "optimizer": "optimizer",
    "lr": "peak learning rate",
    "momentum": "SGD momentum (Adam's beta1)",
    "nesterov": "Nesterov momentum (SGD)",
    "weight_decay": "L2 weight decay",
    "schedule": "learning-rate schedule, per step, after the warm-up",
    "warmup_epochs": "linear warm-up, in epochs (may be fractional)",
    "step_epochs": "step schedule: epochs between decays",
    "step_gamma": "step schedule: decay factor",
    "label_smoothing": "label smoothing of the cross-entropy",
    "grad_clip": "largest gradient norm (0: no clipping)",
    "precision": "auto: bf16 autocast on a GPU, fp32 on a CPU",
    "channels_last": "channels-last memory format",
    "compile_model": "torch.compile the model",
    "seed": "random seed (initialisation, data order, augmentation)",
    "device": "auto, cpu, cuda, cuda:N or mps",
    "checkpoint_dir": "folder for checkpoint.pt, history.csv, config.json and predictions.npy (empty: none)",
    "resume": "continue the run found in checkpoint_dir",
    "stop_after": "stop, checkpointed, after this many epochs in total (0: never)",
    "time_limit_min": "stop, checkpointed, before an epoch would end past this many minutes (0: none)",
    "progress": "a progress bar",
}


@dataclass
class TrainConfig:
    """Everything that defines a training run (the paper's recipe, Sec. 5.1, is SGD with momentum and a
    decaying learning rate; the earlier report first trained with Adam).

    Model and data:
        model: a name from ``vt.models.names()``; model_kwargs: its keyword arguments (a dict or JSON text).
            ``num_classes`` comes from the data; ``small_input`` (the 3x3 stem for 32-64 px images) defaults to
            True below 128 px for the models that take it.
        dataset: ``synthetic`` (default, offline), ``cifar10``, ``tiny-imagenet`` or ``imagenet``; data_dir: where
            to look for files (default ``$VT_DATA_DIR`` or ``data/``); resolution: side of the images the model sees
            (64x64 Tiny ImageNet is upscaled on the device when 224); train_size / eval_size: a fixed random
            subset (0 = all; synthetic: 5,000 / 1,000); augment: train augmentation (empty = the data set's).
    Optimization:
        epochs, batch_size (over all processes), optimizer (sgd, adam, adamw), lr, momentum, nesterov,
        weight_decay, schedule (cosine, step, none; per step, after a linear warm-up of warmup_epochs),
        step_epochs / step_gamma (step schedule), label_smoothing, grad_clip (largest gradient norm; 0 = none).
    Speed:
        precision (auto = bf16 autocast on GPU, fp32 on CPU), channels_last, compile_model (torch.compile).
    Run:
        seed, device (auto, cpu, cuda, cuda:N), checkpoint_dir (empty = none), resume (continue the run found
        there), stop_after (stop after this many epochs in total, checkpointed), time_limit_min (stop,
        checkpointed, before an epoch that would end past this budget; a notebook shares it among its runs),
        progress (a tqdm bar).
    """

    model: str = "vt_resnet20"
    model_kwargs: dict = field(default_factory=dict)
    dataset: str = "synthetic"
    data_dir: str = ""
    resolution: int = 32
    train_size: int = 0
    eval_size: int = 0
    augment: str = ""
    epochs: int = 10
    batch_size: int = 128
    optimizer: str = "sgd"
    lr: float = 0.05
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    schedule: str = "cosine"
    warmup_epochs: float = 0.0
    step_epochs: int = 30
    step_gamma: float = 0.1
    label_smoothing: float = 0.0
    grad_clip: float = 0.0
    precision: str = "auto"
    channels_last: bool = True
    compile_model: bool = False
    seed: int = 0
    device: str = "auto"
    checkpoint_dir: str = ""
    resume: bool = True
    stop_after: int = 0
    time_limit_min: float = 0.0
    progress: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.model_kwargs, str):
            try:
                self.model_kwargs = json.loads(self.model_kwargs or "{}")
            except json.JSONDecodeError as error:
                raise ConfigError(f"model_kwargs must be a dict or JSON text, got {self.model_kwargs!r}: {error}") from None
        self._check_types()
        self._check_values()

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        """A config from ``values``, refusing keys that are not fields (papermill would ignore them silently)."""
        unknown = sorted(set(values) - {f.name for f in fields(cls)})
        if unknown:
            raise ConfigError(f"unknown training parameter(s) {', '.join(unknown)}; known: {', '.join(f.name for f in fields(cls))}")
        return cls(**values)

    def identity(self) -> dict:
        """The fields that define what the run computes (all but ``RUNTIME_FIELDS``)."""
        return {k: v for k, v in asdict(self).items() if k not in RUNTIME_FIELDS}

    def _check_types(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in fields(self):
            value, expected = getattr(self, f.name), hints[f.name]
            ok = {
                int: isinstance(value, int) and not isinstance(value, bool),
                float: isinstance(value, (int, float)) and not isinstance(value, bool),
                bool: isinstance(value, bool),
                str: isinstance(value, str),
                dict: isinstance(value, dict),
            }[expected]
            if not ok:
                raise ConfigError(f"{f.name} must be {expected.__name__}, got {value!r} ({type(value).__name__})")
            if expected is float:
                setattr(self, f.name, float(value))

    @staticmethod
    def choices() -> dict[str, tuple[str, ...]]:
        """The allowed values of the fields that take one of a few names."""
        from vt.data import DATASETS
        from vt.data.augment import AUGMENTATIONS
        from vt.models import names

        return {
            "model": tuple(names()), "dataset": tuple(DATASETS), "optimizer": OPTIMIZERS, "schedule": SCHEDULES,
            "precision": PRECISIONS, "augment": ("",) + tuple(AUGMENTATIONS),
        }

    def _check_values(self) -> None:
        for name, allowed in self.choices().items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"unknown {name} {getattr(self, name)!r}; choose one of: {', '.join(map(str, allowed))}")
        positive = ("epochs", "batch_size", "resolution", "step_epochs", "lr")
        non_negative = ("train_size", "eval_size", "weight_decay", "warmup_epochs", "momentum", "label_smoothing",
                        "stop_after", "time_limit_min", "seed", "grad_clip")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        for name in non_negative:
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.momentum >= 1 or self.label_smoothing >= 1 or not 0 < self.step_gamma <= 1:
            raise ConfigError("momentum and label_smoothing must be below 1 and step_gamma in (0, 1]")
        if self.warmup_epochs >= self.epochs:
            raise ConfigError(f"warmup_epochs ({self.warmup_epochs}) must be shorter than epochs ({self.epochs})")
        if not re.fullmatch(r"auto|cpu|cuda(:\d+)?|mps", self.device):
            raise ConfigError(f"device must be auto, cpu, cuda, cuda:N or mps, got {self.device!r}")
        if "num_classes" in self.model_kwargs:
            raise ConfigError("model_kwargs must not set num_classes: it comes from the data set")
        if self.resolution < MIN_RESOLUTION:
            raise ConfigError(f"resolution must be at least {MIN_RESOLUTION}, got {self.resolution}")
        if self.checkpoint_dir and Path(self.checkpoint_dir).exists() and not Path(self.checkpoint_dir).is_dir():
            raise ConfigError(f"checkpoint_dir {self.checkpoint_dir} is a file, not a folder")
        _check_model(self.model, json.dumps(self.model_kwargs, sort_keys=True))


@functools.lru_cache(maxsize=None)
def _check_model(name: str, kwargs_json: str) -> None:
    """Build model ``name`` with its keyword arguments on the ``meta`` device (no memory, no arithmetic), so that a
    bad argument (``{"tokenizer": "bogus"}``) is refused when the config is made, before data load or training.

    Raises:
        ConfigError: for an argument the builder does not take or a value it refuses.
    """
    import torch

    from vt.models import create

    with torch.device("meta"):
        create(name, **json.loads(kwargs_json))
