#!/bin/sh
# Build the libFuzzer target for the audio loader: fuzz/build.sh OUTDIR
# Needs clang with libFuzzer (apt-get install clang libclang-rt-14-dev). The loader sources
# (src/audio, src/core) are compiled with the fuzzer's sanitizer flags; libsndfile and soxr
# come uninstrumented from the system.
set -eu
if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
out=$1
root=$(cd "$(dirname "$0")/.." && pwd)
cc=${CC:-clang}
mkdir -p "$out"
# src/core/status.c calls omp_set_num_threads and openblas_set_num_threads: link OpenMP and
# OpenBLAS so the core sources build as they are.
# shellcheck disable=SC2046
"$cc" -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -fno-omit-frame-pointer -Wall -Wextra -Wpedantic -Wshadow \
    -I"$root/include" -I"$root/src" \
    $(pkg-config --cflags sndfile soxr openblas) \
    "$root/fuzz/fuzz_audio.c" "$root"/src/audio/*.c "$root"/src/core/*.c \
    $(pkg-config --libs sndfile soxr openblas) -fopenmp -lm \
    -o "$out/fuzz_audio"
echo "built $out/fuzz_audio"
