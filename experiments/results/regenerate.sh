#!/bin/sh
# Re-runs built-in ablation studies (quick settings) and regenerates their folders here and the index README.md.
#   sh experiments/results/regenerate.sh [LOGROOT] [STUDY ...]   (default logs/ablate, all six; finished runs are reused)
# Each study's folder gets its raw runs (runs.jsonl), its resolved spec (study.json), its tables
# (table.md, table.tex, table.csv), its report (report.md) and its figures.
set -e
results=$(dirname "$0")
logroot=${1:-logs/ablate}
[ $# -gt 0 ] && shift
studies=${*:-pooling inception dilation conv_type depth upsampling}
for study in $studies; do
    convnas ablate "$study" --logdir "$logroot/$study"
    mkdir -p "$results/$study"
    for file in study.json runs.jsonl table.md table.tex table.csv report.md chart.png curves.png samples.png; do
        if [ -f "$logroot/$study/$file" ]; then cp "$logroot/$study/$file" "$results/$study/$file"; fi
    done
done
{
    cat "$results/README.header.md"
    for study in pooling inception dilation conv_type depth upsampling; do
        if [ -f "$results/$study/study.json" ]; then echo; convnas table "$results/$study" --format summary; fi
    done
} > "$results/README.md"
