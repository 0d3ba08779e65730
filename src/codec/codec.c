/* The codec on the model: vc_codec_encode (audio -> .vcq) and vc_codec_decode (.vcq -> audio).
 * Encoding reuses what conversion computes (vc_encode's codes, the front end's F0, the speaker
 * embedding of vc_voice_from_audio); decoding renders the codes as vc_convert renders a source
 * (vcc_render_codes). The bitstream itself is codec/stream.c. */
#include "codec/stream.h"
#include "convert/convert.h"

#include "common.h"
#include "dsp/stft.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static uint64_t fnv1a(uint64_t h, const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* The model hash as a stream stores it: folded to 32 bits. */
static vc_status stream_hash(const vc_model *vm, uint32_t *out) {
    uint64_t h = 0;
    vc_status st = vc_codec_model_hash(vm, &h);
    *out = (uint32_t)(h ^ h >> 32);
    return st;
}

vc_status vc_codec_model_hash(const vc_model *vm, uint64_t *out) {
    if (!vm || !out) return VC_ERR_ARG;
    char *cfg = NULL;
    vc_status st = vc_model_config_json(vm, &cfg);
    if (st != VC_OK) return st;
    uint64_t h = fnv1a(0xcbf29ce484222325ull, cfg, strlen(cfg));
    free(cfg);
    const vc_params *pp = &vm->m.params;
    h = fnv1a(h, pp->data, pp->total * sizeof(float));
    const char *prior = vc_model_meta(vm, VC_CODEC_PRIOR_KEY);
    *out = prior ? fnv1a(h, prior, strlen(prior)) : h;
    return VC_OK;
}

/* The model's code prior as the codes' initial counts (vcq_prior_counts), or *counts NULL when
 * it has none. VC_ERR_FORMAT (logged) for an entry that is not codebook-size counts. */
static vc_status model_prior(const vc_model *vm, uint16_t **counts) {
    *counts = NULL;
    const char *p = vc_model_meta(vm, VC_CODEC_PRIOR_KEY);
    if (!p) return VC_OK;
    const int K = vm->m.cfg.codebook_size;
    uint32_t *raw = malloc(sizeof *raw * (size_t)K);
    uint16_t *c = malloc(sizeof *c * (size_t)K);
    vc_status st = raw && c ? VC_OK : VC_ERR_NOMEM;
    for (int i = 0; st == VC_OK && i < K; i++) {
        char *end = NULL;
        errno = 0;
        unsigned long long v = *p >= '0' && *p <= '9' ? strtoull(p, &end, 10) : 0;
        if (!end || errno || v > UINT32_MAX || *end != (i + 1 < K ? ',' : '\0'))
            st = VC_ERR_FORMAT;
        else
            raw[i] = (uint32_t)v, p = end + 1;
    }
    if (st == VC_ERR_FORMAT)
        vcu_log(VC_LOG_ERROR, "the model's %s is not %d comma-separated counts", VC_CODEC_PRIOR_KEY,
                K);
    if (st == VC_OK) vcq_prior_counts(raw, K, c);
    free(raw);
    if (st == VC_OK)
        *counts = c;
    else
        free(c);
    return st;
}

vc_status vc_codec_save_with_prior(const vc_model *vm, const char *path, const uint64_t *counts) {
    if (!vm || !path || !counts) return VC_ERR_ARG;
    const int K = vm->m.cfg.codebook_size;
    uint64_t total = 0;
    for (int i = 0; i < K; i++) total += counts[i];
    char *value = malloc(11 * (size_t)K + 1); /* "4294967295," each */
    if (!value) return VC_ERR_NOMEM;
    size_t at = 0;
    for (int i = 0; i < K; i++) { /* counts scaled into 32 bits when the corpus is that large */
        uint64_t v = total > UINT32_MAX ? counts[i] * (uint64_t)UINT32_MAX / total : counts[i];
        at += (size_t)sprintf(value + at, "%s%" PRIu64, i ? "," : "", v);
    }
    const char *kv[2] = {VC_CODEC_PRIOR_KEY, value};
    vc_status st = vc_model_save(vm, path, 0, kv, 1);
    free(value);
    return st;
}

/* The quantised log-F0 of each code: the mean log-F0 of its voiced frames (of 2t, 2t + 1 < T);
 * VCQ_UNVOICED when neither is voiced. */
static void quantise_f0(const float *f0, int T, int16_t *q, int n_codes) {
    for (int i = 0; i < n_codes; i++) {
        double s = 0.0;
        int k = 0;
        for (int t = 2 * i; t < 2 * i + 2 && t < T; t++)
            if (f0[t] > 0.0f) s += log2(f0[t] / VCQ_F0_BASE_HZ), k++;
        long v = k ? lround(s / k * VCQ_F0_PER_OCTAVE) : VCQ_UNVOICED;
        q[i] = (int16_t)(k ? (v < 0 ? 0 : v >= VCQ_F0_LEVELS ? VCQ_F0_LEVELS - 1 : v) : v);
    }
}

