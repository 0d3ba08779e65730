#!/usr/bin/python3
"""Write the reference vectors test_mel.c compares against (numpy only; librosa not needed).

The filterbank follows the documented definition of librosa.filters.mel(sr, n_fft, n_mels,
fmin, fmax, htk=False, norm="slaney"), written out independently of the C code:
  * Slaney mel scale: linear below 1 kHz (200/3 Hz per mel), log above (27 mels per x6.4);
  * n_mels + 2 points evenly spaced on that scale between mel(fmin) and mel(fmax), mapped back
    to Hz;
  * FFT bin frequencies linspace(0, sr/2, 1 + n_fft/2);
  * band m = max(0, min(lower, upper)) with lower and upper the rising and falling ramps;
  * each band scaled by enorm = 2 / (hz[m+2] - hz[m]).

Outputs, in tests/data/:
  mel_fb_<sr>_<n_fft>_<n_mels>_<fmin>_<fmax>.txt   one filterbank, sparse:
      line 1: sr n_fft n_mels fmin fmax
      then per band: m lo hi w[lo] ... w[hi-1]   (every other weight is exactly 0)
  mel_logmel_ref.txt   log(max(mel, 1e-5)) of the magnitude STFT of a deterministic signal:
      line 1: sr n_fft hop n_mels fmin fmax n_samples T
      then T lines of n_mels values.

The signal (the C test rebuilds it with the same integer arithmetic): for i in 0..n-1
  lcg   = (1103515245 * lcg + 12345) mod 2^31, starting at lcg = 12345,
  noise = (lcg / 2^31 - 0.5) * 0.02
  x[i]  = float32(0.5 sin(2 pi 440 i/sr) + 0.25 sin(2 pi 1234.5 i/sr + 0.3)
                  + 0.1 sin(2 pi 3999 i/sr + 1.0) + noise)
computed in double and rounded to float32 once; the noise keeps every band well above the
log floor so float32 FFT rounding cannot dominate a nearly empty band.

Run from anywhere: /usr/bin/python3 tests/gen_mel_reference.py
"""
import os

import numpy as np

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")

FILTERBANKS = [
    (16000, 1024, 80, 0.0, 8000.0),
    (22050, 1024, 80, 0.0, 11025.0),
    (24000, 2048, 100, 50.0, 12000.0),
    (16000, 512, 40, 0.0, 8000.0),
]
LOGMEL = (16000, 1024, 256, 80, 0.0, 8000.0, 4000)  # sr n_fft hop n_mels fmin fmax n_samples


def hz_to_mel(hz):
    hz = np.asarray(hz, dtype=np.float64)
    f_sp = 200.0 / 3.0
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    lin = hz / f_sp
    log = min_log_mel + np.log(np.maximum(hz, min_log_hz) / min_log_hz) / logstep
    return np.where(hz >= min_log_hz, log, lin)


def mel_to_hz(mel):
    mel = np.asarray(mel, dtype=np.float64)
    f_sp = 200.0 / 3.0
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    lin = mel * f_sp
    log = min_log_hz * np.exp(logstep * (np.maximum(mel, min_log_mel) - min_log_mel))
    return np.where(mel >= min_log_mel, log, lin)


def mel_filterbank(sr, n_fft, n_mels, fmin, fmax):
    n_bins = 1 + n_fft // 2
    fftfreqs = np.linspace(0.0, sr / 2.0, n_bins)
    hz = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    fdiff = np.diff(hz)
    ramps = hz[:, None] - fftfreqs[None, :]  # (n_mels + 2, F)
    w = np.zeros((n_mels, n_bins))
    for m in range(n_mels):
        lower = -ramps[m] / fdiff[m]
        upper = ramps[m + 2] / fdiff[m + 1]
        w[m] = np.maximum(0.0, np.minimum(lower, upper))
    enorm = 2.0 / (hz[2 : n_mels + 2] - hz[:n_mels])
    return w * enorm[:, None]


def test_signal(n, sr):
    lcg = 12345
    noise = np.empty(n)
    for i in range(n):
        lcg = (1103515245 * lcg + 12345) % (1 << 31)
        noise[i] = (lcg / float(1 << 31) - 0.5) * 0.02
    i = np.arange(n, dtype=np.float64)
    x = (0.5 * np.sin(2 * np.pi * 440.0 * i / sr)
         + 0.25 * np.sin(2 * np.pi * 1234.5 * i / sr + 0.3)
         + 0.1 * np.sin(2 * np.pi * 3999.0 * i / sr + 1.0) + noise)
    return x.astype(np.float32).astype(np.float64)


def vcd_stft_magnitude(x, n_fft, hop):
    """Centred frames with reflect padding (librosa center=True), periodic Hann, |rfft|."""
    pad = n_fft // 2
    xp = np.pad(x, pad, mode="reflect")
    n_frames = 1 + len(x) // hop
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    frames = np.stack([xp[t * hop : t * hop + n_fft] * window for t in range(n_frames)])
    return np.abs(np.fft.rfft(frames, axis=1))  # (T, F)


def write_filterbank(sr, n_fft, n_mels, fmin, fmax):
    w = mel_filterbank(sr, n_fft, n_mels, fmin, fmax)
    name = "mel_fb_%d_%d_%d_%g_%g.txt" % (sr, n_fft, n_mels, fmin, fmax)
    with open(os.path.join(DATA, name), "w") as f:
        f.write("%d %d %d %.17g %.17g\n" % (sr, n_fft, n_mels, fmin, fmax))
        for m in range(n_mels):
            nz = np.nonzero(w[m])[0]
            lo, hi = (int(nz[0]), int(nz[-1]) + 1) if len(nz) else (0, 0)
            assert np.all(w[m, lo:hi] > 0), "triangle support must be contiguous"
            f.write("%d %d %d" % (m, lo, hi))
            f.write("".join(" %.9e" % v for v in w[m, lo:hi]))
            f.write("\n")
    return name


def write_logmel():
    sr, n_fft, hop, n_mels, fmin, fmax, n = LOGMEL
    x = test_signal(n, sr)
    mel = vcd_stft_magnitude(x, n_fft, hop) @ mel_filterbank(sr, n_fft, n_mels, fmin, fmax).T
    log_mel = np.log(np.maximum(mel, 1e-5))  # (T, M)
    name = "mel_logmel_ref.txt"
    with open(os.path.join(DATA, name), "w") as f:
        f.write("%d %d %d %d %.17g %.17g %d %d\n" % (sr, n_fft, hop, n_mels, fmin, fmax, n,
                                                   log_mel.shape[0]))
        for row in log_mel:
            f.write(" ".join("%.9e" % v for v in row) + "\n")
    return name


def main():
    os.makedirs(DATA, exist_ok=True)
    for args in FILTERBANKS:
        print("wrote", write_filterbank(*args))
    print("wrote", write_logmel())


if __name__ == "__main__":
    main()
