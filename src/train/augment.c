/* Speaker augmentation; see augment.h. */
#include "train/augment.h"

#include "dsp/mel.h"
#include "train/dist.h"

#include <math.h>
#include <string.h>

vc_status vct_augment_init(vct_augment *a, const vci_run *run, int M, float fmin, float fmax,
                           int T) {
    memset(a, 0, sizeof *a);
    a->warp = run->augment_warp;
    a->pitch = run->augment_pitch;
    a->eq_db = run->augment_eq_db;
    a->on = a->warp > 0 || a->pitch > 0 || a->eq_db > 0;
    a->M = M;
    a->T = T;
    if (!a->on) return VC_OK;
    if (M < 2 || T < 1 || !(fmax > fmin)) return VC_ERR_ARG;
    a->mel_lo = vcd_mel_from_hz(fmin);
    a->mel_step = (vcd_mel_from_hz(fmax) - vcd_mel_from_hz(fmin)) / (M + 1);
    a->buf = malloc(sizeof(float) * (size_t)M * (size_t)T);
    a->env = malloc(sizeof(float) * (size_t)M * (size_t)T);
    a->lm = malloc(sizeof(float) * (size_t)M * (size_t)T);
    if (!a->buf || !a->env || !a->lm) {
        vct_augment_free(a);
        return VC_ERR_NOMEM;
    }
    return VC_OK;
}

void vct_augment_free(vct_augment *a) {
    if (!a) return;
    free(a->buf);
    free(a->env);
    free(a->lm);
    memset(a, 0, sizeof *a);
}

/* out (M, T) += in (M, T) read at frequencies f_m / factor (linear between band centres on
 * the mel scale, the end bands held beyond them). */
static void warp_add(const vct_augment *a, float factor, const float *in, float *out, int T) {
    int M = a->M;
    for (int m = 0; m < M; m++) {
        double hz = vcd_hz_from_mel(a->mel_lo + (m + 1) * a->mel_step) / factor;
        double pos = (vcd_mel_from_hz(hz) - a->mel_lo) / a->mel_step - 1.0; /* fractional band */
        if (pos < 0) pos = 0;
        if (pos > M - 1) pos = M - 1;
        int i = (int)pos;
        if (i > M - 2) i = M - 2;
        float w = (float)(pos - i);
        const float *r0 = in + (size_t)i * T, *r1 = r0 + T;
        float *o = out + (size_t)m * T;
        for (int t = 0; t < T; t++) o[t] += (1.0f - w) * r0[t] + w * r1[t];
    }
}

void vct_augment_log_mel(vct_augment *a, float alpha, float ratio, const float *eq, const float *in,
                         float *out, int T) {
    int M = a->M, K = VCT_AUG_ENV_BANDS;
    VC_ASSERT(T <= a->T && in != out);
    /* 1. envelope + fine structure moved by ratio, into buf */
    for (int m = 0; m < M; m++) {
        int lo = m - K < 0 ? 0 : m - K, hi = m + K > M - 1 ? M - 1 : m + K;
        float *e = a->env + (size_t)m * T;
        for (int t = 0; t < T; t++) {
            float s = 0;
            for (int j = lo; j <= hi; j++) s += in[(size_t)j * T + t];
            e[t] = s / (float)(hi - lo + 1);
        }
    }
    memcpy(a->buf, a->env, sizeof(float) * (size_t)M * T);
    for (size_t i = 0; i < (size_t)M * T; i++) a->env[i] = in[i] - a->env[i]; /* fine */
    warp_add(a, ratio, a->env, a->buf, T);
    /* 2. the whole warped by alpha */
    memset(out, 0, sizeof(float) * (size_t)M * T);
    warp_add(a, alpha, a->buf, out, T);
    /* 3. EQ: dB of amplitude to natural log (the features are log magnitudes) */
    if (!eq) return;
    for (int m = 0; m < M; m++) {
        double g = 0;
        for (int k = 0; k < VCT_AUG_EQ_TERMS; k++)
            g += eq[k] * cos(VC_TWO_PI * 0.5 * k * m / (M - 1));
        float gl = (float)(g / VCT_AUG_EQ_TERMS * log(10.0) / 20.0);
        float *o = out + (size_t)m * T;
        for (int t = 0; t < T; t++) o[t] += gl;
    }
}

void vct_mel_denorm(const float *mean, const float *std, const float *x, float *lm, int M, int T) {
    for (int m = 0; m < M; m++)
        for (int t = 0; t < T; t++) lm[(size_t)m * T + t] = x[(size_t)m * T + t] * std[m] + mean[m];
}

void vct_mel_norm(const float *mean, const float *std, const float *lm, float *x, int M, int T) {
    for (int m = 0; m < M; m++) {
        float mu = mean[m], inv = 1.0f / std[m];
        for (int t = 0; t < T; t++) x[(size_t)m * T + t] = (lm[(size_t)m * T + t] - mu) * inv;
    }
}

void vct_augment_batch(vct_augment *a, vc_rng *rng, const float *mean, const float *std,
                       const float *x, float *xc, int B, int b0, int nb, int T) {
    if (!a->on) return;
    int M = a->M;
    VC_ASSERT(T <= a->T && x != xc && b0 >= 0 && nb >= 0 && b0 + nb <= B);
    for (int b = 0; b < B; b++) {
        float alpha = 1.0f, ratio = 1.0f, eq[VCT_AUG_EQ_TERMS];
        if (a->warp > 0) alpha = 1.0f + a->warp * (2.0f * vcu_rng_uniform(rng) - 1.0f);
        if (a->pitch > 0)
            ratio = powf(2.0f, a->pitch * (2.0f * vcu_rng_uniform(rng) - 1.0f) / 12.0f);
        for (int k = 0; a->eq_db > 0 && k < VCT_AUG_EQ_TERMS; k++)
            eq[k] = a->eq_db * (2.0f * vcu_rng_uniform(rng) - 1.0f);
        if (!vct_dist_is_mine(b, b0, nb)) continue; /* another rank's item: drawn, not applied */
        float *cb = xc + (size_t)(b - b0) * M * T;
        vct_mel_denorm(mean, std, x + (size_t)(b - b0) * M * T, a->lm, M, T);
        vct_augment_log_mel(a, alpha, ratio, a->eq_db > 0 ? eq : NULL, a->lm, cb, T);
        vct_mel_norm(mean, std, cb, cb, M, T);
    }
}
