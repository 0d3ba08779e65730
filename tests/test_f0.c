/* F0 tracker: synthetic harmonic signals with known F0 (constant, glides, voiced/unvoiced
 * alternation), silence, bad arguments, speed, and real speech from the corpus if present. */
#include "dsp/f0.h"
#include "test.h"

#include <sndfile.h>
#include <string.h>
#include <time.h>

#define RATE 16000
#define HOP 256
#define TWO_PI 6.283185307179586

static f0_params default_params(void) {
    f0_params p = {RATE, HOP, 60.0f, 500.0f};
    return p;
}

static int n_frames(size_t n) {
    return (int)(1 + n / HOP);
}

static double now_s(void) {
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* q-quantile (0..1) of v; sorts v in place. */
static float quantile(float *v, int n, float q) { // v: (n)
    if (n <= 0) return NAN;
    qsort(v, (size_t)n, sizeof(float), cmp_float);
    int i = (int)(q * (float)(n - 1) + 0.5f);
    return v[i];
}

/* Harmonic tone: F0 track fs (per sample, 0 = silence), 8 harmonics below Nyquist with
 * amplitudes 0.7^k, random-ish fixed phases, plus white noise of std noise. */
static void synth(float *x, const float *fs, size_t n, float noise, vc_rng *rng) {
    double phase = 0;
    for (size_t i = 0; i < n; i++) {
        float v = 0.0f;
        if (fs[i] > 0.0f) {
            phase += TWO_PI * fs[i] / RATE;
            if (phase > TWO_PI * 1e4) phase -= TWO_PI * 1e4; /* keep precision */
            for (int k = 1; k <= 8; k++)
                if (k * fs[i] < 0.45f * RATE)
                    v += 0.3f * powf(0.7f, (float)(k - 1)) * (float)sin(k * phase + 0.7 * k * k);
        }
        x[i] = v + noise * vcu_rng_normal(rng);
    }
}

/* Median relative F0 error over frames voiced in truth, at least `guard` frames from any
 * voicing boundary (the analysis window straddles it). Also counts octave-ish errors (> 20%). */
static float median_rel_err(const float *f0, const float *truth, int T, int guard, int *n_used,
                            int *n_gross) {
    float *e = malloc((size_t)T * sizeof(float)); // (T)
    int m = 0, gross = 0;
    for (int t = 0; t < T; t++) {
        int ok = 1;
        for (int k = t - guard; k <= t + guard && ok; k++)
            if (k < 0 || k >= T || truth[k] <= 0.0f) ok = 0;
        if (!ok) continue;
        float r = f0[t] > 0.0f ? fabsf(f0[t] - truth[t]) / truth[t] : 1.0f;
        if (r > 0.2f) gross++;
        e[m++] = r;
    }
    float med = quantile(e, m, 0.5f);
    free(e);
    *n_used = m;
    *n_gross = gross;
    return med;
}

/* Runs the tracker on a synthetic F0 track and checks accuracy. Returns nothing; CHECKs. */
static void check_track(const char *name, const float *fs, size_t n, float noise, vc_rng *rng) {
    float *x = malloc(n * sizeof(float)); // (n)
    int T = n_frames(n);
    float *f0 = malloc((size_t)T * sizeof(float));    // (T)
    float *vo = malloc((size_t)T * sizeof(float));    // (T)
    float *truth = malloc((size_t)T * sizeof(float)); // (T)
    CHECK(x && f0 && vo && truth);
    if (!x || !f0 || !vo || !truth) goto done;
    synth(x, fs, n, noise, rng);
    for (int t = 0; t < T; t++) truth[t] = (size_t)t * HOP < n ? fs[(size_t)t * HOP] : 0.0f;
    f0_params p = default_params();
    CHECK(vcd_f0_track(&p, x, n, f0, vo, T) == VC_OK);
    int used, gross;
    float med = median_rel_err(f0, truth, T, 2, &used, &gross);
    int right = 0, finite = 1;
    for (int t = 0; t < T; t++) {
        right += (vo[t] >= 0.5f) == (truth[t] > 0.0f);
        finite &= isfinite(f0[t]) && isfinite(vo[t]) && vo[t] >= 0.0f && vo[t] <= 1.0f;
        finite &= (f0[t] > 0.0f) == (vo[t] >= 0.5f); /* f0 set exactly where voiced */
    }
    fprintf(stderr, "  %-28s median rel err %.4f%%, gross errors %d/%d, voicing right %.1f%%\n",
            name, 100.0 * med, gross, used, 100.0 * right / T);
    CHECK(finite);
    CHECK(used > 0);
    CHECK(med < 0.01f);        /* the brief: median relative error below 1 % */
    CHECK(gross <= used / 20); /* octave errors on at most 5 % of clean voiced frames */
done:
    free(x);
    free(f0);
    free(vo);
    free(truth);
}

static void test_synthetic(vc_rng *rng) {
    fprintf(stderr, "synthetic tones and glides:\n");
    size_t n = 2 * RATE;
    float *fs = malloc(n * sizeof(float)); // (n) true F0 per sample
    CHECK(fs != NULL);
    if (!fs) return;
    const float consts[] = {85.0f, 120.0f, 220.0f, 380.0f};
    for (int c = 0; c < 4; c++)
        for (int noisy = 0; noisy < 2; noisy++) {
            char name[64];
            snprintf(name, sizeof(name), "constant %.0f Hz%s", consts[c], noisy ? " + noise" : "");
            for (size_t i = 0; i < n; i++) fs[i] = consts[c];
            check_track(name, fs, n, noisy ? 0.02f : 0.0f, rng); /* 0.02: ~ 20 dB SNR */
        }
    for (int dir = 0; dir < 2; dir++)
        for (int noisy = 0; noisy < 2; noisy++) {
            float a = dir ? 400.0f : 80.0f, b = dir ? 80.0f : 400.0f;
            for (size_t i = 0; i < n; i++) fs[i] = a * powf(b / a, (float)i / (float)n);
            char name[64];
            snprintf(name, sizeof(name), "glide %.0f->%.0f Hz%s", a, b, noisy ? " + noise" : "");
            check_track(name, fs, n, noisy ? 0.02f : 0.0f, rng);
        }
    free(fs);
}

/* Voiced segments (varying F0) alternating with silence and noise-only segments. */
static void test_voicing(vc_rng *rng) {
    fprintf(stderr, "voicing on alternating voiced / silence / noise segments:\n");
    const size_t seg = RATE / 2; /* 0.5 s segments */
    const int nseg = 12;
    size_t n = seg * (size_t)nseg;
    float *fs = malloc(n * sizeof(float)); // (n)
    float *x = malloc(n * sizeof(float));  // (n)
    int T = n_frames(n);
    float *f0 = malloc((size_t)T * sizeof(float)); // (T)
    float *vo = malloc((size_t)T * sizeof(float)); // (T)
    CHECK(fs && x && f0 && vo);
    if (!fs || !x || !f0 || !vo) goto done;
    /* pattern: voiced, silence, voiced, noise, ... */
    for (int s = 0; s < nseg; s++)
        for (size_t i = 0; i < seg; i++)
            fs[s * seg + i] = s % 2 == 0 ? 100.0f + 40.0f * (float)s : 0.0f;
    synth(x, fs, n, 0.003f, rng);     /* low background noise everywhere */
    for (int s = 3; s < nseg; s += 4) /* noise-only segments, as loud as the voiced ones */
        for (size_t i = 0; i < seg; i++) x[s * seg + i] = 0.1f * vcu_rng_normal(rng);
    f0_params p = default_params();
    CHECK(vcd_f0_track(&p, x, n, f0, vo, T) == VC_OK);
    int right = 0, right_in = 0, n_in = 0;
    for (int t = 0; t < T; t++) {
        size_t i = (size_t)t * HOP < n ? (size_t)t * HOP : n - 1;
        int truth = fs[i] > 0.0f, ok = (vo[t] >= 0.5f) == truth;
        right += ok;
        /* frames whose analysis window straddles a boundary are ambiguous */
        long long dist = (long long)(i % seg);
        if (dist > (long long)seg / 2) dist = (long long)seg - dist;
        if (dist > 2 * HOP) right_in += ok, n_in++;
    }
    fprintf(stderr, "  all frames %.1f%% right (%d), away from boundaries %.1f%% (%d)\n",
            100.0 * right / T, T, 100.0 * right_in / n_in, n_in);
    CHECK(right >= 0.95 * T); /* the brief: >= 95 % of voicing decisions right */
    CHECK(right_in >= 0.99 * n_in);
done:
    free(fs);
    free(x);
    free(f0);
    free(vo);
}

static void test_silence_and_args(void) {
    size_t n = RATE;
    int T = n_frames(n);
    float *x = calloc(n, sizeof(float));           // (n) all zeros
    float *f0 = malloc((size_t)T * sizeof(float)); // (T)
    float *vo = malloc((size_t)T * sizeof(float)); // (T)
    CHECK(x && f0 && vo);
    if (!x || !f0 || !vo) goto done;
    f0_params p = default_params();
    CHECK(vcd_f0_track(&p, x, n, f0, vo, T) == VC_OK);
    int ok = 1;
    for (int t = 0; t < T; t++) ok &= f0[t] == 0.0f && isfinite(vo[t]) && vo[t] < 0.5f;
    CHECK(ok);
    /* tiny DC offset and denormal-level noise: still silence */
    for (size_t i = 0; i < n; i++) x[i] = (i % 3) ? 1e-25f : -1e-25f;
    CHECK(vcd_f0_track(&p, x, n, f0, vo, T) == VC_OK);
    ok = 1;
    for (int t = 0; t < T; t++) ok &= f0[t] == 0.0f && isfinite(vo[t]) && vo[t] < 0.5f;
    CHECK(ok);
    /* empty and very short input */
    CHECK(vcd_f0_track(&p, x, 0, f0, vo, 1) == VC_OK && f0[0] == 0.0f);
    CHECK(vcd_f0_track(&p, NULL, 0, f0, vo, 1) == VC_OK);
    CHECK(vcd_f0_track(&p, x, 10, f0, vo, 1) == VC_OK && f0[0] == 0.0f);

    CHECK(vcd_f0_track(NULL, x, n, f0, vo, T) == VC_ERR_ARG);
    CHECK(vcd_f0_track(&p, NULL, n, f0, vo, T) == VC_ERR_ARG);
    CHECK(vcd_f0_track(&p, x, n, NULL, vo, T) == VC_ERR_ARG);
    CHECK(vcd_f0_track(&p, x, n, f0, NULL, T) == VC_ERR_ARG);
    CHECK(vcd_f0_track(&p, x, n, f0, vo, T + 1) == VC_ERR_ARG);
    f0_params q = p;
    q.fmin = 500.0f, q.fmax = 500.0f;
    CHECK(vcd_f0_track(&q, x, n, f0, vo, T) == VC_ERR_ARG);
    q = p, q.fmin = 0.0f;
    CHECK(vcd_f0_track(&q, x, n, f0, vo, T) == VC_ERR_ARG);
    q = p, q.fmax = 8000.0f;
    CHECK(vcd_f0_track(&q, x, n, f0, vo, T) == VC_ERR_ARG);
    q = p, q.fmax = NAN;
    CHECK(vcd_f0_track(&q, x, n, f0, vo, T) == VC_ERR_ARG);
    q = p, q.hop = 0;
    CHECK(vcd_f0_track(&q, x, n, f0, vo, T) == VC_ERR_ARG);
    q = p, q.sample_rate = 0;
    CHECK(vcd_f0_track(&q, x, n, f0, vo, T) == VC_ERR_ARG);
done:
    free(x);
    free(f0);
    free(vo);
}

/* Same input twice gives bit-identical output; speed in x real time on 20 s of glides. */
static void test_speed_determinism(vc_rng *rng) {
    size_t n = 20 * RATE;
    int T = n_frames(n);
    float *fs = malloc(n * sizeof(float));          // (n)
    float *x = malloc(n * sizeof(float));           // (n)
    float *f0a = malloc((size_t)T * sizeof(float)); // (T)
    float *f0b = malloc((size_t)T * sizeof(float)); // (T)
    float *vo = malloc((size_t)T * sizeof(float));  // (T)
    CHECK(fs && x && f0a && f0b && vo);
    if (!fs || !x || !f0a || !f0b || !vo) goto done;
    for (size_t i = 0; i < n; i++) /* 1 s up-down glides, a silent 0.25 s every 2 s */
        fs[i] =
            (i % (2 * RATE)) < RATE / 4 ? 0.0f : 150.0f * powf(2.0f, sinf((float)i / RATE * 3.1f));
    synth(x, fs, n, 0.01f, rng);
    f0_params p = default_params();
    double t0 = now_s();
    CHECK(vcd_f0_track(&p, x, n, f0a, vo, T) == VC_OK);
    double dt = now_s() - t0;
    CHECK(vcd_f0_track(&p, x, n, f0b, vo, T) == VC_OK);
    CHECK(memcmp(f0a, f0b, (size_t)T * sizeof(float)) == 0);
    fprintf(stderr, "speed: 20 s of audio in %.3f s = %.0fx real time (one thread)\n", dt,
            20.0 / dt);
done:
    free(fs);
    free(x);
    free(f0a);
    free(f0b);
    free(vo);
}

/* Reads up to max_files FLAC files of one corpus speaker and reports the median voiced F0 and
 * voiced share. Returns 0 if the folder is missing. */
static int test_speaker(const char *speaker, float lo, float hi) {
    enum { MAX_FILES = 4 };
    float *all = NULL; // (n_voiced) voiced F0 values over the files
    int n_voiced = 0, n_total = 0, files = 0;
    for (int k = 1; k <= MAX_FILES; k++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/arctic/%s/arctic_a%04d.flac", VC_CORPUS_DIR, speaker, k);
        SF_INFO info;
        memset(&info, 0, sizeof(info));
        SNDFILE *sf = sf_open(path, SFM_READ, &info);
        if (!sf) continue;
        if (info.channels != 1 || info.samplerate != RATE || info.frames <= 0) {
            sf_close(sf);
            continue;
        }
        size_t n = (size_t)info.frames;
        int T = n_frames(n);
        float *x = malloc(n * sizeof(float));          // (n)
        float *f0 = malloc((size_t)T * sizeof(float)); // (T)
        float *vo = malloc((size_t)T * sizeof(float)); // (T)
        float *grow = realloc(all, (size_t)(n_voiced + T) * sizeof(float));
        if (grow) all = grow;
        if (x && f0 && vo && grow && sf_readf_float(sf, x, info.frames) == info.frames &&
            vcd_f0_track(&(f0_params){RATE, HOP, 60.0f, 500.0f}, x, n, f0, vo, T) == VC_OK) {
            files++;
            for (int t = 0; t < T; t++)
                if (f0[t] > 0.0f) all[n_voiced++] = f0[t];
            n_total += T;
        }
        sf_close(sf);
        free(x);
        free(f0);
        free(vo);
    }
    if (files == 0) {
        free(all);
        return 0;
    }
    float share = (float)n_voiced / (float)n_total;
    float p5 = quantile(all, n_voiced, 0.05f), med = quantile(all, n_voiced, 0.5f),
          p95 = quantile(all, n_voiced, 0.95f);
    fprintf(stderr,
            "  arctic/%s (%d files): median F0 %.1f Hz (5-95%%: %.1f-%.1f), voiced %.1f%%\n",
            speaker, files, med, p5, p95, 100.0 * share);
    CHECK(med >= lo && med <= hi);
    CHECK(share >= 0.2f && share <= 0.8f); /* read speech with pauses: 20-80 % voiced */
    free(all);
    return 1;
}

int main(void) {
    vc_rng rng;
    vcu_rng_seed(&rng, test_seed(1));
    test_synthetic(&rng);
    test_voicing(&rng);
    test_silence_and_args();
    test_speed_determinism(&rng);
    fprintf(stderr, "real speech from %s:\n", VC_CORPUS_DIR);
    int found = test_speaker("bdl", 80.0f, 180.0f); /* adult male */
    found += test_speaker("slt", 150.0f, 300.0f);   /* adult female */
    if (!found) fprintf(stderr, "  corpus not found: real-speech checks skipped\n");
    return test_finish();
}
