"""Published numbers this reproduction is compared with, quoted as their authors give them.

``PAPER``: Wu et al. 2020 (ICCV 2021 text), Tables 2-8, ImageNet at 224x224, 1000 classes.
``SEED_REPORT``: the earlier student report's FLOPs/params tables (D. Melekhin, April 2021).
``PAPER_SEGMENTATION``: Wu et al. 2020, Tables 9-10, Panoptic FPN's semantic branch on ResNet-50, FPN vs VT-FPN.
``PAPER_ATTENTION_ENTROPY``: Wu et al. 2020, section 6, the entropy of the tokenizer's attention on LIP.
``HE_2016_RESNET20``: He et al. 2016 (Deep Residual Learning), Table 6, CIFAR-10 ResNet-20, for the CPU baseline.
Nothing here is measured by this project; notebooks put these beside what they measure.
"""

from __future__ import annotations

import pandas as pd

# (table, model, variant, model kwargs, top-1, MFLOPs, M params); None where the table gives no number.
_PAPER_ROWS = [
    ("Table 2", "resnet18", "default", {}, 69.9, 1814, 11.7),
    ("Table 2", "vt_resnet18", "default", {}, 72.0, 1579, 11.6),
    ("Table 2", "resnet34", "default", {}, 73.3, 3664, 21.8),
    ("Table 2", "vt_resnet34", "default", {}, 74.8, 3299, 21.8),
    ("Table 8", "resnet18", "default", {}, 73.8, 1814, 11.7),
    ("Table 8", "vt_resnet18", "default", {}, 76.8, 1569, 11.7),
    ("Table 8", "resnet34", "default", {}, 77.7, 3664, 21.8),
    ("Table 8", "vt_resnet34", "default", {}, 79.9, 3236, 19.2),
    ("Table 8", "resnet50", "default", {}, 76.0, 4089, 25.5),
    ("Table 8", "vt_resnet50", "default", {}, 80.6, 3412, 21.4),
    ("Table 8", "resnet101", "default", {}, 77.4, 7802, 44.4),
    ("Table 8", "vt_resnet101", "default", {}, 82.3, 7129, 41.5),
]
_ABLATIONS = [
    # (table, variant, model kwargs, (R18 top-1, MFLOPs, M params), (R34 top-1, MFLOPs, M params))
    ("Table 3", "pooling tokenizer", {"tokenizer": "pooling"}, (70.6, 1550, 11.0), (73.5, 3246, 20.6)),
    ("Table 3", "filter tokenizer", {}, (72.0, 1579, 11.6), (74.8, 3299, 21.8)),
    ("Table 4", "without recurrent tokenizer", {"tokenizer": "filter"}, (71.4, 1564, 11.1), (74.5, 3369, 20.7)),
    ("Table 5", "no transformer", {"transformer": False}, (68.8, 1528, 8.5), (73.4, 3222, 17.1)),
    ("Table 6", "32 tokens", {"tokens": 32}, (71.7, 1711, 11.6), (75.1, 3514, 21.8)),
    ("Table 6", "64 tokens", {"tokens": 64}, (72.0, 1979, 11.6), (75.0, 3951, 21.8)),
    ("Table 7", "without projector", {"projector": False}, (70.9, 1497, 9.3), (74.1, 3158, 17.3)),
]


def paper_models() -> pd.DataFrame:
    """Tables 2 and 8: one row per (table, model)."""
    cols = ["table", "model", "variant", "kwargs", "top1", "mflops", "mparams"]
    return pd.DataFrame(_PAPER_ROWS, columns=cols)


def paper_ablations() -> pd.DataFrame:
    """Tables 3-7 for VT-ResNet-18 and VT-ResNet-34: one row per (table, variant, model)."""
    rows = []
    for table, variant, kwargs, r18, r34 in _ABLATIONS:
        for model, (top1, mflops, mparams) in (("vt_resnet18", r18), ("vt_resnet34", r34)):
            rows.append((table, model, variant, kwargs, top1, mflops, mparams))
    return pd.DataFrame(rows, columns=["table", "model", "variant", "kwargs", "top1", "mflops", "mparams"])


# He et al. 2016, Sec. 4.2 and Table 6: ResNet-20 (0.27 M params) at 8.75% test error, single view, trained 64k
# iterations at batch 128 with SGD (lr 0.1, /10 at 32k and 48k), pad-4 crop + flip.
HE_2016_RESNET20 = {"top1": 91.25, "iterations": 64_000, "batch_size": 128}

# The earlier report's table (experiment 1, CIFAR-10; experiment 2, Tiny ImageNet); counter and input
# size not stated there.
SEED_REPORT = pd.DataFrame(
    [
        ("ViTResNet", "vit_resnet_cifar", 9601.28, 1.06217),
        ("ResNet18", "resnet18", 7525.1712, 11.689512),
        ("ResNet34", "resnet34", 15085.1584, 21.797672),
        ("ResNet50", "resnet50", 17183.3344, 25.557032),
        ("ResNet18(64x64)", "resnet18", 1819.066368, 111.689512),
        ("ViTResNet18_remastered", None, 5700.4544, 2.792456),
    ],
    columns=["report_name", "model", "mflops", "mparams"],
)


# Tables 9-10: (data set, FPN module, mIoU, FPN-module GFLOPs), ResNet-50 backbone. The input sizes are not given.
PAPER_SEGMENTATION = pd.DataFrame(
    [
        ("COCO-stuff", "fpn_resnet50", 40.78, 55.1),
        ("COCO-stuff", "vt_fpn_resnet50", 41.00, 8.5),
        ("LIP", "fpn_resnet50", 47.04, 12.8),
        ("LIP", "vt_fpn_resnet50", 47.39, 2.0),
    ],
    columns=["data", "model", "miou", "fpn_gflops"],
)


# Section 6, "non-uniform attention": the entropy -sum A log A of the tokenizer's spatial attention, at 473x473 on LIP,
# against a uniform (convolution-like) map; 12.318 is log(473 * 473) in nats.
PAPER_ATTENTION_ENTROPY = {"vt": 0.941, "uniform": 12.318, "input": 473, "data": "LIP"}
