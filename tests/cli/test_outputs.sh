#!/usr/bin/env bash
# Outputs never destroy anything (src/cli/output.c), for every command that writes: an output
# that is an input (by inode, also through a hard link or a symlink) is refused and the input
# left intact; a symlink's target is replaced and the link kept; devices and FIFOs are written
# in place and stay what they are; a folder, a missing folder and an unwritable place are refused
# before any work; "-" is standard output and standard input; the container follows the
# extension; --rate sets the output rate. Meant to run as root (as CI does): root may replace
# /dev/null, which is exactly what must not happen.
# usage: test_outputs.sh VCONV SAMPLES_DIR
set -u
vconv=$1 samples=$2
. "$(dirname "$0")/lib.sh"
lib_begin
chmod 755 "$work"
cd "$work"
check() { local what=$1; shift; if "$@"; then ok; else bad "$what"; fi; }
# run CODE WHAT -- COMMAND...: the exit code; stderr in $work/err (lib.sh's expect, under the
# name scripts/bad_input_table reads in this file)
run() { expect "$@"; }
says() { grep -q -- "$2" "$work/err" && ok || bad "$1: stderr lacks '$2': $(cat "$work/err")"; }
no_temp() { ls -a "${1:-.}" | grep -q '\.tmp\.' && bad "temp file left in ${1:-.}: $(ls -a "${1:-.}")" || ok; }
is_audio() { soxi -t "$1" 2>/dev/null; }

command -v soxi >/dev/null || { echo "soxi (sox) missing: skipped"; exit 77; }
model="$samples/vconv-default.safetensors"
[ -f "$model" ] || { echo "bundled model missing: skipped"; exit 77; }
cp "$samples/bdl_arctic_a0310.wav" src.wav
cp "$samples/slt_arctic_a0318.wav" ref.wav
cp "$model" model.safetensors
cp src.wav src.orig; cp ref.wav ref.orig; cp model.safetensors model.orig
conv=("$vconv" convert -q --iters 2 src.wav ref.wav --model model.safetensors)
resy=("$vconv" resynth -q --iters 2 src.wav)
intact() { cmp -s src.wav src.orig && cmp -s ref.wav ref.orig && cmp -s model.safetensors model.orig; }

# --- the same file as an input: refused, by inode, under any name
ln src.wav hard.wav
ln -s ref.wav soft.wav
for out in src.wav ref.wav model.safetensors hard.wav soft.wav ./src.wav; do
  run 1 "convert -o $out (an input)" -- "${conv[@]}" -o "$out"
  says "convert -o $out" "same file as the input"
  check "convert -o $out leaves the inputs intact" intact
done
run 1 "resynth -o its input" -- "${resy[@]}" -o hard.wav
check "resynth -o its input leaves it intact" intact
run 1 "export -o its input" -- "$vconv" export model.safetensors -o model.safetensors
check "export -o its input leaves it intact" intact
run 1 "codebook --html over the model" -- "$vconv" codebook model.safetensors src.wav --html model.safetensors
check "codebook --html over the model leaves it intact" intact
run 1 "codebook --html over an audio input" -- "$vconv" codebook model.safetensors src.wav --html src.wav
check "codebook --html over an audio input leaves it intact" intact
run 1 "-o - while standard output is the source" -- sh -c '"$0" resynth -q --iters 2 src.wav -o - >>src.wav' "$vconv"
check "standard output as the source leaves it intact" intact
no_temp
# later checks start from intact inputs even when these failed (cp writes in place: links stay)
cp src.orig src.wav; cp ref.orig ref.wav; cp model.orig model.safetensors

# --- train: its model file is checked like any output, before feature extraction (no cache)
printf '{"codebook_size": 64}' >cfg.json; cp cfg.json cfg.orig
printf 'not a checkpoint' >old.ckpt; cp old.ckpt ckpt.orig
train=("$vconv" train -q --data "$samples" --preset tiny --steps 2 --batch 2 --segment 32 --cache tcache)
run 1 "train -o its --config file" -- "${train[@]}" --config cfg.json -o cfg.json
says "train -o its --config file" "same file as the input"
check "train -o its --config file leaves it intact" cmp -s cfg.json cfg.orig
check "train -o its --config file stops before features" test ! -e tcache
run 1 "train -o its --resume checkpoint" -- "${train[@]}" --resume old.ckpt -o old.ckpt
says "train -o its --resume checkpoint" "same file as the input"
check "train -o its --resume checkpoint leaves it intact" cmp -s old.ckpt ckpt.orig
check "train -o its --resume checkpoint stops before features" test ! -e tcache
run 1 "train -o into a missing folder" -- "${train[@]}" -o nowhere/m.safetensors
[ "$(wc -l <"$work/err")" -eq 1 ] && ok || bad "train -o into a missing folder: one line: $(cat "$work/err")"
check "train -o into a missing folder stops before features" test ! -e tcache
check "train -o into a missing folder creates no folder" test ! -e nowhere
no_temp

