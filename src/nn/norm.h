/* Instance normalisation over time and AdaIN.
 *
 * Both normalise each (b, c) row of a (B, C, T) activation over its T frames,
 *   xhat = (x - mean) * rstd,  rstd = 1 / sqrt(var + eps),  var the population variance (1/T),
 * then scale and shift: instance norm by learned per-channel gamma, beta (C); AdaIN by
 * per-utterance gamma, beta (B, C) that another layer computes (e.g. a linear of the speaker
 * embedding). AdaIN scales by gamma itself, not 1 + gamma: a caller wanting the identity at
 * initialisation starts the producing layer's bias at 1. eps keeps a constant row (var = 0)
 * finite: its xhat is 0 and its gradient is bounded by 1 / sqrt(eps).
 *
 * Statistics are accumulated in double; mean and rstd (B, C) are written by forward and read by
 * backward (the caller owns them). Backward adds into every gradient it is given. Forward may
 * run in place (out == inp) only when no backward follows, since backward needs inp.
 */
#ifndef VC_NN_NORM_H
#define VC_NN_NORM_H

#include "common.h"

#include <stddef.h>

typedef struct instnorm {
    int C;
    float eps;     /* added to the variance, e.g. 1e-5 */
    float *gamma;  // (C) scale, or NULL: no scale
    float *beta;   // (C) shift, or NULL: no shift
    float *dgamma; // (C) gradient of gamma, or NULL: not accumulated
    float *dbeta;  // (C) gradient of beta, or NULL: not accumulated
} instnorm;

/* out (B, C, T) = gamma * xhat + beta; mean, rstd (B, C) saved for backward. */
void vcn_instnorm_forward(const instnorm *l, float *out, float *mean, float *rstd, const float *inp,
                          int B, int T);
/* Adds into dinp (B, C, T) and, when the layer has them, l->dgamma and l->dbeta (C). */
void vcn_instnorm_backward(const instnorm *l, float *dinp, const float *dout, const float *inp,
                           const float *mean, const float *rstd, int B, int T);

/* out (B, C, T) = gamma[b, c] * xhat + beta[b, c], gamma and beta (B, C). */
void vcn_adain_forward(float *out, float *mean, float *rstd, const float *inp, const float *gamma,
                       const float *beta, int B, int C, int T, float eps);
/* Adds into dinp (B, C, T), dgamma and dbeta (B, C); any of the three may be NULL to skip it. */
void vcn_adain_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
                        const float *inp, const float *mean, const float *rstd, const float *gamma,
                        int B, int C, int T);

/* Inference only: the same normalisation with statistics over a sliding window of `window`
 * frames around each frame (shifted inside the row at its ends) instead of the whole row, so
 * that a long input is normalised as the training segments were, and a frame's result depends
 * only on frames near it (chunked processing agrees with whole processing). T <= window is
 * instance norm exactly. gamma, beta (B, C) or NULL (1 and 0). scratch: 2 (T + 1) doubles. */
void vcn_norm_local_forward(float *out, const float *inp, const float *gamma, const float *beta,
                            int B, int C, int T, int window, float eps, double *scratch);

/* Mean and population variance of x (n) in double, two-pass; shared with the pooling op. */
void vcn_norm_moments(const float *x, int n, double *mean, double *var);

#endif
