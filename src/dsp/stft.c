/* STFT with FFTW single precision: centred, reflect-padded frames, periodic Hann window,
 * unnormalised forward transform (like numpy.fft.rfft) and least-squares overlap-add inverse. */
#define _POSIX_C_SOURCE 200809L
#include "dsp/stft.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

/* FFTW's planner (plan creation and destruction) is one global state and not thread-safe; plan
 * execution with the new-array interface is. Every plan of the library is made and destroyed
 * under this lock, so conversions may run in several threads at once. (fftwf_make_planner_
 * thread_safe would do the same but needs libfftw3f_threads, which pkg-config's fftw3f does not
 * link.) */
static pthread_mutex_t planner_lock = PTHREAD_MUTEX_INITIALIZER;

void vcd_fftw_planner_lock(void) {
    pthread_mutex_lock(&planner_lock);
}

void vcd_fftw_planner_unlock(void) {
    pthread_mutex_unlock(&planner_lock);
}

vc_status vcd_stft_init(stft *s, int n_fft, int hop) {
    if (!s) return VC_ERR_ARG;
    memset(s, 0, sizeof *s);
    /* Even n_fft keeps F = n_fft/2 + 1 and the centre at n_fft/2 exact; the window-square sum
     * is non-zero everywhere only for hop <= n_fft/2. */
    if (n_fft < 2 || n_fft % 2 != 0 || hop < 1 || hop > n_fft / 2) return VC_ERR_ARG;
    s->n_fft = n_fft;
    s->hop = hop;
    s->F = n_fft / 2 + 1;
    s->window = fftwf_malloc(sizeof(float) * (size_t)n_fft);
    s->frame = fftwf_malloc(sizeof(float) * (size_t)n_fft);
    s->bins = fftwf_malloc(sizeof(fftwf_complex) * (size_t)s->F);
    s->wss = malloc(sizeof(double) * (size_t)hop);
    if (!s->window || !s->frame || !s->bins || !s->wss) {
        vcd_stft_free(s);
        return VC_ERR_NOMEM;
    }
    for (int k = 0; k < n_fft; k++) /* periodic: the n_fft-point DFT of the window is exact */
        s->window[k] = (float)(0.5 - 0.5 * cos(VC_TWO_PI * (double)k / (double)n_fft));
    /* Away from the ends every sample is covered by the window taps k = p mod hop, p mod hop +
     * hop, ...: its window-square sum depends only on p mod hop. */
    for (int r = 0; r < hop; r++) {
        s->wss[r] = 0.0;
        for (int k = r; k < n_fft; k += hop) s->wss[r] += (double)s->window[k] * s->window[k];
    }
    /* FFTW_ESTIMATE does not touch the arrays while planning and gives the same plan every run. */
    vcd_fftw_planner_lock();
    s->r2c = fftwf_plan_dft_r2c_1d(n_fft, s->frame, s->bins, FFTW_ESTIMATE);
    s->c2r = fftwf_plan_dft_c2r_1d(n_fft, s->bins, s->frame, FFTW_ESTIMATE);
    vcd_fftw_planner_unlock();
    if (!s->r2c || !s->c2r) {
        vcd_stft_free(s);
        return VC_ERR_INTERNAL;
    }
    return VC_OK;
}

void vcd_stft_free(stft *s) {
    if (!s) return;
    vcd_fftw_planner_lock();
    if (s->r2c) fftwf_destroy_plan(s->r2c);
    if (s->c2r) fftwf_destroy_plan(s->c2r);
    vcd_fftw_planner_unlock();
    fftwf_free(s->window);
    fftwf_free(s->frame);
    fftwf_free(s->bins);
    free(s->wss);
    memset(s, 0, sizeof *s);
}

int vcd_stft_n_frames(size_t n_samples, int hop) {
    return hop > 0 ? (int)(1 + n_samples / (size_t)hop) : 0;
}

/* Index into x of padded position i (i < 0 or i >= n reflect without repeating the edge, as
 * numpy.pad mode="reflect"; padding longer than the signal keeps reflecting, so short signals
 * never read out of bounds). */
static size_t reflect_index(long long i, size_t n) {
    if (n == 1) return 0;
    long long period = 2 * ((long long)n - 1);
    long long j = i % period;
    if (j < 0) j += period;
    if (j >= (long long)n) j = period - j;
    return (size_t)j;
}

