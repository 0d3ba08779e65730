/* The public front end: one object that owns the STFT plans and the mel filterbank for a given
 * configuration, and the analysis and vocoder entry points of vconv.h built on them. */
#include "dsp/frontend.h"

#include "common.h"
#include "dsp/f0.h"
#include "dsp/griffinlim.h"
#include "dsp/mel.h"
#include "dsp/stft.h"
#include "dsp/world_analysis.h"
#include "dsp/world_synth.h"

#include <math.h>
#include <string.h>

/* Multiplicative NNLS iterations for mel -> linear: the error stops improving visibly past ~50
 * and each iteration costs about two sparse passes over (T, F). */
#define MEL_TO_MAG_ITERS 64

struct vc_frontend {
    vc_frontend_params p;
    stft stft;
    melbank mel;
};

vc_frontend_params vc_frontend_default_params(void) {
    vc_frontend_params p = {
        .sample_rate = 16000,
        .n_fft = 1024,
        .hop = 256,
        .n_mels = 80,
        .fmin = 0.0f,
        .fmax = 8000.0f,
        .f0_min = 60.0f,
        .f0_max = 500.0f,
    };
    return p;
}

static vc_status params_check(const vc_frontend_params *p) {
    if (p->sample_rate < 4000 || p->sample_rate > 192000) return VC_ERR_ARG;
    if (p->n_fft < 16 || p->n_fft > 16384 || p->n_fft % 2) return VC_ERR_ARG;
    if (p->hop < 1 || p->hop > p->n_fft / 2) return VC_ERR_ARG; /* overlap-add needs >= 2x */
    if (p->n_mels < 1 || p->n_mels > p->n_fft / 2 + 1) return VC_ERR_ARG;
    if (!(p->fmin >= 0.0f && p->fmin < p->fmax && p->fmax <= 0.5f * (float)p->sample_rate))
        return VC_ERR_ARG;
    if (!(p->f0_min > 0.0f && p->f0_min < p->f0_max && p->f0_max < 0.5f * (float)p->sample_rate))
        return VC_ERR_ARG;
    return VC_OK;
}

vc_status vc_frontend_init(const vc_frontend_params *p, vc_frontend **out) {
    if (!p || !out) return VC_ERR_ARG;
    *out = NULL;
    vc_status st = params_check(p);
    if (st != VC_OK) {
        vcu_log(VC_LOG_ERROR, "front end: invalid parameters (rate %d, n_fft %d, hop %d, mels %d)",
                p->sample_rate, p->n_fft, p->hop, p->n_mels);
        return st;
    }
    vc_frontend *fe = calloc(1, sizeof *fe);
    if (!fe) return VC_ERR_NOMEM;
    fe->p = *p;
    st = vcd_stft_init(&fe->stft, p->n_fft, p->hop);
    if (st == VC_OK)
        st = vcd_melbank_init(&fe->mel, p->sample_rate, p->n_fft, p->n_mels, p->fmin, p->fmax);
    if (st != VC_OK) {
        vc_frontend_free(fe);
        return st;
    }
    *out = fe;
    return VC_OK;
}

void vc_frontend_free(vc_frontend *fe) {
    if (!fe) return;
    vcd_stft_free(&fe->stft);
    vcd_melbank_free(&fe->mel);
    free(fe);
}

const vc_frontend_params *vc_frontend_params_of(const vc_frontend *fe) {
    return fe ? &fe->p : NULL;
}

stft *vcd_frontend_stft(vc_frontend *fe) {
    return &fe->stft;
}

int vc_frontend_n_frames(const vc_frontend *fe, size_t n_samples) {
    return fe ? vcd_stft_n_frames(n_samples, fe->p.hop) : 0;
}

int vc_frontend_n_bins(const vc_frontend *fe) {
    return fe ? fe->stft.F : 0;
}

vc_status vc_frontend_magnitude(vc_frontend *fe, const float *x, size_t n, float *mag) {
    if (!fe || !x || !mag || n == 0) return VC_ERR_ARG;
    vcd_stft_magnitude(&fe->stft, mag, x, n);
    return VC_OK;
}

vc_status vc_frontend_log_mel_from_magnitude(vc_frontend *fe, const float *mag, int T,
                                             float *log_mel) {
    if (!fe || !mag || !log_mel || T < 1) return VC_ERR_ARG;
    vcd_mel_log_forward(&fe->mel, log_mel, mag, T);
    return VC_OK;
}

/* Frames per block of the log-mel: the (block, F) magnitude scratch stays small (about 0.5 MB)
 * whatever the length of the signal. */
