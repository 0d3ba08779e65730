/* F0 tracking: YIN's cumulative mean normalised difference function (de Cheveigne & Kawahara
 * 2002) with pYIN's candidate probabilities (Mauch & Dixon 2014), then
 *   1. a two-state (voiced / unvoiced) HMM, forward-backward, gives the voicing probability;
 *   2. a Viterbi path over each voiced run's candidates picks the F0, paying per octave jumped.
 *
 * Per frame t (centred on sample c = t*hop, zero padding outside the signal):
 *   d(tau)  = sum_{j<W} (x[s+j] - x[s+j+tau])^2 with s = c - W/2 - tau/2, so the compared
 *             stretch is centred on c for every lag (matters on fast glides);
 *   d'(tau) = d(tau) * tau / sum_{k=1..tau} d(k)  (d'(0) = 1);
 *   each local minimum of d' in [tau_min, tau_max] that is lower than every earlier one is the
 *   YIN pick for the thresholds s in (its value, the previous record]; with s ~ Beta(2, 11.33)
 *   (pYIN's mean-0.15 prior), that threshold mass is its probability (normalised over the
 *   frame's candidates: the choice of F0 given that the frame is voiced);
 *   the voiced observation is P(s' > deepest dip) under a wider Beta(4, 6) prior, faded out
 *   50..40 dB below the loudest frame.
 *
 * The difference function is a direct O(W * tau_max) loop with eight partial sums: about
 * 0.15 M multiply-adds per frame at 16 kHz, 60..500 Hz, simpler than an FFT with lag-dependent
 * centring, and several hundred times real time on one core.
 */
#include "dsp/f0.h"

#include <math.h>
#include <string.h>

enum {
    F0_MAX_CAND = 8,  /* candidates kept per frame (the most probable ones) */
    F0_N_THRESH = 100 /* YIN thresholds 0.01 .. 1.00, as in pYIN */
};

#define F0_BETA_A 2.0        /* threshold prior Beta(a, b): mean a/(a+b) = 0.15 (pYIN) */
#define F0_BETA_B 11.333333  /* */
#define F0_ABSMIN_P 0.01f    /* pYIN: thresholds with no dip below go to the global minimum */
#define F0_VOICE_A 4.0       /* voicing prior on min d': Beta(4, 6), mean 0.4 (see below) */
#define F0_VOICE_B 6.0       /* */
#define F0_CAND_FLOOR 0.05f  /* candidate probability floor (relative) in the Viterbi cost */
#define F0_SWITCH_P 0.1f     /* voiced <-> unvoiced switch per frame (16 ms hop: ~ 0.16 s runs) */
#define F0_OBS_EPS 1e-3f     /* observation floor so no single frame is certain */
#define F0_OCTAVE_COST 4.0f  /* Viterbi cost per octave jumped (vs -log candidate probability) */
#define F0_SILENCE_MS 1e-10f /* mean square below this (-100 dBFS) is silence */
#define F0_QUIET_DB 50.0f    /* frames this far below the loudest are silence ... */
#define F0_RAMP_DB 10.0f     /* ... and voicing fades in over the next 10 dB up */

typedef struct f0_cand {
    float f, p; /* Hz, probability */
} f0_cand;

/* Working memory for one call; every pointer NULL or owned. */
typedef struct f0_work {
    int tau_min, tau_max, W, off, L; /* lags, integration window, frame buffer offset/length */
    float *buf;                      // (L) one frame of signal, zero padded
    float *d;                        // (tau_max + 2) difference function
    float *dn;                       // (tau_max + 2) cumulative mean normalised d'
    float *cum;                      // (F0_N_THRESH + 1) YIN threshold prior, cumulative
    float *vcum;                     // (F0_N_THRESH + 1) voicing prior on min d', cumulative
    f0_cand *tmp;                    // (tau_max + 2) record minima of one frame
    float *energy;                   // (T) mean square around each frame centre
    float *pv;                       // (T) voiced probability per frame (sum of candidates)
    f0_cand *cand;                   // (T, F0_MAX_CAND)
    int *ncand;                      // (T)
    float *cost;                     // (2, F0_MAX_CAND) Viterbi costs, previous and current
    int *back;                       // (T, F0_MAX_CAND) Viterbi back-pointers
    float *alpha;                    // (T, 2) forward probabilities, voiced then unvoiced
} f0_work;

static void f0_work_free(f0_work *w) {
    free(w->buf);
    free(w->d);
    free(w->dn);
    free(w->cum);
    free(w->vcum);
    free(w->tmp);
    free(w->energy);
    free(w->pv);
    free(w->cand);
    free(w->ncand);
    free(w->cost);
    free(w->back);
    free(w->alpha);
}

