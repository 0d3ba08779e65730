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
    taken from the held-out list;
  * added noise for --noise-source/--noise-reference: the SNR over the speech's active frames is
    the one asked, pink noise falls as 1/f, babble is the other recordings, the same seed gives
    the same bytes and another seed others, and without the options the file is untouched.

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
    rows = [{"voiced_src": 100, "voiced_out": 40}, {"voiced_src": 50, "voiced_out": 80}, {}]
    check(abs(ev["voiced_ratio"](rows) - 0.8) < 1e-12, "voiced frames: outputs over sources, pooled")
    check(ev["voiced_ratio"]([{}]) is None, "voiced frames: no source frame, no ratio")


def yin_check(ev, np):
    """A buzz is voiced at its pitch, the same buzz under stronger noise less often: the
    periodicity figure (voiced frames out per source) sees breathiness."""
    rng = np.random.default_rng(2)
    t = np.arange(16000) / 16000.0
    buzz = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 8)) * 0.1
    f_clean = ev["yin"](buzz.astype(np.float32))
    f_noisy = ev["yin"]((buzz + 0.3 * rng.standard_normal(len(t))).astype(np.float32))
    voiced = f_clean[f_clean > 0]
    check(len(voiced) > 0.9 * len(f_clean) and abs(np.median(voiced) - 150) < 3,
          "YIN: a 150 Hz buzz is voiced at 150 Hz (%d of %d frames)" % (len(voiced), len(f_clean)))
    check((f_noisy > 0).sum() < 0.8 * (f_clean > 0).sum(),
          "YIN: the buzz in noise has fewer voiced frames (%d against %d)"
          % ((f_noisy > 0).sum(), (f_clean > 0).sum()))


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

def noise_checks(ev, work, np):
    rate = ev["RATE"]
    rng = np.random.default_rng(5)
    t = np.arange(3 * rate) / rate
    # speech-like: a 150 Hz buzz in 4 syllables a second, with silences between them
    x = 0.2 * np.sign(np.sin(2 * np.pi * 150 * t)) * (np.sin(2 * np.pi * 2 * t) > 0.3)
    x += 1e-4 * rng.standard_normal(len(x))
    for kind in ("white", "pink"):
        for snr in (5.0, 10.0):
            y = ev["add_noise"](0.1 * x, snr, kind, np.random.default_rng(1))
            got = 10 * np.log10(ev["active_power"](0.1 * x) / np.mean((y - 0.1 * x) ** 2))
            # 0.01 dB: the scaling is exact; float64 rounding is far below it
            check(abs(got - snr) < 0.01, "%s noise at %g dB: %.3f dB measured" % (kind, snr, got))
    v = ev["noise_signal"]("pink", 1 << 16, np.random.default_rng(2))
    spec = np.abs(np.fft.rfft(v)) ** 2
    f = np.fft.rfftfreq(len(v), 1.0 / rate)
    lo = spec[(f >= 200) & (f < 400)].mean()
    hi = spec[(f >= 3200) & (f < 6400)].mean()
    # per-Hz power 1/f: (3200-6400 mean) / (200-400 mean) = 1/16 within the spread of the means
    check(10 < lo / hi < 25, "pink noise falls as 1/f (power ratio %.1f over 4 octaves, 16 "
          "expected)" % (lo / hi))
    # babble: the recordings given, each at unit active power, summed
    files = []
    for i in range(3):
        path = os.path.join(work, "talker%d.wav" % i)
        ev["save"](path, 0.1 * (i + 1) * np.sin(2 * np.pi * (200 + 100 * i) * t))
        files.append(path)
    b = ev["noise_signal"]("babble", len(t), np.random.default_rng(3), files)
    spec = np.abs(np.fft.rfft(b))
    peaks = [spec[int(round(f0 * len(b) / rate))] for f0 in (200, 300, 400)]
    check(min(peaks) > 0.5 * max(peaks) and abs(np.mean(b * b) - 1) < 1e-9,
          "babble: every recording in it at a like level, unit power")
    # noisy copies: same seed same bytes, another seed other bytes, none without the option
    src = os.path.join(work, "src.wav")
    ev["save"](src, 0.3 * x)
    heldout = [src] + files

    def copy(seed, snr, kind, folder):
        os.makedirs(folder, exist_ok=True)
        args = types.SimpleNamespace(noise_source=snr, noise_reference=None, noise_kind=kind,
                                     noise_seed=seed)
        ctx = types.SimpleNamespace(args=args, heldout=heldout, work=folder, noisy={})
        out = ev["noisy_copy"](ctx, (src, None), src, "source")
        return out, open(out, "rb").read()
    for kind in ev["NOISE_KINDS"]:
        a = copy(1, 10.0, kind, os.path.join(work, "a"))[1]
        b = copy(1, 10.0, kind, os.path.join(work, "b"))[1]
        c = copy(2, 10.0, kind, os.path.join(work, "c"))[1]
        check(a == b and a != c, "%s noisy copy: the same seed the same bytes, another not" % kind)
    check(copy(1, None, "white", work)[0] == src, "no --noise-source: the source untouched")


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
        yin_check(ev, np)
        save_check(ev, work, np)
        recogniser_checks(ev, corpus, work, np)
        pool_checks(ev, corpus, work)
        noise_checks(ev, work, np)
    print("test_evaluate: %s" % ("%d failed" % len(failures) if failures else "all passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
