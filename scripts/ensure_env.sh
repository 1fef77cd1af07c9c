#!/usr/bin/env bash
# Make .venv ready and bind this checkout's code to it: create the environment if missing (the pinned
# requirements.txt), export VT_PY (the environment's Python) and put this checkout first on PYTHONPATH.
# Sourced by run_all.sh, run_tests.sh and the scripts under scripts/.
#
# The environment holds the dependencies only, never the project itself: it lives in a cache keyed by the hash
# of requirements.txt (${VT_ENV_CACHE:-~/.cache/vt-reproduction}/venv-<hash>) and .venv links to it, so that a
# fresh clone on the same machine, CI's included, reuses it instead of reinstalling torch, while each checkout runs
# its own code: the scripts set PYTHONPATH to the checkout, and the notebooks' Jupyter kernel is bound to it each
# time one runs (vt/kernel.py), never registered for the user.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    echo "error: need Python >= 3.10 as '$python' (set PYTHON=/path/to/python3)" >&2
    exit 1
fi

hash="$(cat "$root/requirements.txt" <("$python" -c 'import sys; print(sys.version_info[:2])') | sha256sum | cut -c1-16)"
cache="${VT_ENV_CACHE:-$HOME/.cache/vt-reproduction}"
env_dir="$cache/venv-$hash"

# An environment without its .complete mark was interrupted while installing: start it again.
if [ ! -f "$env_dir/.complete" ]; then
    echo "==> creating the environment $env_dir (torch and friends: a few minutes the first time)"
    mkdir -p "$cache"
    rm -rf "$env_dir"
    "$python" -m venv "$env_dir"
    "$env_dir/bin/python" -m pip install --quiet --upgrade pip
    "$env_dir/bin/python" -m pip install --quiet -r "$root/requirements.txt"
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
PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
export VT_PY PYTHONPATH
