/* Conversion: A's words in B's voice (vc_convert), as a pipeline of named steps:
 *
 *   prepare         resample, level to VCM_LEVEL_DBFS, trim silence (vcc_prepare)
 *   analyse source  F0 over the whole speech span; the decoder's pitch input (its log-F0
 *                   statistics, or the voice's with a shift) and the output's F0
 *   per chunk       a core of frames read through a window with VCC_CONTEXT frames either side:
 *     decode window     model input -> content codes -> decode with the voice -> log-magnitude
 *     match dynamics    stretch the fast part of each bin to the voice's spread
 *     match frames      (--match) the envelope and aperiodicity of the voice's reference frames
 *                       nearest in content, blended in (convert/match.h); the WORLD vocoder's
 *                       aperiodicity, from the voicing where nothing is matched
 *     join              ramp from the previous window's frames over the junction
 *     vocode            the vocoder renders the core, continuing the audio already written
 *   stitch          back to the source's loudness (soft limiter), silence restored around the
 *                   speech span
 *
 * Memory is bounded by the chunk, not the source: only the audio itself, F0 and pitch (a few
 * floats per frame) span the whole input. The content encoder's instance norm and the decoder's
 * AdaIN take their statistics over a chunk window instead of the whole utterance; with windows
 * of several seconds the difference is small (tests/test_convert.c measures it).
 *
 * Every array of a conversion is made once (vcc_chunk: one arena, the front end's and the
 * vocoder's FFTW plans), so conversions in several threads at once share one loaded model.
 */
#include "convert/convert.h"
#include "convert/match.h"
#include "model/retrieval.h"

#include "common.h"
#include "dsp/stft.h"
#include "model/audio_contract.h"

#include <limits.h>
#include <math.h>
#include <string.h>

#define LIMIT_KNEE 0.891f           /* -1 dBFS: where the output's soft limiter starts */
#define LEVEL_ROUNDS 4              /* level, limit, measure again */
#define DYNAMICS_MAX_GAIN 4.0f      /* the most the spectral dynamics are stretched */
#define DYNAMICS_WINDOW 128         /* frames (2 s) of the slow part's moving average */
#define VCC_MAX_CHUNK_SECONDS 600.0 /* a reusable state's chunk (as --chunk allows) */

vc_convert_params vc_convert_default_params(void) {
    vc_convert_params p = {
        .auto_pitch = 1,
        .pitch_shift = 0.0f,
        .harmonic = 1,
        /* measured (docs/convert.md, "Frame matching" and "Codes or continuous content";
         * docs/evaluation.md, "Decoder trained on continuous content"): the WORLD vocoder with
         * matching in the hidden space carries the voice; the decoder reading its codes three
         * quarters of the way to the encoder's continuous output (the bundled model's decoder
         * was trained on such blends) keeps words the codebook loses: on the full evaluation
         * 62.2% word error against 67.6% for the previous model at blend 0.5, identification
         * the same (all conversions 68% / 7% as target / source against 69% / 6%); choosing
         * matched neighbours by the decoded output as much as by content keeps more words where
         * the reference is short (docs/evaluation.md, "Neighbours chosen by the decoded output
         * too": 59.3% on the full evaluation, 53.1% against 64.4% with 2 s of reference); with
         * the envelope model, the neighbours at full strength moved halfway by the decoder's own
         * difference between the frame and them (residual 0.5) keep more words and more voice
         * than a plain blend at 0.6 (docs/evaluation.md, "The envelope fine-tune bundled":
         * 47.8% against 54.5% word error, 72% against 69% identified as the target) */
        .world_vocoder = 1,
        .match_dynamics = 1,
        .match = 1.0f,
        .match_k = 4,
        .match_space = VC_MATCH_HIDDEN,
        .retrieval = 1,
        .content_blend = 0.75f,
        .match_decoded = 0.5f,
        .match_residual = 0.5f,
        .vocoder = vc_vocoder_default_params(),
        .chunk_seconds = 10.0,
        .progress = NULL,
    };
    return p;
}

/* ---- shared steps ------------------------------------------------------------------------- */