static float dequantise_f0(int q) {
    return q == VCQ_UNVOICED ? 0.0f : (float)(VCQ_F0_BASE_HZ * exp2(q / VCQ_F0_PER_OCTAVE));
}

/* The embedding in steps of about half its RMS (the step a power of 2^(1/8), its code stored),
 * each value clamped to VCQ_SPK_MAX steps. */
static void quantise_speaker(const float *e, int S, vcq_stream *s) {
    double ss = 0.0;
    for (int k = 0; k < S; k++) ss += (double)e[k] * e[k];
    double rms = sqrt(ss / S);
    long code = rms > 0.0 ? lround(8.0 * (log2(0.5 * rms) + 16.0)) : 0;
    s->spk_step = (int)(code < 0 ? 0 : code > 255 ? 255 : code);
    const double step = vcq_spk_step(s->spk_step);
    for (int k = 0; k < S; k++) {
        long q = lround(e[k] / step);
        s->spk[k] = (int8_t)(q < -VCQ_SPK_MAX ? -VCQ_SPK_MAX : q > VCQ_SPK_MAX ? VCQ_SPK_MAX : q);
    }
}

/* The F0 (T frames) of the speech span of the prepared input. */
static vc_status span_f0(const vc_model *vm, const vcc_input *in, float *f0, float *voicing) {
    vc_frontend *fe = NULL;
    vc_status st = vc_frontend_init(&vm->fp, &fe);
    if (st == VC_OK) st = vc_frontend_f0(fe, in->x + in->b, in->e - in->b, f0, voicing);
    vc_frontend_free(fe);
    return st;
}

/* The stream's parts from a: codes (vc_encode), F0 of the speech span, speaker embedding. */
static vc_status analyse(const vc_model *vm, const vc_audio *a, double chunk_seconds,
                         const vcc_input *in, vcq_stream *s) {
    const int T = vcd_stft_n_frames(in->e - in->b, vm->fp.hop), S = vm->m.cfg.spk_dim;
    int *codes = NULL, n_codes = 0;
    vc_status st = vc_encode(vm, a, chunk_seconds, &codes, &n_codes, NULL);
    if (st != VC_OK) return st;
    s->codes = codes;
    s->n_codes = n_codes;
    if (n_codes != (T + 1) / 2) return VC_ERR_INTERNAL; /* vc_encode saw another span */
    float *f0 = malloc(sizeof(float) * 2 * (size_t)T);
    s->f0q = malloc(sizeof *s->f0q * (size_t)n_codes);
    s->spk = malloc((size_t)S);
    st = f0 && s->f0q && s->spk ? span_f0(vm, in, f0, f0 + T) : VC_ERR_NOMEM;
    if (st == VC_OK) quantise_f0(f0, T, s->f0q, n_codes);
    free(f0);
    vc_voice v = {0};
    if (st == VC_OK) st = vc_voice_from_audio(vm, a, 1, &v);
    if (st == VC_OK) quantise_speaker(v.embedding, S, s);
    vc_voice_free(&v);
    return st;
}

static void fill_stats(const vcq_stream *s, const vcq_sizes *z, int prior, vc_codec_stats *stats) {
    if (!stats) return;
    stats->prior = prior;
    stats->seconds = (double)s->n_samples / s->sample_rate;
    stats->n_codes = s->n_codes;
    stats->bytes = z->total;
    stats->header_bytes = z->header;
    stats->speaker_bytes = z->speaker;
    stats->codes_bytes = z->codes;
    stats->pitch_bytes = z->pitch;
}

vc_status vc_codec_encode(const vc_model *vm, const vc_audio *a, double chunk_seconds,
                          uint8_t **bytes, size_t *n, vc_codec_stats *stats) {
    if (!vm || !a || !bytes || !n || !(chunk_seconds > 0.0)) return VC_ERR_ARG;
    *bytes = NULL, *n = 0;
    uint16_t *prior = NULL;
    vc_status st = model_prior(vm, &prior);
    if (st != VC_OK) return st;
    vcc_input in = {0};
    if ((st = vcc_prepare(vm, a, "input", &in)) != VC_OK) {
        free(prior);
        return st;
    }
    vcq_stream s = {0};
    s.sample_rate = vm->fp.sample_rate;
    s.n_samples = (uint32_t)in.n, s.span_begin = (uint32_t)in.b;
    s.span_len = (uint32_t)(in.e - in.b);
    s.codebook_size = vm->m.cfg.codebook_size, s.spk_dim = vm->m.cfg.spk_dim;
    s.level_db = (float)in.level_db;
    if (in.n > UINT32_MAX) st = VC_ERR_AUDIO;
    if (st == VC_OK) st = stream_hash(vm, &s.model_hash);
    if (st == VC_OK) st = analyse(vm, a, chunk_seconds, &in, &s);
    vcq_sizes z;
    if (st == VC_OK) st = vcq_write(&s, prior, bytes, n, &z);
    if (st == VC_OK) fill_stats(&s, &z, prior != NULL, stats);
    vcq_stream_free(&s);
    free(in.x);
    free(prior);
    return st;
}

