# Sourced by the scripts for a time-limited GPU machine (a Colab runtime, a spot instance) that has Python with
# torch but not this project's other packages, and maybe no package index: wheels in .whl/ (made beforehand by
# `.venv/bin/python scripts/device_wheels.py`) are installed to /tmp/site once, this checkout and /tmp/site go on
# PYTHONPATH (vt.execute binds the notebooks' Jupyter kernel to both), and data archives copied to .carry/ are
# found there (VT_SHARED_DATASETS). Where the machine has the packages already, .whl/ can be absent. Sets VT_PY (the Python to use) and VT_GPU (the GPU's short
# name, as the benchmark files are named: "h200"; "cpu" without one), and writes the GPU's description to
# results/<profile>/device.txt when given a profile as $1.
if [ -d .whl ] && [ "$(cat /tmp/site/.complete 2>/dev/null)" != "$(ls .whl)" ]; then  # again when the wheels change
    rm -rf /tmp/site
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
    ls .whl > /tmp/site/.complete
fi
export PYTHONPATH="/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}" PATH="/tmp/site/bin:$PATH" PYTHONUNBUFFERED=1
[ -d .carry ] && export VT_SHARED_DATASETS="$PWD/.carry"
VT_PY="${VT_PY:-python3}"
VT_GPU="$("$VT_PY" -c 'import torch; print(torch.cuda.get_device_name().split()[-1].lower() if torch.cuda.is_available() else "cpu")')"
if [ -n "${1:-}" ]; then
    mkdir -p "results/$1"
    { nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; "$VT_PY" -c 'import torch; print("torch", torch.__version__)'; } \
        > "results/$1/device.txt" 2>&1 || true
fi
