"""FLOPs and parameter counts, the way the paper counts them (one multiply-add = one FLOP).

Built on fvcore's ``FlopCountAnalysis`` (which traces the model with ``torch.jit.trace``). What is counted:

* convolutions, linear layers, ``matmul``/``bmm``/``einsum``/``mm``/``addmm``: one FLOP per multiply-add
  (fvcore's handles);
* batch norm, layer norm, adaptive average pooling, bilinear/nearest upsampling: fvcore's handles (about
  one FLOP per element);
* ``scaled_dot_product_attention`` (added here): ``Lq*Lk*d`` for the logits plus ``Lq*Lk*dv`` for the
  weighted sum, plus one per logit for the softmax;
* ``softmax`` (added here): one FLOP per element;
* PyTorch's fused multi-head attention (added here; ``nn.TransformerEncoderLayer`` in eval mode): its four
  projections, logits, weighted sum and softmax, counted as above.

What is not counted, and is declared as such so that no op goes unexplained: element-wise additions,
multiplications, activations (ReLU, GELU), dropout, max-pooling, padding and reshapes. This follows the
convention under which torchvision's ResNet-18 at 224x224 costs 1.819 G (the paper, with its own counter,
says 1.814 G). Any op that is neither counted nor declared is listed in ``FlopReport.unsupported``.
"""

from __future__ import annotations

import functools
import json
import math
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import torch
from torch import nn

with warnings.catch_warnings():  # fvcore scripts its focal loss at import, which torch 2.14 deprecates
    warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*", category=FutureWarning)
    from fvcore.nn import FlopCountAnalysis
    from fvcore.nn.jit_handles import get_shape

# Element-wise and data-movement ops that cost no FLOPs under the paper's convention.
NOT_COUNTED = (
    "aten::add", "aten::add_", "aten::mul", "aten::mul_", "aten::div", "aten::sub", "aten::rsub",
    "aten::gelu", "aten::relu", "aten::relu_", "aten::sigmoid", "aten::mean", "aten::max_pool2d",
    "aten::dropout", "aten::feature_dropout", "aten::pad", "aten::expand_as", "aten::repeat",
)


def _prod(shape: list[int]) -> int:
    return math.prod(shape) if shape else 0


def _softmax_flops(inputs: list[Any], outputs: list[Any]) -> int:
    """One FLOP per element of the softmax's input."""
    return _prod(get_shape(inputs[0]))


def _sdpa_flops(inputs: list[Any], outputs: list[Any]) -> int:
    """``softmax(Q K^T) V``: ``Lq*Lk*d + Lq*Lk*dv`` multiply-adds and ``Lq*Lk`` softmax elements,
    times the batch and head dimensions."""
    q, k, v = (get_shape(x) for x in inputs[:3])
    batch = _prod(q[:-2])
    lq, d = q[-2:]
    lk, dv = k[-2], v[-1]
    return batch * lq * lk * (d + dv + 1)


def _native_mha_flops(inputs: list[Any], outputs: list[Any]) -> int:
    """PyTorch's fused ``nn.MultiheadAttention`` (eval fast path): the q/k/v and output projections
    (``4*L*E*E``), the logits and weighted sum (``2*L*L*E``) and the softmax (``heads*L*L``)."""
    batch, length, embed = get_shape(inputs[0])
    heads = inputs[4].toIValue()
    return batch * (4 * length * embed * embed + 2 * length * length * embed + heads * length * length)


@dataclass
class FlopReport:
    """Result of :func:`count`.

    Attributes:
        flops: total multiply-adds for one image.
        params: number of parameters.
        by_module: one row per module (``module``, ``depth``, ``flops``, ``params``).
        by_operator: FLOPs per traced operator.
        unsupported: operators that were neither counted nor declared free, with how often they ran.
    """

    flops: int
    params: int
    by_module: pd.DataFrame
    by_operator: dict[str, int] = field(default_factory=dict)
    unsupported: dict[str, int] = field(default_factory=dict)

    @property
    def gflops(self) -> float:
        return self.flops / 1e9

    @property
    def mparams(self) -> float:
        return self.params / 1e6


