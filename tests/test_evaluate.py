#!/usr/bin/env python3
"""scripts/evaluate's own measuring tools, checked on known answers.

  test_evaluate.py CORPUS_DIR

  * word error counting and text normalisation (case, punctuation, hyphens, apostrophes);
  * pieces written by save() are the same bytes every time (sox dithered them from a random
    seed before, so two evaluations of one model differed);
  * the recogniser: an untouched ARCTIC prompt is transcribed with few errors, and a transcript
    does not depend on what was decoded before it (PocketSphinx's default live cepstral mean
    and noise estimate carried over between utterances before);
  * reference pools for --ref-seconds: exactly the asked total, every piece at least 1 s, none
    taken from the held-out list.

Exits 77 (skipped) without numpy or sox; the recogniser and pool checks need PocketSphinx and
the corpus and are skipped one by one without them.
"""
import os
import subprocess
import sys
import tempfile
import types

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
failures = []


def check(ok, what):
    print("%s: %s" % ("ok" if ok else "FAIL", what))
    if not ok:
        failures.append(what)


def text_checks(ev):
    norm = ev["normalise_text"]
    check(norm("It is very plausible to such people, a most convincing hypothesis.")
          == "it is very plausible to such people a most convincing hypothesis".split(),
          "punctuation dropped, lower case")
    check(norm("LET'S GO TO THE RESTROOM") == ["let's", "go", "to", "the", "restroom"],
          "apostrophe inside a word kept")
    check(norm("God bless 'em, twenty-five") == ["god", "bless", "em", "twenty", "five"],
          "apostrophe at a word's edge dropped, hyphen splits")
    we = ev["word_errors"]
    a = "the cat sat on the mat".split()
    check(we(a, a) == 0, "no errors on the same words")
    check(we(a, "the cat sat on mat".split()) == 1, "one deletion")
    check(we(a, "the cat sat down on the mat".split()) == 1, "one insertion")
    check(we(a, "the dog sat on the hat".split()) == 2, "two substitutions")
    check(we(a, []) == 6, "empty hypothesis: every word deleted")
    check(we([], ["a", "b"]) == 2, "empty reference: every word inserted")
    rows = [{"words": 10, "e": 1}, {"words": 30, "e": 9}, {"words": 0}]
    check(abs(ev["wer"](rows, "e") - 0.25) < 1e-12, "corpus WER: all errors over all words")


def save_check(ev, work, np):
    x = np.random.default_rng(1).standard_normal(16000) * 0.1
    a, b = os.path.join(work, "a.wav"), os.path.join(work, "b.wav")
    ev["save"](a, x)
    ev["save"](b, x)
    check(open(a, "rb").read() == open(b, "rb").read(), "save() writes the same bytes twice")


def recogniser_checks(ev, corpus, work, np):
    arctic = os.path.join(corpus, "arctic")
    try:
        import pocketsphinx  # noqa: F401
    except ImportError:
        print("skip: recogniser checks (no python3-pocketsphinx)")
        return
    if not os.path.isdir(arctic) or not os.path.isdir(ev["ASR_MODEL"]):
        print("skip: recogniser checks (no corpus or no pocketsphinx-en-us)")
        return
    asr = ev["Recogniser"](ev["ASR_MODEL"])
    tr = ev["Transcripts"]()
    a = os.path.join(arctic, "bdl", "arctic_a0303.flac")
    b = os.path.join(arctic, "slt", "arctic_a0310.flac")
    ref_a = tr((a, None))
    check(ref_a == "but they make the mistake of ignoring their own duality".split(),
          "transcript of arctic_a0303 from the corpus")
    check(tr((a, (0.0, 1.0))) is None, "no transcript for a trimmed piece")
    first = asr.transcribe(a)
    check(ev["word_errors"](ref_a, first) <= 2, "untouched ARCTIC prompt: at most 2 of 10 words "
          "wrong (%s)" % " ".join(first))
    # between two decodings of a: another speaker, then 5 s of loud noise under a quiet copy
    # of a (what a poor conversion may sound like), which moves any running estimate
    asr.transcribe(b)
    x = ev["load"](a)
    noisy = os.path.join(work, "noisy.wav")
    ev["save"](noisy, 0.05 * np.resize(x, 5 * ev["RATE"])
               + 0.15 * np.random.default_rng(2).standard_normal(5 * ev["RATE"]))
    asr.transcribe(noisy)
    check(asr.transcribe(a) == first, "a transcript does not depend on the ones decoded before")


def pool_checks(ev, corpus, work):
    folder = os.path.join(corpus, "arctic", "bdl")
    if not os.path.isdir(folder):
        print("skip: reference pool checks (no corpus)")
        return
    held = list(range(1, 4)) + list(range(282, 322))
    heldout = [os.path.join(folder, "arctic_a%04d.flac" % n) for n in held]
    spk = {"arctic/bdl": {"sources": [(heldout[-1], None)]}}
    ctx = types.SimpleNamespace(heldout=heldout, spk=spk, work=work)
    lengths = [2, 5, 10, 30]
    pools = ev["reference_pools"](ctx, "arctic/bdl", lengths)
    for length in lengths:
        durations = [float(subprocess.run(["soxi", "-D", p], capture_output=True, text=True,
                                          check=True).stdout) for p in pools[length]]
        check(abs(sum(durations) - length) < 0.01 and min(durations) >= 1.0 - 1e-3,
              "pool of %g s: %d pieces, %.2f s in all, shortest %.2f s"
              % (length, len(durations), sum(durations), min(durations)))
    check(len(pools[30]) > len(pools[5]) > len(pools[2]) == 1, "longer pools hold more files")
    first = ev["speech_span"](ev["load"](os.path.join(folder, "arctic_a0004.flac")))
    got = ev["load"](pools[2][0])
    check(len(got) == 2 * ev["RATE"] and bool((got == first[: len(got)]).all()),
          "the first piece is the speech of the first file not held out (a0004), to the sample")

def main():
    corpus = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "corpus")
    try:
        import numpy as np
    except ImportError:
        print("test_evaluate: skipped, no numpy")
        return 77
    if subprocess.run(["which", "sox"], capture_output=True).returncode:
        print("test_evaluate: skipped, no sox")
        return 77
    path = os.path.join(ROOT, "scripts", "evaluate")
    ev = {"__file__": path, "__name__": "evaluate_lib"}
    exec(compile(open(path).read(), path, "exec"), ev)
    with tempfile.TemporaryDirectory() as work:
        text_checks(ev)
        save_check(ev, work, np)
        recogniser_checks(ev, corpus, work, np)
        pool_checks(ev, corpus, work)
    print("test_evaluate: %s" % ("%d failed" % len(failures) if failures else "all passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
