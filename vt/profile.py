"""Where a training step's time goes: ``torch.profiler`` over a few steps of one model, grouped two ways.

* ``by_part``: forward time of each part of the model (backbone stages, and each VT module's tokenizer,
  transformer and projector; the ResNet stage they replace for a ResNet), from profiler ranges that module hooks
  open and close;
* ``by_operator``: the whole step's self time (forward, backward, optimizer) by kind of operator: convolution,
  matrix products, attention (softmax and fused attention), normalization, layout changes and copies, dtype casts,
  element-wise, optimizer, other.

``graph_breaks`` counts what ``torch.compile`` would split the model at (``torch._dynamo.explain``). Run it as::

    python -m vt.profile --models resnet20 vt_resnet20 vit_resnet_cifar --precision bf16 --out results/bench/profile-cpu.csv
"""

from __future__ import annotations

import argparse
import re
from contextlib import nullcontext
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.profiler import ProfilerActivity, profile, record_function

from vt.models import create

# Operator kinds, first match wins (aten names, without the "aten::" prefix).
KINDS = [
    ("attention", r"softmax|_softmax|scaled_dot_product|_scaled_dot|flash|efficient_attention|baddbmm"),
    ("convolution", r"conv|mkldnn_convolution|_convolution"),
    ("matrix product", r"^(mm|bmm|addmm|matmul|linear|_mkldnn_linear|mkldnn_linear|einsum)"),
    ("normalization", r"batch_norm|layer_norm|group_norm|native_batch_norm|native_layer_norm"),
    ("layout and copies", r"copy_|contiguous|clone|_to_copy_channels|permute|transpose|reshape|view|cat|stack|"
                          r"expand|unsqueeze|squeeze|flatten|split|select|slice|as_strided"),
    ("dtype casts", r"^to$|_to_copy"),
    ("optimizer", r"_foreach|sgd|adam|lerp|addcmul|addcdiv"),
    ("element-wise", r"add|mul|div|sub|relu|gelu|threshold|sigmoid|neg|exp|log|sqrt|rsqrt|where|fill|zero|"
                     r"mean|sum|max|pool|dropout|nll|cross_entropy|clamp"),
]


def kind(op: str) -> str:
    """The kind of an operator name (``aten::bmm`` -> ``matrix product``)."""
    name = op.split("::")[-1]
    for label, pattern in KINDS:
        if re.search(pattern, name):
            return label
    return "other"


def _parts(model: nn.Module) -> dict[str, nn.Module]:
    """The modules whose forward time ``by_part`` reports: each VT module's three parts, else the top-level
    children (and the stages of a ``features``/``backbone`` sequence)."""
    parts = {}
    for name, module in model.named_modules():
        depth = name.count(".")
        if re.fullmatch(r"vt\.\d+\.(tokenizer|transformer|projector)", name):
            parts[name] = module
        elif re.fullmatch(r"(features|backbone)\.\d+", name) or (depth == 0 and name and name not in ("vt", "features", "backbone")):
            parts[name] = module
    return parts


def _hooks(parts: dict[str, nn.Module]) -> list:
    handles, open_ranges = [], {}
    for name, module in parts.items():
        def enter(_module, _inputs, name=name):
            open_ranges[name] = record_function(f"part::{name}")
            open_ranges[name].__enter__()

        def leave(_module, _inputs, _output, name=name):
            open_ranges.pop(name).__exit__(None, None, None)

        handles += [module.register_forward_pre_hook(enter), module.register_forward_hook(leave)]
    return handles


