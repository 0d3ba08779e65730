/* Denoising training's corruption (train/denoise.h): the SNR of the noise added equals the
 * SNR drawn, measured back from the output; white noise is flat and pink falls as 1/f; the
 * reverberation tail has the decay its RT60 says; babble is other utterances' power; a batch
 * is fixed by its seed (another seed differs), a data-parallel slice gets the bytes it gets
 * in the whole batch, and probability 0 changes nothing and draws nothing. */
#include "test.h"
#include "train/denoise.h"

#include <math.h>
#include <string.h>

enum { M = 80, T = 256 };

static vc_frontend_params front_end(void) {
    vc_frontend_params fp = vc_frontend_default_params();
    return fp; /* 16 kHz, n_fft 1024, hop 256, 80 bands over 0..8000 Hz */
}

/* A speech-like log-mel: a few formant bumps, syllable-rate loudness, some near-silent frames. */
static void synth_log_mel(float *lm, int t_len, vc_rng *r) {
    for (int t = 0; t < t_len; t++) {
        float loud = (t % 40) < 6 ? -6.0f : 1.5f * sinf(0.3f * (float)t);
        for (int m = 0; m < M; m++) {
            float f = (float)m;
            float env = 2.0f * expf(-0.5f * (f - 12) * (f - 12) / 16.0f) +
                        1.5f * expf(-0.5f * (f - 35) * (f - 35) / 25.0f) - 0.06f * f;
            lm[(size_t)m * t_len + t] = -3.0f + env + loud + 0.2f * vcu_rng_normal(r);
        }
    }
}

/* 10 log10 of speech power over noise power over the frames within the active range of the
 * loudest, as the trainer defines the SNR, with the noise measured back from the output. */
static double measured_snr(const float *clean_pow, const float *out, int t_len) {
    double top = 0;
    for (int t = 0; t < t_len; t++) {
        double s = 0;
        for (int m = 0; m < M; m++) s += clean_pow[(size_t)m * t_len + t];
        top = s > top ? s : top;
    }
    double S = 0, N = 0;
    for (int t = 0; t < t_len; t++) {
        double s = 0, n = 0;
        for (int m = 0; m < M; m++) {
            size_t i = (size_t)m * t_len + t;
            s += clean_pow[i];
            n += exp(2.0 * out[i]) - clean_pow[i];
        }
        if (s >= top * pow(10.0, -VCT_DENOISE_ACTIVE_DB / 10.0)) S += s, N += n;
    }
    return 10.0 * log10(S / N);
}

/* A feature set of 3 utterances (the babble sources): log-mels of the synthetic kind. */
typedef struct fake_set {
    vc_utt_features u[3];
    float mel[3][M * T];
    int pool[3];
    vc_feature_set fs;
} fake_set;

static void fake_set_init(fake_set *f, vc_rng *r) {
    memset(f, 0, sizeof *f);
    for (int i = 0; i < 3; i++) {
        f->u[i].T = T - 37 * i; /* shorter ones wrap around */
        f->u[i].mel = f->mel[i];
        synth_log_mel(f->mel[i], f->u[i].T, r);
        f->pool[i] = i;
    }
    f->fs = (vc_feature_set){M, 256, 16000, 3, f->u};
}

