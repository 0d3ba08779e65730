#!/usr/bin/env bash
# Data-parallel training over MPI (docs/cluster.md), on one machine with 2 ranks:
#  - 2 ranks x batch 2 against 1 rank x batch 4 (tiny preset, 30 steps): the parameters agree
#    within the tolerance below; 2 ranks twice give identical checkpoint bytes; the same with
#    denoising and adversarial training (--denoise: every rank draws the whole batch's noise;
#    --adversarial: the discriminator's gradient is summed over ranks like the model's);
#  - resume across rank counts: 2 ranks to step 20 then 1 rank to 40, and 1 then 2, against
#    1 then 1;
#  - the feature cache built in shares gives the same entries and the same run;
#  - a batch smaller than the rank count is a clear error;
#  - one rank killed mid-run: the job ends, and the last checkpoint resumes.
# usage: test_mpi.sh VCONV SAMPLES_DIR MPIEXEC   (MPIEXEC empty: a build without MPI, skipped)
#
# Tolerance. 1 and 2 ranks compute the same global-batch gradient, summed in another order
# (two partial sums added by the allreduce), so they differ by float rounding (~1e-7
# relative) at step 1. Adam turns that into differences of up to lr per step on coordinates
# whose gradient is at the rounding level (its normalised step is sign-like there), and one
# codebook assignment flipping by rounding changes that code's EMA. Measured on this test:
# ||p_2 - p_1|| / ||p_1 - p_step1|| = 1.5e-3 at 30 steps without a flip, 2.3e-2 at 40 steps
# with one; runs that see different data (another batch) give 2.7. The tolerance, 0.1 of how
# far training moved the parameters, sits between the two.
set -u
vconv=$1 samples=$2 mpiexec=${3:-}
if [ -z "$mpiexec" ]; then
    echo "skipped: no MPI (this build has VC_MPI=OFF)"
    exit 77
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 # CI runs as root
export OMPI_MCA_rmaps_base_oversubscribe=1
# Under ASan (scripts/test) leak reports are off for the MPI processes only: OpenMPI keeps
# allocations from MPI_Init past MPI_Finalize. The 1-rank runs below keep the leak check.
mpi_asan=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
. "$(dirname "$0")/lib.sh"
lib_begin --kill-jobs
cd "$work"
mpi() { ASAN_OPTIONS=$mpi_asan "$mpiexec" --oversubscribe -np "$1" "${@:2}"; }
train=(train --data "$samples" --preset tiny --batch 4 --segment 32 --cache cache --seed 5
       --warmup 0 --lr 3e-3 --log-every 10 --val-every 100 --checkpoint-every 1000 -q)

