#!/usr/bin/env bash
# vconv codebook --phones LABELS, end to end:
#  - labels made from the codes themselves (each code run a segment named after its code, at
#    the code's own frames) must come back with purity 1 and code-phone NMI 1: any error in
#    mapping label seconds to code frames (the hop, the first frame, the half-frame centre)
#    breaks it; the same labels moved by one code must not;
#  - the text report, the JSON keys, each phone's top codes, the HTML heat map section;
#  - a folder with no labels: exit 1 and a line saying where it looked; an unreadable label
#    file: a warning, its audio left out, the rest reported; --phones without audio: usage.
# usage: test_codebook_phones.sh VCONV SAMPLES_DIR
set -u
vconv=$1 samples=$2
[ -f "$samples/vconv-default.safetensors" ] || { echo "no bundled model: skipped"; exit 77; }
command -v python3 >/dev/null || { echo "no python3: skipped"; exit 77; }
. "$(dirname "$0")/lib.sh"
lib_begin
wavs=("$samples"/bdl_arctic_a0310.wav "$samples"/slt_arctic_a0318.wav "$samples"/kathleen_arctic_a0300.wav)

expect 0 "codes as JSON" -- "$vconv" codebook "${wavs[@]}" --json --codes
cp "$work/out" "$work/codes.json"
expect 0 "model info" -- "$vconv" info "$samples/vconv-default.safetensors" --json
# label files from the codes: segment k spans frames first + 2k .. first + 2k + 2 (seconds by
# the model's own rate and hop); shift moves every label by that many codes
make_labels() { # DIR SHIFT
  python3 - "$work/codes.json" "$1" "$2" "$work/out" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1])); out = sys.argv[2]; shift = int(sys.argv[3])
info = json.load(open(sys.argv[4]))
cfg = info.get("config", info)
rate, hop = cfg["sample_rate"], cfg["hop"]
os.makedirs(out, exist_ok=True)
for f in d["files"]:
    codes = [c for c, n in f["rle"] for _ in range(n)]
    stem = os.path.splitext(os.path.basename(f["path"]))[0]
    with open(os.path.join(out, stem + ".txt"), "w") as g:
        g.write("# start end phone\n")
        for k in range(len(codes)):
            j = k + shift
            if 0 <= j < len(codes):
                t0 = (f["first_frame"] + 2 * j) * hop / rate
                g.write("%.6f %.6f k%dx\n" % (t0, t0 + 2 * hop / rate, codes[k]))
PY
}
if ! make_labels "$work/labels" 0 2>"$work/py.err"; then
  bad "making labels from the codes: $(cat "$work/py.err")"
  lib_end codebook_phones
fi
make_labels "$work/shifted" 1

# --- the codes' own labels: purity 1, NMI 1
expect 0 "--phones --json" -- "$vconv" codebook "${wavs[@]}" --phones "$work/labels" --json
python3 - "$work/out" <<'PY' && ok || bad "own labels: $(head -c 400 "$work/out")"
import json, sys
p = json.load(open(sys.argv[1]))["phones"]
assert p["files_labelled"] == 3 and p["files_unlabelled"] == 0, p
assert p["purity"] == 1.0, p["purity"]
assert p["nmi"] > 0.9999, p["nmi"]
assert p["nmi_rotated"] < 0.95 * p["nmi"], p["nmi_rotated"]
assert p["per_phone"] and p["per_phone"][0]["top_codes"], p["per_phone"][:2]
assert all(c["purity"] == 1.0 for c in p["per_code"])
PY
expect 0 "--phones, labels one code late" -- "$vconv" codebook "${wavs[@]}" --phones "$work/shifted" --json
python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["phones"]; sys.exit(0 if p["purity"] < 0.9 else 1)' \
  "$work/out" && ok || bad "labels one code late still pure: $(grep -o '"purity": [0-9.]*' "$work/out" | head -1)"

# --- text and HTML
expect 0 "--phones text" -- "$vconv" codebook "${wavs[@]}" --phones "$work/labels"
grep -q '^phones    3 files labelled' "$work/out" && ok || bad "text: $(cat "$work/out")"
grep -q 'purity 1.000' "$work/out" && ok || bad "text purity: $(grep purity "$work/out")"
grep -q 'code-phone 1.0000' "$work/out" && ok || bad "text NMI: $(grep code-phone "$work/out")"
grep -Eq '^          k[0-9]+x +[0-9]+ codes; top codes [0-9]+ \(100%\)' "$work/out" && ok || bad "top codes line"
expect 0 "--phones --html" -- "$vconv" codebook "${wavs[@]}" --phones "$work/labels" --html "$work/r.html"
grep -q '<h2>Codes and phones</h2>' "$work/r.html" && ok || bad "HTML section"
grep -q 'code x phone heat map' "$work/r.html" && grep -q 'href="data:image/bmp;base64,' "$work/r.html" \
  && ok || bad "HTML heat map"

# --- missing and broken labels
mkdir "$work/empty"
expect 1 "no labels anywhere" -- "$vconv" codebook "${wavs[@]}" --phones "$work/empty"
grep -q 'no phone labels for any of the 3 files' "$work/err" && ok || bad "where it looked: $(cat "$work/err")"
printf '0.1 zero-point-two k1x\n' >"$work/labels/slt_arctic_a0318.txt"
expect 0 "one broken label file" -- "$vconv" codebook "${wavs[@]}" --phones "$work/labels"
grep -q 'warning: .*slt_arctic_a0318.txt: line 1' "$work/err" && ok || bad "broken file named: $(cat "$work/err")"
grep -q '^phones    2 files labelled .* (1 without labels)' "$work/out" && ok || bad "left out: $(grep '^phones' "$work/out")"
expect 2 "--phones without audio" -- "$vconv" codebook --phones "$work/labels"

lib_end codebook_phones
