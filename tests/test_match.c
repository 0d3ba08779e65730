/* Frame matching (convert/match.h) and the WORLD envelope's scale, on a tiny random model:
 * - a reference frame matched against the voice made from that reference finds itself (in both
 *   content spaces), and its k nearest start with itself;
 * - two references pool their frames, in order: the second one's frames find themselves after
 *   the first one's;
 * - the search is an exact top-k (against a brute force over the same similarities), also over
 *   two spaces mixed (vcn_knn_cosine_mix: the content features with the decoded output): at
 *   weight 0 it is the first space's search, at 1 the second's;
 * - aperiodicity is averaged in the log domain: one unvoiced neighbour among four periodic ones,
 *   or a few noisy frames among a voice's voiced frames, leave the average near the periodic
 *   frames' value (the geometric mean), where a plain mean would put a quarter of the power in
 *   noise; the envelopes beside them are averaged as before;
 * - the residual: vcc_decode_pool renders every pool frame as converting that reference alone
 *   with the voice would decode it (a pooled second reference's rows too: references are not
 *   run across); with residual r the matched envelope is the neighbours' less r times that
 *   rendering;
 * - vcd_world_stft_offset: the STFT's power of a periodic signal, averaged over frequency, is
 *   the WORLD envelope's shifted by the offset, at two F0s (the one conversion both sides use). */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include "convert/convert.h"
#include "convert/match.h"
#include "dsp/stft.h"
#include "dsp/world_analysis.h"
#include "model/audio_contract.h"
#include "nn/knn.h"
#include "tempdir.h"
#include "test.h"

#include <string.h>

#define RATE 16000

/* Syllables of harmonic glides (F0 in [lo, hi]) with pauses, 0.3 s of silence at each end. */
static float *syllables(size_t n, float lo, float hi, uint64_t seed) {
    float *x = calloc(n, sizeof *x);
    if (!x) abort();
    vc_rng r;
    vcu_rng_seed(&r, seed);
    size_t pos = 3 * RATE / 10, end = n - 3 * RATE / 10;
    double phase = 0.0;
    while (pos < end) {
        size_t len = (size_t)((0.12 + 0.18 * vcu_rng_uniform(&r)) * RATE);
        if (pos + len > end) len = end - pos;
        float fa = lo + (hi - lo) * vcu_rng_uniform(&r), fb = lo + (hi - lo) * vcu_rng_uniform(&r);
        float tilt = 0.5f + 0.45f * vcu_rng_uniform(&r);
        for (size_t i = 0; i < len; i++) {
            double u = (double)i / (double)len, f0 = fa + (fb - fa) * u, s = 0.0;
            phase += VC_TWO_PI * f0 / RATE;
            for (int h = 1; h * f0 < 7000.0; h++) s += pow(tilt, h) * sin(h * phase) / h;
            x[pos + i] = (float)(0.25 * sin(3.14159265358979 * u) * s + 0.003 * vcu_rng_normal(&r));
        }
        pos += len + (size_t)(0.05 * RATE * vcu_rng_uniform(&r));
    }
    return x;
}

static void make_model(const char *path) {
    vcm_config c;
    CHECK(vcm_config_preset("tiny", &c) == VC_OK);
    vcm_model m;
    CHECK(vcm_model_init(&m, &c, 0) == VC_OK);
    vc_rng r;
    vcu_rng_seed(&r, 7);
    vcm_model_randomize(&m, &r);
    for (int i = 0; i < c.n_mels; i++) m.mel_mean[i] = -6.0f, m.mel_std[i] = 2.5f;
    for (int i = 0; i < c.n_bins; i++) m.lin_mean[i] = -5.0f, m.lin_std[i] = 2.0f;
    CHECK(vcm_model_save(path, &m, NULL, 0, 0) == VC_OK);
    vcm_model_free(&m);
}

/* The k nearest pool frames of every speech frame of a (prepared and encoded as conversion
 * does, one window) into *idx (T, k), malloc'd; returns T. */
