#!/usr/bin/env bash
# scripts/phone_labels: PocketSphinx labels that vconv codebook --phones reads. The bundled
# samples (no transcript: phone recognition) and, where the corpus is here, one ARCTIC prompt
# (its transcript: forced alignment, whose phones must be the dictionary's for the prompt).
# Skipped without PocketSphinx, numpy or sox.
# usage: test_phone_labels_script.sh VCONV SOURCE_DIR CORPUS_DIR
set -u
vconv=$1 root=$2 corpus=$3
py=/usr/bin/python3
[ -x "$py" ] || py=python3
"$py" -c 'import pocketsphinx, numpy' 2>/dev/null || { echo "no PocketSphinx or numpy: skipped"; exit 77; }
command -v sox >/dev/null || { echo "no sox: skipped"; exit 77; }
[ -d /usr/share/pocketsphinx/model/en-us ] || { echo "no pocketsphinx-en-us: skipped"; exit 77; }
. "$(dirname "$0")/lib.sh"
lib_begin
samples="$root/samples"
inputs=("$samples"/bdl_arctic_a0310.wav "$samples"/slt_arctic_a0318.wav "$samples"/kathleen_arctic_a0300.wav)
prompt="$corpus/arctic/slt/arctic_a0001.flac"
[ -f "$prompt" ] && inputs+=("$prompt")

expect 0 "phone_labels" -- "$py" "$root/scripts/phone_labels" "$work/labels" "${inputs[@]}"
grep -q 'recognised' "$work/out" && ok || bad "summary: $(cat "$work/out" "$work/err")"
for s in bdl_arctic_a0310 slt_arctic_a0318 kathleen_arctic_a0300; do
  f="$work/labels/samples/$s.txt"
  [ -s "$f" ] && ok || { bad "no labels for $s"; continue; }
  # "start end PHONE", times in order, ARPAbet letters only
  awk '!/^#/ { if (NF != 3 || $1 > $2 || $1 < last || $3 !~ /^[A-Z]+$/) exit 1; last = $1; n++ }
       END { exit n < 10 }' "$f" && ok || bad "$s: not ordered ARPAbet segments: $(head -5 "$f")"
done
expect 0 "vconv codebook reads them" -- "$vconv" codebook "$samples"/bdl_arctic_a0310.wav \
  "$samples"/slt_arctic_a0318.wav "$samples"/kathleen_arctic_a0300.wav --phones "$work/labels"
grep -q '^phones    3 files labelled' "$work/out" && ok || bad "labelled: $(grep '^phones' "$work/out")"
if [ -f "$prompt" ]; then
  grep -q '(align)' "$work/labels/slt/arctic_a0001.txt" && ok || bad "the prompt was not aligned"
  # "Author of the danger trail, Philip Steels, etc." in the CMU dictionary's phones
  got=$(awk '!/^#/ && $3 != "SIL" { printf "%s ", $3 }' "$work/labels/slt/arctic_a0001.txt")
  want="AO TH ER AH V DH AH D EY N JH ER T R EY L F IH L AH P S T IY L Z EH T S EH T ER AH "
  [ "$got" = "$want" ] && ok || bad "aligned phones: $got"
fi
lib_end phone_labels_script
