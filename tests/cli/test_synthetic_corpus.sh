#!/usr/bin/env bash
# recipes/synthetic/make_corpus.sh builds the promised corpus: 10 voices, PER_VOICE files each,
# 16 kHz mono, no sentence shared between voices, the same bytes on a second run.
# usage: test_synthetic_corpus.sh SOURCE_DIR VCONV
set -u
src=$1 vconv=$2
for tool in flite espeak-ng sox; do
  command -v "$tool" >/dev/null || { echo "skip: $tool not installed"; exit 77; }
done
. "$(dirname "$0")/lib.sh"
lib_begin
check() { if eval "$2"; then ok; else bad "$1"; fi; }

"$src/recipes/synthetic/make_corpus.sh" "$work/a" 2 >/dev/null || { echo "FAIL: make_corpus" >&2; exit 1; }
"$src/recipes/synthetic/make_corpus.sh" "$work/b" 2 >/dev/null || { echo "FAIL: make_corpus again" >&2; exit 1; }
check "10 voices" '[ "$(ls "$work/a" | wc -l)" -eq 10 ]'
check "20 files" '[ "$(find "$work/a" -name "*.wav" | wc -l)" -eq 20 ]'
check "deterministic" 'diff -r "$work/a" "$work/b" >/dev/null'
for f in "$work"/a/*/00.wav; do
  check "$f is 16 kHz mono with speech" \
    '"$vconv" analyze --json "$f" | grep -q "\"file_rate\": 16000, \"channels\": 1" &&
     "$vconv" analyze "$f" | grep -q "^f0 .*median"'
done
lib_end "synthetic corpus"
