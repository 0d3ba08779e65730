#!/usr/bin/env bash
# Builds a training view of a corpus: OUT/train/<set>/<speaker>/ holds a symlink to every audio
# file of DIR/<speaker>/ for each DIR given, except what HOLDOUT lists; the held-out files are
# listed in OUT/heldout.txt. <set> is DIR's folder name, so vconv train keys speakers as
# <set>/<speaker>.
#
#   recipes/common/make_view.sh HOLDOUT OUT DIR [DIR ...]
#
# HOLDOUT lines (# starts a comment):
#   spk SET/SPEAKER        every file of a speaker
#   utt SET/SPEAKER/ID     one file (ID = its name without extension)
#   skip GLOB              files whose name matches GLOB are left out altogether (neither
#                          trained on nor held out), e.g. VCTK 0.92's second microphone
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,12p' "$0"; exit 0 ;; esac
[ $# -ge 3 ] || { echo "usage: $0 HOLDOUT OUT DIR [DIR ...]" >&2; exit 2; }
holdout=$1 out=$2
shift 2
declare -A held_spk held_utt
skips=()
while read -r kind name; do
  case "$kind" in
    spk) held_spk[$name]=1 ;;
    utt) held_utt[$name]=1 ;;
    skip) skips+=("$name") ;;
  esac
done < <(grep -v '^#' "$holdout")
rm -rf "$out/train"
mkdir -p "$out/train"
: >"$out/heldout.txt"
n_train=0 n_held=0
for dir in "$@"; do
  dir=$(cd "$dir" && pwd)
  set_name=$(basename "$dir")
  for spk_dir in "$dir"/*/; do
    spk=$(basename "$spk_dir")
    for f in "$spk_dir"*; do
      [ -f "$f" ] || continue
      case "${f,,}" in *.flac|*.wav|*.ogg) ;; *) continue ;; esac
      base=$(basename "$f") skipped=0
      for g in "${skips[@]}"; do
        # shellcheck disable=SC2053
        [[ $base == $g ]] && skipped=1
      done
      [ "$skipped" -eq 1 ] && continue
      id=${base%.*}
      if [ -n "${held_spk[$set_name/$spk]:-}" ] || [ -n "${held_utt[$set_name/$spk/$id]:-}" ]; then
        echo "$f" >>"$out/heldout.txt"
        n_held=$((n_held + 1))
      else
        mkdir -p "$out/train/$set_name/$spk"
        ln -s "$f" "$out/train/$set_name/$spk/"
        n_train=$((n_train + 1))
      fi
    done
  done
done
echo "make_view: $n_train training files, $n_held held out (listed in $out/heldout.txt)"
