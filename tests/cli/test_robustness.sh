#!/usr/bin/env bash
# Robustness of whole runs:
#  - interruption: vconv train killed with SIGKILL at random moments, checkpointing every step
#    (so kills land during checkpoint writes too), always leaves a checkpoint that resumes, and
#    the run then finishes with the same model as an uninterrupted one;
#  - concurrency: several vconv convert processes at once on one model give the same bytes as
#    one at a time.
# usage: test_robustness.sh VCONV SAMPLES_DIR
set -u
vconv=$1 samples=$2
. "$(dirname "$0")/lib.sh"
lib_begin --kill-jobs
cd "$work"
train=(train -q --data "$samples" --preset tiny --batch 2 --segment 32 --steps 300 --cache cache
       --log "" --val-every 100000 --checkpoint-every 1 --seed 3)

# the reference: straight through, timed so the kills below land inside a run on any machine
t0=$(date +%s%N)
"$vconv" "${train[@]}" -o straight.safetensors && ok || bad "uninterrupted training"
run_ms=$((($(date +%s%N) - t0) / 1000000))

# killed six times at random moments (seeded, so a failure can be replayed), resumed each time;
# each wait is 1/80 to 9/80 of the uninterrupted run, so six of them (at most 54/80) end before
# the run would, whatever the machine's speed
RANDOM=7
"$vconv" "${train[@]}" -o k.safetensors &
pid=$!
killed=0
for round in 1 2 3 4 5 6; do
  wait_ms=$((run_ms * (RANDOM % 9 + 1) / 80))
  sleep "$((wait_ms / 1000)).$(printf %03d $((wait_ms % 1000)))"
  kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
  wait "$pid" 2>/dev/null
  if [ -f k.safetensors.ckpt ]; then
    "$vconv" "${train[@]}" -o k.safetensors --resume k.safetensors.ckpt 2>resume.err &
    pid=$!
  else # killed before the first checkpoint: start again
    "$vconv" "${train[@]}" -o k.safetensors &
    pid=$!
  fi
done
wait "$pid" && ok || bad "the last resumed run finishes: $(cat resume.err)"
[ "$killed" -ge 4 ] && ok || bad "only $killed of the 6 kills found the run still going"
# the same parameters and metadata but for the date of writing
for m in straight k; do "$vconv" export -q $m.safetensors -o $m.cmp --set vconv.train_date=-; done
cmp -s straight.cmp k.cmp && ok || bad "six kills and resumes give the uninterrupted model"

# concurrency: three conversions at once equal one at a time
src="$samples/bdl_arctic_a0310.wav" ref="$samples/slt_arctic_a0318.wav"
"$vconv" convert -q --threads 1 "$src" "$ref" --model straight.safetensors -o one.wav || bad "convert"
for i in 1 2 3; do
  "$vconv" convert -q --threads 1 "$src" "$ref" --model straight.safetensors -o "par$i.wav" &
done
wait
for i in 1 2 3; do cmp -s one.wav "par$i.wav" && ok || bad "parallel conversion $i differs"; done
# a kill during a write leaves that write's temp file; the next successful write of the same
# file removes it (its writer is gone)
ls ./*.tmp* 2>/dev/null | grep -q . && bad "temp files left: $(ls ./*.tmp*)" || ok
lib_end "robustness"