vc_status vcc_prepare(const vc_model *vm, const vc_audio *a, const char *what, vcc_input *out) {
    vcu_threads_here(); /* every conversion, voice, encoding and score starts here */
    memset(out, 0, sizeof *out);
    if (!a || !a->samples || a->n_samples == 0 || a->sample_rate < 1) {
        vcu_log(VC_LOG_ERROR, "%s: no audio", what);
        return VC_ERR_AUDIO;
    }
    int rate = vm->fp.sample_rate;
    vc_status st;
    if (a->sample_rate != rate) {
        st = vc_audio_resample(a->samples, a->n_samples, a->sample_rate, rate, &out->x, &out->n);
        if (st != VC_OK) return st;
    } else {
        out->x = malloc(a->n_samples * sizeof *out->x);
        if (!out->x) return VC_ERR_NOMEM;
        memcpy(out->x, a->samples, a->n_samples * sizeof *out->x);
        out->n = a->n_samples;
    }
    st = vcm_level(out->x, out->n, rate, what, &out->level_db);
    if (st == VC_OK) {
        st = vcm_trim_span(out->x, out->n, &vm->fp, &out->b, &out->e);
        if (st == VC_ERR_AUDIO)
            vcu_log(VC_LOG_ERROR, "%s: no speech found (silent, or shorter than %d samples)", what,
                    vm->fp.n_fft);
    }
    if (st != VC_OK) {
        free(out->x);
        memset(out, 0, sizeof *out);
    }
    return st;
}

void vcc_split_dynamics(float *lm, float *slow, int T, int F, double *scratch) {
    const int half = DYNAMICS_WINDOW / 2;
    for (int f = 0; f < F; f++) {
        scratch[0] = 0.0;
        for (int t = 0; t < T; t++) scratch[t + 1] = scratch[t] + lm[(size_t)t * F + f];
        for (int t = 0; t < T; t++) {
            int t0 = t - half > 0 ? t - half : 0, t1 = t + half < T ? t + half : T;
            float mu = (float)((scratch[t1] - scratch[t0]) / (t1 - t0));
            slow[(size_t)t * F + f] = mu;
            lm[(size_t)t * F + f] -= mu;
        }
    }
}

/* A rare peak is rounded off instead of the whole output being turned down (which would move
 * its loudness away from the source's). */
int vcc_soft_limit(float *y, float g) {
    float v = *y * g, a = fabsf(v);
    if (a <= LIMIT_KNEE) {
        *y = v;
        return 0;
    }
    const float room = 1.0f - LIMIT_KNEE;
    float l = LIMIT_KNEE + room * tanhf((a - LIMIT_KNEE) / room);
    *y = v < 0.0f ? -l : l;
    return 1;
}

int vcc_core_frames(const vc_model *vm, double chunk_seconds, int T) {
    int L = 2 * (int)fmax(1.0, chunk_seconds * vm->fp.sample_rate / vm->fp.hop / 2.0);
    if (L < 2 * VCC_CONTEXT) L = 2 * VCC_CONTEXT; /* the vocoder's context needs this much */
    if (L > T) L = T + (T & 1);
    return L;
}

/* ---- the chunk state ---------------------------------------------------------------------- */

void vcc_chunk_free(vcc_chunk *c) {
    vcm_workspace_free(&c->ws);
    vcv_free(c->voc);
    vc_frontend_free(c->fe);
    free(c->arena);
    memset(c, 0, sizeof *c);
}

/* Carves n bytes from *at (64-byte steps keep every array aligned for its type). */
static void *carve(char **at, size_t n) {
    void *p = *at;
    *at += (n + 63) & ~(size_t)63;
    return p;
}

/* The arena's arrays for windows of W frames; with base NULL, only the total size. */
static size_t layout(vcc_chunk *c, char *base) {
    size_t M = (size_t)c->m->cfg.n_mels, F = (size_t)c->m->cfg.n_bins, W = (size_t)c->W;
    size_t f = sizeof(float);
    char *at = base ? base : (char *)64; /* any aligned address: only the size is wanted */
    char *start = at;
    vcc_chunk tmp, *d = base ? c : &tmp;
    d->dscratch = carve(&at, (W + 1) * sizeof(double));
    d->codes = carve(&at, W / 2 * sizeof(int));
    d->tm = carve(&at, W * M * f);
    d->x = carve(&at, W * M * f);
    d->p = carve(&at, 2 * W * f);
    d->mel = carve(&at, W * M * f);
    d->lin = carve(&at, W * F * f);
    d->lm = carve(&at, W * F * f);
    d->slow = carve(&at, W * F * f);
    d->tail = carve(&at, 2 * VCC_CONTEXT * F * f);
    d->dyn_gain = carve(&at, F * f);
    d->ap = carve(&at, W * VCD_WORLD_BANDS * f);
    d->r = carve(&at, (M + 1) * W * f);
    return (size_t)(at - start);
}

vc_status vcc_chunk_init(vcc_chunk *c, const vc_model *vm, int W, const vcv_setup *vocoder) {
    memset(c, 0, sizeof *c);
    c->vm = vm;
    c->m = &vm->m;
    c->W = W;
    c->arena = malloc(layout(c, NULL));
    if (!c->arena) return VC_ERR_NOMEM;
    layout(c, c->arena);
    vc_status st = vc_frontend_init(&vm->fp, &c->fe);
    if (st == VC_OK) st = vcm_workspace_init(&c->ws, c->m, 1, W, 1);
    c->ws.norm_window = VCM_TRAIN_FRAMES;
    if (st == VC_OK && vocoder) st = vcv_init(vocoder, &c->voc);
    if (st != VC_OK) vcc_chunk_free(c);
    return st;
}