static int f0_work_init(f0_work *w, const f0_params *p, int T) {
    memset(w, 0, sizeof(*w));
    w->tau_min = (int)floorf((float)p->sample_rate / p->fmax);
    if (w->tau_min < 2) w->tau_min = 2;
    w->tau_max = (int)ceilf((float)p->sample_rate / p->fmin);
    /* Two periods of fmin, rounded up to a multiple of 8 for the partial sums. */
    w->W = (2 * w->tau_max + 7) / 8 * 8;
    w->off = w->W / 2 + (w->tau_max + 1) / 2;
    w->L = w->W + w->tau_max + 4;
    size_t nl = (size_t)w->tau_max + 2, nt = (size_t)T;
    w->buf = malloc((size_t)w->L * sizeof(float));
    w->d = malloc(nl * sizeof(float));
    w->dn = malloc(nl * sizeof(float));
    w->cum = malloc((F0_N_THRESH + 1) * sizeof(float));
    w->vcum = malloc((F0_N_THRESH + 1) * sizeof(float));
    w->tmp = malloc(nl * sizeof(f0_cand));
    w->energy = malloc(nt * sizeof(float));
    w->pv = malloc(nt * sizeof(float));
    w->cand = malloc(nt * F0_MAX_CAND * sizeof(f0_cand));
    w->ncand = malloc(nt * sizeof(int));
    w->cost = malloc(2 * F0_MAX_CAND * sizeof(float));
    w->back = malloc(nt * F0_MAX_CAND * sizeof(int));
    w->alpha = malloc(nt * 2 * sizeof(float));
    return w->buf && w->d && w->dn && w->cum && w->vcum && w->tmp && w->energy && w->pv &&
           w->cand && w->ncand && w->cost && w->back && w->alpha;
}

/* cum[k] = prior mass of the thresholds (i+1)/100 <= k/100 under Beta(a, b), normalised. */
static void threshold_prior(float *cum, double ba, double bb) { // cum: (F0_N_THRESH + 1)
    double w[F0_N_THRESH], total = 0;
    for (int k = 0; k < F0_N_THRESH; k++) {
        double s = (k + 1) / (double)F0_N_THRESH;
        /* s = 1 has zero density for b > 1; log form avoids pow(0, .) */
        w[k] = s < 1.0 ? exp((ba - 1) * log(s) + (bb - 1) * log1p(-s)) : 0.0;
        total += w[k];
    }
    double acc = 0;
    cum[0] = 0.0f;
    for (int k = 0; k < F0_N_THRESH; k++) {
        acc += w[k];
        cum[k + 1] = (float)(acc / total);
    }
}

/* Prior mass of thresholds <= v, linearly interpolated between grid points so probabilities
 * vary smoothly with d'. */
static float threshold_mass(const float *cum, float v) {
    if (!(v > 0.0f)) return 0.0f;
    if (v >= 1.0f) return 1.0f;
    float pos = v * F0_N_THRESH;
    int k = (int)pos;
    float fr = pos - (float)k;
    return cum[k] + fr * (cum[k + 1] - cum[k]);
}

/* Copy samples [c - off, c - off + L) of x into buf, zeros outside the signal. */
static void load_frame(float *buf, int L, const float *x, size_t n, long long start) {
    for (int i = 0; i < L; i++) {
        long long k = start + i;
        buf[i] = (k >= 0 && (unsigned long long)k < n) ? x[k] : 0.0f;
    }
}

/* d(tau) for tau = 1 .. tau_max + 1, each compared stretch centred on the frame centre. */
static void difference(const f0_work *w, float *d) { // d: (tau_max + 2)
    const float *b = w->buf;
    d[0] = 0.0f;
    for (int tau = 1; tau <= w->tau_max + 1; tau++) {
        const float *a = b + (w->off - w->W / 2 - tau / 2);
        const float *c = a + tau;
        VC_ASSERT(a >= b && c + w->W <= b + w->L);
        /* Eight independent sums break the add dependency chain (and vectorise). */
        float acc[8] = {0};
        for (int j = 0; j < w->W; j += 8)
            for (int k = 0; k < 8; k++) {
                float e = a[j + k] - c[j + k];
                acc[k] += e * e;
            }
        d[tau] = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    }
}

/* YIN's d'(tau) = d(tau) / mean(d(1..tau)); 1 where the running mean is zero (silence). */
static void cmndf(const float *d, float *dn, int n) { // d, dn: (n)
    double run = 0;
    dn[0] = 1.0f;
    for (int tau = 1; tau < n; tau++) {
        run += d[tau];
        dn[tau] = run > 0 ? (float)(d[tau] * tau / run) : 1.0f;
    }
}

