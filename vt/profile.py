"""Where a training step's time goes: ``torch.profiler`` over a few steps of one model, grouped two ways.

* ``by_part``: forward time of each part of the model (backbone stages, and each VT module's tokenizer,
  transformer and projector; the ResNet stage they replace for a ResNet), from profiler ranges that module hooks
  open and close (eager only: ``torch.compile`` fuses across the parts);
* ``by_operator``: the whole step's self time (forward, backward, optimizer) by kind of operator: convolution,
  weight products (a layer's weights times every image's features: ``mm``), per-image products (two
  activations of one image multiplied, as attention does in eqs. 1-3 and 5: ``bmm``), attention (softmax and
  fused attention), normalization, layout changes and copies, dtype casts, element-wise, optimizer, the kernels
  ``torch.compile`` generated (``fused kernels``: the element-wise work, norms and softmax it fused), other.
  Beside each kind: the GFLOPs it did in the step (``torch.utils.flop_counter``, forward and backward) and the
  GFLOP/s it ran at.

``ceiling`` follows a VT model's efficiency against its ResNet (speed ratio over FLOPs ratio, as ``vt.bench``)
from the 1 its FLOPs promise to the profiled value: the work FLOPs do not count (normalization, activations,
softmax, copies) does not shrink with FLOPs, and each kind of counted work runs at its own rate. ``graph_breaks`` counts what ``torch.compile`` would
split the model at (``torch._dynamo.explain``). Run it as::

    python -m vt.profile --models resnet20 vt_resnet20 vit_resnet_cifar --precision bf16 --out results/bench/profile-cpu.csv
    python -m vt.profile --models resnet20 vt_resnet20 --compile-model --out results/bench/profile-cpu-compiled.csv
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.profiler import ProfilerActivity, profile, record_function

from vt.errors import entry_point
from vt.models import create
from vt.train import resolve_device

# Operator kinds, first match wins (aten names, without the "aten::" prefix).
KINDS = [
    ("attention", r"softmax|_softmax|scaled_dot_product|_scaled_dot|flash|efficient_attention"),
    ("convolution", r"conv|mkldnn_convolution|_convolution"),
    ("per-image product", r"^(bmm|baddbmm)$"),
    ("weight product", r"^(mm|addmm|matmul|linear|_mkldnn_linear|mkldnn_linear|einsum)$"),
    ("normalization", r"batch_norm|layer_norm|group_norm|native_batch_norm|native_layer_norm"),
    ("layout and copies", r"copy_|contiguous|clone|_to_copy_channels|permute|transpose|reshape|view|cat|stack|"
                          r"expand|unsqueeze|squeeze|flatten|split|select|slice|as_strided"),
    ("dtype casts", r"^to$|_to_copy"),
    ("optimizer", r"_foreach|sgd|adam|lerp|addcmul|addcdiv"),
    ("element-wise", r"add|mul|div|sub|relu|gelu|threshold|sigmoid|neg|exp|log|sqrt|rsqrt|where|fill|zero|"
                     r"mean|sum|max|pool|dropout|nll|cross_entropy|clamp"),
]
FUSED = "fused kernels"  # code torch.compile generated: the profiler's "## Call CompiledFxGraph ..." ranges
ORDER = [label for label, _ in KINDS] + [FUSED, "other"]
# The order in which ``ceiling`` gives each kind of counted work the time it took: the products the VT modules
# add first (eqs. 1-5), then the convolutions VT-ResNet shares with its ResNet.
DECOMPOSITION = ["per-image product", "weight product", "convolution"]


def kind(op: str) -> str:
    """The kind of an operator name (``aten::bmm`` -> ``per-image product``; a compiled graph's own code ->
    ``fused kernels``)."""
    if op.startswith("## Call CompiledFxGraph"):
        return FUSED
    name = re.sub(r"^aten(::|\.)", "", op).split(".")[0]  # profiler: aten::bmm; flop counter: aten.bmm
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


def step_flops(step) -> pd.Series:
    """GFLOPs of one training step's forward and backward by kind of operator (``torch.utils.flop_counter``:
    2 FLOPs a multiply-add, as the paper's tables count multiply-adds once, so these are twice ``vt.flops``)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        step()
    counts = pd.Series({str(op): n / 1e9 for op, n in counter.get_flop_counts()["Global"].items()}, dtype=float)
    return counts.groupby(counts.index.map(kind)).sum()


