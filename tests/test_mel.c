/* Mel filterbank against numpy reference vectors (tests/gen_mel_reference.py), filterbank
 * properties, log-mel of a reference signal, and the NNLS inverse vcd_mel_to_magnitude. */
#include "dsp/mel.h"
#include "dsp/stft.h"
#include "test.h"

#include <string.h>

#define TWO_PI 6.283185307179586476925286766559

/* Rebuilds the signal of gen_mel_reference.py exactly: same LCG in integers, same formula in
 * double, rounded to float once. x: (n). */
static void reference_signal(float *x, size_t n, int sr) {
    unsigned long long lcg = 12345;
    for (size_t i = 0; i < n; i++) {
        lcg = (1103515245ull * lcg + 12345ull) % (1ull << 31);
        double noise = ((double)lcg / (double)(1ull << 31) - 0.5) * 0.02;
        double ti = (double)i / sr;
        x[i] = (float)(0.5 * sin(TWO_PI * 440.0 * ti) + 0.25 * sin(TWO_PI * 1234.5 * ti + 0.3) +
                       0.1 * sin(TWO_PI * 3999.0 * ti + 1.0) + noise);
    }
}

static FILE *open_data(const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", VC_TEST_DATA_DIR, name);
    FILE *f = fopen(path, "r");
    /* The vectors are part of the source tree, so a missing file is a failure, not a skip. */
    if (!f) fprintf(stderr, "cannot open %s (run tests/gen_mel_reference.py)\n", path);
    return f;
}

/* Properties that hold for any Slaney filterbank. */
static void check_properties(const melbank *mb, int sr, int n_fft, float fmin, float fmax) {
    const int M = mb->M, F = mb->F;
    const double bin_hz = (double)sr / n_fft;
    const double mel_lo = vcd_mel_from_hz(fmin), mel_hi = vcd_mel_from_hz(fmax);
    int neg = 0, outside_range = 0, outside_band = 0, bad_order = 0, bad_area = 0;
    for (int m = 0; m < M; m++) {
        const float *row = mb->w + (size_t)m * F; // (F)
        /* Band edges f_lo, f_hi: the mel points m and m + 2 of M + 2. */
        double f_lo = vcd_hz_from_mel(mel_lo + (mel_hi - mel_lo) * m / (M + 1));
        double f_hi = vcd_hz_from_mel(mel_lo + (mel_hi - mel_lo) * (m + 2) / (M + 1));
        double area = 0;
        for (int f = 0; f < F; f++) {
            if (row[f] < 0) neg++;
            int inside = f >= mb->lo[m] && f < mb->hi[m];
            if ((row[f] > 0) != inside) outside_range++; /* w > 0 exactly on lo..hi */
            /* 1e-6 Hz: the two sides compute the edges in different orders. */
            if (row[f] > 0 && !(f * bin_hz > f_lo - 1e-6 && f * bin_hz < f_hi + 1e-6))
                outside_band++;
            area += row[f] * bin_hz;
        }
        if (m > 0 && (mb->lo[m] < mb->lo[m - 1] || mb->hi[m] < mb->hi[m - 1])) bad_order++;
        /* Slaney normalisation gives each triangle unit area in Hz; the sampled sum matches
         * once a band spans enough bins for the rectangle rule (8 bins: within 5%). */
        if (mb->hi[m] - mb->lo[m] >= 8 && fabs(area - 1.0) > 0.05) bad_area++;
    }
    CHECK(neg == 0);
    CHECK(outside_range == 0);
    CHECK(outside_band == 0);
    CHECK(bad_order == 0);
    CHECK(bad_area == 0);
}

/* Compares with one reference file; returns the max relative error (to the band peak). */
static double test_reference_filterbank(const char *name) {
    FILE *fp = open_data(name);
    CHECK(fp != NULL);
    if (!fp) return INFINITY;
    int sr, n_fft, n_mels;
    double fmin, fmax;
    CHECK(fscanf(fp, "%d %d %d %lf %lf", &sr, &n_fft, &n_mels, &fmin, &fmax) == 5);
    melbank mb;
    CHECK(vcd_melbank_init(&mb, sr, n_fft, n_mels, (float)fmin, (float)fmax) == VC_OK);
    const int F = mb.F;
    float *want = calloc((size_t)n_mels * F, sizeof *want); // (M, F)
    double max_rel = 0;
    for (int m = 0; m < n_mels; m++) {
        int mm, lo, hi;
        CHECK(fscanf(fp, "%d %d %d", &mm, &lo, &hi) == 3 && mm == m && lo >= 0 && hi <= F);
        for (int f = lo; f < hi; f++) {
            double v;
            CHECK(fscanf(fp, "%lf", &v) == 1);
            want[(size_t)m * F + f] = (float)v;
        }
        float peak = 0;
        for (int f = 0; f < F; f++) peak = fmaxf(peak, want[(size_t)m * F + f]);
        for (int f = 0; f < F; f++) {
            double e = fabs(mb.w[(size_t)m * F + f] - want[(size_t)m * F + f]) / peak;
            if (e > max_rel) max_rel = e;
        }
    }
    fclose(fp);
    /* librosa stores float32 weights; both sides compute in double and round once, so only
     * the order of operations differs (~1e-7 of the peak). atol 1e-9 absorbs the weights of
     * ~1e-17 that rounding puts on a bin sitting exactly on fmax in one version and not the
     * other. rtol 1e-5 is still far below any formula error (mel scale, enorm, edges), which
     * moves weights by > 1e-3. */
    check_tensor(name, mb.w, want, (size_t)n_mels * F, 1e-9, 1e-5);
    check_properties(&mb, sr, n_fft, (float)fmin, (float)fmax);
    fprintf(stderr, "%s: max error %.2e of the band peak\n", name, max_rel);
    free(want);
    vcd_melbank_free(&mb);
    return max_rel;
}

