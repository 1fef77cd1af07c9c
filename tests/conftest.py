import os
import tempfile

import pytest
import torch

from vt import kernel

# nbval starts kernel "vt" for the notebooks: this checkout's, with this checkout's code (vt/kernel.py).
kernel.bind()

# Notebooks executed by nbval write their tables under a temporary folder, not into the committed results/.
os.environ.setdefault("VT_RESULTS_DIR", tempfile.mkdtemp(prefix="vt-results-"))


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
