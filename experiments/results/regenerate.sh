#!/bin/sh
# Re-runs built-in ablation studies (quick settings) and regenerates their folders here and the index README.md.
#   sh experiments/results/regenerate.sh [LOGROOT] [STUDY ...]   (default logs/ablate, all six; finished runs are reused)
# A STUDY named NAME-confirmation is NAME's confirmation (convnas ablate NAME --confirmation): its claims tested
# again on the fresh seeds its YAML plans; NAME-confirmation-K its K-th (convnas ablate NAME --confirmation K).
# Each study's folder gets its raw runs (runs.jsonl), its resolved spec (study.json), its tables
# (table.md, table.tex, table.csv), its report (report.md) and its figures.
set -e
results=$(dirname "$0")
logroot=${1:-logs/ablate}
[ $# -gt 0 ] && shift
studies=${*:-pooling inception dilation conv_type depth upsampling}
for study in $studies; do
    case $study in
        *-confirmation) convnas ablate "${study%-confirmation}" --confirmation --logdir "$logroot/$study" ;;
        *-confirmation-[0-9]*) convnas ablate "${study%-confirmation-*}" --confirmation "${study##*-}" \
                                   --logdir "$logroot/$study" ;;
        *) convnas ablate "$study" --logdir "$logroot/$study" ;;
    esac
    mkdir -p "$results/$study"
    for file in study.json runs.jsonl table.md table.tex table.csv report.md chart.png curves.png samples.png; do
        if [ -f "$logroot/$study/$file" ]; then cp "$logroot/$study/$file" "$results/$study/$file"; fi
    done
done
{
    cat "$results/README.header.md"
    for study in pooling inception dilation conv_type depth upsampling; do
        for folder in "$results/$study" "$results/$study-confirmation" "$results/$study-confirmation-"*; do
            if [ -f "$folder/study.json" ]; then echo; convnas table "$folder" --format summary; fi
        done
    done
} > "$results/README.md"
