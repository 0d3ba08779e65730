#!/usr/bin/env bash
# `cmake --install` into a temp prefix gives the binary, the static library, the header and a
# pkg-config file with which an outside program compiles, links and runs.
# usage: test_install.sh BUILD_DIR C_COMPILER
set -euo pipefail
build=$1 cc=$2
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
echo "install: 4 passed, 0 failed"
