/* WORLD-style analysis: CheapTrick envelope and band aperiodicity per frame (dsp/world_analysis.h
 * has the method, dsp/world.h the units). */
#include "dsp/world_analysis.h"

#include "dsp/stft.h"

#include <math.h>
#include <string.h>

/* CheapTrick's compensation lifter weight (Morise 2015). */
#define CHEAPTRICK_Q1 (-0.15)
/* Lags searched around one period for the aperiodicity, as fractions of the period. */
#define AP_LAG_STEPS 2
#define AP_LAG_STEP 0.01
/* Power floor before the log: far below any real spectrum, keeps log() finite on silence. */
#define POWER_FLOOR 1e-20

const float vcd_world_band_hz[VCD_WORLD_BANDS] = {500.0f, 1500.0f, 3000.0f, 5000.0f, 7000.0f};

float vcd_world_f0_floor(int sample_rate, int n_fft) {
    return 3.0f * (float)sample_rate / (float)n_fft * 1.001f; /* 0.1%: the window then fits */
}

int vcd_world_latency(int hop) {
    return hop / 2 + VCD_WORLD_PRE;
}

float vcd_world_stft_offset(float f0, const float *voicing, int t, int sample_rate, int n_fft) {
    float floor_hz = vcd_world_f0_floor(sample_rate, n_fft);
    double hz = VCD_WORLD_UNVOICED_F0;
    if (vcd_world_is_voiced(f0, voicing, t, floor_hz)) hz = f0 < floor_hz ? floor_hz : f0;
    return (float)(0.5 * log(3.0 * n_fft / 8.0 * hz / (double)sample_rate));
}

float vcd_world_band_weight(int b, float hz) {
    const float *c = vcd_world_band_hz;
    if (b < 0 || b >= VCD_WORLD_BANDS) return 0.0f;
    if (hz <= c[b]) {
        if (b == 0) return 1.0f;
        return hz <= c[b - 1] ? 0.0f : (hz - c[b - 1]) / (c[b] - c[b - 1]);
    }
    if (b == VCD_WORLD_BANDS - 1) return 1.0f;
    return hz >= c[b + 1] ? 0.0f : (c[b + 1] - hz) / (c[b + 1] - c[b]);
}

void vcd_world_band_table(float *w, int F, int n_fft, int sample_rate) {
    for (int b = 0; b < VCD_WORLD_BANDS; b++)
        for (int k = 0; k < F; k++)
            w[(size_t)b * (size_t)F + (size_t)k] =
                vcd_world_band_weight(b, (float)k * (float)sample_rate / (float)n_fft);
}

int vcd_world_is_voiced(float f0, const float *voicing, int t, float f0_floor) {
    if (!isfinite(f0) || f0 <= 0.0f) return 0;
    if (voicing && !(voicing[t] >= 0.5f)) return 0; /* NaN voicing reads as unvoiced */
    (void)f0_floor; /* below the floor is voiced, rendered at the floor */
    return f0 <= VCD_WORLD_F0_CEIL;
}

vc_status vcd_world_analysis_init(vcd_world_analysis *a, int sample_rate, int n_fft, int hop) {
    if (!a) return VC_ERR_ARG;
    memset(a, 0, sizeof *a);
    if (sample_rate < 1000 || n_fft < 64 || n_fft % 2 || hop < 1 || hop > n_fft) return VC_ERR_ARG;
    a->sample_rate = sample_rate;
    a->n_fft = n_fft;
    a->hop = hop;
    a->F = n_fft / 2 + 1;
    a->f0_floor = vcd_world_f0_floor(sample_rate, n_fft);
    size_t F = (size_t)a->F;
    a->frame = fftwf_malloc(sizeof(float) * (size_t)n_fft);
    a->bins = fftwf_malloc(sizeof(fftwf_complex) * F);
    a->power = malloc(F * sizeof *a->power);
    a->window_power = malloc(F * sizeof *a->window_power);
    a->smooth = malloc(F * sizeof *a->smooth);
    a->band_w = malloc((size_t)VCD_WORLD_BANDS * F * sizeof *a->band_w);
    if (!a->frame || !a->bins || !a->power || !a->window_power || !a->smooth || !a->band_w) {
        vcd_world_analysis_free(a);
        return VC_ERR_NOMEM;
    }
    vcd_world_band_table(a->band_w, a->F, n_fft, sample_rate);
    vcd_fftw_planner_lock(); /* FFTW's planner is global: see dsp/stft.h */
    a->r2c = fftwf_plan_dft_r2c_1d(n_fft, a->frame, a->bins, FFTW_ESTIMATE);
    a->c2r = fftwf_plan_dft_c2r_1d(n_fft, a->bins, a->frame, FFTW_ESTIMATE);
    vcd_fftw_planner_unlock();
    if (!a->r2c || !a->c2r) {
        vcd_world_analysis_free(a);
        return VC_ERR_INTERNAL;
    }
    return VC_OK;
}

