#!/usr/bin/env bash
# `cmake --install` into a temp prefix gives the binary, the static and the shared library, the
# header, a pkg-config file and a CMake package with which outside programs compile, link and run:
# one through pkg-config against libvconv.so, one against libvconv.a, one through
# find_package(vconv) (when cmake is on PATH).
# The shared library has its soname and exports exactly the vc_ names of the static one.
# With the bundled model, the installed binary finds it in PREFIX/share/vconv and converts, and
# vconv score finds the sample clips installed beside it (its reference speech); the installed
# library's default model is that same file.
# The README's library example builds with the command the README gives, and converts.
# Every external symbol of the installed library carries the project prefix, public or internal
# by its name: vc_ only for what the installed vconv.h declares, vc<module>_ for the rest.
# usage: test_install.sh BUILD_DIR C_COMPILER SOURCE_DIR
set -euo pipefail
build=$1 cc=$2 src=$3
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in bin/vconv include/vconv/vconv.h share/doc/vconv/LICENSE share/doc/vconv/NOTICE share/man/man1/vconv.1 \
  share/doc/vconv/LICENSE-CMU-ARCTIC.txt; do
  [ -f "$prefix/$f" ] || { echo "FAIL: $f not installed" >&2; exit 1; }
done
pc=$(find "$prefix" -name vconv.pc)
lib=$(find "$prefix" -name libvconv.a)
[ -n "$pc" ] && [ -n "$lib" ] || { echo "FAIL: vconv.pc or libvconv.a not installed" >&2; exit 1; }
# Symbol hygiene: nm on the installed archive; the header's declarations without its comments.
syms=$(nm -g --defined-only "$lib" | awk 'NF == 3 { print $3 }' | sort -u)
[ -n "$syms" ] || { echo "FAIL: nm lists no symbols in $lib" >&2; exit 1; }
declared=$("$cc" -E -P -I"$prefix/include" -x c "$prefix/include/vconv/vconv.h" |
  grep -oE '\bvc_[A-Za-z0-9_]+' | sort -u)
