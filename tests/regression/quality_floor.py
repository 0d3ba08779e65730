#!/usr/bin/env python3
"""Quality floor of the bundled model: it must keep converting as well as recorded.

  quality_floor.py VCONV CORPUS_DIR [--regen]

Converts 4 held-out ARCTIC sentences (a0302-a0305) for each ordered pair of the three ARCTIC
speakers (24 conversions, reference a0282 of the target) with the bundled model, and measures
with scripts/evaluate's own functions (MFCC mel-cepstral distortion, MFCC-GMM identifier
enrolled on a0283-a0301 of the three speakers):

  * the share of conversions identified as the target, which must not fall more than 2
    conversions (8 points) below the recorded share: the pipeline is deterministic on one
    machine, and rounding elsewhere may flip a borderline decision or two, not more;
  * the MCD to the target's own recording minus the source's, which must not rise more than
    0.15 dB above the recorded gap (a tenth of the gap a useful conversion opens).

The recorded figures are tests/regression/quality_floor.json; --regen (tests/regression/regen)
rewrites them. Exits 77 (skipped) without numpy, sox or the corpus.
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
GOLDEN = os.path.join(HERE, "quality_floor.json")


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    vconv, corpus, regen = sys.argv[1], sys.argv[2], "--regen" in sys.argv
    try:
        import numpy as np  # noqa: F401
    except ImportError:
        print("quality_floor: skipped, no numpy (apt-get install python3-numpy)")
        return 77
    arctic = os.path.join(corpus, "arctic")
    if not os.path.isdir(arctic) or subprocess.run(["which", "sox"], capture_output=True).returncode:
        print("quality_floor: skipped, no corpus at %s or no sox" % corpus)
        return 77
    ev = {"__file__": os.path.join(ROOT, "scripts", "evaluate"), "__name__": "evaluate_lib"}
    exec(compile(open(ev["__file__"]).read(), ev["__file__"], "exec"), ev)
    speakers = ["bdl", "kathleen", "slt"]

    def path(s, n):
        return os.path.join(arctic, s, "arctic_a%04d.flac" % n)

    gmms = {}
    for i, s in enumerate(speakers):
        feats = np.concatenate([ev["mfcc_for_id"](ev["load"](path(s, n))) for n in range(283, 302)])
        gmms[s] = ev["DiagGMM"](feats, seed=i)
    hits, gaps = 0, []
    with tempfile.TemporaryDirectory() as work:
        for a in speakers:
            for b in speakers:
                if a == b:
                    continue
                for n in range(302, 306):
                    out = os.path.join(work, "c.wav")
                    subprocess.run([vconv, "convert", "-q", "--threads", "1", path(a, n),
                                    path(b, 282), "-o", out], check=True)
                    y, x, t = ev["load"](out), ev["load"](path(a, n)), ev["load"](path(b, n))
                    feats = ev["mfcc_for_id"](y)
                    hits += max(gmms, key=lambda s: gmms[s].score(feats)) == b
                    gaps.append(ev["mcd"](y, t) - ev["mcd"](x, t))
    now = {"conversions": len(gaps), "identified_as_target": hits,
           "mcd_gap_db": float(np.mean(gaps))}
    old = json.load(open(GOLDEN)) if os.path.exists(GOLDEN) else None
    print("%-34s %10s %10s %12s" % ("figure", "recorded", "now", "allowed"))
    print("%-34s %10s %10d %12s" % ("identified as the target (of 24)",
                                     old and old["identified_as_target"], hits,
                                     old and ">= %d" % (old["identified_as_target"] - 2)))
    print("%-34s %10s %10.3f %12s" % ("MCD to target minus source's (dB)",
                                       old and "%.3f" % old["mcd_gap_db"], now["mcd_gap_db"],
                                       old and "<= %.3f" % (old["mcd_gap_db"] + 0.15)))
    if regen:
        with open(GOLDEN, "w") as f:
            json.dump(now, f, indent=1)
            f.write("\n")
        print("wrote", GOLDEN)
        return 0
    if old is None:
        print("quality_floor: no recorded figures (tests/regression/regen writes them)")
        return 1
    ok = hits >= old["identified_as_target"] - 2 and now["mcd_gap_db"] <= old["mcd_gap_db"] + 0.15
    print("quality_floor: %s" % ("held" if ok else "FELL BELOW THE RECORDED FIGURES"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
