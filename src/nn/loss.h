/* Reconstruction losses over n elements of any shape.
 *
 * The forward returns the mean loss in double; the backward adds scale * d(mean loss)/dpred into
 * dpred (n), so a weighted sum of losses is a sequence of backward calls with their weights.
 * Sums run over a fixed number of blocks, so the result does not depend on the thread count.
 */
#ifndef VC_NN_LOSS_H
#define VC_NN_LOSS_H

#include "common.h"

#include <stddef.h>

/* mean |pred - target|; its gradient is sign(pred - target) / n, 0 where they are equal. */
double vcn_l1_loss(const float *pred, const float *target, size_t n);
void vcn_l1_loss_backward(float *dpred, const float *pred, const float *target, size_t n,
                          float scale);

/* mean (pred - target)^2; its gradient is 2 (pred - target) / n. */
double vcn_mse_loss(const float *pred, const float *target, size_t n);
void vcn_mse_loss_backward(float *dpred, const float *pred, const float *target, size_t n,
                           float scale);

#endif
