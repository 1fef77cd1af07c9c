"""``train(config) -> history``: the one training loop of the collection, also ``python -m vt.train --help``.

Resumable exactly: a checkpoint after every epoch (written atomically) holds the model, optimizer and
scheduler states, every random-number generator and the epoch reached; the data order and augmentation of
an epoch depend only on ``(seed, epoch)`` (``vt.data.loader``), so a run stopped or killed and resumed ends
with the same weights, bit for bit on CPU, as the run left alone. Multi-GPU and multi-node through
``torchrun --nproc_per_node=N -m vt.train ...`` (DDP; gloo on CPU, NCCL on GPUs).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import sys
import time
import typing
from contextlib import nullcontext
from dataclasses import MISSING, dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist
from torch import nn

from vt.config import HELP, TrainConfig
from vt.data import Dataset, load, make_loader
from vt.epoch import Parts, evaluate, train_epoch
from vt.errors import ConfigError, entry_point
from vt.models import arguments, create
from vt.run_checkpoint import COLUMNS, RunCheckpoint, config_record

# torch.compile on a machine with a CUDA toolkit but no GPU logs, once, that it found no CUDA runtime, with the path
# of torch's own install: expected on a CPU, and not part of any result. (With a GPU it is never logged.)
logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)



@dataclass
class Result:
    """A finished (or stopped) run: the trained model (unwrapped, on its training device) and its history."""

    model: nn.Module
    history: pd.DataFrame


def train(config: TrainConfig, data: Dataset | None = None) -> pd.DataFrame:
    """Train ``config.model`` on ``config.dataset`` and return the per-epoch history (columns ``COLUMNS``).

    ``data`` may be passed in to share one loaded data set between runs (a notebook comparing models).
    With ``config.checkpoint_dir`` set, ``checkpoint.pt``, ``history.csv``, ``config.json`` and, for a single
    process, ``predictions.npy`` (the last evaluation's predicted class of each eval image, int16, in the split's
    order: what a paired comparison of two runs over the same test images needs) are kept there, and a finished
    run found there returns its history at once.

    Raises:
        ConfigError: for a bad parameter, a resolution too small for the model, or a checkpoint from another run
            (another config, or the same config on other data: see ``Dataset.fingerprint``).
        DataError: for missing or corrupt data.
    """
    return fit(config, data).history


def fit(config: TrainConfig, data: Dataset | None = None) -> Result:
    """As ``train``, and also return the trained model (for attention maps, or a check across DDP ranks)."""
    rank, world, local_rank = _start_distributed(config)
    try:
        run = _Run(config, data, rank, world, local_rank)
        return Result(run.model, run.run())
    finally:
        if world > 1:
            dist.destroy_process_group()


class _Run:
    """One training run: set up (``_build``), resumed from its checkpoint folder if it has one
    (``vt.run_checkpoint``), then epochs of training and evaluation (``vt.epoch``) until its last epoch or its
    time budget, checkpointed after each."""

    def __init__(self, config: TrainConfig, data: Dataset | None, rank: int, world: int, local_rank: int) -> None:
        self.config, self.rank = config, rank
        device = _prepare_device(config, local_rank)
        self.data = _data(config, data)
        self.model_kwargs = _model_kwargs(config, self.data.num_classes)
        self.parts = _build(config, self.data, self.model_kwargs, device, rank, world)
        self.model = self.parts.model
        self.checkpoint = RunCheckpoint(config.checkpoint_dir, {
            **config.identity(), "model_kwargs": self.model_kwargs, "world_size": world,
            "data": self.data.fingerprint()}, config.resume)
        self.epoch, self.history = self.checkpoint.restore(self.parts)
        self.parts.net = _wrap(self.parts.model, config, device, world)

    def run(self) -> pd.DataFrame:
        config, parts = self.config, self.parts
        last = config.epochs if not config.stop_after else min(config.epochs, config.stop_after)
        started = time.perf_counter()
        bar = self._bar(last)
        record = config_record(config, self.model_kwargs, environment(parts.device), parts.world, self.data.source,
                               self.checkpoint.identity["data"])
        while self.epoch < last:
            if config.time_limit_min and self.history and self.epoch > 0:
                elapsed = time.perf_counter() - started
                if elapsed + self.history[-1]["epoch_time_s"] > 60 * config.time_limit_min:
                    break
            row = train_epoch(parts, self.epoch, config.label_smoothing, config.grad_clip, bar)
            evaluation, predictions = evaluate(parts)
            row["epoch_time_s"] += evaluation.pop("eval_time_s")
            row.update(evaluation)
            row["wall_time_s"] = (self.history[-1]["wall_time_s"] if self.history else 0.0) + row["epoch_time_s"]
            self.history.append(row)
            self.epoch += 1
            if self.rank == 0:
                self.checkpoint.save(parts, self.epoch, self.history, predictions, record)
            if bar is not None:
                bar.set_postfix(epoch=self.epoch, eval_acc=f"{row['eval_acc']:.3f}")
        if bar is not None:
            bar.close()
        return pd.DataFrame(self.history, columns=COLUMNS)

    def _bar(self, last: int):
        if not self.config.progress or self.rank != 0 or self.epoch >= last:
            return None
        from tqdm import tqdm  # the text bar: papermill notebooks have no widgets

        steps = len(self.parts.train_loader)
        return tqdm(total=steps * last, initial=steps * self.epoch, desc=self.config.model, unit="step",
                    mininterval=2, dynamic_ncols=True, file=sys.stdout)


def _prepare_device(config: TrainConfig, local_rank: int) -> torch.device:
    """The run's device, with all CPU cores (shared among local processes, unless ``OMP_NUM_THREADS`` says) or the
    GPU's fast paths (cuDNN's algorithm search, TF32 matmuls) set up."""
    device = resolve_device(config.device, local_rank)
    if device.type == "cpu":
        cores = len(os.sched_getaffinity(0)) // int(os.environ.get("LOCAL_WORLD_SIZE", 1))
        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", 0)) or max(1, cores))
    else:
        torch.backends.cudnn.benchmark = True
        torch.set_float32_matmul_precision("high")
    return device


def _data(config: TrainConfig, data: Dataset | None) -> Dataset:
    """``data``, or the config's data set loaded.

    Raises:
        ConfigError: for data of another data set than the config's.
    """
    data = data if data is not None else load(
        config.dataset, data_dir=config.data_dir or None, resolution=config.resolution,
        train_size=config.train_size, eval_size=config.eval_size, seed=config.seed, progress=config.progress,
    )
    if data.name != config.dataset:
        raise ConfigError(f"data set {data.name!r} passed for a config of dataset {config.dataset!r}")
    return data


def _build(config: TrainConfig, data: Dataset, model_kwargs: dict, device: torch.device, rank: int,
           world: int) -> Parts:
    """The parts a run trains with: the model initialized from ``config.seed`` (its resolution checked), its
    optimizer and per-step schedule, and this rank's loaders; the net is the model itself until ``_wrap``."""
    if config.batch_size % world:
        raise ConfigError(f"batch_size {config.batch_size} does not split over {world} processes")
    torch.manual_seed(config.seed)
    model = create(config.model, **model_kwargs)
    _check_resolution(model, config)
    model.to(device, memory_format=torch.channels_last if config.channels_last else torch.contiguous_format)
    optimizer = _optimizer(model, config)
    loader_args = dict(batch_size=config.batch_size // world, device=device, resolution=config.resolution,
                       seed=config.seed, rank=rank, world_size=world, channels_last=config.channels_last)
    train_loader = make_loader(data, "train", augment=config.augment or None, **loader_args)
    eval_loader = make_loader(data, "eval", **loader_args)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _schedule(config, steps_per_epoch=len(train_loader)))
    bf16 = config.precision == "bf16" or (config.precision == "auto" and device.type == "cuda")
    autocast = torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else nullcontext()
    return Parts(model, model, optimizer, scheduler, train_loader, eval_loader, autocast, device, world)


