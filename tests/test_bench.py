"""vt.bench: one table of images/s for several models, and the VT-vs-ResNet ratios drawn from it."""

import subprocess
import sys

import pandas as pd
import pytest

from vt.bench import compare, throughput
from vt.errors import ConfigError


def test_throughput_measures_every_model_and_mode_side_by_side():
    table = throughput(["resnet20", "vt_resnet20"], resolution=32, batch_size=4, steps=1, warmup=1, rounds=2)
    assert all(len(r.split()) == 2 for r in table.images_per_s_rounds)
    assert sorted(zip(table.model, table["mode"])) == [
        ("resnet20", "infer"), ("resnet20", "train"), ("vt_resnet20", "infer"), ("vt_resnet20", "train")]
    assert (table.images_per_s > 0).all() and set(table.device) == {"cpu"}
    ratios = compare(table)
    assert len(ratios) == 2 and set(ratios.baseline) == {"resnet20"}
    row = ratios.iloc[0]
    mflops = table.groupby("model").mflops.first()
    assert row.flops_ratio == pytest.approx(mflops["resnet20"] / mflops["vt_resnet20"])
    assert row.efficiency == pytest.approx(row.speed_ratio / row.flops_ratio)


def test_compare_pairs_the_rounds_the_models_took_turns_in():
    table = pd.DataFrame({"model": ["resnet20", "vt_resnet20"], "mode": "train", "resolution": 32,
                          "images_per_s": [100.0, 110.0], "mflops": [40.0, 32.0],
                          "images_per_s_rounds": ["100 80 120", "110 96 108"]})
    row = compare(table).iloc[0]
    assert row.flops_ratio == pytest.approx(1.25)
    # rounds: 1.10, 1.20, 0.90 times as fast, over a FLOPs ratio of 1.25
    assert row.efficiency_min == pytest.approx(0.90 / 1.25) and row.efficiency_max == pytest.approx(1.20 / 1.25)
    assert "efficiency_min" not in compare(table.drop(columns="images_per_s_rounds")).columns


def test_throughput_refuses_empty_input():
    with pytest.raises(ConfigError):
        throughput([], resolution=32, batch_size=4)


def test_command_line_writes_csv(tmp_path, capsys):
    """``python -m vt.bench``'s main, in process (tests/test_cli.py crosses the process boundary once for all tools)."""
    from vt.bench import main

    out = tmp_path / "bench.csv"
    small = ["--models", "resnet20", "--resolution", "32", "--batch-size", "2", "--steps", "1", "--rounds", "1"]
    assert main([*small, "--out", str(out)]) in (0, None)
    assert out.read_text().startswith("model,mode,resolution") and "images_per_s" in capsys.readouterr().out
    assert main([*small, "--precision", "bf16", "--out", str(out), "--append"]) in (0, None)
    table = pd.read_csv(out)
    assert list(table.precision) == ["fp32", "fp32", "bf16", "bf16"] and set(table["mode"]) == {"train", "infer"}
    capsys.readouterr()
    assert main(["--models", "nope"]) == 2 and capsys.readouterr().err.startswith("error: unknown model 'nope'")


def test_each_resolution_is_printed_and_saved_before_the_next_is_measured(tmp_path):
    """A run stopped partway keeps what it measured: the CSV holds the first resolution while the second runs."""
    out = tmp_path / "bench.csv"
    process = subprocess.Popen(
        [sys.executable, "-m", "vt.bench", "--models", "resnet20", "--resolution", "32", "256", "--batch-size", "8",
         "--steps", "5", "--rounds", "2", "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in process.stderr:
            if "at 256 px" in line:
                break
        table = pd.read_csv(out)
        assert set(table.resolution) == {32} and len(table) == 2
        assert (table.images_per_s_min <= table.images_per_s).all() and (table.images_per_s <= table.images_per_s_max).all()
    finally:
        process.kill()
        process.wait()
