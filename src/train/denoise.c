/* Denoising training; see denoise.h. */
#include "train/denoise.h"

#include "dsp/mel.h"
#include "train/augment.h"
#include "train/dist.h"

#include <math.h>
#include <string.h>

vc_status vct_denoise_init(vct_denoise *d, const vci_run *run, const vc_frontend_params *fp, int T,
                           const vc_feature_set *fs, const int *pool, int n_pool) {
    memset(d, 0, sizeof *d);
    d->prob = run->denoise;
    d->on = d->prob > 0;
    if (!d->on) return VC_OK;
    int M = fp->n_mels;
    if (M < 1 || T < 1 || !(fp->fmax > fp->fmin) || !fs || !pool || n_pool < 1) return VC_ERR_ARG;
    d->M = M;
    d->T = T;
    d->frame_s = (float)fp->hop / (float)fp->sample_rate;
    d->fs = fs;
    d->pool = pool;
    d->n_pool = n_pool;
    d->pink = malloc(sizeof(float) * (size_t)M);
    d->shape = malloc(sizeof(float) * (size_t)M);
    d->e = malloc(sizeof(float) * (size_t)M * (size_t)T);
    d->n = malloc(sizeof(float) * (size_t)M * (size_t)T);
    d->lm = malloc(sizeof(float) * (size_t)M * (size_t)T);
    if (!d->pink || !d->shape || !d->e || !d->n || !d->lm) {
        vct_denoise_free(d);
        return VC_ERR_NOMEM;
    }
    /* band m's triangle spans the centres of bands m - 1 and m + 1 (mel.h) */
    double lo = vcd_mel_from_hz(fp->fmin), step = (vcd_mel_from_hz(fp->fmax) - lo) / (M + 1);
    double bin_hz = (double)fp->sample_rate / fp->n_fft, f1 = vcd_hz_from_mel(lo + step);
    for (int m = 0; m < M; m++) {
        double a = vcd_hz_from_mel(lo + m * step), c = vcd_hz_from_mel(lo + (m + 1) * step);
        double b = vcd_hz_from_mel(lo + (m + 2) * step);
        d->pink[m] = (float)(f1 / c);
        double k = 0.5 * (b - a) / bin_hz;
        d->shape[m] = (float)(k > 1 ? k : 1);
    }
    return VC_OK;
}

void vct_denoise_free(vct_denoise *d) {
    if (!d) return;
    free(d->pink);
    free(d->shape);
    free(d->e);
    free(d->n);
    free(d->lm);
    memset(d, 0, sizeof *d);
}

void vct_denoise_draw(const vct_denoise *d, vc_rng *rng, vct_noise_draw *dr) {
    float u_on = vcu_rng_uniform(rng), u_kind = vcu_rng_uniform(rng);
    float u_snr = vcu_rng_uniform(rng), u_rev = vcu_rng_uniform(rng);
    float u_rt = vcu_rng_uniform(rng);
    uint64_t hi = vcu_rng_u32(rng), lo = vcu_rng_u32(rng);
    dr->on = u_on < d->prob;
    dr->kind = (int)(u_kind * VCT_NOISE_KINDS); /* u < 1, so kind < VCT_NOISE_KINDS */
    dr->snr_db = VCT_DENOISE_SNR_MAX_DB * u_snr;
    dr->rt60 = u_rev < VCT_DENOISE_REVERB_SHARE
                   ? VCT_DENOISE_RT60_MIN + (VCT_DENOISE_RT60_MAX - VCT_DENOISE_RT60_MIN) * u_rt
                   : 0.0f;
    dr->seed = hi << 32 | lo;
}

/* A gamma draw of shape k >= 1 and mean 1 (Marsaglia and Tsang). */
static float gamma_unit(vc_rng *r, float k) {
    float dd = k - 1.0f / 3.0f, c = 1.0f / sqrtf(9.0f * dd);
    for (;;) {
        float x = vcu_rng_normal(r), v = 1.0f + c * x;
        if (v <= 0) continue;
        v = v * v * v;
        float u = vcu_rng_uniform(r);
        if (u > 0 && logf(u) < 0.5f * x * x + dd - dd * v + dd * logf(v)) return dd * v / k;
    }
}