/* pYIN candidates of one frame from d'. Returns the number kept (<= F0_MAX_CAND, most probable
 * first) with probabilities given voicing (summing to 1); *pv gets the voiced probability. */
static int frame_candidates(const f0_work *w, float rate, f0_cand *out, float *pv) {
    const float *dn = w->dn;
    int nrec = 0;
    float prev = INFINITY;
    for (int tau = w->tau_min; tau <= w->tau_max; tau++) {
        float v = dn[tau];
        if (!(v < dn[tau - 1] && v <= dn[tau + 1] && v < prev && v < 1.0f)) continue;
        /* Parabolic interpolation through the minimum and its neighbours. */
        float a = dn[tau - 1], c = dn[tau + 1], den = a - 2.0f * v + c;
        float delta = den > 0.0f ? 0.5f * (a - c) / den : 0.0f;
        if (delta > 0.5f) delta = 0.5f;
        if (delta < -0.5f) delta = -0.5f;
        f0_cand *r = &w->tmp[nrec++];
        r->f = rate / ((float)tau + delta);
        r->p = threshold_mass(w->cum, prev) - threshold_mass(w->cum, v);
        prev = v;
    }
    if (nrec == 0) {
        *pv = 0.0f;
        return 0;
    }
    /* Thresholds below every dip: pYIN gives a little of their mass to the global minimum. */
    w->tmp[nrec - 1].p += F0_ABSMIN_P * threshold_mass(w->cum, prev);
    float sum = 0.0f;
    for (int i = 0; i < nrec; i++) sum += w->tmp[i].p;
    for (int i = 0; i < nrec; i++) w->tmp[i].p /= sum; /* sum >= 0.01 * mass(prev) > 0 */
    /* pYIN's own voiced mass (sum above) is near 0 once min d' passes ~0.3, which real voiced
     * speech often does (creak, breath, fast glides; pYIN's HMM makes up for it by comparing
     * one voiced bin against unvoiced mass spread over all bins). We rate voicing on the
     * deepest dip against a wider prior instead: 0.5 at d' ~ 0.4, ~0 above 0.7 (white noise
     * sits near 0.8 and above). */
    *pv = 1.0f - threshold_mass(w->vcum, prev);
    /* Keep the F0_MAX_CAND most probable (selection; nrec is small). */
    int nout = 0;
    for (; nout < F0_MAX_CAND && nout < nrec; nout++) {
        int best = nout;
        for (int i = nout + 1; i < nrec; i++)
            if (w->tmp[i].p > w->tmp[best].p) best = i;
        f0_cand t = w->tmp[nout];
        w->tmp[nout] = w->tmp[best];
        w->tmp[best] = t;
        out[nout] = w->tmp[nout];
    }
    return nout;
}

/* Voicing posterior P(voiced | all frames) from a two-state HMM, forward-backward with per-step
 * normalisation (no underflow on long signals). */
static void voicing_posterior(f0_work *w, float *voicing, int T) { // voicing: (T)
    const float stay = 1.0f - F0_SWITCH_P, sw = F0_SWITCH_P;
    float *al = w->alpha; // (T, 2)
    for (int t = 0; t < T; t++) {
        float bv = F0_OBS_EPS + (1.0f - 2.0f * F0_OBS_EPS) * w->pv[t], bu = 1.0f - bv;
        float pvv = t ? stay * al[2 * t - 2] + sw * al[2 * t - 1] : 0.5f;
        float puu = t ? sw * al[2 * t - 2] + stay * al[2 * t - 1] : 0.5f;
        float a0 = bv * pvv, a1 = bu * puu, s = a0 + a1;
        al[2 * t] = a0 / s;
        al[2 * t + 1] = a1 / s;
    }
    float bv1 = 1.0f, bu1 = 1.0f; /* backward message from frame t + 1 */
    for (int t = T - 1; t >= 0; t--) {
        float pv = al[2 * t] * bv1, pu = al[2 * t + 1] * bu1;
        voicing[t] = pv / (pv + pu);
        float bv = F0_OBS_EPS + (1.0f - 2.0f * F0_OBS_EPS) * w->pv[t], bu = 1.0f - bv;
        float mv = bv * bv1, mu = bu * bu1;
        float nv = stay * mv + sw * mu, nu = sw * mv + stay * mu, s = nv + nu;
        bv1 = nv / s;
        bu1 = nu / s;
    }
}

/* Cheapest candidate path over frames [t0, t1): -log probability plus F0_OCTAVE_COST per
 * octave between consecutive picks. Writes the picked F0 into f0. */
