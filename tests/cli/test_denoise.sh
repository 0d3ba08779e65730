#!/usr/bin/env bash
# Denoising training, continuous content, conversion consistency and adversarial training (vconv
# train --denoise, --continuous-content, --cycle-content, --cycle-speaker, --adversarial;
# docs/model.md): a tiny run with all of them trains and reports the consistency and adversarial
# losses; stopped by SIGTERM and resumed with --resume
# alone (the settings come from the checkpoint), it ends with the tensors an uninterrupted run
# gives; a resume asking for another value is refused before any feature is computed; values
# out of range are usage errors that name the option.
# usage: test_denoise.sh VCONV SAMPLES_DIR
set -u
vconv=$1 samples=$2
. "$(dirname "$0")/lib.sh"
lib_begin --kill-jobs
cd "$work" || exit 1
train=(train --data "$samples" --preset tiny --batch 2 --segment 32 --steps 400 --cache cache
  --log-every 10 --val-every 100 --checkpoint-every 1000 --seed 5 --threads 1 --denoise 0.5
  --continuous-content 0.5 --cycle-content 1 --cycle-speaker 2 --adversarial 0.5)

"$vconv" "${train[@]}" -q -o straight.safetensors 2>s.err && ok || bad "train: $(tail -n 3 s.err)"
grep -q '"cycle_content":[0-9]' straight.safetensors.log.jsonl && ok \
  || bad "the log holds no conversion consistency loss"
grep -q '"gen_fm":[0-9].*"disc_fake":[0-9]' straight.safetensors.log.jsonl && ok \
  || bad "the log holds no adversarial loss"

# stopped part-way (whenever the signal lands), then resumed with the checkpoint's settings
"$vconv" "${train[@]}" -o m.safetensors 2>int.err &
stop_part_way $! m.safetensors.log.jsonl
expect 1 "resume with another --denoise" -- "$vconv" train --data "$samples" \
  --resume m.safetensors.ckpt --denoise 0.25 -o m.safetensors
grep -q 'denoise 0.5; asked for 0.25' "$work/err" && ok || bad "conflict not named: $(cat "$work/err")"
expect 1 "resume with another --continuous-content" -- "$vconv" train --data "$samples" \
  --resume m.safetensors.ckpt --continuous-content 0 -o m.safetensors
grep -q 'continuous-content 0.5; asked for 0' "$work/err" && ok \
  || bad "conflict not named: $(cat "$work/err")"
expect 1 "resume with another --cycle-speaker" -- "$vconv" train --data "$samples" \
  --resume m.safetensors.ckpt --cycle-speaker 3 -o m.safetensors
grep -q 'cycle-speaker 2; asked for 3' "$work/err" && ok \
  || bad "conflict not named: $(cat "$work/err")"
expect 1 "resume with another --adversarial" -- "$vconv" train --data "$samples" \
  --resume m.safetensors.ckpt --adversarial 0 -o m.safetensors
grep -q 'adversarial 0.5; asked for 0' "$work/err" && ok \
  || bad "conflict not named: $(cat "$work/err")"
"$vconv" train --data "$samples" --cache cache --resume m.safetensors.ckpt -q -o m.safetensors \
  2>r.err && ok || bad "resume: $(tail -n 3 r.err)"
same_tensors straight.safetensors m.safetensors && ok \
  || bad "stopped and resumed run differs from the uninterrupted one"

for v in -0.5 1.5 abc; do
  expect 2 "--denoise $v" -- "$vconv" train --data "$samples" --preset tiny --steps 2 \
    --denoise "$v" -o bad.safetensors
  grep -q -- '--denoise' "$work/err" && ok || bad "--denoise $v: the option is not named"
  expect 2 "--continuous-content $v" -- "$vconv" train --data "$samples" --preset tiny --steps 2 \
    --continuous-content "$v" -o bad.safetensors
  grep -q -- '--continuous-content' "$work/err" && ok \
    || bad "--continuous-content $v: the option is not named"
done
for v in -1 101 abc; do
  for o in --cycle-content --cycle-speaker; do
    expect 2 "$o $v" -- "$vconv" train --data "$samples" --preset tiny --steps 2 "$o" "$v" \
      -o bad.safetensors
    grep -q -- "$o" "$work/err" && ok || bad "$o $v: the option is not named"
  done
done
for v in -1 11 abc; do
  expect 2 "--adversarial $v" -- "$vconv" train --data "$samples" --preset tiny --steps 2 \
    --adversarial "$v" -o bad.safetensors
  grep -q -- '--adversarial' "$work/err" && ok || bad "--adversarial $v: the option is not named"
done
lib_end denoise