static int nearest(const vc_model *vm, const vc_voice *v, const vc_audio *a, vc_match_space sp,
                   int k, int **idx) {
    vcc_input in;
    CHECK(vcc_prepare(vm, a, "source", &in) == VC_OK);
    int T = vcd_stft_n_frames(in.e - in.b, vm->fp.hop), T2 = T + (T & 1);
    vcc_chunk c;
    vcc_matcher mt;
    CHECK(vcc_chunk_init(&c, vm, T2, NULL) == VC_OK);
    CHECK(vcc_matcher_init(&mt, v->frames, T2, sp, k, 1.0f, 0.0f, 0.0f) == VC_OK);
    CHECK(vcc_encode_window(&c, in.x + in.b, in.e - in.b, 0, T) == VC_OK);
    vcc_content_features(c.m, &c.ws, T, T2, sp == VC_MATCH_Z ? mt.q : NULL,
                         sp == VC_MATCH_HIDDEN ? mt.q : NULL, mt.hwork, mt.dwork);
    vcc_match_nearest(&mt, T);
    *idx = malloc(sizeof(int) * (size_t)T * k);
    if (!*idx) abort();
    memcpy(*idx, mt.idx, sizeof(int) * (size_t)T * k);
    /* the search is exact: no pool frame outside the k is more similar than the k-th */
    int exact = 1;
    for (int t = 0; t < T; t++) {
        const float *s = mt.sim + (size_t)t * mt.N;
        float kth = s[mt.idx[(size_t)t * k + k - 1]];
        int above = 0;
        for (int j = 0; j < mt.N; j++) above += s[j] > kth;
        exact &= above <= k - 1;
        for (int j = 1; j < k; j++)
            exact &= s[mt.idx[(size_t)t * k + j - 1]] >= s[mt.idx[(size_t)t * k + j]];
    }
    CHECK(exact);
    vcc_matcher_free(&mt);
    vcc_chunk_free(&c);
    free(in.x);
    return T;
}

/* Random unit rows (n, d). */
static float *unit_rows(int n, int d, vc_rng *r) {
    float *a = malloc(sizeof(float) * (size_t)n * d);
    if (!a) abort();
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < d; j++) a[(size_t)i * d + j] = (float)vcu_rng_normal(r);
        vcn_l2_normalise(a + (size_t)i * d, d);
    }
    return a;
}

static void test_knn_mix(void) {
    enum { T = 9, N = 40, D = 6, D2 = 4, K = 3 };
    vc_rng r;
    vcu_rng_seed(&r, 21);
    float *q = unit_rows(T, D, &r), *pool = unit_rows(N, D, &r);
    float *q2 = unit_rows(T, D2, &r), *pool2 = unit_rows(N, D2, &r);
    float sim[T * N], best[K];
    int idx[T * K], one[T * K];
    const float ws[] = {0.0f, 0.3f, 0.7f, 1.0f};
    for (int i = 0; i < 4; i++) {
        float w = ws[i];
        vcn_knn_cosine_mix(q, pool, D, q2, pool2, D2, w, T, N, K, sim, idx, best);
        int exact = 1;
        for (int t = 0; t < T; t++) { /* against the mixed similarity in double */
            double s[N];
            for (int n = 0; n < N; n++) {
                double a = 0.0, b = 0.0;
                for (int j = 0; j < D; j++) a += (double)q[t * D + j] * pool[n * D + j];
                for (int j = 0; j < D2; j++) b += (double)q2[t * D2 + j] * pool2[n * D2 + j];
                s[n] = (1.0 - w) * a + w * b;
            }
            double kth = s[idx[t * K + K - 1]];
            int above = 0;
            for (int n = 0; n < N; n++) above += s[n] > kth + 1e-6;
            exact &= above <= K - 1;
            for (int j = 1; j < K; j++) exact &= s[idx[t * K + j - 1]] >= s[idx[t * K + j]] - 1e-6;
        }
        CHECK(exact);
        if (w == 0.0f || w == 1.0f) { /* one space alone: that space's own search */
            if (w == 0.0f)
                vcn_knn_cosine(q, T, pool, N, D, K, sim, one, best);
            else
                vcn_knn_cosine(q2, T, pool2, N, D2, K, sim, one, best);
            CHECK(memcmp(idx, one, sizeof idx) == 0);
        }
    }
    free(q), free(pool), free(q2), free(pool2);
}

