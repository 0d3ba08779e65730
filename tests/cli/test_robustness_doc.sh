#!/usr/bin/env bash
# docs/robustness.md's bad-input table is what scripts/bad_input_table makes of the tests.
# usage: test_robustness_doc.sh SOURCE_DIR
set -u
root=$1
want=$("$root/scripts/bad_input_table" "$root/tests/cli/test_cli.sh" "$root/tests/cli/test_outputs.sh")
have=$(sed -n '/<!-- bad-input-table begin -->/,/<!-- bad-input-table end -->/p' "$root/docs/robustness.md" | sed '1d;$d')
if [ "$want" = "$have" ]; then
  echo "robustness_doc: 1 passed, 0 failed"
else
  echo "FAIL: docs/robustness.md's table is stale; regenerate it from scripts/bad_input_table:" >&2
  diff <(echo "$have") <(echo "$want") >&2
  exit 1
fi
