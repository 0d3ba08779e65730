#!/usr/bin/env bash
# The manual pages in man/ are what scripts/gen_man makes from the built vconv's --help: one for
# vconv and one per command, none missing, none extra, none stale. Each renders without a
# warning from man (where man is installed).
# usage: test_man.sh VCONV SOURCE_DIR PYTHON3
. "$(dirname "$0")/lib.sh"
vconv=$1 src=$2 python=$3
[ -n "$python" ] || { echo "python3 not found: skipped"; exit 77; }
lib_begin

"$python" "$src/scripts/gen_man" "$vconv" "$work/man" >/dev/null || bad "scripts/gen_man runs"
if diff -ru "$src/man" "$work/man" >"$work/diff"; then ok; else
  bad "man/ differs from the --help of $vconv (run scripts/gen_man $vconv and commit):" \
    "$(head -c 1500 "$work/diff")"
fi
n_cmds=$("$vconv" --help | sed -n '/Commands:/,/^$/p' | grep -c '^  [a-z]')
n_pages=$(find "$src/man" -name 'vconv-*.1' | wc -l)
[ "$n_cmds" -gt 0 ] && [ "$n_cmds" -eq "$n_pages" ] && ok || bad "$n_cmds commands, $n_pages command pages"
if command -v man >/dev/null; then
  for page in "$src"/man/*.1; do
    warnings=$(MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 "$page" 2>&1 >/dev/null)
    [ -z "$warnings" ] && ok || bad "$(basename "$page") renders with warnings: $warnings"
  done
fi
lib_end man
