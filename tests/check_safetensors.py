#!/usr/bin/python3
"""Independent reader for test_safetensors: parses a safetensors file with json + numpy only
(no vconv code, no safetensors package) and checks layout, metadata and values.

usage: check_safetensors.py FILE --dtype F32|F16 [--meta KEY VALUE]...
                            [--expect NAME SHAPE START STEP]...
       check_safetensors.py --write FILE
SHAPE is like 2x3x4; the tensor must equal START + STEP * arange(numel) exactly (the test
chooses values every dtype holds exactly). Exits 0 when everything matches, 1 otherwise.
--write makes a file the other way round for the C reader: mixed dtypes, header order unlike
buffer order (see write_sample for the values the test expects)."""
import argparse
import json
import struct
import sys

import numpy as np


def write_sample(path):
    w16 = np.array([1.0, -2.0, 2.0**-24, 65504.0], dtype="<f2")
    w32 = (np.arange(6, dtype="<f4") * 0.5 - 1.0).reshape(2, 3)
    header = {
        "__metadata__": {"who": "numpy"},
        "w32": {"dtype": "F32", "shape": [2, 3], "data_offsets": [8, 32]},
        "w16": {"dtype": "F16", "shape": [4], "data_offsets": [0, 8]},
    }
    text = json.dumps(header).encode("utf-8")
    text += b" " * (-(8 + len(text)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + w16.tobytes() + w32.tobytes())
    return 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--write":
        return write_sample(sys.argv[2])
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--dtype", required=True, choices=["F32", "F16"])
    ap.add_argument("--meta", nargs=2, action="append", default=[])
    ap.add_argument("--expect", nargs=4, action="append", default=[])
    a = ap.parse_args()

    raw = open(a.file, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    errors = []
    if (8 + n) % 8:
        errors.append(f"header length {n}: 8 + N is not a multiple of 8")
    text = raw[8 : 8 + n].decode("utf-8")
    if text.rstrip(" ") != text.rstrip():
        errors.append("header padding is not spaces")
    header = json.loads(text)
    buf = raw[8 + n :]
    meta = header.pop("__metadata__", {})
    for key, value in a.meta:
        if meta.get(key) != value:
            errors.append(f"metadata {key!r} = {meta.get(key)!r}, want {value!r}")

    # Offsets must tile the buffer exactly.
    spans = sorted(tuple(v["data_offsets"]) for v in header.values())
    pos = 0
    for begin, end in spans:
        if begin != pos:
            errors.append(f"tensor at {begin} does not follow the previous one (ends at {pos})")
        pos = end
    if pos != len(buf):
        errors.append(f"tensors cover {pos} of {len(buf)} data bytes")

    np_dtype = {"F32": "<f4", "F16": "<f2"}
    expected = {name: (shape, start, step) for name, shape, start, step in a.expect}
    if set(expected) != set(header):
        errors.append(f"tensors {sorted(header)}, want {sorted(expected)}")
    for name, info in header.items():
        if name not in expected:
            continue
        shape = tuple(int(d) for d in expected[name][0].split("x"))
        if info["dtype"] != a.dtype:
            errors.append(f"{name}: dtype {info['dtype']}, want {a.dtype}")
            continue
        if tuple(info["shape"]) != shape:
            errors.append(f"{name}: shape {info['shape']}, want {list(shape)}")
            continue
        begin, end = info["data_offsets"]
        x = np.frombuffer(buf[begin:end], dtype=np_dtype[a.dtype]).reshape(shape)
        start, step = float(expected[name][1]), float(expected[name][2])
        want = (start + step * np.arange(x.size, dtype=np.float64)).reshape(shape)
        if not np.array_equal(x.astype(np.float64), want):
            bad = np.flatnonzero(x.astype(np.float64).ravel() != want.ravel())[0]
            errors.append(f"{name}: element {bad} = {x.ravel()[bad]!r}, want {want.ravel()[bad]!r}")

    for e in errors:
        print(f"check_safetensors: {a.file}: {e}", file=sys.stderr)
    if not errors:
        print(f"check_safetensors: {a.file}: {len(header)} tensors, {len(meta)} metadata keys ok",
              file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
