"""vt.train: learning, exact resume after a stop or a kill, refusals, the command line, DDP on CPU."""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from vt import checkpoint, data
from vt.config import TrainConfig
from vt.errors import CheckpointCorruptError, CheckpointMismatchError, ConfigError
from vt.paths import ROOT
from vt.run_checkpoint import CHECKPOINT, HISTORY, PREDICTIONS
from vt.train import cpu_name, main, train

SMALL = dict(train_size=512, eval_size=256, batch_size=64, lr=0.05, progress=False)


@pytest.fixture(scope="module")
def shapes() -> data.Dataset:
    return data.load("synthetic", train_size=SMALL["train_size"], eval_size=SMALL["eval_size"])


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    return torch.load(folder / CHECKPOINT, weights_only=False)["model"]


THREE_EPOCHS = dict(model="resnet20", epochs=3, **SMALL)  # the run the damaged and the killed runs must end as
# The same run on python -m vt.train's command line.
THREE_EPOCHS_ARGS = [arg for name, value in THREE_EPOCHS.items() if name != "progress"
                     for arg in (f"--{name.replace('_', '-')}", str(value))] + ["--no-progress"]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, shapes) -> dict[str, torch.Tensor]:
    """The final weights of ``THREE_EPOCHS`` trained without a stop, once for the tests that resume it."""
    folder = tmp_path_factory.mktemp("uninterrupted")
    train(TrainConfig(**THREE_EPOCHS, checkpoint_dir=str(folder)), shapes)
    return _weights(folder)


def test_a_short_run_lowers_the_loss_and_beats_chance():
    shapes = data.load("synthetic", train_size=1536, eval_size=256)
    config = TrainConfig(model="resnet20", epochs=3, warmup_epochs=0.3, **{**SMALL, "batch_size": 32})
    history = train(config, shapes)
    assert list(history.epoch) == [1, 2, 3]
    assert history.train_loss.iloc[-1] < 0.8 * history.train_loss.iloc[0]
    assert history.eval_acc.iloc[-1] > 2 / shapes.num_classes  # chance is 1/6
    assert (history.images_per_s > 0).all() and history.wall_time_s.is_monotonic_increasing


def test_history_csv_and_config_are_written_beside_the_checkpoint(tmp_path, shapes):
    history = train(TrainConfig(model="resnet20", epochs=1, checkpoint_dir=str(tmp_path), **SMALL), shapes)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / HISTORY), history)
    assert (tmp_path / "config.json").exists() and not list(tmp_path.glob("*.tmp"))
    recorded = json.loads((tmp_path / "config.json").read_text())["config"]["checkpoint_dir"]
    assert not Path(recorded).is_absolute() and (ROOT / recorded).resolve() == tmp_path.resolve()


def test_per_example_predictions_are_kept_and_give_the_recorded_accuracy(tmp_path, shapes):
    """What a paired comparison over the same test images needs: each eval image's predicted class."""
    history = train(TrainConfig(model="resnet20", epochs=2, checkpoint_dir=str(tmp_path), **SMALL), shapes)
    predicted = np.load(tmp_path / PREDICTIONS)
    assert predicted.shape == (len(shapes.eval),) and predicted.dtype == np.int16
    accuracy = (torch.from_numpy(predicted).long() == shapes.eval.labels).double().mean().item()
    assert accuracy == pytest.approx(history.eval_acc.iloc[-1], abs=1e-9)
    assert len(np.unique(predicted)) > 1  # a trained model, not one class everywhere


@pytest.mark.parametrize("model", ["vt_resnet20", "vit_resnet_cifar"])
def test_stop_and_resume_equals_the_uninterrupted_run(model, tmp_path):
    fewer = dict(train_size=256, eval_size=128)  # half the images: a resume is as exact on fewer
    shapes = data.load("synthetic", **fewer)
    config = dict(model=model, epochs=2, warmup_epochs=0.5, label_smoothing=0.1, grad_clip=1.0, **{**SMALL, **fewer})
    straight = train(TrainConfig(**config, checkpoint_dir=str(tmp_path / "a")), shapes)
    first = train(TrainConfig(**config, checkpoint_dir=str(tmp_path / "b"), stop_after=1), shapes)
    assert len(first) == 1
    resumed = train(TrainConfig(**config, checkpoint_dir=str(tmp_path / "b")), shapes)
    a, b = _weights(tmp_path / "a"), _weights(tmp_path / "b")
    assert all(torch.equal(a[k], b[k]) for k in a)
    columns = ["train_loss", "train_acc", "eval_loss", "eval_acc", "lr"]
    pd.testing.assert_frame_equal(straight[columns], resumed[columns])