/* Windowed frame t of x into s->frame, then its spectrum into s->bins. */
static void frame_spectrum(stft *s, const float *x, size_t n, int t) {
    long long start = (long long)t * s->hop - s->n_fft / 2;
    float *frame = s->frame; // (n_fft)
    if (start >= 0 && start + s->n_fft <= (long long)n) {
        for (int k = 0; k < s->n_fft; k++) frame[k] = s->window[k] * x[start + k];
    } else {
        for (int k = 0; k < s->n_fft; k++) frame[k] = s->window[k] * x[reflect_index(start + k, n)];
    }
    fftwf_execute_dft_r2c(s->r2c, frame, s->bins);
}

void vcd_stft_forward(stft *s, float *spec, const float *x, size_t n) {
    VC_ASSERT(s && spec && x && n >= 1);
    int T = vcd_stft_n_frames(n, s->hop);
    for (int t = 0; t < T; t++) {
        frame_spectrum(s, x, n, t);
        memcpy(spec + (size_t)t * (size_t)s->F * 2, s->bins, sizeof(fftwf_complex) * (size_t)s->F);
    }
}

void vcd_stft_magnitude_frames(stft *s, float *mag, const float *x, size_t n, int t0, int T) {
    VC_ASSERT(s && mag && x && n >= 1 && t0 >= 0 && T >= 0 &&
              t0 + T <= vcd_stft_n_frames(n, s->hop));
    for (int t = 0; t < T; t++) {
        frame_spectrum(s, x, n, t0 + t);
        float *row = mag + (size_t)t * (size_t)s->F; // (F)
        /* sqrtf, not hypotf: spectra of audio in [-1, 1] are far from overflow. */
        for (int f = 0; f < s->F; f++)
            row[f] = sqrtf(s->bins[f][0] * s->bins[f][0] + s->bins[f][1] * s->bins[f][1]);
    }
}

void vcd_stft_magnitude(stft *s, float *mag, const float *x, size_t n) {
    VC_ASSERT(s && mag && x && n >= 1);
    vcd_stft_magnitude_frames(s, mag, x, n, 0, vcd_stft_n_frames(n, s->hop));
}

void vcd_stft_inverse(stft *s, float *x, size_t n, const float *spec, int T) {
    VC_ASSERT(s && x && spec && n >= 1 && T >= 1);
    const int n_fft = s->n_fft, half = n_fft / 2, hop = s->hop;
    const float *w = s->window;              // (n_fft)
    const float scale = 1.0f / (float)n_fft; /* FFTW's c2r is unnormalised */
    memset(x, 0, sizeof(float) * n);
    /* Overlap-add of window * frame; only the part landing inside [0, n) is kept (the padding
     * is discarded, as librosa's istft with center=True and length=n does). */
    for (int t = 0; t < T; t++) {
        /* c2r overwrites its input, so it runs on a copy and spec stays intact. */
        memcpy(s->bins, spec + (size_t)t * (size_t)s->F * 2, sizeof(fftwf_complex) * (size_t)s->F);
        fftwf_execute_dft_c2r(s->c2r, s->bins, s->frame);
        long long start = (long long)t * hop - half;
        int k0 = start < 0 ? (int)-start : 0;
        long long k1 = (long long)n - start < n_fft ? (long long)n - start : n_fft;
        for (long long k = k0; k < k1; k++) x[start + k] += w[k] * s->frame[k] * scale;
    }
    /* Divide by the window-square sum of the frames covering each sample: from the table where
     * every frame covering the sample exists, summed over the frames that do near the ends. */
    for (size_t i = 0; i < n; i++) {
        long long p = (long long)i + half; /* position in the padded signal */
        double wss = 0;
        if (p >= n_fft - 1 && p / hop <= T - 1) {
            wss = s->wss[p % hop];
        } else {
            long long t_lo = p - n_fft + 1 <= 0 ? 0 : (p - n_fft + hop) / hop;
            long long t_hi = p / hop < T - 1 ? p / hop : T - 1;
            for (long long t = t_lo; t <= t_hi; t++) {
                double wk = w[p - t * hop];
                wss += wk * wk;
            }
        }
        x[i] = wss > 1e-10 ? (float)(x[i] / wss) : 0.0f;
    }
}