static void test_log_mel_reference(void) {
    FILE *fp = open_data("mel_logmel_ref.txt");
    CHECK(fp != NULL);
    if (!fp) return;
    int sr, n_fft, hop, n_mels, n, T;
    double fmin, fmax;
    CHECK(fscanf(fp, "%d %d %d %d %lf %lf %d %d", &sr, &n_fft, &hop, &n_mels, &fmin, &fmax, &n,
                 &T) == 8);
    CHECK(T == vcd_stft_n_frames((size_t)n, hop));
    float *want = malloc((size_t)T * n_mels * sizeof *want); // (T, M)
    for (int i = 0; i < T * n_mels; i++) {
        double v;
        CHECK(fscanf(fp, "%lf", &v) == 1);
        want[i] = (float)v;
    }
    fclose(fp);
    stft s;
    melbank mb;
    CHECK(vcd_stft_init(&s, n_fft, hop) == VC_OK);
    CHECK(vcd_melbank_init(&mb, sr, n_fft, n_mels, (float)fmin, (float)fmax) == VC_OK);
    float *x = malloc((size_t)n * sizeof *x);                      // (n)
    float *mag = malloc((size_t)T * s.F * sizeof *mag);            // (T, F)
    float *log_mel = malloc((size_t)T * n_mels * sizeof *log_mel); // (T, M)
    reference_signal(x, (size_t)n, sr);
    vcd_stft_magnitude(&s, mag, x, (size_t)n);
    vcd_mel_log_forward(&mb, log_mel, mag, T);
    double max_err = 0;
    for (int i = 0; i < T * n_mels; i++)
        if (fabs(log_mel[i] - want[i]) > max_err) max_err = fabs(log_mel[i] - want[i]);
    fprintf(stderr, "log-mel vs numpy (T %d, M %d): max abs error %.2e (natural log)\n", T, n_mels,
            max_err);
    /* float32 FFT and float32 band sums against float64 numpy: the weakest bands sit ~40 dB
     * below the peak, where relative rounding reaches ~1e-5 (measured max 1.7e-5). 2e-4 in log
     * (0.02 % in mel) leaves room for other FFTW codelets and still catches any window,
     * padding or scale error. */
    check_tensor("log_mel", log_mel, want, (size_t)T * n_mels, 2e-4, 0);
    free(x), free(mag), free(log_mel), free(want);
    vcd_melbank_free(&mb);
    vcd_stft_free(&s);
}

/* ||W mag - exp(log_mel)|| / ||exp(log_mel)|| over all frames. */
static double reprojection_error(const melbank *mb, const float *mag, const float *log_mel, int T) {
    float *mel = malloc((size_t)T * mb->M * sizeof *mel); // (T, M)
    vcd_mel_forward(mb, mel, mag, T);
    double err = 0, ref = 0;
    for (int i = 0; i < T * mb->M; i++) {
        double y = exp(log_mel[i]), d = mel[i] - y;
        err += d * d;
        ref += y * y;
    }
    free(mel);
    return sqrt(err / ref);
}

