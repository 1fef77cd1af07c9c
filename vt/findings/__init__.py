"""Claims of the paper and findings of the earlier report, each checked against our result tables.

Each check takes the ``summary.csv`` table of the notebook that tests it (one row per run: ``label``, ``model``,
``eval_acc`` (mean over seeds), ``eval_acc_std`` (sample std over seeds), ``seeds``, ``eval_size``, ``run_keys``,
``images_per_s`` and its per-seed medians, ``mflops``, ``dataset``, ...) and returns a ``Finding``: the claim, its source, the
difference between the compared arms in points with its 95% interval (``vt.stats``: spread over seeds plus test-set
sampling, paired over the same test images where the runs' predictions were kept), the fewer seeds of the arms,
and a verdict:

- **reproduced** / **not reproduced**: real data, at least ``vt.stats.MIN_SEEDS`` seeds in every compared arm, and
  an interval that excludes the other outcome;
- **inconclusive**: real data, but too few seeds or an interval that does not separate the outcomes;
- **pipeline ran (synthetic data)**: the smoke run, which shows that the code runs, never whether a claim holds;
- **not yet run**: no finished run of the arms.

Deterministic claims (FLOPs, parameters) are judged on their counts. The table's folder (``summary.attrs["folder"]``,
set by the notebook and the report) gives the per-example predictions under ``runs/`` and ``eval_labels.npy``.

Modules: ``base`` (the ``Finding``, verdict names, arms and comparisons), ``classification`` (the training notebooks'
claims), ``beyond_accuracy`` (counts, attention maps, segmentation); ``CHECKS`` lists each notebook's checks.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import pandas as pd

from vt.findings.base import (INCONCLUSIVE, LEVEL_TOLERANCE, MISSING, NOT_REPRODUCED, NOT_RUN, REACH_TOLERANCE,
                              REPRODUCED, SMOKE, VERDICT_COLOURS, Finding, found_runs)
from vt.findings.beyond_accuracy import (FLOPS_RATIO_TOLERANCE, attention_on_objects, vt_cheaper, vt_fpn_fewer_flops,
                                         vt_fpn_matches_miou)
from vt.findings.classification import (filter_beats_pooling, narrow_tokens_better, recurrent_beats_filter,
                                        resnet20_matches_he, tokens_level, upscaling_helps, vit_beats_resnets,
                                        vt_beats_resnet, vt_slower)

__all__ = ["INCONCLUSIVE", "LEVEL_TOLERANCE", "MISSING", "NOT_REPRODUCED", "NOT_RUN", "REACH_TOLERANCE", "REPRODUCED",
           "SMOKE", "VERDICT_COLOURS", "Finding", "found_runs", "FLOPS_RATIO_TOLERANCE", "attention_on_objects", "vt_cheaper",
           "vt_fpn_fewer_flops", "vt_fpn_matches_miou", "filter_beats_pooling", "narrow_tokens_better",
           "recurrent_beats_filter", "resnet20_matches_he", "tokens_level", "upscaling_helps", "vit_beats_resnets",
           "vt_beats_resnet", "vt_slower", "CHECKS"]


# notebook -> checks that read its summary.csv (04_flops: its flops.csv)
def _on_finished_runs(check: Callable[[pd.DataFrame], Finding]) -> Callable[[pd.DataFrame], Finding]:
    """``check`` applied to the runs that reached their planned epochs (a table without a ``finished`` column,
    such as the FLOPs table, is taken whole): a run cut short by a time budget tests nothing yet. A row whose seeds
    a time budget stopped in part (``stopped_early``) holds the finished seeds' numbers (``vt.notebooks.summarize``)
    and counts with them."""

    @functools.wraps(check)
    def on_finished(summary: pd.DataFrame) -> Finding:
        if "finished" in summary.columns:
            finished = summary.finished.astype(bool)
            if "stopped_early" in summary.columns:
                finished |= summary.epochs == summary.planned_epochs
            summary = summary[finished]
        return check(summary)

    return on_finished


CHECKS = {notebook: [_on_finished_runs(check) for check in checks] for notebook, checks in {
    "01_baseline": [vit_beats_resnets, vt_beats_resnet, vt_slower, resnet20_matches_he],
    "02_tokenizers": [filter_beats_pooling, recurrent_beats_filter],
    "03_resolution": [upscaling_helps, tokens_level, narrow_tokens_better],
    "04_flops": [vt_cheaper],
    "05_attention": [attention_on_objects],
    "07_segmentation": [vt_fpn_fewer_flops, vt_fpn_matches_miou],
}.items()}
