#!/usr/bin/env bash
# The training tail of the recipes: train the default preset on every set of a training view
# (or resume from its checkpoint when one exists), then draw the training curve.
#
#   recipes/common/train.sh OUT STEPS THREADS
#
# Reads OUT/train/<set>/ (recipes/common/make_view.sh), writes OUT/model.safetensors with its
# checkpoint and JSON-lines log, and OUT/training.svg.
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,12p' "$0"; exit 0 ;; esac
[ $# -eq 3 ] || { echo "usage: $0 OUT STEPS THREADS" >&2; exit 2; }
out=$1 steps=$2 threads=$3
root=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$root/build/vconv" ] || BUILD_TARGET=vconv_cli "$root/scripts/build" >/dev/null
model="$out/model.safetensors"
data=()
for d in "$out"/train/*/; do data+=(--data "${d%/}"); done
resume=()
[ -f "$model.ckpt" ] && resume=(--resume "$model.ckpt") && echo "train.sh: resuming from $model.ckpt"
"$root/build/vconv" train "${data[@]}" -o "$model" --preset default --steps "$steps" \
  --threads "$threads" "${resume[@]}"
"$root/scripts/plot_training" "$model.log.jsonl" "$out/training.svg"
echo "train.sh: model $model, training curve $out/training.svg"
