#!/usr/bin/env bash
# The main job: set up the environment if needed, then run notebooks headless through papermill.
#   ./run_all.sh                                  every notebook on the smoke profile (synthetic data, CPU, minutes)
#   ./run_all.sh --profile cifar10-cpu 01_baseline   one notebook on a real profile (profiles/<name>.yaml)
# Executed notebooks go to results/<profile>/, their tables and figures to results/<profile>/<notebook>/;
# 00_report runs last and collects every profile's results.
set -euo pipefail
cd "$(dirname "$0")"

usage() { sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; }
profile=smoke
selected=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --profile) profile="${2:?--profile needs a name}"; shift 2 ;;
        --profile=*) profile="${1#*=}"; shift ;;
        -h | --help) usage; exit 0 ;;
        -*) echo "error: unknown option $1" >&2; usage >&2; exit 2 ;;
        *) selected+=("${1%.ipynb}"); shift ;;
    esac
done
if [[ ! -f "profiles/$profile.yaml" ]]; then
    echo "error: no profile '$profile'; profiles: $(cd profiles && ls *.yaml | sed 's/\.yaml$//' | tr '\n' ' ')" >&2
    exit 2
fi
notebooks=()
if [[ ${#selected[@]} -eq 0 ]]; then
    for nb in notebooks/[0-9]*.ipynb; do [[ "$nb" == */00_* ]] || notebooks+=("$nb"); done
    notebooks+=(notebooks/00_*.ipynb)  # the report reads what the others wrote
else
    for name in "${selected[@]}"; do
        nb="notebooks/$(basename "$name").ipynb"
        [[ -f "$nb" ]] || { echo "error: no notebook $nb; notebooks: $(ls notebooks | tr '\n' ' ')" >&2; exit 2; }
        notebooks+=("$nb")
    done
fi

source scripts/ensure_env.sh
params="$(mktemp --suffix=.yaml)"  # the profile, checked, with the values of the one it extends filled in
trap 'rm -f "$params"' EXIT
"$VT_PY" -m vt.notebooks resolve "$profile" > "$params"

out="results/$profile"
mkdir -p "$out"
start=$SECONDS
for i in "${!notebooks[@]}"; do
    nb="${notebooks[$i]}"
    echo "==> [$((i + 1))/${#notebooks[@]}] $nb -> $out/$(basename "$nb")  ($((SECONDS - start)) s so far)"
    # Written beside the result under a hidden name while it runs, moved in place when it ends: a long run in
    # progress, or one that failed, never replaces the executed notebook of the last finished run.
    partial="$out/.partial-$(basename "$nb")"
    "$VT_PY" -m vt.execute "$nb" "$partial" -f "$params" --cwd notebooks
    mv "$partial" "$out/$(basename "$nb")"
done
echo "==> done in $((SECONDS - start)) s: executed notebooks in $out/, tables and figures in $out/<notebook>/"
if [[ " ${notebooks[*]} " == *"/00_"* ]]; then
    "$VT_PY" -m vt.report --update-docs  # README's summary, claims and runtimes, and docs/, from what was just run
    echo "    the report in $out/00_report.ipynb and results/report.md; README.md and docs/ brought up to date"
else
    echo "    the report is not rerun: ./run_all.sh 00_report collects every profile's results"
fi
