#!/usr/bin/env bash
# recipes/default: the training view holds exactly the corpus minus holdout.txt (checked on the
# project corpus; skipped without it), scripts/plot_training turns a training log into an SVG,
# and an interrupted recipe prints the command that resumes. usage: test_recipes.sh SOURCE_DIR CORPUS_DIR
set -u
src=$1 corpus=$2
. "$(dirname "$0")/lib.sh"
lib_begin
check() { if eval "$2"; then ok; else bad "$1"; fi; }

# The plot, from a small log with training and validation lines.
cat >"$work/log.jsonl" <<'LOG'
{"step":0,"loss":0,"mel":0,"lin":0,"commit":0,"val_loss":1.5,"perplexity":0,"codes_used":0,"lr":0,"s_per_step":0,"frames_per_s":0,"validation":1}
{"step":50,"loss":1.7,"mel":0.9,"lin":0.8,"commit":0.01,"val_loss":1.5,"perplexity":20,"codes_used":30,"lr":1e-4,"s_per_step":0.01,"frames_per_s":5e4,"validation":0}
{"step":100,"loss":1.2,"mel":0.6,"lin":0.5,"commit":0.01,"val_loss":1.1,"perplexity":25,"codes_used":32,"lr":1e-4,"s_per_step":0.01,"frames_per_s":5e4,"validation":0}
{"step":100,"loss":0,"mel":0,"lin":0,"commit":0,"val_loss":1.1,"perplexity":0,"codes_used":0,"lr":0,"s_per_step":0,"frames_per_s":0,"validation":1}
LOG
check "plot_training runs" 'python3 "$src/scripts/plot_training" "$work/log.jsonl" "$work/curve.svg"'
check "the plot is an SVG with two panels" \
  'grep -q "<svg" "$work/curve.svg" && [ "$(grep -c "<path" "$work/curve.svg")" -ge 5 ]'
check "an empty log is an error" '! python3 "$src/scripts/plot_training" /dev/null "$work/x.svg" 2>/dev/null'

# recipes/vctk on a fake VCTK 0.92 layout: 12 speakers x 2 prompts x 2 microphones.
for i in $(seq 225 236); do
  mkdir -p "$work/VCTK/wav48_silence_trimmed/p$i"
  for u in 001 002; do
    for mic in 1 2; do : >"$work/VCTK/wav48_silence_trimmed/p$i/p${i}_${u}_mic$mic.flac"; done
  done
done
check "vctk run.sh --prepare-only" \
  '"$src/recipes/vctk/run.sh" "$work/VCTK" --out "$work/vctk" --prepare-only >/dev/null'
check "vctk: every 10th speaker held out (p225, p235), mic2 copies skipped" \
  '[ "$(ls "$work/vctk/train/wav48_silence_trimmed" | wc -l)" -eq 10 ] &&
   [ "$(grep -c . "$work/vctk/heldout.txt")" -eq 4 ] &&
   [ "$(find "$work/vctk/train" -name "*mic2*" | wc -l)" -eq 0 ] &&
   [ "$(find "$work/vctk/train" -type l | wc -l)" -eq 20 ]'
check "vctk: a folder without speakers is an error" \
  '! "$src/recipes/vctk/run.sh" "$work/nothing" --out "$work/v2" --prepare-only 2>/dev/null'

