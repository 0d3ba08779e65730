#!/usr/bin/env bash
# A model whose postnet predicts the WORLD envelope ({"envelope": 1}; docs/model.md): a tiny run
# on the bundled samples records it in the model file, learns its target (the loss on it
# falls), resumes bit for bit, and the model converts with the world vocoder to audio of the
# source's length; the spectrum vocoder, which has no harmonics to give an envelope, is named
# in a warning.
# usage: test_envelope.sh VCONV SAMPLES_DIR
set -u
vconv=$1 samples=$2
. "$(dirname "$0")/lib.sh"
lib_begin --kill-jobs
cd "$work" || exit 1
echo '{"envelope": 1}' >envelope.json
train=(train --data "$samples" --preset tiny --config envelope.json --batch 2 --segment 32
  --cache cache --log-every 10 --val-every 1000 --checkpoint-every 1000 --seed 5 --threads 1
  --lr 3e-3 --warmup 0 -q)
"$vconv" "${train[@]}" --steps 200 -o env.safetensors 2>t.err && ok \
  || bad "train: $(tail -n 3 t.err)"
# stopped part-way (whenever the signal lands) and resumed with the checkpoint's settings: the
# same model bit for bit (the target is in the config the checkpoint keeps)
"$vconv" "${train[@]}" --steps 200 -o half.safetensors 2>h.err &
stop_part_way $! half.safetensors.log.jsonl
"$vconv" train --data "$samples" --cache cache --resume half.safetensors.ckpt -q \
  -o half.safetensors 2>r.err && ok || bad "resume: $(tail -n 3 r.err)"
same_tensors env.safetensors half.safetensors && ok || bad "the resumed run differs"
grep -q '"vconv.envelope":"1"' env.safetensors && ok || bad "the model file lacks vconv.envelope"
python3 - env.safetensors.log.jsonl <<'PY' && ok || bad "the envelope loss did not fall"
import json, sys
rows = [r for r in map(json.loads, open(sys.argv[1])) if not r["validation"]]
print("lin %.3f -> %.3f" % (rows[0]["lin"], rows[-1]["lin"]))
sys.exit(0 if rows[-1]["lin"] < 0.8 * rows[0]["lin"] else 1)
PY
src="$samples/bdl_arctic_a0310.wav"
expect 0 "convert with an envelope model" -- "$vconv" convert "$src" \
  "$samples/slt_arctic_a0318.wav" --model env.safetensors -o out.wav -q
python3 - "$src" out.wav <<'PY' && ok || bad "the conversion is not the source's length, or silent"
import sys, wave, struct
def read(p):
    w = wave.open(p)
    n, b = w.getnframes(), w.readframes(w.getnframes())
    return n, struct.unpack("<%dh" % n, b) if w.getsampwidth() == 2 else ()
(n_src, _), (n_out, y) = read(sys.argv[1]), read(sys.argv[2])
rms = (sum(v * v for v in y) / max(len(y), 1)) ** 0.5
print("samples %d / %d, rms %.0f" % (n_out, n_src, rms))
sys.exit(0 if n_out == n_src and rms > 30 else 1)
PY
expect 0 "convert an envelope model with --vocoder spectrum" -- "$vconv" convert "$src" \
  "$samples/slt_arctic_a0318.wav" --model env.safetensors --vocoder spectrum -o gl.wav
grep -q 'envelope' "$work/err" && ok || bad "no warning for the spectrum vocoder: $(cat "$work/err")"
lib_end envelope
