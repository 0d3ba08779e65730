/* Slaney-style mel filterbank (librosa.filters.mel with htk=False, norm="slaney"): mel scale
 * linear below 1 kHz and logarithmic above, triangular filters with unit area per band (each
 * row scaled by 2 / (f_hi - f_lo)). Applied to the magnitude spectrum.
 */
#ifndef VC_DSP_MEL_H
#define VC_DSP_MEL_H

#include "common.h"

typedef struct melbank {
    int M, F;
    float *w; /* (M, F) filter weights, non-negative */
    int *lo;  /* (M) first non-zero bin of each band: w[m][f] > 0 exactly for lo <= f < hi */
    int *hi;  /* (M) one past the last non-zero bin; lo == hi for a band with no bin inside it
               * (many bands, small n_fft). Both are non-decreasing in m. */
} melbank;

/* VC_ERR_ARG unless n_fft >= 2 is even, n_mels >= 1, 0 <= fmin < fmax <= sample_rate/2 and the
 * band edges are distinct. */
VC_WARN_UNUSED vc_status vcd_melbank_init(melbank *mb, int sample_rate, int n_fft, int n_mels,
                                          float fmin, float fmax);
void vcd_melbank_free(melbank *mb);

double vcd_mel_from_hz(double hz); /* Slaney scale */
double vcd_hz_from_mel(double mel);

/* mel: (T, M) = mag (T, F) projected on the bands. */
void vcd_mel_forward(const melbank *mb, float *mel, const float *mag, int T);
/* log_mel: (T, M) = log(max(mel, VC_LOG_FLOOR)). */
void vcd_mel_log_forward(const melbank *mb, float *log_mel, const float *mag, int T);
/* mag: (T, F) >= 0 approximately solving min ||W mag - exp(log_mel)|| subject to mag >= 0
 * (non-negative least squares by multiplicative updates, each frame on its own). Starts from
 * one update away from all-ones, (W^T y) / (W^T W 1), then runs iters more updates (iters >= 0).
 * Each update costs two passes over the bands' lo..hi ranges; bins outside every band come out
 * 0. Allocates (F + F + M) floats of scratch: VC_ERR_NOMEM if it cannot. */
VC_WARN_UNUSED vc_status vcd_mel_to_magnitude(const melbank *mb, float *mag, const float *log_mel,
                                              int T, int iters);

#endif
