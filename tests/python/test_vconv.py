"""The Python package (python/vconv) against the library and the command line: the ctypes
layouts equal the C compiler's; conversions write the same bytes as `vconv convert` (paths,
arrays, options, several references); codes equal `vconv codebook --codes`; errors carry the
library's status and message; converting in a loop does not grow memory; `pip install` works
offline; docs/python.md's example runs as written.

usage: test_vconv.py VCONV_CLI STRUCT_LAYOUT SOURCE_DIR   (VCONV_LIBRARY: the libvconv.so.0 to
test; PYTHONPATH: the python/ folder). Exits 77 without numpy or the bundled model.
"""

import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading

try:
    import numpy as np
except ImportError:
    print("numpy not installed: skipped")
    sys.exit(77)

cli, layout_exe, src = sys.argv[1:4]
samples = os.path.join(src, "samples")
if not os.path.exists(os.path.join(samples, "vconv-default.safetensors")):
    print("no bundled model: skipped")
    sys.exit(77)

import vconv  # noqa: E402

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what, file=sys.stderr)


def raises(status, call, what):
    """call() raises vconv.Error with this status; its message is returned ("" otherwise)."""
    try:
        call()
    except vconv.Error as e:
        check(e.status == status, f"{what}: status {e.status}, want {status}")
        return e.message
    check(False, f"{what}: no vconv.Error raised")
    return ""


def read(path):
    with open(path, "rb") as f:
        return f.read()


work = tempfile.mkdtemp()
atexit.register(shutil.rmtree, work, True)
bdl, slt, kath = (os.path.join(samples, n) for n in
                  ("bdl_arctic_a0310.wav", "slt_arctic_a0318.wav", "kathleen_arctic_a0300.wav"))
env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
env.pop("VCONV_MODEL", None)

# ctypes' layouts of the public structs are the compiler's.
layout = subprocess.run([layout_exe], check=True, capture_output=True, text=True).stdout
n_lines = 0
for line in layout.splitlines():
    words = line.split()
    cls = vconv._STRUCTS[words[0]]
    if words[1] == "size":
        got = __import__("ctypes").sizeof(cls)
    else:
        got = getattr(cls, words[1]).offset
    check(got == int(words[-1]), f"layout: {line}, ctypes says {got}")
    n_lines += 1
check(n_lines >= 30, f"layout: {n_lines} lines from {layout_exe}")

# Without $VCONV_LIBRARY: beside the package, the checkout's build/, then the loader's search.
saved = os.environ.pop("VCONV_LIBRARY", None)
candidates = vconv._library_candidates()
# (the folder compared, not the file: realpath would follow the soname link to the library)
check(os.path.realpath(os.path.dirname(candidates[1])) == os.path.join(os.path.realpath(src), "build")
      and os.path.basename(candidates[1]) == "libvconv.so.0"
      and candidates[-1] == "libvconv.so.0", f"library candidates {candidates}")
if saved is not None:
    os.environ["VCONV_LIBRARY"] = saved

check(vconv.library_version() == vconv.__version__,
      f"library {vconv.library_version()} and package {vconv.__version__} versions")

# The bundled model by default, as the command line's.
model = vconv.Model()
check(os.path.samefile(model.path, os.path.join(samples, "vconv-default.safetensors")),
      f"default model {model.path}")
check(model.sample_rate == 16000 and model.codebook_size == model.config["codebook_size"],
      "model properties")
check(model.meta.get("vconv.train_steps") is not None, f"meta {model.meta}")


def cli_convert(out, *args):
    subprocess.run([cli, "convert", "-q", *args, "-o", out], check=True, env=env)
    return read(out)


def py_bytes(samples_out, name):
    path = os.path.join(work, name)
    vconv.save(path, samples_out, model.sample_rate)
    return read(path)


# The same conversion, the same bytes: from paths, from arrays, with options, with two references
# pooled into a Voice that is then used twice.
want = cli_convert(os.path.join(work, "cli.wav"), bdl, slt)
out = model.convert(bdl, slt)
check(out.dtype == np.float32 and out.ndim == 1, f"output {out.dtype} {out.shape}")
check(py_bytes(out, "py.wav") == want, "convert(paths) writes vconv convert's bytes")
src_audio, rate = vconv.load(bdl)
ref_audio = vconv.load(slt)
check(rate == 16000 and src_audio.dtype == np.float32, f"load: {rate} {src_audio.dtype}")
check(py_bytes(model.convert(src_audio, ref_audio), "arr.wav") == want,
      "convert(arrays) writes vconv convert's bytes")
check(py_bytes(model.convert((src_audio.astype(np.float64), rate), slt), "f64.wav") == want,
      "a float64 (samples, rate) source converts the same")
opts = dict(pitch_shift=-2, vocoder="harmonic", match=0.3, seed=7)
want_opts = cli_convert(os.path.join(work, "cli_opts.wav"), bdl, slt, "--pitch-shift", "-2",
                        "--vocoder", "harmonic", "--match", "0.3", "--seed", "7")
check(want_opts != want, "the options change the output")
check(py_bytes(model.convert(bdl, slt, **opts), "py_opts.wav") == want_opts,
      "convert(**options) writes vconv convert's bytes with the same options")
want_two = cli_convert(os.path.join(work, "cli_two.wav"), bdl, slt, kath)
voice = model.voice([slt, kath])
check(voice.seconds > 3 and voice.f0_hz and voice.embedding.shape == (model.speaker_dim,),
      f"voice: {voice.seconds} s, {voice.f0_hz} Hz")
check(py_bytes(model.convert(bdl, voice), "py_two.wav") == want_two,
      "a Voice of two references converts as vconv convert with both")
