"""vt.notebooks and run_all.sh: parameters checked as papermill passes them, profiles, results in their place."""

import json
import re
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import papermill
import pytest
import torch
import yaml

from vt import findings, notebooks, report
from vt.notebooks import summary as summary_module
from vt.notebooks.__main__ import main as notebooks_main
from vt.data import load
from vt.errors import ConfigError
from vt.paths import ROOT


def test_every_notebook_declares_its_parameters_and_profiles_are_valid():
    for path in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        declared = notebooks.declared(path.stem)
        assert "profile" in declared and "results_dir" in declared, path
    for profile in sorted((ROOT / "profiles").glob("*.yaml")):
        assert notebooks.load_profile(profile.stem)["profile"] == profile.stem


def test_a_bad_profile_is_refused(tmp_path, capsys):
    with pytest.raises(ConfigError, match="no profile 'nope'.*smoke"):
        notebooks.load_profile("nope")
    typo = tmp_path / "typo.yaml"
    typo.write_text("profile: typo\nepochz: 3\n")
    with pytest.raises(ConfigError, match="unknown parameter.*epochz"):
        notebooks.load_profile(str(typo))
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("profile: wrong\nepochs: -2\n")
    with pytest.raises(ConfigError, match="epochs must be positive"):
        notebooks.load_profile(str(wrong))
    assert notebooks_main(["check", "nope"]) == 2  # python -m vt.notebooks (tests/test_cli.py: its exit status)
    assert capsys.readouterr().err.startswith("error: no profile 'nope'")


def test_a_profile_extends_another_with_its_own_values_on_top(tmp_path, capsys):
    parent = tmp_path / "parent.yaml"
    parent.write_text("profile: parent\nepochs: 3\nlr: 0.05\nmodels: [resnet20, vt_resnet20]\n")
    child = tmp_path / "child.yaml"
    child.write_text(f"extends: {parent}\nprofile: child\nepochs: 7\n")
    assert notebooks.load_profile(str(child)) == {
        "profile": "child", "epochs": 7, "lr": 0.05, "models": ["resnet20", "vt_resnet20"]}
    long, short = notebooks.load_profile("cifar10-cpu-long"), notebooks.load_profile("cifar10-cpu")
    changed = {k for k in short if long[k] != short[k]}
    assert changed == {"profile", "models", "epochs"} and long["epochs"] > short["epochs"]
    assert notebooks_main(["resolve", "cifar10-cpu-long"]) == 0
    assert yaml.safe_load(capsys.readouterr().out) == long


def test_a_profile_with_a_missing_or_circular_parent_is_refused(tmp_path):
    orphan = tmp_path / "orphan.yaml"
    orphan.write_text("extends: nowhere\nprofile: orphan\n")
    with pytest.raises(ConfigError, match="no profile 'nowhere'"):
        notebooks.load_profile(str(orphan))
    (tmp_path / "a.yaml").write_text(f"extends: {tmp_path / 'b.yaml'}\nprofile: a\n")
    (tmp_path / "b.yaml").write_text(f"extends: {tmp_path / 'a.yaml'}\nprofile: b\n")
    with pytest.raises(ConfigError, match="cycle.*a -> b -> a"):
        notebooks.load_profile(str(tmp_path / "a.yaml"))


def test_run_all_refuses_a_bad_profile_or_notebook_at_once():
    for args, message in ((["--profile", "nope"], "no profile 'nope'"), (["99_nothing"], "no notebook")):
        result = subprocess.run([str(ROOT / "run_all.sh"), *args], capture_output=True, text=True, timeout=30)
        assert result.returncode == 2 and message in result.stderr


def test_a_failed_run_ends_in_one_line_and_leaves_the_last_executed_notebook_in_place(tmp_path):
    """run_all.sh -> vt.execute -> the kernel: a user's error raised in the notebook (here, no data) ends the run
    with exit status 2 and one line naming the failed copy, which keeps its traceback; the notebook from the last
    finished run stays in place (the executed notebook is written under a hidden name and moved only at the end)."""
    name = "test-partial-run"
    profile, results = ROOT / "profiles" / f"{name}.yaml", ROOT / "results" / name
    profile.write_text(f"profile: {name}\ndataset: cifar10\n")
    results.mkdir()
    (results / "01_baseline.ipynb").write_text("the last finished run")
    empty = {"VT_DATA_DIR": str(tmp_path), "VT_SHARED_DATASETS": str(tmp_path), "VT_RESULTS_DIR": str(tmp_path)}
    try:
        run = subprocess.run([str(ROOT / "run_all.sh"), "--profile", name, "01_baseline"], capture_output=True,
                             text=True, timeout=300, env={**os.environ, **empty})
        assert run.returncode == 2, run.stderr[-3000:]  # a user's error, as every tool's bad input
        last = run.stderr.strip().splitlines()[-1]
        assert last.startswith("error: ") and "CIFAR-10 not found" in last, run.stderr[-3000:]
        failed = [p for p in results.glob(".partial-*") if p.name in last]
        assert len(failed) == 1 and "CIFAR-10 not found" in failed[0].read_text()  # the failed copy, with its traceback
        assert "without encryption" not in run.stderr and "Traceback" not in run.stderr
        assert (results / "01_baseline.ipynb").read_text() == "the last finished run"
    finally:
        profile.unlink()
        shutil.rmtree(results)