# --- character devices: written in place, never replaced. A node of our own first; the real
# /dev/null only once that passed, so a broken build cannot break the machine it runs on.
mknod null c 1 3
failed_before=$fail
run 0 "resynth -o a character device" -- "${resy[@]}" -o null
check "the device node is still a character device" test -c null
run 0 "convert -o a character device" -- "${conv[@]}" -o null
check "the device node is still a character device after convert" test -c null
run 0 "export -o a character device" -- "$vconv" export -q model.safetensors -o null
check "the device node is still a character device after export" test -c null
if [ "$fail" -eq "$failed_before" ]; then
  run 0 "convert -o /dev/null" -- "${conv[@]}" -o /dev/null
  check "/dev/null is still a character device" test -c /dev/null
  check "/dev/null still reads empty" test ! -s /dev/null
else
  bad "the device node was not kept: /dev/null not tried"
fi
no_temp

# --- FIFOs: written in place (the reader gets a whole file), still a FIFO
mkfifo fifo
timeout 60 cat fifo >from_fifo &  # bounded: a writer that replaced the FIFO never opens it
reader=$!
run 0 "resynth -o a FIFO" -- "${resy[@]}" -o fifo
wait "$reader"
check "the FIFO is still a FIFO" test -p fifo
check "the FIFO's reader got a WAV" test "$(is_audio from_fifo)" = wav
"${resy[@]}" -o direct.wav
check "the FIFO's reader got the same bytes as a file" cmp -s from_fifo direct.wav

# --- symlinks: the target is replaced, the link kept
printf 'old' >target.wav
ln -s target.wav link.wav
run 0 "resynth -o a symlink" -- "${resy[@]}" -o link.wav
check "the link is still a link" test -L link.wav
check "the link still points at its target" test "$(readlink link.wav)" = target.wav
check "the target holds the output" cmp -s target.wav direct.wav
mkdir -p sub && ln -s sub/new.wav dangling.wav
run 0 "resynth -o a dangling symlink" -- "${resy[@]}" -o dangling.wav
check "a dangling link's target is created, the link kept" test -L dangling.wav -a -f sub/new.wav
no_temp; no_temp sub

mkdir -p models && printf 'old' >models/m.safetensors
ln -s models/m.safetensors mlink.safetensors
run 0 "train -o a symlink" -- "${train[@]}" -o mlink.safetensors
check "train: the link is still a link" test -L mlink.safetensors
check "train: the link still points at its target" test "$(readlink mlink.safetensors)" = models/m.safetensors
run 0 "train: the link's target holds the model" -- "$vconv" info models/m.safetensors
rm -rf tcache
no_temp; no_temp models

# --- a regular file is replaced by rename: another hard link to it keeps the old bytes
printf 'old' >existing.wav
ln existing.wav other_name.wav
run 0 "resynth over an existing file" -- "${resy[@]}" -o existing.wav
check "the file holds the output" cmp -s existing.wav direct.wav
check "the old file's other name still has the old bytes" test "$(cat other_name.wav)" = old

# --- refused before any work: the output error comes before the missing model's
mkdir folder
touch file
for out in folder nowhere/x.wav file/x.wav /proc/vconv-test.wav; do
  run 1 "convert -o $out" -- "$vconv" convert -q src.wav ref.wav --model missing.safetensors -o "$out"
  grep -q 'missing.safetensors' "$work/err" && bad "convert -o $out: the model was loaded first: $(cat "$work/err")" || ok
  [ "$(wc -l <"$work/err")" -eq 1 ] && ok || bad "convert -o $out: one line: $(cat "$work/err")"
  run 1 "resynth -o $out" -- "$vconv" resynth -q missing.wav -o "$out"
  grep -q 'missing.wav' "$work/err" && bad "resynth -o $out: the input was read first" || ok
  run 1 "export -o $out" -- "$vconv" export missing.safetensors -o "$out"
  grep -q 'missing.safetensors' "$work/err" && bad "export -o $out: the model was read first" || ok
  run 1 "codebook --html $out" -- "$vconv" codebook missing.safetensors --html "$out"
  grep -q 'missing.safetensors' "$work/err" && bad "codebook --html $out: the model was read first" || ok