def test_a_truncated_checkpoint_costs_one_epoch_not_the_run(tmp_path, shapes, uninterrupted, capsys):
    """A checkpoint damaged after it was written (a full disk, a copy cut short): the run goes on from the one
    before it, to the same weights as a run never damaged; with both damaged, one line says what to do."""
    train(TrainConfig(**THREE_EPOCHS, checkpoint_dir=str(tmp_path / "b"), stop_after=2), shapes)
    path = tmp_path / "b" / CHECKPOINT
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    with pytest.warns(UserWarning, match="resuming from the checkpoint before it"):
        history = train(TrainConfig(**THREE_EPOCHS, checkpoint_dir=str(tmp_path / "b")), shapes)
    assert list(history.epoch) == [1, 2, 3]
    resumed = _weights(tmp_path / "b")
    assert all(torch.equal(uninterrupted[k], resumed[k]) for k in uninterrupted)

    for damaged in (path, checkpoint.previous(path)):
        damaged.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointCorruptError, match="unreadable"), pytest.warns(UserWarning):
        train(TrainConfig(**THREE_EPOCHS, checkpoint_dir=str(tmp_path / "b")), shapes)
    capsys.readouterr()
    with pytest.warns(UserWarning, match="unreadable"):  # python -m vt.train, in process
        status = main([*THREE_EPOCHS_ARGS, "--checkpoint-dir", str(tmp_path / "b")])
    err = capsys.readouterr().err
    assert status == 2 and err.strip().splitlines()[-1].startswith("error: ") and "Traceback" not in err


def test_kill_and_resume_equals_the_uninterrupted_run(tmp_path, shapes, uninterrupted):
    """A process killed with SIGKILL mid-run resumes from its last checkpoint to the same final weights."""
    victim = subprocess.Popen([sys.executable, "-m", "vt.train", *THREE_EPOCHS_ARGS, "--checkpoint-dir",
                               str(tmp_path / "killed")])
    deadline = time.time() + 120
    while not (tmp_path / "killed" / HISTORY).exists() and victim.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    done = len(pd.read_csv(tmp_path / "killed" / HISTORY))
    assert 1 <= done < 3, "the kill should land after the first checkpoint and before the end"
    train(TrainConfig(**THREE_EPOCHS, checkpoint_dir=str(tmp_path / "killed")), shapes)
    resumed = _weights(tmp_path / "killed")
    assert all(torch.equal(uninterrupted[k], resumed[k]) for k in uninterrupted)


def test_an_epoch_that_spans_a_pause_records_no_speed(monkeypatch, shapes):
    """A campaign paused with kill -STOP and continued with -CONT: the epoch it was paused in took the pause's time,
    so its images/s is left out (nan), while its other numbers and the next epochs' speeds stand."""
    clip, steps = torch.nn.utils.clip_grad_norm_, []

    def clip_and_continue_once(*args, **kwargs):
        steps.append(1)
        if len(steps) == 9:  # the second epoch's first step: 512 images in batches of 64 are 8 steps an epoch
            os.kill(os.getpid(), signal.SIGCONT)  # what a stopped process receives when it goes on
        return clip(*args, **kwargs)

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", clip_and_continue_once)
    history = train(TrainConfig(model="resnet20", epochs=3, grad_clip=1.0, **SMALL), shapes)
    assert len(steps) == 24
    assert history.images_per_s.isna().tolist() == [False, True, False]
    assert history.epoch_time_s.notna().all() and history.train_loss.notna().all()


def test_a_finished_run_returns_its_history_without_training(tmp_path, shapes):
    config = TrainConfig(model="resnet20", epochs=1, checkpoint_dir=str(tmp_path), **SMALL)
    first = train(config, shapes)
    stamp = (tmp_path / CHECKPOINT).stat().st_mtime_ns
    pd.testing.assert_frame_equal(train(config, shapes), first)
    assert (tmp_path / CHECKPOINT).stat().st_mtime_ns == stamp


def test_a_checkpoint_of_another_run_is_refused(tmp_path, shapes):
    train(TrainConfig(model="resnet20", epochs=1, checkpoint_dir=str(tmp_path), **SMALL), shapes)
    other = {**SMALL, "lr": 0.1}
    with pytest.raises(CheckpointMismatchError, match="lr: checkpoint 0.05, now 0.1"):
        train(TrainConfig(model="resnet20", epochs=1, checkpoint_dir=str(tmp_path), **other), shapes)
    with pytest.raises(CheckpointMismatchError, match="model"):
        train(TrainConfig(model="vt_resnet20", epochs=1, checkpoint_dir=str(tmp_path), **SMALL), shapes)
    with pytest.raises(ConfigError, match="already holds a run"):
        train(TrainConfig(model="resnet20", epochs=1, checkpoint_dir=str(tmp_path), resume=False, **SMALL), shapes)


