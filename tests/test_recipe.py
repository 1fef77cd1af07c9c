"""The training recipe as the configuration states it: the loss with label smoothing, the learning-rate schedule,
the optimizer's settings and the augmentation, each against values written out by hand, not recomputed by the code."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from vt import data
from vt.config import TrainConfig
from vt.models import create
from vt.train import _model_kwargs, _optimizer, _schedule, fit

TINY = dict(model="resnet20", train_size=32, eval_size=16, batch_size=32, lr=0.1, precision="fp32", progress=False,
            compile_model=False)


@pytest.fixture(scope="module")
def shapes() -> data.Dataset:
    return data.load("synthetic", train_size=64, eval_size=16)


def test_the_recorded_loss_is_cross_entropy_with_label_smoothing_on_the_batch_trained(shapes):
    """One step: the epoch's train_loss is the loss of the one batch under the initial weights, which must be
    (1 - e) x (-log p_y) + e x mean over the K classes of (-log p_k), averaged over the batch (Szegedy et al. 2016)."""
    eps = 0.3
    config = TrainConfig(epochs=1, label_smoothing=eps, augment="none", **{**TINY, "train_size": 32})
    recorded = fit(config, data.load("synthetic", train_size=32, eval_size=16)).history.train_loss.iloc[0]

    same = data.load("synthetic", train_size=32, eval_size=16)
    torch.manual_seed(config.seed)  # as training builds its model
    model = create(config.model, **_model_kwargs(config, same.num_classes)).train()
    images, labels = next(iter(data.make_loader(same, "train", batch_size=32, augment="none", seed=config.seed).epoch(0)))
    with torch.no_grad():
        log_p = torch.log_softmax(model(images), dim=1)
    k = log_p.shape[1]
    by_hand = ((1 - eps) * -log_p[torch.arange(len(labels)), labels] + eps * -log_p.sum(1) / k).mean()
    plain = -log_p[torch.arange(len(labels)), labels].mean()
    assert recorded == pytest.approx(float(by_hand), rel=1e-5)
    assert recorded != pytest.approx(float(plain), rel=1e-3)  # without the smoothing it would read otherwise


def test_the_schedule_follows_a_table_written_by_hand():
    config = TrainConfig(epochs=4, warmup_epochs=1.0, schedule="cosine")
    factor = _schedule(config, steps_per_epoch=10)  # warm-up: 10 steps; cosine over the 30 after
    table = {0: 0.1, 4: 0.5, 9: 1.0, 10: 1.0, 25: 0.5, 39: 0.5 * (1 + math.cos(math.pi * 29 / 30))}
    assert {s: factor(s) for s in table} == pytest.approx(table)
    assert 0.5 * (1 + math.cos(math.pi * 29 / 30)) == pytest.approx(0.002739, abs=1e-6)
    step = _schedule(TrainConfig(epochs=6, schedule="step", step_epochs=2, step_gamma=0.1), steps_per_epoch=5)
    assert [step(s) for s in (0, 9, 10, 19, 20, 29)] == pytest.approx([1, 1, 0.1, 0.1, 0.01, 0.01])
    flat = _schedule(TrainConfig(epochs=3, schedule="none", warmup_epochs=0.5), steps_per_epoch=4)
    assert [flat(s) for s in (0, 1, 2, 11)] == pytest.approx([0.5, 1, 1, 1])


def test_training_applies_the_schedule_step_by_step(shapes):
    """Two steps an epoch, one warm-up epoch, three epochs: the last step of each epoch runs at the table's rate,
    0.1 x (1.0, cosine at 1/4 of its 4 steps = 0.85355, at 3/4 = 0.14645)."""
    config = TrainConfig(epochs=3, warmup_epochs=1.0, schedule="cosine", **{**TINY, "train_size": 64})
    history = fit(config, shapes).history
    assert list(history.lr) == pytest.approx([0.1, 0.085355, 0.014645], abs=1e-6)


@pytest.mark.parametrize("optimizer, nesterov", [("sgd", True), ("sgd", False), ("adam", False), ("adamw", False)])
def test_the_optimizer_has_the_configured_settings_on_every_parameter(optimizer, nesterov):
    config = TrainConfig(optimizer=optimizer, lr=0.07, momentum=0.8, nesterov=nesterov, weight_decay=3e-4)
    model = create("vt_resnet20", num_classes=10)
    built = _optimizer(model, config)
    kind = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[optimizer]
    assert type(built) is kind
    groups = built.param_groups
    # weight decay applies to every parameter, batch norms and biases included, as the paper's recipe (plain L2)
    assert sum(len(g["params"]) for g in groups) == len(list(model.parameters()))
    assert all(g["lr"] == 0.07 and g["weight_decay"] == 3e-4 for g in groups)
    if optimizer == "sgd":
        assert all(g["momentum"] == 0.8 and g["nesterov"] is nesterov for g in groups)


def test_augmentation_changes_a_train_batch_and_never_an_eval_batch(shapes):
    """crop_flip on train: the same images come out moved or mirrored in some batch, in every channel; on eval the
    batch is the images normalized per channel, exactly."""
    plain = next(iter(data.make_loader(shapes, "train", batch_size=32, augment="none", seed=0).epoch(0)))[0]
    augmented = next(iter(data.make_loader(shapes, "train", batch_size=32, augment="crop_flip", seed=0).epoch(0)))[0]
    changed = (augmented - plain).abs().amax(dim=(2, 3)) > 1e-6  # (images, channels)
    assert changed.any(0).all()  # every channel moves in some image
    assert changed.float().mean() > 0.5

    three = replace(shapes, mean=(0.2, 0.5, 0.7), std=(0.3, 0.2, 0.1))  # each channel its own statistics
    x, _ = next(iter(data.make_loader(three, "eval", batch_size=16, seed=0).epoch(0)))
    image = three.eval.images[0].float() / 255  # the first eval image, channel by channel
    for channel, (m, s) in enumerate(((0.2, 0.3), (0.5, 0.2), (0.7, 0.1))):
        torch.testing.assert_close(x[0, channel], (image[channel] - m) / s)
    again = next(iter(data.make_loader(three, "eval", batch_size=16, seed=1).epoch(3)))[0]
    torch.testing.assert_close(again, x)  # no randomness on eval, whatever the seed or epoch
