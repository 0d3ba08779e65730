/* WORLD-style renderer: minimum-phase responses per pulse period plus shaped noise, continuing
 * the audio already written (dsp/world_synth.h has the method, dsp/world.h the units). */
#include "dsp/world_synth.h"

#include "dsp/stft.h"

#include <math.h>
#include <string.h>

vc_status vcd_world_synth_init(vcd_world_synth *s, int sample_rate, int n_fft, int hop,
                               uint64_t seed) {
    if (!s) return VC_ERR_ARG;
    memset(s, 0, sizeof *s);
    if (sample_rate < 1000 || n_fft < 64 || n_fft % 2 || hop < 1 || hop > n_fft) return VC_ERR_ARG;
    s->sample_rate = sample_rate;
    s->n_fft = n_fft;
    s->hop = hop;
    s->F = n_fft / 2 + 1;
    s->f0_floor = vcd_world_f0_floor(sample_rate, n_fft);
    size_t F = (size_t)s->F;
    s->buf = fftwf_malloc(sizeof(float) * (size_t)n_fft);
    s->spec = fftwf_malloc(sizeof(fftwf_complex) * F);
    s->h_pulse = fftwf_malloc(sizeof(fftwf_complex) * F);
    s->h_noise = fftwf_malloc(sizeof(fftwf_complex) * F);
    s->tail = malloc(sizeof(float) * (size_t)n_fft);
    s->band_w = malloc((size_t)VCD_WORLD_BANDS * F * sizeof *s->band_w);
    if (!s->buf || !s->spec || !s->h_pulse || !s->h_noise || !s->tail || !s->band_w) {
        vcd_world_synth_free(s);
        return VC_ERR_NOMEM;
    }
    vcd_world_band_table(s->band_w, s->F, n_fft, sample_rate);
    vcd_fftw_planner_lock(); /* FFTW's planner is global: see dsp/stft.h */
    s->r2c = fftwf_plan_dft_r2c_1d(n_fft, s->buf, s->spec, FFTW_ESTIMATE);
    s->c2r = fftwf_plan_dft_c2r_1d(n_fft, s->spec, s->buf, FFTW_ESTIMATE);
    vcd_fftw_planner_unlock();
    if (!s->r2c || !s->c2r) {
        vcd_world_synth_free(s);
        return VC_ERR_INTERNAL;
    }
    vcd_world_synth_reset(s, seed);
    return VC_OK;
}

void vcd_world_synth_free(vcd_world_synth *s) {
    if (!s) return;
    vcd_fftw_planner_lock();
    if (s->r2c) fftwf_destroy_plan(s->r2c);
    if (s->c2r) fftwf_destroy_plan(s->c2r);
    vcd_fftw_planner_unlock();
    fftwf_free(s->buf);
    fftwf_free(s->spec);
    fftwf_free(s->h_pulse);
    fftwf_free(s->h_noise);
    free(s->tail);
    free(s->band_w);
    memset(s, 0, sizeof *s);
}

void vcd_world_synth_reset(vcd_world_synth *s, uint64_t seed) {
    if (!s || !s->tail) return;
    memset(s->tail, 0, sizeof(float) * (size_t)s->n_fft);
    s->cached_frame = -1;
    s->frames_done = 0;
    s->next_pulse = VCD_WORLD_PRE; /* the first period's buffer starts at sample 0 */
    s->prev_f0 = 0.0;
    vcu_rng_seed(&s->rng, seed);
}

/* Minimum-phase response whose log magnitude is s->spec's real part (F bins; imaginary parts
 * ignored) into h (F): real cepstrum, folded onto positive quefrencies, exponentiated. */
static void minimum_phase(vcd_world_synth *s, fftwf_complex *h) {
    int N = s->n_fft;
    for (int k = 0; k < s->F; k++) s->spec[k][1] = 0.0f;
    fftwf_execute_dft_c2r(s->c2r, s->spec, s->buf); /* N x cepstrum */
    float inv = 1.0f / (float)N;
    s->buf[0] *= inv;
    for (int i = 1; i < N / 2; i++) s->buf[i] *= 2.0f * inv;
    s->buf[N / 2] *= inv;
    for (int i = N / 2 + 1; i < N; i++) s->buf[i] = 0.0f;
    fftwf_execute_dft_r2c(s->r2c, s->buf, s->spec);
    for (int k = 0; k < s->F; k++) {
        float mag = expf(s->spec[k][0]);
        h[k][0] = mag * cosf(s->spec[k][1]);
        h[k][1] = mag * sinf(s->spec[k][1]);
    }
}

