#!/usr/bin/env bash
# vconv convert --to REFERENCE ... SOURCE... -o DIR (a batch):
#  - usage: --to without -o, '-' as an input, two outputs of one name; -o not a folder;
#  - sources x 2 references on 2 workers, one source not audio: that file fails alone (exit 1,
#    its outputs absent, no temp file left), the summary names each failure and its reason, and
#    every output has the bytes of the same conversion made on its own;
#  - 1 worker gives the bytes of 2; a bad reference fails its outputs only;
#  - --pairs FILE: the listed pairs only, the same bytes, a malformed line named, a pair twice;
#  - Ctrl-C during a long batch: exit 130, "interrupted", every output present is whole.
# usage: test_convert_batch.sh VCONV SAMPLES_DIR
set -u
vconv=$1 samples=$2
[ -f "$samples/vconv-default.safetensors" ] || { echo "no bundled model: skipped"; exit 77; }
. "$(dirname "$0")/lib.sh"
lib_begin --kill-jobs
a="$samples/bdl_arctic_a0310.wav" b="$samples/slt_arctic_a0318.wav" k="$samples/kathleen_arctic_a0300.wav"
mkdir "$work/in" "$work/res" "$work/one"
cp "$a" "$b" "$k" "$work/in/"
printf 'not audio at all' >"$work/in/broken.wav"
srcs=("$work/in/bdl_arctic_a0310.wav" "$work/in/broken.wav" "$work/in/kathleen_arctic_a0300.wav")

# --- usage
expect 2 "--to without -o" -- "$vconv" convert --to "$b" "$a"
grep -q -- '--to needs -o DIR' "$work/err" && ok || bad "says -o is needed: $(cat "$work/err")"
expect 2 "'-' in a batch" -- "$vconv" convert --to "$b" - -o "$work/res"
expect 1 "-o not a folder" -- "$vconv" convert --to "$b" "$a" -o "$work/nowhere"
grep -q 'not a folder' "$work/err" && ok || bad "names the folder: $(cat "$work/err")"
mkdir "$work/other" && cp "$a" "$work/other/"
expect 2 "two sources of one name" -- "$vconv" convert --to "$b" "$a" "$work/other/bdl_arctic_a0310.wav" -o "$work/res"
grep -q 'two outputs would be' "$work/err" && ok || bad "clash named: $(cat "$work/err")"
[ -z "$(ls -A "$work/res")" ] && ok || bad "a refused batch wrote something: $(ls "$work/res")"
expect 0 "convert --help" -- "$vconv" convert --help
grep -q -- '--to REFERENCE' "$work/out" && ok || bad "--help lists --to"

# --- 3 sources x 2 references on 2 workers, one source broken
expect 1 "a batch with a broken source" -- "$vconv" convert --to "$b" --to "$a" "${srcs[@]}" -o "$work/res" --threads 2
cp "$work/err" "$work/batch.err"
for s in bdl_arctic_a0310 kathleen_arctic_a0300; do
  for r in slt_arctic_a0318 bdl_arctic_a0310; do
    [ -s "$work/res/${s}_as_$r.wav" ] && ok || bad "missing output ${s}_as_$r.wav"
  done
done
[ "$(ls -A "$work/res" | wc -l)" -eq 4 ] && ok || bad "outputs (want 4, no partial or temp file): $(ls -A "$work/res")"
[ "$(grep -c 'failed: .*broken_as_.*not a readable audio file' "$work/batch.err")" -eq 2 ] && ok \
  || bad "each failed output with its reason: $(cat "$work/batch.err")"
grep -q 'converted 4 of 6' "$work/batch.err" && ok || bad "summary counts: $(cat "$work/batch.err")"
grep -q '2 of 6 failed' "$work/batch.err" && ok || bad "failure count: $(cat "$work/batch.err")"
grep -q 'voice of .*slt_arctic_a0318.wav' "$work/batch.err" && ok || bad "each voice reported once"
grep -q 'convert [0-9]*% ETA [0-9]' "$work/batch.err" && ok || bad "one progress line with an ETA: $(cat "$work/batch.err")"

# each output has the bytes of the same conversion on its own
for s in bdl_arctic_a0310 kathleen_arctic_a0300; do
  for r in "$b" "$a"; do
    name="${s}_as_$(basename "$r" .wav).wav"
    "$vconv" convert -q "$work/in/$s.wav" "$r" -o "$work/one/$name" || bad "single conversion $name"
    cmp -s "$work/one/$name" "$work/res/$name" && ok || bad "$name differs from its single conversion"
  done
done

