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
