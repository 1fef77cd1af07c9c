#!/usr/bin/env bash
# The test suite: set up the environment if needed, then run pytest (arguments are passed on to pytest).
set -euo pipefail
cd "$(dirname "$0")"
source scripts/ensure_env.sh
exec "$VT_PY" -m pytest "$@"
