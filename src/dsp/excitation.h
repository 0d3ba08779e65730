/* Source-filter shaping of a magnitude spectrogram: a smooth spectral envelope times a
 * harmonic comb at a given F0, mixed with noise by the voicing.
 *
 * The model's linear spectrum is an L1 (median) estimate: it has the envelope of the target
 * voice but blurs the harmonics, whose positions depend on an absolute F0 the decoder only sees
 * as a normalised contour. At conversion the F0 is known exactly (the source's contour in the
 * target's key), so the harmonics are drawn explicitly here and Griffin-Lim only has to find
 * phases for a spectrum that is already voiced:
 *
 *   E_t(k)   = sqrt of the power of mag_t averaged over a harmonic spacing around bin k
 *   comb_t(k) = sum_h |W(k - h s_t)| * sqrt(s_t / 1.5)
 *              W the Hann window's transform with W(0) = 1 (main lobe, +-2 bins), s_t =
 *              f0_t / bin_hz the spacing in bins; 1.5 = the energy of W over bins, so comb^2
 *              averages 1 over a spacing
 *   out_t(k)  = E_t(k) sqrt(v_tk comb_t(k)^2 + (1 - v_tk)),  v_tk = v_t a(k)
 *
 * with a(k) = 1 up to 3 kHz, falling linearly to 0.3 at the top bin (speech is less periodic
 * high up; all-harmonic upper bands sound buzzy). Every frame keeps its power per band, and
 * voicing moves it between harmonics and noise. */
#ifndef VC_DSP_EXCITATION_H
#define VC_DSP_EXCITATION_H

#include "common.h"

/* mag (T, F) frame-major is rewritten in place; f0 (T) in Hz (<= 0: unvoiced), voicing (T) in
 * [0, 1]; bin_hz = sample_rate / n_fft. scratch: (2 F) floats. */
void vcd_excitation_shape(float *mag, int T, int F, const float *f0, const float *voicing,
                          float bin_hz, float *scratch);

#endif
