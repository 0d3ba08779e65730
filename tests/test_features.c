/* Training features and their cache: trimming, shapes, F0, cache hits and misses (content and
 * config keyed, corruption recovered), skipped files, mel statistics, pitch features and
 * segment sampling. */
#define _POSIX_C_SOURCE 200809L
#include "io/features.h"
#include "model/audio_contract.h"

#include "tempdir.h"
#include "test.h"

#include <math.h>
#include <string.h>

#define RATE 16000

typedef struct log_count {
    int warn, err;
} log_count;

static void count_log(int level, const char *msg, void *user) {
    log_count *lc = user;
    if (level == VC_LOG_WARN) lc->warn++;
    if (level == VC_LOG_ERROR) lc->err++;
    fprintf(stderr, "  [log %d] %s\n", level, msg);
}

/* sil s of faint noise, dur s of a 5-harmonic tone at hz with a smooth envelope, sil s noise. */
static float *utterance(double sil, double dur, double hz, size_t *n, uint64_t seed) {
    size_t ns = (size_t)(sil * RATE), nv = (size_t)(dur * RATE);
    *n = 2 * ns + nv;
    float *x = malloc(*n * sizeof *x);
    if (!x) abort();
    vc_rng r;
    vcu_rng_seed(&r, seed);
    for (size_t i = 0; i < *n; i++) x[i] = 1e-4f * (vcu_rng_uniform(&r) - 0.5f); /* ~-86 dBFS */
    for (size_t i = 0; i < nv; i++) {
        double t = (double)i / RATE, env = sin(VC_TWO_PI * 0.5 * (double)i / (double)nv);
        double s = 0;
        for (int h = 1; h <= 5; h++) s += sin(VC_TWO_PI * hz * h * t) / h;
        x[ns + i] += (float)(0.3 * (0.3 + 0.7 * env) * s / 2.3);
    }
    return x;
}

static void save(const char *path, const float *x, size_t n) {
    vc_audio a = {(float *)x, n, RATE};
    if (vc_audio_save(path, &a, VC_AUDIO_PCM16) != VC_OK) abort();
}

static void save_utt(const char *path, double hz, uint64_t seed) {
    size_t n;
    float *x = utterance(0.1, 0.6, hz, &n, seed);
    save(path, x, n);
    free(x);
}

static void write_bytes(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n) abort();
    fclose(f);
}

static int same_utt(const vc_utt_features *a, const vc_utt_features *b, int M) {
    return a->T == b->T && a->n_samples == b->n_samples && a->utt == b->utt &&
           a->trim_start == b->trim_start &&
           !memcmp(a->mel, b->mel, (size_t)M * a->T * sizeof(float)) &&
           !memcmp(a->f0, b->f0, (size_t)a->T * sizeof(float)) &&
           !memcmp(a->voicing, b->voicing, (size_t)a->T * sizeof(float)) &&
           !memcmp(a->audio, b->audio, a->n_samples * sizeof(int16_t));
}

static int same_set(const vc_feature_set *a, const vc_feature_set *b) {
    if (a->n != b->n || a->M != b->M) return 0;
    for (int i = 0; i < a->n; i++)
        if (!same_utt(&a->u[i], &b->u[i], a->M)) return 0;
    return 1;
}

static void on_progress(double f, void *user) {
    *(double *)user = f;
}