check(py_bytes(model.convert(src_audio, voice), "py_two_again.wav") == want_two,
      "a Voice converts the same when used again")

# Threads: ctypes lets go of the GIL during each call, and one model serves them all.
results = [None] * 3


def convert_in_thread(i):
    results[i] = model.convert(bdl, voice).tobytes()


threads = [threading.Thread(target=convert_in_thread, args=(i,)) for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
check(all(r == model.convert(bdl, voice).tobytes() for r in results),
      "three threads converting with one model give the bytes of one")

# Codes: what vconv codebook --codes prints for the file (run-length encoded there).
codes = model.encode(bdl)
listing = subprocess.run([cli, "codebook", "-q", "--codes", bdl], check=True, env=env,
                         capture_output=True, text=True).stdout
line = next(l for l in listing.splitlines() if l.startswith(bdl + ":"))
want_codes = []
for token in line.split(":", 1)[1].split():
    code, _, count = token.partition("x")
    want_codes += [int(code)] * int(count or 1)
check(codes.dtype == np.intc and codes.tolist() == want_codes,
      f"encode: {len(codes)} codes, vconv codebook says {len(want_codes)}")
check(np.array_equal(model.encode(src_audio), codes), "encode(array) equals encode(path)")

# Errors: the library's status and its message.
msg = raises(vconv.ERR_IO, lambda: vconv.Model(os.path.join(work, "missing.safetensors")),
             "a missing model")
check("missing.safetensors" in msg, f"the message names the file: {msg}")
garbage = os.path.join(work, "garbage.safetensors")
with open(garbage, "wb") as f:
    f.write(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
raises(vconv.ERR_FORMAT, lambda: vconv.Model(garbage), "a corrupt model")
msg = raises(vconv.ERR_AUDIO, lambda: model.convert(np.zeros(16000, np.float32), slt),
             "a silent source")
check(msg != "", "a silent source's error has a message")
raises(vconv.ERR_AUDIO, lambda: model.voice(np.zeros(32000, np.float32)), "a silent reference")
raises(vconv.ERR_IO, lambda: vconv.load(os.path.join(work, "missing.wav")), "a missing file")
raises(vconv.ERR_ARG, lambda: model.convert(bdl, slt, match=5), "match out of range")
for bad, exc in ((dict(colour="blue"), TypeError), (dict(vocoder="tube"), ValueError)):
    try:
        model.convert(bdl, slt, **bad)
        check(False, f"{bad} refused")
    except exc:
        check(True, "")
try:
    model.convert(np.zeros((2, 16000), np.float32), slt)
    check(False, "a 2-D array refused")
except ValueError:
    check(True, "")
other = vconv.Model()
try:
    other.convert(bdl, voice)
    check(False, "a voice of another model refused")
except ValueError:
    check(True, "")
check(issubclass(vconv.Error, Exception) and vconv.Error(-3, "x").status == -3, "Error type")


# Memory: conversions and encodings in a loop keep the resident size flat once warm (every
# output is handed back to the library's free when numpy drops it).
def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


for _ in range(5):
    model.convert(src_audio, voice)
    model.encode(src_audio)
before = rss_mb()
loops = 40
for _ in range(loops):
    model.convert(src_audio, voice)
    model.convert(bdl, slt)
    model.encode(src_audio)
grown = rss_mb() - before
# A leaked output alone would be 40 x 2 x 180 kB = 14 MB; 3 MB leaves room for the allocator.
check(grown < 3.0, f"memory grew {grown:.1f} MB over {loops} loops")
print(f"memory: {grown:+.2f} MB over {loops} loops of 2 conversions and an encoding")
model.close()
raises_closed = False
try:
    model.sample_rate
except ValueError:
    raises_closed = True
check(raises_closed, "a closed model refuses use")

# pip install, offline, into a folder; the installed package converts.
pip_ok = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True)
if pip_ok.returncode == 0:
    target = os.path.join(work, "site")
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                        "--target", target, os.path.join(src, "python")],
                       capture_output=True, text=True, env=dict(env, PIP_NO_INDEX="1"))
    check(r.returncode == 0, f"pip install ./python offline: {r.stderr[-500:]}")
    code = ("import vconv, sys; m = vconv.Model(); print(vconv.__file__); "
            "print(m.convert(sys.argv[1], sys.argv[2]).size)")
    r = subprocess.run([sys.executable, "-c", code, bdl, slt], capture_output=True, text=True,
                       env=dict(env, PYTHONPATH=target), cwd=work)
    lines = r.stdout.split()
    check(r.returncode == 0 and lines and lines[0].startswith(target)
          and int(lines[1]) == out.size, f"the pip-installed package converts: {r.stdout} {r.stderr}")
else:
    print("pip not installed: the pip check skipped")

# docs/python.md's example, its code blocks joined, run as a script beside the samples.
with open(os.path.join(src, "docs", "python.md"), encoding="utf-8") as f:
    blocks = re.findall(r"^```python\n(.*?)^```", f.read(), re.S | re.M)
check(len(blocks) >= 2, f"docs/python.md has its example ({len(blocks)} blocks)")
example = os.path.join(work, "example")
os.mkdir(example)
os.symlink(samples, os.path.join(example, "samples"))
with open(os.path.join(example, "example.py"), "w", encoding="utf-8") as f:
    f.write("\n".join(blocks))
r = subprocess.run([sys.executable, "example.py"], cwd=example, capture_output=True, text=True,
                   env=env)
check(r.returncode == 0, f"docs/python.md's example runs: {r.stderr[-800:]}")
check(os.path.exists(os.path.join(example, "bdl_as_slt.wav")), "the example writes its output")

print(f"python: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