vc_status vcc_encode_window(vcc_chunk *c, const float *x, size_t len, int a, int Tw) {
    int Tw2 = Tw + (Tw & 1);
    vc_status st = vcm_model_input(c->fe, c->m, x, len, a, Tw, Tw2, c->tm, c->x);
    return st == VC_OK ? vcm_encode_content(c->m, &c->ws, c->x, Tw2, c->codes) : st;
}

void vcc_denormalise(vcc_chunk *c, int stride, int T, const float *f0, const float *voicing) {
    const int F = c->m->cfg.n_bins;
    for (int t = 0; t < T; t++) {
        float off =
            c->m->cfg.envelope
                ? vcd_world_stft_offset(f0[t], voicing, t, c->vm->fp.sample_rate, c->vm->fp.n_fft)
                : 0.0f;
        for (int f = 0; f < F; f++)
            c->lm[(size_t)t * F + f] =
                vcm_lin_denorm(c->m, f, c->lin[(size_t)f * stride + t]) + off;
    }
}

vcv_frames vcc_frames(const vcc_chunk *c, const float *f0, const float *voicing) {
    vcv_frames fr = {
        .first = c->a,
        .T = c->b - c->a,
        .F = c->m->cfg.n_bins,
        .log_env = c->lm,
        .f0 = f0 + c->a,
        .voicing = voicing + c->a,
        .aperiodicity = NULL,
        .n_bands = 0,
    };
    return fr;
}

/* ---- the source --------------------------------------------------------------------------- */

/* What conversion keeps of the source over the whole speech span: T frames. */
typedef struct source_track {
    int T;
    float *f0;        // (T) the source's F0, then the output's (0 unvoiced)
    float *voicing;   // (T)
    float *pitch;     // (2, T) the decoder's pitch input
    const int *codes; // ((T + 1) / 2) given content codes (the codec): nothing is encoded
} source_track;

/* Pitch input of the decoder, (2, T). Automatic key: the source's contour normalised by its own
 * log-F0 statistics, which the decoder maps into the voice's range (training paired each
 * contour with its own speaker). With a shift: the source's log-F0 moved by the shift, expressed
 * in the voice's statistics, so the decoder renders that absolute pitch. */
static void pitch_input(const source_track *s, const vc_voice *v, const vc_convert_params *p) {
    vcm_pitch_features(s->f0, s->voicing, s->T, s->pitch);
    if (p->auto_pitch) return;
    double shift = p->pitch_shift * log(2.0) / 12.0;
    double sigma = v->logf0_std > VCM_PITCH_STD_FLOOR ? v->logf0_std : VCM_PITCH_STD_FLOOR;
    for (int t = 0; t < s->T; t++)
        s->pitch[t] =
            s->f0[t] > 0.0f ? (float)((log(s->f0[t]) + shift - v->logf0_mean) / sigma) : 0.0f;
}

/* The F0 the output should have, written over s->f0: the source's normalised contour (pitch
 * channel 0) in the voice's log-F0 range, or the source's own F0 moved by the shift. Unvoiced
 * frames stay 0. A voice without voiced frames keeps the source's F0. */
static void target_f0(source_track *s, const vc_voice *v, const vc_convert_params *p) {
    int automatic = p->auto_pitch && v->voiced_frames > 0;
    double ratio = p->auto_pitch ? 1.0 : pow(2.0, p->pitch_shift / 12.0);
    for (int t = 0; t < s->T; t++) {
        if (s->f0[t] <= 0.0f) continue;
        s->f0[t] = automatic ? (float)exp(v->logf0_mean + v->logf0_std * s->pitch[t])
                             : (float)(s->f0[t] * ratio);
    }
}

static vc_status analyse_source(vc_frontend *fe, const float *x, size_t len, const vc_voice *v,
                                const vc_convert_params *p, source_track *s) {
    s->T = vc_frontend_n_frames(fe, len);
    s->f0 = malloc(sizeof(float) * 4 * (size_t)s->T); /* f0, voicing, pitch (2) */
    if (!s->f0) return VC_ERR_NOMEM;
    s->voicing = s->f0 + s->T;
    s->pitch = s->voicing + s->T;
    vc_status st = vc_frontend_f0(fe, x, len, s->f0, s->voicing);
    if (st != VC_OK) return st;
    pitch_input(s, v, p);
    target_f0(s, v, p);
    return VC_OK;
}

/* ---- the chunk steps ---------------------------------------------------------------------- */

