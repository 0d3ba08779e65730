/* Source-filter shaping of a magnitude spectrogram; see excitation.h. */
#include "dsp/excitation.h"

#include <math.h>

#define HANN_ENERGY 1.5   /* 1 + 2 * 0.5^2: energy of the Hann transform over bins, W(0) = 1 */
#define UNVOICED_SPAN 4.0 /* bins averaged for the envelope of an unvoiced frame */
#define HARMONIC_FULL_HZ 3000.0f /* fully harmonic below this (times the voicing) */
#define HARMONIC_TOP_SHARE 0.3f  /* harmonic share at the top bin */

static double sinc(double x) {
    return fabs(x) < 1e-9 ? 1.0 : sin(0.5 * VC_TWO_PI * x) / (0.5 * VC_TWO_PI * x);
}

/* |W(d)| of a Hann window at d bins from a sinusoid, normalised to W(0) = 1 (main lobe). */
static float hann_lobe(double d) {
    if (fabs(d) >= 2.0) return 0.0f;
    return (float)fabs(sinc(d) + 0.5 * sinc(d - 1.0) + 0.5 * sinc(d + 1.0));
}

void vcd_excitation_shape(float *mag, int T, int F, const float *f0, const float *voicing,
                          float bin_hz, float *scratch) {
    float *env = scratch, *cum = scratch + F; // (F) envelope, (F) power prefix sums
    for (int t = 0; t < T; t++) {
        float *row = mag + (size_t)t * F;
        int voiced = f0[t] > 0.0f;
        double s = voiced ? f0[t] / bin_hz : UNVOICED_SPAN; /* harmonic spacing in bins */
        /* envelope: mean power over a window one spacing wide (prefix sums of the power) */
        double acc = 0.0;
        for (int k = 0; k < F; k++) {
            acc += (double)row[k] * row[k];
            cum[k] = (float)acc;
        }
        int half = (int)(0.5 * s + 0.5);
        for (int k = 0; k < F; k++) {
            int lo = k - half - 1, hi = k + half < F ? k + half : F - 1;
            double sum = cum[hi] - (lo >= 0 ? cum[lo] : 0.0);
            env[k] = (float)sqrt(fmax(sum, 0.0) / (hi - (lo >= 0 ? lo : -1)));
        }
        float v = voiced ? fminf(fmaxf(voicing[t], 0.0f), 1.0f) : 0.0f;
        if (v <= 0.0f) {
            for (int k = 0; k < F; k++) row[k] = env[k];
            continue;
        }
        float norm = (float)sqrt(s / HANN_ENERGY);
        for (int k = 0; k < F; k++) {
            /* harmonics within the main lobe of bin k: h in (k - 2, k + 2) / s */
            double comb = 0.0;
            int h0 = (int)ceil((k - 2.0) / s), h1 = (int)floor((k + 2.0) / s);
            for (int h = h0 > 1 ? h0 : 1; h <= h1; h++) comb += hann_lobe(k - h * s);
            double c = comb * norm;
            /* above HARMONIC_FULL_HZ the harmonic share falls linearly to HARMONIC_TOP_SHARE at
             * the top bin: speech is less periodic high up */
            float fk = (float)k * bin_hz, top = (float)(F - 1) * bin_hz;
            float share = fk <= HARMONIC_FULL_HZ
                              ? 1.0f
                              : 1.0f - (1.0f - HARMONIC_TOP_SHARE) * (fk - HARMONIC_FULL_HZ) /
                                           fmaxf(top - HARMONIC_FULL_HZ, 1.0f);
            float vk = v * share;
            row[k] = env[k] * (float)sqrt(vk * c * c + (1.0f - vk));
        }
    }
}
