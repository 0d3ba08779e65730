#!/usr/bin/env bash
# The bundled model: in samples/, F16, with its provenance, found without --model, converting
# the bundled samples to an output of the source's duration and loudness.
# usage: test_bundled_model.sh VCONV SAMPLES_DIR
set -u
vconv=$1 samples=$2
. "$(dirname "$0")/lib.sh"
lib_begin
model="$samples/vconv-default.safetensors"
[ -f "$model" ] && ok || bad "no bundled model at $model"
"$vconv" info --json "$model" >"$work/info" 2>&1 && ok || bad "info on the bundled model: $(cat "$work/info")"
for key in vconv.train_steps vconv.train_corpus vconv.train_recipe vconv.train_date; do
  grep -q "\"$key\"" "$work/info" && ok || bad "the bundled model records $key"
done
# provenance names the corpus and recipe, never a path of the machine it was trained on
sed -n 's/.*"metadata"//p' "$work/info" | grep -q '": "/' && bad "the bundled model's metadata holds an absolute path" || ok
# under 10 MB: F16 (a 4 M-parameter model is 16 MB in F32)
[ "$(stat -c %s "$model")" -lt 10000000 ] && ok || bad "the bundled model is F16-sized"
src="$samples/bdl_arctic_a0310.wav" ref="$samples/slt_arctic_a0318.wav"
(cd "$work" && env -u VCONV_MODEL "$vconv" convert -q "$src" "$ref" -o out.wav) && ok || bad "convert with the default model"
"$vconv" analyze --json "$work/out.wav" >"$work/o.json" && "$vconv" analyze --json "$src" >"$work/s.json"
dur() { sed -n 's/.*"duration_s": \([0-9.]*\).*/\1/p' "$1"; }
act() { sed -n 's/.*"active_dbfs": \(-\{0,1\}[0-9.]*\).*/\1/p' "$1"; }
[ "$(dur "$work/o.json")" = "$(dur "$work/s.json")" ] && ok || bad "output duration $(dur "$work/o.json") s, source $(dur "$work/s.json") s"
awk -v a="$(act "$work/o.json")" -v b="$(act "$work/s.json")" 'BEGIN { d = a - b; exit !(d < 0.5 && d > -0.5) }' && ok \
  || bad "output level $(act "$work/o.json") dBFS, source $(act "$work/s.json") dBFS"
lib_end "bundled_model"
