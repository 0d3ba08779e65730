#!/usr/bin/env bash
# The training tail of the recipes: train the default preset on every set of a training view
# (or resume from its checkpoint when one exists), then draw the training curve.
#
#   recipes/common/train.sh OUT STEPS THREADS [AGAIN [NAME [TRAIN_OPTION ...]]]
#
# Reads OUT/train/<set>/ (recipes/common/make_view.sh), writes OUT/NAME.safetensors (NAME
# default "model") with its checkpoint and JSON-lines log, and its training curve
# OUT/training.svg (OUT/training-NAME.svg for another NAME). TRAIN_OPTIONs go to vconv train
# (a later stage: --init OUT/model.safetensors ...; on resume the checkpoint must agree with
# them). Interrupted (Ctrl-C, SIGTERM), it says how to resume: AGAIN, the calling recipe's own
# command line, run again; else this script's.
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,12p' "$0"; exit 0 ;; esac
[ $# -ge 3 ] || { echo "usage: $0 OUT STEPS THREADS [AGAIN [NAME [TRAIN_OPTION ...]]]" >&2; exit 2; }
out=$1 steps=$2 threads=$3
again=${4:-$(printf '%q ' "$0" "$@")}
name=${5:-model}
shift $(($# < 5 ? $# : 5))
curve="$out/training.svg"
[ "$name" = model ] || curve="$out/training-$name.svg"
root=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$root/build/vconv" ] || BUILD_TARGET=vconv_cli "$root/scripts/build" >/dev/null
model="$out/$name.safetensors"
data=()
for d in "$out"/train/*/; do data+=(--data "${d%/}"); done
resume=()
[ -f "$model.ckpt" ] && resume=(--resume "$model.ckpt") && echo "train.sh: resuming from $model.ckpt"
rc=0
"$root/build/vconv" train "${data[@]}" -o "$model" --preset default --steps "$steps" \
  --threads "$threads" "$@" "${resume[@]}" || rc=$?
if [ "$rc" -eq 130 ] || [ "$rc" -eq 143 ]; then # stopped with a checkpoint, or before any step
  echo "train.sh: interrupted; run again to continue (from $model.ckpt when it exists): ${again% }" >&2
  exit "$rc"
fi
[ "$rc" -eq 0 ] || exit "$rc"
"$root/scripts/plot_training" "$model.log.jsonl" "$curve"
echo "train.sh: model $model, training curve $curve"