void vcd_world_analysis_free(vcd_world_analysis *a) {
    if (!a) return;
    vcd_fftw_planner_lock();
    if (a->r2c) fftwf_destroy_plan(a->r2c);
    if (a->c2r) fftwf_destroy_plan(a->c2r);
    vcd_fftw_planner_unlock();
    fftwf_free(a->frame);
    fftwf_free(a->bins);
    free(a->power);
    free(a->window_power);
    free(a->smooth);
    free(a->band_w);
    memset(a, 0, sizeof *a);
}

/* |bins|^2 into out (F). */
static void bins_power(const vcd_world_analysis *a, double *out) {
    for (int k = 0; k < a->F; k++) {
        double re = a->bins[k][0], im = a->bins[k][1];
        out[k] = re * re + im * im;
    }
}

/* x at real position pos: cubic (Catmull-Rom) interpolation, 0 outside the signal and for
 * non-finite samples. */
static double sample_at(const float *x, size_t n, double pos) {
    double fl = floor(pos), f = pos - fl, v[4];
    long i0 = (long)fl - 1;
    for (int k = 0; k < 4; k++) {
        long i = i0 + k;
        v[k] = (i >= 0 && (size_t)i < n && isfinite(x[i])) ? (double)x[i] : 0.0;
    }
    return v[1] + 0.5 * f *
                      (v[2] - v[0] +
                       f * (2.0 * v[0] - 5.0 * v[1] + 4.0 * v[2] - v[3] +
                            f * (3.0 * (v[1] - v[2]) + v[3] - v[0])));
}

/* Offset from the centre, in samples, at which the signal is read for warped time u: the F0
 * f0 + slope * tau (slope in Hz per sample) is made constant by reading where the phase
 * f0 tau + slope tau^2 / 2 equals f0 u, so a gliding voice is periodic in u. */
static double warped_offset(double u, double f0, double slope) {
    double d = f0 * f0 + 2.0 * slope * f0 * u;
    if (slope == 0.0 || d <= 0.0) return u;
    return 2.0 * f0 * u / (f0 + sqrt(d));
}

/* Hann window `len` samples long (len <= n_fft - 2) centred on sample c, scaled to a square sum
 * of P: the windowed frame's power spectrum into a->power and, when want_window, the window's
 * own into a->window_power. slope (Hz per sample, 0: none) warps time around c so the F0
 * glide does not read as aperiodicity. The frame is laid out circularly around index 0 (the
 * centre). */
static void windowed_power(vcd_world_analysis *a, const float *x, size_t n, long c, double len,
                           double P, int want_window, double slope) {
    int N = a->n_fft;
    long half = (long)floor(0.5 * len);
    if (half > N / 2 - 1) half = N / 2 - 1;
    double sumsq = 0.0, f0 = (double)a->sample_rate / P;
    for (long m = -half; m <= half; m++) {
        double w = 0.5 + 0.5 * cos(VC_TWO_PI * (double)m / len);
        sumsq += w * w;
    }
    double scale = sqrt(P / sumsq);
    for (int pass = 0; pass < (want_window ? 2 : 1); pass++) {
        memset(a->frame, 0, sizeof(float) * (size_t)N);
        for (long m = -half; m <= half; m++) {
            double w = scale * (0.5 + 0.5 * cos(VC_TWO_PI * (double)m / len));
            long s = c + m;
            double v = 1.0;
            if (pass == 0 && slope != 0.0) {
                v = sample_at(x, n, (double)c + warped_offset((double)m, f0, slope));
            } else if (pass == 0) {
                v = (s >= 0 && (size_t)s < n) ? (double)x[s] : 0.0;
                if (!isfinite(v)) v = 0.0;
            }
            a->frame[(m + N) % N] = (float)(w * v);
        }
        fftwf_execute_dft_r2c(a->r2c, a->frame, a->bins);
        bins_power(a, pass == 0 ? a->power : a->window_power);
    }
}

/* F0 glide at frame t in Hz per sample, from its voiced neighbours (0 when it has none). */
static double f0_slope(const vcd_world_analysis *a, const float *f0, const float *voicing, int T,
                       int t) {
    int lo = t > 0 && vcd_world_is_voiced(f0[t - 1], voicing, t - 1, a->f0_floor) ? t - 1 : t;
    int hi = t + 1 < T && vcd_world_is_voiced(f0[t + 1], voicing, t + 1, a->f0_floor) ? t + 1 : t;
    if (hi == lo) return 0.0;
    double f_lo = fmax((double)f0[lo], (double)a->f0_floor);
    double f_hi = fmax((double)f0[hi], (double)a->f0_floor);
    return (f_hi - f_lo) / ((double)(hi - lo) * (double)a->hop);
}

