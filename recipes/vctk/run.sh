#!/usr/bin/env bash
# Trains the default model on a copy of the CSTR VCTK corpus you already have, holding out every
# 10th speaker (in name order) entirely for evaluation on unseen voices.
#
#   recipes/vctk/run.sh VCTK_DIR [--out DIR] [--steps N] [--threads N] [--prepare-only]
#
# VCTK_DIR is the unpacked corpus: its audio folder (wav48/ of release 0.80, or
# wav48_silence_trimmed/ of 0.92, whose second-microphone copies *_mic2.* are skipped) is found
# by itself. Writes to DIR (default out/vctk) as recipes/default/run.sh does: the training view,
# heldout.txt and holdout.txt, the model with its checkpoint and log, and training.svg.
set -euo pipefail
again=$(printf '%q ' "$0" "$@") # this command line: running it again resumes
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
vctk="" out=out/vctk steps=20000 threads=$(nproc --all) prepare=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --prepare-only) prepare=1; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) vctk=$1; shift ;;
  esac
done
[ -n "$vctk" ] || { echo "usage: recipes/vctk/run.sh VCTK_DIR [--out DIR] [--steps N]" >&2; exit 2; }
audio=""
for d in "$vctk/wav48_silence_trimmed" "$vctk/wav48" "$vctk"; do
  if compgen -G "$d/p[0-9]*" >/dev/null; then audio=$d; break; fi
done
[ -n "$audio" ] || { echo "run.sh: no speaker folders (p225/, ...) under $vctk" >&2; exit 1; }

mkdir -p "$out"
set_name=$(basename "$audio")
{
  echo "# every 10th VCTK speaker in name order, held out entirely (written by recipes/vctk/run.sh)"
  echo "skip *_mic2.*"
  ls "$audio" | grep '^p[0-9]' | sort | awk -v s="$set_name" 'NR % 10 == 1 { print "spk " s "/" $0 }'
} >"$out/holdout.txt"
"$here/../common/make_view.sh" "$out/holdout.txt" "$out" "$audio"
[ "$prepare" -eq 1 ] && exit 0
"$here/../common/train.sh" "$out" "$steps" "$threads" "$again"