/* The chunk k of cores of L frames over T frames: core, end, and its window a, b. */
static void select_chunk(vcc_chunk *c, int k, int L, int T) {
    c->k = k;
    c->core = k * L;
    c->end = c->core + L < T ? c->core + L : T;
    c->a = c->core - VCC_CONTEXT > 0 ? c->core - VCC_CONTEXT : 0;
    c->b = c->core + L + VCC_CONTEXT < T ? c->core + L + VCC_CONTEXT : T;
}

/* The frame that column t of a window of Tw frames holds: the model runs on an even number of
 * frames, Tw2 = Tw + (Tw & 1), and an odd window's padding column repeats its last frame. */
static int window_frame(int t, int Tw) {
    return t < Tw ? t : Tw - 1;
}

/* The retrieval input of the window (Tw frames, Tw2 columns): the mean normalised log-mel of
 * each frame's neighbours in the voice's pool (found by vcc_match_nearest), padded as every
 * window input is (window_frame). */
static void retrieval_input(vcc_chunk *c, const vcc_matcher *mt, int Tw, int Tw2) {
    const int M = c->m->cfg.n_mels;
    vcm_retrieval_gather(M, mt->pool->mel, mt->idx, Tw, mt->k, c->r, Tw2);
    for (int ch = 0; ch <= M; ch++)
        for (int t = Tw; t < Tw2; t++)
            c->r[(size_t)ch * Tw2 + t] = c->r[(size_t)ch * Tw2 + window_frame(t, Tw)];
}

/* The window's content decoded with the voice and the pitch input into c->lm: its codes moved
 * by blend toward the encoder's continuous output (codes given in s, as a codec stream's, have
 * none: the codes alone). With a matcher, the window's nearest voice frames: by content before
 * decoding for the retrieval input (retrieve), and for the frame matching after it by content
 * or, with a decoded weight, by content and the decoder's output together. */
static vc_status decode_window(vcc_chunk *c, const float *x, size_t len, const source_track *s,
                               const vc_voice *voice, vcc_matcher *mt, int retrieve, float blend) {
    int Tw = c->b - c->a, Tw2 = Tw + (Tw & 1);
    vc_status st = VC_OK;
    if (s->codes) /* a is even: the window's codes start at code a / 2 */
        memcpy(c->codes, s->codes + c->a / 2, sizeof(int) * (size_t)(Tw2 / 2));
    else
        st = vcc_encode_window(c, x, len, c->a, Tw);
    if (st != VC_OK) return st;
    if (mt) { /* the window's content features, as the voice's were computed */
        vcc_content_features(c->m, &c->ws, Tw, Tw2, mt->space == VC_MATCH_Z ? mt->q : NULL,
                             mt->space == VC_MATCH_HIDDEN ? mt->q : NULL, mt->hwork, mt->dwork);
        if (retrieve || mt->decoded <= 0.0f) vcc_match_nearest(mt, Tw);
        if (retrieve) retrieval_input(c, mt, Tw, Tw2);
    }
    for (int ch = 0; ch < 2; ch++)
        for (int t = 0; t < Tw2; t++)
            c->p[(size_t)ch * Tw2 + t] = s->pitch[(size_t)ch * s->T + c->a + window_frame(t, Tw)];
    st = vcm_decode(c->m, &c->ws, c->codes, s->codes ? NULL : c->ws.z.v, blend, Tw2 / 2,
                    voice->embedding, c->p, mt && retrieve ? c->r : NULL, c->mel, c->lin);
    if (st == VC_OK && mt && mt->decoded > 0.0f) vcc_match_nearest_decoded(mt, c->mel, Tw2, Tw);
    if (st == VC_OK) vcc_denormalise(c, Tw2, Tw, s->f0 + c->a, s->voicing + c->a);
    return st;
}

/* Undo the over-smoothing of a regression model (its outputs vary less over time than speech
 * does, which is heard as muffled and averaged): the fast part of each bin's log-magnitude is
 * stretched so that its spread matches the voice's, never shrunk and at most DYNAMICS_MAX_GAIN
 * times: the "global variance" compensation of statistical speech synthesis (Toda & Tokuda
 * 2007), per bin, on the fast part. The stretch is measured once, on the first chunk's core
 * (all of the speech up to chunk_seconds), and applied alike to every chunk. */