/* Bin k of the power spectrum for any integer k: the spectrum of a real signal is even and
 * periodic, so it mirrors at 0 and at Nyquist. */
static double mirrored_value(const double *p, int F, long k) {
    long period = 2L * (F - 1);
    k %= period;
    if (k < 0) k += period;
    if (k > F - 1) k = period - k;
    return p[k];
}

/* Rectangular smoothing of a->power over `width` bins (CheapTrick's 2 F0 / 3), into out (F).
 * Summation over the covered bins, with fractional bins at the two ends. */
static void smooth_power(const vcd_world_analysis *a, double width, double *out) {
    double h = 0.5 * width;
    for (int k = 0; k < a->F; k++) {
        double lo = (double)k - h + 0.5, hi = (double)k + h + 0.5; /* in bin-edge coordinates */
        long ilo = (long)floor(lo), ihi = (long)floor(hi);
        double s;
        if (ilo == ihi) {
            s = (hi - lo) * mirrored_value(a->power, a->F, ilo);
        } else {
            s = ((double)(ilo + 1) - lo) * mirrored_value(a->power, a->F, ilo);
            for (long i = ilo + 1; i < ihi; i++) s += mirrored_value(a->power, a->F, i);
            s += (hi - (double)ihi) * mirrored_value(a->power, a->F, ihi);
        }
        out[k] = s / width;
    }
}

/* CheapTrick's two lifters on the log of a->smooth, for period P: the log-magnitude envelope
 * into env (F). Log power -> real cepstrum (c2r), lifter, back (r2c); FFTW's unnormalised
 * pair scales by N. */
static void lifter_envelope(vcd_world_analysis *a, double P, float *env) {
    int N = a->n_fft;
    for (int k = 0; k < a->F; k++) {
        a->bins[k][0] = (float)log(a->smooth[k] + POWER_FLOOR);
        a->bins[k][1] = 0.0f;
    }
    fftwf_execute_dft_c2r(a->c2r, a->bins, a->frame);
    double f0 = (double)a->sample_rate / P;
    for (int i = 0; i < N; i++) {
        double q = (double)(i <= N / 2 ? i : N - i) / (double)a->sample_rate; /* quefrency, s */
        double x = 0.5 * VC_TWO_PI * f0 * q;
        double smoothing = i == 0 ? 1.0 : sin(x) / x;
        double compensation =
            (1.0 - 2.0 * CHEAPTRICK_Q1) + 2.0 * CHEAPTRICK_Q1 * cos(VC_TWO_PI * f0 * q);
        a->frame[i] = (float)((double)a->frame[i] * smoothing * compensation / (double)N);
    }
    fftwf_execute_dft_r2c(a->r2c, a->frame, a->bins);
    for (int k = 0; k < a->F; k++) {
        float v = 0.5f * a->bins[k][0]; /* log power -> log magnitude */
        env[k] = v < VCD_WORLD_LOG_FLOOR ? VCD_WORLD_LOG_FLOOR : v;
    }
}

/* Weighted one-sided sum of spectrum p against cos(2 pi k L / N): the autocorrelation at lag L
 * of the signal whose power spectrum is p, restricted by the weights w (NULL: all ones). DC and
 * Nyquist count half, as they appear once in the two-sided sum. */
static double lag_correlation(const vcd_world_analysis *a, const double *p, const float *w,
                              double L) {
    double theta = VC_TWO_PI * L / (double)a->n_fft, c = 1.0, s = 0.0;
    double ct = cos(theta), st = sin(theta), sum = 0.0;
    for (int k = 0; k < a->F; k++) {
        double g = (k == 0 || k == a->F - 1) ? 0.5 : 1.0;
        if (w) g *= (double)w[k];
        sum += g * p[k] * c;
        double c2 = c * ct - s * st; /* cos/sin((k+1) theta) by rotation */
        s = s * ct + c * st;
        c = c2;
    }
    return sum;
}

/* Band aperiodicity of a voiced frame from a->power and a->window_power (see the header). The
 * lag is chosen once per frame on the whole band, where the estimate is least noisy: choosing
 * it per band would bias noise towards periodic (the best of several noisy readings). */
