/* The public front end and vocoder end to end: consistency of the analysis entry points,
 * determinism, edge cases (silence, tiny inputs, other rates) and a resynthesis quality floor
 * on real speech from samples/. */
#include "test.h"
#include "vconv/vconv.h"

#include <math.h>
#include <string.h>

#define VC_TEST_PI 3.14159265358979323846

/* A voiced-speech-like test signal: 8 harmonics of a gliding F0 plus a little noise. */
static void make_signal(float *x, size_t n, int rate) {
    double phase = 0.0;
    unsigned s = 12345;
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / rate, f0 = 120.0 + 60.0 * sin(2.0 * VC_TEST_PI * 0.7 * t);
        phase += 2.0 * VC_TEST_PI * f0 / rate;
        double v = 0.0;
        for (int h = 1; h <= 8; h++) v += sin(h * phase) / h;
        s = s * 1103515245u + 12345u;
        x[i] = (float)(0.2 * v + 0.01 * ((double)(s >> 8) / 16777216.0 - 0.5));
    }
}

static int all_finite(const float *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i])) return 0;
    return 1;
}

/* Resynthesis through the library's entry point; returns the spectral convergence. */
static double resynth_sc(vc_frontend *fe, const float *x, size_t n, int iters, int from_mel,
                         uint64_t seed, float *out) {
    vc_vocoder_params vp = vc_vocoder_default_params();
    vp.iters = iters;
    vp.seed = seed;
    double sc = 1e9;
    CHECK(vc_resynthesize(fe, x, n, from_mel ? VC_RESYNTH_MEL : VC_RESYNTH_LINEAR, &vp, out, &sc) ==
          VC_OK);
    CHECK(all_finite(out, n));
    return sc;
}