# --- 1 worker, all good, quiet: exit 0, the same bytes
mkdir "$work/out1"
expect 0 "a batch on 1 worker" -- "$vconv" convert -q --to "$b" --to "$a" "$work/in/bdl_arctic_a0310.wav" "$work/in/kathleen_arctic_a0300.wav" -o "$work/out1"
[ ! -s "$work/err" ] && ok || bad "-q prints nothing on success: $(cat "$work/err")"
for f in "$work/out1"/*.wav; do
  cmp -s "$f" "$work/res/$(basename "$f")" && ok || bad "1 worker and 2 differ: $(basename "$f")"
done

# --- a bad reference fails its own outputs only
mkdir "$work/out2"
expect 1 "a broken reference" -- "$vconv" convert --to "$work/in/broken.wav" --to "$b" "$a" -o "$work/out2"
[ -s "$work/out2/bdl_arctic_a0310_as_slt_arctic_a0318.wav" ] && ok || bad "the good voice's output"
[ "$(ls -A "$work/out2" | wc -l)" -eq 1 ] && ok || bad "only the good voice's output: $(ls -A "$work/out2")"
grep -q 'failed: .*_as_broken.wav: the reference failed' "$work/err" && ok || bad "reference failure: $(cat "$work/err")"

# --- a pairs file: its own pairs only, a broken source failing alone, the same bytes
mkdir "$work/out4"
printf '# source<TAB>reference\n%s\t%s\n\n%s %s\n  %s\t%s  \n' \
  "$work/in/bdl_arctic_a0310.wav" "$b" "$work/in/kathleen_arctic_a0300.wav" "$a" \
  "$work/in/broken.wav" "$b" >"$work/pairs.txt"
expect 1 "--pairs with a broken source" -- "$vconv" convert --pairs "$work/pairs.txt" -o "$work/out4" --threads 2
[ "$(ls -A "$work/out4" | wc -l)" -eq 2 ] && ok || bad "--pairs outputs: $(ls -A "$work/out4")"
for name in bdl_arctic_a0310_as_slt_arctic_a0318.wav kathleen_arctic_a0300_as_bdl_arctic_a0310.wav; do
  cmp -s "$work/out4/$name" "$work/one/$name" && ok || bad "--pairs $name differs from its single conversion"
done
grep -q 'failed: .*broken_as_slt_arctic_a0318.wav: .*not a readable audio file' "$work/err" && ok || bad "--pairs failure: $(cat "$work/err")"
grep -q 'converted 2 of 3' "$work/err" && ok || bad "--pairs summary: $(cat "$work/err")"
printf '%s\n' "$a" >"$work/one_field.txt"
expect 1 "a pairs file line with one name" -- "$vconv" convert --pairs "$work/one_field.txt" -o "$work/out4"
grep -q 'one_field.txt: line 1: want SOURCE and REFERENCE' "$work/err" && ok || bad "names the line: $(cat "$work/err")"
printf '%s %s\n%s %s\n' "$a" "$b" "$a" "$b" >"$work/twice.txt"
expect 2 "a pair listed twice" -- "$vconv" convert --pairs "$work/twice.txt" -o "$work/out4"
expect 2 "--pairs with --to" -- "$vconv" convert --pairs "$work/pairs.txt" --to "$b" -o "$work/out4"
expect 2 "--pairs without -o" -- "$vconv" convert --pairs "$work/pairs.txt"
expect 1 "a missing pairs file" -- "$vconv" convert --pairs "$work/none.txt" -o "$work/out4"

# --- Ctrl-C: many sources, interrupted early; what is there is whole, the rest absent
mkdir "$work/many" "$work/out3"
for i in $(seq 1 400); do ln -s "$work/in/kathleen_arctic_a0300.wav" "$work/many/s$i.wav"; done
"$vconv" convert --to "$b" "$work/many"/*.wav -o "$work/out3" 2>"$work/int.err" &
pid=$!
# once the first output is there the workers run (and Ctrl-C is theirs to handle), on a slow
# sanitizer build too
for _ in $(seq 1 3000); do
  [ -n "$(ls -A "$work/out3")" ] && break
  sleep 0.1
done
kill -INT "$pid"
wait "$pid"
rc=$?
if [ "$rc" -eq 130 ]; then
  ok
  grep -q 'interrupted: [0-9]* not converted' "$work/int.err" && ok || bad "says what was not converted: $(tail -3 "$work/int.err")"
  n=$(ls -A "$work/out3" | wc -l)
  [ "$n" -lt 400 ] && ok || bad "interrupted but all 400 written"
  ls -A "$work/out3" | grep -qv '_as_slt_arctic_a0318.wav$' && bad "temp files left: $(ls -A "$work/out3")" || ok
  want=$(wc -c <"$work/one/kathleen_arctic_a0300_as_slt_arctic_a0318.wav")
  for f in "$work/out3"/*; do
    [ -e "$f" ] || continue
    [ "$(wc -c <"$f")" -eq "$want" ] || { bad "a partial output $(basename "$f")"; break; }
  done
  ok
else
  bad "Ctrl-C: exit $rc, want 130: $(tail -3 "$work/int.err")"
fi

lib_end convert_batch
