/* The target voice from reference audio (vc_voice_from_audio):
 *
 *   per reference   prepare (resample, level, trim) -> pitch statistics over its voiced frames
 *                   -> windows of at most VOICE_WINDOW frames: speaker embedding (weighted by
 *                   frames) and the moments of the fast part of each bin's log-magnitude
 *                   and, for frame matching (convert/match.h), each frame's content features
 *                   (the content encoder over the same windows) and its WORLD envelope and
 *                   aperiodicity (analysed at the tracker's F0), appended to the pool
 *   over them all   embedding = frame-weighted mean; log-F0 mean and spread over every voiced
 *                   frame; each bin's fast log-magnitude std (what match_dynamics restores)
 */
#include "convert/convert.h"
#include "convert/match.h"

#include "dsp/frontend.h"
#include "dsp/stft.h"
#include "dsp/world_analysis.h"
#include "model/audio_contract.h"

#include <math.h>
#include <string.h>

#define VOICE_WINDOW 1024 /* frames per speaker-embedding pass (16 s at hop 256) */
#define MIN_REFERENCE_SECONDS 0.5
#define SHORT_REFERENCE_SECONDS 1.0 /* below this a reference is used, with a warning */

/* Sums over every reference, and the scratch of one window. */
typedef struct voice_acc {
    int S, M, F;
    double *emb;  // (S) frame-weighted sum of embeddings
    double *lsum; // (2, F) sum and sum of squares of the fast log-magnitude
    double frames, seconds;
    double s1, s2; /* sum and sum of squares of log F0 over voiced frames */
    long voiced;
    float *spk;       // (S)
    float *tm;        // (VOICE_WINDOW, M) log-mel
    float *xs;        // (M, VOICE_WINDOW) model input
    float *mag;       // (VOICE_WINDOW, F) log-magnitude, then its fast part
    float *slow;      // (VOICE_WINDOW, F)
    double *dscratch; // (VOICE_WINDOW + 1)
    double *nscratch; // (2 (VOICE_WINDOW + 1)) the hidden state's normalisation
    float *hwork;     // (C, VOICE_WINDOW)
    int *codes;       // (VOICE_WINDOW / 2)
    void *block;      /* the one allocation behind every array above */
    vc_frontend *fe;
    vcm_workspace ws;
    vcd_world_analysis an;
    vc_voice_frames *pool; /* handed to the voice when complete */
} voice_acc;

static void acc_free(voice_acc *a) {
    vcm_workspace_free(&a->ws);
    vc_frontend_free(a->fe);
    vcd_world_analysis_free(&a->an);
    vcc_pool_free(a->pool);
    free(a->block);
    memset(a, 0, sizeof *a);
}

static vc_status acc_init(voice_acc *a, const vc_model *vm) {
    memset(a, 0, sizeof *a);
    const vcm_model *m = &vm->m;
    a->S = m->cfg.spk_dim, a->M = m->cfg.n_mels, a->F = m->cfg.n_bins;
    size_t W = VOICE_WINDOW, S = (size_t)a->S, M = (size_t)a->M, F = (size_t)a->F;
    size_t C = (size_t)m->cfg.channels;
    size_t nd = S + 2 * F + W + 1 + 2 * (W + 1), nf = S + 2 * W * M + 2 * W * F + C * W;
    a->block = calloc(nd * sizeof(double) + nf * sizeof(float) + W / 2 * sizeof(int), 1);
    if (!a->block) return VC_ERR_NOMEM;
    a->emb = a->block;
    a->lsum = a->emb + S;
    a->dscratch = a->lsum + 2 * F;
    a->nscratch = a->dscratch + W + 1;
    a->spk = (float *)(a->nscratch + 2 * (W + 1));
    a->tm = a->spk + S;
    a->xs = a->tm + W * M;
    a->mag = a->xs + W * M;
    a->slow = a->mag + W * F;
    a->hwork = a->slow + W * F;
    a->codes = (int *)(a->hwork + C * W);
    vc_status st = vc_frontend_init(&vm->fp, &a->fe);
    if (st == VC_OK) st = vcm_workspace_init(&a->ws, m, 1, VOICE_WINDOW, VOICE_WINDOW);
    a->ws.norm_window = VCM_TRAIN_FRAMES; /* the content features as conversion computes them */
    if (st == VC_OK)
        st = vcd_world_analysis_init(&a->an, vm->fp.sample_rate, vm->fp.n_fft, vm->fp.hop);
    if (st == VC_OK) st = vcc_pool_init(&a->pool, m->cfg.code_dim, m->cfg.channels, a->M, a->F);
    if (st != VC_OK) acc_free(a);
    return st;
}

