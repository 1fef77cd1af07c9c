"""Models by name: ``create("vt_resnet18", num_classes=10)``, as timm's ``create_model``."""

from __future__ import annotations

import inspect
from typing import Callable

from torch import nn

from vt.errors import ConfigError

_BUILDERS: dict[str, Callable[..., nn.Module]] = {}
_TASKS: dict[str, str] = {}
TASKS = ("classification", "segmentation")


def register(builder: Callable[..., nn.Module], task: str = "classification") -> Callable[..., nn.Module]:
    """Add a builder to the registry under its function name, for ``task`` (classification by default)."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; tasks: {', '.join(TASKS)}")
    _BUILDERS[builder.__name__] = builder
    _TASKS[builder.__name__] = task
    return builder


def names(task: str = "classification") -> list[str]:
    """The registered model names for ``task``, sorted: classifiers (logits ``(B, K)``) by default, or
    ``"segmentation"`` models (logits ``(B, K, H, W)``)."""
    if task not in TASKS:
        raise ConfigError(f"unknown task {task!r}; tasks: {', '.join(TASKS)}")
    return sorted(name for name in _BUILDERS if _TASKS[name] == task)


def create(name: str, weights: str = "", **kwargs) -> nn.Module:
    """Build the model registered as ``name`` with the builder's keyword arguments; with ``weights`` (a tag of
    ``results/weights/manifest.csv``, e.g. ``"cifar10"``), load those trained weights, their hash checked
    (``vt.weights``).

    Raises:
        ConfigError (a ValueError): for an unknown name or keyword, listing what is allowed, or a value the builder
            refuses.
        vt.weights.WeightsError: for weights not published, missing or damaged.
    """
    builder = _builder(name)
    allowed = list(inspect.signature(builder).parameters)
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise ConfigError(f"model {name!r} takes no argument {', '.join(unknown)}; it takes: {', '.join(allowed)}")
    try:
        model = builder(**kwargs)
    except ConfigError:
        raise
    except (ValueError, TypeError) as error:  # a value the builder refuses
        raise ConfigError(f"model {name!r}: {error}") from None
    if weights:
        from vt.weights import load_into

        load_into(model, name, weights)
    return model


def arguments(name: str) -> dict[str, object]:
    """The keyword arguments of model ``name`` with their defaults."""
    return {k: p.default for k, p in inspect.signature(_builder(name)).parameters.items()}


def _builder(name: str) -> Callable[..., nn.Module]:
    if name not in _BUILDERS:
        known = ", ".join(sorted(_BUILDERS))
        raise ConfigError(f"unknown model {name!r}; known models: {known}")
    return _BUILDERS[name]
