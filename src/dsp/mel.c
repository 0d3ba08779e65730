/* Slaney mel filterbank (librosa.filters.mel, htk=False, norm="slaney"), its projection of a
 * magnitude spectrum and a non-negative least-squares inverse. */
#include "dsp/mel.h"

#include <math.h>
#include <string.h>

/* Slaney scale: linear (200/3 Hz per mel) below 1 kHz, logarithmic above, with 27 mels per
 * factor 6.4 (librosa.hz_to_mel, htk=False). */
#define MEL_F_SP (200.0 / 3.0)
#define MEL_MIN_LOG_HZ 1000.0
#define MEL_MIN_LOG_MEL (MEL_MIN_LOG_HZ / MEL_F_SP)
#define MEL_LOGSTEP (log(6.4) / 27.0)

double vcd_mel_from_hz(double hz) {
    if (hz >= MEL_MIN_LOG_HZ) return MEL_MIN_LOG_MEL + log(hz / MEL_MIN_LOG_HZ) / MEL_LOGSTEP;
    return hz / MEL_F_SP;
}

double vcd_hz_from_mel(double mel) {
    if (mel >= MEL_MIN_LOG_MEL) return MEL_MIN_LOG_HZ * exp(MEL_LOGSTEP * (mel - MEL_MIN_LOG_MEL));
    return mel * MEL_F_SP;
}

vc_status vcd_melbank_init(melbank *mb, int sample_rate, int n_fft, int n_mels, float fmin,
                           float fmax) {
    if (!mb) return VC_ERR_ARG;
    memset(mb, 0, sizeof *mb);
    if (sample_rate <= 0 || n_fft < 2 || n_fft % 2 != 0 || n_mels < 1) return VC_ERR_ARG;
    if (!(fmin >= 0.0f && fmin < fmax && fmax <= 0.5f * (float)sample_rate)) return VC_ERR_ARG;
    const int M = n_mels, F = n_fft / 2 + 1;
    double *hz = malloc(sizeof(double) * (size_t)(M + 2)); // (M + 2) band edges and centres
    mb->w = calloc((size_t)M * (size_t)F, sizeof(float));
    mb->lo = malloc(sizeof(int) * (size_t)M);
    mb->hi = malloc(sizeof(int) * (size_t)M);
    if (!hz || !mb->w || !mb->lo || !mb->hi) {
        free(hz);
        vcd_melbank_free(mb);
        return VC_ERR_NOMEM;
    }
    mb->M = M;
    mb->F = F;
    /* M + 2 points evenly spaced in mel between fmin and fmax: band m rises from hz[m] to
     * hz[m + 1] and falls to hz[m + 2]. */
    const double mel_lo = vcd_mel_from_hz(fmin), mel_hi = vcd_mel_from_hz(fmax);
    for (int i = 0; i < M + 2; i++)
        hz[i] = vcd_hz_from_mel(mel_lo + (mel_hi - mel_lo) * (double)i / (double)(M + 1));
    for (int i = 0; i + 1 < M + 2; i++) {
        if (!(hz[i + 1] > hz[i])) { /* too many bands for the range: triangles degenerate */
            free(hz);
            vcd_melbank_free(mb);
            return VC_ERR_ARG;
        }
    }
    const double bin_hz = (double)sample_rate / (double)n_fft;
    int lo = 0; /* carried over from the previous band: lo only moves forward */
    for (int m = 0; m < M; m++) {
        const double left = hz[m], centre = hz[m + 1], right = hz[m + 2];
        const double enorm = 2.0 / (right - left);  /* slaney: unit area per band */
        float *row = mb->w + (size_t)m * (size_t)F; // (F)
        /* The weight is > 0 exactly for left < f_hz < right (both ramps positive), so lo and hi
         * are the first bins past those edges; hz increasing makes both non-decreasing in m,
         * which vcd_mel_to_magnitude relies on. */
        while (lo < F && !((double)lo * bin_hz > left)) lo++;
        int hi = lo;
        while (hi < F && (double)hi * bin_hz < right) hi++;
        for (int f = lo; f < hi; f++) {
            const double fhz = (double)f * bin_hz;
            const double lower = (fhz - left) / (centre - left);
            const double upper = (right - fhz) / (right - centre);
            row[f] = (float)(enorm * (lower < upper ? lower : upper));
        }
        mb->lo[m] = lo;
        mb->hi[m] = hi;
    }
    free(hz);
    return VC_OK;
}