def test_parameters_reads_what_papermill_injected():
    injected = "# Parameters\nepochs = 2\ntokenizers = \"[\\\"filter\\\", \\\"pooling\\\"]\"\nlr = 1\n"
    namespace = {"In": ["", injected], "epochs": 2, "tokenizers": '["filter", "pooling"]', "lr": 1}
    P = notebooks.parameters("02_tokenizers", namespace)
    assert P.epochs == 2 and P.tokenizers == ["filter", "pooling"] and P.lr == 1.0
    assert P.config(notebooks.Run("filter", P.model, {"tokenizer": "filter"})).model_kwargs == {"tokenizer": "filter"}


@pytest.mark.parametrize(
    "name, value, message",
    [("epochz", 3, "unknown parameter.*epochz"), ("epochs", "many", "epochs must be int"),
     ("lr", -0.1, "lr must be positive"), ("model", "vt_nothing", "unknown model 'vt_nothing'"),
     ("tokenizers", '["filter","bogus"]', "tokenizers: 'bogus' is not one of recurrent, filter, pooling"),
     ("tokenizers", "[]", "tokenizers is empty"), ("seeds", "[0, -1]", "seeds: -1 is not an integer >= 0")],
)
def test_parameters_refuses_unknown_names_and_bad_values(name, value, message):
    namespace = {"In": [f"# Parameters\n{name} = {value!r}\n"], name: value}
    with pytest.raises(ConfigError, match=message):
        notebooks.parameters("02_tokenizers", namespace)


def test_a_bad_element_of_a_sweep_is_refused_before_anything_trains():
    with pytest.raises(ConfigError, match="resolutions: 4 is not an integer >= 16"):
        notebooks.parameters("03_resolution", {"resolutions": [32, 4]})
    with pytest.raises(ConfigError, match="token_counts: 0 is not a positive integer"):
        notebooks.parameters("03_resolution", {"token_counts": [16, 0]})


def test_a_parameter_of_another_notebook_is_left_unused():
    P = notebooks.parameters("04_flops", {"In": ["# Parameters\nepochs = 2\n"], "epochs": 2})
    assert P.unused == ["epochs"] and "epochs" not in P.values


