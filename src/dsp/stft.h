/* Short-time Fourier transform with FFTW (single precision).
 *
 * Frames are centred: frame t covers samples [t*hop - n_fft/2, t*hop + n_fft/2) of the signal
 * extended by reflect padding (as librosa's center=True, pad_mode="reflect"), so
 * T = 1 + n / hop. The window is a periodic Hann of length n_fft. The inverse is the weighted
 * overlap-add with the window-square normalisation, the least-squares inverse of the forward
 * transform (Griffin & Lim 1984), so istft(stft(x)) == x.
 *
 * Plans are made once in vcd_stft_init with FFTW_ESTIMATE (deterministic, leaves buffers alone) and
 * executed with the new-array interface on scratch owned by the struct: one stft per thread.
 * Making and destroying plans goes through vcd_fftw_planner_lock (FFTW's planner is global and
 * not thread-safe), so stfts may be made in several threads at once.
 */
#ifndef VC_DSP_STFT_H
#define VC_DSP_STFT_H

#include "common.h"

#include <fftw3.h>

typedef struct stft {
    int n_fft, hop, F;   /* F = n_fft/2 + 1 */
    float *window;       /* (n_fft) periodic Hann */
    double *wss;         /* (hop) window-square sum at interior samples, by position mod hop */
    float *frame;        /* (n_fft) scratch, fftwf_malloc'd */
    fftwf_complex *bins; /* (F) scratch, fftwf_malloc'd */
    fftwf_plan r2c, c2r;
} stft;

/* VC_ERR_ARG unless n_fft >= 2 is even and 1 <= hop <= n_fft/2 (so every sample is covered by
 * a non-zero part of some window); VC_ERR_NOMEM, VC_ERR_INTERNAL if FFTW cannot plan. */
VC_WARN_UNUSED vc_status vcd_stft_init(stft *s, int n_fft, int hop);
void vcd_stft_free(stft *s); /* safe on a zeroed or freed struct */

int vcd_stft_n_frames(size_t n_samples, int hop);

/* Held around every FFTW plan creation and destruction in the library (any new FFTW user, e.g.
 * a vocoder with its own transforms, takes it too). */
void vcd_fftw_planner_lock(void);
void vcd_fftw_planner_unlock(void);

/* spec: (T, F, 2) with T = vcd_stft_n_frames(n, hop). n >= 1. */
void vcd_stft_forward(stft *s, float *spec, const float *x, size_t n);
/* mag: (T, F), |X|. */
void vcd_stft_magnitude(stft *s, float *mag, const float *x, size_t n);
/* Frames [t0, t0 + T) of x's magnitude, exactly as vcd_stft_magnitude computes them: mag (T, F). */
void vcd_stft_magnitude_frames(stft *s, float *mag, const float *x, size_t n, int t0, int T);
/* x: (n) from spec (T, F, 2); spec is not modified. Samples whose window-square sum is tiny
 * (never, for hop <= n_fft/2) are left at 0. With hop = n_fft/2 the samples after the last
 * frame centre are seen only through that window's tail, so rounding there is amplified (round
 * trip ~85 dB instead of ~135 dB); hop <= n_fft/4 avoids it. */
void vcd_stft_inverse(stft *s, float *x, size_t n, const float *spec, int T);

#endif