unprefixed=$(grep -vE '^vc[a-z]*_' <<<"$syms" || true)
[ -z "$unprefixed" ] || { echo "FAIL: libvconv.a exports names without the vc prefix:" $unprefixed >&2; exit 1; }
undeclared=$(grep -E '^vc_' <<<"$syms" | comm -23 - <(echo "$declared") || true)
[ -z "$undeclared" ] || { echo "FAIL: libvconv.a exports vc_ names vconv.h does not declare (internal names take a module prefix):" $undeclared >&2; exit 1; }
"$prefix/bin/vconv" --version | grep -q '^vconv ' || { echo "FAIL: installed vconv runs" >&2; exit 1; }
cat >"$prefix/use.c" <<'C'
#include <vconv/vconv.h>
#include <stdio.h>
int main(void) {
    vc_frontend_params p = vc_frontend_default_params();
    vc_frontend *fe;
    if (vc_frontend_init(&p, &fe) != VC_OK) return 1;
    int bins = vc_frontend_n_bins(fe);
    vc_frontend_free(fe);
    char model[1024];
    vc_status st = vc_default_model_path(model, sizeof model);
    printf("%d %s %s\n", bins, st == VC_OK ? "found" : "missing", model);
    return bins == 513 ? 0 : 1;
}
C
export PKG_CONFIG_PATH=$(dirname "$pc")
libdir=$(pkg-config --variable=libdir vconv)
# The shared library: its soname, and the same public names as the archive, no more.
so="$libdir/libvconv.so"
[ -L "$so" ] && [ -f "$libdir/libvconv.so.0" ] || { echo "FAIL: libvconv.so and libvconv.so.0 not installed" >&2; exit 1; }
soname=$(readelf -d "$so" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
[ "$soname" = libvconv.so.0 ] || { echo "FAIL: soname '$soname', want libvconv.so.0" >&2; exit 1; }
dynsyms=$(nm -D --defined-only "$so" | awk 'NF == 3 && $2 != "A" { sub(/@.*/, "", $3); print $3 }' | sort -u)
[ "$dynsyms" = "$(grep -E '^vc_' <<<"$syms")" ] || { echo "FAIL: libvconv.so exports other names than libvconv.a's vc_ ones:" $(comm -3 <(echo "$dynsyms") <(grep -E '^vc_' <<<"$syms")) >&2; exit 1; }
# shellcheck disable=SC2046
"$cc" -std=c11 -Wall -Werror "$prefix/use.c" $(pkg-config --cflags --libs vconv) \
  -Wl,-rpath,"$libdir" -o "$prefix/use"
readelf -d "$prefix/use" | grep -q 'NEEDED.*libvconv\.so\.0' || { echo "FAIL: pkg-config links libvconv.so" >&2; exit 1; }
"$prefix/use" >/dev/null
# shellcheck disable=SC2046
"$cc" -std=c11 -Wall -Werror "$prefix/use.c" $(pkg-config --cflags vconv) -Wl,-Bstatic -lvconv \
  -Wl,-Bdynamic $(pkg-config --libs --static vconv) -o "$prefix/use_static"
! readelf -d "$prefix/use_static" | grep -q 'NEEDED.*libvconv' || { echo "FAIL: the static link needs libvconv.so" >&2; exit 1; }
"$prefix/use_static" >/dev/null
n=7
if command -v cmake >/dev/null; then
  mkdir "$prefix/consumer"
  cat >"$prefix/consumer/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.18)
project(consumer C)
find_package(vconv 0.1 REQUIRED)
add_executable(use ../use.c)
target_link_libraries(use PRIVATE vconv::vconv)
CMAKE
  cmake -S "$prefix/consumer" -B "$prefix/consumer/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null &&
    cmake --build "$prefix/consumer/build" >/dev/null ||
    { echo "FAIL: a find_package(vconv) project builds" >&2; exit 1; }
  "$prefix/consumer/build/use" >/dev/null || { echo "FAIL: the find_package(vconv) program runs" >&2; exit 1; }
  n=$((n + 1))
fi
# The README's library example, its program and its build line exactly as written there.
readme_block() { # LANG: the fenced block of that language between the example's markers
  sed -n '/<!-- library-example begin -->/,/<!-- library-example end -->/p' "$src/README.md" |
    awk -v lang="$1" '/^```/ { if (inside) exit; if ($0 == "```" lang) inside = 1; next } inside'
}
readme_block c >"$prefix/my_convert.c"
build_line=$(readme_block sh)
[ -s "$prefix/my_convert.c" ] && [ -n "$build_line" ] || { echo "FAIL: README library example not found" >&2; exit 1; }
(cd "$prefix" && eval "$build_line") || { echo "FAIL: the README's example does not build as written: $build_line" >&2; exit 1; }
n=$((n + 1))
if [ -f "$src/samples/vconv-default.safetensors" ]; then
  LD_LIBRARY_PATH="$libdir" "$prefix/my_convert" "$src/samples/vconv-default.safetensors" "$src/samples/bdl_arctic_a0310.wav" \
    "$src/samples/slt_arctic_a0318.wav" "$prefix/lib_out.wav" && [ -s "$prefix/lib_out.wav" ] \
    || { echo "FAIL: the README's example program converts" >&2; exit 1; }
  n=$((n + 1))
fi
if [ -f "$src/samples/vconv-default.safetensors" ]; then
  [ -f "$prefix/share/vconv/vconv-default.safetensors" ] || { echo "FAIL: bundled model not installed" >&2; exit 1; }
  (cd "$prefix" && env -u VCONV_MODEL bin/vconv convert -q "$src/samples/bdl_arctic_a0310.wav" \
    "$src/samples/slt_arctic_a0318.wav" -o out.wav) || { echo "FAIL: installed vconv converts with its model" >&2; exit 1; }
  n=$((n + 2))
  got=$(env -u VCONV_MODEL "$prefix/use")
  [ "$got" = "513 found $(cd "$prefix/share/vconv" && pwd -P)/vconv-default.safetensors" ] ||
    { echo "FAIL: the installed library's default model is PREFIX/share/vconv's: $got" >&2; exit 1; }
  n=$((n + 1))
  (cd "$prefix" && env -u VCONV_MODEL bin/vconv score -q --json "$src/samples/bdl_arctic_a0310.wav" \
    | grep -q '"source": "bundled samples", "files": 3') \
    || { echo "FAIL: installed vconv score finds the installed sample clips as its reference" >&2; exit 1; }
  n=$((n + 1))
fi
echo "install: $n passed, 0 failed"
