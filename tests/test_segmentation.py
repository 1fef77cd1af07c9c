"""FPN and VT-FPN (Tables 9-10): shapes, the registry, the FLOPs the paper compares, mIoU, training and resume."""

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

import vt.models as M
from vt import findings, segmentation as seg
from vt.errors import ConfigError, DataNotFoundError
from vt.models.fpn import PyramidVT

SEGMENTATION = M.names("segmentation")


def test_the_registry_keeps_segmentation_models_apart():
    assert {"fpn_resnet50", "vt_fpn_resnet50", "fpn_resnet18", "vt_fpn_resnet18"} <= set(SEGMENTATION)
    assert not set(SEGMENTATION) & set(M.names())  # classifiers only, as the training notebooks choose from
    with pytest.raises(ConfigError, match="unknown task"):
        M.names("detection")


@pytest.mark.parametrize("size", [(32, 32), (64, 48), (70, 50)])
@pytest.mark.parametrize("name", SEGMENTATION)
def test_every_segmentation_model_gives_logits_at_the_input_size(name, size):
    model = M.create(name, num_classes=5).eval()
    with torch.no_grad():
        for batch in (1, 3):
            out = model(torch.randn(batch, 3, *size))
            assert out.shape == (batch, 5, *size) and torch.isfinite(out).all()


@pytest.mark.parametrize("name", ["fpn_resnet18", "vt_fpn_resnet18"])
def test_every_parameter_of_a_segmentation_model_receives_a_gradient(name):
    model = M.create(name, num_classes=4).train()
    model(torch.randn(2, 3, 64, 64)).logsumexp(1).sum().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing, missing[:5]


def test_vt_fpn_keeps_the_laterals_and_replaces_the_output_convolutions():
    fpn, vt_fpn = M.create("fpn_resnet50"), M.create("vt_fpn_resnet50")
    assert all(isinstance(m, torch.nn.Identity) for m in vt_fpn.fpn.fpn.layer_blocks)
    assert not any(isinstance(m, torch.nn.Identity) for m in fpn.fpn.fpn.layer_blocks)
    assert [b[0].weight.shape for b in vt_fpn.fpn.fpn.inner_blocks] == [b[0].weight.shape for b in fpn.fpn.fpn.inner_blocks]
    vt = vt_fpn.fpn.vt
    assert isinstance(vt, PyramidVT) and len(vt.tokenizers) == 4 and vt.tokens == 8
    assert vt.tokenizers[0].value.weight.shape == (1024, 256)  # 8 tokens of 1024 channels from each 256-wide level


def test_the_transformer_relates_tokens_of_different_levels():
    """Eqs. 3-4 run over the tokens of all levels together: changing the coarsest level changes the finest output."""
    torch.manual_seed(0)
    vt = PyramidVT(levels=2, channels=16, tokens=2, token_channels=32).eval()
    fine, coarse = torch.randn(1, 16, 8, 8), torch.randn(1, 16, 4, 4)
    with torch.no_grad():
        a = vt([fine, coarse])[0]
        b = vt([fine, coarse + 1.0])[0]
    assert not torch.allclose(a, b)


@pytest.fixture(scope="module")
def paper_flops() -> pd.DataFrame:
    return seg.flops_table()


def test_fpn_flops_ratio_is_the_papers_within_ten_percent(paper_flops):
    table = paper_flops.set_index(["data", "model"])
    for data in seg.PAPER_SIZES:
        ours = table.fpn_gflops[(data, "fpn_resnet50")] / table.fpn_gflops[(data, "vt_fpn_resnet50")]
        paper = table.paper_fpn_gflops[(data, "fpn_resnet50")] / table.paper_fpn_gflops[(data, "vt_fpn_resnet50")]
        assert abs(ours / paper - 1) <= 0.10, (data, ours, paper)
    # the FPN itself at the COCO-stuff size costs the paper's 55.1 G within 1%
    assert table.fpn_gflops[("COCO-stuff", "fpn_resnet50")] == pytest.approx(55.1, rel=0.01)
    assert (table.backbone_gflops + table.fpn_gflops + table.head_gflops <= table.total_gflops * 1.0001).all()


def test_the_flops_finding_reads_the_counts_beside_the_summary(paper_flops, tmp_path):
    paper_flops.to_csv(tmp_path / "flops.csv", index=False)
    summary = pd.DataFrame(columns=["label"])
    summary.attrs["folder"] = str(tmp_path)
    assert findings.vt_fpn_fewer_flops(summary).verdict == findings.REPRODUCED
    doubled = paper_flops.assign(fpn_gflops=np.where(paper_flops.model == "vt_fpn_resnet50",
                                                     2 * paper_flops.fpn_gflops, paper_flops.fpn_gflops))
    doubled.to_csv(tmp_path / "flops.csv", index=False)
    assert findings.vt_fpn_fewer_flops(summary).verdict == findings.NOT_REPRODUCED
    assert findings.vt_fpn_fewer_flops(pd.DataFrame(columns=["label"])).verdict == findings.NOT_RUN


