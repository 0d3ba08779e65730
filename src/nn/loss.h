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

/* Softmax cross-entropy of logits (B, P, T), channel-major like every activation, against
 * labels (B, T): a class in [0, P), or -1 for a position left out. Returns the loss summed over
 * the labelled positions (in double, in position order); *n_labelled and *n_correct (the
 * labelled positions whose largest logit is the label's; ties go to the lower class) may be
 * NULL. The backward adds scale * d(sum)/dlogits = scale (softmax - onehot) into dlogits at the
 * labelled positions. */
double vcn_xent_loss(const float *logits, const int *labels, int B, int P, int T, long *n_labelled,
                     long *n_correct);
void vcn_xent_loss_backward(float *dlogits, const float *logits, const int *labels, int B, int P,
                            int T, float scale);

#endif
