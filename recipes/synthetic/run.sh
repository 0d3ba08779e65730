#!/usr/bin/env bash
# The quick demo for someone without a corpus: build the synthetic 10-voice corpus
# (make_corpus.sh) and train the tiny model on it.
#
#   recipes/synthetic/run.sh [OUT_DIR] [STEPS]      (defaults: out/synthetic, 2000)
#
# Writes OUT_DIR/corpus/, OUT_DIR/model.safetensors, its checkpoint and its JSON-lines log.
# Interrupted (Ctrl-C), it prints the command that resumes: this one, run again.
set -euo pipefail
again=$(printf '%q ' "$0" "$@")
case "${1:-}" in -h|--help) sed -n '2,9p' "$0"; exit 0 ;; -*) echo "run.sh: unknown option $1" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-out/synthetic}
steps=${2:-2000}
[ -x "$root/build/vconv" ] || BUILD_TARGET=vconv_cli "$root/scripts/build" >/dev/null
"$here/make_corpus.sh" "$out/corpus" 8
model="$out/model.safetensors"
resume=()
[ -f "$model.ckpt" ] && resume=(--resume "$model.ckpt") && echo "run.sh: resuming from $model.ckpt"
rc=0
"$root/build/vconv" train --data "$out/corpus" -o "$model" --preset tiny --steps "$steps" \
  --batch 8 --segment 64 --val-every 200 --checkpoint-every 500 "${resume[@]}" || rc=$?
if [ "$rc" -eq 130 ] || [ "$rc" -eq 143 ]; then
  echo "run.sh: interrupted; run again to continue (from $model.ckpt when it exists): ${again% }" >&2
  exit "$rc"
fi
[ "$rc" -eq 0 ] || exit "$rc"
echo "run.sh: model in $model, training log in $model.log.jsonl"