def test_a_notebook_runs_as_a_user_would_and_leaves_the_profiles_results_alone(tmp_path, monkeypatch):
    """The README's example: two tokenizers, fewer images, JSON list from the command line, no TCP warning. Its
    parameters are not the smoke profile's, so its results go to a folder named for what changed: the committed
    smoke results stay as they are."""
    monkeypatch.setenv("VT_RESULTS_DIR", str(tmp_path / "results"))
    committed = tmp_path / "results" / "smoke" / "02_tokenizers"
    shutil.copytree(ROOT / "results" / "smoke" / "02_tokenizers", committed)
    before = {p.relative_to(committed): p.read_bytes() for p in committed.rglob("*") if p.is_file()}
    out = tmp_path / "out.ipynb"
    run = subprocess.run([sys.executable, "-m", "vt.execute", str(ROOT / "notebooks" / "02_tokenizers.ipynb"), str(out),
                          "-p", "tokenizers", '["filter","pooling"]', "-p", "train_size", "256",
                          "-p", "eval_size", "128", "--cwd", str(ROOT / "notebooks")],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "without encryption" not in run.stderr  # the kernel is reached over IPC, not TCP
    assert {p.relative_to(committed): p.read_bytes() for p in committed.rglob("*") if p.is_file()} == before
    own = tmp_path / "results" / "smoke-tokenizers-filter-pooling-train_size-256-eval_size-128" / "02_tokenizers"
    summary = (own / "summary.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in summary[1:]] == ["filter", "pooling"]
    assert "images_per_s_seeds" in summary[0].split(",")
    assert (own / "curves.png").exists()
    executed = nbformat.read(out, as_version=4)
    said = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert f"results go to results/{own.parent.name}/" in said  # and the notebook says where
    findings = [o for c in executed.cells for o in c.get("outputs", []) if "text/markdown" in o.get("data", {})]
    assert "filter-based tokenizer" in findings[-1]["data"]["text/markdown"]


def test_summarize_gives_the_mean_and_sample_std_over_seeds_of_the_last_epoch():
    """Three seeds end at 80%, 83% and 86% (earlier epochs lower): mean 83%, sample standard deviation
    sqrt(((-3)^2 + 0^2 + 3^2) / (3 - 1)) = 3 points (ddof 1; ddof 0 would give 2.449); the gap is train minus test."""
    rows = [{"epoch": e, "seed": s, "label": "resnet20", "model": "resnet20", "run_key": f"resnet20-seed{s}",
             "planned_epochs": 2, "eval_acc": final - 0.1 * (e == 1), "train_acc": final + 0.05, "eval_top5": 0.99,
             "images_per_s": 100.0, "shared_by": 1}
            for s, final in enumerate((0.80, 0.83, 0.86)) for e in (1, 2)]
    P = notebooks.parameters("01_baseline", {"profile": "t", "seeds": [0, 1, 2], "models": ["resnet20"]})
    table = notebooks.summarize(pd.DataFrame(rows), P, load("synthetic", train_size=64, eval_size=32),
                                [notebooks.Run("resnet20", "resnet20")])
    row = table.iloc[0]
    assert row.seeds == 3 and row.epochs == 2 and row.finished
    assert row.eval_acc == pytest.approx(0.83) and row.eval_acc_std == pytest.approx(0.03)
    assert row.gap == pytest.approx(0.05) and row.best_eval_acc == pytest.approx(0.86)


def test_summarize_counts_the_seeds_whose_train_accuracy_ended_under_twice_chance_as_diverged():
    """With k classes chance is 1/k: a seed ending at 1.9/k train accuracy diverged, one at 2.1/k and one at 90% not."""
    data = load("synthetic", train_size=64, eval_size=32)
    k = data.num_classes
    rows = [{"epoch": 1, "seed": s, "label": "vt_resnet20", "model": "vt_resnet20", "run_key": f"vt-seed{s}",
             "planned_epochs": 1, "eval_acc": train, "train_acc": train, "eval_top5": 0.9, "images_per_s": 100.0,
             "shared_by": 1} for s, train in enumerate((1.9 / k, 2.1 / k, 0.9))]
    P = notebooks.parameters("01_baseline", {"profile": "t", "seeds": [0, 1, 2], "models": ["vt_resnet20"]})
    table = notebooks.summarize(pd.DataFrame(rows), P, data, [notebooks.Run("vt_resnet20", "vt_resnet20")])
    assert table.iloc[0].diverged == 1


def test_a_named_profile_with_other_values_is_refused_where_its_results_hold_others(tmp_path, monkeypatch):
    """-p profile smoke -p epochs 9 would write 9-epoch numbers over the smoke results: refused in one line. The
    profile's own values, or those its results hold (a re-render), go on; so does a name of the user's own."""
    monkeypatch.setenv("VT_RESULTS_DIR", str(tmp_path))
    held = {**notebooks.declared("02_tokenizers"), **notebooks.load_profile("smoke")}
    (tmp_path / "smoke" / "02_tokenizers").mkdir(parents=True)
    (tmp_path / "smoke" / "02_tokenizers" / "parameters.json").write_text(json.dumps({"parameters": held}))
    named = {"In": ["# Parameters\nprofile = 'smoke'\nepochs = 9\n"], "profile": "smoke", "epochs": 9}
    with pytest.raises(ConfigError, match=r"epochs differ from profile smoke's .* -p profile NAME"):
        notebooks.parameters("02_tokenizers", named)
    assert notebooks.parameters("02_tokenizers", {**named, "epochs": held["epochs"]}).profile == "smoke"
    assert notebooks.parameters("02_tokenizers", {**named, "profile": "mine"}).profile == "mine"
    assert notebooks.parameters("02_tokenizers", {**named, "compile_model": True, "epochs": held["epochs"]}).profile == "smoke"


def test_each_seed_gives_one_speed_the_median_of_its_epochs_after_the_first():
    history = pd.DataFrame({"seed": [0] * 4 + [1] * 4, "epoch": [1, 2, 3, 4] * 2,
                            "images_per_s": [10.0, 100.0, 104.0, 5.0, 20.0, 90.0, 95.0, 93.0]})
    # The first epoch (compilation) and one epoch slowed by other work do not move a seed's speed.
    assert summary_module._seed_speeds(history) == "100.00 93.00"
    assert summary_module._seed_speeds(history[history.epoch == 1]) == ""


def test_a_spent_time_budget_stops_the_notebook_and_a_rerun_finishes_it(tmp_path, monkeypatch):
    """What a GPU session of a few minutes at a time needs: stop inside the budget, checkpointed, and go on next time."""
    monkeypatch.setenv("VT_RESULTS_DIR", str(tmp_path / "results"))
    values = {"models": ["resnet20", "vt_resnet20"], "epochs": 2, "train_size": 128, "eval_size": 64,
              "batch_size": 32, "profile": "t", "checkpoint_root": str(tmp_path / "checkpoints"), "progress": False}
    source = "# Parameters\n" + "".join(f"{name} = {value!r}\n" for name, value in values.items())
    runs = [notebooks.Run(m, m) for m in values["models"]]

    P = notebooks.parameters("01_baseline", {"In": [source + "time_limit_min = 5.0\n"], **values, "time_limit_min": 5.0})
    left = iter([1e-6, -1.0])  # the first run may start but not finish; the budget is spent before the second
    P.minutes_left = lambda: next(left)
    history, summary = notebooks.run_models(P, runs, P.load_data())
    assert list(history.label) == ["resnet20"] and list(summary.epochs) == [1] and not summary.finished.any()
    assert findings.CHECKS["01_baseline"][0](summary).verdict == findings.NOT_RUN

    P = notebooks.parameters("01_baseline", {"In": [source], **values})
    history, summary = notebooks.run_models(P, runs, P.load_data())
    assert list(summary.epochs) == [2, 2] and summary.finished.all()
    assert list(history[history.label == "resnet20"].epoch) == [1, 2]  # resumed, not retrained


def test_a_finished_run_lands_in_results_and_is_read_back_when_its_checkpoint_is_gone(tmp_path, monkeypatch):
    """A run finished on another machine (a GPU session, an earlier day) counts without being trained again,
    but only for the same recipe."""
    monkeypatch.setenv("VT_RESULTS_DIR", str(tmp_path / "results"))
    values = {"models": ["resnet20"], "epochs": 1, "train_size": 128, "eval_size": 64, "batch_size": 32,
              "profile": "t", "checkpoint_root": str(tmp_path / "checkpoints"), "progress": False}
    runs = [notebooks.Run("resnet20", "resnet20")]
    P = notebooks.parameters("01_baseline", dict(values))
    first, _ = notebooks.run_models(P, runs, P.load_data())
    landed = P.out_dir / "runs" / "resnet20-seed0"
    assert sorted(p.name for p in landed.iterdir()) == ["config.json", "history.csv", "predictions.npy"]

    shutil.rmtree(tmp_path / "checkpoints")
    again, _ = notebooks.run_models(P, runs, P.load_data())
    assert not (tmp_path / "checkpoints").exists()  # read back, not trained
    pd.testing.assert_frame_equal(again, first)

    record = json.loads((landed / "config.json").read_text())
    (landed / "config.json").write_text(json.dumps({**record, "data": "another data set"}))
    notebooks.run_models(P, runs, P.load_data())  # the same recipe on other data: trained anew
    assert (tmp_path / "checkpoints" / "t" / "01_baseline" / "resnet20-seed0" / "checkpoint.pt").exists()
    shutil.rmtree(tmp_path / "checkpoints")

    P = notebooks.parameters("01_baseline", {**values, "lr": 0.01})  # another recipe: trained anew
    notebooks.run_models(P, runs, P.load_data())
    assert (tmp_path / "checkpoints" / "t" / "01_baseline" / "resnet20-seed0" / "checkpoint.pt").exists()


def test_read_only_trains_nothing_and_shows_what_landed(tmp_path, monkeypatch):
    """Re-rendering a study after a change to its analysis: the landed runs are shown, a run not landed is left
    out as not started, nothing is trained, and with nothing landed at all the notebook says so in one line."""
    monkeypatch.setenv("VT_RESULTS_DIR", str(tmp_path / "results"))
    values = {"models": ["resnet20"], "epochs": 1, "train_size": 128, "eval_size": 64, "batch_size": 32,
              "profile": "t", "checkpoint_root": str(tmp_path / "checkpoints"), "progress": False}
    resnet, vt_resnet = notebooks.Run("resnet20", "resnet20"), notebooks.Run("vt_resnet20", "vt_resnet20")
    P = notebooks.parameters("01_baseline", {**values, "read_only": True})
    data = P.load_data()
    with pytest.raises(ConfigError, match="no run of 01_baseline to show: .* read_only trains none"):
        notebooks.run_models(P, [resnet], data)
    assert not (tmp_path / "checkpoints").exists()

    P = notebooks.parameters("01_baseline", dict(values))
    first, _ = notebooks.run_models(P, [resnet], data)
    landed = sorted((P.out_dir / "runs").rglob("*"))

    def refuse(*args, **kwargs):
        raise AssertionError("read_only trained a run")

    monkeypatch.setattr(notebooks.runs, "train", refuse)
    P = notebooks.parameters("01_baseline", {**values, "models": ["resnet20", "vt_resnet20"], "read_only": True})
    for gone in (P.out_dir / "runs", tmp_path / "checkpoints"):  # trained elsewhere (vt.side_by_side); then landed
        shutil.rmtree(gone)
        again, summary = notebooks.run_models(P, [resnet, vt_resnet], data)
        pd.testing.assert_frame_equal(again, first)
        assert list(summary.label) == ["resnet20"] and summary.finished.all()
        assert sorted((P.out_dir / "runs").rglob("*")) == landed
    line = notebooks.command(P.out_dir / "parameters.json")
    assert "-p models" in line and "-p read_only" not in line  # it decides what trains now, not the numbers


def test_read_only_refuses_a_model_it_would_have_to_train(tmp_path, monkeypatch):
    """05_attention needs the trained models themselves: read_only without their checkpoints stops at once."""
    monkeypatch.setenv("VT_RESULTS_DIR", str(tmp_path / "results"))
    P = notebooks.parameters("05_attention", {"epochs": 1, "train_size": 64, "eval_size": 32, "batch_size": 32,
                                              "profile": "t", "checkpoint_root": str(tmp_path / "checkpoints"), "progress": False,
                                              "read_only": True})
    with pytest.raises(ConfigError, match="read_only: vt_resnet20, seed 0 has no finished checkpoint"):
        notebooks.fit_seeds(P, notebooks.Run("vt_resnet20", "vt_resnet20"), P.load_data())
    assert not (tmp_path / "checkpoints").exists()


def test_a_seed_a_budget_stopped_early_is_kept_but_left_out_of_the_accuracy(tmp_path, monkeypatch):
    """A GPU session can end with one seed of a run short of its epochs: the finished seeds' accuracy is the run's,
    the stopped seed is counted apart, and it is still read back once its checkpoint is gone."""
    monkeypatch.setenv("VT_RESULTS_DIR", str(tmp_path / "results"))
    values = {"profile": "gpu-session", "models": ["resnet20"], "epochs": 2, "seeds": [0, 1], "train_size": 128,
              "eval_size": 64, "batch_size": 32, "checkpoint_root": str(tmp_path / "checkpoints"),
              "progress": False, "time_limit_min": 5.0}
    runs = [notebooks.Run("resnet20", "resnet20")]
    P = notebooks.parameters("01_baseline", dict(values))
    left = iter([5.0, 1e-6])  # seed 0 has the time for both epochs, seed 1 for one
    P.minutes_left = lambda: next(left)
    first, _ = notebooks.run_models(P, runs, P.load_data())
    assert first.groupby("seed").epoch.max().to_dict() == {0: 2, 1: 1}

    shutil.rmtree(tmp_path / "checkpoints")  # the GPU machine is gone; its runs landed in results/
    P = notebooks.parameters("01_baseline", dict(values))
    P.minutes_left = lambda: -1.0
    again, summary = notebooks.run_models(P, runs, P.load_data())
    assert not (tmp_path / "checkpoints").exists()  # read back, not trained
    pd.testing.assert_frame_equal(again, first)
    row = summary.iloc[0]
    finished = first[(first.seed == 0) & (first.epoch == 2)]
    assert (row.seeds, row.stopped_early, row.finished, row.epochs) == (1, 1, False, 2)
    assert row.eval_acc == finished.eval_acc.item() and json.loads(row.run_keys) == ["resnet20-seed0"]
    # README's run table lists real data only: the same summary, read as a real data set's, says what was left out
    table = P.out_dir / "summary.csv"
    pd.read_csv(table).assign(dataset="cifar10").to_csv(table, index=False)
    assert "(1 more seed stopped early, left out)" in report.markdown(tmp_path / "results")


def test_an_arm_two_studies_share_is_trained_once_and_copied_from_where_it_landed(tmp_path, monkeypatch, capsys):
    """The token study's 16 tokens is the tokenizer study's recurrent arm (VT-ResNet-20's defaults, spelled
    differently): once one study landed it, the other copies it, saying from where, instead of training it again;
    another recipe or another seed is trained."""
    monkeypatch.setenv("VT_RESULTS_DIR", str(tmp_path / "results"))
    values = {"epochs": 1, "train_size": 96, "eval_size": 32, "batch_size": 32,
              "profile": "t", "checkpoint_root": str(tmp_path / "checkpoints"), "progress": False}
    tokenizers = notebooks.parameters("02_tokenizers", {**values, "profile": "tokenizers"})
    data = tokenizers.load_data()
    first, _ = notebooks.run_models(tokenizers, [notebooks.Run("recurrent", "vt_resnet20", {"tokenizer": "recurrent"})],
                                    data)

    tokens = notebooks.parameters("03_resolution", {**values, "profile": "tokens", "seeds": [0, 1]})
    shared = tokens.config(notebooks.Run("tokens=16", "vt_resnet20", {"tokens": 16}), seed=0)
    assert notebooks.landed_run(tokens, shared, data) is not None  # what vt.side_by_side asks before it trains
    history, summary = notebooks.run_models(tokens, [notebooks.Run("tokens=16", "vt_resnet20", {"tokens": 16})], data)
    trained = tmp_path / "checkpoints" / "tokens" / "03_resolution"
    assert not (trained / "tokens=16-seed0").exists() and (trained / "tokens=16-seed1" / "checkpoint.pt").exists()
    measured = ["epoch", "train_acc", "eval_acc", "images_per_s"]
    pd.testing.assert_frame_equal(history[history.seed == 0][measured].reset_index(drop=True), first[measured])
    copy = tokens.out_dir / "runs" / "tokens=16-seed0"
    assert json.loads((copy / "config.json").read_text())["landed_from"] == "tokenizers/02_tokenizers/runs/recurrent-seed0"
    assert np.array_equal(np.load(copy / "predictions.npy"),
                          np.load(tokenizers.out_dir / "runs" / "recurrent-seed0" / "predictions.npy"))
    assert json.loads(summary.run_keys.iloc[0]) == ["tokens=16-seed0", "tokens=16-seed1"]
    notebooks.run_models(tokens, [notebooks.Run("tokens=16", "vt_resnet20", {"tokens": 16})], data)
    assert "tokens=16-seed0: the same run (recipe, model, seed, data) as tokenizers/02_tokenizers/runs/recurrent-seed0" \
        in capsys.readouterr().out  # every time it is read back, the notebook says where it was trained

    other = notebooks.parameters("03_resolution", {**values, "profile": "other", "lr": 0.01})
    notebooks.run_models(other, [notebooks.Run("tokens=16", "vt_resnet20", {"tokens": 16})], data)
    assert (tmp_path / "checkpoints" / "other" / "03_resolution" / "tokens=16-seed0" / "checkpoint.pt").exists()


def test_models_trained_for_their_attention_land_as_runs_and_read_back_from_checkpoints(tmp_path, monkeypatch):
    """05_attention needs the trained models themselves: every seed lands in runs/ with its predictions and its
    epochs in histories.csv, and a second call loads the finished checkpoints instead of training."""
    monkeypatch.setenv("VT_RESULTS_DIR", str(tmp_path / "results"))
    values = {"seeds": [0, 1], "epochs": 1, "train_size": 128, "eval_size": 64, "batch_size": 32,
              "profile": "t", "checkpoint_root": str(tmp_path / "checkpoints"), "progress": False}
    P = notebooks.parameters("05_attention", dict(values))
    run = notebooks.Run("trained", P.model)
    models, history = notebooks.fit_seeds(P, run, P.load_data())
    assert sorted(models) == [0, 1] and list(history.seed) == [0, 1] and set(history.label) == {"trained"}
    for seed in (0, 1):
        landed = P.out_dir / "runs" / f"trained-seed{seed}"
        assert sorted(p.name for p in landed.iterdir()) == ["config.json", "history.csv", "predictions.npy"]
    pd.testing.assert_frame_equal(pd.read_csv(P.out_dir / "histories.csv"), history, check_dtype=False)
    assert (P.out_dir / notebooks.EVAL_LABELS).exists()
    again, reread = notebooks.fit_seeds(P, run, P.load_data())
    pd.testing.assert_frame_equal(reread, history)  # read back from the checkpoints, not trained again
    for seed in (0, 1):
        for mine, theirs in zip(models[seed].state_dict().values(), again[seed].state_dict().values()):
            assert torch.equal(mine, theirs)


def test_a_run_checkpointed_before_data_fingerprints_lands_with_one(tmp_path, monkeypatch):
    """A finished checkpoint whose config.json predates fingerprints is read back and lands naming its data,
    so that it is still read back once the checkpoint is gone."""
    monkeypatch.setenv("VT_RESULTS_DIR", str(tmp_path / "results"))
    values = {"models": ["resnet20"], "epochs": 1, "train_size": 128, "eval_size": 64, "batch_size": 32,
              "profile": "t", "checkpoint_root": str(tmp_path / "checkpoints"), "progress": False}
    runs = [notebooks.Run("resnet20", "resnet20")]
    P = notebooks.parameters("01_baseline", dict(values))
    data = P.load_data()
    notebooks.run_models(P, runs, data)
    saved = tmp_path / "checkpoints" / "t" / "01_baseline" / "resnet20-seed0" / "config.json"
    record = json.loads(saved.read_text())
    del record["data"]
    saved.write_text(json.dumps(record))
    shutil.rmtree(P.out_dir / "runs")

    notebooks.run_models(P, runs, data)  # resumed (nothing left to train) and landed
    landed = json.loads((P.out_dir / "runs" / "resnet20-seed0" / "config.json").read_text())
    assert landed["data"] == data.fingerprint()
    shutil.rmtree(tmp_path / "checkpoints")
    notebooks.run_models(P, runs, data)
    assert not (tmp_path / "checkpoints").exists()  # read back from results, not trained again


def test_two_sweeps_that_name_the_same_model_train_it_once(tmp_path, monkeypatch):
    """tokens=16 and channels=128 are both VT-ResNet-20's defaults: one model, trained once, shown under both labels."""
    monkeypatch.setenv("VT_RESULTS_DIR", str(tmp_path / "results"))
    values = {"epochs": 1, "train_size": 128, "eval_size": 64, "batch_size": 32,
              "profile": "t", "checkpoint_root": str(tmp_path / "checkpoints"), "progress": False}
    P = notebooks.parameters("03_resolution", dict(values))
    runs = [notebooks.Run("tokens=16", "vt_resnet20", {"tokens": 16}),
            notebooks.Run("channels=128", "vt_resnet20", {"token_channels": 128}),
            notebooks.Run("tokens=32", "vt_resnet20", {"tokens": 32})]
    _, summary = notebooks.run_models(P, runs, P.load_data())
    trained = sorted(p.name for p in (tmp_path / "checkpoints" / "t" / "03_resolution").iterdir())
    assert trained == ["tokens=16-seed0", "tokens=32-seed0"]
    by_label = summary.set_index("label")
    assert by_label.eval_acc["tokens=16"] == by_label.eval_acc["channels=128"]
    assert by_label.run_keys["channels=128"] == '["tokens=16-seed0"]'


def test_a_saved_notebook_keeps_the_last_state_of_each_line_and_no_progress_bar(tmp_path):
    """Live updates stay live while the cell runs; the executed copy keeps each line's last state, and of a tqdm
    bar nothing at all."""
    from vt.execute import execute

    source = tmp_path / "bars.ipynb"
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import sys, time\nfrom tqdm import tqdm\nprint('start')\n"
                                  "for i in range(5):\n    sys.stdout.write(f'\\rrun A {i}/4'); sys.stdout.flush(); time.sleep(0.05)\n"
                                  "print()\nfor i in tqdm(range(3), desc='decoding', mininterval=0):\n    time.sleep(0.05)\n"
                                  "for i in tqdm(range(2)):\n    time.sleep(0.05)\n"
                                  "print('done', file=sys.stderr)")])
    nbformat.write(nb, source)
    execute(source, tmp_path / "out.ipynb", {}, progress_bar=False)
    outputs = nbformat.read(tmp_path / "out.ipynb", as_version=4).cells[-1].outputs
    assert [(o.name, o.text) for o in outputs] == [("stdout", "start\nrun A 4/4\n"), ("stderr", "done\n")]