def _trainer(model_name: str, device: torch.device, resolution: int, batch_size: int, num_classes: int,
             precision: str, compiled: bool) -> tuple[nn.Module, Callable[[], None], pd.Series]:
    """A model (channels_last, SGD), a function doing one training step of it on a fixed random batch, and the
    step's GFLOPs by kind (counted on the eager model)."""
    torch.manual_seed(0)
    model = create(model_name, num_classes=num_classes).to(device, memory_format=torch.channels_last).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    images = torch.randn(batch_size, 3, resolution, resolution, device=device).contiguous(memory_format=torch.channels_last)
    labels = torch.randint(num_classes, (batch_size,), device=device)
    forward = torch.compile(model) if compiled else model

    def step(optimize: bool = True, net: nn.Module = forward) -> None:
        with torch.autocast(device.type, dtype=torch.bfloat16) if precision == "bf16" else nullcontext():
            loss = F.cross_entropy(net(images).float(), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if optimize:
            optimizer.step()

    return model, step, step_flops(lambda: step(optimize=False, net=model))


def profile_steps(model_names: Sequence[str], resolution: int = 32, batch_size: int = 128, num_classes: int = 10,
                  precision: str = "bf16", steps: int = 3, warmup: int = 2, compiled: bool = False,
                  rounds: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Profile SGD training steps of each model (channels_last, on CPU or the GPU, eager or under
    ``torch.compile``) after ``warmup``: ``rounds`` times ``steps`` steps, the models taking turns each round so
    that a machine whose speed drifts slows them alike. Returns ``(by_part, by_operator)`` in milliseconds per
    step and shares of the step (``by_part`` is empty when compiled), ``by_operator`` with each kind's GFLOPs
    and GFLOP/s."""
    device = resolve_device("auto")
    use_cuda = device.type == "cuda"
    trainers = {name: _trainer(name, device, resolution, batch_size, num_classes, precision, compiled)
                for name in model_names}
    for _, step, _ in trainers.values():
        for _ in range(warmup):
            step()
    totals: dict[tuple[str, str], float] = defaultdict(float)  # (model, event key) -> ms summed over rounds
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if use_cuda else [])
    for _ in range(rounds):
        for name, (model, step, _) in trainers.items():
            handles = [] if compiled else _hooks(_parts(model))
            try:
                with profile(activities=activities) as prof:
                    for _ in range(steps):
                        with record_function("step"):
                            step()
                    if use_cuda:
                        torch.cuda.synchronize()
            finally:
                for handle in handles:
                    handle.remove()
            for e in prof.key_averages():
                inclusive = e.key == "step" or e.key.startswith("part::")
                if use_cuda:
                    totals[name, e.key] += (e.device_time_total if inclusive else e.self_device_time_total) / 1e3
                else:
                    totals[name, e.key] += (e.cpu_time_total if inclusive else e.self_cpu_time_total) / 1e3
    per_step = pd.Series(totals) / (rounds * steps)
    parts, kinds = [], []
    for name, (_, _, flops) in trainers.items():
        events = per_step[name]
        step_ms = events["step"]
        part = events[events.index.str.startswith("part::")]
        parts.append(pd.DataFrame({"model": name, "part": part.index.str.removeprefix("part::"), "ms": part.values,
                                   "share": part.values / step_ms}))
        ops = events[events.index.str.startswith(("aten::", "## Call CompiledFxGraph"))]
        by_kind = ops.groupby(ops.index.map(kind)).sum().rename_axis("kind").reset_index(name="ms")
        by_kind = by_kind.assign(model=name, share=by_kind.ms / by_kind.ms.sum(), step_ms=step_ms,
                                 gflop=by_kind.kind.map(flops).fillna(0.0), compiled=compiled)
        by_kind["gflop_per_s"] = by_kind.gflop / (by_kind.ms / 1e3)
        columns = ["model", "kind", "ms", "share", "step_ms", "gflop", "gflop_per_s", "compiled"]
        kinds.append(by_kind.sort_values("ms", ascending=False)[columns])
    return pd.concat(parts, ignore_index=True), pd.concat(kinds, ignore_index=True)


def ceiling(model: pd.DataFrame, baseline: pd.DataFrame) -> dict:
    """How a VT model's training efficiency against its ResNet (speed ratio over FLOPs ratio, the FLOPs of the
    whole step) falls from the 1 that FLOPs promise to the profiled value, kind of work by kind of work.

    ``ceiling``: the efficiency if every FLOP-counted kind ran at the ResNet's rate per FLOP while the work FLOPs
    do not count (``gflop == 0``: norms, activations, softmax, copies, the optimizer) took the time it took.
    ``as_run``: the efficiency as each counted kind in turn (``DECOMPOSITION``: per-image products, weight
    products, then the rest) takes the time it took instead; its last value, every kind as it ran, is ``profiled``,
    the profiled efficiency. Both arguments are ``by_operator`` tables of ``profile_steps``. Also returns the FLOPs
    ratio, each model's share of the step that FLOPs do not count, and the VT model's share in the code's own
    layout changes and dtype casts (``code_share``)."""
    counted = baseline.gflop > 0
    flops_ratio = baseline.gflop.sum() / model.gflop.sum()
    rate = baseline.gflop[counted].sum() / baseline.ms[counted].sum()  # GFLOP per ms
    by_kind = model.groupby("kind")[["ms", "gflop"]].sum()
    uncounted_ms = by_kind.ms[by_kind.gflop == 0].sum()
    step_ms = model.gflop.sum() / rate + uncounted_ms

    def efficiency(ms: float) -> float:
        return baseline.ms.sum() / ms / flops_ratio

    ceiling_ = efficiency(step_ms)
    as_run = {}
    order = DECOMPOSITION + [k for k in ORDER if k not in DECOMPOSITION]
    for kind_ in [k for k in order if by_kind.gflop.get(k, 0.0) > 0]:
        step_ms += by_kind.ms[kind_] - by_kind.gflop[kind_] / rate
        as_run[kind_] = efficiency(step_ms)
    return {"ceiling": ceiling_, "as_run": as_run, "profiled": efficiency(model.ms.sum()), "flops_ratio": flops_ratio,
            "uncounted_share": uncounted_ms / model.ms.sum(),
            "code_share": by_kind.ms.reindex(["layout and copies", "dtype casts"]).fillna(0.0).sum() / model.ms.sum(),
            "baseline_uncounted_share": baseline.ms[~counted].sum() / baseline.ms.sum()}


def against_resnets(kinds: pd.DataFrame) -> list[tuple[str, bool, pd.DataFrame, pd.DataFrame]]:
    """Each VT model of a ``by_operator`` table beside its ResNet profiled in the same mode:
    ``(model, compiled, its rows, the ResNet's rows)``, in the table's order."""
    by_run = dict(list(kinds.groupby(["model", "compiled"], sort=False)))
    return [(model, compiled, rows, by_run[(model.removeprefix("vt_"), compiled)])
            for (model, compiled), rows in by_run.items()
            if model.startswith("vt_") and (model.removeprefix("vt_"), compiled) in by_run]


def _rates(kinds: pd.DataFrame) -> dict[str, float]:
    """GFLOP/s of each kind of operator (NaN for a kind the model does not have)."""
    rates = kinds.set_index("kind").gflop_per_s
    return {k: rates.get(k, float("nan")) for k in ORDER}


def graph_breaks(model_name: str, resolution: int = 32, num_classes: int = 10) -> tuple[int, list[str]]:
    """How many graph breaks ``torch.compile`` would make in the model's forward, and why."""
    import torch._dynamo

    model = create(model_name, num_classes=num_classes).eval()
    explained = torch._dynamo.explain(model)(torch.randn(2, 3, resolution, resolution))
    return explained.graph_break_count, [str(b.reason) for b in explained.break_reasons]


@entry_point
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m vt.profile", description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["resnet20", "vt_resnet20", "vit_resnet_cifar"])
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--num-classes", type=int, default=10)
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="bf16")
    parser.add_argument("--steps", type=int, default=3, help="steps profiled per model and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds in which the models take turns")
    parser.add_argument("--modes", nargs="+", choices=["eager", "compiled"], default=["eager", "compiled"],
                        help="profile the eager model, the torch.compile'd one, or both (default)")
    parser.add_argument("--out", type=Path, help="CSV of both tables (a 'table' column tells them apart)")
    args = parser.parse_args(argv)
    frames = []
    for name in args.models:
        create(name)  # an unknown name fails here, before any profiling
    breaks = {name: graph_breaks(name, args.resolution, args.num_classes)[0] for name in args.models}
    for mode in args.modes:
        parts, kinds = profile_steps(args.models, args.resolution, args.batch_size, args.num_classes, args.precision,
                                     args.steps, compiled=mode == "compiled", rounds=args.rounds)
        for name in args.models:
            rows = kinds[kinds.model == name]
            print(f"\n{name} ({mode}): {rows.step_ms.iloc[0]:.1f} ms a step, {breaks[name]} graph break(s) under "
                  "torch.compile")
            print(rows.drop(columns=["model", "step_ms", "compiled"]).round(3).to_string(index=False))
            if (parts.model == name).any():
                print(parts[parts.model == name].drop(columns="model").round(3).to_string(index=False))
        frames += [parts.assign(table="by_part", compiled=mode == "compiled"), kinds.assign(table="by_operator")]
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        table = pd.concat(frames, ignore_index=True)
        table.assign(graph_breaks=table.model.map(breaks), resolution=args.resolution, batch_size=args.batch_size,
                     precision=args.precision, steps=args.steps, rounds=args.rounds,
                     device=resolve_device("auto").type,
                     torch=torch.__version__).to_csv(args.out, index=False)
        print(f"\nwrote {args.out}")


def markdown(csv_path: str | Path) -> str:
    """README's tables from a CSV written by ``python -m vt.profile --out``: per model and mode, its step time,
    graph breaks under ``torch.compile`` and the share of the step each kind of operator takes; then per VT model
    and mode, the rates (GFLOP/s) its kinds of work ran at and the ``ceiling`` on its efficiency against its ResNet
    that the work FLOPs do not count leaves, with a sentence for each compiled VT model. (The efficiency itself
    comes from ``vt.bench``, whose rounds pair the two models more closely than profiled steps do.)"""
    table = pd.read_csv(csv_path)
    kinds = table[table.table == "by_operator"]
    setting = table.iloc[0]
    shown = [k for k in ORDER if (kinds.kind == k).any()]
    lines = [f"| model ({setting.device}, {setting.precision}, batch {setting.batch_size}, {setting.resolution}x"
             f"{setting.resolution}) | mode | ms a step | graph breaks | " + " | ".join(shown) + " |",
             "|---|---|---:|---:|" + "---:|" * len(shown)]
    by_run = dict(list(kinds.groupby(["model", "compiled"], sort=False)))
    for (model, compiled), rows in by_run.items():
        share = rows.set_index("kind").share
        cells = " | ".join(f"{100 * share.get(k, 0.0):.0f}%" for k in shown)
        lines.append(f"| {model} | {'compiled' if compiled else 'eager'} | {rows.step_ms.iloc[0]:.0f} | "
                     f"{int(rows.graph_breaks.iloc[0])} | {cells} |")
    lines += ["", "| VT model vs ResNet | mode | FLOPs ratio (step) | work FLOPs do not count: share of the step "
              "(ResNet → VT) | GFLOP/s: convolution (ResNet → VT), weight products, per-image products (VT) | "
              "efficiency if every counted FLOP ran at the ResNet's rate | ... and the per-image products at "
              "theirs | ... and the weight products at theirs | ... and the convolutions at theirs: profiled |",
              "|---|---|---:|---|---|---:|---:|---:|---:|"]
    found = []
    for model, compiled, rows, base in against_resnets(kinds):
        c, rate, base_rate = ceiling(rows, base), _rates(rows), _rates(base)
        found.append((model, compiled, rows, c, rate, base_rate))
        steps = " | ".join(f"{c['as_run'][k]:.2f}" if k in c["as_run"] else "—" for k in DECOMPOSITION)
        lines.append(f"| {model} vs {model.removeprefix('vt_')} | {'compiled' if compiled else 'eager'} | "
                     f"{c['flops_ratio']:.2f} | {100 * c['baseline_uncounted_share']:.0f}% → "
                     f"{100 * c['uncounted_share']:.0f}% | {base_rate['convolution']:.0f} → "
                     f"{rate['convolution']:.0f}, {rate['weight product']:.0f}, {rate['per-image product']:.0f} | "
                     f"{c['ceiling']:.2f} | {steps} |")
    for model, compiled, rows, c, rate, base_rate in found:
        if compiled:
            lines += ["", _explained(model, rows.set_index("kind").share, c, rate, base_rate)]
    return "\n".join(lines)


def _explained(model: str, share: pd.Series, c: dict, rate: dict, base_rate: dict) -> str:
    """The compiled VT model's efficiency, from the promise of its FLOPs down to the profiled value: what each
    kind of its work costs (``ceiling``)."""
    resnet = model.removeprefix("vt_")
    steps = c["as_run"]

    def kind_(name: str, what: str) -> str:
        return (f"{what} ({100 * share.get(name, 0.0):.0f}% of the step, at "
                f"{rate[name] / base_rate['convolution']:.2f}x {resnet}'s convolution rate per FLOP) take it to "
                f"{steps[name]:.2f}")

    parts = [kind_(k, w) for k, w in [("per-image product", "the per-image products of eqs. 1-3 and 5"),
                                       ("weight product", "the weight products on the tokens")] if k in steps]
    return (f"Compiled, {model} delivers {c['profiled']:.2f} of the speed its FLOPs promise against {resnet}. "
            f"The work FLOPs do not count (normalization, activations, the softmaxes and residual sums of the VT "
            f"modules, the optimizer) takes {100 * c['uncounted_share']:.0f}% of its step ({resnet}: "
            f"{100 * c['baseline_uncounted_share']:.0f}%) and does not shrink with FLOPs: alone it caps the "
            f"efficiency at {c['ceiling']:.2f}. Then " + "; ".join(parts) +
            f"; and its convolutions, at {rate['convolution'] / base_rate['convolution']:.2f}x {resnet}'s rate, "
            f"to the profiled {c['profiled']:.2f}. Each of these is work the method prescribes, at the shapes the "
            f"paper gives it (a few tokens an image); layout changes and dtype casts, the code's own overhead, take "
            f"{100 * c['code_share']:.1f}% of the step.")


if __name__ == "__main__":
    sys.exit(main())
