/* Conversion: A's words in B's voice (the public vc_model, vc_voice and vc_convert).
 *
 *   source  resample -> level to VCM_LEVEL_DBFS -> trim silence -> F0 over the whole
 *           speech span (its log-F0 statistics set the pitch input)
 *           -> chunks of frames, each with context frames either side:
 *              log-mel -> content codes -> decode with the voice -> linear magnitude
 *              -> (harmonic vocoder) its envelope times harmonics at the target F0
 *              -> Griffin-Lim continuing the audio already written (a fixed prefix)
 *              -> raised-cosine crossfade into the output at the chunk boundary
 *           -> back to the source's loudness, silence restored around the speech span
 *   voice   per reference: resample -> level -> trim -> speaker embedding over windows of at
 *           most VOICE_WINDOW frames; embeddings averaged by frames over every reference, and
 *           the log-F0 mean and spread pooled over their voiced frames
 *
 * Memory is bounded by the chunk, not the source: only the audio itself, F0 and pitch (a few
 * floats per frame) span the whole input. The content encoder's instance norm and the decoder's
 * AdaIN take their statistics over a chunk window instead of the whole utterance; with windows
 * of several seconds the difference is small (tests/test_convert.c measures it).
 */
#include "convert/convert.h"

#include "common.h"
#include "dsp/excitation.h"
#include "dsp/frontend.h"
#include "dsp/griffinlim.h"
#include "model/audio_contract.h"

#include <math.h>
#include <string.h>

#define VOICE_WINDOW 1024 /* frames per speaker-embedding pass (16 s at hop 256) */
#define CHUNK_CONTEXT 128 /* frames of model context each side of a chunk; even */
#define GL_MARGIN 64      /* frames of vocoder context each side of a chunk's core */
#define CHUNK_FADE 2      /* frames of crossfade at the end of a chunk's fixed prefix */
#define MIN_REFERENCE_SECONDS 0.5
#define LIMIT_KNEE 0.891f      /* -1 dBFS: where the output's soft limiter starts */
#define SYNTH_MAX_CODES 4096   /* codes vc_synthesize_codes takes at once (about 2 min) */
#define LEVEL_ROUNDS 4         /* level, limit, measure again */
#define DYNAMICS_MAX_GAIN 4.0f /* the most the spectral dynamics are stretched */
#define DYNAMICS_WINDOW 128    /* frames (2 s) of the slow part's moving average */

vc_convert_params vc_convert_default_params(void) {
    vc_convert_params p = {
        .auto_pitch = 1,
        .pitch_shift = 0.0f,
        .harmonic = 1,
        .match_dynamics = 1,
        .vocoder = vc_vocoder_default_params(),
        .chunk_seconds = 10.0,
        .progress = NULL,
    };
    return p;
}

void vc_voice_free(vc_voice *v) {
    if (!v) return;
    free(v->embedding);
    free(v->log_mag_std);
    memset(v, 0, sizeof *v);
}

/* ---- shared analysis ---------------------------------------------------------------------- */

vc_status vcc_prepare(const vc_model *vm, const vc_audio *a, const char *what, vcc_input *out) {
    memset(out, 0, sizeof *out);
    if (!a || !a->samples || a->n_samples == 0 || a->sample_rate < 1) {
        vc_log(VC_LOG_ERROR, "%s: no audio", what);
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
            vc_log(VC_LOG_ERROR, "%s: no speech found (silent, or shorter than %d samples)", what,
                   vm->fp.n_fft);
    }
    if (st != VC_OK) {
        free(out->x);
        memset(out, 0, sizeof *out);
    }
    return st;
}

/* Splits the log-magnitude lm (T, F) into a slow part, each bin's mean over the DYNAMICS_WINDOW
 * frames around each frame (cut at the ends), written to slow (T, F), and the fast part left in
 * lm: lm - slow. scratch: T + 1 doubles. The spectral dynamics are measured and stretched on
 * the fast part only, so a slow change of level or timbre (a new sentence, another speaker in a
 * long recording) is kept as it is, not amplified. */