static void match_dynamics(vcc_chunk *c, const vc_voice *voice) {
    const int F = c->m->cfg.n_bins, Tw = c->b - c->a;
    vcc_split_dynamics(c->lm, c->slow, Tw, F, c->dscratch);
    if (c->k == 0) {
        const float *fast = c->lm + (size_t)(c->core - c->a) * F;
        int T = c->end - c->core;
        for (int f = 0; f < F; f++) {
            double s2 = 0.0;
            for (int t = 0; t < T; t++)
                s2 += (double)fast[(size_t)t * F + f] * fast[(size_t)t * F + f];
            double sd = sqrt(s2 / T);
            float g = sd > 1e-6 ? (float)(voice->log_mag_std[f] / sd) : 1.0f;
            c->dyn_gain[f] = fminf(fmaxf(g, 1.0f), DYNAMICS_MAX_GAIN);
        }
    }
    for (int t = 0; t < Tw; t++)
        for (int f = 0; f < F; f++) {
            size_t i = (size_t)t * F + f;
            c->lm[i] = c->slow[i] + c->dyn_gain[f] * c->lm[i];
        }
}

/* Reference r's pool frames [*s0, *s1) (a pool filled without marking references is one). */
static void reference_span(const vc_voice_frames *p, int r, int *s0, int *s1) {
    *s0 = p->n_refs ? p->ref_start[r] : 0;
    *s1 = r + 1 < p->n_refs ? p->ref_start[r + 1] : p->n;
}

vc_status vcc_decode_pool(vcc_chunk *c, vcc_matcher *mt, const vc_voice *voice, float blend) {
    const vc_voice_frames *p = voice->frames;
    const int M = p->M, F = p->F, rate = c->vm->fp.sample_rate, n_fft = c->vm->fp.n_fft;
    const int n_refs = p->n_refs > 0 ? p->n_refs : 1, Wmax = c->W - 2;
    int longest = 0, s0, s1;
    for (int r = 0; r < n_refs; r++) {
        reference_span(p, r, &s0, &s1);
        if (s1 - s0 > longest) longest = s1 - s0;
    }
    float *pitch = malloc(sizeof(float) * 2 * (size_t)(longest > 0 ? longest : 1)); // (2, T)
    if (!pitch) return VC_ERR_NOMEM;
    vc_status st = VC_OK;
    for (int r = 0; r < n_refs && st == VC_OK; r++) {
        reference_span(p, r, &s0, &s1);
        int T = s1 - s0, n_win = (T + Wmax - 1) / Wmax;
        if (T < 1) continue;
        vcm_pitch_features(p->f0 + s0, p->voicing + s0, T, pitch);
        for (int w = 0; st == VC_OK && w < n_win; w++) {
            int t0 = (int)((long)T * w / n_win), t1 = (int)((long)T * (w + 1) / n_win);
            int Tw = t1 - t0, Tw2 = Tw + (Tw & 1);
            for (int t = 0; t < Tw2; t++) {
                int u = t0 + window_frame(t, Tw);
                for (int k = 0; k < M; k++)
                    c->x[(size_t)k * Tw2 + t] = p->mel[(size_t)(s0 + u) * M + k];
                for (int ch = 0; ch < 2; ch++)
                    c->p[(size_t)ch * Tw2 + t] = pitch[(size_t)ch * T + u];
            }
            st = vcm_encode_content(c->m, &c->ws, c->x, Tw2, c->codes);
            if (st == VC_OK)
                st = vcm_decode(c->m, &c->ws, c->codes, c->ws.z.v, blend, Tw2 / 2, voice->embedding,
                                c->p, NULL, c->mel, c->lin);
            for (int t = 0; st == VC_OK && t < Tw; t++) {
                int n = s0 + t0 + t;
                /* an STFT model's output is at the reference's own F0; an envelope model's is
                 * the WORLD envelope already */
                float off = c->m->cfg.envelope ? 0.0f
                                               : vcd_world_stft_offset(p->f0[n], p->voicing + s0,
                                                                       t0 + t, rate, n_fft);
                for (int f = 0; f < F; f++)
                    mt->dec[(size_t)n * F + f] =
                        vcm_lin_denorm(c->m, f, c->lin[(size_t)f * Tw2 + t]) - off;
            }
        }
    }
    free(pitch);
    return st;
}

/* The WORLD vocoder's aperiodicity where nothing is matched, from the voicing: each band's
 * share of noise is 1 - v (1 - a_b), a_b the voice's typical aperiodicity of that band over its
 * voiced frames (the geometric mean, vcc_pool_voiced_ap; 0 without a pool): fully voiced frames
 * as noisy in each band as the voice's voiced frames typically are, unvoiced frames noise. Then,
 * with matching, the matched frames' envelope (at the output F0, in the model's STFT scale) and
 * aperiodicity blended in by the strength. */
