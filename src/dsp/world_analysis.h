/* WORLD-style analysis at the front end's frame grid (units and conventions: dsp/world.h).
 *
 * Per frame t (centred on sample t*hop), with P = fs / F0 the period (F0 from dsp/f0.c;
 * VCD_WORLD_UNVOICED_F0 in unvoiced frames, vcd_world_f0_floor below the floor):
 *
 * 1. Window: a Hann window three periods long, centred on the frame, scaled so that the sum of
 *    its squares is P. Three periods make the windowed power spectrum's fluctuation over time
 *    small (CheapTrick); the scale makes one period's response come out at its own level.
 *    Samples outside the signal count as zero.
 * 2. Envelope (CheapTrick, Morise 2015): the power spectrum is smoothed by a rectangle 2 F0 / 3
 *    wide (the spectrum is mirrored at 0 and Nyquist, being even), then in the cepstrum by the
 *    lifter sin(pi F0 q) / (pi F0 q) (a rectangle F0 wide in the log domain, which removes the
 *    harmonic ripple) times (1 - 2 q1) + 2 q1 cos(2 pi F0 q), q1 = -0.15, which restores the
 *    detail the two smoothings took out. Half of the result is the log-magnitude envelope.
 *    Unvoiced frames then take their level (not their shape) from the hop they are rendered
 *    over, since their 20 ms window would lend a quiet frame a loud neighbour's energy.
 * 3. Aperiodicity (a simpler stand-in for D4C): from a second window, four periods long (there
 *    the harmonics' main lobes no longer overlap, so a periodic signal reads as periodic in
 *    every band), shortened to n_fft - 1.1 P so that the circular autocorrelation at one period
 *    does not wrap (below 5 fs / n_fft, 78 Hz at defaults, it is shorter than four periods).
 *    Its samples are read on a time axis warped by the F0 glide (the slope between the
 *    neighbouring voiced frames' F0), so a rising or falling voice is periodic in the window:
 *    without it a 10% vibrato read as 50% noise at 7 kHz, with it 14%.
 *    For each band b, the autocorrelation of the windowed frame band-limited by the band's
 *    weights, at a lag of one period, divided by the window's own autocorrelation at that lag
 *    (what a perfectly periodic signal would give):
 *        r_b = sum_k g_b(k) |X(k)|^2 cos(2 pi k L / N) / sum_k g_b(k) |X(k)|^2 / rho_w(L)
 *    For periodic plus uncorrelated noise, r_b is the periodic share of the band's power, so
 *    a_b = 1 - r_b is the noise share. The lag L is chosen once per frame among
 *    P (1 + 0.01 j), j = -2..2, by the whole band's r, so a slightly wrong F0 does not read as
 *    noise. a_b is clamped to [VCD_WORLD_AP_MIN, 1]; unvoiced frames get 1 everywhere. On white
 *    noise single frames scatter (r_b has a spread of about 0.2 at 100-300 Hz) and the clamp at
 *    1 pulls their mean to about 0.9.
 *
 * One object per thread: the FFTW plans are made once in init, the scratch allocated once.
 */
#ifndef VC_DSP_WORLD_ANALYSIS_H
#define VC_DSP_WORLD_ANALYSIS_H

#include "dsp/world.h"

#include <fftw3.h>

typedef struct vcd_world_analysis {
    int sample_rate, n_fft, hop, F; /* F = n_fft/2 + 1 */
    float f0_floor;
    float *frame;         /* (n_fft) windowed samples, then cepstrum; fftwf_malloc'd */
    fftwf_complex *bins;  /* (F) */
    double *power;        /* (F) windowed power spectrum */
    double *window_power; /* (F) the window's own power spectrum */
    double *smooth;       /* (F) smoothed power, then its log */
    float *band_w;        /* (VCD_WORLD_BANDS, F) band weights at each bin */
    fftwf_plan r2c, c2r;  /* on frame <-> bins */
} vcd_world_analysis;

/* VC_ERR_ARG unless sample_rate >= 1000, n_fft >= 64 is even and 1 <= hop <= n_fft; VC_ERR_NOMEM;
 * VC_ERR_INTERNAL if FFTW cannot plan. */
VC_WARN_UNUSED vc_status vcd_world_analysis_init(vcd_world_analysis *a, int sample_rate, int n_fft,
                                                 int hop);
void vcd_world_analysis_free(vcd_world_analysis *a); /* safe on a zeroed or freed struct */

/* x (n samples), f0 (T) Hz per frame from the tracker (<= 0 or not finite: unvoiced), voicing
 * (T) or NULL -> log_env (T, F) and, when not NULL, ap (T, VCD_WORLD_BANDS). T must be
 * 1 + n/hop (VC_ERR_SHAPE otherwise); VC_ERR_ARG on NULL pointers or n == 0. Non-finite
 * samples are read as 0. */
VC_WARN_UNUSED vc_status vcd_world_analyze(vcd_world_analysis *a, const float *x, size_t n,
                                           const float *f0, const float *voicing, int T,
                                           float *log_env, float *ap);

#endif
