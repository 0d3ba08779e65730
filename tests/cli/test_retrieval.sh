#!/usr/bin/env bash
# The decoder's retrieval input and warm starts (vconv train --init, docs/model.md):
# a model warm-started from another with retrieval added computes, before its first step, what
# that model computed (its step-0 validation loss is the other's final one, exactly: the
# retrieval conv starts at zero); trained on, it converts with and without retrieved frames
# (--no-retrieval), and the two differ; a model file whose tensors have no place in the run's
# config, and a missing one, are refused; a resume with --init continues from the checkpoint.
# usage: test_retrieval.sh VCONV SAMPLES_DIR
set -u
vconv=$1 samples=$2
. "$(dirname "$0")/lib.sh"
lib_begin
cd "$work" || exit 1
train=(train --data "$samples" --preset tiny --batch 4 --segment 32 --cache cache --seed 5
  --val-every 10 --log-every 10 --threads 1)
echo '{"preset": "tiny", "retrieval": 1}' >retrieval.json

"$vconv" "${train[@]}" --steps 20 -o a.safetensors 2>a.err && ok || bad "train a: $(tail -n 3 a.err)"
"$vconv" "${train[@]}" --steps 20 --init a.safetensors --config retrieval.json -o b.safetensors \
  2>b.err && ok || bad "train b: $(tail -n 3 b.err)"
final_a=$(sed -n 's/^step 20\/20  validation loss \([0-9.]*\)$/\1/p' a.err)
start_b=$(sed -n 's/^step 0\/20  validation loss \([0-9.]*\)$/\1/p' b.err)
[ -n "$final_a" ] && [ "$final_a" = "$start_b" ] && ok \
  || bad "warm start: b's step-0 validation '$start_b', a's final '$final_a'"
"$vconv" info b.safetensors >info.txt 2>&1 && grep -q '"retrieval":1' info.txt && ok \
  || bad "info b: retrieval not in the config"
grep -q '^train_init  *a.safetensors' info.txt && ok || bad "info b: the warm start is not recorded"

src="$samples/bdl_arctic_a0310.wav" ref="$samples/slt_arctic_a0318.wav"
"$vconv" convert -q --model b.safetensors "$src" "$ref" -o with.wav && ok || bad "convert with retrieval"
"$vconv" convert -q --model b.safetensors --no-retrieval "$src" "$ref" -o without.wav && ok \
  || bad "convert --no-retrieval"
cmp -s with.wav without.wav && bad "retrieval changed nothing in the output" || ok
"$vconv" convert -q --model b.safetensors "$src" "$ref" -o again.wav && cmp -s with.wav again.wav \
  && ok || bad "conversion with retrieval not deterministic"

# a retrieval model's tensors have no place in a model without retrieval; a missing file
expect 1 "init from a model with more tensors" -- "$vconv" "${train[@]}" --steps 2 \
  --init b.safetensors -o c.safetensors
grep -q 'decoder.retrieval' "$work/err" && ok || bad "the refused tensor is not named"
expect 1 "init from a missing file" -- "$vconv" "${train[@]}" --steps 2 --init nope.safetensors \
  -o d.safetensors

# a resume takes the checkpoint's state, whatever --init says
"$vconv" "${train[@]}" --steps 30 --config retrieval.json --init a.safetensors \
  --resume b.safetensors.ckpt -o b.safetensors 2>e.err && ok || bad "resume with --init: $(tail -n 2 e.err)"
[ "$(sed -n 's/^step 20\/30  validation loss \([0-9.]*\)$/\1/p' e.err)" = "" ] && ok \
  || bad "a resume re-ran the step-20 validation"
"$vconv" info b.safetensors | grep -q '^train_steps  *30' && ok || bad "resume did not reach step 30"
lib_end retrieval