static void match_frames(vcc_chunk *c, vcc_matcher *mt, const vc_voice *voice,
                         const source_track *s) {
    const int F = c->m->cfg.n_bins, Tw = c->b - c->a, B = VCD_WORLD_BANDS;
    const int rate = c->vm->fp.sample_rate, n_fft = c->vm->fp.n_fft;
    const float *f0 = s->f0 + c->a, *v = s->voicing + c->a;
    float profile[VCD_WORLD_BANDS];
    vcc_pool_voiced_ap(voice->frames, profile);
    for (int t = 0; t < Tw; t++)
        for (int b = 0; b < B; b++) {
            float vt = fminf(fmaxf(v[t], 0.0f), 1.0f);
            c->ap[(size_t)t * B + b] = 1.0f - vt * (1.0f - profile[b]);
        }
    if (!mt || mt->strength <= 0.0f) return;
    const float g = mt->strength;
    /* A reference with no voiced frame (whisper, noise) would make every matched frame noise and
     * whisper the output; its envelope is still taken, the voicing stays the source's. */
    const float g_ap = voice->frames && voice->frames->n_voiced ? g : 0.0f;
    /* of the neighbours decode_window found */
    vcc_match_average(mt, f0, v, vcd_world_f0_floor(rate, n_fft), Tw);
    for (int t = 0; t < Tw; t++) {
        float off = vcd_world_stft_offset(f0[t], v, t, rate, n_fft);
        float *l = c->lm + (size_t)t * F;
        const float *e = mt->env + (size_t)t * F;
        /* with a residual r, e is the neighbours' envelopes less r times the decoder's rendering
         * of them: the decoder's own output stands in for that share of the blend */
        const float r = mt->dec ? mt->residual : 0.0f, keep = 1.0f - g * (1.0f - r);
        for (int f = 0; f < F; f++) l[f] = keep * l[f] + g * (e[f] + (1.0f - r) * off);
        for (int b = 0; b < B; b++) {
            float *a = &c->ap[(size_t)t * B + b];
            *a = (1.0f - g_ap) * *a + g_ap * mt->ap[(size_t)t * B + b];
        }
    }
}

/* Where the previous window overlaps: its values first, then a ramp to this window's over the
 * VCC_CONTEXT / 2 frames after the core's start, so the vocoder's input has no step at the
 * junction. Then keeps the frames the next window will overlap: from its start, end - ctx, at
 * most 2 ctx frames (fewer when this window already reaches the end of the speech). */
static void join(vcc_chunk *c, int T) {
    const int F = c->m->cfg.n_bins, Tw = c->b - c->a, ctx = VCC_CONTEXT, lead = c->core - c->a;
    for (int t = 0; c->k && t < lead + ctx / 2 && t < Tw; t++) {
        float w = t < lead ? 0.0f : vcv_fade_in((size_t)(t - lead), ctx / 2);
        for (int f = 0; f < F; f++) {
            float *l = &c->lm[(size_t)t * F + f];
            *l = w * *l + (1.0f - w) * c->tail[(size_t)t * F + f];
        }
    }
    if (c->end < T) {
        int next = c->end - ctx, n = c->b - next < 2 * ctx ? c->b - next : 2 * ctx;
        memcpy(c->tail, c->lm + (size_t)(next - c->a) * F, sizeof(float) * (size_t)n * F);
    }
}

/* Back to the source's loudness, speech span y (len) in place within full (n). The limiter
 * takes a little energy from the peaks, so the level is measured again and the shortfall made
 * up (a few rounds at most; each adds less). */
static vc_status stitch(const vc_model *vm, const vcc_input *in, float *full) {
    float *y = full + in->b;
    size_t len = in->e - in->b, limited = 0;
    vc_level lv;
    for (int round = 0; round < LEVEL_ROUNDS; round++) {
        vc_status st = vc_audio_level(full, in->n, vm->fp.sample_rate, &lv);
        if (st != VC_OK) return st;
        double gain_db = in->level_db - lv.active_dbfs;
        if (lv.active_dbfs <= VC_LEVEL_FLOOR_DB || (round && fabs(gain_db) < 0.05)) break;
        float g = (float)pow(10.0, gain_db / 20.0);
        limited = 0;
        for (size_t i = 0; i < len; i++) limited += vcc_soft_limit(&y[i], g);
    }
    if (limited > len / 1000)
        vcu_log(VC_LOG_WARN, "%.2f%% of the output's samples were above %.1f dBFS and limited",
                100.0 * (double)limited / (double)len, 20.0 * log10(LIMIT_KNEE));
    return VC_OK;
}

/* The rendered full (n) becomes out once stitched; on any failure (st or the stitch) it is
 * freed. Returns the status of the whole. */
static vc_status hand_over(const vc_model *vm, const vcc_input *in, vc_status st, float *full,
                           vc_audio *out) {
    if (st == VC_OK) st = stitch(vm, in, full);
    if (st != VC_OK) {
        free(full);
        return st;
    }
    out->samples = full;
    out->n_samples = in->n;
    out->sample_rate = vm->fp.sample_rate;
    return VC_OK;
}

/* ---- the pipeline ------------------------------------------------------------------------- */

