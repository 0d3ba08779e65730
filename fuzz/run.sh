#!/bin/sh
# Run every fuzzer for a bounded time: fuzz/run.sh OUTDIR SECONDS [NAME...]
# SECONDS is per target. Builds into OUTDIR, fuzzes a copy of fuzz/corpus/<name> (the committed
# seeds are never modified) in OUTDIR/corpus/<name>, and leaves any crash inputs in
# OUTDIR/artifacts/<name>/. Runs every target even if one fails; the exit status is non-zero
# if any did.
set -eu
if [ $# -lt 2 ]; then
    echo "usage: $0 OUTDIR SECONDS [NAME...]" >&2
    exit 2
fi
out=$1
secs=$2
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -eq 0 ]; then
    for src in "$root"/fuzz/fuzz_*.c; do
        name=$(basename "$src" .c)
        set -- "$@" "${name#fuzz_}"
    done
fi
"$root/fuzz/build.sh" "$out" "$@"
# Known leaks inside system libraries, not ours: libsndfile 1.2's Ogg/Vorbis open error path
# drops the vorbis_info it initialised (seed audio/ogg_bad_header_leak.ogg). It is matched by
# function name and, for machines without llvm-symbolizer (where frames have no names), by
# the library it is allocated in; vconv's code is never called from inside libvorbis, so our
# own allocations are still reported.
cat > "$out/lsan.supp" <<'SUPP'
leak:vorbis_info_init
leak:libvorbis.so
SUPP
failed=""
for name in "$@"; do
    rm -rf "$out/corpus/$name" "$out/artifacts/$name"
    mkdir -p "$out/corpus/$name" "$out/artifacts/$name"
    if [ -d "$root/fuzz/corpus/$name" ]; then
        cp "$root/fuzz/corpus/$name"/* "$out/corpus/$name/"
    fi
    echo "== fuzz_$name for $secs s"
    # 64 KB inputs cover multi-block WAV/FLAC and multi-tensor models; 2 GB RSS and 10 s per
    # input catch runaway decodes.
    # The run's output goes to $out/fuzz_$name.log: libsndfile's mpg123 decoder prints a note
    # for every malformed MPEG frame and LSan a block for every suppressed libvorbis leak, tens
    # of thousands of lines a run. A failing target shows its whole log's end; a passing one,
    # libFuzzer's summary.
    if ! LSAN_OPTIONS="suppressions=$out/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}" \
        OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \
        "$out/fuzz_$name" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 \
        -timeout=10 -artifact_prefix="$out/artifacts/$name/" -print_final_stats=1 \
        "$out/corpus/$name" 2>"$out/fuzz_$name.log"; then
        failed="$failed $name"
        tail -n 200 "$out/fuzz_$name.log" >&2
    else
        grep -E '^(Done |stat::|INFO: seed|INFO: Loaded)' "$out/fuzz_$name.log" >&2 || true
    fi
done
if [ -n "$failed" ]; then
    echo "fuzz: failed:$failed (inputs in $out/artifacts/)" >&2
    exit 1
fi
echo "fuzz: all targets ran clean: $*"