/* Parses and checks that the stream is for this model (hash, and the shapes it implies). */
static vc_status parse_for(const vc_model *vm, const uint8_t *bytes, size_t n, vcq_stream *s,
                           vcq_sizes *z) {
    uint16_t *prior = NULL;
    vc_status st = model_prior(vm, &prior);
    if (st != VC_OK) return st;
    st = vcq_parse(bytes, n, prior, prior ? vm->m.cfg.codebook_size : 0, s, z);
    free(prior);
    if (st != VC_OK) return st;
    s->sample_rate = vm->fp.sample_rate;
    uint32_t h32 = 0;
    if ((st = stream_hash(vm, &h32)) != VC_OK) {
        vcq_stream_free(s);
        return st;
    }
    const int T = vcd_stft_n_frames(s->span_len, vm->fp.hop);
    if (h32 != s->model_hash || s->codebook_size != vm->m.cfg.codebook_size ||
        s->spk_dim != vm->m.cfg.spk_dim) {
        vcu_log(VC_LOG_ERROR,
                "the stream was made with another model (hash %08x; this model's %08x): "
                "decode it with the model that encoded it",
                (unsigned)s->model_hash, (unsigned)h32);
        st = VC_ERR_SHAPE;
    } else if (s->n_codes != (T + 1) / 2) {
        vcu_log(VC_LOG_ERROR, "not a valid .vcq stream: %d codes for %d frames", s->n_codes, T);
        st = VC_ERR_FORMAT;
    }
    if (st != VC_OK) vcq_stream_free(s);
    return st;
}

vc_status vc_codec_check(const vc_model *vm, const uint8_t *bytes, size_t n,
                         vc_codec_stats *stats) {
    if (!vm || !bytes) return VC_ERR_ARG;
    vcq_stream s;
    vcq_sizes z;
    vc_status st = parse_for(vm, bytes, n, &s, &z);
    if (st != VC_OK) return st;
    fill_stats(&s, &z, (s.flags & VCQ_FLAG_PRIOR) != 0, stats);
    vcq_stream_free(&s);
    return VC_OK;
}

/* The stream's own voice: its embedding and the log-F0 statistics of its pitch track (T frames
 * of f0), so the decoder's pitch maps back onto the track itself. */
static void own_voice(const vcq_stream *s, const float *f0, int T, float *emb, vc_voice *v) {
    memset(v, 0, sizeof *v);
    const double step = vcq_spk_step(s->spk_step);
    for (int k = 0; k < s->spk_dim; k++) emb[k] = (float)(s->spk[k] * step);
    v->embedding = emb;
    v->dim = s->spk_dim;
    double s1 = 0.0, s2 = 0.0;
    for (int t = 0; t < T; t++)
        if (f0[t] > 0.0f) {
            double l = log(f0[t]);
            s1 += l, s2 += l * l, v->voiced_frames++;
        }
    if (v->voiced_frames) {
        v->logf0_mean = s1 / v->voiced_frames;
        double var = s2 / v->voiced_frames - v->logf0_mean * v->logf0_mean;
        v->logf0_std = sqrt(var > 0.0 ? var : 0.0);
    }
}

vc_status vc_codec_decode(const vc_model *vm, const uint8_t *bytes, size_t n, const vc_voice *voice,
                          const vc_convert_params *p, vc_audio *out) {
    if (!vm || !bytes || !p || !out) return VC_ERR_ARG;
    vcq_stream s;
    vc_status st = parse_for(vm, bytes, n, &s, NULL);
    if (st != VC_OK) return st;
    const int T = vcd_stft_n_frames(s.span_len, vm->fp.hop);
    float *f0 = malloc(sizeof(float) * (2 * (size_t)T + (size_t)s.spk_dim)); // f0, voicing, emb
    if (!f0) st = VC_ERR_NOMEM;
    vc_voice own;
    vc_convert_params q = *p;
    q.match = 0.0f; /* matching needs the source's content features, not in the stream */
    if (st == VC_OK) {
        for (int t = 0; t < T; t++) {
            f0[t] = dequantise_f0(s.f0q[t / 2]);
            f0[T + t] = f0[t] > 0.0f ? 1.0f : 0.0f;
        }
        own_voice(&s, f0, T, f0 + 2 * T, &own);
        if (!voice) q.match_dynamics = 0; /* the spectral spread is not in the stream */
        vcc_input in = {NULL, s.n_samples, s.span_begin, (size_t)s.span_begin + s.span_len,
                        s.level_db};
        st = vcc_render_codes(vm, &in, s.codes, f0, f0 + T, voice ? voice : &own, &q, out);
    }
    free(f0);
    vcq_stream_free(&s);
    return st;
}