/* log-F0 sums over the voiced frames of f0 (T). */
static void add_pitch(voice_acc *a, const float *f0, int T) {
    for (int t = 0; t < T; t++)
        if (f0[t] > 0.0f) {
            double l = log(f0[t]);
            a->s1 += l;
            a->s2 += l * l;
            a->voiced++;
        }
}

/* The content features of frames [t0, t1) of speech x (len) into the pool's rows n0 + t0...,
 * computed as conversion computes the source's (vcc_encode_window, vcc_content_features). */
static vc_status add_features(voice_acc *a, const vcm_model *m, const float *x, size_t len, int t0,
                              int t1, int n0) {
    const int T = t1 - t0, T2 = T + (T & 1);
    vc_voice_frames *p = a->pool;
    vc_status st = vcm_model_input(a->fe, m, x, len, t0, T, T2, a->tm, a->xs);
    if (st == VC_OK) st = vcm_encode_content(m, &a->ws, a->xs, T2, a->codes);
    if (st != VC_OK) return st;
    size_t r = (size_t)n0 + (size_t)t0;
    vcc_content_features(m, &a->ws, T, T2, p->z + r * p->D, p->h + r * p->C, a->hwork, a->nscratch);
    for (int t = 0; t < T; t++) /* the model input, frame-major: the retrieval input's frames */
        for (int k = 0; k < a->M; k++) p->mel[(r + t) * a->M + k] = a->xs[(size_t)k * T2 + t];
    return VC_OK;
}

/* Frames [t0, t1) of speech x (len; its F0 and voicing f0, f0 + T for all T frames): the
 * embedding, weighted by frames, and the moments of the fast part of the log-magnitude in the
 * scale conversion's output is in (for an envelope model, the WORLD envelope already in the
 * pool's rows n0 + t0..., brought to that scale at the reference's own F0 as vcc_denormalise
 * brings the prediction); then the content features of those rows. */
static vc_status add_window(voice_acc *a, const vcm_model *m, const float *x, size_t len,
                            const float *f0, int T_all, int t0, int t1, int n0) {
    const int T = t1 - t0, F = a->F;
    vc_status st = vcm_model_input(a->fe, m, x, len, t0, T, T, a->tm, a->xs);
    if (st == VC_OK) st = vcm_encode_speaker(m, &a->ws, a->xs, T, a->spk);
    if (st != VC_OK) return st;
    for (int k = 0; k < a->S; k++) a->emb[k] += (double)a->spk[k] * T;
    a->frames += T;
    if (m->cfg.envelope) {
        for (int t = 0; t < T; t++) {
            float off = vcd_world_stft_offset(f0[t0 + t], f0 + T_all, t0 + t, m->cfg.sample_rate,
                                              m->cfg.n_fft);
            const float *e = a->pool->env + (size_t)(n0 + t0 + t) * F;
            for (int f = 0; f < F; f++) a->mag[(size_t)t * F + f] = e[f] + off;
        }
    } else {
        vcd_stft_magnitude_frames(vcd_frontend_stft(a->fe), a->mag, x, len, t0, T);
        vcm_log_magnitude(a->mag, (size_t)T * F);
    }
    vcc_split_dynamics(a->mag, a->slow, T, F, a->dscratch);
    for (int t = 0; t < T; t++)
        for (int f = 0; f < F; f++) {
            double l = a->mag[(size_t)t * F + f];
            a->lsum[f] += l;
            a->lsum[F + f] += l * l;
        }
    return add_features(a, m, x, len, t0, t1, n0);
}

/* The WORLD envelope and aperiodicity of speech x (len) at its F0 (f0, voicing: T) into the
 * pool's rows [n, n + T), and the voiced frames' aperiodicity into its profile. */
static vc_status add_world(voice_acc *a, const float *x, size_t len, const float *f0,
                           const float *voicing, int T) {
    vc_voice_frames *p = a->pool;
    float *ap = p->log_ap + (size_t)p->n * VCD_WORLD_BANDS;
    memcpy(p->f0 + p->n, f0, sizeof(float) * (size_t)T);
    memcpy(p->voicing + p->n, voicing, sizeof(float) * (size_t)T);
    vc_status st =
        vcd_world_analyze(&a->an, x, len, f0, voicing, T, p->env + (size_t)p->n * (size_t)p->F, ap);
    for (int t = 0; st == VC_OK && t < T; t++)
        vcc_pool_add_ap(p, ap + (size_t)t * VCD_WORLD_BANDS,
                        vcd_world_is_voiced(f0[t], voicing, t, a->an.f0_floor));
    return st;
}

/* Whether a reference of sec seconds of speech can be used: an error below
 * MIN_REFERENCE_SECONDS, a warning below SHORT_REFERENCE_SECONDS. */
