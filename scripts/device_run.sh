#!/usr/bin/env bash
# Run notebooks of a real profile on a lent GPU machine (this workplace's `device` tool), inside one call's time.
#   bash scripts/device_run.sh MINUTES PROFILE NOTEBOOK...       e.g. bash scripts/device_run.sh 8 cifar10 01_baseline
# That machine has Python 3.12 with torch but no papermill, Jupyter kernel or fvcore, and no registry: those
# travel as wheels in .whl/ (made here by `.venv/bin/python scripts/device_wheels.py`, 15 MiB), data archives in
# .carry/ (both git-ignored; name them in the call's `carry`). The notebooks share MINUTES as their time budget
# (time_limit_min): training stops checkpointed before an epoch would end past it. Checkpoints stay on that
# machine's disk while it is warm, so the same command in the next call goes on where this one stopped.
# Results, the executed notebooks and the machine's description come back as one tarball in $OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:?usage: device_run.sh MINUTES PROFILE NOTEBOOK...}"
profile="${2:?usage: device_run.sh MINUTES PROFILE NOTEBOOK...}"
shift 2
deadline=$((SECONDS + ${minutes%.*} * 60))
out="${OUT:-/tmp/vt-device-out}"
mkdir -p "$out"

if [ ! -f /tmp/site/.complete ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
    touch /tmp/site/.complete
fi
export PYTHONPATH="/tmp/site:$PWD" PATH="/tmp/site/bin:$PATH" PYTHONUNBUFFERED=1
[ -d .carry ] && export VT_SHARED_DATASETS="$PWD/.carry"
python3 -m ipykernel install --user --name vt --display-name "Python (vt reproduction)" >/dev/null
python3 -m vt.notebooks resolve "$profile" > /tmp/profile.yaml  # checked, its parent's values filled in

mkdir -p "results/$profile"
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; python3 -c 'import torch; print("torch", torch.__version__)'; } \
    > "results/$profile/device.txt" 2>&1 || true
for nb in "$@"; do
    left=$(( (deadline - SECONDS) / 60 ))
    if [ "$left" -lt 1 ]; then echo "==> no time left for $nb"; break; fi
    echo "==> $nb on $profile, $left min left"
    python3 -m papermill "notebooks/$nb.ipynb" "results/$profile/$nb.ipynb" -f /tmp/profile.yaml \
        -p time_limit_min "$left" -k vt --cwd notebooks --log-level WARNING || echo "==> $nb failed"
done
tar czf "$out/results-$profile.tar.gz" "results/$profile"
echo "==> results in $out/results-$profile.tar.gz"
