#!/usr/bin/env bash
# `cmake --install` into a temp prefix gives the binary, the static library, the header and a
# pkg-config file with which an outside program compiles, links and runs.
# With the bundled model, the installed binary finds it in PREFIX/share/vconv and converts.
# usage: test_install.sh BUILD_DIR C_COMPILER SOURCE_DIR
set -euo pipefail
build=$1 cc=$2 src=$3
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in bin/vconv include/vconv/vconv.h; do
  [ -f "$prefix/$f" ] || { echo "FAIL: $f not installed" >&2; exit 1; }
done
pc=$(find "$prefix" -name vconv.pc)
lib=$(find "$prefix" -name libvconv.a)
[ -n "$pc" ] && [ -n "$lib" ] || { echo "FAIL: vconv.pc or libvconv.a not installed" >&2; exit 1; }
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
    printf("%d\n", bins);
    return bins == 513 ? 0 : 1;
}
C
export PKG_CONFIG_PATH=$(dirname "$pc")
# shellcheck disable=SC2046
"$cc" -std=c11 -Wall -Werror "$prefix/use.c" $(pkg-config --cflags --libs --static vconv) \
  -o "$prefix/use"
"$prefix/use" >/dev/null
n=4
if [ -f "$src/samples/vconv-default.safetensors" ]; then
  [ -f "$prefix/share/vconv/vconv-default.safetensors" ] || { echo "FAIL: bundled model not installed" >&2; exit 1; }
  (cd "$prefix" && env -u VCONV_MODEL bin/vconv convert -q "$src/samples/bdl_arctic_a0310.wav" \
    "$src/samples/slt_arctic_a0318.wav" -o out.wav) || { echo "FAIL: installed vconv converts with its model" >&2; exit 1; }
  n=6
fi
echo "install: $n passed, 0 failed"