static void test_snr_and_shapes(vct_denoise *d) {
    vc_rng r;
    vcu_rng_seed(&r, test_seed(7));
    static float clean[M * T], pow_c[M * T], out[M * T], noise[M * T];
    synth_log_mel(clean, T, &r);
    for (int i = 0; i < M * T; i++) pow_c[i] = expf(2.0f * clean[i]);
    const float snrs[] = {0.0f, 5.0f, 10.0f, 20.0f};
    for (int kind = 0; kind < VCT_NOISE_KINDS; kind++)
        for (int s = 0; s < 4; s++) {
            vct_noise_draw dr = {1, kind, snrs[s], 0.0f, 1000u + (uint64_t)(kind * 4 + s)};
            memcpy(out, clean, sizeof out);
            vct_denoise_log_mel(d, &dr, out, T, noise);
            /* 0.5 dB: the tolerance; float rounding of exp/log is far below it */
            CHECK_NEAR(measured_snr(pow_c, out, T), snrs[s], 0.5, 0);
            /* the corruption only adds power */
            int below = 0;
            for (int i = 0; i < M * T; i++) below += out[i] < clean[i] - 1e-5f;
            CHECK(below == 0);
        }
    /* spectral shape: white's mean band power is flat, pink's falls as 1/f; band means over
     * T frames of gamma draws (shape >= 1: relative spread <= 1/16), pooled over 10 bands */
    for (int kind = VCT_NOISE_WHITE; kind <= VCT_NOISE_PINK; kind++) {
        vct_noise_draw dr = {1, kind, 10.0f, 0.0f, 77};
        memcpy(out, clean, sizeof out);
        vct_denoise_log_mel(d, &dr, out, T, noise);
        double lo = 0, hi = 0;
        for (int m = 5; m < 15; m++)
            for (int t = 0; t < T; t++) lo += noise[(size_t)m * T + t];
        for (int m = 65; m < 75; m++)
            for (int t = 0; t < T; t++) hi += noise[(size_t)m * T + t];
        double want = 1.0, plo = 0, phi = 0;
        for (int m = 5; m < 15; m++) plo += d->pink[m];
        for (int m = 65; m < 75; m++) phi += d->pink[m];
        if (kind == VCT_NOISE_PINK) want = plo / phi;
        CHECK(want > 5.0 || kind == VCT_NOISE_WHITE); /* pink does fall across the range */
        CHECK_NEAR(lo / hi, want, 0, 0.15);           /* 0.15: a few spreads of the band means */
    }
}

/* With noise_out, exp(2 out) - noise is the reverberant speech: an impulse at frame 10 of one
 * band decays by a per frame after the (1 - a) a of the first tail frame. */
static void test_reverb(vct_denoise *d) {
    static float lm[M * T], noise[M * T];
    for (int i = 0; i < M * T; i++) lm[i] = logf(1e-4f);
    lm[(size_t)20 * T + 10] = 0.0f; /* power 1 at band 20, frame 10 */
    vct_noise_draw dr = {1, VCT_NOISE_WHITE, 20.0f, 0.3f, 5};
    vct_denoise_log_mel(d, &dr, lm, T, noise);
    double a = pow(10.0, -6.0 * d->frame_s / 0.3), e[4];
    for (int k = 0; k < 4; k++) {
        size_t i = (size_t)20 * T + 10 + (size_t)k;
        e[k] = exp(2.0 * lm[i]) - noise[i]; /* the floor's 1e-8 is far below the tolerances */
    }
    /* 1e-3, 1e-2 relative: float exp/log, and the floor's own tail */
    CHECK_NEAR(e[0], 1.0, 0, 1e-3);
    CHECK_NEAR(e[1], (1 - a) * a, 0, 1e-2);
    CHECK_NEAR(e[2] / e[1], a, 0, 1e-2);
    CHECK_NEAR(e[3] / e[2], a, 0, 1e-2);
}