static int convert_args_ok(const vc_model *vm, const vc_audio *source, const vc_voice *voice,
                           const vc_convert_params *p, const vc_audio *out) {
    return vm && source && voice && p && out && voice->embedding &&
           voice->dim == vm->m.cfg.spk_dim &&
           (!p->match_dynamics || (voice->log_mag_std && voice->n_bins == vm->m.cfg.n_bins)) &&
           p->vocoder.iters >= 0 && p->chunk_seconds > 0.0 && p->match >= 0.0f &&
           p->match <= 1.0f && p->content_blend >= 0.0f && p->content_blend <= 1.0f &&
           p->match_decoded >= 0.0f && p->match_decoded <= 1.0f && p->match_residual >= 0.0f &&
           p->match_residual <= 1.0f && (!voice->frames || voice->frames->F == vm->m.cfg.n_bins);
}

/* Every chunk of the speech x (len) into y (len). */
static vc_status convert_chunks(vcc_chunk *c, const float *x, size_t len, const source_track *s,
                                const vc_voice *voice, const vc_convert_params *p, int L,
                                vcc_matcher *mt, int retrieve, float *y) {
    const int n_chunks = (s->T + L - 1) / L, world = vcv_kind_of(p) == VCV_WORLD;
    for (int k = 0; k < n_chunks; k++) {
        select_chunk(c, k, L, s->T);
        vc_status st = decode_window(c, x, len, s, voice, mt, retrieve, p->content_blend);
        if (st != VC_OK) return st;
        if (p->match_dynamics) match_dynamics(c, voice);
        if (mt || world) match_frames(c, mt, voice, s);
        join(c, s->T);
        vcv_frames fr = vcc_frames(c, s->f0, s->voicing);
        if (world) {
            fr.aperiodicity = c->ap;
            fr.n_bands = VCD_WORLD_BANDS;
        }
        if ((st = vcv_render(c->voc, &fr, c->core, c->end, y, len)) != VC_OK) return st;
        if (p->progress) p->progress((double)(k + 1) / n_chunks, p->progress_user);
    }
    return VC_OK;
}

/* The conversion of a prepared source with the state c (made for windows of up to c->W
 * frames, the vocoder p asks for): analyse the source, convert every chunk, stitch into *out. */
static vc_status convert_prepared(vcc_chunk *c, const vcc_input *in, const vc_voice *voice,
                                  const vc_convert_params *p, vc_audio *out) {
    const vc_model *vm = c->vm;
    const float *x = in->x + in->b;
    const size_t len = in->e - in->b;
    const int T = vcd_stft_n_frames(len, vm->fp.hop), L = vcc_core_frames(vm, p->chunk_seconds, T);
    if (L + 2 * VCC_CONTEXT + 2 > c->W) return VC_ERR_ARG; /* a state made for shorter chunks */
    source_track s = {0};
    vcc_matcher mt = {0};
    vc_status st = VC_OK;
    int retrieve = p->retrieval && vm->m.cfg.retrieval;
    if (retrieve && (!voice->frames || voice->frames->n < p->match_k)) {
        vcu_log(VC_LOG_WARN,
                "the voice has %d reference frames, fewer than the %d neighbours "
                "retrieval takes: decoding without retrieved frames (give more reference audio)",
                voice->frames ? voice->frames->n : 0, p->match_k);
        retrieve = 0;
    }
    int matching = p->match > 0.0f || retrieve;
    if (matching) /* sized for the voice: made per conversion */
        st = vcc_matcher_init(&mt, voice->frames, c->W, p->match_space, p->match_k, p->match,
                              p->match > 0.0f ? p->match_decoded : 0.0f,
                              p->match > 0.0f ? p->match_residual : 0.0f);
    if (st == VC_OK && mt.dec) st = vcc_decode_pool(c, &mt, voice, p->content_blend);
    float *full = st == VC_OK ? calloc(in->n, sizeof *full) : NULL; // (n) silent outside speech
    if (st == VC_OK) st = full ? analyse_source(c->fe, x, len, voice, p, &s) : VC_ERR_NOMEM;
    if (st == VC_OK)
        st = convert_chunks(c, x, len, &s, voice, p, L, matching ? &mt : NULL, retrieve,
                            full + in->b);
    st = hand_over(vm, in, st, full, out);
    free(s.f0);
    vcc_matcher_free(&mt);
    return st;
}

/* The vocoder of parameters p for windows of W frames. */
static vcv_setup vocoder_setup(const vc_model *vm, const vc_convert_params *p, int W) {
    if (vm->m.cfg.envelope && vcv_kind_of(p) == VCV_SPECTRUM)
        vcu_log(VC_LOG_WARN, "this model predicts a spectral envelope, which has no harmonics: "
                             "the spectrum vocoder renders it breathy (world or harmonic draw "
                             "them at the output F0)");
    vcv_setup vs = {vcv_kind_of(p), vm->fp.sample_rate, vm->fp.n_fft, vm->fp.hop, W, p->vocoder};
    return vs;
}