#define LOG_MEL_BLOCK 256

vc_status vc_frontend_log_mel_frames(vc_frontend *fe, const float *x, size_t n, int t0, int T,
                                     float *log_mel) {
    if (!fe || !x || !log_mel || n == 0 || t0 < 0 || T < 1 || t0 > vc_frontend_n_frames(fe, n) - T)
        return VC_ERR_ARG;
    int block = T < LOG_MEL_BLOCK ? T : LOG_MEL_BLOCK;
    float *mag = malloc((size_t)block * (size_t)fe->stft.F * sizeof *mag); /* (block, F) */
    if (!mag) return VC_ERR_NOMEM;
    for (int t = 0; t < T; t += block) {
        int nt = T - t < block ? T - t : block;
        vcd_stft_magnitude_frames(&fe->stft, mag, x, n, t0 + t, nt);
        vcd_mel_log_forward(&fe->mel, log_mel + (size_t)t * (size_t)fe->p.n_mels, mag, nt);
    }
    free(mag);
    return VC_OK;
}

vc_status vc_frontend_log_mel(vc_frontend *fe, const float *x, size_t n, float *log_mel) {
    if (!fe || !x || !log_mel || n == 0) return VC_ERR_ARG;
    return vc_frontend_log_mel_frames(fe, x, n, 0, vc_frontend_n_frames(fe, n), log_mel);
}

vc_status vc_frontend_mel_to_magnitude(vc_frontend *fe, const float *log_mel, int T, float *mag) {
    if (!fe || !log_mel || !mag || T < 1) return VC_ERR_ARG;
    return vcd_mel_to_magnitude(&fe->mel, mag, log_mel, T, MEL_TO_MAG_ITERS);
}

vc_status vc_frontend_f0(vc_frontend *fe, const float *x, size_t n, float *f0, float *voicing) {
    if (!fe || !x || !f0 || !voicing || n == 0) return VC_ERR_ARG;
    f0_params p = {
        .sample_rate = fe->p.sample_rate,
        .hop = fe->p.hop,
        .fmin = fe->p.f0_min,
        .fmax = fe->p.f0_max,
    };
    return vcd_f0_track(&p, x, n, f0, voicing, vc_frontend_n_frames(fe, n));
}

vc_vocoder_params vc_vocoder_default_params(void) {
    vc_vocoder_params p = {.iters = 32, .momentum = 0.99f, .seed = 1, .progress = NULL};
    return p;
}

vc_status vc_vocoder_griffin_lim(vc_frontend *fe, const float *mag, int T,
                                 const vc_vocoder_params *p, float *out, size_t n_samples) {
    if (!fe || !mag || !p || !out || n_samples == 0) return VC_ERR_ARG;
    if (T != vc_frontend_n_frames(fe, n_samples)) return VC_ERR_SHAPE;
    if (p->iters < 0 || p->iters > 10000 || !(p->momentum >= 0.0f && p->momentum < 1.0f))
        return VC_ERR_ARG;
    return vcd_griffin_lim(&fe->stft, out, n_samples, mag, T, p);
}

vc_status vc_spectral_convergence(vc_frontend *fe, const float *target_mag, int T, const float *x,
                                  size_t n, double *out_db) {
    if (!fe || !target_mag || !x || !out_db || n == 0) return VC_ERR_ARG;
    if (T != vc_frontend_n_frames(fe, n)) return VC_ERR_SHAPE;
    size_t count = (size_t)T * (size_t)fe->stft.F;
    float *mag = malloc(count * sizeof *mag); /* (T, F) */
    if (!mag) return VC_ERR_NOMEM;
    vcd_stft_magnitude(&fe->stft, mag, x, n);
    double err2 = 0.0, ref2 = 0.0;
    for (size_t i = 0; i < count; i++) {
        double d = (double)mag[i] - (double)target_mag[i];
        err2 += d * d;
        ref2 += (double)target_mag[i] * (double)target_mag[i];
    }
    free(mag);
    /* A silent target has no meaningful ratio; report the floor rather than dividing by 0. */
    *out_db = ref2 > 0.0 ? 10.0 * log10(fmax(err2, 1e-30) / ref2) : VC_LEVEL_FLOOR_DB;
    return VC_OK;
}

/* x (n) -> out (n) through the source-filter vocoder: F0 from the front end's tracker, envelope
 * and aperiodicity on the front end's frames, rendered whole. The stream lags the frames by
 * vcd_world_latency samples: they are dropped, and the last frame is rendered once more so the
 * stream covers all n samples after them. */
