#!/usr/bin/env bash
# Command-line contract: exit codes (0 ok, 1 runtime error, 2 usage), one line on stderr for a
# failure, no output file after a failure, --help everywhere, deterministic output.
# usage: test_cli.sh VCONV TEST_DATA_DIR SAMPLES_DIR
set -u
vconv=$1 samples=$3
. "$(dirname "$0")/lib.sh"
lib_begin
cd "$work"

# expect CODE DESCRIPTION -- COMMAND... (lib.sh): checks the exit code; stderr is kept in $work/err.
one_line_error() {
  local n; n=$(wc -l <"$work/err")
  if [ "$n" -eq 1 ] && grep -q '^vconv' "$work/err"; then ok; else bad "$1: stderr has $n lines: $(cat "$work/err")"; fi
}
no_file() { if [ -e "$1" ] || ls "$(dirname "$1")" 2>/dev/null | grep -q '\.tmp'; then bad "$2: output or temp file left behind"; else ok; fi; }

sample=$(ls "$samples"/*.wav | head -n 1)

# --- usage and help
expect 2 "no arguments" -- "$vconv"
expect 0 "--help" -- "$vconv" --help
grep -q resynth "$work/out" && ok || bad "--help lists commands"
expect 0 "--version" -- "$vconv" --version
grep -q '^vconv [0-9]' "$work/out" && ok || bad "--version prints a version"
expect 2 "unknown command" -- "$vconv" frobnicate
one_line_error "unknown command"
for cmd in resynth analyze train convert info export codebook score encode decode; do
  expect 0 "$cmd --help" -- "$vconv" $cmd --help
  grep -q -- '--threads' "$work/out" && ok || bad "$cmd --help lists --threads"
  grep -qiw 'nan' "$work/out" && bad "$cmd --help shows a nan: $(grep -i nan "$work/out")" || ok
  cp "$work/out" help.txt
  expect 0 "vconv help $cmd" -- "$vconv" help $cmd
  cmp -s "$work/out" help.txt && ok || bad "vconv help $cmd is $cmd --help"
  expect 0 "$cmd -h" -- "$vconv" $cmd -h
  if [ "$cmd" != codebook ]; then # codebook alone describes the bundled model's codebook
    expect 2 "$cmd without input" -- "$vconv" $cmd
    one_line_error "$cmd without input"
  fi
  expect 2 "$cmd unknown option" -- "$vconv" $cmd --bogus "$sample"
  one_line_error "$cmd unknown option"
  expect 2 "$cmd bad threads" -- "$vconv" $cmd --threads 0 "$sample"
done
expect 2 "resynth --iters out of range" -- "$vconv" resynth --iters -3 "$sample"
expect 2 "resynth --iters not a number" -- "$vconv" resynth --iters ten "$sample"
expect 2 "resynth --from bad choice" -- "$vconv" resynth --from cepstrum "$sample"
expect 2 "resynth two inputs" -- "$vconv" resynth "$sample" "$sample"
expect 2 "help for an unknown command" -- "$vconv" help frobnicate
one_line_error "help for an unknown command"
# a documented limit is reported as that limit, not as an unexpected argument
refs=(); for i in $(seq 33); do refs+=("$sample"); done
expect 2 "convert with 33 references (32 at most)" -- "$vconv" convert "$sample" "${refs[@]}"
one_line_error "convert with 33 references"
grep -q 'at most 33 file arguments' "$work/err" && ok || bad "the limit is named: $(cat "$work/err")"
"$vconv" convert --help | grep -q 'At most 32 references' && ok || bad "convert --help documents the limit"

# --- resynth works, derives a name, is deterministic
expect 0 "resynth default name" -- "$vconv" resynth "$sample"
derived="$(basename "${sample%.*}").resynth.wav"
[ -s "$derived" ] && ok || bad "resynth wrote $derived"
grep -q "wrote $derived" "$work/err" && ok || bad "resynth says what it wrote"
expect 0 "resynth -q" -- "$vconv" resynth -q --iters 8 --from mel "$sample" -o a.wav
[ ! -s "$work/err" ] && ok || bad "-q prints nothing: $(cat "$work/err")"
expect 0 "resynth again" -- "$vconv" resynth -q --iters 8 --from mel "$sample" -o b.wav
cmp -s a.wav b.wav && ok || bad "same seed gives the same bytes"
expect 0 "resynth other seed" -- "$vconv" resynth -q --iters 8 --from mel --seed 7 "$sample" -o c.wav
cmp -s a.wav c.wav && bad "another seed gives other bytes" || ok
expect 0 "analyze output" -- "$vconv" analyze --json a.wav
in_dur=$("$vconv" analyze --json "$sample" | sed -n 's/.*"duration_s": \([0-9.]*\).*/\1/p')
out_dur=$(sed -n 's/.*"duration_s": \([0-9.]*\).*/\1/p' "$work/out")
[ -n "$in_dur" ] && [ "$in_dur" = "$out_dur" ] && ok || bad "resynth keeps the duration ($in_dur vs $out_dur)"
expect 0 "resynth --float" -- "$vconv" resynth -q --iters 2 --float "$sample" -o f.wav
"$vconv" analyze f.wav | grep -q 'FLOAT\|float\|Float' && ok || bad "--float writes float WAV"
expect 2 "resynth --vocoder bad choice" -- "$vconv" resynth --vocoder straight "$sample"
expect 0 "resynth --vocoder world" -- "$vconv" resynth -q --vocoder world "$sample" -o w1.wav
expect 0 "resynth --vocoder world again" -- "$vconv" resynth -q --vocoder world "$sample" -o w2.wav
cmp -s w1.wav w2.wav && ok || bad "world: same seed gives the same bytes"
expect 0 "analyze world output" -- "$vconv" analyze --json w1.wav
w_dur=$(sed -n 's/.*"duration_s": \([0-9.]*\).*/\1/p' "$work/out")
[ -n "$in_dur" ] && [ "$in_dur" = "$w_dur" ] && ok || bad "world keeps the duration ($in_dur vs $w_dur)"

# --- analyze
expect 0 "analyze text" -- "$vconv" analyze "$sample"
grep -q '^f0 .*median' "$work/out" && ok || bad "analyze reports F0"
expect 0 "analyze --f0" -- "$vconv" analyze --f0 "$sample"
[ "$(grep -c '^[0-9]' "$work/out")" -gt 50 ] && ok || bad "analyze --f0 prints a track"
expect 0 "analyze --json --f0" -- "$vconv" analyze --json --f0 "$sample"
if command -v python3 >/dev/null; then
  python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["channels"]==1 and d["file_rate"]==16000 and len(d["f0_track"]["f0_hz"])==d["f0"]["frames"] and 0<d["f0"]["voiced_share"]<1' \
    <"$work/out" && ok || bad "analyze --json is valid and consistent"
fi

# --- bad input: exit 1, one line, no output file
printf '' >empty.wav
head -c 3000 /dev/urandom >noise.wav
printf 'this is not audio\n' >text.wav
mkdir adir
head -c 30 "$sample" >truncated.wav
for f in missing.wav empty.wav noise.wav text.wav adir truncated.wav; do
  expect 1 "resynth $f" -- "$vconv" resynth "$f" -o "out_$f.wav"
  one_line_error "resynth $f"
  no_file "out_$f.wav" "resynth $f"
  expect 1 "analyze $f" -- "$vconv" analyze "$f"
  one_line_error "analyze $f"
done
expect 1 "resynth to a missing folder" -- "$vconv" resynth "$sample" -o nodir/x.wav
one_line_error "resynth to a missing folder"
[ ! -e nodir ] && ok || bad "no folder created"

# --- train: bad input, then a short real run on the samples (3 speakers, 1 file each)
expect 2 "train without -o" -- "$vconv" train --data "$samples"
one_line_error "train without -o"
expect 1 "train on a missing folder" -- "$vconv" train --data nowhere -o m.safetensors
one_line_error "train on a missing folder"
no_file m.safetensors "train on a missing folder"
mkdir emptydir
expect 1 "train on an empty folder" -- "$vconv" train --data emptydir -o m.safetensors
one_line_error "train on an empty folder"
no_file m.safetensors "train on an empty folder"
expect 1 "train with an unknown preset" -- "$vconv" train --data "$samples" -o m.safetensors --preset huge
no_file m.safetensors "train with an unknown preset"
expect 0 "train tiny on the samples" -- "$vconv" train -q --data "$samples" -o m.safetensors \
  --preset tiny --steps 6 --batch 2 --segment 32 --val-every 3 --log-every 2 --cache cache
[ -s m.safetensors ] && [ -s m.safetensors.ckpt ] && ok || bad "train writes the model and checkpoint"
[ "$(grep -c '"step"' m.safetensors.log.jsonl)" -ge 3 ] && ok || bad "train writes the JSON-lines log"
expect 0 "train resumes" -- "$vconv" train -q --data "$samples" -o m.safetensors \
  --steps 8 --batch 2 --segment 32 --log-every 2 --cache cache --resume m.safetensors.ckpt
expect 1 "train --resume with a run setting other than the checkpoint's" -- "$vconv" train -q \
  --data "$samples" -o m2.safetensors --batch 4 --cache fresh-cache --resume m.safetensors.ckpt
one_line_error "train --resume with another batch"
no_file m2.safetensors "train --resume with another batch"
no_file fresh-cache "train --resume with another batch (reported before feature extraction)"
expect 1 "train --resume from a model file" -- "$vconv" train -q --data "$samples" \
  -o m2.safetensors --resume m.safetensors
one_line_error "train --resume from a model file"
grep -q "m.safetensors is not a checkpoint" "$work/err" && ok || bad "train --resume from a model file names it"
no_file m2.safetensors "train --resume from a model file"

# --- convert with the tiny model just trained
src=$(ls "$samples"/*.wav | sed -n 1p) ref=$(ls "$samples"/*.wav | sed -n 2p)
expect 2 "convert with one input" -- "$vconv" convert "$src"
one_line_error "convert with one input"
expect 0 "convert default name" -- "$vconv" convert "$src" "$ref" --model m.safetensors
derived="$(basename "${src%.*}")_as_$(basename "${ref%.*}").wav"
[ -s "$derived" ] && ok || bad "convert wrote $derived"
grep -q "wrote $derived" "$work/err" && ok || bad "convert says what it wrote: $(cat "$work/err")"
expect 0 "convert again" -- "$vconv" convert -q "$src" "$ref" --model m.safetensors -o again.wav
cmp -s "$derived" again.wav && ok || bad "convert is deterministic"
expect 0 "convert, two references, pitch shift, spectrum vocoder" -- "$vconv" convert -q "$src" "$ref" \
  "$(ls "$samples"/*.wav | sed -n 3p)" --pitch-shift -3 --vocoder spectrum --model m.safetensors -o two.wav
[ -s two.wav ] && ok || bad "convert with two references wrote its output"
expect 0 "convert, WORLD vocoder, frame matching" -- "$vconv" convert -q "$src" "$ref" \
  --model m.safetensors --vocoder world --match 0.75 --match-k 8 --match-space hidden -o w1.wav
expect 0 "convert, WORLD vocoder, frame matching, again" -- "$vconv" convert -q "$src" "$ref" \
  --model m.safetensors --vocoder world --match 0.75 --match-k 8 --match-space hidden -o w2.wav
cmp -s w1.wav w2.wav && ok || bad "convert with frame matching is deterministic"
cmp -s w1.wav "$derived" && bad "frame matching changes nothing" || ok
expect 2 "convert --match out of range" -- "$vconv" convert "$src" "$ref" --model m.safetensors --match 2
expect 0 "convert, neighbours by content alone" -- "$vconv" convert -q "$src" "$ref" \
  --model m.safetensors --vocoder world --match 0.75 --match-k 8 --match-decoded 0 -o w0.wav
cmp -s w0.wav w1.wav && bad "--match-decoded changes nothing" || ok
expect 2 "convert --match-decoded out of range" -- "$vconv" convert "$src" "$ref" --model m.safetensors --match-decoded 2
expect 0 "convert, matched frames not corrected by the decoder's rendering of them" -- "$vconv" convert -q \
  "$src" "$ref" --model m.safetensors --vocoder world --match 0.75 --match-k 8 --match-residual 0 -o wr.wav
cmp -s wr.wav w1.wav && bad "--match-residual changes nothing" || ok
expect 2 "convert --match-residual out of range" -- "$vconv" convert "$src" "$ref" --model m.safetensors --match-residual 2
expect 2 "convert --match-k out of range" -- "$vconv" convert "$src" "$ref" --model m.safetensors --match-k 0
expect 2 "convert --match-space bad choice" -- "$vconv" convert "$src" "$ref" --model m.safetensors --match-space wavlm
expect 1 "convert a missing source" -- "$vconv" convert nowhere.wav "$ref" --model m.safetensors -o x.wav
one_line_error "convert a missing source"
no_file x.wav "convert a missing source"
expect 1 "convert to a missing reference" -- "$vconv" convert "$src" nowhere.wav --model m.safetensors -o x.wav
one_line_error "convert to a missing reference"
no_file x.wav "convert to a missing reference"
expect 1 "convert with a missing model" -- "$vconv" convert "$src" "$ref" --model nowhere.safetensors -o x.wav
one_line_error "convert with a missing model"
no_file x.wav "convert with a missing model"
expect 1 "convert without a default model" -- env VCONV_MODEL=nowhere.safetensors "$vconv" convert "$src" "$ref" -o x.wav
one_line_error "convert without a default model"
head -c 3000 /dev/urandom > garbage.safetensors
expect 1 "convert with a corrupt model" -- "$vconv" convert "$src" "$ref" --model garbage.safetensors -o x.wav
one_line_error "convert with a corrupt model"
no_file x.wav "convert with a corrupt model"
head -c 2000 m.safetensors > cut.safetensors
expect 1 "convert with a truncated model" -- "$vconv" convert "$src" "$ref" --model cut.safetensors -o x.wav
one_line_error "convert with a truncated model"
# the same bytes with the format version "1" changed to "9"
LC_ALL=C sed 's/"vconv.format_version":"1"/"vconv.format_version":"9"/' m.safetensors > v9.safetensors
if cmp -s m.safetensors v9.safetensors; then bad "could not make a version-9 model"; else
  expect 1 "convert with another format version" -- "$vconv" convert "$src" "$ref" --model v9.safetensors -o x.wav
  one_line_error "convert with another format version"
  grep -q 'version' "$work/err" && ok || bad "the version error names the version: $(cat "$work/err")"
  no_file x.wav "convert with another format version"
fi

# --- info and export
expect 0 "info" -- "$vconv" info m.safetensors
grep -q '"codebook_size":32' "$work/out" && grep -q '^train_steps *8' "$work/out" && ok || bad "info shows config and provenance: $(cat "$work/out")"
expect 0 "info --json" -- "$vconv" info --json m.safetensors
grep -q '"vconv.train_steps": "8"' "$work/out" && ok || bad "info --json has the metadata"
expect 0 "export F16 with metadata" -- "$vconv" export m.safetensors -o h.safetensors --f16 --set vconv.train_corpus=samples --set vconv.note=x=y
[ "$(stat -c %s h.safetensors)" -lt "$(stat -c %s m.safetensors)" ] && ok || bad "F16 export is smaller"
expect 0 "info on the export" -- "$vconv" info --json h.safetensors
grep -q '"vconv.train_corpus": "samples"' "$work/out" && grep -q '"vconv.note": "x=y"' "$work/out" && ok || bad "export sets metadata: $(cat "$work/out")"
expect 0 "convert with the F16 export" -- "$vconv" convert -q "$src" "$ref" --model h.safetensors -o h.wav
expect 2 "export without -o" -- "$vconv" export m.safetensors
one_line_error "export without -o"
expect 2 "export with a bad --set" -- "$vconv" export m.safetensors -o bad.safetensors --set novalue
one_line_error "export with a bad --set"
expect 1 "export over a config key" -- "$vconv" export m.safetensors -o bad.safetensors --set vconv.channels=8
one_line_error "export over a config key"
no_file bad.safetensors "export over a config key"
expect 1 "info on garbage" -- "$vconv" info garbage.safetensors
one_line_error "info on garbage"

# --- every command that reads a model, with every kind of bad model file: exit 1, one line that
# names the file and says what is wrong (a hint, if any, after it), no output, no crash
cp m.safetensors.ckpt checkpoint.ckpt
head -c 2000 m.safetensors >truncated.safetensors
h='{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'
printf "\x$(printf %02x ${#h})\0\0\0\0\0\0\0%s\0\0\0\0\0\0\0\0" "$h" >foreign.safetensors
for f in missing.safetensors truncated.safetensors foreign.safetensors checkpoint.ckpt garbage.safetensors; do
  expect 1 "convert with the model file $f" -- "$vconv" convert "$src" "$ref" --model "$f" -o x.wav
  one_line_error "convert with $f"
  grep -q "^vconv convert: $f: " "$work/err" && ok || bad "the error names $f first: $(cat "$work/err")"
  no_file x.wav "convert with $f"
  expect 1 "codebook with the model file $f" -- "$vconv" codebook --model "$f" "$src" --html x.html
  one_line_error "codebook with $f"
  grep -q "^vconv codebook: $f: " "$work/err" && ok || bad "the error names $f first: $(cat "$work/err")"
  no_file x.html "codebook with $f"
  expect 1 "codebook geometry with the model file $f" -- "$vconv" codebook --model "$f"
  one_line_error "codebook geometry with $f"
  expect 1 "score with the model file $f" -- "$vconv" score --model "$f" "$src"
  one_line_error "score with $f"
  grep -q "^vconv score: $f: " "$work/err" && ok || bad "the error names $f first: $(cat "$work/err")"
  expect 1 "info with the model file $f" -- "$vconv" info "$f"
  one_line_error "info with $f"
  grep -q "^vconv info: $f: " "$work/err" && ok || bad "the error names $f first: $(cat "$work/err")"
  expect 1 "export with the model file $f" -- "$vconv" export "$f" -o x.safetensors
  one_line_error "export with $f"
  no_file x.safetensors "export with $f"
done
"$vconv" info checkpoint.ckpt 2>&1 | grep -q 'a training checkpoint, not a model file\. HINT: ' && ok || bad "a checkpoint is called one, the hint after"
"$vconv" info foreign.safetensors 2>&1 | grep -q 'not written by vconv\. HINT: ' && ok || bad "a foreign file is called one, the hint after"

# --- codebook statistics
expect 0 "codebook on files" -- "$vconv" codebook m.safetensors "$src" "$ref" --codes
grep -q '^usage  *[0-9]* of 32 codes used' "$work/out" && ok || bad "codebook reports usage: $(cat "$work/out")"
grep -q "^$src: " "$work/out" && ok || bad "codebook --codes prints each file's codes"
mkdir -p spk/a spk/b && cp "$src" spk/a/ && cp "$ref" spk/b/ && cp "$(ls "$samples"/*.wav | sed -n 3p)" spk/b/
expect 0 "codebook on speaker folders, JSON" -- "$vconv" codebook m.safetensors --data spk --json --codes
# every documented key (docs/codebook.md), with the types it promises
if command -v python3 >/dev/null; then
  python3 - "$work/out" <<'PY' && ok || bad "codebook JSON keys as documented"
import json, sys
j = json.load(open(sys.argv[1]))
assert isinstance(j["model"], str) and j["codebook_size"] == 32 and j["code_dim"] > 0
g = j["geometry"]
assert set(g["norm"]) == {"min", "median", "max"}
assert set(g["nn_distance"]) == {"min", "p10", "median", "p90", "max"}
assert isinstance(g["near_duplicates"], list) and len(g["pca_share"]) == 2
assert len(g["pca"]) == 32 and all(len(p) == 2 for p in g["pca"])
assert j["codes_per_second"] > 0 and j["skipped"] == 0
for f in j["files"]:
    assert set(f) == {"path", "speaker", "codes", "first_frame", "rle"} and f["speaker"].startswith("spk/")
    assert f["first_frame"] >= 0
    assert sum(r for _, r in f["rle"]) == f["codes"]
u = j["usage"]
assert set(u) == {"total", "seconds", "used", "share_used", "perplexity", "entropy_bits",
                  "bits_per_second", "counts", "dead"}
assert len(u["counts"]) == 32 and sum(u["counts"]) == u["total"] and len(u["dead"]) == 32 - u["used"]
sp = j["speaker"]
assert set(sp) == {"speakers", "mi_bits", "nmi", "nmi_shuffled", "per_speaker"} and sp["speakers"] == 2
assert [p["speaker"] for p in sp["per_speaker"]] == ["spk/a", "spk/b"]
assert all(set(p) == {"speaker", "files", "codes", "used", "perplexity"} for p in sp["per_speaker"])
assert sum(p["codes"] for p in sp["per_speaker"]) == u["total"] and sp["per_speaker"][1]["files"] == 2
PY
fi
grep -q '"nmi_shuffled"' "$work/out" && grep -q '"rle": \[\[' "$work/out" && grep -q '"speaker": "spk/a"' "$work/out" \
  && ok || bad "codebook --json has speakers, codes and the control: $(head -c 400 "$work/out")"
expect 0 "codebook without audio: geometry" -- "$vconv" codebook m.safetensors
grep -q '^pca  *the two leading axes' "$work/out" && ok || bad "codebook geometry: $(cat "$work/out")"
expect 0 "codebook geometry JSON" -- "$vconv" codebook --json m.safetensors
grep -q '"pca_share"' "$work/out" && tail -c 3 "$work/out" | grep -q '}' && ok || bad "codebook geometry JSON: $(head -c 300 "$work/out")"
expect 1 "codebook on a missing folder" -- "$vconv" codebook m.safetensors --data nowhere
one_line_error "codebook on a missing folder"

# --- other formats, rates, channels, silence (needs sox)
if command -v sox >/dev/null; then
  sox "$sample" -r 44100 -c 2 -b 24 stereo44k.flac
  expect 0 "analyze 44.1 kHz stereo FLAC" -- "$vconv" analyze --json stereo44k.flac
  grep -q '"file_rate": 44100, "channels": 2' "$work/out" && ok || bad "analyze reports file rate and channels"
  expect 0 "resynth 44.1 kHz stereo FLAC" -- "$vconv" resynth -q stereo44k.flac -o s.wav
  sox -n -r 16000 -c 1 -b 16 silence.wav trim 0 1.5
  expect 0 "resynth silence" -- "$vconv" resynth -q silence.wav -o sil.wav
  expect 0 "analyze silence" -- "$vconv" analyze silence.wav
  grep -q 'no voiced frames' "$work/out" && ok || bad "silence has no voiced frames"
  # A minute or more of audio shows progress (plain lines when stderr is not a terminal).
  sox "$sample" long.wav repeat 24
  expect 0 "resynth long input" -- "$vconv" resynth --iters 2 long.wav -o long_out.wav
  grep -q 'griffin-lim 100%' "$work/err" && ok || bad "long resynth shows progress: $(cat "$work/err")"
  expect 0 "resynth long input -q" -- "$vconv" resynth -q --iters 2 long.wav -o long_out.wav
  [ ! -s "$work/err" ] && ok || bad "-q hides progress"
  # convert: any format on either side, silence and a too-short reference refused
  expect 0 "convert a 44.1 kHz stereo FLAC" -- "$vconv" convert -q stereo44k.flac "$ref" --model m.safetensors -o f.wav
  "$vconv" analyze --json f.wav > f.json && "$vconv" analyze --json stereo44k.flac > s.json
  grep -q '"file_rate": 16000' f.json && ok || bad "convert writes at the model's rate: $(head -c 300 f.json)"
  lf=$(sed -n 's/.*"active_dbfs": \(-\{0,1\}[0-9.]*\).*/\1/p' f.json) ls=$(sed -n 's/.*"active_dbfs": \(-\{0,1\}[0-9.]*\).*/\1/p' s.json)
  awk -v a="$lf" -v b="$ls" 'BEGIN { d = a - b; exit !(a != "" && d < 0.5 && d > -0.5) }' && ok \
    || bad "convert keeps the source's loudness: $lf vs $ls dBFS"
  expect 1 "convert silence" -- "$vconv" convert silence.wav "$ref" --model m.safetensors -o x.wav
  one_line_error "convert silence"
  no_file x.wav "convert silence"
  expect 1 "convert to a silent reference" -- "$vconv" convert "$src" silence.wav --model m.safetensors -o x.wav
  one_line_error "convert to a silent reference"
  sox "$ref" short.wav trim 0.5 0.3
  expect 1 "convert to a 0.3 s reference" -- "$vconv" convert "$src" short.wav --model m.safetensors -o x.wav
  one_line_error "convert to a 0.3 s reference"
  grep -q '0.5 s' "$work/err" && ok || bad "the short-reference error says what is needed: $(cat "$work/err")"
  no_file x.wav "convert to a 0.3 s reference"
  expect 0 "convert long input" -- "$vconv" convert --iters 2 long.wav "$ref" --model m.safetensors -o long_c.wav
  grep -q 'convert 100%' "$work/err" && ok || bad "long convert shows progress: $(cat "$work/err")"
  # Audio that holds something else than its header or its downmix says: the message says what.
  sox "$ref" -r 16000 -c 1 -b 16 plain.wav
  cp plain.wav short_header.wav # data size field (bytes 40..43 of sox's 44-byte header) := 320
  printf '\100\001\000\000' | dd of=short_header.wav bs=1 seek=40 conv=notrunc 2>/dev/null
  expect 1 "analyze a WAV declaring 0.01 s of its audio" -- "$vconv" analyze short_header.wav
  one_line_error "analyze a WAV declaring 0.01 s of its audio"
  grep -q 'declares 0.01 s of audio but [0-9.]* s follow' "$work/err" && ok || bad "short header: $(cat "$work/err")"
  cp plain.wav bits7.wav # bit width (bytes 34..35) := 7 over 2-byte frames
  printf '\007\000' | dd of=bits7.wav bs=1 seek=34 conv=notrunc 2>/dev/null
  expect 1 "analyze a WAV with 7-bit samples in 2-byte frames" -- "$vconv" analyze bits7.wav
  one_line_error "analyze a WAV with 7-bit samples in 2-byte frames"
  grep -q '7-bit samples' "$work/err" && ok || bad "7-bit header: $(cat "$work/err")"
  sox "$ref" -c 2 cancel.wav remix 1 1i
  expect 1 "convert stereo whose channels cancel" -- "$vconv" convert cancel.wav "$ref" --model m.safetensors -o x.wav
  one_line_error "convert stereo whose channels cancel"
  grep -q 'channels cancel when mixed to mono (left = -right' "$work/err" && ok || bad "cancel: $(cat "$work/err")"
  no_file x.wav "convert stereo whose channels cancel"
  if command -v python3 >/dev/null; then
    # float WAVs: the reference's samples times 1e30, and with ten samples of 1e38 at 0.5 s
    python3 - plain.wav <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<I", b[40:44])[0] // 2
x = [v / 32768.0 for v in struct.unpack("<%dh" % n, b[44:44 + 2 * n])]
def put(name, y):
    data = struct.pack("<%df" % len(y), *y)
    fmt = struct.pack("<HHIIHH", 3, 1, 16000, 64000, 4, 32)
    body = b"WAVEfmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(data)) + data
    open(name, "wb").write(b"RIFF" + struct.pack("<I", len(body)) + body)
put("f1e30.wav", [v * 1e30 for v in x])
put("burst.wav", x[:8000] + [1e38] * 10 + x[8010:])
PY
    expect 0 "convert a float WAV at 1e30" -- "$vconv" convert f1e30.wav "$ref" --model m.safetensors -o big.wav
    grep -q 'dB above full scale.*scaled down' "$work/err" && ok || bad "1e30 scaled with a warning: $(cat "$work/err")"
    # scaled on load, so the output is at the (scaled) source's level, not all limiter
    "$vconv" analyze --json f1e30.wav > s.json 2>/dev/null && "$vconv" analyze --json big.wav > f.json
    lf=$(sed -n 's/.*"active_dbfs": \(-\{0,1\}[0-9.]*\).*/\1/p' f.json) ls=$(sed -n 's/.*"active_dbfs": \(-\{0,1\}[0-9.]*\).*/\1/p' s.json)
    awk -v a="$lf" -v b="$ls" 'BEGIN { d = a - b; exit !(a != "" && b < 0 && d < 1 && d > -1) }' && ok \
      || bad "1e30 source: output at $lf dBFS, scaled source at $ls dBFS"
    expect 1 "convert a float WAV with a 1e38 burst" -- "$vconv" convert burst.wav "$ref" --model m.safetensors -o x.wav
    one_line_error "convert a float WAV with a 1e38 burst"
    grep -q 'burst of samples up to 1e+38.*at 0.500 s' "$work/err" && ok || bad "burst: $(cat "$work/err")"
    no_file x.wav "convert a float WAV with a 1e38 burst"
  fi
  # Refusing a long silent source costs little memory: it is refused while being read. The
  # hour as mono float alone is 230 MB; before the check while reading, refusing took 460 MB.
  sox -n -r 16000 -c 1 -b 16 hour.wav trim 0 1:00:00
  if [ -x /usr/bin/time ]; then
    expect 1 "convert a 1-hour silent source" -- /usr/bin/time -f 'rss_kb %M' "$vconv" convert hour.wav "$ref" --model m.safetensors -o x.wav
    rss=$(sed -n 's/^rss_kb //p' "$work/err")
    [ -n "$rss" ] && [ "$rss" -lt 150000 ] && ok || bad "refusing a silent hour took ${rss:-?} kB"
    grep -q 'hour.wav: silent' "$work/err" && ok || bad "silent hour: $(cat "$work/err")"
    no_file x.wav "convert a 1-hour silent source"
  fi
  rm -f hour.wav
else
  echo "note: sox not installed, format checks skipped" >&2
fi

lib_end "cli"
