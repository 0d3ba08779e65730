/* Training batch assembly: see batch.h. */
#include "train/batch.h"

#include "model/audio_contract.h"

#include <math.h>
#include <string.h>

vc_status vct_scratch_init(vct_scratch *s, const vc_feature_set *fs, const vc_frontend_params *fp,
                           int envelope) {
    memset(s, 0, sizeof *s);
    int T_max = 1, F = fp->n_fft / 2 + 1;
    size_t n_max = 1;
    for (int i = 0; i < fs->n; i++) {
        if (fs->u[i].T > T_max) T_max = fs->u[i].T;
        if (fs->u[i].n_samples > n_max) n_max = fs->u[i].n_samples;
    }
    s->span_max = n_max; /* a span never exceeds its utterance, whatever the window */
    size_t frames = n_max / (size_t)fp->hop + 1;
    s->pitch = malloc(sizeof(float) * 2 * (size_t)T_max);
    s->audio = malloc(sizeof(float) * n_max);
    s->mag = malloc(sizeof(float) * frames * (size_t)F);
    s->span_f0 = malloc(sizeof(float) * 2 * frames);
    vc_status st = s->pitch && s->audio && s->mag && s->span_f0 ? VC_OK : VC_ERR_NOMEM;
    if (st == VC_OK && envelope)
        st = vcd_world_analysis_init(&s->wa, fp->sample_rate, fp->n_fft, fp->hop);
    if (st != VC_OK) vct_scratch_free(s);
    return st;
}

void vct_scratch_free(vct_scratch *s) {
    if (!s) return;
    free(s->pitch);
    free(s->audio);
    free(s->mag);
    free(s->span_f0);
    vcd_world_analysis_free(&s->wa);
    memset(s, 0, sizeof *s);
}

/* The span of u's audio whose STFT (or WORLD analysis) gives frames t .. t+T-1 as the whole
 * utterance's does (batch.h), as float in s->audio; returns its length, its first sample (a
 * multiple of hop) in *a_out. */
static size_t load_span(const vc_frontend_params *fp, const vc_utt_features *u, int t, int T,
                        vct_scratch *s, long *a_out) {
    int hop = fp->hop, half = fp->n_fft / 2;
    long k = (half + hop - 1) / hop; /* frames whose window reaches left of frame t's start */
    long a = ((long)t - k) * hop;
    if (a < 0) a = 0;
    long b = (long)(t + T - 1) * hop + half;
    if (b > (long)u->n_samples) b = (long)u->n_samples;
    size_t n = (size_t)(b - a);
    VC_ASSERT(n <= s->span_max);
    for (size_t i = 0; i < n; i++) s->audio[i] = (float)u->audio[(size_t)a + i] / 32767.0f;
    *a_out = a;
    return n;
}

vc_status vct_log_magnitude(vc_frontend *fe, const vc_utt_features *u, int t, int T, vct_scratch *s,
                            float *out) {
    const vc_frontend_params *fp = vc_frontend_params_of(fe);
    int F = vc_frontend_n_bins(fe);
    if (t < 0 || T < 1 || t + T > u->T) return VC_ERR_ARG;
    long a;
    size_t n = load_span(fp, u, t, T, s, &a);
    vc_status st = vc_frontend_magnitude(fe, s->audio, n, s->mag); // (frames, F)
    if (st != VC_OK) return st;
    int j0 = (int)(t - a / fp->hop); /* frame t of the utterance is frame j0 of the span */
    VC_ASSERT(j0 + T <= vc_frontend_n_frames(fe, n));
    /* out may be s->mag itself: memmove shifts in place */
    const float *src = s->mag + (size_t)j0 * (size_t)F;
    memmove(out, src, sizeof(float) * (size_t)T * (size_t)F);
    vcm_log_magnitude(out, (size_t)T * (size_t)F);
    return VC_OK;
}

vc_status vct_world_envelope(vc_frontend *fe, const vc_utt_features *u, int t, int T,
                             vct_scratch *s, float *out) {
    const vc_frontend_params *fp = vc_frontend_params_of(fe);
    int F = vc_frontend_n_bins(fe), hop = fp->hop;
    if (t < 0 || T < 1 || t + T > u->T || !s->wa.frame) return VC_ERR_ARG;
    long a;
    size_t n = load_span(fp, u, t, T, s, &a);
    int Tn = 1 + (int)(n / (size_t)hop), first = (int)(a / hop); /* the span's frames */
    VC_ASSERT(first + Tn <= u->T);
    for (int j = 0; j < Tn; j++) {
        s->span_f0[j] = u->f0[first + j];
        s->span_f0[Tn + j] = u->voicing[first + j];
    }
    vc_status st =
        vcd_world_analyze(&s->wa, s->audio, n, s->span_f0, s->span_f0 + Tn, Tn, s->mag, NULL);
    if (st != VC_OK) return st;
    int j0 = t - first; /* frame t of the utterance is frame j0 of the span */
    VC_ASSERT(j0 + T <= Tn);
    memmove(out, s->mag + (size_t)j0 * (size_t)F, sizeof(float) * (size_t)T * (size_t)F);
    return VC_OK;
}