static void test_identity_and_pooling(const vc_model *vm) {
    vc_audio ref = {syllables(3 * RATE, 170.0f, 250.0f, 2), 3 * RATE, RATE};
    vc_audio other = {syllables(4 * RATE, 95.0f, 140.0f, 9), 4 * RATE, RATE};
    vc_voice one, two;
    CHECK(vc_voice_from_audio(vm, &ref, 1, &one) == VC_OK);
    vc_audio both[2] = {other, ref};
    CHECK(vc_voice_from_audio(vm, both, 2, &two) == VC_OK);
    CHECK(one.frames && one.n_frames > 100 && two.n_frames > one.n_frames);
    int n_other = two.n_frames - one.n_frames;
    for (int sp = 0; sp < 2; sp++) {
        int *idx = NULL, self = 0, pooled = 0;
        int T = nearest(vm, &one, &ref, (vc_match_space)sp, 4, &idx);
        CHECK(T == one.n_frames);
        for (int t = 0; t < T; t++) self += idx[(size_t)t * 4] == t;
        free(idx);
        T = nearest(vm, &two, &ref, (vc_match_space)sp, 1, &idx);
        for (int t = 0; t < T; t++) pooled += idx[t] == n_other + t;
        free(idx);
        fprintf(stderr, "%s: %d of %d frames find themselves; pooled after %d frames: %d\n",
                sp ? "hidden" : "z", self, T, n_other, pooled);
        /* z is one vector per code, shared by the code's two frames: a frame finds itself or
         * its twin (equal similarity, the earlier one wins) */
        CHECK(self >= (sp == VC_MATCH_Z ? T / 2 : T));
        CHECK(pooled >= (sp == VC_MATCH_Z ? T / 2 : T));
    }
    /* z: every frame's best is itself or its code twin, exactly */
    int *idx = NULL, twin = 1;
    int T = nearest(vm, &one, &ref, VC_MATCH_Z, 1, &idx);
    for (int t = 0; t < T; t++) twin &= idx[t] / 2 == t / 2;
    CHECK(twin);
    free(idx);
    vc_voice_free(&one);
    vc_voice_free(&two);
    free(ref.samples);
    free(other.samples);
}

/* The decoder's output for the whole of a (prepared, one window, its own pitch contour) with
 * voice v, in the WORLD envelope's scale: what vcc_decode_pool should give for a's frames. */
static float *decode_as_source(const vc_model *vm, const vc_voice *v, const vc_audio *a,
                               int *T_out) {
    vcc_input in;
    CHECK(vcc_prepare(vm, a, "source", &in) == VC_OK);
    const float *x = in.x + in.b;
    size_t len = in.e - in.b;
    int T = vcd_stft_n_frames(len, vm->fp.hop), T2 = T + (T & 1), F = vm->m.cfg.n_bins;
    vcc_chunk c;
    CHECK(vcc_chunk_init(&c, vm, T2 + 2, NULL) == VC_OK);
    float *f0 = malloc(sizeof(float) * 4 * (size_t)T), *out = malloc(sizeof(float) * T * F);
    if (!f0 || !out) abort();
    CHECK(vc_frontend_f0(c.fe, x, len, f0, f0 + T) == VC_OK);
    vcm_pitch_features(f0, f0 + T, T, f0 + 2 * T);
    for (int ch = 0; ch < 2; ch++)
        for (int t = 0; t < T2; t++) c.p[ch * T2 + t] = f0[(2 + ch) * T + (t < T ? t : T - 1)];
    CHECK(vcc_encode_window(&c, x, len, 0, T) == VC_OK);
    CHECK(vcm_decode(c.m, &c.ws, c.codes, c.ws.z.v, 0.75f, T2 / 2, v->embedding, c.p, NULL, c.mel,
                     c.lin) == VC_OK);
    for (int t = 0; t < T; t++) {
        float off = vcd_world_stft_offset(f0[t], f0 + T, t, vm->fp.sample_rate, vm->fp.n_fft);
        for (int f = 0; f < F; f++)
            out[(size_t)t * F + f] = vcm_lin_denorm(c.m, f, c.lin[(size_t)f * T2 + t]) - off;
    }
    vcc_chunk_free(&c);
    free(f0);
    free(in.x);
    *T_out = T;
    return out;
}