def _wrap(model: nn.Module, config: TrainConfig, device: torch.device, world: int) -> nn.Module:
    """The net that trains ``model``: DDP over the processes, then ``torch.compile`` if the config asks."""
    net: nn.Module = model
    if world > 1:
        net = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    if config.compile_model:
        net = torch.compile(net)
    return net


def _start_distributed(config: TrainConfig) -> tuple[int, int, int]:
    """Join the process group that ``torchrun`` set up (rank, world size, local rank); (0, 1, 0) alone."""
    world = int(os.environ.get("WORLD_SIZE", 1))
    if world == 1:
        return 0, 1, 0
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    cuda = config.device != "cpu" and torch.cuda.is_available()
    if cuda:
        torch.cuda.set_device(local_rank)
    dist.init_process_group("nccl" if cuda else "gloo")
    return dist.get_rank(), world, local_rank


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """The device a ``device`` setting names: ``auto`` is this process's GPU where torch sees one, else the CPU.

    Raises:
        ConfigError: for a name torch does not know, or ``cuda`` where torch sees no GPU.
    """
    if name == "auto":
        return torch.device(f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"device must be auto, cpu, cuda, cuda:N or mps, got {name!r}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' asked for, but torch sees no GPU; use device='auto' or 'cpu'")
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", local_rank)
    return device


def _model_kwargs(config: TrainConfig, num_classes: int) -> dict:
    """The model's keyword arguments: the config's, ``num_classes`` from the data, ``small_input`` below 128 px."""
    kwargs = {"num_classes": num_classes, **config.model_kwargs}
    takes = arguments(config.model)
    if "small_input" in takes and "small_input" not in config.model_kwargs:
        kwargs["small_input"] = config.resolution < 128
    unknown = sorted(set(kwargs) - set(takes))
    if unknown:
        raise ConfigError(f"model {config.model!r} takes no argument {', '.join(unknown)}; it takes: {', '.join(takes)}")
    return kwargs