static void test_compute(void) {
    fprintf(stderr, "one utterance: 0.3 s silence + 1.0 s tone at 150 Hz + 0.3 s silence\n");
    vc_frontend_params p = vc_frontend_default_params();
    vc_frontend *fe;
    if (vc_frontend_init(&p, &fe) != VC_OK) abort();
    size_t n;
    float *x = utterance(0.3, 1.0, 150.0, &n, 1);
    vc_utt_features u;
    CHECK(vci_features_compute(fe, x, n, &u) == VC_OK);
    fprintf(stderr, "  trimmed %zu -> %zu samples, T %d\n", n, u.n_samples, u.T);
    /* the tone's first/last 20 ms block sits at ~ -26 dB re the loudest (envelope 0.3 of the
     * peak), so all of it stays; margins add 2 hops + one block at most each side */
    CHECK(u.n_samples >= RATE - 2 * 256 && u.n_samples <= RATE + 2 * (2 * 256 + 320 + 256));
    CHECK(u.T == vc_frontend_n_frames(fe, u.n_samples));
    /* where the kept audio starts in the input: within the same margins of the tone's onset,
     * and the stored samples are the input's from there */
    size_t onset = (size_t)(0.3 * RATE);
    CHECK(u.trim_start <= onset && u.trim_start + 2 * 256 + 320 + 256 >= onset);
    CHECK(u.audio[100] == (int16_t)roundf(x[u.trim_start + 100] * 32767.0f));
    /* mel (M, T) is the transpose of the front end's (T, M) of the stored audio */
    float *xq = malloc(u.n_samples * sizeof *xq), *tm = malloc((size_t)u.T * 80 * sizeof *tm);
    if (!xq || !tm) abort();
    for (size_t i = 0; i < u.n_samples; i++) xq[i] = u.audio[i] / 32767.0f;
    CHECK(vc_frontend_log_mel(fe, xq, u.n_samples, tm) == VC_OK);
    int tr = 1;
    for (int t = 0; t < u.T; t++)
        for (int m = 0; m < 80; m++) tr &= tm[t * 80 + m] == u.mel[m * u.T + t];
    CHECK(tr);
    int nv = 0;
    double s = 0;
    for (int t = 0; t < u.T; t++)
        if (u.f0[t] > 0) nv++, s += u.f0[t];
    fprintf(stderr, "  voiced %d of %d frames, mean F0 %.2f Hz\n", nv, u.T, nv ? s / nv : 0.0);
    CHECK(nv >= u.T * 8 / 10);                     /* the trimmed utterance is mostly tone */
    CHECK_NEAR(s / (nv ? nv : 1), 150.0, 0, 0.02); /* 2%: a clean harmonic tone */
    vci_utt_features_free(&u);

    fprintf(stderr, "silence only and too short -> VC_ERR_AUDIO\n");
    float *z = calloc(n, sizeof *z);
    if (!z) abort();
    CHECK(vci_features_compute(fe, z, n, &u) == VC_ERR_AUDIO && u.mel == NULL);
    CHECK(vci_features_compute(fe, x + RATE / 2, 500, &u) == VC_ERR_AUDIO);
    free(z);
    free(x);
    free(xq);
    free(tm);
    vc_frontend_free(fe);
}

