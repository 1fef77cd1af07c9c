#!/usr/bin/env bash
# Make .venv ready: create it if missing, install the pinned requirements of pyproject.toml, install this
# checkout in editable mode and register the Jupyter kernel "vt". Sourced by run_all.sh, run_tests.sh and
# scripts/bench_cifar10_cpu.sh.
#
# The environment itself lives in a cache keyed by the hash of pyproject.toml
# (${VT_ENV_CACHE:-~/.cache/vt-reproduction}/venv-<hash>), and .venv links to it: a fresh clone on the same
# machine, CI's included, reuses it instead of reinstalling torch; a change of the pins builds a new one.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    echo "error: need Python >= 3.10 as '$python' (set PYTHON=/path/to/python3)" >&2
    exit 1
fi

hash="$(sha256sum "$root/pyproject.toml" | cut -c1-16)"
cache="${VT_ENV_CACHE:-$HOME/.cache/vt-reproduction}"
env_dir="$cache/venv-$hash"

# An environment without its .complete mark was interrupted while installing: start it again.
if [ ! -f "$env_dir/.complete" ]; then
    echo "==> creating the environment $env_dir (torch and friends: a few minutes the first time)"
    mkdir -p "$cache"
    rm -rf "$env_dir"
    "$python" -m venv "$env_dir"
    "$env_dir/bin/python" -m pip install --quiet --upgrade pip
    "$env_dir/bin/python" -m pip install --quiet -e "$root"
    touch "$env_dir/.complete"
fi

if [ "$(readlink "$root/.venv" 2>/dev/null)" != "$env_dir" ]; then
    if [ -e "$root/.venv" ] && [ ! -L "$root/.venv" ]; then
        echo "error: $root/.venv exists and is not a link to $env_dir; remove it and run again" >&2
        exit 1
    fi
    ln -sfn "$env_dir" "$root/.venv"
fi

VT_PY="$root/.venv/bin/python"
# The shared environment's editable install must point at this checkout.
# (Asked from / so that the checkout's own folder on sys.path does not answer for the environment.)
if [ "$(cd / && "$VT_PY" -c 'import vt, pathlib; print(pathlib.Path(vt.__file__).resolve().parents[1])' 2>/dev/null)" != "$root" ]; then
    echo "==> installing this checkout ($root) into the environment"
    "$VT_PY" -m pip install --quiet --no-deps -e "$root"
fi
"$VT_PY" -m ipykernel install --user --name vt --display-name "Python (vt reproduction)" >/dev/null
export VT_PY