vc_status vcc_render_codes(const vc_model *vm, const vcc_input *in, const int *codes,
                           const float *f0, const float *voicing, const vc_voice *voice,
                           const vc_convert_params *p, vc_audio *out) {
    /* no source audio here: out stands in for it in the NULL check */
    if (!convert_args_ok(vm, out, voice, p, out) || p->match > 0.0f) return VC_ERR_ARG;
    vcu_threads_here();
    const size_t len = in->e - in->b;
    const int T = vcd_stft_n_frames(len, vm->fp.hop), L = vcc_core_frames(vm, p->chunk_seconds, T);
    vcv_setup vs = vocoder_setup(vm, p, L + 2 * VCC_CONTEXT + 2);
    source_track s = {.T = T, .codes = codes};
    vcc_chunk c;
    vc_status st = vcc_chunk_init(&c, vm, L + 2 * VCC_CONTEXT + 2, &vs);
    float *full = st == VC_OK ? calloc(in->n, sizeof *full) : NULL; // (n) silent outside speech
    s.f0 = full ? malloc(sizeof(float) * 4 * (size_t)T) : NULL;
    if (st == VC_OK) st = s.f0 ? VC_OK : VC_ERR_NOMEM;
    if (st == VC_OK) {
        s.voicing = s.f0 + T, s.pitch = s.voicing + T;
        memcpy(s.f0, f0, sizeof(float) * (size_t)T);
        memcpy(s.voicing, voicing, sizeof(float) * (size_t)T);
        pitch_input(&s, voice, p);
        target_f0(&s, voice, p);
        st = convert_chunks(&c, NULL, len, &s, voice, p, L, NULL, 0, full + in->b);
    }
    st = hand_over(vm, in, st, full, out);
    free(s.f0);
    vcc_chunk_free(&c);
    return st;
}

vc_status vc_convert(const vc_model *vm, const vc_audio *source, const vc_voice *voice,
                     const vc_convert_params *p, vc_audio *out) {
    if (!convert_args_ok(vm, source, voice, p, out)) return VC_ERR_ARG;
    vcc_input in;
    vc_status st = vcc_prepare(vm, source, "source", &in);
    if (st != VC_OK) return st;
    /* sized for this source: a short one needs only a short window */
    const int T = vcd_stft_n_frames(in.e - in.b, vm->fp.hop);
    const int W = vcc_core_frames(vm, p->chunk_seconds, T) + 2 * VCC_CONTEXT + 2;
    vcv_setup vs = vocoder_setup(vm, p, W);
    vcc_chunk c;
    st = vcc_chunk_init(&c, vm, W, &vs);
    if (st == VC_OK) st = convert_prepared(&c, &in, voice, p, out);
    vcc_chunk_free(&c);
    free(in.x);
    return st;
}

/* ---- the reusable state ------------------------------------------------------------------- */

struct vc_converter {
    vc_convert_params p;
    vcc_chunk c;
};

vc_status vc_converter_init(const vc_model *vm, const vc_convert_params *p, vc_converter **out) {
    if (!vm || !p || !out || p->vocoder.iters < 0 || !(p->chunk_seconds > 0.0) ||
        p->chunk_seconds > VCC_MAX_CHUNK_SECONDS)
        return VC_ERR_ARG;
    *out = NULL;
    vc_converter *cv = calloc(1, sizeof *cv);
    if (!cv) return VC_ERR_NOMEM;
    cv->p = *p;
    /* sized for a full chunk: any source fits */
    const int W = vcc_core_frames(vm, p->chunk_seconds, INT_MAX - 2) + 2 * VCC_CONTEXT + 2;
    vcv_setup vs = vocoder_setup(vm, p, W);
    vc_status st = vcc_chunk_init(&cv->c, vm, W, &vs);
    if (st != VC_OK) {
        free(cv);
        return st;
    }
    *out = cv;
    return VC_OK;
}

void vc_converter_free(vc_converter *cv) {
    if (!cv) return;
    vcc_chunk_free(&cv->c);
    free(cv);
}

vc_status vc_converter_run(vc_converter *cv, const vc_audio *source, const vc_voice *voice,
                           vc_audio *out) {
    if (!cv || !convert_args_ok(cv->c.vm, source, voice, &cv->p, out)) return VC_ERR_ARG;
    vcc_input in;
    vc_status st = vcc_prepare(cv->c.vm, source, "source", &in);
    if (st == VC_OK) st = convert_prepared(&cv->c, &in, voice, &cv->p, out);
    free(in.x);
    return st;
}
