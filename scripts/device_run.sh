#!/usr/bin/env bash
# Run notebooks of a real profile on a time-limited GPU machine (a Colab runtime, a spot instance) inside a budget.
#   bash scripts/device_run.sh MINUTES PROFILE NOTEBOOK...       e.g. bash scripts/device_run.sh 8 cifar10 01_baseline
# Set-up (wheels in .whl/, data archives in .carry/, both git-ignored): scripts/gpu_setup.sh. The notebooks
# share MINUTES as their time budget
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

source scripts/gpu_setup.sh "$profile"
"$VT_PY" -m vt.notebooks resolve "$profile" > /tmp/profile.yaml  # checked, its parent's values filled in

for nb in "$@"; do
    left=$(( (deadline - SECONDS) / 60 ))
    if [ "$left" -lt 1 ]; then echo "==> no time left for $nb"; break; fi
    echo "==> $nb on $profile, $left min left"
    "$VT_PY" -m vt.execute "notebooks/$nb.ipynb" "results/$profile/$nb.ipynb" -f /tmp/profile.yaml \
        -p time_limit_min "$left" --cwd notebooks || echo "==> $nb failed"
done
tar czf "$out/results-$profile.tar.gz" "results/$profile"
echo "==> results in $out/results-$profile.tar.gz"
