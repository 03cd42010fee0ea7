#!/bin/sh
# Re-runs every built-in ablation study (quick settings) and regenerates its page and figures here.
#   sh experiments/results/regenerate.sh [LOGROOT]     (default logs/ablate; finished runs are reused)
set -e
results=$(dirname "$0")
logroot=${1:-logs/ablate}
for study in pooling upsampling depth conv_type inception dilation; do
    convnas ablate "$study" --logdir "$logroot/$study"
    convnas table "$logroot/$study" --format report > "$results/$study.md"
    metric=$(python3 -c "import json, sys; print(json.load(open(sys.argv[1]))['metric'])" "$logroot/$study/study.json")
    cp "$logroot/$study/$metric.png" "$results/$study.png"
    if [ -f "$logroot/$study/samples.png" ]; then cp "$logroot/$study/samples.png" "$results/$study-samples.png"; fi
done
