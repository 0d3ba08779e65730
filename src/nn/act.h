/* Activations and the small shape ops between layers.
 *
 * Elementwise ops work on n floats of any shape. Backward functions add into their gradients
 * (a NULL gradient pointer, where allowed, skips that input) and never run in place
 * (dinp != dout). Forwards of the elementwise ops may run in place (out == inp); relu then
 * still has a backward, because its output is positive exactly where its input is, so the
 * output can be passed as inp; so does leaky ReLU with slope > 0, whose output has its input's
 * sign (zero exactly where the input is). GELU's backward needs the true
 * input, so an in-place GELU forward has no backward.
 */
#ifndef VC_NN_ACT_H
#define VC_NN_ACT_H

#include "common.h"

#include <stddef.h>

/* out = max(x, 0); the derivative at 0 is taken as 0. */
void vcn_relu_forward(float *out, const float *inp, size_t n);
void vcn_relu_backward(float *dinp, const float *dout, const float *inp, size_t n);

/* Leaky ReLU: out = x for x > 0, slope x otherwise; the derivative at 0 is taken as slope.
 * With slope > 0 the backward may be given the output as inp (same sign, see above). */
void vcn_lrelu_forward(float *out, const float *inp, size_t n, float slope);
void vcn_lrelu_backward(float *dinp, const float *dout, const float *inp, size_t n, float slope);

/* GELU, tanh approximation (GPT-2, llm.c):
 * 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
void vcn_gelu_forward(float *out, const float *inp, size_t n);
void vcn_gelu_backward(float *dinp, const float *dout, const float *inp, size_t n);

/* Residual add out = a + b (out may be a or b); backward adds dout into da and db (either may be
 * NULL). */
void vcn_add_forward(float *out, const float *a, const float *b, size_t n);
void vcn_add_backward(float *da, float *db, const float *dout, size_t n);

/* Repeats every frame r times: out[b, c, t * r + k] = inp[b, c, t]; out (B, C, T * r), inp
 * (B, C, T). Backward sums the r copies into dinp (B, C, T). */
void vcn_upsample_forward(float *out, const float *inp, int B, int C, int T, int r);
void vcn_upsample_backward(float *dinp, const float *dout, int B, int C, int T, int r);

/* Statistics pooling: out (B, 2C) = [mean over T, sqrt(var + eps)] of inp (B, C, T), var the
 * population variance, in double. Backward recomputes the statistics from inp, so nothing else
 * needs saving; dout (B, 2C), dinp (B, C, T). */
void vcn_pool_forward(float *out, const float *inp, int B, int C, int T, float eps);
void vcn_pool_backward(float *dinp, const float *dout, const float *inp, int B, int C, int T,
                       float eps);

/* Channel concat per frame: out (B, C1 + C2, T) = [a (B, C1, T); b (B, C2, T)]. Backward adds
 * the two slices of dout into da and db (either may be NULL). */
void vcn_concat_forward(float *out, const float *a, const float *b, int B, int C1, int C2, int T);
void vcn_concat_backward(float *da, float *db, const float *dout, int B, int C1, int C2, int T);

#endif
