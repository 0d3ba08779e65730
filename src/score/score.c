/* The anomaly score (vc_score_audio): how badly the model reconstructs a recording.
 *
 *   prepare        resample, level, trim, as conversion does (vcc_prepare)
 *   file's voice   the speaker embedding of the whole speech span (windows of at most
 *                  SPK_WINDOW frames, weighted by frames, as vc_voice_from_audio pools it) and
 *                  the decoder's pitch input from the file's own F0
 *   per chunk      as vc_encode reads the span: model input -> content codes -> decode with the
 *                  file's own embedding and pitch; each core frame's error is the mean over the
 *                  mel bands of |decoded mel - input|, both normalised (the training loss's mel
 *                  term, so speech like the training data scores near the validation loss)
 *   spans          the frame errors averaged over each second of the speech span
 *
 * The model is only read; every array is made per call, so several threads may score at once.
 */
#include "common.h"
#include "convert/convert.h"
#include "dsp/stft.h"
#include "model/audio_contract.h"

#include <math.h>
#include <string.h>

#define SPK_WINDOW 1024      /* frames per speaker-embedding pass, as vc_voice_from_audio */
#define SPAN_SECONDS 1.0     /* length of a span */
#define SPAN_MIN_SECONDS 0.5 /* a shorter last span is merged into the one before */

/* The file's speaker embedding: windows of near-equal length, none longer than SPK_WINDOW,
 * averaged with their frame counts as weights. */
static vc_status file_speaker(const vcm_model *m, vc_frontend *fe, const float *x, size_t len,
                              int T, float *spk) {
    const int S = m->cfg.spk_dim, M = m->cfg.n_mels, Ts = T < SPK_WINDOW ? T : SPK_WINDOW;
    float *buf = malloc(sizeof(float) * ((size_t)2 * Ts * M + (size_t)S)); /* tm, xs, one spk */
    double *acc = calloc((size_t)S, sizeof *acc);
    vcm_workspace ws;
    memset(&ws, 0, sizeof ws);
    vc_status st = buf && acc ? vcm_workspace_init(&ws, m, 1, 2, Ts) : VC_ERR_NOMEM;
    int n_win = (T + SPK_WINDOW - 1) / SPK_WINDOW;
    for (int w = 0; st == VC_OK && w < n_win; w++) {
        int t0 = (int)((long)T * w / n_win), t1 = (int)((long)T * (w + 1) / n_win);
        float *tm = buf, *xs = buf + (size_t)Ts * M, *one = xs + (size_t)Ts * M;
        st = vcm_model_input(fe, m, x, len, t0, t1 - t0, t1 - t0, tm, xs);
        if (st == VC_OK) st = vcm_encode_speaker(m, &ws, xs, t1 - t0, one);
        for (int k = 0; st == VC_OK && k < S; k++) acc[k] += (double)one[k] * (t1 - t0);
    }
    for (int k = 0; st == VC_OK && k < S; k++) spk[k] = (float)(acc[k] / T);
    vcm_workspace_free(&ws);
    free(buf);
    free(acc);
    return st;
}

/* The decoder's pitch input (2, T) from the file's own F0; f0 (2 T) is scratch. */
static vc_status file_pitch(vc_frontend *fe, const float *x, size_t len, int T, float *f0,
                            float *pitch) {
    vc_status st = vc_frontend_f0(fe, x, len, f0, f0 + T);
    if (st == VC_OK) vcm_pitch_features(f0, f0 + T, T, pitch);
    return st;
}

/* The window [c->a, c->b) reconstructed; the errors of its core frames [c->core, c->end) into
 * err (indexed by frame of the span). */
static vc_status score_window(vcc_chunk *c, const float *x, size_t len, const float *pitch, int T,
                              const float *spk, float *err) {
    const int M = c->m->cfg.n_mels, Tw = c->b - c->a, Tw2 = Tw + (Tw & 1);
    vc_status st = vcc_encode_window(c, x, len, c->a, Tw);
    if (st != VC_OK) return st;
    for (int ch = 0; ch < 2; ch++)
        for (int t = 0; t < Tw2; t++)
            c->p[(size_t)ch * Tw2 + t] = pitch[(size_t)ch * T + c->a + (t < Tw ? t : Tw - 1)];
    st = vcm_decode(c->m, &c->ws, c->codes, NULL, 0.0f, Tw2 / 2, spk, c->p, NULL, c->mel, c->lin);
    for (int t = c->core; st == VC_OK && t < c->end; t++) {
        size_t i = (size_t)(t - c->a);
        double s = 0.0;
        for (int k = 0; k < M; k++)
            s += fabs(c->mel[(size_t)k * Tw2 + i] - c->x[(size_t)k * Tw2 + i]);
        err[t] = (float)(s / M);
    }
    return st;
}