static float clamp_log(float v) {
    if (!(v >= VCD_WORLD_LOG_FLOOR)) return VCD_WORLD_LOG_FLOOR; /* NaN too */
    return v > VCD_WORLD_LOG_CEIL ? VCD_WORLD_LOG_CEIL : v;
}

static float clamp_ap(float v) {
    if (!(v <= 1.0f)) return 1.0f; /* NaN too */
    return v < VCD_WORLD_AP_MIN ? VCD_WORLD_AP_MIN : v;
}

/* The responses of one frame: Hp and Hn when voiced, He (in h_noise) when not. ap: the frame's
 * bands or NULL. log(sqrt(x)) = 0.5 log(x) keeps the magnitudes in the log domain. */
static void frame_responses(vcd_world_synth *s, const float *env, const float *ap, int voiced) {
    size_t F = (size_t)s->F;
    if (!voiced) {
        for (int k = 0; k < s->F; k++) s->spec[k][0] = clamp_log(env[k]);
        minimum_phase(s, s->h_noise);
        return;
    }
    float bands[VCD_WORLD_BANDS];
    for (int b = 0; b < VCD_WORLD_BANDS; b++) bands[b] = ap ? clamp_ap(ap[b]) : VCD_WORLD_AP_MIN;
    for (int pass = 0; pass < 2; pass++) {
        for (int k = 0; k < s->F; k++) {
            float a = 0.0f;
            for (int b = 0; b < VCD_WORLD_BANDS; b++)
                a += s->band_w[(size_t)b * F + (size_t)k] * bands[b];
            float share = pass == 0 ? 1.0f - a : a;
            if (share < VCD_WORLD_AP_MIN) share = VCD_WORLD_AP_MIN;
            s->spec[k][0] = clamp_log(env[k]) + 0.5f * logf(share);
        }
        minimum_phase(s, pass == 0 ? s->h_pulse : s->h_noise);
    }
    /* A pulse train's mean (its DC term, H(0) / P) is no part of speech: recordings carry none,
     * and the envelope below F0 is not observed, only extrapolated by the smoothing. */
    s->h_pulse[0][0] = s->h_pulse[0][1] = 0.0f;
}

/* One excitation period: the pulse at stream instant tau (real), noise over the L samples from
 * floor(tau), real period P. The response is laid out from buffer index 0 = stream sample
 * floor(tau) - VCD_WORLD_PRE, so the fractional delay's band-limited pulse has room before its
 * peak; it is added into out (the block [start, start + len)) and the tail beyond it. */
static void render_period(vcd_world_synth *s, double tau, long L, double P, int voiced, float *out,
                          long long start, size_t len) {
    int N = s->n_fft;
    long long base = (long long)floor(tau);
    float sd = (float)sqrt(1.0 / P);
    memset(s->buf, 0, sizeof(float) * (size_t)N);
    for (long i = 0; i < L && VCD_WORLD_PRE + i < N; i++)
        s->buf[VCD_WORLD_PRE + i] = sd * vcu_rng_normal(&s->rng);
    fftwf_execute_dft_r2c(s->r2c, s->buf, s->spec);
    /* The pulse delayed by PRE + (tau - floor(tau)) samples: a linear phase, by rotation. */
    double delay = (double)VCD_WORLD_PRE + (tau - (double)base);
    double step = -VC_TWO_PI * delay / (double)N, cr = 1.0, ci = 0.0;
    double sr = cos(step), si = sin(step);
    for (int k = 0; k < s->F; k++) {
        float nr = s->spec[k][0], ni = s->spec[k][1];
        float hr = s->h_noise[k][0], hi = s->h_noise[k][1];
        float re = nr * hr - ni * hi, im = nr * hi + ni * hr;
        if (voiced) {
            double pr = s->h_pulse[k][0], pi = s->h_pulse[k][1];
            re += (float)(pr * cr - pi * ci);
            im += (float)(pr * ci + pi * cr);
            double c2 = cr * sr - ci * si;
            ci = cr * si + ci * sr;
            cr = c2;
        }
        s->spec[k][0] = re;
        s->spec[k][1] = im;
    }
    fftwf_execute_dft_c2r(s->c2r, s->spec, s->buf);
    float inv = 1.0f / (float)N;
    size_t off = (size_t)(base - VCD_WORLD_PRE - start); /* < len: starts inside the block */
    for (int i = 0; i < N; i++) {
        size_t j = off + (size_t)i;
        float v = s->buf[i] * inv;
        if (j < len)
            out[j] += v;
        else
            s->tail[j - len] += v;
    }
}

