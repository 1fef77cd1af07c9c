#!/usr/bin/env bash
# Training and inference images/s of the CIFAR-10 CPU models (the cifar10-cpu profile's batch), in fp32 eager and in
# that profile's bf16 + torch.compile, into one table: results/bench/cifar10-cpu.csv. Run it with nothing else busy.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure_env.sh
out=results/bench/cifar10-cpu.csv
rm -f "$out"
for setting in "--precision fp32 --no-compile-model" "--precision bf16 --compile-model"; do
    # shellcheck disable=SC2086  # $setting is two flags
    "$VT_PY" -m vt.bench --models resnet20 vit_resnet_cifar vt_resnet20 --resolution 32 --batch-size 128 \
        $setting --out "$out" --append
done
