"""Training and inference images/s of models side by side: ``python -m vt.bench --help``.

Models are measured in interleaved rounds (model A, B, A, B, ...) on the same device in one process, so
that a VT model and its ResNet see the same machine state; the median round is reported. Each row also
holds the model's forward FLOPs per image (fvcore, ``vt.flops``), so that the measured speed ratio can be
set against the FLOPs ratio the paper's efficiency claim predicts.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F

from vt import flops
from vt.config import MIN_RESOLUTION
from vt.errors import ConfigError, entry_point
from vt.models import arguments, create
from vt.train import environment, resolve_device


def throughput(
    models: list[str],
    resolution: int,
    batch_size: int,
    *,
    num_classes: int = 10,
    device: str = "auto",
    steps: int = 10,
    warmup: int = 3,
    rounds: int = 3,
    channels_last: bool = True,
    precision: str = "auto",
    compile_model: bool = False,
) -> pd.DataFrame:
    """One row per (model, mode) with ``images_per_s`` (median of ``rounds``; ``images_per_s_min``/``_max``, the
    slowest and fastest round) and the setting it was measured in.

    ``mode`` is ``train`` (forward, backward and an SGD step) or ``infer`` (forward under ``no_grad``, eval mode).
    Models that take ``small_input`` get it below 128 px, as in training.
    """
    if not models or batch_size < 1 or steps < 1 or rounds < 1:
        raise ConfigError("need at least one model and positive batch_size, steps and rounds")
    if resolution < MIN_RESOLUTION:
        raise ConfigError(f"resolution must be at least {MIN_RESOLUTION}, got {resolution}")
    dev = resolve_device(device)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    bf16 = precision == "bf16" or (precision == "auto" and dev.type == "cuda")
    autocast = torch.autocast(dev.type, dtype=torch.bfloat16) if bf16 else nullcontext()
    x = torch.randn(batch_size, 3, resolution, resolution, device=dev).contiguous(memory_format=fmt)
    y = torch.randint(num_classes, (batch_size,), device=dev)

    runners, counts = {}, {}
    for name in models:
        kwargs = {"num_classes": num_classes}
        if "small_input" in arguments(name):
            kwargs["small_input"] = resolution < 128
        torch.manual_seed(0)
        model = create(name, **kwargs)
        counts[name] = flops.count(model, (3, resolution, resolution))
        model.to(dev, memory_format=fmt)
        net = torch.compile(model) if compile_model else model
        runners[name] = _runners(model, net, torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9), x, y, autocast)

    times: dict[tuple[str, str], list[float]] = {}
    for round_ in range(rounds + 1):  # round 0 warms up (and compiles)
        for name in models:
            for mode, step in runners[name].items():
                seconds = _time(step, steps if round_ else warmup, dev)
                if round_:
                    times.setdefault((name, mode), []).append(seconds)

    env = environment(dev)
    rows = []
    for (name, mode), seconds in times.items():
        rows.append({
            "model": name, "mode": mode, "resolution": resolution, "batch_size": batch_size,
            "images_per_s": batch_size * steps / statistics.median(seconds),
            "images_per_s_min": batch_size * steps / max(seconds), "images_per_s_max": batch_size * steps / min(seconds),
            "rounds": len(seconds),
            # every round's images/s, in order: the models take turns each round, so round i of two models pairs
            "images_per_s_rounds": " ".join(f"{batch_size * steps / s:.2f}" for s in seconds),
            "mflops": counts[name].flops / 1e6, "params_m": counts[name].params / 1e6,
            "precision": "bf16" if bf16 else "fp32", "channels_last": channels_last, "compiled": compile_model,
            **env,
        })
    return pd.DataFrame(rows)


def _runners(model, net, optimizer, x, y, autocast) -> dict:
    def train_step() -> None:
        model.train()
        with autocast:
            loss = F.cross_entropy(net(x).float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    @torch.no_grad()
    def infer_step() -> None:
        model.eval()
        with autocast:
            net(x)

    return {"train": train_step, "infer": infer_step}


def _time(step, count: int, device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    for _ in range(count):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


def compare(table: pd.DataFrame) -> pd.DataFrame:
    """For each ``vt_X`` beside its ``X`` (same resolution and mode): measured speed ratio vs FLOPs ratio.

    ``speed_ratio`` = images/s of VT over ResNet; ``flops_ratio`` = ResNet FLOPs over VT FLOPs, the speed-up
    that FLOPs alone would predict. ``speed_ratio / flops_ratio`` below 1 means VT runs slower than its FLOPs say.
    Where the table has each round's speed (``images_per_s_rounds``), ``efficiency_min``/``_max`` are the lowest
    and highest efficiency of a round: the two models took turns within each round, so a round's ratio pairs
    measurements made under the same load.
    """
    rows = []
    for (resolution, mode), group in table.groupby(["resolution", "mode"]):
        by_model = group.set_index("model")
        for name in by_model.index:
            base = name.removeprefix("vt_")
            if name.startswith("vt_") and base in by_model.index:
                vt, ref = by_model.loc[name], by_model.loc[base]
                speed, predicted = vt.images_per_s / ref.images_per_s, ref.mflops / vt.mflops
                row = {"model": name, "baseline": base, "resolution": resolution, "mode": mode,
                       "speed_ratio": speed, "flops_ratio": predicted, "efficiency": speed / predicted}
                if isinstance(vt.get("images_per_s_rounds"), str) and isinstance(ref.get("images_per_s_rounds"), str):
                    paired = [float(a) / float(b) / predicted for a, b in
                              zip(vt.images_per_s_rounds.split(), ref.images_per_s_rounds.split(), strict=True)]
                    row |= {"efficiency_min": min(paired), "efficiency_max": max(paired)}
                rows.append(row)
    return pd.DataFrame(rows)


@entry_point
def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (user errors: one line, exit status 2): measure, print the table and the VT-vs-ResNet ratios, write CSV if asked."""
    parser = argparse.ArgumentParser(prog="python -m vt.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["resnet18", "vt_resnet18"])
    parser.add_argument("--resolution", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--num-classes", type=int, default=10)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"])
    parser.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--compile-model", action=argparse.BooleanOptionalAction, default=False)
    parser.add_argument("--out", type=Path, help="CSV file to write")
    parser.add_argument("--append", action="store_true",
                        help="add the rows to --out if it exists (one table for several settings)")
    args = parser.parse_args(argv)
    for name in args.models:  # bad input fails at once, not after the settings before it were measured
        arguments(name)
    resolve_device(args.device)
    if min(args.resolution) < MIN_RESOLUTION:
        raise ConfigError(f"resolution must be at least {MIN_RESOLUTION}, got {min(args.resolution)}")
    columns = ["model", "mode", "resolution", "batch_size", "images_per_s", "mflops", "params_m"]
    tables = []
    if args.out and args.append and args.out.exists():
        tables.append(pd.read_csv(args.out))
    for resolution in args.resolution:  # each resolution printed and saved as soon as it is measured
        print(f"measuring {', '.join(args.models)} at {resolution} px ({args.rounds} rounds of {args.steps} steps)...",
              file=sys.stderr, flush=True)
        table = throughput(args.models, resolution, args.batch_size, num_classes=args.num_classes,
                           device=args.device, steps=args.steps, rounds=args.rounds,
                           channels_last=args.channels_last, precision=args.precision,
                           compile_model=args.compile_model)
        tables.append(table)
        print(table[columns].to_string(index=False, float_format=lambda v: f"{v:.1f}"), flush=True)
        ratios = compare(table)
        if len(ratios):
            print(ratios.to_string(index=False, float_format=lambda v: f"{v:.3f}"), flush=True)
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            pd.concat(tables, ignore_index=True).to_csv(args.out, index=False)
    print(f"device: {table.device_name.iloc[0]} ({table.device.iloc[0]}), torch {table.torch.iloc[0]}, "
          f"{table.threads.iloc[0]} threads")
    return 0


if __name__ == "__main__":
    sys.exit(main())
