#!/usr/bin/env bash
# The main job: set up the environment if needed, then run every notebook headless through papermill on the
# embedded default (synthetic data, CPU). Executed notebooks go to results/smoke/.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/ensure_env.sh

out="results/smoke"
mkdir -p "$out"
notebooks=(notebooks/[0-9]*.ipynb)
for i in "${!notebooks[@]}"; do
    nb="${notebooks[$i]}"
    echo "==> [$((i + 1))/${#notebooks[@]}] $nb -> $out/$(basename "$nb")"
    "$VT_PY" -m papermill "$nb" "$out/$(basename "$nb")" --kernel vt --cwd notebooks --log-level WARNING --progress-bar
done
echo "==> done: executed notebooks in $out/, tables and figures in results/"
