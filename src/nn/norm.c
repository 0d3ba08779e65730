/* Instance norm and AdaIN: one normalisation, two ways of indexing gamma and beta. See norm.h. */
#include "nn/norm.h"

#include <math.h>

void vcn_norm_moments(const float *x, int n, double *mean, double *var) {
    VC_ASSERT(n > 0);
    double s = 0.0;
    for (int i = 0; i < n; i++) s += x[i];
    double m = s / n, v = 0.0;
    /* Two passes: E[x^2] - m^2 cancels badly for rows with a large offset. */
    for (int i = 0; i < n; i++) {
        double d = x[i] - m;
        v += d * d;
    }
    *mean = m;
    *var = v / n;
}

/* Normalises every (b, c) row; gamma and beta are indexed [b * gstride + c], so gstride = 0
 * reads per-channel (C) parameters and gstride = C per-utterance (B, C) ones. NULL gamma means 1,
 * NULL beta 0. */
static void norm_forward(float *out, float *mean, float *rstd, const float *inp, const float *gamma,
                         const float *beta, int gstride, int B, int C, int T, float eps) {
    VC_ASSERT(B > 0 && C > 0 && T > 0 && eps > 0.0f);
#pragma omp parallel for
    for (int bc = 0; bc < B * C; bc++) {
        int b = bc / C, c = bc % C, gi = b * gstride + c;
        const float *x = inp + (size_t)bc * T; // (T)
        float *y = out + (size_t)bc * T;       // (T)
        double m, v;
        vcn_norm_moments(x, T, &m, &v);
        float mf = (float)m, rs = (float)(1.0 / sqrt(v + eps));
        float g = gamma ? gamma[gi] : 1.0f, sh = beta ? beta[gi] : 0.0f;
        for (int t = 0; t < T; t++) y[t] = g * ((x[t] - mf) * rs) + sh;
        mean[bc] = mf;
        rstd[bc] = rs;
    }
}

/* dinp = g * rstd * (dout - mean(dout) - xhat * mean(dout * xhat)), the exact derivative of
 * (x - mean) / sqrt(var + eps), eps included. Parallel over channels with the batch loop
 * inside, so per-channel dgamma/dbeta (gstride = 0) have one writer each: no atomics, and their
 * batch sum runs in double in a fixed order and is added once. */
static void norm_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
                          const float *inp, const float *mean, const float *rstd,
                          const float *gamma, int gstride, int B, int C, int T) {
#pragma omp parallel for
    for (int c = 0; c < C; c++) {
        double chan_dg = 0.0, chan_db = 0.0; /* batch sums when gstride = 0 */
        for (int b = 0; b < B; b++) {
            int bc = b * C + c, gi = b * gstride + c;
            const float *x = inp + (size_t)bc * T;   // (T)
            const float *dy = dout + (size_t)bc * T; // (T)
            float mf = mean[bc], rs = rstd[bc];
            double sd = 0.0, sdx = 0.0; /* sum dout, sum dout * xhat */
            for (int t = 0; t < T; t++) {
                sd += dy[t];
                sdx += (double)dy[t] * ((x[t] - mf) * rs);
            }
            if (gstride) {
                if (dgamma) dgamma[gi] += (float)sdx;
                if (dbeta) dbeta[gi] += (float)sd;
            } else {
                chan_dg += sdx;
                chan_db += sd;
            }
            if (!dinp) continue;
            float g = gamma ? gamma[gi] : 1.0f;
            float md = (float)(sd / T), mdx = (float)(sdx / T), k = g * rs;
            float *dx = dinp + (size_t)bc * T; // (T)
            for (int t = 0; t < T; t++) dx[t] += k * (dy[t] - md - ((x[t] - mf) * rs) * mdx);
        }
        if (!gstride && dgamma) dgamma[c] += (float)chan_dg;
        if (!gstride && dbeta) dbeta[c] += (float)chan_db;
    }
}

void vcn_instnorm_forward(const instnorm *l, float *out, float *mean, float *rstd, const float *inp,
                          int B, int T) {
    norm_forward(out, mean, rstd, inp, l->gamma, l->beta, 0, B, l->C, T, l->eps);
}

void vcn_instnorm_backward(const instnorm *l, float *dinp, const float *dout, const float *inp,
                           const float *mean, const float *rstd, int B, int T) {
    /* A missing parameter has no gradient to accumulate. */
    norm_backward(dinp, l->gamma ? l->dgamma : NULL, l->beta ? l->dbeta : NULL, dout, inp, mean,
                  rstd, l->gamma, 0, B, l->C, T);
}

void vcn_adain_forward(float *out, float *mean, float *rstd, const float *inp, const float *gamma,
                       const float *beta, int B, int C, int T, float eps) {
    VC_ASSERT(gamma && beta);
    norm_forward(out, mean, rstd, inp, gamma, beta, C, B, C, T, eps);
}

void vcn_adain_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
                        const float *inp, const float *mean, const float *rstd, const float *gamma,
                        int B, int C, int T) {
    VC_ASSERT(gamma);
    norm_backward(dinp, dgamma, dbeta, dout, inp, mean, rstd, gamma, C, B, C, T);
}

void vcn_norm_local_forward(float *out, const float *inp, const float *gamma, const float *beta,
                            int B, int C, int T, int window, float eps, double *scratch) {
    VC_ASSERT(out && inp && window >= 1 && scratch);
    double *s1 = scratch, *s2 = scratch + T + 1; // (T + 1) prefix sums of x and x^2
    int w = window < T ? window : T;
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++) {
            const float *x = inp + ((size_t)b * C + c) * (size_t)T;
            float *y = out + ((size_t)b * C + c) * (size_t)T;
            s1[0] = s2[0] = 0.0;
            for (int t = 0; t < T; t++) {
                s1[t + 1] = s1[t] + x[t];
                s2[t + 1] = s2[t] + (double)x[t] * x[t];
            }
            float g = gamma ? gamma[(size_t)b * C + c] : 1.0f;
            float be = beta ? beta[(size_t)b * C + c] : 0.0f;
            for (int t = 0; t < T; t++) {
                int t0 = t - w / 2; /* w frames around t, shifted inside [0, T) at the ends */
                if (t0 < 0) t0 = 0;
                if (t0 > T - w) t0 = T - w;
                double mu = (s1[t0 + w] - s1[t0]) / w;
                double var = (s2[t0 + w] - s2[t0]) / w - mu * mu;
                float rstd = (float)(1.0 / sqrt((var > 0.0 ? var : 0.0) + eps));
                y[t] = g * ((x[t] - (float)mu) * rstd) + be;
            }
        }
}
