#!/usr/bin/env bash
# The earlier report's CIFAR-10 experiment and VT's speed at the paper's scale, in one session on a
# time-limited GPU machine (a Colab runtime, a spot instance):
#   bash scripts/gpu_cifar10.sh MINUTES [PROFILE]          e.g. bash scripts/gpu_cifar10.sh 9
# 1. python -m vt.bench at 224 px, 1000 classes: ResNet-18/34/50 against VT-ResNet-18/34/50, training and
#    inference images/s, bf16 and channels_last, eager (-> results/bench/<gpu>-224.csv).
# 2. python -m vt.side_by_side: the profile's models (default cifar10: ResNet-18/34/50, the report's ViTResNet,
#    VT-ResNet-18) trained side by side on the GPU, the epochs fitted to what is left of MINUTES.
# 3. notebooks/01_baseline.ipynb executed over the finished runs (-> results/<profile>/).
# Set-up (wheels in .whl/, the CIFAR-10 archive in .carry/): scripts/gpu_setup.sh. Everything written comes
# back as one tarball in $OUT (default /tmp/vt-device-out). BENCH_MODELS, BENCH_RESOLUTION and BENCH_BATCH
# change step 1 (a rehearsal on CPU uses small ones); BENCH=0 leaves it out.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:?usage: gpu_cifar10.sh MINUTES [PROFILE]}"
profile="${2:-cifar10}"
deadline=$((SECONDS + ${minutes%.*} * 60))
out="${OUT:-/tmp/vt-device-out}"
mkdir -p "$out" results/bench "results/$profile/01_baseline"
land() { tar czf "$out/results-$profile.tar.gz" results/bench "results/$profile"; }  # after each step: a cut-off run keeps what is done
trap 'land; echo "==> results in $out/results-$profile.tar.gz"' EXIT

source scripts/gpu_setup.sh "$profile"
echo "==> decoding the data set once ($((deadline - SECONDS)) s left)"
"$VT_PY" -m vt.notebooks resolve "$profile" > /tmp/profile.yaml
"$VT_PY" -c "import sys, yaml; from vt.data import load; load(yaml.safe_load(open('/tmp/profile.yaml'))['dataset'])"

if [ "${BENCH:-1}" = 1 ]; then
echo "==> bench ($((deadline - SECONDS)) s left)"
gpu="$VT_GPU"
resolution="${BENCH_RESOLUTION:-224}"
"$VT_PY" -m vt.bench --models ${BENCH_MODELS:-resnet18 vt_resnet18 resnet34 vt_resnet34 resnet50 vt_resnet50} \
    --resolution "$resolution" --batch-size "${BENCH_BATCH:-128}" --num-classes 1000 --steps 10 --rounds 3 \
    --out "results/bench/$gpu-$resolution.csv"
land
fi

left=$(awk "BEGIN { print ($deadline - $SECONDS - 40) / 60 }")  # 40 s kept for the notebook
echo "==> training side by side, $left min"
"$VT_PY" -m vt.side_by_side 01_baseline --profile /tmp/profile.yaml --minutes "$left" -p compile_model false \
    --write-profile /tmp/profile-fitted.yaml 2>&1 | tee "results/$profile/01_baseline/side_by_side.log"
land

echo "==> 01_baseline over the finished runs ($((deadline - SECONDS)) s left)"
"$VT_PY" -m vt.execute notebooks/01_baseline.ipynb "results/$profile/01_baseline.ipynb" -f /tmp/profile-fitted.yaml \
    -p read_only true --cwd notebooks