static vc_status check_length(const char *what, double sec) {
    if (sec < MIN_REFERENCE_SECONDS) {
        vcu_log(VC_LOG_ERROR, "%s: only %.2f s of speech; a reference needs at least %.1f s", what,
                sec, MIN_REFERENCE_SECONDS);
        return VC_ERR_AUDIO;
    }
    if (sec < SHORT_REFERENCE_SECONDS)
        vcu_log(VC_LOG_WARN,
                "%s: only %.2f s of speech; under %.0f s the voice (and frame matching) has little "
                "to go on",
                what, sec, SHORT_REFERENCE_SECONDS);
    return VC_OK;
}

/* One reference: prepared, long enough, its pitch, its WORLD frames and its windows added. */
static vc_status add_reference(voice_acc *a, const vc_model *vm, const vc_audio *ref, int r) {
    char what[32];
    snprintf(what, sizeof what, "reference %d", r + 1);
    vcc_input in;
    vc_status st = vcc_prepare(vm, ref, what, &in);
    if (st != VC_OK) return st;
    const float *x = in.x + in.b;
    size_t len = in.e - in.b;
    double sec = (double)len / vm->fp.sample_rate;
    int T = vc_frontend_n_frames(a->fe, len), n0 = a->pool->n;
    float *f0 = malloc(sizeof(float) * 2 * (size_t)T); // (T) f0, (T) voicing
    st = check_length(what, sec);
    if (st == VC_OK) st = f0 ? vc_frontend_f0(a->fe, x, len, f0, f0 + T) : VC_ERR_NOMEM;
    long voiced_before = a->voiced;
    if (st == VC_OK) add_pitch(a, f0, T);
    if (st == VC_OK && a->voiced == voiced_before)
        vcu_log(VC_LOG_WARN,
                "%s: no voiced frame found (whisper, noise or unvoiced sounds): it "
                "gives no pitch, and the output keeps the source's pitch and voicing",
                what);
    if (st == VC_OK) st = vcc_pool_reserve(a->pool, T);
    if (st == VC_OK) st = vcc_pool_begin_reference(a->pool);
    if (st == VC_OK) st = add_world(a, x, len, f0, f0 + T, T);
    /* windows of near-equal length, none longer than VOICE_WINDOW */
    int n_win = (T + VOICE_WINDOW - 1) / VOICE_WINDOW;
    for (int w = 0; st == VC_OK && w < n_win; w++)
        st = add_window(a, &vm->m, x, len, f0, T, (int)((long)T * w / n_win),
                        (int)((long)T * (w + 1) / n_win), n0);
    if (st == VC_OK) a->pool->n += T;
    a->seconds += sec;
    free(f0);
    free(in.x);
    return st;
}

static vc_status finish_voice(voice_acc *a, vc_voice *out) {
    const int S = a->S, F = a->F;
    out->embedding = malloc((size_t)S * sizeof *out->embedding);
    out->log_mag_std = malloc((size_t)F * sizeof *out->log_mag_std);
    if (!out->embedding || !out->log_mag_std) return VC_ERR_NOMEM;
    for (int k = 0; k < S; k++) out->embedding[k] = (float)(a->emb[k] / a->frames);
    for (int f = 0; f < F; f++) {
        double mu = a->lsum[f] / a->frames, var = a->lsum[F + f] / a->frames - mu * mu;
        out->log_mag_std[f] = (float)sqrt(var > 0.0 ? var : 0.0);
    }
    out->n_bins = F;
    out->dim = S;
    out->voiced_frames = (int)a->voiced;
    out->logf0_mean = a->voiced ? a->s1 / (double)a->voiced : 0.0;
    double var = a->voiced ? a->s2 / (double)a->voiced - out->logf0_mean * out->logf0_mean : 0.0;
    out->logf0_std = sqrt(var > 0.0 ? var : 0.0);
    out->seconds = a->seconds;
    out->n_frames = a->pool->n;
    out->frames = a->pool; /* handed over */
    a->pool = NULL;
    return VC_OK;
}

vc_status vc_voice_from_audio(const vc_model *vm, const vc_audio *refs, int n_refs, vc_voice *out) {
    if (!vm || !refs || n_refs < 1 || !out) return VC_ERR_ARG;
    memset(out, 0, sizeof *out);
    voice_acc a;
    vc_status st = acc_init(&a, vm);
    for (int r = 0; r < n_refs && st == VC_OK; r++) st = add_reference(&a, vm, &refs[r], r);
    if (st == VC_OK) st = finish_voice(&a, out);
    if (st != VC_OK) vc_voice_free(out);
    acc_free(&a);
    return st;
}

void vc_voice_free(vc_voice *v) {
    if (!v) return;
    free(v->embedding);
    free(v->log_mag_std);
    vcc_pool_free(v->frames);
    memset(v, 0, sizeof *v);
}
