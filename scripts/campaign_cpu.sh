#!/usr/bin/env bash
# The seeded real-data campaign for two CPU cores: every study, in order, each notebook training only the runs
# not finished yet (a run resumes from its checkpoint; a finished run is read back from its checkpoint or from
# results/<profile>/<notebook>/runs/, where each run lands when it ends). Idempotent: start it again after a
# stop, on another day, and it goes on where it stopped; a study whose results landed is skipped. Hours of
# work; meant for the background:
#   nohup setsid bash scripts/campaign_cpu.sh > campaign.log 2>&1 &
# and paused while other heavy work runs: bash scripts/campaign_pause.sh stop|continue.
# Studies (profile, notebook), the plan and the measured epoch times are in each profile's comments; a study marked
# "paired" retrains its landed runs that have no per-example predictions, so that its intervals are paired.
set -euo pipefail
cd "$(dirname "$0")/.."
studies=(
    "cifar10-cpu 01_baseline"              # ResNet-20, ViTResNet, VT-ResNet-20: 40 epochs, seeds 1-2 (about 5.5 h)
    "tiny-imagenet-cpu-attention 05_attention"  # Sec. 6 with real boxes: VT-ResNet-20, 20 classes, 30 epochs, 3 seeds (about 1.5 h)
    "cifar10-cpu-tokenizers 02_tokenizers"  # Tables 3, 4 on VT-ResNet-20: 15 epochs, 3 seeds (about 3 h)
    "cifar10-cpu-tokens 03_resolution"      # Table 6 and token widths: 15 epochs, 3 seeds (under 2.5 h)
    "cifar10-cpu-resolution 03_resolution"  # native 32 vs upscaled 64: ResNet-20, VT-ResNet-20, 6 epochs, 3 seeds (about 3 h)
    # The earlier report's own data: Tiny ImageNet, 20 classes, 64x64, 30 epochs, 3 seeds (profiles/tiny-imagenet-cpu*.yaml)
    "tiny-imagenet-cpu 01_baseline"             # ResNet-20 vs VT-ResNet-20 (the attention study's runs): 2.3 h measured
    "tiny-imagenet-cpu-tokenizers 02_tokenizers" # filter, pooling (recurrent: the comparison's runs): 5.6 h measured
    "tiny-imagenet-cpu-tokens 03_resolution"    # 32 tokens, 512 token channels (16 / 128: the same runs): 2-3 h
    "cifar10-cpu 01_baseline paired"            # retrain the seed-0 runs kept without predictions: about 5 h
    "tiny-imagenet-cpu-r18 01_baseline"         # ResNet-18 vs VT-ResNet-18, 15 epochs: about 8.5 h (bench)
    "tiny-imagenet-cpu-resolution 03_resolution"  # native 64 vs upscaled 128 px, 10 epochs: about 3.8 h
)
source scripts/ensure_env.sh
for study in "${studies[@]}"; do
    read -r profile notebook paired <<< "$study"
    aside="checkpoints/unpaired/$profile/$notebook"
    if [[ -n "$paired" ]]; then
        # Runs landed before runs kept per-example predictions give only unpaired intervals: set them aside (in
        # checkpoints/, not results/) so that the study trains them again, predictions kept. Done when none is
        # left and nothing set aside waits for its study to end.
        unpaired=$(find "results/$profile/$notebook/runs" -mindepth 1 -maxdepth 1 -type d \
                   '!' -exec test -e '{}/predictions.npy' ';' -print 2>/dev/null || true)
        if [[ -z "$unpaired" && ! -d "$aside" ]]; then
            echo "==> $profile $notebook: every landed run has its predictions, skipped"
            continue
        fi
        mkdir -p "$aside/runs" "$aside/checkpoints"
        for run in $unpaired; do  # the landed run and its finished checkpoint, which would land it again as it was
            name="$(basename "$run")"
            for pair in "$run:$aside/runs/$name" "checkpoints/$profile/$notebook/$name:$aside/checkpoints/$name"; do
                from="${pair%%:*}" to="${pair#*:}"
                if [[ -e "$from" && ! -e "$to" ]]; then mv -T "$from" "$to"; else rm -rf "$from"; fi
            done
        done
    # A study whose results landed with the profile's parameters is done, even where its checkpoints are gone.
    elif "$VT_PY" -m vt.notebooks landed "$profile" "$notebook"; then
        echo "==> $profile $notebook: landed in results/$profile/, skipped"
        continue
    fi
    echo "==> $(date -u +%FT%TZ) $profile $notebook"
    ./run_all.sh --profile "$profile" "$notebook"
    rm -rf "$aside"
done
echo "==> $(date -u +%FT%TZ) campaign done"
