#!/usr/bin/env bash
# Pause the CPU campaign (scripts/campaign_cpu.sh) while other heavy work uses the machine, and let it go on after:
#   bash scripts/campaign_pause.sh stop
#   bash scripts/campaign_pause.sh continue
# It signals the campaign of this checkout (another checkout's is left alone; a second argument names another).
# Two jobs on two cores slow each other down many times over. Stopping the campaign's own process is not enough:
# the notebook's Jupyter kernel, where the runs train, is a session of its own, so every process under the campaign
# is signalled. An epoch that spans a pause records no images/s (vt/epoch.py); its other numbers stand.
set -euo pipefail
case "${1:-}" in
    stop) signal=STOP ;;
    continue) signal=CONT ;;
    *) echo "usage: bash scripts/campaign_pause.sh stop|continue [CHECKOUT]" >&2; exit 2 ;;
esac
checkout="$(cd "${2:-$(dirname "$0")/..}" && pwd -P)"
campaigns=""
for pid in $(pgrep -f "scripts/campaign_cpu\.sh" || true); do  # the campaign runs in its checkout's root
    [[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" == "$checkout" ]] && campaigns="$campaigns $pid"
done
if [[ -z "$campaigns" ]]; then
    echo "error: no campaign of $checkout is running (scripts/campaign_cpu.sh)" >&2
    exit 2
fi
descendants() {
    echo "$1"
    for child in $(ps -o pid= --ppid "$1"); do descendants "$child"; done
}
count=0
for campaign in $campaigns; do
    for pid in $(descendants "$campaign"); do
        kill -"$signal" "$pid" 2>/dev/null && count=$((count + 1)) || true
    done
done
echo "campaign: $1 ($count processes)"
