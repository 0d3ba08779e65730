# shellcheck shell=bash
# The preamble and summary the shell tests in tests/cli share. Sourced, not run:
#   . "$(dirname "$0")/lib.sh"
#   lib_begin [--kill-jobs]   $work: a temp folder, removed at exit; with --kill-jobs the
#                             background jobs still running at exit are killed first (a test
#                             that starts them and fails early must not leave them running
#                             into the next test, nor keep ctest waiting on their output)
#   ok                        one check passed
#   bad MESSAGE...            one check failed: "FAIL: MESSAGE" on stderr
#   expect CODE WHAT -- COMMAND...
#                             the command's exit code is CODE; its stdout is kept in
#                             $work/out, its stderr in $work/err
#   lib_end NAME              "NAME: P passed, F failed"; exits 1 when a check failed, else 0
#   same_tensors A B          true when model files A and B hold the same tensor bytes (their
#                             headers, with the training date, may differ; needs python3)
#   wait_log FILE N           true once FILE has at least N lines (a run under way), within 60 s
#   stop_part_way PID LOG     once LOG has 3 lines, SIGTERM to the background job PID; one check:
#                             it exits 143 (stopped with its checkpoint) or 0 (it had finished)
# Skips stay in each script (`exit 77`, before or after lib_begin: the trap cleans up either way).
# scripts/bad_input_table reads the `expect`/`run` lines of test_cli.sh and test_outputs.sh,
# not this file.

pass=0 fail=0

lib_begin() {
  work=$(mktemp -d)
  if [ "${1:-}" = --kill-jobs ]; then
    trap 'kill -9 $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
  else
    trap 'rm -rf "$work"' EXIT
  fi
}

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

expect() {
  local want=$1 what=$2; shift 3
  "$@" >"$work/out" 2>"$work/err"
  local got=$?
  if [ "$got" -eq "$want" ]; then ok; else bad "$what: exit $got, want $want: $(head -c 300 "$work/err")"; fi
}

same_tensors() {
  python3 - "$1" "$2" <<'PY'
import struct, sys
def body(p):
    b = open(p, "rb").read()
    return b[8 + struct.unpack("<Q", b[:8])[0]:]
sys.exit(body(sys.argv[1]) != body(sys.argv[2]))
PY
}

wait_log() {
  for _ in $(seq 1200); do # up to 60 s: a loaded machine starts slowly
    [ -s "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ] && return 0
    sleep 0.05
  done
  return 1
}

stop_part_way() {
  wait_log "$2" 3
  kill -TERM "$1"
  wait "$1"
  local code=$?
  [ "$code" -eq 143 ] || [ "$code" -eq 0 ] && ok || bad "SIGTERM: exit $code"
}

lib_end() {
  echo "$1: $pass passed, $fail failed"
  [ "$fail" -eq 0 ] || exit 1
  exit 0
}
