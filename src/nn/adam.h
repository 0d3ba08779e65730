/* Optimiser: AdamW (Kingma & Ba 2015, with the decoupled weight decay of Loshchilov & Hutter
 * 2019), global-norm gradient clipping and the learning-rate schedule.
 *
 * The moments m and v have the layout of the parameter slab, so one offset addresses a tensor in
 * params, grads, m and v alike; vcn_adamw_update works on a range so that each tensor can get its
 * own weight decay (none for norms and biases, for example). Per step: norm =
 * vcn_grad_clip_norm(grad, n, max_norm);   skip the step if !isfinite(norm)
 *   vcn_adamw_begin_step(&opt);
 *   vcn_adamw_update(&opt, params, grads, offset, count, vcn_lr_schedule(...), wd)   for each range
 */
#ifndef VC_NN_ADAM_H
#define VC_NN_ADAM_H

#include "common.h"

typedef struct adamw {
    float beta1, beta2, eps;
    size_t n;
    float *m;  // (n) first moment
    float *v;  // (n) second moment
    long step; /* steps begun; 0 before the first, 1 during the first (bias correction) */
} adamw;

/* Allocates zeroed moments for n parameters (e.g. beta1 0.9, beta2 0.999, eps 1e-8). */
VC_WARN_UNUSED vc_status vcn_adamw_init(adamw *o, size_t n, float beta1, float beta2, float eps);
void vcn_adamw_free(adamw *o); /* NULL and a zeroed struct are fine */

/* Starts a step: increments step, which fixes the bias correction for the updates that follow. */
void vcn_adamw_begin_step(adamw *o);

/* Updates param[offset .. offset + count) from grad[...] and the moments at the same offsets
 * (param and grad point to the start of their slabs):
 *   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
 *   param -= lr * (m / (1 - beta1^step) / (sqrt(v / (1 - beta2^step)) + eps) + wd * param)
 * The decay term uses the parameter before this update and is not scaled by the adaptive
 * denominator (decoupled weight decay). Call after vcn_adamw_begin_step. The moments are written,
 * so the struct is const only in its shape: ranges of one step must not overlap. */
void vcn_adamw_update(const adamw *o, float *param, const float *grad, size_t offset, size_t count,
                      float lr, float weight_decay);

/* Global L2 norm of grad (n), accumulated in double in a fixed order. If it exceeds max_norm
 * (> 0), grad is scaled by max_norm / norm so that its norm becomes max_norm. Returns the norm
 * before clipping; a non-finite norm leaves grad untouched (the caller should skip the step). */
double vcn_grad_clip_norm(float *grad, size_t n, float max_norm);

typedef enum vc_lr_kind {
    VC_LR_CONSTANT = 0,    /* warm-up, then base_lr */
    VC_LR_COSINE = 1,      /* warm-up, then cosine decay to 0 at step total */
    VC_LR_COSINE_FLOOR = 2 /* warm-up, then cosine decay to VC_LR_FLOOR * base_lr */
} vc_lr_kind;

#define VC_LR_FLOOR 0.1f

/* Learning rate for step (0-based: the number of steps already taken):
 *   step < warmup:  base_lr * (step + 1) / warmup   (linear; never 0, so no step is wasted)
 *   afterwards:     constant, or floor + (base_lr - floor) * (1 + cos(pi * p)) / 2 with
 *                   p = (step - warmup) / (total - warmup) clamped to [0, 1]
 * so the cosine kinds give base_lr at step warmup, the mean of base_lr and the floor halfway, and
 * the floor from step total on. warmup <= 0 means no warm-up; total <= warmup means no decay. */
float vcn_lr_schedule(long step, float base_lr, long warmup, long total, int kind);

#endif
