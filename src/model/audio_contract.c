/* The audio contract: what the model hears and says; see audio_contract.h. */
#include "model/audio_contract.h"

#include <string.h>

vc_frontend_params vcm_frontend_params(const vcm_config *c) {
    vc_frontend_params p = {
        .sample_rate = c->sample_rate,
        .n_fft = c->n_fft,
        .hop = c->hop,
        .n_mels = c->n_mels,
        .fmin = c->fmin,
        .fmax = c->fmax,
        .f0_min = c->f0_min,
        .f0_max = c->f0_max,
    };
    return p;
}

float vcm_level_gain(double level_db) {
    return (float)pow(10.0, (VCM_LEVEL_DBFS - level_db) / 20.0);
}

vc_status vcm_level(float *x, size_t n, int rate, const char *what, double *level_db) {
    vc_level lv;
    vc_status st = n ? vc_audio_level(x, n, rate, &lv) : VC_ERR_AUDIO;
    if (st != VC_OK) return st;
    if (lv.active_dbfs <= VCM_SILENCE_DBFS) {
        vcu_log(VC_LOG_ERROR, "%s: silent (active level %.1f dBFS)", what, lv.active_dbfs);
        return VC_ERR_AUDIO;
    }
    if (level_db) *level_db = lv.active_dbfs;
    float g = vcm_level_gain(lv.active_dbfs);
    for (size_t i = 0; i < n; i++) x[i] *= g;
    return VC_OK;
}

vc_status vcm_trim_span(const float *x, size_t n, const vc_frontend_params *p, size_t *b,
                        size_t *e) {
    const size_t hop = (size_t)p->hop;
    size_t blk = (size_t)(p->sample_rate / 50); /* 20 ms */
    if (blk < 1) blk = 1;
    if (n < blk) blk = n;
    size_t n_blk = (n - blk) / hop + 1; /* blocks start every hop, end inside x */
    double emax = 0.0;
    double *en = malloc(n_blk * sizeof *en); // (n_blk) mean square per block
    if (!en) return VC_ERR_NOMEM;
    for (size_t t = 0; t < n_blk; t++) {
        const float *q = x + t * hop;
        double s = 0.0;
        for (size_t i = 0; i < blk; i++) s += (double)q[i] * q[i];
        en[t] = s / (double)blk;
        if (en[t] > emax) emax = en[t];
    }
    vc_status st = VC_OK;
    if (10.0 * log10(emax + 1e-30) < VCM_SILENCE_DBFS) {
        st = VC_ERR_AUDIO;
    } else {
        double thr = emax * pow(10.0, -VCM_TRIM_DB / 10.0);
        size_t first = 0, last = n_blk - 1;
        while (en[first] < thr) first++; /* the loudest block stops both scans */
        while (en[last] < thr) last--;
        size_t margin = (size_t)VCM_TRIM_MARGIN_HOPS * hop;
        size_t sb = first * hop, se = last * hop + blk;
        *b = sb > margin ? sb - margin : 0;
        *e = se + margin < n ? se + margin : n;
        if (*e - *b < (size_t)p->n_fft) st = VC_ERR_AUDIO;
    }
    free(en);
    return st;
}

/* In double, as conversion has always taken it (logf differs from it in the last bit for about
 * 0.04% of inputs; the bundled model's outputs are kept bit for bit). */
void vcm_log_magnitude(float *mag, size_t n) {
    for (size_t i = 0; i < n; i++) mag[i] = (float)log(fmax(mag[i], (double)VC_LOG_FLOOR));
}

void vcm_magnitude(float *log_mag, size_t n) {
    for (size_t i = 0; i < n; i++) log_mag[i] = expf(fminf(log_mag[i], VCM_LOG_MAG_CAP));
}

vc_status vcm_model_input(vc_frontend *fe, const vcm_model *m, const float *x, size_t n, int t0,
                          int T, int T_pad, float *tm, float *out) {
    const int M = m->cfg.n_mels;
    vc_status st = vc_frontend_log_mel_frames(fe, x, n, t0, T, tm);
    if (st != VC_OK) return st;
    for (int k = 0; k < M; k++) {
        float *row = out + (size_t)k * (size_t)T_pad;
        for (int t = 0; t < T_pad; t++)
            row[t] = vcm_mel_norm(m, k, tm[(size_t)(t < T ? t : T - 1) * M + k]);
    }
    return VC_OK;
}

void vcm_pitch_features(const float *f0, const float *voicing, int T, float *out) {
    double s = 0.0, s2 = 0.0;
    int nv = 0;
    for (int t = 0; t < T; t++)
        if (f0[t] > 0.0f) {
            s += log(f0[t]);
            nv++;
        }
    double mu = nv ? s / nv : 0.0;
    for (int t = 0; t < T; t++)
        if (f0[t] > 0.0f) {
            double d = log(f0[t]) - mu;
            s2 += d * d;
        }
    double sigma = nv ? sqrt(s2 / nv) : 1.0;
    if (sigma < VCM_PITCH_STD_FLOOR) sigma = VCM_PITCH_STD_FLOOR;
    for (int t = 0; t < T; t++) {
        out[t] = f0[t] > 0.0f ? (float)((log(f0[t]) - mu) / sigma) : 0.0f;
        out[T + t] = voicing[t];
    }
}