/* Reconstruction errors of every frame of the speech x (len, T frames) into err (T). */
static vc_status score_frames(const vc_model *vm, const float *x, size_t len, int T,
                              double chunk_seconds, float *err) {
    const vcm_model *m = &vm->m;
    const int L = vcc_core_frames(vm, chunk_seconds, T);
    float *track = malloc(sizeof(float) * ((size_t)4 * T + (size_t)m->cfg.spk_dim));
    vcc_chunk c;
    memset(&c, 0, sizeof c);
    vc_status st = track ? vcc_chunk_init(&c, vm, L + 2 * VCC_CONTEXT + 2, NULL) : VC_ERR_NOMEM;
    float *f0 = track, *pitch = track + 2 * T, *spk = track + 4 * T; /* (2T) (2, T) (S) */
    if (st == VC_OK) st = file_pitch(c.fe, x, len, T, f0, pitch);
    if (st == VC_OK) st = file_speaker(m, c.fe, x, len, T, spk);
    for (int core = 0; st == VC_OK && core < T; core += L) {
        c.core = core;
        c.end = core + L < T ? core + L : T;
        c.a = core - VCC_CONTEXT > 0 ? core - VCC_CONTEXT : 0;
        c.b = core + L + VCC_CONTEXT < T ? core + L + VCC_CONTEXT : T;
        st = score_window(&c, x, len, pitch, T, spk, err);
    }
    vcc_chunk_free(&c);
    free(track);
    return st;
}

/* Spans of SPAN_SECONDS over the frame errors; a last span under SPAN_MIN_SECONDS joins the
 * one before it. Times are from the start of the file. */
static vc_status make_spans(vc_score *s) {
    const int per = (int)fmax(1.0, floor(SPAN_SECONDS / s->frame_seconds + 0.5));
    int n = (s->n_frames + per - 1) / per;
    if (n > 1 && (s->n_frames - (n - 1) * per) * s->frame_seconds < SPAN_MIN_SECONDS) n--;
    s->spans = calloc((size_t)n, sizeof *s->spans);
    if (!s->spans) return VC_ERR_NOMEM;
    for (int k = 0; k < n; k++) {
        int t0 = k * per, t1 = k == n - 1 ? s->n_frames : t0 + per;
        double sum = 0.0;
        for (int t = t0; t < t1; t++) sum += s->frame_error[t];
        s->spans[k].start_s = (s->first_frame + t0) * s->frame_seconds;
        s->spans[k].end_s = (s->first_frame + t1) * s->frame_seconds;
        s->spans[k].error = sum / (t1 - t0);
    }
    s->n_spans = n;
    return VC_OK;
}

vc_status vc_score_audio(const vc_model *vm, const vc_audio *a, double chunk_seconds,
                         vc_score *out) {
    if (!out) return VC_ERR_ARG;
    memset(out, 0, sizeof *out);
    if (!vm || !a || !(chunk_seconds > 0.0) || chunk_seconds > 600.0) return VC_ERR_ARG;
    vcc_input in;
    vc_status st = vcc_prepare(vm, a, "input", &in);
    if (st != VC_OK) return st;
    const float *x = in.x + in.b;
    size_t len = in.e - in.b;
    const int T = vcd_stft_n_frames(len, vm->fp.hop);
    out->frame_error = malloc(sizeof(float) * (size_t)T);
    out->n_frames = T;
    out->first_frame = (int)(in.b / (size_t)vm->fp.hop);
    out->frame_seconds = (double)vm->fp.hop / vm->fp.sample_rate;
    out->speech_seconds = (double)len / vm->fp.sample_rate;
    st = out->frame_error ? score_frames(vm, x, len, T, chunk_seconds, out->frame_error)
                          : VC_ERR_NOMEM;
    if (st == VC_OK) st = make_spans(out);
    if (st == VC_OK) {
        double sum = 0.0;
        for (int t = 0; t < T; t++) sum += out->frame_error[t];
        out->error = sum / T;
    }
    free(in.x);
    if (st != VC_OK) vc_score_free(out);
    return st;
}

void vc_score_free(vc_score *s) {
    if (!s) return;
    free(s->frame_error);
    free(s->spans);
    memset(s, 0, sizeof *s);
}