def _check_resolution(model: nn.Module, config: TrainConfig) -> None:
    """Refuse a resolution the model cannot use: one where a strided layer would downsample a 1x1 map (its
    later stages would see nothing but padding), or one the forward pass fails on."""
    degenerate: list[str] = []

    def hook(layer: nn.Module, inputs: tuple) -> None:
        stride = layer.stride if isinstance(layer.stride, int) else max(layer.stride)
        if stride > 1 and min(inputs[0].shape[-2:]) == 1:
            degenerate.append(type(layer).__name__)

    handles = [m.register_forward_pre_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.MaxPool2d))]
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, config.resolution, config.resolution))
    except RuntimeError as error:
        degenerate.append(str(error).strip().splitlines()[0])
    finally:
        model.train()
        for handle in handles:
            handle.remove()
    if degenerate:
        raise ConfigError(f"resolution {config.resolution} is too small for {config.model}: a strided "
                          f"{degenerate[0]} would see a 1x1 feature map")


def _optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    params = model.parameters()
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, nesterov=config.nesterov and config.momentum > 0,
                               weight_decay=config.weight_decay)
    cls = torch.optim.Adam if config.optimizer == "adam" else torch.optim.AdamW
    return cls(params, lr=config.lr, weight_decay=config.weight_decay)


def _schedule(config: TrainConfig, steps_per_epoch: int):
    """The learning-rate factor at each step: linear warm-up, then cosine to 0, steps of ``step_gamma``, or flat."""
    warmup = round(config.warmup_epochs * steps_per_epoch)
    total = config.epochs * steps_per_epoch

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if config.schedule == "cosine":
            return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))
        if config.schedule == "step":
            return config.step_gamma ** (step // (config.step_epochs * steps_per_epoch))
        return 1.0

    return factor


@torch.no_grad()
def predict(net: nn.Module, data: Dataset, batch_size: int, resolution: int, precision: str) -> np.ndarray:
    """Top-1 predictions of ``net`` on ``data``'s eval split, computed as a run evaluates (``vt.epoch.evaluate``: eval
    mode, channels_last, bf16 autocast for ``precision="bf16"``, on CPU), in the order of the run's
    ``predictions.npy``: what checks shipped weights (``vt.weights``) against the run that made them."""
    net = net.eval().to(memory_format=torch.channels_last)
    loader = make_loader(data, "eval", batch_size=batch_size, device=torch.device("cpu"), resolution=resolution,
                         rank=0, world_size=1, channels_last=True)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bf16" else nullcontext()
    found = []
    for images, _ in loader.epoch(0):
        with autocast:
            found.append(net(images).float().argmax(1))
    return torch.cat(found).numpy()


def environment(device: torch.device) -> dict:
    """Where a run or a measurement was made: device name, torch version, CPU threads, host."""
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name()
    return {"device": str(device), "device_name": name, "torch": torch.__version__, "threads": torch.get_num_threads(),
            "cpus": len(os.sched_getaffinity(0)), "python": platform.python_version(), "host": platform.node()}


def machine_name(env: dict) -> str:
    """A machine as ``environment`` records it: the CPU and its cores, or the GPU."""
    cores = env.get("cpus")
    return f"{env.get('device_name', '?')}, {cores} cores" if env.get("device") == "cpu" and cores else env.get(
        "device_name", "?")


def cpu_name(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name (from ``cpuinfo`` on Linux), else what ``platform`` knows (often only the architecture)."""
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                return value.strip()
    return platform.processor() or platform.machine()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m vt.train", description="Train a model of the Visual Transformers reproduction.",
        epilog="Multi-GPU: torchrun --nproc_per_node=N -m vt.train ...",
    )
    hints = typing.get_type_hints(TrainConfig)
    choices = TrainConfig.choices()
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        default = f.default_factory() if f.default_factory is not MISSING else f.default
        if hints[f.name] is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=HELP[f.name])
        elif hints[f.name] is dict:
            parser.add_argument(flag, type=str, default=json.dumps(default), help=f"{HELP[f.name]} (default: %(default)s)")
        else:
            # Choices are listed, not enforced by argparse: TrainConfig refuses a bad one in one line.
            among = f"; one of: {', '.join(repr(c) for c in choices[f.name])}" if f.name in choices else ""
            parser.add_argument(flag, type=hints[f.name], default=default, help=f"{HELP[f.name]} (default: {default!r}{among})")
    return parser


@entry_point
def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; bad input ends with one line on stderr and exit status 2 (``vt.errors.entry_point``)."""
    args = _parser().parse_args(argv)
    history = train(TrainConfig(**vars(args)))
    if int(os.environ.get("RANK", 0)) == 0 and len(history):
        print(history.tail(1).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
