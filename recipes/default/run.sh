#!/usr/bin/env bash
# Trains the default model on the project corpus (../shared/corpus) or another folder laid out
# as SUBSET/SPEAKER/*.flac, holding out what holdout.txt lists (the last 40 ARCTIC prompts of
# all three ARCTIC speakers, and about 10% of the other speakers entirely) for evaluation.
#
#   recipes/default/run.sh [CORPUS_DIR] [--out DIR] [--steps N] [--finetune-steps N]
#                          [--threads N] [--prepare-only] [--phones LABELS --phone-loss W]
#                          [--envelope] [--envelope-finetune N]
#
# Two stages: --steps (default 20000) of the default preset, then --finetune-steps (default
# 4000; 0 skips it) from that model with --continuous-content 0.5, so the decoder learns to read
# the content between the codes and the continuous output that conversion gives it
# (docs/model.md). --phones LABELS --phone-loss W train both stages with the phone loss
# (vconv train's options of the same names; LABELS from scripts/phone_labels): an experiment,
# not the bundled model's recipe (docs/evaluation.md, "Phone loss"). --envelope trains both
# stages to predict the WORLD envelope (envelope.json here: {"envelope": 1}; docs/model.md).
# --envelope-finetune N adds a third stage: N steps from the second stage's model on the WORLD
# envelope, with the second stage's settings (seed 2). The bundled model is
# `--envelope-finetune 4000` (docs/evaluation.md, "The envelope fine-tune bundled").
#
# Writes to DIR (default out/default): train/ (the training view: symlinks to every corpus file
# not held out, so speakers stay SUBSET/SPEAKER), heldout.txt (the held-out files, for
# evaluation), model.safetensors with its checkpoint and JSON-lines log, training.svg (the
# training curve), finetune.safetensors (the second stage, with its own checkpoint, log and
# training-finetune.svg), envelope.safetensors (the third stage, when asked for), and
# vconv-default.safetensors: the final model in F16 with its
# provenance, as bundled in samples/. Run it again after an interruption: it resumes from the
# checkpoint.
set -euo pipefail
again=$(printf '%q ' "$0" "$@") # this command line: running it again resumes
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
corpus="$root/../shared/corpus" out=out/default steps=20000 finetune=4000 threads=$(nproc --all) prepare=0
phones="" phone_loss= envelope=0 envelope_ft=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --finetune-steps) finetune=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --prepare-only) prepare=1; shift ;;
    --phones) phones=$2; shift 2 ;;
    --phone-loss) phone_loss=$2; shift 2 ;;
    --envelope) envelope=1; shift ;;
    --envelope-finetune) envelope_ft=$2; shift 2 ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) corpus=$1; shift ;;
  esac
done
[ -d "$corpus" ] || { echo "run.sh: no corpus at $corpus" >&2; exit 1; }
case "$finetune" in
  ''|*[!0-9]*) echo "run.sh: --finetune-steps needs a whole number of steps (0 skips the stage), not '$finetune'" >&2; exit 2 ;;
esac
case "$envelope_ft" in
  ''|*[!0-9]*) echo "run.sh: --envelope-finetune needs a whole number of steps, not '$envelope_ft'" >&2; exit 2 ;;
esac
if [ "$envelope_ft" -gt 0 ] && { [ "$finetune" -eq 0 ] || [ "$envelope" -eq 1 ]; }; then
  echo "run.sh: --envelope-finetune follows the second stage of an STFT model (not with --envelope or --finetune-steps 0)" >&2; exit 2
fi
if [ -n "$phone_loss" ] && [ -z "$phones" ]; then
  echo "run.sh: --phone-loss needs --phones LABELS (scripts/phone_labels writes them)" >&2; exit 2
fi
phone=()
[ -n "$phone_loss" ] && phone=(--phones "$phones" --phone-loss "$phone_loss")
[ "$envelope" -eq 1 ] && phone+=(--config "$here/envelope.json")
corpus=$(cd "$corpus" && pwd)

# The training view, rebuilt each time so it always matches holdout.txt.
"$here/../common/make_view.sh" "$here/holdout.txt" "$out" "$corpus"/*/
[ "$prepare" -eq 1 ] && exit 0
"$here/../common/train.sh" "$out" "$steps" "$threads" "$again" model "${phone[@]}"
final="$out/model.safetensors" recipe="recipes/default/run.sh --steps $steps" total=$steps
[ -n "$phone_loss" ] && recipe="$recipe --phone-loss $phone_loss"
[ "$envelope" -eq 1 ] && recipe="$recipe --envelope"
provenance=()
if [ "$finetune" -gt 0 ]; then
  # Second stage: the same data, from the first stage's model, at half the peak learning rate.
  final="$out/finetune.safetensors" recipe="$recipe --finetune-steps $finetune"
  total=$((steps + finetune))
  provenance=(--set "vconv.train_init=the first stage, recipes/default/run.sh --steps $steps")
  "$here/../common/train.sh" "$out" "$finetune" "$threads" "$again" finetune \
    --init "$out/model.safetensors" --continuous-content 0.5 --lr 1.5e-4 --warmup 500 "${phone[@]}"
fi
if [ "$envelope_ft" -gt 0 ]; then
  # Third stage: the second stage's model taught the WORLD envelope, with the second stage's
  # settings: the decoder learns the representation the world vocoder renders (docs/model.md).
  "$here/../common/train.sh" "$out" "$envelope_ft" "$threads" "$again" envelope \
    --init "$final" --config "$here/envelope.json" --continuous-content 0.5 --lr 1.5e-4 \
    --warmup 500 --seed 2 "${phone[@]}"
  final="$out/envelope.safetensors" recipe="$recipe --envelope-finetune $envelope_ft"
  provenance=(--set "vconv.train_init=the second stage, recipes/default/run.sh --steps $steps --finetune-steps $finetune")
  total=$((total + envelope_ft))
fi
# The bundled form: F16, and provenance that names the corpus and recipe, not this machine.
"$root/build/vconv" export "$final" -o "$out/vconv-default.safetensors" --f16 \
  --set "vconv.train_corpus=shared/corpus without recipes/default/holdout.txt" \
  --set "vconv.train_recipe=$recipe" --set "vconv.train_steps=$total" "${provenance[@]}"
echo "run.sh: bundled form $out/vconv-default.safetensors (copy it to samples/ to make it the default)"