/* The F0 a frame renders at: 0 when unvoiced, else raised to the floor. */
static double frame_f0(const vcd_world_synth *s, float f0, const float *voicing, int t) {
    if (!vcd_world_is_voiced(f0, voicing, t, s->f0_floor)) return 0.0;
    return f0 < s->f0_floor ? (double)s->f0_floor : (double)f0;
}

/* F0 of a period starting at `phase` (0..1) through its frame's hop: the line through the
 * previous frame's F0 and this one's, centred on this one at mid-hop, so a glide rises
 * smoothly instead of in one step per frame (real voices glide; stepped F0 reads as jitter)
 * while needing no later frame. The frame's own F0 when the previous one is unvoiced. */
static double period_f0(const vcd_world_synth *s, double f, double prev, double phase) {
    if (prev <= 0.0) return f;
    double hz = f + (f - prev) * (phase - 0.5);
    double lo = fmin(f, prev), hi = fmax(f, prev); /* never beyond the two frames' values */
    hz = hz < lo ? lo : hz > hi ? hi : hz;
    return hz < s->f0_floor ? s->f0_floor : hz;
}

/* Start a block of len samples: what earlier periods already put there, and the tail shifted
 * past it. */
static void start_block(vcd_world_synth *s, float *out, size_t len) {
    size_t N = (size_t)s->n_fft;
    for (size_t j = 0; j < len; j++) out[j] = j < N ? s->tail[j] : 0.0f;
    if (len < N) {
        memmove(s->tail, s->tail + len, (N - len) * sizeof(float));
        memset(s->tail + (N - len), 0, len * sizeof(float));
    } else {
        memset(s->tail, 0, N * sizeof(float));
    }
}

vc_status vcd_world_render(vcd_world_synth *s, const float *log_env, const float *ap,
                           const float *f0, const float *voicing, int T, float *out) {
    if (!s || !s->buf || !log_env || !f0 || !out || T < 1) return VC_ERR_ARG;
    size_t len = (size_t)T * (size_t)s->hop, F = (size_t)s->F;
    long long start = s->frames_done * s->hop;
    start_block(s, out, len);
    for (;;) {
        /* The period's buffer starts PRE samples before its pulse; that start decides the block
         * and the frame, so no period needs a frame that has not been given yet. */
        long long p = (long long)floor(s->next_pulse) - VCD_WORLD_PRE;
        if (p >= start + (long long)len) break;
        int t = (int)(p / s->hop - s->frames_done);
        int voiced = vcd_world_is_voiced(f0[t], voicing, t, s->f0_floor);
        double hz = VCD_WORLD_UNVOICED_F0;
        if (voiced) {
            double prev = t > 0 ? frame_f0(s, f0[t - 1], voicing, t - 1) : s->prev_f0;
            double phase = (double)(p - (s->frames_done + t) * s->hop) / (double)s->hop;
            hz = period_f0(s, frame_f0(s, f0[t], voicing, t), prev, phase);
        }
        if (s->cached_frame != s->frames_done + t) {
            frame_responses(s, log_env + (size_t)t * F,
                            ap ? ap + (size_t)t * VCD_WORLD_BANDS : NULL, voiced);
            s->cached_frame = s->frames_done + t;
        }
        double P = (double)s->sample_rate / hz, next = s->next_pulse + P;
        long L = (long)((long long)floor(next) - (long long)floor(s->next_pulse));
        render_period(s, s->next_pulse, L, P, voiced, out, start, len);
        s->next_pulse = next;
    }
    s->prev_f0 = frame_f0(s, f0[T - 1], voicing, T - 1);
    s->frames_done += T;
    return VC_OK;
}
