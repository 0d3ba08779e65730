#!/usr/bin/env bash
# vconv codebook --html (with --phones: its heat map too): a self-contained page (no network
# references, no scripts) that headless Chromium renders without console errors into a
# screenshot that is not blank. Skips (77) where
# Chromium is absent; CI installs it (scripts/setup --test).
# usage: test_html_report.sh VCONV SAMPLES_DIR
set -u
vconv=$1 samples=$2
chrome=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chrome" ] || { echo "html_report: skipped, no chromium (apt-get install chromium)"; exit 77; }
. "$(dirname "$0")/lib.sh"
lib_begin
cd "$work"
"$vconv" train -q --data "$samples" -o m.safetensors --preset tiny --steps 20 --batch 2 --segment 32 \
  --cache cache >/dev/null 2>&1 && ok || bad "train a tiny model"
mkdir -p spk/a spk/b
for f in "$samples"/*.wav; do cp "$f" spk/a/; done
cp "$(ls "$samples"/*.wav | head -n 1)" spk/b/
# phone labels (made up: four phones in turn every 0.1 s) for the code x phone heat map
for f in spk/*/*.wav; do
  d=labels/$(basename "$(dirname "$f")") && mkdir -p "$d"
  awk 'BEGIN { split("AA B K S", p, " "); for (i = 0; i < 40; i++) printf "%.1f %.1f %s\n", i / 10, (i + 1) / 10, p[i % 4 + 1] }' \
    >"$d/$(basename "$f" .wav).txt"
done
"$vconv" codebook -q m.safetensors --data spk --phones labels --html report.html >/dev/null 2>err.txt && ok || bad "codebook --html: $(cat err.txt)"
[ -s report.html ] && ok || bad "report written"
ls report.html.tmp >/dev/null 2>&1 && bad "temp file left behind" || ok
# self-contained: the only URL is the SVG namespace; no script, no external source or link
grep -o 'http[s]*://[^"]*' report.html | grep -v '^http://www.w3.org/2000/svg$' | grep -q . && bad "external URL in the report" || ok
grep -qi '<script\|<link\|src="http\|href="http' report.html && bad "script or external resource in the report" || ok
for part in '<svg' 'data:image/bmp;base64,' 'data:audio/wav;base64,' '<audio controls' 'code x phone heat map'; do
  grep -q "$part" report.html && ok || bad "report has $part"
done
timeout 120 "$chrome" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1300,2000 \
  --screenshot="$work/shot.png" --enable-logging=stderr --v=0 "file://$work/report.html" >chrome.log 2>&1
[ -s shot.png ] && ok || bad "chromium made no screenshot: $(tail -n 5 chrome.log)"
grep -E 'CONSOLE|Uncaught|Not allowed to load' chrome.log && bad "console messages while rendering" || ok
python3 - shot.png <<'PY' && ok || bad "screenshot is blank"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
pos, idat, w, h, ct = 8, b"", 0, 0, 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, _, ct = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
bpp = {2: 3, 6: 4}[ct]
stride = 1 + w * bpp
# filtered bytes are enough to tell a blank page (one repeated row) from a drawn one
rows = {raw[y * stride + 1:(y + 1) * stride] for y in range(0, h, 7)}
sys.exit(0 if len(rows) > 20 else 1)
PY
lib_end "html_report"