def test_a_notebook_gets_only_the_parameters_it_takes_and_its_saved_copy_shows_only_those(tmp_path):
    from vt.execute import execute

    out = tmp_path / "04.ipynb"
    profile = {"epochs": 2, "lr": 0.1, "flops_models": ["resnet20"]}  # a profile for several notebooks
    with pytest.raises(papermill.PapermillExecutionError, match="unknown parameter.*epochz"):  # a typo still stops it
        execute(ROOT / "notebooks" / "04_flops.ipynb", out, {**profile, "epochz": 3}, cwd=ROOT / "notebooks",
                progress_bar=False)
    injected = next(c for c in nbformat.read(out, as_version=4).cells if "injected-parameters" in c.metadata.tags)
    assert set(re.findall(r"^(\w+) = ", injected.source, re.M)) == {"flops_models", "epochz"}


def test_no_saved_notebook_under_results_shows_a_progress_bar_or_a_parameter_it_does_not_take():
    from vt.execute import PROGRESS_BAR

    for path in sorted((ROOT / "results").rglob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        takes = set(notebooks.declared(path.stem))
        for cell in nb.cells:
            if "injected-parameters" in cell.metadata.get("tags", []):
                given = set(re.findall(r"^(\w+) = ", cell.source, re.M))
                assert given <= takes, (path, given - takes)
            for output in cell.get("outputs", []):
                text = output.get("text", "")
                assert not PROGRESS_BAR.search(text) and "it/s]" not in text, (path, text[:200])


def test_the_kernels_sockets_stay_out_of_its_working_directory_and_are_removed(tmp_path):
    """A kernel killed with its run would otherwise leave its IPC sockets among the user's notebooks."""
    from jupyter_core.paths import jupyter_runtime_dir

    from vt.execute import execute

    source, cwd = tmp_path / "ls.ipynb", tmp_path / "cwd"
    cwd.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os, stat\nfrom pathlib import Path\nfrom jupyter_core.paths import jupyter_runtime_dir\n"
        "print(sorted(n for n in os.listdir('.') if stat.S_ISSOCK(os.stat(n).st_mode)))\n"
        f"print(len(list(Path(jupyter_runtime_dir()).glob('vt-{os.getpid()}-kernel-ipc-*'))))")]), source)
    execute(source, tmp_path / "out.ipynb", {}, cwd=cwd, progress_bar=False)
    assert nbformat.read(tmp_path / "out.ipynb", as_version=4).cells[-1].outputs[0].text == "[]\n5\n"
    assert not list(Path(jupyter_runtime_dir()).glob(f"vt-{os.getpid()}-kernel-ipc-*"))