def profile_steps(model_name: str, resolution: int = 32, batch_size: int = 128, num_classes: int = 10,
                  precision: str = "bf16", steps: int = 3, warmup: int = 2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Profile ``steps`` SGD training steps of ``model_name`` (eager, channels_last, on CPU or the GPU) after
    ``warmup``; returns ``(by_part, by_operator)`` in milliseconds per step and shares of the step."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(0)
    model = create(model_name, num_classes=num_classes).to(device, memory_format=torch.channels_last).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    images = torch.randn(batch_size, 3, resolution, resolution, device=device).contiguous(memory_format=torch.channels_last)
    labels = torch.randint(num_classes, (batch_size,), device=device)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16) if precision == "bf16" else nullcontext()

    def step() -> None:
        with autocast:
            loss = F.cross_entropy(model(images).float(), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(warmup):
        step()
    handles = _hooks(_parts(model))
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    try:
        with profile(activities=activities) as prof:
            for _ in range(steps):
                with record_function("step"):
                    step()
            if device.type == "cuda":
                torch.cuda.synchronize()
    finally:
        for handle in handles:
            handle.remove()
    events = prof.key_averages()
    use_cuda = device.type == "cuda"
    total = next(e for e in events if e.key == "step")
    step_ms = (total.device_time_total if use_cuda else total.cpu_time_total) / 1e3 / steps
    parts = pd.DataFrame([{"model": model_name, "part": e.key.removeprefix("part::"),
                           "ms": (e.device_time_total if use_cuda else e.cpu_time_total) / 1e3 / steps}
                          for e in events if e.key.startswith("part::")])
    parts["share"] = parts.ms / step_ms
    ops = pd.DataFrame([{"op": e.key, "ms": (e.self_device_time_total if use_cuda else e.self_cpu_time_total) / 1e3 / steps}
                        for e in events if e.key.startswith("aten::")])
    by_kind = ops.assign(kind=ops.op.map(kind)).groupby("kind", as_index=False).ms.sum()
    by_kind = by_kind.assign(model=model_name, share=by_kind.ms / by_kind.ms.sum(), step_ms=step_ms)
    return parts, by_kind.sort_values("ms", ascending=False)[["model", "kind", "ms", "share", "step_ms"]]


def graph_breaks(model_name: str, resolution: int = 32, num_classes: int = 10) -> tuple[int, list[str]]:
    """How many graph breaks ``torch.compile`` would make in the model's forward, and why."""
    import torch._dynamo

    model = create(model_name, num_classes=num_classes).eval()
    explained = torch._dynamo.explain(model)(torch.randn(2, 3, resolution, resolution))
    return explained.graph_break_count, [str(b.reason) for b in explained.break_reasons]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m vt.profile", description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["resnet20", "vt_resnet20", "vit_resnet_cifar"])
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--num-classes", type=int, default=10)
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="bf16")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--out", type=Path, help="CSV of both tables (a 'table' column tells them apart)")
    args = parser.parse_args(argv)
    frames = []
    for name in args.models:
        create(name)  # an unknown name fails here, before any profiling
    for name in args.models:
        parts, kinds = profile_steps(name, args.resolution, args.batch_size, args.num_classes, args.precision, args.steps)
        breaks, _ = graph_breaks(name, args.resolution, args.num_classes)
        print(f"\n{name}: {kinds.step_ms.iloc[0]:.1f} ms a step, {breaks} graph break(s) under torch.compile")
        print(kinds.drop(columns=["model", "step_ms"]).round(3).to_string(index=False))
        print(parts.drop(columns="model").round(3).to_string(index=False))
        frames += [parts.assign(table="by_part", graph_breaks=breaks), kinds.assign(table="by_operator", graph_breaks=breaks)]
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            pd.concat(frames).assign(resolution=args.resolution, batch_size=args.batch_size, precision=args.precision,
                                     device="cuda" if torch.cuda.is_available() else "cpu",
                                     torch=torch.__version__).to_csv(args.out, index=False)


if __name__ == "__main__":
    main()


def markdown(csv_path: str | Path) -> str:
    """README's table from a CSV written by ``python -m vt.profile --out``: per model, its step time, graph breaks
    under ``torch.compile``, and the share of the step each kind of operator takes."""
    table = pd.read_csv(csv_path)
    kinds = table[table.table == "by_operator"]
    order = [label for label, _ in KINDS] + ["other"]
    setting = table.iloc[0]
    lines = [f"| model ({setting.device}, {setting.precision}, batch {setting.batch_size}, {setting.resolution}x"
             f"{setting.resolution}, eager) | ms a step | graph breaks | " + " | ".join(order) + " |",
             "|---|---:|---:|" + "---:|" * len(order)]
    for model, rows in kinds.groupby("model", sort=False):
        share = rows.set_index("kind").share
        cells = " | ".join(f"{100 * share.get(k, 0.0):.0f}%" for k in order)
        lines.append(f"| {model} | {rows.step_ms.iloc[0]:.0f} | {int(rows.graph_breaks.iloc[0])} | {cells} |")
    return "\n".join(lines)