/* d->n (M, T): the noise band powers of kind, from the noise's own stream r. */
static void make_noise(vct_denoise *d, int kind, vc_rng *r, int T) {
    int M = d->M;
    if (kind != VCT_NOISE_BABBLE) {
        for (int m = 0; m < M; m++) {
            float level = kind == VCT_NOISE_PINK ? d->pink[m] : 1.0f;
            for (int t = 0; t < T; t++)
                d->n[(size_t)m * T + t] = level * gamma_unit(r, d->shape[m]);
        }
        return;
    }
    memset(d->n, 0, sizeof(float) * (size_t)M * T);
    int talkers = VCT_DENOISE_BABBLE_MIN +
                  (int)(vcu_rng_u32(r) % (VCT_DENOISE_BABBLE_MAX - VCT_DENOISE_BABBLE_MIN + 1));
    for (int k = 0; k < talkers; k++) {
        const vc_utt_features *u = &d->fs->u[d->pool[vcu_rng_u32(r) % (uint32_t)d->n_pool]];
        int start = (int)(vcu_rng_u32(r) % (uint32_t)u->T);
        for (int m = 0; m < M; m++)
            for (int t = 0; t < T; t++)
                d->n[(size_t)m * T + t] +=
                    expf(2.0f * u->mel[(size_t)m * u->T + (start + t) % u->T]);
    }
}

void vct_denoise_log_mel(vct_denoise *d, const vct_noise_draw *dr, float *lm, int T,
                         float *noise_out) {
    if (!dr->on) return;
    int M = d->M;
    VC_ASSERT(T <= d->T);
    float *e = d->e, *n = d->n;
    for (size_t i = 0; i < (size_t)M * T; i++) e[i] = expf(2.0f * lm[i]);
    if (dr->rt60 > 0) { /* 60 dB of power decay over rt60 */
        float a = powf(10.0f, -6.0f * d->frame_s / dr->rt60);
        for (int m = 0; m < M; m++) {
            float *row = e + (size_t)m * T, r = 0, prev = row[0];
            for (int t = 1; t < T; t++) {
                r = a * (r + prev);
                prev = row[t];
                row[t] += (1.0f - a) * r;
            }
        }
    }
    vc_rng r;
    vcu_rng_seed(&r, dr->seed);
    make_noise(d, dr->kind, &r, T);
    /* the SNR over the active frames of the (reverberant) speech */
    double top = 0;
    for (int t = 0; t < T; t++) {
        double s = 0;
        for (int m = 0; m < M; m++) s += e[(size_t)m * T + t];
        if (s > top) top = s;
    }
    double floor_pow = top * pow(10.0, -VCT_DENOISE_ACTIVE_DB / 10.0), S = 0, N = 0;
    for (int t = 0; t < T; t++) {
        double s = 0, z = 0;
        for (int m = 0; m < M; m++) s += e[(size_t)m * T + t], z += n[(size_t)m * T + t];
        if (s >= floor_pow) S += s, N += z;
    }
    float g = N > 0 ? (float)(S / (N * pow(10.0, dr->snr_db / 10.0))) : 0.0f;
    for (size_t i = 0; i < (size_t)M * T; i++) {
        float gn = g * n[i];
        lm[i] = 0.5f * logf(e[i] + gn);
        if (noise_out) noise_out[i] = gn;
    }
}

/* One normalised input (M, T) corrupted through d->lm. */
static void corrupt_normalised(vct_denoise *d, const vct_noise_draw *dr, const float *mean,
                               const float *std, float *x, int T) {
    if (!dr->on) return;
    vct_mel_denorm(mean, std, x, d->lm, d->M, T);
    vct_denoise_log_mel(d, dr, d->lm, T, NULL);
    vct_mel_norm(mean, std, d->lm, x, d->M, T);
}

void vct_denoise_batch(vct_denoise *d, vc_rng *rng, const float *mean, const float *std, float *xc,
                       int T, float *xs, int Ts, int B, int b0, int nb) {
    if (!d->on) return;
    VC_ASSERT(T <= d->T && Ts <= d->T && b0 >= 0 && nb >= 0 && b0 + nb <= B);
    for (int b = 0; b < B; b++) {
        vct_noise_draw dc, ds;
        vct_denoise_draw(d, rng, &dc);
        vct_denoise_draw(d, rng, &ds);
        if (!vct_dist_is_mine(b, b0, nb)) continue; /* another rank's item: drawn, not applied */
        corrupt_normalised(d, &dc, mean, std, xc + (size_t)(b - b0) * d->M * T, T);
        corrupt_normalised(d, &ds, mean, std, xs + (size_t)(b - b0) * d->M * Ts, Ts);
    }
}