vc_status vct_lin_target(vc_frontend *fe, const vc_utt_features *u, int t, int T, int envelope,
                         vct_scratch *s, float *out) {
    return envelope ? vct_world_envelope(fe, u, t, T, s, out)
                    : vct_log_magnitude(fe, u, t, T, s, out);
}

void vct_draw_item(const vc_feature_set *fs, const vct_speakers *s, int T, int Ts, int other_utt,
                   vc_rng *rng, vct_item *it) {
    int spk = (int)(vcu_rng_u32(rng) % (uint32_t)s->n);
    const int *utt = s->utt + s->start[spk];
    int n = s->start[spk + 1] - s->start[spk];
    int k = (int)(vcu_rng_u32(rng) % (uint32_t)n);
    it->u = utt[k];
    it->us = it->u;
    /* usable utterances are >= T frames, so these cannot fail */
    vc_status st = vci_features_sample_segment(fs, it->u, T, rng, &it->t);
    VC_ASSERT(st == VC_OK);
    if (other_utt && n > 1) { /* one of the n - 1 others, uniformly */
        int j = (int)(vcu_rng_u32(rng) % (uint32_t)(n - 1));
        it->us = utt[j >= k ? j + 1 : j];
    }
    st = vci_features_sample_segment(fs, it->us, Ts, rng, &it->ts);
    VC_ASSERT(st == VC_OK);
}

vc_status vct_fill_item(vc_frontend *fe, const vc_feature_set *fs, const vcm_model *m,
                        const vct_item *it, int b, int B, int T, int Ts, vct_scratch *s, float *x,
                        float *p, float *xs, float *lin) {
    const vc_utt_features *u = &fs->u[it->u];
    int M = fs->M, F = vc_frontend_n_bins(fe);
    VC_ASSERT(b >= 0 && b < B && it->t + T <= u->T);
    float *xb = x + (size_t)b * (size_t)M * (size_t)T;    // (M, T)
    float *xsb = xs + (size_t)b * (size_t)M * (size_t)Ts; // (M, Ts)
    for (int k = 0; k < M; k++) {
        const float *row = u->mel + (size_t)k * (size_t)u->T;
        for (int t = 0; t < T; t++) xb[(size_t)k * T + t] = vcm_mel_norm(m, k, row[it->t + t]);
    }
    const vc_utt_features *us = &fs->u[it->us];
    VC_ASSERT(it->ts + Ts <= us->T);
    for (int k = 0; k < M; k++) {
        const float *row = us->mel + (size_t)k * (size_t)us->T;
        for (int t = 0; t < Ts; t++) xsb[(size_t)k * Ts + t] = vcm_mel_norm(m, k, row[it->ts + t]);
    }
    /* pitch normalised over the whole utterance, then sliced: (2, T_utt) -> (2, T) */
    vcm_pitch_features(u->f0, u->voicing, u->T, s->pitch);
    float *pb = p + (size_t)b * 2 * (size_t)T;
    for (int c = 0; c < 2; c++)
        memcpy(pb + (size_t)c * T, s->pitch + (size_t)c * u->T + it->t, sizeof(float) * (size_t)T);
    /* the postnet's target (T, F), normalized and transposed to (F, T) */
    float *lb = lin + (size_t)b * (size_t)F * (size_t)T; // (F, T)
    vc_status st = vct_lin_target(fe, u, it->t, T, m->cfg.envelope, s, s->mag);
    if (st != VC_OK) return st;
    for (int t = 0; t < T; t++)
        for (int f = 0; f < F; f++)
            lb[(size_t)f * T + t] = vcm_lin_norm(m, f, s->mag[(size_t)t * F + f]);
    return VC_OK;
}

vc_status vct_lin_stats(vc_frontend *fe, const vc_feature_set *fs, const vct_item *items, int n,
                        int T, int envelope, vct_scratch *s, float *mean, float *std) {
    int F = vc_frontend_n_bins(fe);
    if (n < 1) return VC_ERR_ARG;
    double *sum = calloc((size_t)F * 2, sizeof(double));
    if (!sum) return VC_ERR_NOMEM;
    double *sum2 = sum + F;
    vc_status st = VC_OK;
    for (int i = 0; i < n && st == VC_OK; i++) {
        st = vct_lin_target(fe, &fs->u[items[i].u], items[i].t, T, envelope, s, s->mag);
        for (int t = 0; st == VC_OK && t < T; t++)
            for (int f = 0; f < F; f++) {
                double v = s->mag[(size_t)t * F + f];
                sum[f] += v;
                sum2[f] += v * v;
            }
    }
    if (st == VC_OK) {
        double cnt = (double)n * T;
        for (int f = 0; f < F; f++) {
            double mu = sum[f] / cnt, var = sum2[f] / cnt - mu * mu;
            mean[f] = (float)mu;
            std[f] = fmaxf((float)sqrt(var > 0 ? var : 0), VC_MEL_STD_FLOOR);
        }
    }
    free(sum);
    return st;
}
