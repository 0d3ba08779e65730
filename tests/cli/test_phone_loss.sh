#!/usr/bin/env bash
# The phone loss (vconv train --phone-loss W --phones DIR; docs/model.md): a tiny run on the
# bundled samples with labels written here learns them (the head's cross-entropy falls), logs
# its losses, and writes a model with the phone head that still converts; a resume needs
# --phones again and goes on with the loss (bit for bit: tests/test_train.c), one with another
# weight is refused; so are a weight out of range, the loss without labels, and labels for no
# training file. Names outside ARPAbet are left out with a warning.
# usage: test_phone_loss.sh VCONV SAMPLES_DIR
set -u
vconv=$1 samples=$2
. "$(dirname "$0")/lib.sh"
lib_begin
cd "$work" || exit 1
# Labels in the layout vconv codebook --phones reads: LABELS/<folder>/<stem>.txt. Each file
# cycles through five phones (one with a stress mark, one outside the set) every 0.12 s: the
# head can at least learn their shares, so its cross-entropy must fall below the uniform 3.69.
mkdir -p labels/samples
for f in "$samples"/*.wav; do
  awk 'BEGIN { split("AA IY1 S QQ SIL", p, " "); for (i = 0; i < 40; i++)
         printf "%.2f %.2f %s\n", 0.12 * i, 0.12 * (i + 1), p[i % 5 + 1] }' \
    >"labels/samples/$(basename "${f%.wav}").txt"
done
train=(train --data "$samples" --preset tiny --batch 2 --segment 32 --cache cache --log-every 10
  --val-every 1000 --checkpoint-every 1000 --seed 5 --threads 1 --lr 3e-3 --warmup 0
  --phones labels --phone-loss 1)

"$vconv" "${train[@]}" --steps 300 -o straight.safetensors 2>s.err && ok \
  || bad "train: $(tail -n 3 s.err)"
grep -q 'outside ARPAbet.*QQ' s.err && ok || bad "unknown name not reported: $(cat s.err)"
grep -q 'phones [0-9.]* acc [0-9.]*% of [0-9]*%' s.err && ok \
  || bad "progress lacks the phone loss: $(tail -n 2 s.err)"
python3 - straight.safetensors.log.jsonl <<'PY' && ok || bad "the phone loss did not fall"
import json, sys
rows = [r for r in map(json.loads, open(sys.argv[1])) if "phone_xent" in r and not r["validation"]]
first, last = rows[0], rows[-1]
print("phone_xent %.3f -> %.3f, labelled %.2f" % (first["phone_xent"], last["phone_xent"],
                                                  last["phone_labelled"]))
# 4 of 5 names are in the set and the run's segments lie within the labelled 4.8 s mostly
sys.exit(0 if last["phone_xent"] < first["phone_xent"] - 0.2 and last["phone_xent"] < 3.6
         and 0.3 < last["phone_labelled"] <= 0.8 else 1)
PY
grep -q 'phone.classifier.w' straight.safetensors && grep -q '"vconv.phone_head":"1"' \
  straight.safetensors && ok || bad "the model lacks the phone head"
expect 0 "convert with a phone-head model" -- "$vconv" convert "$samples/bdl_arctic_a0310.wav" \
  "$samples/slt_arctic_a0318.wav" --model straight.safetensors -o out.wav -q
[ -s out.wav ] && ok || bad "no converted audio"

"$vconv" "${train[@]}" --steps 150 -q -o m.safetensors 2>a.err && ok || bad "150: $(tail -3 a.err)"
expect 1 "resume without --phones" -- "$vconv" train --data "$samples" --cache cache \
  --resume m.safetensors.ckpt --steps 300 -o m.safetensors
grep -q -- '--phones' "$work/err" && ok || bad "missing labels not named: $(cat "$work/err")"
expect 1 "resume with another --phone-loss" -- "$vconv" train --data "$samples" --cache cache \
  --resume m.safetensors.ckpt --steps 300 --phones labels --phone-loss 0.5 -o m.safetensors
grep -q 'phone-loss 1; asked for 0.5' "$work/err" && ok \
  || bad "conflict not named: $(cat "$work/err")"
"$vconv" train --data "$samples" --cache cache --resume m.safetensors.ckpt --steps 300 \
  --phones labels -q -o m.safetensors 2>r.err && ok || bad "resume: $(tail -n 3 r.err)"
grep -q '"step":300,.*"phone_xent":[0-9]' m.safetensors.log.jsonl && ok \
  || bad "the resumed run did not go on with the phone loss"

expect 1 "--phone-loss without --phones" -- "$vconv" train --data "$samples" --preset tiny \
  --steps 2 --phone-loss 1 -o bad.safetensors
grep -q -- '--phones' "$work/err" && ok || bad "missing labels not named: $(cat "$work/err")"
mkdir -p empty
expect 1 "labels for no file" -- "$vconv" train --data "$samples" --preset tiny --steps 2 \
  --cache cache --phone-loss 1 --phones empty -o bad.safetensors
grep -q 'no label file' "$work/err" && ok || bad "no labels not said: $(cat "$work/err")"
for v in -1 11 abc; do
  expect 2 "--phone-loss $v" -- "$vconv" train --data "$samples" --preset tiny --steps 2 \
    --phones labels --phone-loss "$v" -o bad.safetensors
  grep -q -- '--phone-loss' "$work/err" && ok || bad "--phone-loss $v: the option is not named"
done
lib_end phone_loss
