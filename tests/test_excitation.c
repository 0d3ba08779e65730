/* Source-filter shaping (vcd_excitation_shape): power per band is kept, voiced frames get their
 * peaks at the harmonics of the given F0 and their valleys between them, unvoiced frames are
 * the smooth envelope, and the voicing mixes the two. */
#include "dsp/excitation.h"
#include "test.h"

#define F 513
#define BIN_HZ 15.625f /* 16 kHz / 1024 */

/* Power of row over bins [lo, hi). */
static double band_power(const float *row, int lo, int hi) {
    double s = 0.0;
    for (int k = lo; k < hi; k++) s += (double)row[k] * row[k];
    return s;
}

int main(void) {
    enum { T = 4 };
    static float mag[T * F], orig[T * F], scratch[2 * F];
    /* a sloping envelope with a formant-like bump, the same in every frame */
    for (int t = 0; t < T; t++)
        for (int k = 0; k < F; k++)
            orig[t * F + k] = mag[t * F + k] =
                (float)(exp(-k / 200.0) * (1.0 + 2.0 * exp(-0.5 * pow((k - 60) / 15.0, 2))));
    const float f0[T] = {125.0f, 0.0f, 210.0f, 125.0f}, voicing[T] = {1.0f, 0.0f, 1.0f, 0.5f};
    vcd_excitation_shape(mag, T, F, f0, voicing, BIN_HZ, scratch);

    int finite = 1;
    for (int i = 0; i < T * F; i++) finite &= isfinite(mag[i]) && mag[i] >= 0.0f;
    CHECK(finite);
    /* Power kept within 5% in bands of 8 harmonic spacings, from mid-way between two
     * harmonics to mid-way between two others (bands that cut a harmonic peak would count part
     * of it); in unvoiced frame 1, in bands of 64 bins. */
    for (int t = 0; t < T; t++) {
        double sp = f0[t] > 0.0f ? f0[t] / BIN_HZ : 8.0;
        for (int h = 1; (h + 8.5) * sp < F; h += 8) {
            int lo = (int)lround((h + 0.5) * sp), hi = (int)lround((h + 8.5) * sp);
            double ratio = band_power(mag + t * F, lo, hi) / band_power(orig + t * F, lo, hi);
            if (fabs(ratio - 1.0) > 0.05)
                fprintf(stderr, "frame %d bins %d-%d: power ratio %.3f\n", t, lo, hi, ratio);
            CHECK(fabs(ratio - 1.0) <= 0.05);
        }
    }
    /* voiced frame 0 (125 Hz = 8 bins): peaks at harmonics, deep valleys half-way */
    for (int h = 2; h < 30; h++) {
        int k = h * 8, v = k + 4;
        CHECK(mag[k] > 4.0f * mag[v]);
        CHECK(mag[k] > mag[k - 1] && mag[k] > mag[k + 1]);
    }
    /* frame 2 at 210 Hz (13.44 bins): the largest bin near each harmonic is the nearest one */
    for (int h = 1; h < 20; h++) {
        double c = h * 210.0 / BIN_HZ;
        int best = (int)c - 2;
        for (int k = (int)c - 2; k <= (int)c + 3; k++)
            if (mag[2 * F + k] > mag[2 * F + best]) best = k;
        CHECK(abs(best - (int)lround(c)) == 0);
    }
    /* unvoiced frame 1: smooth, within 5% of the envelope away from the bump's edges */
    double worst = 0.0;
    for (int k = 100; k < 500; k++) worst = fmax(worst, fabs(mag[F + k] / orig[F + k] - 1.0));
    CHECK(worst < 0.05);
    /* half-voiced frame 3: valleys filled (by the noise share), peaks lower than frame 0's */
    for (int h = 2; h < 30; h++) {
        int k = h * 8, v = k + 4;
        CHECK(mag[3 * F + v] > 0.6f * orig[3 * F + v]);
        CHECK(mag[3 * F + k] < mag[k]);
    }
    return test_finish();
}
