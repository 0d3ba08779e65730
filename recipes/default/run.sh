#!/usr/bin/env bash
# Trains the default model on the project corpus (../shared/corpus) or another folder laid out
# as SUBSET/SPEAKER/*.flac, holding out what holdout.txt lists (the last 40 ARCTIC prompts of
# all three ARCTIC speakers, and about 10% of the other speakers entirely) for evaluation.
#
#   recipes/default/run.sh [CORPUS_DIR] [--out DIR] [--steps N] [--threads N] [--prepare-only]
#
# Writes to DIR (default out/default): train/ (the training view: symlinks to every corpus file
# not held out, so speakers stay SUBSET/SPEAKER), heldout.txt (the held-out files, for
# evaluation), model.safetensors with its checkpoint and JSON-lines log, and training.svg (the
# training curve). Run it again after an interruption: it resumes from the checkpoint.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
corpus="$root/../shared/corpus" out=out/default steps=20000 threads=$(nproc --all) prepare=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --prepare-only) prepare=1; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) corpus=$1; shift ;;
  esac
done
[ -d "$corpus" ] || { echo "run.sh: no corpus at $corpus" >&2; exit 1; }
corpus=$(cd "$corpus" && pwd)

# The training view, rebuilt from scratch each time so it always matches holdout.txt.
declare -A held_spk held_utt
while read -r kind name; do
  case "$kind" in
    spk) held_spk[$name]=1 ;;
    utt) held_utt[$name]=1 ;;
  esac
done < <(grep -v '^#' "$here/holdout.txt")
rm -rf "$out/train"
mkdir -p "$out/train"
: >"$out/heldout.txt"
n_train=0 n_held=0
for sub_dir in "$corpus"/*/; do
  sub=$(basename "$sub_dir")
  for spk_dir in "$sub_dir"*/; do
    spk=$(basename "$spk_dir")
    for f in "$spk_dir"*; do
      [ -f "$f" ] || continue
      case "$f" in *.flac|*.wav|*.ogg) ;; *) continue ;; esac
      id=$(basename "${f%.*}")
      if [ -n "${held_spk[$sub/$spk]:-}" ] || [ -n "${held_utt[$sub/$spk/$id]:-}" ]; then
        echo "$f" >>"$out/heldout.txt"
        n_held=$((n_held + 1))
      else
        mkdir -p "$out/train/$sub/$spk"
        ln -s "$f" "$out/train/$sub/$spk/"
        n_train=$((n_train + 1))
      fi
    done
  done
done
echo "run.sh: $n_train training files, $n_held held out (listed in $out/heldout.txt)"
[ "$prepare" -eq 1 ] && exit 0

[ -x "$root/build/vconv" ] || BUILD_TARGET=vconv_cli "$root/scripts/build" >/dev/null
model="$out/model.safetensors"
data=()
for d in "$out"/train/*/; do data+=(--data "${d%/}"); done
resume=()
[ -f "$model.ckpt" ] && resume=(--resume "$model.ckpt") && echo "run.sh: resuming from $model.ckpt"
"$root/build/vconv" train "${data[@]}" -o "$model" --preset default --steps "$steps" \
  --threads "$threads" "${resume[@]}"
"$root/scripts/plot_training" "$model.log.jsonl" "$out/training.svg"
echo "run.sh: model $model, training curve $out/training.svg"