def test_the_command_behind_a_results_table_names_every_value_the_profile_does_not(tmp_path):
    import yaml

    record = {"notebook": "02_tokenizers", "parameters": {**notebooks.declared("02_tokenizers"),
                                                          **notebooks.load_profile("smoke")}}
    path = tmp_path / "parameters.json"
    path.write_text(json.dumps(record))
    assert notebooks.command(path) == "./run_all.sh --profile smoke 02_tokenizers"

    record["parameters"].update(epochs=7, tokenizers=["filter", "pooling"], time_limit_min=3.0)
    path.write_text(json.dumps(record))
    line = notebooks.command(path)
    assert "resolve smoke" in line and "time_limit_min" not in line  # a budget changes when it stops, not its numbers
    options = dict(re.findall(r"-p (\w+) ('[^']*'|\S+)", line))
    assert {k: yaml.safe_load(v.strip("'")) for k, v in options.items()} == {"epochs": 7, "tokenizers": ["filter", "pooling"]}


def test_a_study_has_landed_only_with_the_profiles_parameters_and_every_run_finished(tmp_path):
    folder = tmp_path / "smoke" / "02_tokenizers"
    folder.mkdir(parents=True)
    assert not notebooks.landed("smoke", "02_tokenizers", tmp_path)  # nothing there
    record = {"notebook": "02_tokenizers", "parameters": {**notebooks.declared("02_tokenizers"),
                                                          **notebooks.load_profile("smoke"), "time_limit_min": 5.0}}
    (folder / "parameters.json").write_text(json.dumps(record))
    (folder / "summary.csv").write_text("label,finished\nfilter,True\npooling,True\n")
    assert notebooks.landed("smoke", "02_tokenizers", tmp_path)
    assert not notebooks.landed("cifar10-cpu", "02_tokenizers", tmp_path)  # another profile's folder is not this one
    (folder / "summary.csv").write_text("label,finished\nfilter,True\npooling,False\n")
    assert not notebooks.landed("smoke", "02_tokenizers", tmp_path)  # a run cut short by its budget
    (folder / "summary.csv").write_text("label,finished\nfilter,True\npooling,True\n")
    record["parameters"]["seeds"] = [0, 1]  # fewer or other seeds than the profile plans
    (folder / "parameters.json").write_text(json.dumps(record))
    assert not notebooks.landed("smoke", "02_tokenizers", tmp_path)
    (folder.parent / "05_attention").mkdir()
    attention = {"notebook": "05_attention", "parameters": {**notebooks.declared("05_attention"),
                                                            **notebooks.load_profile("smoke")}}
    (folder.parent / "05_attention" / "parameters.json").write_text(json.dumps(attention))
    (folder.parent / "05_attention" / "summary.csv").write_text("label,seeds\ntrained,1\n")  # no finished column
    assert notebooks.landed("smoke", "05_attention", tmp_path)


