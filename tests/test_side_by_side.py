"""vt.side_by_side: the runs a notebook would train, epochs fitted to a budget, runs trained in parallel processes
that the notebook then reads back."""

import shutil
from dataclasses import replace

import pytest
import yaml

from vt import notebooks, side_by_side
from vt.config import TrainConfig
from vt.errors import ConfigError
from vt.train import train


def test_the_epochs_are_the_planned_ones_or_fewer_where_they_would_not_fit():
    assert side_by_side.fitting_epochs(10.0, 1000.0, planned=30, warmup_epochs=2.0) == 30
    assert side_by_side.fitting_epochs(10.0, 175.0, planned=30, warmup_epochs=2.0) == 17
    with pytest.raises(ConfigError, match="warm-up"):
        side_by_side.fitting_epochs(10.0, 25.0, planned=30, warmup_epochs=2.0)


def test_the_configs_are_the_notebooks_own():
    values = {"models": ["resnet20", "vt_resnet20"], "seeds": [0, 1], "checkpoint_root": "checkpoints"}
    configs = side_by_side.configs("01_baseline", values)
    P = notebooks.parameters("01_baseline", values, profile_named=True)  # the profile named on its command line
    expected = [P.config(notebooks.Run(m, m), s) for m in values["models"] for s in values["seeds"]]
    assert configs == expected


def test_a_notebook_without_a_run_list_is_refused():
    with pytest.raises(ConfigError, match="cannot list the runs"):
        side_by_side.configs("04_flops", {})


def test_runs_trained_side_by_side_are_read_back_by_the_notebook(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VT_RESULTS_DIR", str(tmp_path / "results"))
    profile = tmp_path / "tiny.yaml"
    profile.write_text(yaml.safe_dump({
        "profile": "tiny", "models": ["resnet20", "vt_resnet20"], "epochs": 2, "warmup_epochs": 0.0,
        "train_size": 128, "eval_size": 64, "batch_size": 32, "checkpoint_root": str(tmp_path / "checkpoints")}))
    fitted = tmp_path / "fitted.yaml"
    assert side_by_side.main(["01_baseline", "--profile", str(profile), "--minutes", "10", "-p", "lr", "0.02",
                              "--write-profile", str(fitted)]) == 0
    values = yaml.safe_load(fitted.read_text())
    assert values["epochs"] == 2 and values["lr"] == 0.02  # the budget holds every planned epoch; -p applied

    P = notebooks.parameters("01_baseline", {**values, "progress": False})
    trained = {c.model: (tmp_path / "checkpoints" / "tiny" / "01_baseline" / f"{c.model}-seed0" / "checkpoint.pt")
               for c in side_by_side.configs("01_baseline", values)}
    stamps = {m: path.stat().st_mtime_ns for m, path in trained.items()}
    _, summary = notebooks.run_models(P, [notebooks.Run(m, m) for m in P.models], P.load_data())
    assert summary.finished.all() and list(summary.epochs) == [2, 2]
    assert {m: path.stat().st_mtime_ns for m, path in trained.items()} == stamps  # read back, not trained again

    # More seeds later (another GPU session, its checkpoints gone): only the new runs train, to the landed epochs.
    # The processes were tried above; here the runs train one after the other in this process, to save start-ups.
    shutil.rmtree(tmp_path / "checkpoints")
    monkeypatch.setattr(side_by_side, "side_by_side",
                        lambda runs: [(c.checkpoint_dir, train(c).iloc[-1].to_dict()) for c in runs])
    assert side_by_side.main(["01_baseline", "--profile", str(profile), "--minutes", "10", "-p", "lr", "0.02",
                              "-p", "seeds", "[0, 1]", "--write-profile", str(fitted)]) == 0
    out = capsys.readouterr().out
    assert "2 runs side by side (2 landed before)" in out and "-> 2 epochs" in out
    assert sorted(p.name for p in (tmp_path / "checkpoints" / "tiny" / "01_baseline").iterdir()) == [
        "resnet20-seed1", "vt_resnet20-seed1"]


def test_a_run_that_fails_in_its_process_fails_the_whole_with_its_name():
    good = TrainConfig(model="resnet20", epochs=1, train_size=64, eval_size=32, batch_size=32, progress=False)
    bad = replace(good, model="vt_resnet20", dataset="cifar10", data_dir="/nonexistent")  # fails once started
    with pytest.raises(RuntimeError, match=r"vt_resnet20 \(no checkpoint\): DataNotFoundError: .*/nonexistent"):
        side_by_side.side_by_side([good, bad])


def test_seeds_that_would_not_finish_are_left_for_later():
    runs = [TrainConfig(model=m, seed=s) for s in (1, 2) for m in ("resnet18", "vt_resnet18")]
    kept, epoch = side_by_side.fewer_seeds(runs, epoch_seconds=12.0, needed=360.0, left=200.0)
    assert [c.seed for c in kept] == [1, 1] and epoch == pytest.approx(6.0)
    assert side_by_side.fewer_seeds(runs, 12.0, 360.0, 400.0) == (runs, 12.0)
    with pytest.raises(ConfigError, match="give more time"):
        side_by_side.fewer_seeds(runs, 12.0, 360.0, 100.0)
