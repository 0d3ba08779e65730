/* The .vcq codec (vc_codec_encode / vc_codec_decode, codec/stream.c, codec/range.c) with the
 * bundled model on a bundled sample: the range coder round trip; the stream's codes equal
 * vc_encode's bit for bit, its F0 the front end's within the quantiser's half step, its speaker
 * embedding vc_voice_from_audio's within half a step; the same bytes twice; decoded audio of the
 * input's length, in its own voice and in another; truncated, corrupt, other-version and
 * other-model streams refused; a model with a code prior (vc_codec_save_with_prior): the same
 * codes bit for bit in fewer bytes, its streams refused by the model without it and the other
 * way round, a malformed prior refused. */
#include "codec/range.h"
#include "codec/stream.h"
#include "convert/convert.h"

#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void quiet_log(int level, const char *msg, void *user) {
    (void)level, (void)msg, (void)user;
}

static void test_range(void) {
    for (int n = 2; n <= 1024; n *= 4) {
        enum { COUNT = 5000 };
        static int sym[COUNT];
        uint64_t x = 12345u + (uint64_t)n;
        for (int i = 0; i < COUNT; i++) { /* skewed: small symbols more often */
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            int a = (int)((x >> 33) % (uint64_t)n), b = (int)((x >> 13) % (uint64_t)n);
            sym[i] = a < b ? a : b;
        }
        vcq_model m;
        vcq_enc e;
        CHECK(vcq_model_init(&m, n) == VC_OK);
        vcq_enc_init(&e);
        for (int i = 0; i < COUNT; i++) vcq_enc_put(&e, &m, sym[i]);
        CHECK(vcq_enc_finish(&e) == VC_OK);
        vcq_model_free(&m);
        CHECK(vcq_model_init(&m, n) == VC_OK);
        vcq_dec d;
        vcq_dec_init(&d, e.buf, e.len);
        int bad = 0;
        for (int i = 0; i < COUNT; i++) bad += vcq_dec_get(&d, &m) != sym[i];
        CHECK(bad == 0);
        CHECK(!d.overrun);
        vcq_model_free(&m);
        free(e.buf);
    }
}

/* The stream's F0 against the front end's over the same speech span. */
static void check_pitch(const vc_model *m, const vc_audio *a, const vcq_stream *s) {
    vcc_input in;
    CHECK(vcc_prepare(m, a, "test", &in) == VC_OK);
    vc_frontend *fe = NULL;
    CHECK(vc_frontend_init(&m->fp, &fe) == VC_OK);
    int T = vc_frontend_n_frames(fe, in.e - in.b);
    CHECK(s->n_codes == (T + 1) / 2);
    float *f0 = malloc(sizeof(float) * 2 * (size_t)T);
    CHECK(vc_frontend_f0(fe, in.x + in.b, in.e - in.b, f0, f0 + T) == VC_OK);
    int bad = 0, voiced = 0;
    for (int i = 0; i < s->n_codes; i++) {
        double l = 0.0;
        int k = 0;
        for (int t = 2 * i; t < 2 * i + 2 && t < T; t++)
            if (f0[t] > 0.0f) l += log2(f0[t] / VCQ_F0_BASE_HZ), k++;
        if ((k > 0) != (s->f0q[i] != VCQ_UNVOICED)) bad++;
        if (k == 0 || s->f0q[i] == VCQ_UNVOICED) continue;
        voiced++;
        double q = s->f0q[i] / VCQ_F0_PER_OCTAVE, e = l / k;
        if (fabs(q - e) > 0.5 / VCQ_F0_PER_OCTAVE + 1e-4) bad++;
    }
    CHECK(bad == 0);
    CHECK(voiced > s->n_codes / 4);
    free(f0);
    vc_frontend_free(fe);
    free(in.x);
}

static void check_speaker(const vc_model *m, const vc_audio *a, const vcq_stream *s) {
    vc_voice v = {0};
    CHECK(vc_voice_from_audio(m, a, 1, &v) == VC_OK);
    CHECK(v.dim == s->spk_dim);
    const double step = vcq_spk_step(s->spk_step);
    double ss = 0.0;
    int bad = 0;
    for (int k = 0; k < v.dim; k++) {
        ss += (double)v.embedding[k] * v.embedding[k];
        if (abs(s->spk[k]) < VCQ_SPK_MAX) /* clamped values aside */
            bad += fabs(v.embedding[k] - s->spk[k] * step) > 0.5 * step + 1e-6;
    }
    CHECK(bad == 0);
    double half_rms = 0.5 * sqrt(ss / v.dim); /* the step: half the RMS within 2^(1/16) */
    CHECK(step > half_rms * 0.95 && step < half_rms * 1.05);
    vc_voice_free(&v);
}