int main(void) {
    vc_frontend_params p = vc_frontend_default_params();
    vc_frontend *fe;
    CHECK(vc_frontend_init(&p, &fe) == VC_OK);
    const size_t n = 24000; /* 1.5 s */
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *z = malloc(n * sizeof *z);
    make_signal(x, n, p.sample_rate);
    int T = vc_frontend_n_frames(fe, n), F = vc_frontend_n_bins(fe);

    /* log-mel straight from audio equals log-mel from the magnitude. */
    float *mag = malloc((size_t)T * F * sizeof *mag);
    float *lm1 = malloc((size_t)T * p.n_mels * sizeof *lm1);
    float *lm2 = malloc((size_t)T * p.n_mels * sizeof *lm2);
    CHECK(vc_frontend_log_mel(fe, x, n, lm1) == VC_OK);
    CHECK(vc_frontend_magnitude(fe, x, n, mag) == VC_OK);
    CHECK(vc_frontend_log_mel_from_magnitude(fe, mag, T, lm2) == VC_OK);
    CHECK(!memcmp(lm1, lm2, (size_t)T * p.n_mels * sizeof *lm1));

    /* Any range of frames equals the same frames of the whole (T is 94 here, so ranges cross
     * the signal's edges, where frames reflect, and are short and long). */
    const int ranges[][2] = {{0, 1}, {0, 94}, {3, 40}, {60, 34}, {93, 1}, {10, 5}};
    for (int r = 0; r < 6; r++) {
        CHECK(ranges[r][0] + ranges[r][1] <= T);
        CHECK(vc_frontend_log_mel_frames(fe, x, n, ranges[r][0], ranges[r][1], lm2) == VC_OK);
        CHECK(!memcmp(lm2, lm1 + (size_t)ranges[r][0] * p.n_mels,
                      (size_t)ranges[r][1] * p.n_mels * sizeof *lm1));
    }
    CHECK(vc_frontend_log_mel_frames(fe, x, n, T - 3, 4, lm2) == VC_ERR_ARG);
    CHECK(vc_frontend_log_mel_frames(fe, x, n, -1, 2, lm2) == VC_ERR_ARG);
    CHECK(vc_frontend_log_mel_frames(fe, x, n, 0, 0, lm2) == VC_ERR_ARG);

    /* The log-mel mapped back to a linear magnitude is never negative and always finite. */
    float *mel_mag = malloc((size_t)T * F * sizeof *mel_mag);
    CHECK(vc_frontend_mel_to_magnitude(fe, lm2, T, mel_mag) == VC_OK);
    int nonneg = 1;
    for (size_t i = 0; i < (size_t)T * F; i++) nonneg &= mel_mag[i] >= 0.0f && isfinite(mel_mag[i]);
    CHECK(nonneg);
    free(mel_mag);

    /* Silence: every band sits at the floor log(1e-5), nothing is NaN. */
    float *zeros = calloc(n, sizeof *zeros);
    CHECK(vc_frontend_log_mel(fe, zeros, n, lm1) == VC_OK);
    int at_floor = 1;
    for (size_t i = 0; i < (size_t)T * p.n_mels; i++)
        at_floor &= fabsf(lm1[i] - logf(1e-5f)) < 1e-4f;
    CHECK(at_floor);
    float *f0 = malloc((size_t)T * sizeof *f0), *v = malloc((size_t)T * sizeof *v);
    CHECK(vc_frontend_f0(fe, zeros, n, f0, v) == VC_OK);
    int unvoiced = 1;
    for (int t = 0; t < T; t++) unvoiced &= f0[t] == 0.0f && v[t] < 0.5f;
    CHECK(unvoiced);
    CHECK(vc_frontend_mel_to_magnitude(fe, lm1, T, mag) == VC_OK);
    CHECK(all_finite(mag, (size_t)T * F));

    /* Fast Griffin-Lim on exact magnitudes: a harmonic signal converges well below -15 dB in 32
     * iterations (speech reaches about -23 dB; -15 dB leaves room for FFT/BLAS rounding on other
     * machines but fails if phase reconstruction breaks). Same seed -> same samples. */
    double sc32 = resynth_sc(fe, x, n, 32, 0, 1, y);
    double sc32b = resynth_sc(fe, x, n, 32, 0, 1, z);
    fprintf(stderr, "synthetic: SC linear/32 %.2f dB\n", sc32);
    CHECK(sc32 < -15.0);
    CHECK(sc32 == sc32b && !memcmp(y, z, n * sizeof *y));
    double sc_other_seed = resynth_sc(fe, x, n, 32, 0, 2, z);
    CHECK(memcmp(y, z, n * sizeof *y) != 0);
    CHECK(sc_other_seed < -15.0);
    /* Through the 80-band mel the fine harmonic structure above ~1 kHz is lost, so the floor
     * is lower: it must still be clearly better than random phase on the same magnitude. */
    double sc_mel = resynth_sc(fe, x, n, 32, 1, 1, y);
    double sc_mel0 = resynth_sc(fe, x, n, 0, 1, 1, z);
    fprintf(stderr, "synthetic: SC mel/32 %.2f dB, mel/0 iterations %.2f dB\n", sc_mel, sc_mel0);
    CHECK(sc_mel < sc_mel0 - 3.0);

    /* Tiny inputs: any n >= 1 works and stays finite. */
    for (size_t k = 1; k <= 700; k += 233) {
        int Tk = vc_frontend_n_frames(fe, k);
        vc_vocoder_params vp = vc_vocoder_default_params();
        vp.iters = 4;
        CHECK(vc_frontend_magnitude(fe, x, k, mag) == VC_OK);
        CHECK(vc_vocoder_griffin_lim(fe, mag, Tk, &vp, y, k) == VC_OK);
        CHECK(all_finite(y, k));
        CHECK(vc_frontend_f0(fe, x, k, f0, v) == VC_OK);
    }
    vc_frontend_free(fe);

    /* 16 kHz is a default, not a limit: a 22.05 kHz configuration works the same way. */
    vc_frontend_params p22 = p;
    p22.sample_rate = 22050;
    p22.fmax = 11025.0f;
    CHECK(vc_frontend_init(&p22, &fe) == VC_OK);
    make_signal(x, n, p22.sample_rate);
    double sc22 = resynth_sc(fe, x, n, 32, 0, 1, y);
    fprintf(stderr, "synthetic 22.05 kHz: SC linear/32 %.2f dB\n", sc22);
    CHECK(sc22 < -15.0);
    vc_frontend_free(fe);

    /* Real speech from samples/: the floor of the reference point (about -23 dB for 32
     * iterations on exact magnitudes) minus 3 dB of margin for rounding differences. */
    char path[1024];
    snprintf(path, sizeof path, "%s/bdl_arctic_a0310.wav", VC_SAMPLES_DIR);
    vc_audio a;
    CHECK(vc_frontend_init(&p, &fe) == VC_OK);
    if (vc_audio_load(path, p.sample_rate, &a, NULL) == VC_OK) {
        float *out = malloc(a.n_samples * sizeof *out);
        double sc_speech = resynth_sc(fe, a.samples, a.n_samples, 32, 0, 1, out);
        fprintf(stderr, "speech: SC linear/32 %.2f dB\n", sc_speech);
        CHECK(sc_speech < -20.0);
        free(out);
        vc_audio_free(&a);
    } else {
        CHECK(!"samples/bdl_arctic_a0310.wav loads");
    }
    vc_frontend_free(fe);

    free(x);
    free(y);
    free(z);
    free(zeros);
    free(mag);
    free(lm1);
    free(lm2);
    free(f0);
    free(v);
    return test_finish();
}