static void test_residual(const vc_model *vm) {
    vc_audio ref = {syllables(3 * RATE, 170.0f, 250.0f, 2), 3 * RATE, RATE};
    vc_audio other = {syllables(4 * RATE, 95.0f, 140.0f, 9), 4 * RATE, RATE};
    vc_audio both[2] = {other, ref};
    vc_voice two;
    CHECK(vc_voice_from_audio(vm, both, 2, &two) == VC_OK);
    const vc_voice_frames *p = two.frames;
    const int F = p->F, k = 4;
    CHECK(p->n_refs == 2 && p->ref_start[0] == 0 && p->ref_start[1] > 100);
    int T = 0;
    float *want = decode_as_source(vm, &two, &ref, &T);
    CHECK(p->ref_start[1] + T == p->n);
    vcc_chunk c;
    vcc_matcher mt;
    CHECK(vcc_chunk_init(&c, vm, p->n + (p->n & 1) + 2, NULL) == VC_OK);
    CHECK(vcc_matcher_init(&mt, p, 1, VC_MATCH_HIDDEN, k, 1.0f, 0.0f, 0.5f) == VC_OK);
    CHECK(mt.dec != NULL);
    CHECK(vcc_decode_pool(&c, &mt, &two, 0.75f) == VC_OK);
    double worst = 0.0;
    for (int t = 0; t < T; t++)
        for (int f = 0; f < F; f++)
            worst = fmax(worst, fabs(mt.dec[(size_t)(p->ref_start[1] + t) * F + f] -
                                     want[(size_t)t * F + f]));
    fprintf(stderr,
            "pool rendering of the second reference against decoding it alone: worst %.2g\n",
            worst);
    CHECK(worst < 1e-3);
    /* one frame's neighbours: k pool frames; the matched envelope is their mean less half of
     * their rendering's mean (before smoothing: a single frame has no neighbours in time) */
    for (int j = 0; j < k; j++) mt.idx[j] = 7 * j + 3;
    vcc_match_average(&mt, NULL, NULL, 0.0f, 1);
    double err = 0.0;
    for (int f = 0; f < F; f++) {
        double e = 0.0;
        for (int j = 0; j < k; j++) {
            size_t r = (size_t)(7 * j + 3) * F + f;
            e += (p->env[r] - 0.5 * mt.dec[r]) / k;
        }
        err = fmax(err, fabs(e - mt.env[f]));
    }
    CHECK(err < 1e-4);
    vcc_matcher_free(&mt);
    /* without a residual the matcher keeps no rendering */
    CHECK(vcc_matcher_init(&mt, p, 1, VC_MATCH_HIDDEN, k, 1.0f, 0.0f, 0.0f) == VC_OK);
    CHECK(mt.dec == NULL);
    vcc_matcher_free(&mt);
    vcc_chunk_free(&c);
    free(want);
    vc_voice_free(&two);
    free(ref.samples);
    free(other.samples);
}

static void test_aperiodicity_average(void) {
    const int B = VCD_WORLD_BANDS, F = 8, k = 4;
    vc_voice_frames *p = NULL;
    CHECK(vcc_pool_init(&p, 2, 2, 2, F) == VC_OK);
    if (!p) return;
    CHECK(vcc_pool_reserve(p, k) == VC_OK);
    p->n = k;
    for (int r = 0; r < k; r++)
        for (int b = 0; b < B; b++) p->log_ap[r * B + b] = r < 3 ? 0.01f : 1.0f; /* last: noise */
    for (int i = 0; i < k * F; i++) p->env[i] = (float)i;
    float want = powf(0.01f, 0.75f), profile[VCD_WORLD_BANDS];
    vcc_pool_voiced_ap(p, profile);
    CHECK(profile[0] == 0.0f); /* no voiced frame added yet */
    for (int r = 0; r < k; r++) vcc_pool_add_ap(p, p->log_ap + r * B, 1);
    vcc_pool_voiced_ap(p, profile);
    CHECK(p->n_voiced == k);
    for (int b = 0; b < B; b++) CHECK_NEAR(profile[b], want, 1e-4, 0);
    vcc_matcher mt;
    CHECK(vcc_matcher_init(&mt, p, 1, VC_MATCH_Z, k, 1.0f, 0.0f, 0.0f) == VC_OK);
    for (int j = 0; j < k; j++) mt.idx[j] = j;
    vcc_match_average(&mt, NULL, NULL, 0.0f, 1);
    for (int b = 0; b < B; b++) CHECK_NEAR(mt.ap[b], want, 1e-4, 0);
    for (int f = 0; f < F; f++) CHECK_NEAR(mt.env[f], f + F * 1.5, 1e-5, 0); /* rows' mean */
    fprintf(stderr, "aperiodicity of 3 periodic (0.01) and 1 noise frame: %.4f (plain mean %.4f)\n",
            mt.ap[0], (3 * 0.01 + 1.0) / 4);
    /* with the pool's voicing: the noise frame unvoiced. A voiced output frame takes its voiced
     * neighbours' aperiodicity, an unvoiced one all k's; the envelope is all k's either way. */
    const float floor_hz = vcd_world_f0_floor(RATE, 512);
    for (int r = 0; r < k; r++) p->f0[r] = r < 3 ? 120.0f : 0.0f, p->voicing[r] = r < 3;
    float out_f0 = 200.0f, out_voicing = 1.0f;
    vcc_match_average(&mt, &out_f0, &out_voicing, floor_hz, 1);
    for (int b = 0; b < B; b++) CHECK_NEAR(mt.ap[b], 0.01f, 1e-6, 0);
    for (int f = 0; f < F; f++) CHECK_NEAR(mt.env[f], f + F * 1.5, 1e-5, 0);
    out_voicing = 0.0f;
    vcc_match_average(&mt, &out_f0, &out_voicing, floor_hz, 1);
    for (int b = 0; b < B; b++) CHECK_NEAR(mt.ap[b], want, 1e-4, 0);
    /* a voiced frame whose neighbours are all unvoiced keeps their mean */
    for (int r = 0; r < k; r++) p->voicing[r] = 0.0f;
    out_voicing = 1.0f;
    vcc_match_average(&mt, &out_f0, &out_voicing, floor_hz, 1);
    for (int b = 0; b < B; b++) CHECK_NEAR(mt.ap[b], want, 1e-4, 0);
    vcc_matcher_free(&mt);
    vcc_pool_free(p);
}