def _summary(dataset: str, vt_mious: list[float], fpn_mious: list[float]) -> pd.DataFrame:
    return pd.DataFrame([{"label": label, "model": model, "dataset": dataset, "resolution": 473, "epochs": 10,
                          "finished": True, "seeds": len(m), "miou": np.mean(m),
                          "miou_std": np.std(m, ddof=1) if len(m) > 1 else np.nan}
                         for label, model, m in (("VT-FPN", "vt_fpn_resnet50", vt_mious), ("FPN", "fpn_resnet50", fpn_mious))])


def test_the_miou_finding_needs_real_data_seeds_and_an_interval():
    check = findings.vt_fpn_matches_miou
    assert check(_summary("synthetic", [0.5, 0.51, 0.52], [0.5, 0.5, 0.5])).verdict == findings.SMOKE
    assert check(_summary("lip", [0.47], [0.47])).verdict == findings.INCONCLUSIVE
    assert check(_summary("lip", [0.474, 0.475, 0.473], [0.470, 0.471, 0.469])).verdict == findings.REPRODUCED
    assert check(_summary("lip", [0.40, 0.401, 0.399], [0.47, 0.471, 0.469])).verdict == findings.NOT_REPRODUCED
    assert check(_summary("lip", [0.40, 0.47, 0.43], [0.47, 0.471, 0.469])).verdict == findings.INCONCLUSIVE


def test_iou_counts_true_positives_over_the_union_and_skips_unlabelled_pixels():
    target = torch.tensor([[0, 0, 1, 1], [2, 2, seg.IGNORE, 1]])
    pred = torch.tensor([[0, 1, 1, 1], [2, 0, 2, 1]])
    matrix = seg.confusion(pred, target, 4)
    assert matrix.sum() == 7  # the ignored pixel is not counted
    np.testing.assert_allclose(seg.iou(matrix)[:3], [1 / 3, 3 / 4, 1 / 2])
    assert np.isnan(seg.iou(matrix)[3])  # class 3: in neither truth nor prediction


def test_synthetic_masks_give_each_object_its_shape_class():
    data = seg.synthetic_masks(32, 16, 8)
    assert data.classes[0] == "background" and data.num_classes == 7
    for mask in data.train.masks:
        present = set(mask.unique().tolist())
        assert 0 in present and len(present) == 2  # background and one shape


def test_training_lowers_the_loss_and_resumes_exactly(tmp_path):
    data = seg.synthetic_masks(32, 64, 16)
    config = seg.SegConfig("vt_fpn_resnet18", resolution=32, train_size=64, eval_size=16, epochs=2, batch_size=16,
                           progress=False)
    whole = seg.train_segmentation(config, data)
    assert whole.history.train_loss.iloc[-1] < whole.history.train_loss.iloc[0]
    assert 0 <= whole.history.eval_miou.iloc[-1] <= 1

    folder = str(tmp_path / "run")
    seg.train_segmentation(seg.SegConfig(**{**vars(config), "epochs": 2, "checkpoint_dir": folder}), data)
    state = torch.load(tmp_path / "run" / seg.CHECKPOINT, weights_only=False)
    state["history"] = state["history"][:1]  # as if stopped after epoch 1: rewind to the checkpoint before it
    prev = torch.load(tmp_path / "run" / "checkpoint.prev.pt", weights_only=False)
    torch.save(prev, tmp_path / "run" / seg.CHECKPOINT)
    resumed = seg.train_segmentation(seg.SegConfig(**{**vars(config), "checkpoint_dir": folder}), data)
    pd.testing.assert_frame_equal(resumed.history.drop(columns=["images_per_s", "epoch_time_s"]),
                                  whole.history.drop(columns=["images_per_s", "epoch_time_s"]))
    for a, b in zip(resumed.model.state_dict().values(), whole.model.state_dict().values()):
        assert torch.equal(a, b)  # bit for bit


def test_bad_settings_fail_at_once_with_one_line():
    with pytest.raises(ConfigError, match="unknown segmentation model 'resnet18'"):
        seg.SegConfig("resnet18")
    with pytest.raises(ConfigError, match="unknown segmentation dataset"):
        seg.load_masks("coco", 64)
    with pytest.raises(ConfigError, match="at least 32"):
        seg.load_masks("synthetic", 16)


def test_lip_is_read_from_its_unpacked_archives(tmp_path, monkeypatch):
    monkeypatch.setenv("VT_DATA_DIR", str(tmp_path))
    with pytest.raises(DataNotFoundError, match="LIP not found"):
        seg.load_masks("lip", 32)
    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        (tmp_path / "LIP" / f"{split}_images").mkdir(parents=True)
        (tmp_path / "LIP" / f"{split}_segmentations").mkdir(parents=True)
        for i in range(3):
            Image.fromarray(rng.integers(0, 255, (40, 30, 3), dtype=np.uint8)).save(tmp_path / "LIP" / f"{split}_images" / f"{i}.jpg")
            mask = np.zeros((40, 30), np.uint8)
            mask[10:20, 5:15] = 13  # face
            mask[0, 0] = 200  # not a class: ignored
            Image.fromarray(mask).save(tmp_path / "LIP" / f"{split}_segmentations" / f"{i}.png")
    data = seg.load_masks("lip", 32, train_size=2)
    assert len(data.train) == 2 and len(data.eval) == 3 and data.num_classes == 20
    assert data.train.images.shape == (2, 3, 32, 32) and set(data.train.masks.unique().tolist()) == {0, 13, seg.IGNORE}