def count(model: nn.Module, input_size: tuple[int, int, int] = (3, 224, 224)) -> FlopReport:
    """Count the FLOPs (multiply-adds) and parameters of ``model`` for one image of ``input_size``.

    The model is traced in eval mode on CPU with a zero image; its training mode is restored afterwards.
    See the module docstring for what is and is not counted.
    """
    if len(input_size) != 3 or min(input_size) < 1:
        raise ValueError(f"input_size must be (channels, height, width), got {input_size}")
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        image = torch.zeros(1, *input_size, device=device)
        analysis = FlopCountAnalysis(model, image)
        analysis.set_op_handle(
            "aten::softmax", _softmax_flops,
            "aten::_softmax", _softmax_flops,
            "aten::scaled_dot_product_attention", _sdpa_flops,
            "aten::_native_multi_head_attention", _native_mha_flops,
            **{op: None for op in NOT_COUNTED},
        )
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        with torch.no_grad():
            total = analysis.total()
        by_module_flops = analysis.by_module()
        unsupported = dict(Counter(analysis.unsupported_ops()))
        by_operator = dict(analysis.by_operator())
    finally:
        model.train(was_training)
    params = {name: sum(p.numel() for p in m.parameters()) for name, m in model.named_modules()}
    rows = [
        {"module": name or "(total)", "depth": name.count(".") + 1 if name else 0,
         "flops": by_module_flops.get(name, 0), "params": n}
        for name, n in params.items()
    ]
    return FlopReport(
        flops=int(total),
        params=params[""],
        by_module=pd.DataFrame(rows),
        by_operator=by_operator,
        unsupported=unsupported,
    )


def count_models(
    specs: list[tuple[str, dict]], input_size: tuple[int, int, int] = (3, 224, 224), progress: bool = True
) -> pd.DataFrame:
    """Count each ``(model name, builder kwargs)`` of ``specs``; one row per model with ``mflops`` and
    ``mparams``, in the order given, and ``mflops_eq5_literal``: the FLOPs with every projector computing eq. 5 in
    the order it is written (``X W_Q`` per pixel), the paper's count; equal to ``mflops`` for models without one."""
    from tqdm import tqdm  # the text bar: papermill notebooks have no widgets

    rows = [{"model": name, "kwargs": kwargs, **_counted(name, json.dumps(kwargs, sort_keys=True), tuple(input_size))}
            for name, kwargs in tqdm(specs, desc=f"counting at {input_size[1]}x{input_size[2]}", disable=not progress)]
    return pd.DataFrame(rows)


@functools.cache
def _counted(name: str, kwargs_json: str, input_size: tuple[int, int, int]) -> dict[str, float]:
    """``count_models``' numbers for one model, counted once per process: a count depends only on the
    architecture (name and builder kwargs) and the input size, never on the weights."""
    from vt.models import create
    from vt.models.projector import set_order

    model = create(name, **json.loads(kwargs_json))
    report = count(model, input_size)
    literal = count(set_order(model, "literal"), input_size)  # eq. 5 as written, as the paper counts
    return {"mflops": report.flops / 1e6, "mparams": report.params / 1e6, "mflops_eq5_literal": literal.flops / 1e6}


def summary_markdown(csv_path: str) -> str:
    """The paper-models section of a ``flops.csv`` written by ``notebooks/04_flops.ipynb``, as the Markdown
    table that README.md shows (``python -m vt.flops results/smoke/04_flops/flops.csv`` prints it)."""
    df = pd.read_csv(csv_path)
    df = df[df.section == "paper models"]
    lines = [
        "| model | MFLOPs (ours, as run) | MFLOPs (ours, eq. 5 as written) | MFLOPs (paper T2 / T8) | M params (ours) "
        "| M params (paper T2 / T8) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    fmt = lambda v, f: "–" if pd.isna(v) else format(v, f)  # noqa: E731
    for r in df.itertuples():
        lines.append(
            f"| {r.model} | {r.mflops:,.0f} | {fmt(getattr(r, 'mflops_eq5_literal', float('nan')), ',.0f')} "
            f"| {fmt(r.paper_mflops_t2, ',.0f')} / {fmt(r.paper_mflops_t8, ',.0f')} "
            f"| {r.mparams:.2f} | {fmt(r.paper_mparams_t2, '.1f')} / {fmt(r.paper_mparams_t8, '.1f')} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    print(summary_markdown(sys.argv[1] if len(sys.argv) > 1 else "results/smoke/04_flops/flops.csv"))