static void test_mel_to_magnitude(void) {
    const int sr = 16000, n_fft = 1024, hop = 256, n_mels = 80;
    const size_t n = 8000;
    stft s;
    melbank mb;
    CHECK(vcd_stft_init(&s, n_fft, hop) == VC_OK);
    CHECK(vcd_melbank_init(&mb, sr, n_fft, n_mels, 0.0f, 8000.0f) == VC_OK);
    const int T = vcd_stft_n_frames(n, hop), F = s.F;
    float *x = malloc(n * sizeof *x);                              // (n)
    float *mag = malloc((size_t)T * F * sizeof *mag);              // (T, F)
    float *est = malloc((size_t)T * F * sizeof *est);              // (T, F)
    float *log_mel = malloc((size_t)T * n_mels * sizeof *log_mel); // (T, M)
    reference_signal(x, n, sr); /* tones plus noise: a real-ish spectrum */
    vcd_stft_magnitude(&s, mag, x, n);
    vcd_mel_log_forward(&mb, log_mel, mag, T);
    const int iters[] = {0, 4, 16, 64, 256};
    double prev = INFINITY;
    for (size_t k = 0; k < sizeof iters / sizeof iters[0]; k++) {
        CHECK(vcd_mel_to_magnitude(&mb, est, log_mel, T, iters[k]) == VC_OK);
        int bad = 0;
        for (int i = 0; i < T * F; i++) bad += !(est[i] >= 0.0f && isfinite(est[i]));
        CHECK(bad == 0);
        double e = reprojection_error(&mb, est, log_mel, T);
        fprintf(stderr, "vcd_mel_to_magnitude, %3d iterations: relative mel error %.4f\n", iters[k],
                e);
        /* Multiplicative updates never increase the least-squares error (Lee & Seung 2001);
         * 1e-6 allows for float rounding once converged. */
        CHECK(e <= prev * (1 + 1e-6));
        prev = e;
        /* At 64 iterations (the front end's setting) the bands match to 1 % (measured 0.98 %);
         * 2 % leaves room for rounding while a broken update stays near the 27 % it starts at. */
        if (iters[k] == 64) CHECK(e < 0.02);
    }
    /* Bins outside every band (here none but DC: fmin = 0 puts DC on the first band's edge)
     * come out 0; floors, huge and NaN inputs give finite non-negative output. */
    for (int t = 0; t < T; t++) CHECK(est[(size_t)t * F] == 0.0f);
    for (int i = 0; i < T * n_mels; i++)
        log_mel[i] = i % 3 == 0 ? logf(VC_LOG_FLOOR) : i % 3 == 1 ? 200.0f : NAN;
    CHECK(vcd_mel_to_magnitude(&mb, est, log_mel, T, 8) == VC_OK);
    int bad = 0;
    for (int i = 0; i < T * F; i++) bad += !(est[i] >= 0.0f && isfinite(est[i]));
    CHECK(bad == 0);
    free(x), free(mag), free(est), free(log_mel);
    vcd_melbank_free(&mb);
    vcd_stft_free(&s);
}

static void test_scale_and_args(void) {
    /* Slaney scale anchors: 1 kHz is mel 15, linear below, 27 mels per factor 6.4 above. */
    CHECK_NEAR(vcd_mel_from_hz(1000.0), 15.0, 1e-12, 0);
    CHECK_NEAR(vcd_mel_from_hz(500.0), 7.5, 1e-12, 0);
    CHECK_NEAR(vcd_mel_from_hz(6400.0), 42.0, 1e-12, 0);
    for (double hz = 0; hz < 20000; hz += 37.5)
        CHECK_NEAR(vcd_hz_from_mel(vcd_mel_from_hz(hz)), hz, 1e-9, 1e-12);
    melbank mb;
    CHECK(vcd_melbank_init(&mb, 16000, 1024, 0, 0, 8000) == VC_ERR_ARG);
    CHECK(vcd_melbank_init(&mb, 16000, 1024, 80, 0, 9000) == VC_ERR_ARG); /* above Nyquist */
    CHECK(vcd_melbank_init(&mb, 16000, 1024, 80, 300, 200) == VC_ERR_ARG);
    CHECK(vcd_melbank_init(&mb, 16000, 1023, 80, 0, 8000) == VC_ERR_ARG);
    CHECK(vcd_melbank_init(NULL, 16000, 1024, 80, 0, 8000) == VC_ERR_ARG);
    vcd_melbank_free(&mb);
    vcd_melbank_free(NULL);
    /* More bands than bins: many bands hold no bin (lo == hi) and the rest still behave. */
    CHECK(vcd_melbank_init(&mb, 16000, 256, 200, 0, 8000) == VC_OK);
    int empty = 0;
    for (int m = 0; m < mb.M; m++) empty += mb.lo[m] == mb.hi[m];
    CHECK(empty > 0);
    check_properties(&mb, 16000, 256, 0, 8000);
    float *lm = malloc((size_t)mb.M * sizeof *lm);   // (1, M)
    float *mag = malloc((size_t)mb.F * sizeof *mag); // (1, F)
    for (int m = 0; m < mb.M; m++) lm[m] = -1.0f;
    CHECK(vcd_mel_to_magnitude(&mb, mag, lm, 1, 10) == VC_OK);
    int bad = 0;
    for (int f = 0; f < mb.F; f++) bad += !(mag[f] >= 0.0f && isfinite(mag[f]));
    CHECK(bad == 0);
    free(lm), free(mag);
    vcd_melbank_free(&mb);
}

int main(void) {
    test_scale_and_args();
    const char *files[] = {
        "mel_fb_16000_1024_80_0_8000.txt",
        "mel_fb_22050_1024_80_0_11025.txt",
        "mel_fb_24000_2048_100_50_12000.txt",
        "mel_fb_16000_512_40_0_8000.txt",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) test_reference_filterbank(files[i]);
    test_log_mel_reference();
    test_mel_to_magnitude();
    return test_finish();
}