void vcd_melbank_free(melbank *mb) {
    if (!mb) return;
    free(mb->w);
    free(mb->lo);
    free(mb->hi);
    memset(mb, 0, sizeof *mb);
}

void vcd_mel_forward(const melbank *mb, float *mel, const float *mag, int T) {
    VC_ASSERT(mb && mel && mag && T >= 0);
    const int M = mb->M, F = mb->F;
    for (int t = 0; t < T; t++) {
        const float *x = mag + (size_t)t * (size_t)F; // (F)
        float *y = mel + (size_t)t * (size_t)M;       // (M)
        for (int m = 0; m < M; m++) {
            const float *row = mb->w + (size_t)m * (size_t)F; // (F)
            float acc = 0.0f;
            for (int f = mb->lo[m]; f < mb->hi[m]; f++) acc += row[f] * x[f];
            y[m] = acc;
        }
    }
}

void vcd_mel_log_forward(const melbank *mb, float *log_mel, const float *mag, int T) {
    vcd_mel_forward(mb, log_mel, mag, T);
    const size_t count = (size_t)T * (size_t)mb->M;
    for (size_t i = 0; i < count; i++)
        log_mel[i] = logf(log_mel[i] > VC_LOG_FLOOR ? log_mel[i] : VC_LOG_FLOOR);
}

/* Target mel value from a log-mel entry, clamped so that NaN cannot propagate and the float
 * arithmetic below cannot overflow. Audio in [-1, 1] has |X| <= n_fft/2 per bin, so real
 * log-mels stay below about 10; 30 (1e13) is far above any of them. */
static float mel_target(float log_mel) {
    float v = log_mel;
    if (!(v > -100.0f)) v = -100.0f;
    if (v > 30.0f) v = 30.0f;
    return expf(v);
}

/* Multiplicative updates x <- x * (W^T y) / (W^T W x + eps) for one frame. W^T y does not
 * change across iterations, so it is computed once; each iteration is then two sparse passes
 * over the bands' lo..hi ranges (W x, then W^T of it), and W^T W is never formed. All bins are
 * updated from the same W x (a simultaneous update), which keeps the usual monotone decrease of
 * the objective. */
vc_status vcd_mel_to_magnitude(const melbank *mb, float *mag, const float *log_mel, int T,
                               int iters) {
    VC_ASSERT(mb && mag && log_mel && T >= 0 && iters >= 0);
    const int M = mb->M, F = mb->F;
    float *num = malloc(sizeof(float) * (size_t)F); // (F) W^T y
    float *den = malloc(sizeof(float) * (size_t)F); // (F) W^T W x
    float *wx = malloc(sizeof(float) * (size_t)M);  // (M) W x
    if (!num || !den || !wx) {
        free(num), free(den), free(wx);
        return VC_ERR_NOMEM;
    }
    for (int t = 0; t < T; t++) {
        float *x = mag + (size_t)t * (size_t)F;            // (F)
        const float *lm = log_mel + (size_t)t * (size_t)M; // (M)
        memset(num, 0, sizeof(float) * (size_t)F);
        for (int m = 0; m < M; m++) {
            const float *row = mb->w + (size_t)m * (size_t)F; // (F)
            const float y = mel_target(lm[m]);
            for (int f = mb->lo[m]; f < mb->hi[m]; f++) num[f] += row[f] * y;
        }
        /* Starting from all-ones, the first update is the per-bin scaled back-projection
         * (W^T y) / (W^T W 1): positive wherever a band covers the bin, and at the right scale.
         * A bin outside every band has num = 0 and stays 0. */
        for (int f = 0; f < F; f++) x[f] = 1.0f;
        for (int it = 0; it <= iters; it++) {
            memset(den, 0, sizeof(float) * (size_t)F);
            for (int m = 0; m < M; m++) {
                const float *row = mb->w + (size_t)m * (size_t)F; // (F)
                float acc = 0.0f;
                for (int f = mb->lo[m]; f < mb->hi[m]; f++) acc += row[f] * x[f];
                wx[m] = acc;
            }
            for (int m = 0; m < M; m++) {
                const float *row = mb->w + (size_t)m * (size_t)F; // (F)
                for (int f = mb->lo[m]; f < mb->hi[m]; f++) den[f] += row[f] * wx[m];
            }
            /* den >= sum_m w[m][f]^2 x[f], so x[f] stays below num[f] / sum_m w[m][f]^2. */
            for (int f = 0; f < F; f++) x[f] *= num[f] / (den[f] + 1e-30f);
        }
    }
    free(num), free(den), free(wx);
    return VC_OK;
}