# recipes/common/train.sh stopped by Ctrl-C: exits 130 and prints the command that resumes
# (the recipe's own, run again), with the checkpoint written.
mkdir -p "$work/rec/train/set"
for f in "$src"/samples/*.wav; do ln -s "$f" "$work/rec/train/set/"; done
setsid "$src/recipes/common/train.sh" "$work/rec" 20000 1 "recipes/x/run.sh --out rec" \
  >"$work/rec.out" 2>"$work/rec.err" &
pid=$!
for _ in $(seq 600); do [ -s "$work/rec/model.safetensors.log.jsonl" ] && break; sleep 0.05; done
kill -INT -- "-$pid"
wait "$pid"
rc=$?
check "train.sh interrupted exits 130 (exit $rc)" '[ "$rc" -eq 130 ]'
check "train.sh prints the command that resumes" \
  'grep -q "run again to continue (from .*model.safetensors.ckpt when it exists): recipes/x/run.sh --out rec$" "$work/rec.err"'
check "train.sh leaves the checkpoint and no model" \
  '[ -s "$work/rec/model.safetensors.ckpt" ] && [ ! -e "$work/rec/model.safetensors" ]'

if [ -d "$corpus/arctic" ]; then
  out="$work/default"
  check "run.sh --prepare-only" '"$src/recipes/default/run.sh" "$corpus" --out "$out" --prepare-only >/dev/null'
  "$src/recipes/default/run.sh" "$corpus" --out "$out" --finetune-steps 4k >/dev/null 2>"$work/ft.err"
  rc=$?
  check "run.sh --finetune-steps 4k: a usage error that names the option (exit $rc)" \
    '[ "$rc" -eq 2 ] && grep -q -- "--finetune-steps needs a whole number" "$work/ft.err"'
  "$src/recipes/default/run.sh" "$corpus" --out "$out" --phone-loss 1 >/dev/null 2>"$work/ph.err"
  rc=$?
  check "run.sh --phone-loss without --phones: a usage error that names it (exit $rc)" \
    '[ "$rc" -eq 2 ] && grep -q -- "--phone-loss needs --phones" "$work/ph.err"'
  "$src/recipes/default/run.sh" "$corpus" --out "$out" --envelope --envelope-finetune 10 >/dev/null 2>"$work/ef.err"
  rc=$?
  check "run.sh --envelope-finetune on an envelope model: a usage error that says why (exit $rc)" \
    '[ "$rc" -eq 2 ] && grep -q -- "--envelope-finetune follows the second stage" "$work/ef.err"'
  check "run.sh --envelope's config is a model config that sets the envelope target" \
    'python3 -c "import json,sys; sys.exit(json.load(open(sys.argv[1])) != {\"envelope\": 1})" \
       "$src/recipes/default/envelope.json" && "$src/recipes/default/run.sh" --help | grep -q -- --envelope'
  total=$(find "$corpus" -name "*.flac" | wc -l)
  view=$(find "$out/train" -type l | wc -l)
  held=$(grep -c . "$out/heldout.txt")
  check "view + held out = corpus ($view + $held = $total)" '[ $((view + held)) -eq "$total" ]'
  check "no held-out file in the view" \
    '! grep -qxFf "$out/heldout.txt" <(find "$out/train" -type l -exec readlink {} +)'
  check "the last 40 ARCTIC prompts are held out for every ARCTIC speaker" \
    '[ "$(grep -cE "/arctic/[a-z]+/arctic_a(028[2-9]|029[0-9]|03[01][0-9]|032[01])\.flac$" "$out/heldout.txt")" -eq 120 ]'
  # The list is fixed (the evaluation stays comparable as the corpus grows): every listed
  # speaker is absent from the view, and every other speaker of the corpus is in it.
  listed=$(sed -n 's/^spk //p' "$src/recipes/default/holdout.txt" | sort)
  check "the 34 listed unseen speakers (LibriSpeech, speechocean762 adults and children) held out" \
    '[ "$(printf "%s\n" "$listed" | grep -c .)" -eq 34 ] && ! printf "%s\n" "$listed" | while read -r s; do [ -e "$out/train/$s" ] && echo "$s"; done | grep -q .'
  check "every other speaker trains" \
    '[ "$(cd "$out/train" && ls -d */* | sort | comm -3 - <(cd "$corpus" && ls -d */*/ | sed "s,/$,," | sort | comm -23 - <(printf "%s\n" "$listed")) | grep -c .)" -eq 0 ]'
else
  echo "note: no corpus at $corpus; recipe view not checked"
fi
lib_end "recipes"