static void viterbi_run(f0_work *w, float *f0, int t0, int t1) { // f0: (T)
    float *prev = w->cost, *cur = w->cost + F0_MAX_CAND;
    for (int t = t0; t < t1; t++) {
        const f0_cand *c = w->cand + (size_t)t * F0_MAX_CAND;
        int *bk = w->back + (size_t)t * F0_MAX_CAND;
        const f0_cand *pc = c - F0_MAX_CAND;
        for (int j = 0; j < w->ncand[t]; j++) {
            float local = -logf(c[j].p + F0_CAND_FLOOR);
            float best = 0.0f;
            int arg = -1;
            if (t > t0)
                for (int i = 0; i < w->ncand[t - 1]; i++) {
                    float jump = fabsf(log2f(c[j].f / pc[i].f));
                    float v = prev[i] + F0_OCTAVE_COST * jump;
                    if (arg < 0 || v < best) best = v, arg = i;
                }
            cur[j] = local + best;
            bk[j] = arg;
        }
        float *sw = prev;
        prev = cur;
        cur = sw;
    }
    int j = 0;
    for (int i = 1; i < w->ncand[t1 - 1]; i++)
        if (prev[i] < prev[j]) j = i;
    for (int t = t1 - 1; t >= t0; t--) {
        f0[t] = w->cand[(size_t)t * F0_MAX_CAND + j].f;
        j = w->back[(size_t)t * F0_MAX_CAND + j];
    }
}

vc_status vcd_f0_track(const f0_params *p, const float *x, size_t n, float *f0, float *voicing,
                       int T) {
    if (!p || (!x && n) || !f0 || !voicing) return VC_ERR_ARG;
    if (p->sample_rate <= 0 || p->hop < 1 || !(p->fmin > 0.0f) || !(p->fmin < p->fmax) ||
        !(p->fmax < 0.5f * (float)p->sample_rate))
        return VC_ERR_ARG;
    if (n / (size_t)p->hop >= (size_t)INT32_MAX || T != (int)(1 + n / (size_t)p->hop))
        return VC_ERR_ARG;
    /* fmin so low that the lag range is absurd (and the frame work quadratic) */
    if ((float)p->sample_rate / p->fmin > 1e6f) return VC_ERR_ARG;

    f0_work w;
    if (!f0_work_init(&w, p, T)) {
        f0_work_free(&w);
        return VC_ERR_NOMEM;
    }
    threshold_prior(w.cum, F0_BETA_A, F0_BETA_B);
    threshold_prior(w.vcum, F0_VOICE_A, F0_VOICE_B);
    const float rate = (float)p->sample_rate;

    /* Frame energies first: the silence gate is relative to the loudest frame. */
    float emax = 0.0f;
    for (int t = 0; t < T; t++) {
        long long c = (long long)t * p->hop;
        double e = 0;
        for (long long k = c - w.W / 2; k < c + w.W / 2; k++)
            if (k >= 0 && (unsigned long long)k < n) e += (double)x[k] * x[k];
        w.energy[t] = (float)(e / w.W);
        if (w.energy[t] > emax) emax = w.energy[t];
    }
    const float gate = fmaxf(F0_SILENCE_MS, emax * powf(10.0f, -F0_QUIET_DB / 10.0f));

    for (int t = 0; t < T; t++) {
        f0_cand *c = w.cand + (size_t)t * F0_MAX_CAND;
        w.pv[t] = 0.0f;
        w.ncand[t] = 0;
        if (!(w.energy[t] >= gate)) continue;
        load_frame(w.buf, w.L, x, n, (long long)t * p->hop - w.off);
        difference(&w, w.d);
        cmndf(w.d, w.dn, w.tau_max + 2);
        w.ncand[t] = frame_candidates(&w, rate, c, &w.pv[t]);
        /* Faint frames are background: low-level hum or reverb can look periodic. */
        float below = 10.0f * log10f(emax / w.energy[t]);
        float ramp = (F0_QUIET_DB - below) / F0_RAMP_DB;
        w.pv[t] *= ramp < 0.0f ? 0.0f : ramp > 1.0f ? 1.0f : ramp;
    }

    voicing_posterior(&w, voicing, T);

    /* F0 on each voiced run (posterior >= 0.5); frames without candidates end a run. */
    for (int t = 0; t < T;) {
        if (!(voicing[t] >= 0.5f && w.ncand[t] > 0)) {
            f0[t++] = 0.0f;
            continue;
        }
        int t1 = t;
        while (t1 < T && voicing[t1] >= 0.5f && w.ncand[t1] > 0) t1++;
        viterbi_run(&w, f0, t, t1);
        t = t1;
    }
    /* Keep f0 > 0 exactly where voicing >= 0.5. */
    for (int t = 0; t < T; t++)
        if (f0[t] <= 0.0f && voicing[t] >= 0.5f) voicing[t] = 0.49f;

    f0_work_free(&w);
    return VC_OK;
}