static void test_cache(const char *root) {
    char data[1024], spk[1024], cache[1024], path[1024];
    join(data, sizeof data, root, "data");
    join(spk, sizeof spk, data, "spk1");
    join(cache, sizeof cache, root, "cache");
    mkdir(data, 0755);
    mkdir(spk, 0755);
    const double pitch[5] = {110, 140, 180, 220, 260};
    for (int i = 0; i < 5; i++) {
        char name[32];
        snprintf(name, sizeof name, "u%d.wav", i);
        join(path, sizeof path, spk, name);
        save_utt(path, pitch[i], (uint64_t)i + 10);
    }
    vc_corpus c;
    const char *dirs[] = {data};
    if (vci_corpus_scan(dirs, 1, &c) != VC_OK || c.n_utt != 5) abort();
    vc_frontend_params p = vc_frontend_default_params();
    vc_feature_set a, b;
    vc_feature_stats s;
    double frac = -1;

    fprintf(stderr, "cache: first build all misses, second all hits, bit-exact\n");
    CHECK(vci_features_build(&c, cache, &p, 2, on_progress, &frac, &a, &s) == VC_OK);
    fprintf(stderr, "  hits %d misses %d skipped %d\n", s.hits, s.misses, s.skipped);
    CHECK(s.hits == 0 && s.misses == 5 && s.skipped == 0 && a.n == 5);
    CHECK(frac == 1.0);
    CHECK(count_matching(cache, ".safetensors") == 5 && count_matching(cache, ".tmp") == 0);
    CHECK(vci_features_build(&c, cache, &p, 1, NULL, NULL, &b, &s) == VC_OK);
    fprintf(stderr, "  hits %d misses %d skipped %d\n", s.hits, s.misses, s.skipped);
    CHECK(s.hits == 5 && s.misses == 0 && same_set(&a, &b));
    vci_feature_set_free(&b);
    fprintf(stderr, "no cache, one thread: identical to the cached build\n");
    CHECK(vci_features_build(&c, NULL, &p, 1, NULL, NULL, &b, &s) == VC_OK);
    CHECK(s.misses == 5 && same_set(&a, &b));
    vci_feature_set_free(&b);

    fprintf(stderr, "one file's content edited -> exactly one miss\n");
    join(path, sizeof path, spk, "u2.wav");
    save_utt(path, 190, 99);
    CHECK(vci_features_build(&c, cache, &p, 2, NULL, NULL, &b, &s) == VC_OK);
    fprintf(stderr, "  hits %d misses %d skipped %d\n", s.hits, s.misses, s.skipped);
    CHECK(s.hits == 4 && s.misses == 1);
    vci_feature_set_free(&b);
    save_utt(path, pitch[2], 12); /* back to the original bytes: hits again */
    CHECK(vci_features_build(&c, cache, &p, 2, NULL, NULL, &b, &s) == VC_OK);
    CHECK(s.hits == 5 && same_set(&a, &b));
    vci_feature_set_free(&b);

    fprintf(stderr, "front-end config changed -> all misses\n");
    vc_frontend_params p2 = p;
    p2.f0_max = 400.0f;
    CHECK(vci_features_build(&c, cache, &p2, 2, NULL, NULL, &b, &s) == VC_OK);
    CHECK(s.hits == 0 && s.misses == 5);
    vci_feature_set_free(&b);
    p2 = p;
    p2.n_mels = 40;
    CHECK(vci_features_build(&c, cache, &p2, 2, NULL, NULL, &b, &s) == VC_OK);
    CHECK(s.hits == 0 && s.misses == 5 && b.M == 40 && b.n == 5);
    vci_feature_set_free(&b);

    fprintf(stderr, "a truncated and a garbage cache file -> recomputed with a warning\n");
    char cache2[1024];
    join(cache2, sizeof cache2, root, "cache2"); /* a fresh folder: its files are p's only */
    CHECK(vci_features_build(&c, cache2, &p, 2, NULL, NULL, &b, &s) == VC_OK && s.misses == 5);
    vci_feature_set_free(&b);
    DIR *d = opendir(cache2);
    int damaged = 0;
    for (struct dirent *e; d && (e = readdir(d)) && damaged < 2;) {
        if (e->d_name[0] == '.') continue;
        join(path, sizeof path, cache2, e->d_name);
        if (damaged++ == 0) {
            if (truncate(path, 100) != 0) abort();
        } else {
            write_bytes(path, "garbage", 7);
        }
    }
    if (d) closedir(d);
    log_count lc = {0, 0};
    vc_log_set(count_log, &lc);
    CHECK(vci_features_build(&c, cache2, &p, 2, NULL, NULL, &b, &s) == VC_OK);
    vc_log_set(NULL, NULL);
    fprintf(stderr, "  hits %d misses %d, %d warnings\n", s.hits, s.misses, lc.warn);
    CHECK(s.hits == 3 && s.misses == 2 && lc.warn >= 2 && same_set(&a, &b));
    vci_feature_set_free(&b);
    CHECK(vci_features_build(&c, cache2, &p, 1, NULL, NULL, &b, &s) == VC_OK);
    CHECK(s.hits == 5 && same_set(&a, &b)); /* overwritten with good files */
    vci_feature_set_free(&b);

    fprintf(stderr, "unreadable, empty, garbage and silent files skipped with a count\n");
    vci_corpus_free(&c);
    join(path, sizeof path, spk, "x_garbage.wav");
    write_bytes(path, "RIFF1234WAVEjunkjunkjunk", 24);
    join(path, sizeof path, spk, "x_empty.flac");
    write_bytes(path, "", 0);
    join(path, sizeof path, spk, "x_silent.wav");
    float *z = calloc(RATE, sizeof *z);
    if (!z) abort();
    save(path, z, RATE);
    join(path, sizeof path, spk, "x_noperm.wav");
    save_utt(path, 150, 3);
    chmod(path, 0);
    int root_user = access(path, R_OK) == 0; /* root reads anything: then it is a good file */
    if (vci_corpus_scan(dirs, 1, &c) != VC_OK) abort();
    CHECK(c.n_utt == 9);
    lc = (log_count){0, 0};
    vc_log_set(count_log, &lc);
    CHECK(vci_features_build(&c, cache, &p, 2, NULL, NULL, &b, &s) == VC_OK);
    vc_log_set(NULL, NULL);
    fprintf(stderr, "  hits %d misses %d skipped %d (root %d)\n", s.hits, s.misses, s.skipped,
            root_user);
    /* the unreadable file: skipped, unless we are root (some sandboxes still refuse root) */
    CHECK(s.skipped + b.n == 9 && (s.skipped == 4 || (root_user && s.skipped == 3)));
    CHECK(s.hits == 5 && lc.warn >= 1);
    for (int i = 0; i < b.n; i++) CHECK(b.u[i].utt >= 0 && b.u[i].utt < c.n_utt);
    vci_feature_set_free(&b);
    vci_corpus_free(&c);

    fprintf(stderr, "all-bad corpus -> VC_ERR_AUDIO\n");
    char bad[1024], bspk[1024];
    join(bad, sizeof bad, root, "bad");
    join(bspk, sizeof bspk, bad, "s");
    mkdir(bad, 0755);
    mkdir(bspk, 0755);
    join(path, sizeof path, bspk, "a.wav");
    save(path, z, RATE);
    join(path, sizeof path, bspk, "b.wav");
    write_bytes(path, "nope", 4);
    const char *bdirs[] = {bad};
    if (vci_corpus_scan(bdirs, 1, &c) != VC_OK) abort();
    CHECK(vci_features_build(&c, cache, &p, 2, NULL, NULL, &b, &s) == VC_ERR_AUDIO);
    CHECK(b.n == 0 && b.u == NULL && s.skipped == 2);
    vci_corpus_free(&c);
    free(z);

    fprintf(stderr, "mel stats match a naive double computation (val utterances left out)\n");
    unsigned char is_val[5] = {0, 1, 0, 0, 1};
    float mean[80], sd[80];
    CHECK(vci_features_mel_stats(&a, is_val, mean, sd) == VC_OK);
    double worst = 0;
    for (int m = 0; m < 80; m++) {
        double s1d = 0, s2d = 0, cnt = 0;
        for (int i = 0; i < a.n; i++) {
            if (is_val[a.u[i].utt]) continue;
            for (int t = 0; t < a.u[i].T; t++) {
                double v = a.u[i].mel[m * a.u[i].T + t];
                s1d += v, s2d += v * v, cnt++;
            }
        }
        double mu = s1d / cnt, sdv = sqrt(fmax(s2d / cnt - mu * mu, 0));
        worst = fmax(worst, fabs(mean[m] - mu) + fabs(sd[m] - fmax(sdv, 1e-3)));
    }
    fprintf(stderr, "  worst |mean err| + |std err| %.3g\n", worst);
    CHECK(worst < 1e-4); /* float rounding of values of magnitude ~10 */
    unsigned char all_val[5] = {1, 1, 1, 1, 1};
    CHECK(vci_features_mel_stats(&a, all_val, mean, sd) == VC_ERR_ARG);

    fprintf(stderr, "segment sampling: in range, deterministic, too short -> VC_ERR_SHAPE\n");
    vc_rng r1, r2;
    vcu_rng_seed(&r1, 5);
    vcu_rng_seed(&r2, 5);
    int lo = 1 << 30, hi = -1, same = 1, T = 16;
    for (int k = 0; k < 1000; k++) {
        int st1, st2;
        CHECK(vci_features_sample_segment(&a, k % a.n, T, &r1, &st1) == VC_OK);
        CHECK(vci_features_sample_segment(&a, k % a.n, T, &r2, &st2) == VC_OK);
        same &= st1 == st2;
        if (st1 < lo) lo = st1;
        if (st1 + T > a.u[k % a.n].T)
            hi = 1 << 30;
        else if (st1 > hi)
            hi = st1;
    }
    CHECK(same && lo == 0 && hi < (1 << 30) && hi > 0);
    int st0 = -1;
    CHECK(vci_features_sample_segment(&a, 0, a.u[0].T, &r1, &st0) == VC_OK && st0 == 0);
    CHECK(vci_features_sample_segment(&a, 0, a.u[0].T + 1, &r1, &st0) == VC_ERR_SHAPE && st0 == 0);
    CHECK(vci_features_sample_segment(&a, a.n, 4, &r1, &st0) == VC_ERR_ARG);
    vci_feature_set_free(&a);
    vci_feature_set_free(NULL);
}

