"""Set-up for the whole suite, the unit tests under tests/ and nbval's notebooks under notebooks/ alike."""

import os
import tempfile

from vt import kernel

# nbval starts kernel "vt" for the notebooks: this checkout's, with this checkout's code (vt/kernel.py).
kernel.bind()

# Notebooks executed by nbval write their tables under a temporary folder, not into the committed results/.
os.environ.setdefault("VT_RESULTS_DIR", tempfile.mkdtemp(prefix="vt-results-"))