# the relative distance of two checkpoints' parameters, codebook and discriminator (when there is
# one): ||a - b|| / ||a - ref||
close() {
    python3 - "$1" "$2" "$3" <<'PY'
import array, json, math, struct, sys
def load(p):
    b = open(p, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    out = {}
    for k in ("params", "vq.ema_sum", "disc.params"):
        if k not in h:
            continue
        s, e = h[k]["data_offsets"]
        out[k] = array.array("f", b[8 + n + s:8 + n + e])
    return out, h["__metadata__"]
(a, _), (b, _), (r, _) = load(sys.argv[1]), load(sys.argv[2]), load(sys.argv[3])
worst = 0
for k in a:
    d = math.sqrt(sum((x - y) ** 2 for x, y in zip(a[k], b[k])))
    m = math.sqrt(sum((x - y) ** 2 for x, y in zip(a[k], r[k])))
    print(f"{k}: |a-b| = {d:.3e}, moved {m:.3e}, ratio {d / m:.2e}")
    worst = max(worst, d / m)
sys.exit(0 if worst <= 0.1 else 1)
PY
}
step_of() {
    python3 -c 'import json,struct,sys; b=open(sys.argv[1],"rb").read(); n=struct.unpack("<Q",b[:8])[0]; print(json.loads(b[8:8+n])["__metadata__"]["vconv.step"])' "$1"
}

# --- 1 rank x 4 against 2 ranks x 2
"$vconv" "${train[@]}" --steps 1 -o start.safetensors && ok || bad "1 step"
"$vconv" "${train[@]}" --steps 30 -o one.safetensors && ok || bad "1 rank"
mpi 2 "$vconv" "${train[@]}" --steps 30 -o two.safetensors && ok || bad "2 ranks"
mpi 2 "$vconv" "${train[@]}" --steps 30 -o again.safetensors && ok || bad "2 ranks again"
cmp -s two.safetensors.ckpt again.safetensors.ckpt && ok || bad "2 ranks twice: checkpoints differ"
close one.safetensors.ckpt two.safetensors.ckpt start.safetensors.ckpt && ok ||
    bad "1 rank x 4 and 2 ranks x 2 differ beyond the tolerance"
[ -s two.safetensors ] && [ "$(wc -l <two.safetensors.log.jsonl)" -eq "$(wc -l <one.safetensors.log.jsonl)" ] &&
    ok || bad "2 ranks: model or log missing, or the log has another number of lines"

# --- the same with denoising and adversarial training
"$vconv" "${train[@]}" --denoise 0.5 --adversarial 0.5 --steps 1 -o dstart.safetensors && ok || bad "denoise: 1 step"
"$vconv" "${train[@]}" --denoise 0.5 --adversarial 0.5 --steps 30 -o done.safetensors && ok || bad "denoise: 1 rank"
mpi 2 "$vconv" "${train[@]}" --denoise 0.5 --adversarial 0.5 --steps 30 -o dtwo.safetensors && ok ||
    bad "denoise: 2 ranks"
close done.safetensors.ckpt dtwo.safetensors.ckpt dstart.safetensors.ckpt && ok ||
    bad "denoise: 1 rank x 4 and 2 ranks x 2 differ beyond the tolerance"

# --- the feature cache built in shares by 2 ranks: the same entries, the same run
mpi 2 "$vconv" "${train[@]}" --cache cache2 --steps 30 -o fresh.safetensors && ok ||
    bad "2 ranks with an empty cache"
[ "$(ls cache2 | wc -l)" -eq "$(ls cache | wc -l)" ] && ! ls cache2 | grep -q tmp && ok ||
    bad "the shared cache has other entries than one process's: $(ls cache2)"
cmp -s fresh.safetensors.ckpt two.safetensors.ckpt && ok ||
    bad "2 ranks with features built in shares differ from 2 ranks with a warm cache"

# --- resume with another rank count (the global batch stays 4)
"$vconv" "${train[@]}" --steps 20 -o a.safetensors && cp a.safetensors.ckpt c.safetensors.ckpt &&
    "$vconv" "${train[@]}" --steps 40 -o a.safetensors --resume a.safetensors.ckpt && ok ||
    bad "1 then 1 rank"
mpi 2 "$vconv" "${train[@]}" --steps 20 -o b.safetensors &&
    "$vconv" "${train[@]}" --steps 40 -o b.safetensors --resume b.safetensors.ckpt && ok ||
    bad "2 then 1 rank"
mpi 2 "$vconv" "${train[@]}" --steps 40 -o c.safetensors --resume c.safetensors.ckpt && ok ||
    bad "1 then 2 ranks"
[ "$(step_of b.safetensors.ckpt)" = 40 ] && [ "$(step_of c.safetensors.ckpt)" = 40 ] && ok ||
    bad "resumed runs did not reach step 40"
close a.safetensors.ckpt b.safetensors.ckpt start.safetensors.ckpt && ok || bad "2 then 1 rank differs"
close a.safetensors.ckpt c.safetensors.ckpt start.safetensors.ckpt && ok || bad "1 then 2 ranks differs"

# --- every rank needs a share of the batch
mpi 2 "$vconv" "${train[@]}" --batch 1 --steps 5 -o small.safetensors 2>small.err &&
    bad "batch 1 on 2 ranks was accepted" || ok
grep -q "batch 1 is smaller than the 2 ranks" small.err && ok || bad "no clear message: $(cat small.err)"

# --- kill rank 1 mid-run: the job ends, the checkpoint on disk resumes
ASAN_OPTIONS=$mpi_asan "$mpiexec" --oversubscribe -np 2 "$vconv" "${train[@]}" --steps 100000 --checkpoint-every 20 \
    -o k.safetensors 2>k.err &
job=$!
for _ in $(seq 1200); do # up to 60 s: a loaded machine starts slowly
    [ -s k.safetensors.ckpt ] && [ "$(wc -l <k.safetensors.log.jsonl)" -ge 5 ] && break
    sleep 0.05
done
killed=0
for p in $(pgrep -P "$job"); do
    if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1"; then
        kill -9 "$p" && killed=1
    fi
done
[ "$killed" = 1 ] && ok || bad "rank 1 not found under mpirun $job"
for _ in $(seq 600); do kill -0 "$job" 2>/dev/null || break; sleep 0.1; done # up to 60 s
if kill -0 "$job" 2>/dev/null; then
    bad "the job did not end within 60 s of a rank's death"
    pkill -9 -P "$job"
    kill -9 "$job"
fi
wait "$job" && bad "the job exited 0 after a rank died" || ok
grep -q "if a rank has died, the job ends without this step" k.err && ok ||
    bad "rank 0 said nothing clear: $(tail -5 k.err)"
s=$(step_of k.safetensors.ckpt)
"$vconv" "${train[@]}" --checkpoint-every 20 --steps $((s + 5)) -o k.safetensors \
    --resume k.safetensors.ckpt && ok ||
    bad "the checkpoint left by the killed job does not resume"
[ "$(step_of k.safetensors.ckpt)" = $((s + 5)) ] && ok || bad "the resumed run did not finish"

lib_end "mpi"