static void split_dynamics(float *lm, float *slow, int T, int F, double *scratch) {
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

/* ---- voice -------------------------------------------------------------------------------- */

vc_status vc_voice_from_audio(const vc_model *vm, const vc_audio *refs, int n_refs, vc_voice *out) {
    if (!vm || !refs || n_refs < 1 || !out) return VC_ERR_ARG;
    memset(out, 0, sizeof *out);
    const vcm_model *m = &vm->m;
    int S = m->cfg.spk_dim, M = m->cfg.n_mels;
    double *acc = calloc((size_t)S, sizeof *acc); // (S) frame-weighted sum of embeddings
    float *spk = malloc((size_t)S * sizeof *spk);
    float *tm = malloc((size_t)VOICE_WINDOW * M * sizeof *tm); // (window, M)
    float *xs = malloc((size_t)VOICE_WINDOW * M * sizeof *xs); // (M, window)
    const int F = m->cfg.n_bins;
    float *mag = malloc((size_t)VOICE_WINDOW * F * sizeof *mag);   // (window, F)
    double *lsum = calloc(2 * (size_t)F, sizeof *lsum);            // (2, F) fast-part moments
    float *slow = malloc((size_t)VOICE_WINDOW * F * sizeof *slow); // (window, F)
    double *dscratch = malloc(((size_t)VOICE_WINDOW + 1) * sizeof *dscratch);
    vc_frontend *fe = NULL;
    vcm_workspace ws = {0};
    vc_status st = acc && spk && tm && xs && mag && lsum && slow && dscratch ? VC_OK : VC_ERR_NOMEM;
    if (st == VC_OK) st = vc_frontend_init(&vm->fp, &fe);
    if (st == VC_OK) st = vcm_workspace_init(&ws, m, 1, 2, VOICE_WINDOW);
    double frames = 0.0, s1 = 0.0, s2 = 0.0, seconds = 0.0;
    long voiced = 0;
    for (int r = 0; r < n_refs && st == VC_OK; r++) {
        char what[32];
        snprintf(what, sizeof what, "reference %d", r + 1);
        vcc_input in;
        if ((st = vcc_prepare(vm, &refs[r], what, &in)) != VC_OK) break;
        const float *x = in.x + in.b;
        size_t len = in.e - in.b;
        double sec = (double)len / vm->fp.sample_rate;
        if (sec < MIN_REFERENCE_SECONDS) {
            vc_log(VC_LOG_ERROR, "%s: only %.2f s of speech; a reference needs at least %.1f s",
                   what, sec, MIN_REFERENCE_SECONDS);
            st = VC_ERR_AUDIO;
        }
        int T = vc_frontend_n_frames(fe, len);
        float *f0 = st == VC_OK ? malloc(sizeof(float) * 2 * (size_t)T) : NULL; // (T) f0, voicing
        if (st == VC_OK && !f0) st = VC_ERR_NOMEM;
        if (st == VC_OK) st = vc_frontend_f0(fe, x, len, f0, f0 + T);
        for (int t = 0; st == VC_OK && t < T; t++)
            if (f0[t] > 0.0f) {
                double l = log(f0[t]);
                s1 += l;
                s2 += l * l;
                voiced++;
            }
        free(f0);
        /* windows of near-equal length, none longer than VOICE_WINDOW */
        int n_win = (T + VOICE_WINDOW - 1) / VOICE_WINDOW;
        for (int w = 0; st == VC_OK && w < n_win; w++) {
            int t0 = (int)((long)T * w / n_win), t1 = (int)((long)T * (w + 1) / n_win);
            st = vcm_model_input(fe, m, x, len, t0, t1 - t0, t1 - t0, tm, xs);
            if (st == VC_OK) st = vcm_encode_speaker(m, &ws, xs, t1 - t0, spk);
            for (int k = 0; st == VC_OK && k < S; k++) acc[k] += (double)spk[k] * (t1 - t0);
            frames += t1 - t0;
            if (st != VC_OK) break;
            stft_magnitude_frames(frontend_stft(fe), mag, x, len, t0, t1 - t0);
            vcm_log_magnitude(mag, (size_t)(t1 - t0) * F);
            split_dynamics(mag, slow, t1 - t0, F, dscratch);
            for (int t = 0; t < t1 - t0; t++)
                for (int f = 0; f < F; f++) {
                    double l = mag[(size_t)t * F + f];
                    lsum[f] += l;
                    lsum[F + f] += l * l;
                }
        }
        seconds += sec;
        free(in.x);
    }
    if (st == VC_OK) {
        out->embedding = malloc((size_t)S * sizeof *out->embedding);
        out->log_mag_std = malloc((size_t)F * sizeof *out->log_mag_std);
        if (!out->embedding || !out->log_mag_std) st = VC_ERR_NOMEM;
    }
    if (st == VC_OK) {
        for (int k = 0; k < S; k++) out->embedding[k] = (float)(acc[k] / frames);
        for (int f = 0; f < F; f++) {
            double mu = lsum[f] / frames, var = lsum[F + f] / frames - mu * mu;
            out->log_mag_std[f] = (float)sqrt(var > 0.0 ? var : 0.0);
        }
        out->n_bins = F;
        out->dim = S;
        out->voiced_frames = (int)voiced;
        out->logf0_mean = voiced ? s1 / (double)voiced : 0.0;
        double var = voiced ? s2 / (double)voiced - out->logf0_mean * out->logf0_mean : 0.0;
        out->logf0_std = sqrt(var > 0.0 ? var : 0.0);
        out->seconds = seconds;
    }
    if (st != VC_OK) vc_voice_free(out);
    vcm_workspace_free(&ws);
    vc_frontend_free(fe);
    free(lsum);
    free(slow);
    free(dscratch);
    free(mag);
    free(xs);
    free(tm);
    free(spk);
    free(acc);
    return st;
}

/* ---- conversion --------------------------------------------------------------------------- */

/* Pitch input of the decoder for the whole speech span, (2, T). Automatic key: the source's
 * contour normalised by its own log-F0 statistics, which the decoder maps into the voice's range
 * (training paired each contour with its own speaker). With a shift: the source's log-F0 moved
 * by the shift, expressed in the voice's statistics, so the decoder renders that absolute pitch. */
static void pitch_input(const float *f0, const float *voicing, int T, const vc_voice *v,
                        const vc_convert_params *p, float *out) {
    vcm_pitch_features(f0, voicing, T, out);
    if (p->auto_pitch) return;
    double shift = p->pitch_shift * log(2.0) / 12.0;
    double sigma = v->logf0_std > VCM_PITCH_STD_FLOOR ? v->logf0_std : VCM_PITCH_STD_FLOOR;
    for (int t = 0; t < T; t++)
        out[t] = f0[t] > 0.0f ? (float)((log(f0[t]) + shift - v->logf0_mean) / sigma) : 0.0f;
}

/* The F0 the output should have, for the harmonic vocoder, written over f0 (T): the source's
 * normalised contour (pitch channel 0) in the voice's log-F0 range, or the source's own F0 moved
 * by the shift. Unvoiced frames stay 0. A voice without voiced frames keeps the source's F0. */
static void target_f0(float *f0, int T, const float *pitch, const vc_voice *v,
                      const vc_convert_params *p) {
    int automatic = p->auto_pitch && v->voiced_frames > 0;
    double ratio = p->auto_pitch ? 1.0 : pow(2.0, p->pitch_shift / 12.0);
    for (int t = 0; t < T; t++) {
        if (f0[t] <= 0.0f) continue;
        f0[t] = automatic ? (float)exp(v->logf0_mean + v->logf0_std * pitch[t])
                          : (float)(f0[t] * ratio);
    }
}

/* Undo the over-smoothing of a regression model (its outputs vary less over time than speech
 * does, which is heard as muffled and averaged): the fast part of each bin's log-magnitude
 * (split_dynamics) is stretched so that its spread matches the voice's (target_std), never
 * shrunk and at most DYNAMICS_MAX_GAIN times: the "global variance" compensation of statistical
 * speech synthesis (Toda & Tokuda 2007), per bin, on the fast part. Measured on fast (T, F);
 * gain (F). */
static void dynamics_gain(const float *fast, int T, int F, const float *target_std, float *gain) {
    for (int f = 0; f < F; f++) {
        double s2 = 0.0;
        for (int t = 0; t < T; t++) s2 += (double)fast[(size_t)t * F + f] * fast[(size_t)t * F + f];
        double sd = sqrt(s2 / T);
        float g = sd > 1e-6 ? (float)(target_std[f] / sd) : 1.0f;
        gain[f] = fminf(fmaxf(g, 1.0f), DYNAMICS_MAX_GAIN);
    }
}

/* *y times g, through a soft limiter: above LIMIT_KNEE the excess is compressed by tanh into
 * the headroom left below full scale, so a rare peak is rounded off instead of the whole output
 * being turned down (which would move its loudness away from the source's). Returns 1 when the
 * sample was limited. */
static int soft_limit(float *y, float g) {
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

/* Scratch of one conversion, sized for the largest chunk window. */
typedef struct chunk_ws {
    vcm_workspace ws;
    float *tm;        // (W, M) log-mel as the front end gives it
    float *x;         // (M, W) normalised, channel-major
    float *p;         // (2, W) pitch slice
    int *codes;       // (W / 2)
    float *mel;       // (M, W) decoder output (unused beyond the call)
    float *lin;       // (F, W) normalised log-magnitude
    float *mag;       // (W, F) linear magnitude, frame-major for the vocoder
    float *tail;      // (2 ctx, F) log-magnitude of the previous window's last 2 ctx frames
    float *exc;       // (2 F) excitation_shape scratch
    float *dyn_gain;  // (F) match_dynamics: each bin's stretch
    float *slow;      // (W, F) the slow part of the log-magnitude
    double *dscratch; // (W + 1)
    float *audio;     // (W * hop) the window's audio
} chunk_ws;

static void chunk_ws_free(chunk_ws *c) {
    vcm_workspace_free(&c->ws);
    free(c->tm);
    free(c->x);
    free(c->p);
    free(c->codes);
    free(c->mel);
    free(c->lin);
    free(c->mag);
    free(c->tail);
    free(c->exc);
    free(c->dyn_gain);
    free(c->slow);
    free(c->dscratch);
    free(c->audio);
    memset(c, 0, sizeof *c);
}

static vc_status chunk_ws_init(chunk_ws *c, const vcm_model *m, int W, int hop) {
    memset(c, 0, sizeof *c);
    size_t M = (size_t)m->cfg.n_mels, F = (size_t)m->cfg.n_bins, w = (size_t)W;
    c->tm = malloc(w * M * sizeof(float));
    c->x = malloc(w * M * sizeof(float));
    c->p = malloc(2 * w * sizeof(float));
    c->codes = malloc(w / 2 * sizeof(int));
    c->mel = malloc(w * M * sizeof(float));
    c->lin = malloc(w * F * sizeof(float));
    c->mag = malloc(w * F * sizeof(float));
    c->tail = malloc(2 * CHUNK_CONTEXT * F * sizeof(float));
    c->exc = malloc(2 * F * sizeof(float));
    c->dyn_gain = malloc(F * sizeof(float));
    c->slow = malloc(w * F * sizeof(float));
    c->dscratch = malloc((w + 1) * sizeof(double));
    c->audio = malloc(w * (size_t)hop * sizeof(float));
    vc_status st = c->tm && c->x && c->p && c->codes && c->mel && c->lin && c->mag && c->tail &&
                           c->exc && c->dyn_gain && c->slow && c->dscratch && c->audio
                       ? vcm_workspace_init(&c->ws, m, 1, W, 1)
                       : VC_ERR_NOMEM;
    c->ws.norm_window = VCM_TRAIN_FRAMES;
    if (st != VC_OK) chunk_ws_free(c);
    return st;
}

/* Raised-cosine weight of the new chunk at position i of a crossfade of n samples. */
static float fade_in(size_t i, size_t n) {
    return 0.5f - 0.5f * (float)cos(VC_TWO_PI * 0.5 * ((double)i + 0.5) / (double)n);
}

/* Chunk cores of L frames (even, so codes stay aligned) for a speech span of T frames; each
 * chunk is read with CHUNK_CONTEXT frames either side: window [a, b) = [core - ctx,
 * core + L + ctx) within [0, T). */
static int chunk_frames(const vc_model *vm, double chunk_seconds, int T) {
    int L = 2 * (int)fmax(1.0, chunk_seconds * vm->fp.sample_rate / vm->fp.hop / 2.0);
    if (L < 2 * CHUNK_CONTEXT) L = 2 * CHUNK_CONTEXT; /* the vocoder's prefix needs this much */
    if (L > T) L = T + (T & 1);
    return L;
}

/* The decoder's normalised log-magnitude lin (F, stride), frames [0, T), denormalised into
 * mag (T, F), frame-major as the vocoder wants it. */
static void log_magnitude_of(const vcm_model *m, const float *lin, int stride, int T, float *mag) {
    const int F = m->cfg.n_bins;
    for (int t = 0; t < T; t++)
        for (int f = 0; f < F; f++)
            mag[(size_t)t * F + f] = vcm_lin_denorm(m, f, lin[(size_t)f * stride + t]);
}

/* Content codes of window [a, a + Tw) of the speech x (len) into c->codes (Tw2 / 2, Tw2 = Tw
 * rounded up to even, the last frame repeated). */
static vc_status encode_window(vc_frontend *fe, const vcm_model *m, const float *x, size_t len,
                               int a, int Tw, chunk_ws *c) {
    int Tw2 = Tw + (Tw & 1);
    vc_status st = vcm_model_input(fe, m, x, len, a, Tw, Tw2, c->tm, c->x);
    return st == VC_OK ? vcm_encode_content(m, &c->ws, c->x, Tw2, c->codes) : st;
}

/* Content codes of window [a, a + Tw) decoded with the voice and the pitch input (2, T) into
 * c->mag as the log-magnitude (Tw, F), denormalised. */
static vc_status decode_window(vc_frontend *fe, const vcm_model *m, const float *x, size_t len,
                               const float *pitch, int T, int a, int Tw, const vc_voice *voice,
                               chunk_ws *c) {
    int Tw2 = Tw + (Tw & 1);
    vc_status st = encode_window(fe, m, x, len, a, Tw, c);
    if (st != VC_OK) return st;
    for (int ch = 0; ch < 2; ch++)
        for (int t = 0; t < Tw2; t++)
            c->p[(size_t)ch * Tw2 + t] = pitch[(size_t)ch * T + a + (t < Tw ? t : Tw - 1)];
    st = vcm_decode(m, &c->ws, c->codes, Tw2 / 2, voice->embedding, c->p, c->mel, c->lin);
    if (st != VC_OK) return st;
    log_magnitude_of(m, c->lin, Tw2, Tw, c->mag);
    return VC_OK;
}

vc_status vc_synthesize_codes(const vc_model *vm, const int *codes, int n_codes,
                              const vc_voice *voice, const vc_convert_params *p, vc_audio *out) {
    if (!vm || !codes || n_codes < 1 || n_codes > SYNTH_MAX_CODES || !voice || !p || !out ||
        !voice->embedding || voice->dim != vm->m.cfg.spk_dim || p->vocoder.iters < 0)
        return VC_ERR_ARG;
    const vcm_model *m = &vm->m;
    const int T = 2 * n_codes, F = m->cfg.n_bins, hop = vm->fp.hop;
    for (int i = 0; i < n_codes; i++)
        if (codes[i] < 0 || codes[i] >= m->cfg.codebook_size) return VC_ERR_ARG;
    vc_frontend *fe = NULL;
    chunk_ws c = {0};
    float *f0 = malloc(sizeof(float) * 2 * (size_t)T); // (T) F0, (T) voicing
    size_t n = (size_t)(T - 1) * hop;
    vc_status st = f0 ? vc_frontend_init(&vm->fp, &fe) : VC_ERR_NOMEM;
    if (st == VC_OK) st = chunk_ws_init(&c, m, T, hop);
    if (st == VC_OK) {
        /* level pitch at the voice's mean, fully voiced: the contour input is 0 */
        float hz = voice->voiced_frames > 0 ? (float)exp(voice->logf0_mean) : 120.0f;
        for (int t = 0; t < T; t++) {
            c.p[t] = 0.0f;
            c.p[T + t] = 1.0f;
            f0[t] = hz;
            f0[T + t] = 1.0f;
        }
        st = vcm_decode(m, &c.ws, codes, n_codes, voice->embedding, c.p, c.mel, c.lin);
    }
    if (st == VC_OK) {
        log_magnitude_of(m, c.lin, T, T, c.mag);
        vcm_magnitude(c.mag, (size_t)T * F);
        if (p->harmonic)
            excitation_shape(c.mag, T, F, f0, f0 + T,
                             (float)vm->fp.sample_rate / (float)vm->fp.n_fft, c.exc);
        vc_vocoder_params vp = p->vocoder;
        vp.progress = NULL;
        st = griffin_lim(frontend_stft(fe), c.audio, n, c.mag, T, &vp);
    }
    if (st == VC_OK) {
        out->samples = malloc(n * sizeof *out->samples);
        if (!out->samples) st = VC_ERR_NOMEM;
    }
    if (st == VC_OK) {
        vc_level lv;
        st = vc_audio_level(c.audio, n, vm->fp.sample_rate, &lv);
        float g = st == VC_OK && lv.active_dbfs > VC_LEVEL_FLOOR_DB ? vcm_level_gain(lv.active_dbfs)
                                                                    : 0.0f;
        for (size_t i = 0; i < n; i++) {
            out->samples[i] = c.audio[i];
            soft_limit(&out->samples[i], g);
        }
        out->n_samples = n;
        out->sample_rate = vm->fp.sample_rate;
    }
    if (st != VC_OK) vc_audio_free(out);
    chunk_ws_free(&c);
    vc_frontend_free(fe);
    free(f0);
    return st;
}

vc_status vc_encode(const vc_model *vm, const vc_audio *a, double chunk_seconds, int **codes,
                    int *n_codes, int *first_frame) {
    if (!vm || !a || !codes || !n_codes || !(chunk_seconds > 0.0)) return VC_ERR_ARG;
    *codes = NULL;
    *n_codes = 0;
    vcc_input in;
    vc_status st = vcc_prepare(vm, a, "input", &in);
    if (st != VC_OK) return st;
    const float *x = in.x + in.b;
    size_t len = in.e - in.b;
    vc_frontend *fe = NULL;
    chunk_ws c = {0};
    int T = 0, L = 0, *out = NULL;
    if ((st = vc_frontend_init(&vm->fp, &fe)) == VC_OK) {
        T = vc_frontend_n_frames(fe, len);
        L = chunk_frames(vm, chunk_seconds, T);
        out = malloc(sizeof(int) * (size_t)(T + 1) / 2);
        st = out ? chunk_ws_init(&c, &vm->m, L + 2 * CHUNK_CONTEXT + 2, vm->fp.hop) : VC_ERR_NOMEM;
    }
    for (int core = 0; st == VC_OK && core < T; core += L) {
        int w0 = core - CHUNK_CONTEXT > 0 ? core - CHUNK_CONTEXT : 0;
        int w1 = core + L + CHUNK_CONTEXT < T ? core + L + CHUNK_CONTEXT : T;
        if ((st = encode_window(fe, &vm->m, x, len, w0, w1 - w0, &c)) != VC_OK) break;
        int end = core + L < T ? core + L : T; /* the core's codes: frames [core, end) */
        for (int t = core / 2; t < (end + 1) / 2; t++) out[t] = c.codes[t - w0 / 2];
    }
    if (st == VC_OK) {
        *codes = out;
        *n_codes = (T + 1) / 2;
        if (first_frame) *first_frame = (int)(in.b / (size_t)vm->fp.hop);
        out = NULL;
    }
    free(out);
    chunk_ws_free(&c);
    vc_frontend_free(fe);
    free(in.x);
    return st;
}

vc_status vc_convert(const vc_model *vm, const vc_audio *source, const vc_voice *voice,
                     const vc_convert_params *p, vc_audio *out) {
    if (!vm || !source || !voice || !p || !out || !voice->embedding ||
        voice->dim != vm->m.cfg.spk_dim ||
        (p->match_dynamics && (!voice->log_mag_std || voice->n_bins != vm->m.cfg.n_bins)) ||
        p->vocoder.iters < 0 || !(p->chunk_seconds > 0.0))
        return VC_ERR_ARG;
    const vcm_model *m = &vm->m;
    const int hop = vm->fp.hop, F = m->cfg.n_bins;
    vcc_input in;
    vc_status st = vcc_prepare(vm, source, "source", &in);
    if (st != VC_OK) return st;
    const float *x = in.x + in.b;
    const size_t len = in.e - in.b;
    vc_frontend *fe = NULL;
    chunk_ws c = {0};
    float *f0 = NULL, *pitch = NULL, *full = NULL, *y = NULL;
    int T = 0;
    if ((st = vc_frontend_init(&vm->fp, &fe)) == VC_OK) {
        T = vc_frontend_n_frames(fe, len);
        f0 = malloc(sizeof(float) * 2 * (size_t)T);    // (T) f0, then (T) voicing
        pitch = malloc(sizeof(float) * 2 * (size_t)T); // (2, T)
        full = calloc(in.n, sizeof *full); // (n) the output, silent outside the speech span
        y = full ? full + in.b : NULL;     // (len) the converted speech span
        if (!f0 || !pitch || !full) st = VC_ERR_NOMEM;
    }
    if (st == VC_OK) st = vc_frontend_f0(fe, x, len, f0, f0 + T);
    if (st == VC_OK) pitch_input(f0, f0 + T, T, voice, p, pitch);
    if (st == VC_OK && p->harmonic) target_f0(f0, T, pitch, voice, p);

    const int L = chunk_frames(vm, p->chunk_seconds, T), ctx = CHUNK_CONTEXT, W = L + 2 * ctx + 2;
    if (st == VC_OK) st = chunk_ws_init(&c, m, W, hop);
    vc_vocoder_params vp = p->vocoder;
    vp.progress = NULL;
    int n_chunks = (T + L - 1) / L;
    for (int k = 0; st == VC_OK && k < n_chunks; k++) {
        int core = k * L, end = core + L < T ? core + L : T;
        int a = core - ctx > 0 ? core - ctx : 0, b = core + L + ctx < T ? core + L + ctx : T;
        int Tw = b - a;
        if ((st = decode_window(fe, m, x, len, pitch, T, a, Tw, voice, &c)) != VC_OK) break;
        /* The fast part's stretch is measured once, on the first chunk's core (all of the
         * speech up to chunk_seconds), and applied alike to every chunk. */
        if (p->match_dynamics) {
            split_dynamics(c.mag, c.slow, Tw, F, c.dscratch);
            if (k == 0)
                dynamics_gain(c.mag + (size_t)(core - a) * F, end - core, F, voice->log_mag_std,
                              c.dyn_gain);
            for (int t = 0; t < Tw; t++)
                for (int f = 0; f < F; f++) {
                    size_t i = (size_t)t * F + f;
                    c.mag[i] = c.slow[i] + c.dyn_gain[f] * c.mag[i];
                }
        }
        /* Where the previous window overlaps: its values first, then a ramp to this window's
         * over the ctx frames after the core's start, so the vocoder's target has no step at
         * the junction. */
        for (int t = 0; k && t < core - a + ctx / 2 && t < Tw; t++) {
            float w = t < core - a ? 0.0f : fade_in((size_t)(t - core + a), ctx / 2);
            for (int f = 0; f < F; f++) {
                float *l = &c.mag[(size_t)t * F + f];
                *l = w * *l + (1.0f - w) * c.tail[(size_t)t * F + f];
            }
        }
        /* keep the frames the next window will overlap: [b - 2 ctx, b) */
        if (b < T) memcpy(c.tail, c.mag + (size_t)(Tw - 2 * ctx) * F, sizeof(float) * 2 * ctx * F);
        /* The vocoder runs on frames [g0, g1): the chunk's core with GL_MARGIN frames either
         * side (the model needed more context than the vocoder does). From the second chunk on,
         * the audio already written over [g0, core) is the fixed prefix the vocoder continues;
         * the audio starts at sample g0 * hop, and the last window runs to the end. */
        int g0 = k ? core - GL_MARGIN : 0, g1 = end + GL_MARGIN < T ? end + GL_MARGIN : T;
        int Tg = g1 - g0;
        float *gm = c.mag + (size_t)(g0 - a) * F; // (Tg, F)
        vcm_magnitude(gm, (size_t)Tg * F);
        if (p->harmonic)
            excitation_shape(gm, Tg, F, f0 + g0, f0 + T + g0,
                             (float)vm->fp.sample_rate / (float)vm->fp.n_fft, c.exc);
        size_t s0 = (size_t)g0 * hop, nw = g1 == T ? len - s0 : (size_t)(Tg - 1) * hop;
        size_t fixed = k ? (size_t)(core - g0) * hop : 0;
        if (k) memcpy(c.audio, y + s0, fixed * sizeof(float));
        st = griffin_lim_prefix(frontend_stft(fe), c.audio, nw, gm, Tg, &vp, fixed);
        if (st != VC_OK) break;
        /* Into the output: from the prefix to the solution over the prefix's last samples,
         * where the two are coherent (the solution was held to the prefix there). */
        size_t fade_n = fixed < (size_t)CHUNK_FADE * hop ? fixed : (size_t)CHUNK_FADE * hop;
        for (size_t i = fixed - fade_n; i < nw; i++) {
            size_t s = s0 + i;
            if (i < fixed) {
                float w = fade_in(i - (fixed - fade_n), fade_n);
                y[s] = (1.0f - w) * y[s] + w * c.audio[i];
            } else {
                y[s] = c.audio[i];
            }
        }
        if (p->progress) p->progress((double)(k + 1) / n_chunks, p->progress_user);
    }
    /* Back to the source's loudness, speech span in place, silence around it. The limiter takes
     * a little energy from the peaks, so the level is measured again and the shortfall made up
     * (a few rounds at most; each adds less). */
    vc_level lv;
    size_t limited = 0;
    for (int round = 0; st == VC_OK && round < LEVEL_ROUNDS; round++) {
        if ((st = vc_audio_level(full, in.n, vm->fp.sample_rate, &lv)) != VC_OK) break;
        double gain_db = in.level_db - lv.active_dbfs;
        if (lv.active_dbfs <= VC_LEVEL_FLOOR_DB || (round && fabs(gain_db) < 0.05)) break;
        float g = (float)pow(10.0, gain_db / 20.0);
        limited = 0;
        for (size_t i = 0; i < len; i++) limited += soft_limit(&y[i], g);
    }
    if (st == VC_OK) {
        if (limited > len / 1000)
            vc_log(VC_LOG_WARN, "%.2f%% of the output's samples were above %.1f dBFS and limited",
                   100.0 * (double)limited / (double)len, 20.0 * log10(LIMIT_KNEE));
        out->samples = full;
        out->n_samples = in.n;
        out->sample_rate = vm->fp.sample_rate;
        full = NULL; /* handed over */
    }
    chunk_ws_free(&c);
    vc_frontend_free(fe);
    free(full);
    free(pitch);
    free(f0);
    free(in.x);
    return st;
}
