"""The two loops a training run repeats (``vt.train``): one epoch of training steps and one evaluation, each over
the parts the run built once (``Parts``). The loss is the cross-entropy with label smoothing of the recipe; the
learning rate follows the run's schedule step by step; DDP ranks add up their counts."""

from __future__ import annotations

import math
import os
import signal
import threading
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from vt.data import DeviceLoader, FolderLoader

# Set by whoever trains several runs on one device at once (``vt.side_by_side``): how many share it. The history's
# ``shared_by`` column keeps it, since images/s measured so are not a model's own speed.
SHARED_BY_ENV = "VT_SHARED_BY"

# How many times this process was continued after a stop (SIGCONT, as after ``kill -STOP``/``-CONT`` of a campaign
# paused while other work used the machine): an epoch that spans a pause measures the pause, not the model.
_continued = 0


def _count_continue(signum: int, frame: object) -> None:
    global _continued
    _continued += 1


def _watch_pauses() -> None:
    """Count this process's SIGCONTs (once installed; only the main thread may install a signal handler)."""
    on_main = threading.current_thread() is threading.main_thread()
    if on_main and signal.getsignal(signal.SIGCONT) is not _count_continue:
        signal.signal(signal.SIGCONT, _count_continue)


@dataclass
class Parts:
    """What a run trains with, built once: the model, the net that runs it (DDP-wrapped, compiled), its optimizer and
    schedule, the two loaders, the autocast context, the device and the number of processes."""

    model: nn.Module
    net: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    train_loader: DeviceLoader | FolderLoader
    eval_loader: DeviceLoader | FolderLoader
    autocast: object
    device: torch.device
    world: int


def train_epoch(parts: Parts, epoch: int, label_smoothing: float, grad_clip: float, bar=None) -> dict:
    """One pass over the training split (epoch ``epoch``, counted from 0): per batch, the cross-entropy with
    ``label_smoothing`` under autocast, a backward pass, gradients clipped to norm ``grad_clip`` (0: not), an
    optimizer step and a schedule step. Returns the epoch's history row, its mean loss and accuracy over every
    rank's images, the last step's learning rate and the training images/s (``nan`` for an epoch during which the
    process was stopped and continued: its time holds the pause).

    Raises:
        FloatingPointError: when the loss is not finite (the learning rate is too high).
    """
    parts.net.train()
    loss_sum = torch.zeros((), dtype=torch.float64, device=parts.device)
    correct = torch.zeros((), dtype=torch.int64, device=parts.device)
    seen = 0
    _watch_pauses()
    continued = _continued
    _sync(parts.device)
    start = time.perf_counter()
    for images, labels in parts.train_loader.epoch(epoch):
        with parts.autocast:
            logits = parts.net(images)
            loss = F.cross_entropy(logits.float(), labels, label_smoothing=label_smoothing)
        parts.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if grad_clip:
            nn.utils.clip_grad_norm_(parts.model.parameters(), grad_clip)
        parts.optimizer.step()
        lr = parts.scheduler.get_last_lr()[0]
        parts.scheduler.step()
        loss_sum += loss.detach() * len(labels)
        correct += (logits.argmax(1) == labels).sum()
        seen += len(labels)
        if bar is not None:
            bar.update()
    _sync(parts.device)
    elapsed = time.perf_counter() - start
    if parts.world > 1:
        for buffer in parts.model.buffers():  # BatchNorm statistics: rank 0's, so every rank holds one model
            dist.broadcast(buffer, 0)
    loss_sum, correct, seen = _reduce(parts, loss_sum, correct, seen)
    if not math.isfinite(loss_sum):
        raise FloatingPointError(f"training loss is {loss_sum} at epoch {epoch + 1}: lower lr")
    return {"epoch": epoch + 1, "train_loss": loss_sum / seen, "train_acc": correct / seen, "lr": lr,
            "images_per_s": seen / elapsed if _continued == continued else math.nan, "epoch_time_s": elapsed,
            "shared_by": int(os.environ.get(SHARED_BY_ENV, 1))}


@torch.no_grad()
def evaluate(parts: Parts) -> tuple[dict, np.ndarray]:
    """The model in eval mode over the eval split: its loss, top-1 and top-5 accuracy over every rank's images and
    the time it took (``eval_time_s``), and this rank's predicted class of each of its eval images (int16, in the
    split's order)."""
    parts.model.eval()
    start = time.perf_counter()
    loss_sum = torch.zeros((), dtype=torch.float64, device=parts.device)
    top1 = torch.zeros((), dtype=torch.int64, device=parts.device)
    top5 = torch.zeros((), dtype=torch.int64, device=parts.device)
    seen, predicted = 0, []
    for images, labels in parts.eval_loader.epoch(0):
        with parts.autocast:
            logits = parts.model(images).float()
        loss_sum += F.cross_entropy(logits, labels, reduction="sum")
        best = logits.topk(min(5, logits.shape[1]), dim=1).indices
        predicted.append(best[:, 0])
        top1 += (best[:, 0] == labels).sum()
        top5 += (best == labels[:, None]).any(1).sum()
        seen += len(labels)
    loss_sum, top1, top5, seen = _reduce(parts, loss_sum, top1, top5, seen)
    predictions = torch.cat(predicted).to(torch.int16).cpu().numpy()
    _sync(parts.device)
    return ({"eval_loss": loss_sum / seen, "eval_acc": top1 / seen, "eval_top5": top5 / seen,
             "eval_time_s": time.perf_counter() - start}, predictions)


def _reduce(parts: Parts, *values) -> list[float]:
    """``values`` summed over the ranks (as they are with one process), as floats."""
    stacked = torch.tensor([float(v) for v in values], dtype=torch.float64, device=parts.device)
    if parts.world > 1:
        dist.all_reduce(stacked)
    return stacked.tolist()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
