#!/usr/bin/env bash
# vconv encode / decode: a stream and its bits per second (text and --json), the same bytes
# twice, decoded audio of the input's length (own voice and --voice), and bad, truncated or
# other-model streams refused with exit 1 and no output file.
# usage: test_codec.sh VCONV SAMPLES_DIR
set -u
vconv=$1 samples=$2
[ -f "$samples/vconv-default.safetensors" ] || { echo "no bundled model: skipped"; exit 77; }
. "$(dirname "$0")/lib.sh"
lib_begin
src="$samples/slt_arctic_a0318.wav" ref="$samples/bdl_arctic_a0310.wav"

# --- usage
expect 2 "encode without -o" -- "$vconv" encode "$src"
expect 2 "decode without -o" -- "$vconv" decode "$work/a.vcq"
expect 0 "encode --help" -- "$vconv" encode --help
grep -q -- '--json' "$work/out" && ok || bad "encode --help lists --json"

# --- encode: bits per second by part, deterministic
expect 0 "encode" -- "$vconv" encode "$src" -o "$work/a.vcq"
grep -q 'bit/s (codes [0-9]*, pitch [0-9]*, speaker [0-9]*' "$work/err" && ok \
  || bad "encode reports bit/s by part: $(cat "$work/err")"
expect 0 "encode --json" -- "$vconv" encode "$src" -o "$work/b.vcq" --json
grep -q '"bits_per_second": {"codes"' "$work/out" && ok || bad "json: $(cat "$work/out")"
cmp -s "$work/a.vcq" "$work/b.vcq" && ok || bad "the same bytes twice"
[ "$(wc -c <"$work/a.vcq")" -lt 1000 ] && ok || bad "a 3 s stream under 1000 bytes"

# --- decode: the input's length, own voice and another
expect 0 "decode" -- "$vconv" decode "$work/a.vcq" -o "$work/a.wav"
expect 0 "decode --voice" -- "$vconv" decode "$work/a.vcq" -o "$work/v.wav" --voice "$ref"
len() { python3 -c 'import sys,wave; w=wave.open(sys.argv[1]); print(w.getnframes())' "$1"; }
if command -v python3 >/dev/null; then
  [ "$(len "$work/a.wav")" = "$(len "$src")" ] && ok || bad "decoded length"
  [ "$(len "$work/v.wav")" = "$(len "$src")" ] && ok || bad "decoded length with --voice"
fi

# --- refused streams: exit 1, a clear line, no output
head -c 100 "$work/a.vcq" >"$work/cut.vcq"
printf 'not a stream' >"$work/text.vcq"
cp "$work/a.vcq" "$work/flip.vcq"
printf '\x55' | dd of="$work/flip.vcq" bs=1 seek=70 conv=notrunc 2>/dev/null
for f in cut text flip; do
  expect 1 "decode $f" -- "$vconv" decode "$work/$f.vcq" -o "$work/$f.wav"
  grep -q 'not a valid .vcq stream' "$work/err" && ok || bad "$f: $(cat "$work/err")"
  [ ! -e "$work/$f.wav" ] && ok || bad "$f: an output was left"
done
expect 1 "decode a missing file" -- "$vconv" decode "$work/none.vcq" -o "$work/none.wav"
[ ! -e "$work/none.wav" ] && ok || bad "missing: an output was left"
# another model: the bundled one exported with other metadata has the same parameters, so
# change one stored value instead (the stream names the model by config and parameters)
if command -v python3 >/dev/null; then
  python3 - "$samples/vconv-default.safetensors" "$work/other.safetensors" <<'PY'
import json, struct, sys
b = bytearray(open(sys.argv[1], 'rb').read())
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8 + n])
name = sorted(k for k in h if k != '__metadata__')[0]
off = 8 + n + h[name]['data_offsets'][0]
b[off] ^= 1  # the lowest bit of one value: a model that is not the one that encoded
open(sys.argv[2], 'wb').write(b)
PY
  expect 1 "decode with another model" -- "$vconv" decode "$work/a.vcq" -o "$work/o.wav" \
    --model "$work/other.safetensors"
  grep -q 'another model' "$work/err" && ok || bad "other model: $(cat "$work/err")"
  [ ! -e "$work/o.wav" ] && ok || bad "other model: an output was left"
fi
lib_end codec
