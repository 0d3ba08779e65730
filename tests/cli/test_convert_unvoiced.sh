#!/usr/bin/env bash
# A reference with no voiced frame (noise, whisper): convert says so, instead of "pitch around
# 1 Hz", and the output keeps the source's pitch as it says.
# usage: test_convert_unvoiced.sh VCONV SAMPLES_DIR
set -u
vconv=$1 samples=$2
command -v python3 >/dev/null || { echo "python3 missing: skipped"; exit 77; }
. "$(dirname "$0")/lib.sh"
lib_begin
# 2 s of noise in syllable-like bursts, 16-bit mono 16 kHz (Python's standard library only)
python3 - "$work/noise.wav" <<'PY'
import math, random, struct, sys, wave
random.seed(7)
rate, n, y = 16000, 32000, 0.0
frames = bytearray()
for i in range(n):
    y = 0.97 * y + 0.03 * random.uniform(-1, 1)  # low-passed noise: speech-like tilt
    env = math.sin(math.pi * 3 * i / rate) ** 2
    frames += struct.pack('<h', int(max(-1, min(1, 6 * y * env)) * 32767 * 0.5))
with wave.open(sys.argv[1], 'wb') as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(rate); w.writeframes(bytes(frames))
PY
"$vconv" analyze --json "$work/noise.wav" >"$work/n.json" 2>&1
grep -q '"median_hz": null' "$work/n.json" && ok || bad "the noise reference has voiced frames: $(cat "$work/n.json")"
src="$samples/bdl_arctic_a0310.wav"
"$vconv" convert "$src" "$work/noise.wav" -o "$work/out.wav" >"$work/log" 2>&1 && ok || bad "convert: $(cat "$work/log")"
grep -q "no voiced frame found" "$work/log" && ok || bad "the message says no voiced frame was found: $(cat "$work/log")"
grep -q "pitch around" "$work/log" && bad "a pitch is reported for an unvoiced reference: $(cat "$work/log")" || ok
med() { sed -n 's/.*"median_hz": \([0-9.]*\).*/\1/p' "$1"; }
"$vconv" analyze --json "$work/out.wav" >"$work/o.json" && "$vconv" analyze --json "$src" >"$work/s.json"
awk -v o="$(med "$work/o.json")" -v s="$(med "$work/s.json")" 'BEGIN { exit !(o > 0 && s > 0 && o / s < 1.1 && s / o < 1.1) }' && ok \
  || bad "output F0 median $(med "$work/o.json") Hz, source $(med "$work/s.json") Hz: not the source's pitch"
# with the WORLD vocoder and frame matching: the noise's frames are matched (only unvoiced
# sounds); the output is written and is not silent
"$vconv" convert "$src" "$work/noise.wav" --vocoder world --match 1 -o "$work/w.wav" >"$work/log" 2>&1 && ok \
  || bad "convert --vocoder world --match 1: $(cat "$work/log")"
"$vconv" analyze --json "$work/w.wav" >"$work/w.json" 2>&1
grep -q '"active_dbfs": -[1-3][0-9]\.' "$work/w.json" && ok || bad "matched output is silent or odd: $(head -c 400 "$work/w.json")"
lib_end "convert_unvoiced"