def test_a_checkpoint_is_not_resumed_on_other_data(tmp_path, shapes):
    """The same config on re-encoded pixels (the JPEG copy against the canonical release) is another run."""
    config = TrainConfig(model="resnet20", epochs=1, checkpoint_dir=str(tmp_path), **SMALL)
    train(config, shapes)
    eval_images = shapes.eval.images.clone()
    eval_images[0, 0, 0, 0] ^= 1
    other = replace(shapes, eval=replace(shapes.eval, images=eval_images))
    with pytest.raises(CheckpointMismatchError, match="data: checkpoint"):
        train(config, other)


def test_a_checkpoint_from_before_data_fingerprints_still_resumes(tmp_path, shapes):
    config = dict(model="resnet20", epochs=2, checkpoint_dir=str(tmp_path), **SMALL)
    train(TrainConfig(**config, stop_after=1), shapes)
    state = torch.load(tmp_path / CHECKPOINT, weights_only=False)
    del state["identity"]["data"]
    torch.save(state, tmp_path / CHECKPOINT)
    assert list(train(TrainConfig(**config), shapes).epoch) == [1, 2]


@pytest.mark.parametrize(
    "values, message",
    [
        ({"epochs": -1}, "epochs must be positive"),
        ({"epochs": "abc"}, "epochs must be int, got 'abc'"),
        ({"lr": "fast"}, "lr must be float"),
        ({"model": "resnet9000"}, "unknown model 'resnet9000'"),
        ({"dataset": "mnist"}, "unknown dataset 'mnist'"),
        ({"optimizer": "lion"}, "unknown optimizer"),
        ({"device": "gpu"}, "device must be"),
        ({"warmup_epochs": 20.0}, "warmup_epochs"),
        ({"model_kwargs": "{tokens: 3"}, "model_kwargs must be a dict or JSON"),
        ({"model_kwargs": {"num_classes": 3}}, "must not set num_classes"),
        ({"model_kwargs": {"tokenizer": "bogus"}}, "unknown tokenizer 'bogus'"),  # refused when made, not when built
        ({"model_kwargs": {"tokens": 0}}, "need tokens >= 1"),
        ({"resolution": 8}, "resolution must be at least 16"),
    ],
)
def test_bad_parameters_are_refused_in_one_line(values, message):
    with pytest.raises(ConfigError, match=message) as info:
        TrainConfig(**values)
    assert "\n" not in str(info.value)


def test_unknown_parameter_names_are_refused():
    with pytest.raises(ConfigError, match="unknown training parameter.*epoch_count"):
        TrainConfig.from_dict({"epoch_count": 3})
    assert TrainConfig.from_dict({"model_kwargs": '{"tokens": 8}'}).model_kwargs == {"tokens": 8}


def test_a_model_argument_it_does_not_take_or_a_tiny_resolution_is_refused(shapes):
    with pytest.raises(ConfigError, match="takes no argument tokens"):
        train(TrainConfig(model="resnet20", model_kwargs={"tokens": 8}, **SMALL), shapes)
    with pytest.raises(ConfigError, match="resolution must be at least 16, got 2"):
        TrainConfig(model="resnet20", resolution=2, **SMALL)
    # 16 px through ResNet-18's ImageNet stem: stride-2 conv and max-pool, then stages down to a 1x1 map
    tiny = data.load("synthetic", resolution=16, train_size=128, eval_size=64)
    with pytest.raises(ConfigError, match="resolution 16 is too small for resnet18"):
        train(TrainConfig(model="resnet18", model_kwargs={"small_input": False}, resolution=16, **SMALL), tiny)


def test_nothing_is_written_for_a_refused_run(tmp_path):
    with pytest.raises(ConfigError):
        train(TrainConfig(model="resnet20", model_kwargs={"tokens": 8}, checkpoint_dir=str(tmp_path / "run"), **SMALL))
    assert not (tmp_path / "run").exists()