/* Encode: bytes, codes as vc_encode, pitch and speaker within the quantisers, deterministic. */
static void test_encode(const vc_model *m, const vc_audio *a, uint8_t **bytes, size_t *n) {
    vc_codec_stats st;
    CHECK(vc_codec_encode(m, a, 10.0, bytes, n, &st) == VC_OK);
    CHECK(st.bytes == *n);
    CHECK(st.header_bytes + st.speaker_bytes + st.codes_bytes + st.pitch_bytes == *n);
    CHECK(fabs(st.seconds - (double)a->n_samples / a->sample_rate) < 1e-3);
    fprintf(stderr, "%.2f s: %zu bytes, %.0f bit/s (codes %.0f, pitch %.0f)\n", st.seconds, *n,
            8.0 * (double)*n / st.seconds, 8.0 * st.codes_bytes / st.seconds,
            8.0 * st.pitch_bytes / st.seconds);
    vcq_stream s;
    CHECK(vcq_parse(*bytes, *n, NULL, 0, &s, NULL) == VC_OK);
    int *codes = NULL, n_codes = 0;
    CHECK(vc_encode(m, a, 10.0, &codes, &n_codes, NULL) == VC_OK);
    CHECK(n_codes == s.n_codes && st.n_codes == n_codes);
    CHECK(n_codes == s.n_codes && memcmp(codes, s.codes, sizeof(int) * (size_t)n_codes) == 0);
    free(codes);
    check_pitch(m, a, &s);
    check_speaker(m, a, &s);
    vcq_stream_free(&s);
    uint8_t *again = NULL;
    size_t n2 = 0;
    CHECK(vc_codec_encode(m, a, 10.0, &again, &n2, NULL) == VC_OK);
    CHECK(n2 == *n && memcmp(again, *bytes, *n) == 0);
    free(again);
}

static void test_decode(const vc_model *m, const vc_audio *a, const uint8_t *b, size_t n,
                        const vc_audio *other) {
    vc_convert_params p = vc_convert_default_params();
    vc_audio out = {0};
    CHECK(vc_codec_decode(m, b, n, NULL, &p, &out) == VC_OK);
    CHECK(out.n_samples == a->n_samples && out.sample_rate == a->sample_rate);
    vc_level lv;
    CHECK(vc_audio_level(out.samples, out.n_samples, out.sample_rate, &lv) == VC_OK);
    CHECK(lv.active_dbfs > -40.0);
    vc_audio_free(&out);
    vc_voice v = {0};
    CHECK(vc_voice_from_audio(m, other, 1, &v) == VC_OK);
    CHECK(vc_codec_decode(m, b, n, &v, &p, &out) == VC_OK);
    CHECK(out.n_samples == a->n_samples);
    vc_voice_free(&v);
    vc_audio_free(&out);
}

/* A copy of b with byte i set to v and the checksum made right again. */
static uint8_t *patched(const uint8_t *b, size_t n, size_t i, uint8_t v) {
    uint8_t *c = malloc(n);
    memcpy(c, b, n);
    c[i] = v;
    uint32_t crc = vcq_crc32(c, n - 4);
    for (int k = 0; k < 4; k++) c[n - 4 + k] = (uint8_t)(crc >> (8 * k));
    return c;
}

static void test_refused(const vc_model *m, const uint8_t *b, size_t n) {
    CHECK(vc_codec_check(m, b, n, NULL) == VC_OK);
    int accepted = 0;
    for (size_t k = 0; k < n; k++) accepted += vc_codec_check(m, b, k, NULL) == VC_OK;
    CHECK(accepted == 0); /* every truncation */
    uint8_t *c = malloc(n);
    for (size_t i = 0; i < n; i++) { /* every single corrupt byte */
        memcpy(c, b, n);
        c[i] ^= 0x5A;
        accepted += vc_codec_check(m, c, n, NULL) == VC_OK;
    }
    free(c);
    CHECK(accepted == 0);
    c = patched(b, n, 4, 1); /* version 1: refused */
    CHECK(vc_codec_check(m, c, n, NULL) == VC_ERR_VERSION);
    free(c);
    c = patched(b, n, 7, (uint8_t)(b[7] ^ 1)); /* another model's hash */
    CHECK(vc_codec_check(m, c, n, NULL) == VC_ERR_SHAPE);
    vc_audio out = {0};
    vc_convert_params p = vc_convert_default_params();
    CHECK(vc_codec_decode(m, c, n, NULL, &p, &out) == VC_ERR_SHAPE);
    CHECK(out.samples == NULL);
    free(c);
}

