#!/usr/bin/env bash
# vconv score: worst first (heavy noise and a tone above the clean samples), the JSON shape,
# bad files reported and skipped without stopping the others, exit codes, determinism, --top,
# --baseline, and --calibrate stored with export --set and read back as the reference.
# usage: test_score.sh VCONV SAMPLES_DIR
set -u
vconv=$1 samples=$2
command -v python3 >/dev/null || { echo "python3 missing: skipped"; exit 77; }
[ -f "$samples/vconv-default.safetensors" ] || { echo "no bundled model: skipped"; exit 77; }
. "$(dirname "$0")/lib.sh"
lib_begin
clean="$samples/bdl_arctic_a0310.wav"

# the sample with white noise at 0 dB SNR, and a 440 Hz tone of the same length and level
# (Python's standard library only)
python3 - "$clean" "$work/noisy.wav" "$work/tone.wav" <<'PY'
import math, random, struct, sys, wave
with wave.open(sys.argv[1]) as w:
    rate, x = w.getframerate(), struct.unpack('<%dh' % w.getnframes(), w.readframes(w.getnframes()))
rms = math.sqrt(sum(v * v for v in x) / len(x))
random.seed(5)
noisy = [max(-32768, min(32767, int(v + random.gauss(0, rms)))) for v in x]
tone = [int(rms * math.sqrt(2) * math.sin(2 * math.pi * 440 * i / rate)) for i in range(len(x))]
for path, y in ((sys.argv[2], noisy), (sys.argv[3], tone)):
    with wave.open(path, 'wb') as o:
        o.setnchannels(1); o.setsampwidth(2); o.setframerate(rate)
        o.writeframes(struct.pack('<%dh' % len(y), *y))
PY
printf 'not audio\n' >"$work/text.wav"
: >"$work/empty.wav"

# --- help and usage
"$vconv" score --help >"$work/out" 2>&1 && grep -q -- '--baseline' "$work/out" && ok || bad "score --help"
"$vconv" score >"$work/out" 2>"$work/err"; [ $? -eq 2 ] && ok || bad "no input: want exit 2"
"$vconv" score --top -1 "$clean" >"$work/out" 2>"$work/err"; [ $? -eq 2 ] && ok || bad "--top -1: want exit 2"

# --- ordering, text: worst first
"$vconv" score -q "$clean" "$work/noisy.wav" "$work/tone.wav" >"$work/text" 2>"$work/err" && ok \
  || bad "score: $(cat "$work/err")"
order=$(grep -v '^#' "$work/text" | awk '{print $4}' | xargs -n1 basename | tr '\n' ' ')
[ "$order" = "tone.wav noisy.wav bdl_arctic_a0310.wav " ] && ok || bad "order: '$order'"
grep -q '^# score = reconstruction error / .* bundled samples (3 files)' "$work/text" && ok \
  || bad "the reference line: $(head -n 1 "$work/text")"

# --- JSON shape, bad files skipped, exit 0 while one file was scored
"$vconv" score --json -q "$work/missing.wav" "$work/text.wav" "$clean" "$work/empty.wav" \
  "$work/tone.wav" >"$work/json" 2>"$work/err" && ok || bad "score with bad files: $(cat "$work/err")"
python3 - "$work/json" <<'PY' && ok || bad "JSON: $(head -c 600 "$work/json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert set(d) == {"model", "reference", "files", "skipped"}, d.keys()
r = d["reference"]
assert r["source"] == "bundled samples" and r["files"] == 3 and r["median_error"] > 0, r
assert [f["file"].split("/")[-1] for f in d["files"]] == ["tone.wav", "bdl_arctic_a0310.wav"]
for f in d["files"]:
    assert set(f) == {"file", "score", "error", "speech_s", "spans"}, f.keys()
    assert abs(f["score"] - f["error"] / r["median_error"]) < 1e-3 * f["score"]
    assert f["speech_s"] > 2 and len(f["spans"]) >= 2
    for a, b in zip(f["spans"], f["spans"][1:]):
        assert abs(a["end_s"] - b["start_s"]) < 1e-3 and set(a) == {"start_s", "end_s", "score"}
assert d["files"][0]["score"] > 3 * d["files"][1]["score"]
s = d["skipped"]
assert [x["file"].split("/")[-1] for x in s] == ["missing.wav", "text.wav", "empty.wav"], s
assert all(x["error"] for x in s)
PY
"$vconv" score "$work/missing.wav" "$clean" >/dev/null 2>"$work/err"
grep -q 'missing.wav.*(skipped)' "$work/err" && ok || bad "skipped file on stderr: $(cat "$work/err")"
"$vconv" score "$work/missing.wav" "$work/text.wav" >/dev/null 2>"$work/err"
[ $? -eq 1 ] && grep -q 'none of the 2 files' "$work/err" && ok || bad "all bad: want exit 1: $(cat "$work/err")"
"$vconv" score --data "$work/nofolder" >/dev/null 2>"$work/err"; [ $? -eq 1 ] && ok || bad "missing --data folder: want exit 1"

# --- determinism, --top, --data
"$vconv" score --json -q "$work/missing.wav" "$work/text.wav" "$clean" "$work/empty.wav" \
  "$work/tone.wav" >"$work/json2" 2>/dev/null
cmp -s "$work/json" "$work/json2" && ok || bad "two runs differ"
"$vconv" score -q --top 1 "$clean" "$work/noisy.wav" "$work/tone.wav" >"$work/top" 2>/dev/null
[ "$(grep -vc '^#' "$work/top")" -eq 1 ] && grep -q 'tone.wav' "$work/top" && ok || bad "--top 1: $(cat "$work/top")"
mkdir -p "$work/set/a" && cp "$work/noisy.wav" "$clean" "$work/set/a/"
"$vconv" score -q --json --data "$work/set" >"$work/dj" 2>/dev/null \
  && [ "$(grep -o '"file":' "$work/dj" | wc -l)" -eq 2 ] && ok || bad "--data: $(cat "$work/dj")"

# --- --baseline, and --calibrate stored in a model and read back
"$vconv" score -q --json --baseline "$clean" "$work/tone.wav" >"$work/bj" 2>/dev/null
grep -q '"source": "baseline", "files": 1' "$work/bj" && ok || bad "--baseline FILE: $(head -c 300 "$work/bj")"
kv=$("$vconv" score -q --calibrate "$samples"/*.wav 2>/dev/null)
case "$kv" in vconv.score_reference=0.*) ok ;; *) bad "--calibrate printed '$kv'" ;; esac
"$vconv" export "$samples/vconv-default.safetensors" -o "$work/m.safetensors" --set "$kv" -q && ok || bad "export --set"
"$vconv" score -q --json --model "$work/m.safetensors" "$clean" >"$work/mj" 2>/dev/null
grep -q '"source": "model metadata"' "$work/mj" && ok || bad "stored reference: $(head -c 300 "$work/mj")"
"$vconv" export "$samples/vconv-default.safetensors" -o "$work/b.safetensors" \
  --set vconv.score_reference=abc -q
"$vconv" score --model "$work/b.safetensors" "$clean" >/dev/null 2>"$work/err"
[ $? -eq 1 ] && grep -q 'not a positive number' "$work/err" && ok || bad "bad stored reference: $(cat "$work/err")"

lib_end "score"
