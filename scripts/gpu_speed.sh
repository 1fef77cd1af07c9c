#!/usr/bin/env bash
# Why VT-ResNet trains slower on a GPU than its FLOPs promise, in one session on a time-limited GPU machine (a Colab
# runtime, a spot instance); no data set needed:
#   bash scripts/gpu_speed.sh
# 1. python -m vt.bench at 224 px, 1000 classes, compiled (torch.compile), bf16 and channels_last: ResNet-18/34/50
#    against VT-ResNet-18/34/50, added to the eager rows of results/bench/<gpu>-224.csv (README's speed table).
# 2. python -m vt.profile at 224 px: ResNet-18 and VT-ResNet-18, eager and compiled, where each training step's
#    time goes (-> results/bench/profile-<gpu>-224.csv).
# Set-up (wheels in .whl/): scripts/gpu_setup.sh. Everything written comes back as one tarball in $OUT (default
# /tmp/vt-device-out), after each step. BENCH_MODELS, PROFILE_MODELS, RESOLUTION and BATCH change the sizes (a
# rehearsal on CPU, in a scratch clone since it writes the CPU's files in results/bench/, uses small ones).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-/tmp/vt-device-out}"
mkdir -p "$out" results/bench
land() { tar czf "$out/results-bench.tar.gz" results/bench; }  # a cut-off session keeps what is done
trap 'land; echo "==> results in $out/results-bench.tar.gz"' EXIT

source scripts/gpu_setup.sh
gpu="$VT_GPU"
resolution="${RESOLUTION:-224}"
batch="${BATCH:-128}"

echo "==> bench, compiled ($SECONDS s so far)"
"$VT_PY" -m vt.bench --models ${BENCH_MODELS:-resnet18 vt_resnet18 resnet34 vt_resnet34 resnet50 vt_resnet50} \
    --resolution "$resolution" --batch-size "$batch" --num-classes 1000 --steps 10 --rounds 3 --compile-model \
    --append --out "results/bench/$gpu-$resolution.csv"
land

echo "==> profile ($SECONDS s so far)"
"$VT_PY" -m vt.profile --models ${PROFILE_MODELS:-resnet18 vt_resnet18} --resolution "$resolution" \
    --batch-size "$batch" --num-classes 1000 --precision bf16 --out "results/bench/profile-$gpu-$resolution.csv"
echo "==> done ($SECONDS s)"