def test_a_summary_is_shown_rounded_for_reading():
    summary = pd.DataFrame([{"label": "resnet20", "model": "resnet20", "resolution": 32, "epochs": 40, "finished": True,
                             "eval_acc": 0.8751000000000001, "eval_acc_std": 0.0014422, "train_acc": 0.94025,
                             "gap": 0.065151, "images_per_s": 788.4246, "mflops": 40.931968, "mparams": 0.269722}])
    shown = notebooks.readable(summary).loc["resnet20"]
    assert (shown["test top-1"], shown["± over seeds"], shown["train top-1"], shown["train − test"]) == (
        "87.5%", "0.1 pt", "94.0%", "+6.5 pt")
    assert (shown["images/s"], shown["MFLOPs"], shown["M params"]) == ("788", 40.9, 0.270)


def test_a_saved_notebook_says_under_its_title_when_and_how_long_it_ran_and_how_long_its_runs_trained(tmp_path):
    from vt.execute import stamp_runtime

    executed = tmp_path / "01_x.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 01 · a title"), nbformat.v4.new_code_cell("1")])
    nb.metadata["papermill"] = {"duration": 12.4, "end_time": "2026-12-01T01:02:03.000000"}
    nbformat.write(nb, executed)
    folder = tmp_path / "01_x"
    for run, wall in (("a-seed0", [50.0, 100.0]), ("b-seed0", [1800.0, 3700.0])):  # the last wall time counts
        (folder / "runs" / run).mkdir(parents=True)
        pd.DataFrame({"epoch": [1, 2], "wall_time_s": wall}).to_csv(folder / "runs" / run / "history.csv", index=False)
    environment = {"device": "cpu", "device_name": "Some CPU", "cpus": 2}
    (folder / "parameters.json").write_text(json.dumps({"parameters": {}, "environment": environment}))
    stamp_runtime(executed, folder)
    stamp_runtime(executed, folder)  # a rerun replaces the line, never adds a second
    cells = nbformat.read(executed, as_version=4).cells
    assert [c.metadata.get("tags", []) for c in cells] == [[], ["runtime"], []]
    assert cells[1].source == ("*This copy was executed on 2026-12-01 in 12 s (Some CPU, 2 cores). The 2 runs it shows "
                               "trained for 63 min in all (Some CPU, 2 cores).*")  # (100 + 3700) s


def test_every_saved_notebook_under_results_carries_one_runtime_line_under_its_title():
    for path in sorted((ROOT / "results").glob("*/[0-9][0-9]_*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        stamped = [i for i, c in enumerate(cells) if "runtime" in c.metadata.get("tags", [])]
        assert stamped == [1], (path, stamped)
        assert cells[1].source.startswith("*This copy was executed on 20"), path