static void test_batch(const fake_set *f) {
    vc_frontend_params fp = front_end();
    vci_run run;
    memset(&run, 0, sizeof run);
    run.denoise = 0.5f;
    vct_denoise d;
    enum { B = 6, TB = 64 };
    CHECK(vct_denoise_init(&d, &run, &fp, TB, &f->fs, f->pool, 3) == VC_OK && d.on);
    float mean[M], std[M];
    for (int m = 0; m < M; m++) mean[m] = -4.0f + 0.01f * m, std[m] = 1.5f;
    static float xc0[B * M * TB], xs0[B * M * TB], xc[B * M * TB], xs[B * M * TB];
    static float xc2[B * M * TB], xs2[B * M * TB];
    vc_rng r;
    vcu_rng_seed(&r, test_seed(3));
    for (int i = 0; i < B * M * TB; i++) xc0[i] = vcu_rng_normal(&r), xs0[i] = vcu_rng_normal(&r);
    /* the same seed: the same bytes; another: others */
    memcpy(xc, xc0, sizeof xc), memcpy(xs, xs0, sizeof xs);
    vcu_rng_seed(&r, 9);
    vct_denoise_batch(&d, &r, mean, std, xc, TB, xs, TB, B, 0, B);
    uint64_t after = r.s;
    memcpy(xc2, xc0, sizeof xc), memcpy(xs2, xs0, sizeof xs);
    vcu_rng_seed(&r, 9);
    vct_denoise_batch(&d, &r, mean, std, xc2, TB, xs2, TB, B, 0, B);
    CHECK(memcmp(xc, xc2, sizeof xc) == 0 && memcmp(xs, xs2, sizeof xs) == 0);
    CHECK(memcmp(xc, xc0, sizeof xc) != 0 && memcmp(xs, xs0, sizeof xs) != 0);
    memcpy(xc2, xc0, sizeof xc), memcpy(xs2, xs0, sizeof xs);
    vcu_rng_seed(&r, 10);
    vct_denoise_batch(&d, &r, mean, std, xc2, TB, xs2, TB, B, 0, B);
    CHECK(memcmp(xc, xc2, sizeof xc) != 0);
    /* some items corrupted, some left clean (probability 0.5 over 12 inputs, seed 9) */
    int touched = 0;
    for (int b = 0; b < B; b++) {
        size_t o = (size_t)b * M * TB, n = sizeof(float) * M * TB;
        touched += memcmp(xc + o, xc0 + o, n) != 0;
        touched += memcmp(xs + o, xs0 + o, n) != 0;
    }
    CHECK(touched > 0 && touched < 2 * B);
    /* a data-parallel slice: items 2..3 alone get the bytes they get in the whole batch, and
     * the stream moves as far */
    size_t o = (size_t)2 * M * TB, n2 = sizeof(float) * 2 * M * TB;
    memcpy(xc2, xc0 + o, n2), memcpy(xs2, xs0 + o, n2);
    vcu_rng_seed(&r, 9);
    vct_denoise_batch(&d, &r, mean, std, xc2, TB, xs2, TB, B, 2, 2);
    CHECK(memcmp(xc2, xc + o, n2) == 0 && memcmp(xs2, xs + o, n2) == 0 && r.s == after);
    vct_denoise_free(&d);
    /* probability 0: off, nothing changed, nothing drawn */
    run.denoise = 0.0f;
    CHECK(vct_denoise_init(&d, &run, &fp, TB, &f->fs, f->pool, 3) == VC_OK && !d.on);
    memcpy(xc, xc0, sizeof xc), memcpy(xs, xs0, sizeof xs);
    vcu_rng_seed(&r, 9);
    vct_denoise_batch(&d, &r, mean, std, xc, TB, xs, TB, B, 0, B);
    CHECK(memcmp(xc, xc0, sizeof xc) == 0 && memcmp(xs, xs0, sizeof xs) == 0);
    vc_rng r9;
    vcu_rng_seed(&r9, 9);
    CHECK(r.s == r9.s);
    vct_denoise_free(&d);
}

int main(void) {
    static fake_set f;
    vc_rng r;
    vcu_rng_seed(&r, test_seed(11));
    fake_set_init(&f, &r);
    vc_frontend_params fp = front_end();
    vci_run run;
    memset(&run, 0, sizeof run);
    run.denoise = 1.0f;
    vct_denoise d;
    CHECK(vct_denoise_init(&d, &run, &fp, T, &f.fs, f.pool, 3) == VC_OK);
    test_snr_and_shapes(&d);
    test_reverb(&d);
    vct_denoise_free(&d);
    test_batch(&f);
    return test_finish();
}