done
check "no folder created" test ! -e nowhere
# an unwritable folder, for a user that is not root (root writes anywhere but read-only mounts)
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
  mkdir ro && chmod 555 ro
  chmod 644 src.wav
  if setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
    run 1 "resynth into a read-only folder (as nobody)" -- setpriv --reuid=65534 --regid=65534 --clear-groups "$vconv" resynth -q missing.wav -o ro/x.wav
    says "resynth into a read-only folder" "cannot create a file in ro"
    check "nothing written in the read-only folder" test -z "$(ls -A ro)"
  fi
fi

# --- a run killed during the work leaves nothing behind (no output, no temp file)
sox src.wav long.wav repeat 20
"$vconv" resynth -q --iters 200 long.wav -o killed.wav &
sleep 0.5; kill -9 $! 2>/dev/null; wait $! 2>/dev/null
check "a killed run leaves no output" test ! -e killed.wav
no_temp

# --- standard output and standard input
run 0 "resynth -o -" -- "${resy[@]}" -o -
check "-o - writes the output to standard output" cmp -s "$work/out" direct.wav
check "-o - writes no file named -" test ! -e ./-
run 0 "resynth from standard input" -- sh -c '"$0" resynth -q --iters 2 - -o from_stdin.wav <src.wav' "$vconv"
check "standard input gives the same output as the file" cmp -s from_stdin.wav direct.wav
run 0 "convert from standard input to standard output" -- sh -c '"$0" convert -q --iters 2 - ref.wav --model model.safetensors -o - <src.wav >piped.wav' "$vconv"
"${conv[@]}" -o conv.wav
check "convert in a pipeline gives the same bytes" cmp -s piped.wav conv.wav
run 0 "analyze standard input" -- sh -c '"$0" analyze --json - <src.wav' "$vconv"
grep -q '"duration_s": 2.8' "$work/out" && ok || bad "analyze - reads standard input: $(cat "$work/out")"
run 1 "analyze text on standard input" -- sh -c 'echo not audio | "$0" analyze -' "$vconv"
says "bad standard input" "standard input"
run 2 "standard input twice" -- sh -c '"$0" convert -q - - --model model.safetensors -o x.wav <src.wav' "$vconv"
run 0 "resynth standard input without -o" -- sh -c '"$0" resynth -q --iters 2 - <src.wav' "$vconv"
check "standard input's output is named stdin.resynth.wav" cmp -s stdin.resynth.wav direct.wav
run 0 "export -o -" -- sh -c '"$0" export -q model.safetensors -o - >exported.safetensors' "$vconv"
run 0 "the exported model loads" -- "$vconv" info exported.safetensors
no_temp

# --- the container from the extension, the rate from --rate
run 0 "resynth -o out.flac" -- "${resy[@]}" -o out.flac
check "out.flac is FLAC" test "$(is_audio out.flac)" = flac
run 0 "convert -o out.ogg" -- "${conv[@]}" -o out.ogg
check "out.ogg is Ogg Vorbis" test "$(is_audio out.ogg)" = vorbis
run 0 "resynth -o OUT.AIFF" -- "${resy[@]}" -o OUT.AIFF
check "OUT.AIFF is AIFF" test "$(is_audio OUT.AIFF)" = aiff
run 0 "resynth -o noext" -- "${resy[@]}" -o noext
check "a name without an extension is WAV" test "$(is_audio noext)" = wav
run 1 "resynth -o out.xyz" -- "$vconv" resynth -q missing.wav -o out.xyz
says "resynth -o out.xyz" "cannot write audio as .xyz"
check "out.xyz not written" test ! -e out.xyz
run 1 "convert -o out.xyz" -- "${conv[@]}" -o out.xyz
check "convert out.xyz not written" test ! -e out.xyz
run 1 "--float into FLAC" -- "${resy[@]}" --float -o f.flac
check "f.flac not written" test ! -e f.flac
run 0 "convert --rate 22050" -- "${conv[@]}" --rate 22050 -o r22.wav
check "--rate 22050 writes 22050 Hz" test "$(soxi -r r22.wav)" = 22050
check "--rate keeps the duration" test "$(soxi -D r22.wav | cut -c1-4)" = "$(soxi -D conv.wav | cut -c1-4)"
run 0 "resynth --rate 48000 into FLAC" -- "${resy[@]}" --rate 48000 -o r48.flac
check "--rate 48000 writes 48000 Hz" test "$(soxi -r r48.flac)" = 48000
run 2 "--rate out of range" -- "${resy[@]}" --rate 100 -o x.wav
no_temp
check "inputs intact after everything" intact

lib_end "outputs"