static vc_status resynth_world(vc_frontend *fe, const float *x, size_t n, uint64_t seed,
                               float *out) {
    const vc_frontend_params *fp = &fe->p;
    int T = vc_frontend_n_frames(fe, n), F = fe->stft.F;
    size_t lag = (size_t)vcd_world_latency(fp->hop);
    float *f0 = malloc((size_t)(T + 1) * sizeof *f0);                         // (T + 1)
    float *voicing = malloc((size_t)(T + 1) * sizeof *voicing);               // (T + 1)
    float *env = malloc((size_t)(T + 1) * (size_t)F * sizeof *env);           // (T + 1, F)
    float *ap = malloc((size_t)(T + 1) * VCD_WORLD_BANDS * sizeof *ap);       // (T + 1, bands)
    float *audio = malloc((size_t)(T + 1) * (size_t)fp->hop * sizeof *audio); // ((T + 1) hop)
    vcd_world_analysis an = {0};
    vcd_world_synth syn = {0};
    vc_status st = f0 && voicing && env && ap && audio ? VC_OK : VC_ERR_NOMEM;
    if (st == VC_OK) st = vc_frontend_f0(fe, x, n, f0, voicing);
    if (st == VC_OK) st = vcd_world_analysis_init(&an, fp->sample_rate, fp->n_fft, fp->hop);
    if (st == VC_OK) st = vcd_world_analyze(&an, x, n, f0, voicing, T, env, ap);
    if (st == VC_OK) {
        f0[T] = f0[T - 1];
        voicing[T] = voicing[T - 1];
        memcpy(env + (size_t)T * (size_t)F, env + (size_t)(T - 1) * (size_t)F,
               (size_t)F * sizeof *env);
        memcpy(ap + (size_t)T * VCD_WORLD_BANDS, ap + (size_t)(T - 1) * VCD_WORLD_BANDS,
               VCD_WORLD_BANDS * sizeof *ap);
        st = vcd_world_synth_init(&syn, fp->sample_rate, fp->n_fft, fp->hop, seed);
    }
    if (st == VC_OK) st = vcd_world_render(&syn, env, ap, f0, voicing, T + 1, audio);
    if (st == VC_OK) memcpy(out, audio + lag, n * sizeof *out);
    vcd_world_analysis_free(&an);
    vcd_world_synth_free(&syn);
    free(f0);
    free(voicing);
    free(env);
    free(ap);
    free(audio);
    return st;
}

vc_status vc_resynthesize(vc_frontend *fe, const float *x, size_t n, vc_resynth_source from,
                          const vc_vocoder_params *p, float *out, double *sc_db) {
    if (!fe || !x || !p || !out || n == 0) return VC_ERR_ARG;
    if (from != VC_RESYNTH_LINEAR && from != VC_RESYNTH_MEL && from != VC_RESYNTH_WORLD)
        return VC_ERR_ARG;
    int T = vc_frontend_n_frames(fe, n);
    size_t count = (size_t)T * (size_t)fe->stft.F;
    float *mag = malloc(count * sizeof *mag); // (T, F) the input's magnitude
    float *mel_mag = NULL;                    // (T, F) through the mel, when asked
    float *log_mel = NULL;                    // (T, M)
    vc_status st = mag ? VC_OK : VC_ERR_NOMEM;
    if (st == VC_OK) vcd_stft_magnitude(&fe->stft, mag, x, n);
    const float *target = mag;
    if (st == VC_OK && from == VC_RESYNTH_MEL) {
        mel_mag = malloc(count * sizeof *mel_mag);
        log_mel = malloc((size_t)T * (size_t)fe->mel.M * sizeof *log_mel);
        if (!mel_mag || !log_mel) st = VC_ERR_NOMEM;
        if (st == VC_OK) {
            vcd_mel_log_forward(&fe->mel, log_mel, mag, T);
            st = vcd_mel_to_magnitude(&fe->mel, mel_mag, log_mel, T, MEL_TO_MAG_ITERS);
        }
        target = mel_mag;
    }
    if (st == VC_OK && from == VC_RESYNTH_WORLD) st = resynth_world(fe, x, n, p->seed, out);
    if (st == VC_OK && from != VC_RESYNTH_WORLD)
        st = vc_vocoder_griffin_lim(fe, target, T, p, out, n);
    if (st == VC_OK && sc_db) st = vc_spectral_convergence(fe, mag, T, out, n, sc_db);
    free(mag);
    free(mel_mag);
    free(log_mel);
    return st;
}