/* The model with a code prior: same codes, fewer bytes; each model refuses the other's streams;
 * a malformed prior is refused. */
static void test_prior(const vc_model *m, const vc_audio *a, const uint8_t *b, size_t n) {
    const int K = vc_model_codebook_size(m);
    uint64_t *counts = calloc((size_t)K, sizeof *counts);
    int *codes = NULL, n_codes = 0;
    CHECK(vc_encode(m, a, 10.0, &codes, &n_codes, NULL) == VC_OK);
    for (int i = 0; i < n_codes; i++) counts[codes[i]] += 10; /* a prior that fits this file */
    char path[64];
    snprintf(path, sizeof path, "/tmp/test_codec.%ld.safetensors", (long)getpid());
    CHECK(vc_codec_save_with_prior(m, path, counts) == VC_OK);
    vc_model *mp = NULL;
    CHECK(vc_model_load(path, &mp) == VC_OK);
    unlink(path);
    uint8_t *bp = NULL;
    size_t np = 0;
    vc_codec_stats st;
    if (mp) CHECK(vc_codec_encode(mp, a, 10.0, &bp, &np, &st) == VC_OK);
    if (bp) {
        CHECK(st.prior == 1 && np < n);
        vcq_stream s;
        CHECK(vcq_parse(bp, np, NULL, 0, &s, NULL) == VC_ERR_SHAPE); /* needs the prior */
        CHECK(vc_codec_check(mp, bp, np, NULL) == VC_OK);
        CHECK(vc_codec_check(m, bp, np, NULL) == VC_ERR_SHAPE);
        CHECK(vc_codec_check(mp, b, n, NULL) == VC_ERR_SHAPE);
        vc_convert_params p = vc_convert_default_params();
        vc_audio out = {0};
        CHECK(vc_codec_decode(mp, bp, np, NULL, &p, &out) == VC_OK);
        CHECK(out.n_samples == a->n_samples);
        vc_audio_free(&out);
        /* the parse with the prior: vc_encode's codes bit for bit */
        uint32_t raw[4096];
        uint16_t prior[4096];
        for (int k = 0; k < K; k++) raw[k] = (uint32_t)counts[k];
        vcq_prior_counts(raw, K, prior);
        CHECK(vcq_parse(bp, np, prior, K, &s, NULL) == VC_OK);
        CHECK(s.n_codes == n_codes && memcmp(s.codes, codes, sizeof(int) * (size_t)n_codes) == 0);
        vcq_stream_free(&s);
    }
    free(bp);
    /* a malformed prior: encoding refuses it */
    const char *kv[2] = {VC_CODEC_PRIOR_KEY, "1,2,x"};
    CHECK(vc_model_save(m, path, 0, kv, 1) == VC_OK);
    vc_model *mb = NULL;
    CHECK(vc_model_load(path, &mb) == VC_OK);
    unlink(path);
    bp = NULL;
    if (mb) CHECK(vc_codec_encode(mb, a, 10.0, &bp, &np, NULL) == VC_ERR_FORMAT);
    CHECK(bp == NULL);
    vc_model_free(mb);
    vc_model_free(mp);
    free(codes);
    free(counts);
}

int main(void) {
    vc_log_set(quiet_log, NULL);
    test_range();
    char path[1024];
    snprintf(path, sizeof path, "%s/vconv-default.safetensors", VC_SAMPLES_DIR);
    vc_model *m = NULL;
    if (vc_model_load(path, &m) != VC_OK) {
        fprintf(stderr, "no bundled model at %s: skipped\n", path);
        return TEST_SKIP;
    }
    vc_audio a, other;
    snprintf(path, sizeof path, "%s/slt_arctic_a0318.wav", VC_SAMPLES_DIR);
    CHECK(vc_audio_load(path, 16000, &a, NULL) == VC_OK);
    snprintf(path, sizeof path, "%s/bdl_arctic_a0310.wav", VC_SAMPLES_DIR);
    CHECK(vc_audio_load(path, 16000, &other, NULL) == VC_OK);
    uint8_t *b = NULL;
    size_t n = 0;
    test_encode(m, &a, &b, &n);
    if (b) {
        test_decode(m, &a, b, n, &other);
        test_refused(m, b, n);
        test_prior(m, &a, b, n);
    }
    free(b);
    vc_audio_free(&a);
    vc_audio_free(&other);
    vc_model_free(m);
    return test_finish();
}