/* A pulse train at f0 through a two-pole resonance: the STFT's mean power over bins against the
 * WORLD envelope's, shifted by vcd_world_stft_offset, in the signal's middle frames. */
static void test_offset(float f0) {
    const int n_fft = 1024, hop = 256, F = n_fft / 2 + 1;
    size_t n = RATE;
    float *x = calloc(n, sizeof *x);
    if (!x) abort();
    double P = RATE / f0, y1 = 0.0, y2 = 0.0, next = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = 0.0;
        if ((double)i >= next) e = 1.0, next += P;
        double y = e + 1.6 * y1 - 0.8 * y2; /* a resonance near 1.1 kHz */
        y2 = y1, y1 = y;
        x[i] = (float)(0.05 * y);
    }
    int T = vcd_stft_n_frames(n, hop);
    float *f0s = malloc(sizeof(float) * 2 * T), *env = malloc(sizeof(float) * (size_t)T * F);
    float *mag = malloc(sizeof(float) * (size_t)T * F);
    if (!f0s || !env || !mag) abort();
    for (int t = 0; t < T; t++) f0s[t] = f0, f0s[T + t] = 1.0f;
    vcd_world_analysis an = {0};
    stft s = {0};
    CHECK(vcd_world_analysis_init(&an, RATE, n_fft, hop) == VC_OK);
    CHECK(vcd_world_analyze(&an, x, n, f0s, f0s + T, T, env, NULL) == VC_OK);
    CHECK(vcd_stft_init(&s, n_fft, hop) == VC_OK);
    vcd_stft_magnitude(&s, mag, x, n);
    double worst = 0.0;
    for (int t = T / 4; t < 3 * T / 4; t++) {
        double ps = 0.0, pw = 0.0;
        float off = vcd_world_stft_offset(f0, f0s + T, t, RATE, n_fft);
        for (int f = 0; f < F; f++) {
            ps += (double)mag[(size_t)t * F + f] * mag[(size_t)t * F + f];
            pw += exp(2.0 * (env[(size_t)t * F + f] + off));
        }
        worst = fmax(worst, fabs(10.0 * log10(ps / pw)));
    }
    fprintf(stderr, "F0 %.0f Hz: STFT power over the shifted envelope's, worst %.2f dB\n", f0,
            worst);
    CHECK(worst < 1.0);
    /* unvoiced: the offset uses the noise period, whatever F0 says */
    float unv = 0.0f;
    CHECK_NEAR(vcd_world_stft_offset(f0, &unv, 0, RATE, n_fft),
               0.5 * log(3.0 * n_fft / 8.0 * VCD_WORLD_UNVOICED_F0 / RATE), 1e-6, 0);
    vcd_stft_free(&s);
    vcd_world_analysis_free(&an);
    free(x);
    free(f0s);
    free(env);
    free(mag);
}

int main(void) {
    char dir[] = "/tmp/vconv_test_match_XXXXXX", path[1024];
    if (!mkdtemp(dir)) return 1;
    join(path, sizeof path, dir, "tiny.safetensors");
    make_model(path);
    vc_model *vm = NULL;
    CHECK(vc_model_load(path, &vm) == VC_OK);
    if (!vm) return 1;
    test_knn_mix();
    test_identity_and_pooling(vm);
    test_aperiodicity_average();
    test_residual(vm);
    test_offset(110.0f);
    test_offset(230.0f);
    vc_model_free(vm);
    remove_tree(dir);
    return test_finish();
}