static void test_pitch(void) {
    fprintf(stderr, "pitch features: voiced frames mean 0, std 1; unvoiced 0; voicing copied\n");
    enum { T = 300 };
    float f0[T], vo[T], out[2 * T];
    vc_rng r;
    vcu_rng_seed(&r, 3);
    for (int t = 0; t < T; t++) {
        int voiced = (t / 20) % 3 != 0;
        f0[t] = voiced ? 180.0f * expf(0.2f * vcu_rng_normal(&r)) : 0.0f;
        vo[t] = voiced ? 0.9f : 0.1f;
    }
    vcm_pitch_features(f0, vo, T, out);
    double s = 0, s2 = 0;
    int nv = 0, ok = 1;
    for (int t = 0; t < T; t++) {
        if (f0[t] > 0)
            s += out[t], s2 += (double)out[t] * out[t], nv++;
        else
            ok &= out[t] == 0.0f;
        ok &= out[T + t] == vo[t];
    }
    fprintf(stderr, "  voiced %d: mean %.2e, std %.6f\n", nv, s / nv, sqrt(s2 / nv));
    CHECK(ok);
    CHECK_NEAR(s / nv, 0.0, 1e-5, 0); /* float outputs of a double computation */
    CHECK_NEAR(sqrt(s2 / nv), 1.0, 1e-5, 0);
    for (int t = 0; t < T; t++) f0[t] = f0[t] > 0 ? 200.0f : 0.0f; /* monotone: floor, no blow-up */
    vcm_pitch_features(f0, vo, T, out);
    ok = 1;
    for (int t = 0; t < T; t++) ok &= fabsf(out[t]) < 1e-4f; /* log-domain rounding / floor */
    CHECK(ok);
}

int main(void) {
    char tmpl[] = "/tmp/vc_test_features.XXXXXX";
    char *root = mkdtemp(tmpl);
    if (!root) return 1;
    test_compute();
    test_cache(root);
    test_pitch();
    remove_tree(root);
    return test_finish();
}