def test_command_line_reports_bad_input_in_one_line(tmp_path, monkeypatch, capsys):
    """``python -m vt.train``'s main, in process (tests/test_cli.py crosses the process boundary once for all tools)."""
    monkeypatch.setenv("VT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("VT_SHARED_DATASETS", str(tmp_path))
    for args, message in [(["--model", "nope"], "unknown model 'nope'"),
                          (["--dataset", "cifar10"], "CIFAR-10 not found")]:
        assert main(args) == 2
        err = capsys.readouterr().err
        assert err.strip().startswith(f"error: {message}") and err.count("\n") == 1
    with pytest.raises(SystemExit):
        main(["--help"])
    help_text = capsys.readouterr().out
    assert "--label-smoothing" in help_text and "torchrun" in help_text


def test_progress_bar_shows_only_when_asked(capsys, shapes):
    train(TrainConfig(model="resnet20", epochs=1, **SMALL), shapes)
    assert capsys.readouterr().out == ""
    train(TrainConfig(model="resnet20", epochs=1, **{**SMALL, "progress": True}), shapes)
    assert "resnet20" in capsys.readouterr().out


def test_torchrun_two_processes_agree_on_the_weights(tmp_path):
    worker = Path(__file__).with_name("ddp_worker.py")
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(worker), str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1)]
    assert all(torch.equal(ranks[0][k], ranks[1][k]) for k in ranks[0])
    history = pd.read_csv(tmp_path / "run" / HISTORY)
    assert len(history) == 1 and history.train_loss.notna().all()
    initial = torch.load(tmp_path / "initial.pt")
    assert any(not torch.equal(initial[k], ranks[0][k]) for k in initial)  # it did train


def test_cpu_name_reads_the_model_name_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9654 96-Core Processor\n")
    assert cpu_name(cpuinfo) == "AMD EPYC 9654 96-Core Processor"


def test_cpu_name_falls_back_to_platform_without_cpuinfo(tmp_path):
    assert cpu_name(tmp_path / "absent") == (platform.processor() or platform.machine())


def test_help_says_what_each_option_means_and_its_choices(capsys):
    from dataclasses import fields

    from vt.config import HELP

    assert set(HELP) == {f.name for f in fields(TrainConfig)}
    with pytest.raises(SystemExit):
        main(["--help"])  # python -m vt.train --help
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert "peak learning rate (default: 0.05)" in text and "one of: 'sgd', 'adam', 'adamw'" in text


@pytest.mark.skipif(torch.cuda.is_available(), reason="torch logs it only where no GPU is found")
def test_compiling_on_a_cpu_logs_no_path_of_the_local_install(tmp_path):
    """torch.compile looks for a CUDA toolkit; with one but no GPU, torch logs that it found no CUDA runtime, naming
    where it is installed. Executed notebooks keep their logs, so vt silences that line."""
    find = "from torch.utils.cpp_extension import _find_cuda_home; _find_cuda_home()"
    marker = "import sys; print('-- vt imported --', file=sys.stderr, flush=True)"
    env = {**os.environ, "CUDA_HOME": str(tmp_path)}
    run = subprocess.run([sys.executable, "-c", f"{find}\n{marker}\nimport vt.train\n{find}"], env=env,
                         capture_output=True, text=True, check=True, cwd=ROOT)  # a fresh process: torch's first log
    plain, with_vt = run.stderr.split("-- vt imported --")
    assert "No CUDA runtime is found" in plain  # the line this test is about
    assert "No CUDA runtime is found" not in with_vt


# The weights two small seeded runs (fp32, on a CPU) reached before a training run was split into its set-up, its
# epochs, its evaluation and its checkpointing (vt.train, vt.epoch, vt.run_checkpoint): refactors of the training
# code must change no number. CPU arithmetic differs between processor families, so the hashes hold on this one.
BEFORE_THE_SPLIT = {"cpu": "Intel(R) Xeon(R) Processor", "torch": "2.14.1+cu130",
                    "resnet20": "01b200b7152dc4aa", "vt_resnet20": "39ebd84fa46ed5ed"}


def _weights_hash(model: torch.nn.Module) -> str:
    import hashlib

    digest = hashlib.sha256()
    for name, value in model.state_dict().items():
        digest.update(name.encode())
        digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


@pytest.mark.parametrize("model", ["resnet20", "vt_resnet20"])
def test_a_seeded_small_run_gives_the_same_weights_every_time_and_as_before_the_split(model):
    from vt.train import fit

    shapes = data.load("synthetic", train_size=256, eval_size=64)
    config = TrainConfig(model=model, epochs=2, train_size=256, eval_size=64, batch_size=32, lr=0.05,
                         warmup_epochs=0.5, label_smoothing=0.1, grad_clip=1.0, precision="fp32", progress=False)
    first, again = _weights_hash(fit(config, shapes).model), _weights_hash(fit(config, shapes).model)
    assert first == again
    if (cpu_name(), torch.__version__) != (BEFORE_THE_SPLIT["cpu"], BEFORE_THE_SPLIT["torch"]):
        pytest.skip(f"the recorded weights are {BEFORE_THE_SPLIT['cpu']}'s with torch {BEFORE_THE_SPLIT['torch']}")
    assert first == BEFORE_THE_SPLIT[model]
