/* L1 and MSE losses; see loss.h. */
#include "nn/loss.h"

#include <math.h>

/* Partial sums over LOSS_BLOCKS fixed slices, added in order: deterministic for any thread
 * count, unlike an OpenMP reduction, whose combining order is unspecified. */
#define LOSS_BLOCKS 64
#define LOSS_PAR_MIN 32768

static double loss_sum(const float *pred, const float *target, size_t n, int squared) {
    VC_ASSERT(n > 0);
    double part[LOSS_BLOCKS];
#pragma omp parallel for if (n >= LOSS_PAR_MIN)
    for (int k = 0; k < LOSS_BLOCKS; k++) {
        size_t lo = n * (size_t)k / LOSS_BLOCKS, hi = n * (size_t)(k + 1) / LOSS_BLOCKS;
        double s = 0.0;
        for (size_t i = lo; i < hi; i++) {
            double d = (double)pred[i] - (double)target[i];
            s += squared ? d * d : fabs(d);
        }
        part[k] = s;
    }
    double s = 0.0;
    for (int k = 0; k < LOSS_BLOCKS; k++) s += part[k];
    return s / (double)n;
}

double vcn_l1_loss(const float *pred, const float *target, size_t n) {
    return loss_sum(pred, target, n, 0);
}

void vcn_l1_loss_backward(float *dpred, const float *pred, const float *target, size_t n,
                          float scale) {
    float g = (float)((double)scale / (double)n);
#pragma omp parallel for if (n >= LOSS_PAR_MIN)
    for (size_t i = 0; i < n; i++) {
        if (pred[i] > target[i])
            dpred[i] += g;
        else if (pred[i] < target[i])
            dpred[i] -= g;
    }
}

double vcn_mse_loss(const float *pred, const float *target, size_t n) {
    return loss_sum(pred, target, n, 1);
}

void vcn_mse_loss_backward(float *dpred, const float *pred, const float *target, size_t n,
                           float scale) {
    float g = (float)(2.0 * (double)scale / (double)n);
#pragma omp parallel for if (n >= LOSS_PAR_MIN)
    for (size_t i = 0; i < n; i++) dpred[i] += g * (pred[i] - target[i]);
}

/* The softmax's log-normaliser of P logits at stride T, in double, and the largest one's class. */
static double log_sum_exp(const float *x, int P, int T, int *argmax) {
    float mx = x[0];
    int am = 0;
    for (int c = 1; c < P; c++)
        if (x[(size_t)c * T] > mx) mx = x[(size_t)c * T], am = c;
    double s = 0.0;
    for (int c = 0; c < P; c++) s += exp((double)x[(size_t)c * T] - (double)mx);
    *argmax = am;
    return (double)mx + log(s);
}

double vcn_xent_loss(const float *logits, const int *labels, int B, int P, int T, long *n_labelled,
                     long *n_correct) {
    VC_ASSERT(B > 0 && P > 0 && T > 0);
    double sum = 0.0;
    long n = 0, right = 0;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            int y = labels[(size_t)b * T + t];
            if (y < 0) continue;
            VC_ASSERT(y < P);
            const float *x = logits + (size_t)b * P * T + t;
            int am;
            sum += log_sum_exp(x, P, T, &am) - (double)x[(size_t)y * T];
            n++;
            right += am == y;
        }
    if (n_labelled) *n_labelled = n;
    if (n_correct) *n_correct = right;
    return sum;
}

void vcn_xent_loss_backward(float *dlogits, const float *logits, const int *labels, int B, int P,
                            int T, float scale) {
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            int y = labels[(size_t)b * T + t];
            if (y < 0) continue;
            size_t at = (size_t)b * P * T + t;
            const float *x = logits + at;
            int am;
            double lse = log_sum_exp(x, P, T, &am);
            for (int c = 0; c < P; c++) {
                double q = exp((double)x[(size_t)c * T] - lse) - (c == y);
                dlogits[at + (size_t)c * T] += (float)((double)scale * q);
            }
        }
}
