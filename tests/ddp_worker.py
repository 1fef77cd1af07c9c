"""Run under ``torchrun --nproc_per_node=2``: one synthetic epoch with DDP (gloo, CPU); each rank saves its weights.

Used by tests/test_train.py; ``sys.argv[1]`` is the output folder.
"""

import os
import sys
from pathlib import Path

import torch

from vt.config import TrainConfig
from vt.models import create
from vt.train import fit

out = Path(sys.argv[1])
rank = int(os.environ["RANK"])
config = TrainConfig(
    model="vt_resnet20", epochs=1, train_size=256, eval_size=64, batch_size=64, lr=0.05, device="cpu",
    progress=False, checkpoint_dir=str(out / "run"),
)
if rank == 0:  # the weights before training, built as train() builds them
    torch.manual_seed(config.seed)
    torch.save(create("vt_resnet20", num_classes=6).state_dict(), out / "initial.pt")
torch.save(fit(config).model.state_dict(), out / f"rank{rank}.pt")