static void band_aperiodicity(const vcd_world_analysis *a, double P, float *ap) {
    size_t F = (size_t)a->F;
    double rho0 = lag_correlation(a, a->window_power, NULL, 0.0);
    double den = lag_correlation(a, a->power, NULL, 0.0), best = -INFINITY, lag = P, rho_lag = 0.0;
    for (int j = -AP_LAG_STEPS; j <= AP_LAG_STEPS && den > POWER_FLOOR; j++) {
        double L = P * (1.0 + AP_LAG_STEP * j);
        double rho = lag_correlation(a, a->window_power, NULL, L) / rho0;
        if (rho < 0.05) continue; /* the window barely overlaps itself: no evidence */
        double r = lag_correlation(a, a->power, NULL, L) / den / rho;
        if (r > best) {
            best = r;
            lag = L;
            rho_lag = rho;
        }
    }
    for (int b = 0; b < VCD_WORLD_BANDS; b++) {
        const float *w = a->band_w + (size_t)b * F;
        double den_b = lag_correlation(a, a->power, w, 0.0), v = 1.0;
        if (rho_lag > 0.0 && den_b > POWER_FLOOR)
            v = 1.0 - lag_correlation(a, a->power, w, lag) / den_b / rho_lag;
        /* no evidence (silent band, no usable lag): all noise */
        ap[b] = (float)(v < VCD_WORLD_AP_MIN ? VCD_WORLD_AP_MIN : v > 1.0 ? 1.0 : v);
    }
}

/* Unvoiced frames are rendered as noise of power mean(exp(2 env)) / P over the hop around
 * their centre; the analysis window (three periods at VCD_WORLD_UNVOICED_F0, 20 ms) is longer
 * than that hop and would lend a quiet frame the energy of a loud neighbour (pauses and
 * consonants next to vowels came out 3-5 dB loud). So the envelope keeps its shape and takes
 * its level from the samples it will be rendered over. */
static void unvoiced_level(const vcd_world_analysis *a, const float *x, size_t n, long centre,
                           double P, float *env) {
    double target = 0.0, have = 0.0;
    for (long i = centre - a->hop / 2; i < centre - a->hop / 2 + a->hop; i++)
        if (i >= 0 && (size_t)i < n && isfinite(x[i])) target += (double)x[i] * x[i];
    target /= (double)a->hop;
    for (int k = 0; k < a->F; k++)
        have += (k == 0 || k == a->F - 1 ? 1.0 : 2.0) * exp(2.0 * (double)env[k]);
    have /= (double)a->n_fft * P;
    if (!(target > 0.0) || !(have > 0.0)) return; /* silence stays at the floor */
    float shift = (float)(0.5 * log(target / have));
    for (int k = 0; k < a->F; k++) {
        float v = env[k] + shift;
        env[k] = v < VCD_WORLD_LOG_FLOOR ? VCD_WORLD_LOG_FLOOR : v;
    }
}

vc_status vcd_world_analyze(vcd_world_analysis *a, const float *x, size_t n, const float *f0,
                            const float *voicing, int T, float *log_env, float *ap) {
    if (!a || !a->frame || !x || !f0 || !log_env || n == 0) return VC_ERR_ARG;
    if (T != 1 + (int)(n / (size_t)a->hop)) return VC_ERR_SHAPE;
    size_t F = (size_t)a->F;
    for (int t = 0; t < T; t++) {
        int voiced = vcd_world_is_voiced(f0[t], voicing, t, a->f0_floor);
        double hz = voiced ? (f0[t] < a->f0_floor ? a->f0_floor : f0[t]) : VCD_WORLD_UNVOICED_F0;
        double P = (double)a->sample_rate / hz;
        long centre = (long)t * a->hop;
        if (ap && voiced) {
            /* Aperiodicity first (the envelope pass reuses a->power): four periods, where the
             * harmonics' main lobes no longer overlap, shortened so that the circular
             * autocorrelation at a lag of one period does not wrap. */
            double len = fmin(4.0 * P, (double)a->n_fft - 1.1 * P);
            windowed_power(a, x, n, centre, len, P, 1, f0_slope(a, f0, voicing, T, t));
            band_aperiodicity(a, P, ap + (size_t)t * VCD_WORLD_BANDS);
        } else if (ap) {
            for (int b = 0; b < VCD_WORLD_BANDS; b++) ap[(size_t)t * VCD_WORLD_BANDS + b] = 1.0f;
        }
        windowed_power(a, x, n, centre, 3.0 * P, P, 0, 0.0);
        /* 2 F0 / 3 in bins is (2/3) N / P. */
        smooth_power(a, 2.0 / 3.0 * (double)a->n_fft / P, a->smooth);
        lifter_envelope(a, P, log_env + (size_t)t * F);
        if (!voiced) unvoiced_level(a, x, n, centre, P, log_env + (size_t)t * F);
    }
    return VC_OK;
}
