#!/bin/sh
# Build the libFuzzer targets: fuzz/build.sh OUTDIR [NAME...]
# Every fuzz/fuzz_<name>.c is a target (all of them unless names are given), built as
# OUTDIR/fuzz_<name>. Needs clang with libFuzzer (apt-get install clang libclang-rt-14-dev).
# The library sources a target needs (sources_for below) are compiled with the fuzzer's
# sanitizer flags; libsndfile, soxr and cJSON come uninstrumented from the system.
set -eu
if [ $# -lt 1 ]; then
    echo "usage: $0 OUTDIR [NAME...]" >&2
    exit 2
fi
out=$1
shift
root=$(cd "$(dirname "$0")/.." && pwd)
cc=${CC:-clang}
mkdir -p "$out"

# Library sources per target, relative to the root (globs allowed). Keep them narrow: a target
# should not break because an unrelated module is mid-edit.
sources_for() {
    case $1 in
    audio) echo "src/audio/*.c src/core/*.c" ;;
    safetensors) echo "src/io/safetensors.c src/io/params_file.c src/nn/params.c src/core/*.c" ;;
    config) echo "src/model/config.c src/io/safetensors.c src/dsp/*.c src/audio/*.c src/core/*.c" ;;
    vcq) echo "src/codec/stream.c src/codec/range.c src/core/*.c" ;;
    labels) echo "src/codebook/labels.c src/core/*.c" ;;
    pairs) echo "src/cli/convert_plan.c" ;;
    model) echo "src/model/*.c src/codebook/labels.c src/nn/*.c src/dsp/*.c src/audio/*.c src/io/safetensors.c src/io/params_file.c src/core/*.c" ;;
    *) echo "src/core/*.c src/audio/*.c src/dsp/*.c src/nn/*.c src/io/*.c" ;;
    esac
}

if [ $# -eq 0 ]; then
    set --
    for src in "$root"/fuzz/fuzz_*.c; do
        name=$(basename "$src" .c)
        set -- "$@" "${name#fuzz_}"
    done
fi

for name in "$@"; do
    src="$root/fuzz/fuzz_$name.c"
    if [ ! -f "$src" ]; then
        echo "$0: no fuzz target $src" >&2
        exit 2
    fi
    lib=""
    for pattern in $(sources_for "$name"); do
        # Unquoted on purpose: expands the glob.
        # shellcheck disable=SC2086
        lib="$lib $(ls "$root"/$pattern)"
    done
    # src/core/status.c calls omp_set_num_threads and openblas_set_num_threads: link OpenMP and
    # OpenBLAS so the core sources build as they are.
    # shellcheck disable=SC2046,SC2086
    "$cc" -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
        -fno-omit-frame-pointer -Wall -Wextra -Wpedantic -Wshadow \
        -I"$root/include" -I"$root/src" \
        $(pkg-config --cflags sndfile soxr openblas libcjson fftw3f) \
        "$src" $lib \
        $(pkg-config --libs sndfile soxr openblas libcjson fftw3f) -fopenmp -lm \
        -o "$out/fuzz_$name"
    echo "built $out/fuzz_$name"
done
