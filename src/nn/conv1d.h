/* 1-D convolution over (B, C, T) activations: im2col + one SGEMM across the batch.
 *
 *   out[b, o, t] = b[o] + sum_{c, k} w[o, c, k] * inp[b, c, t * stride + k * dil - pad]
 *
 * with zero padding of pad samples on both ends. T_out = vcn_conv1d_out_len(l, T).
 *
 * Every call takes a scratch buffer of vcn_conv1d_scratch_size(l, B, T) floats (the im2col matrix
 * and a (OC, B * T_out) staging tensor); a pointwise layer (K 1, stride 1, pad 0) needs none. The
 * GEMMs are threaded by OpenBLAS; the copy loops around them run on the calling thread (why: see
 * conv1d.c). Results are deterministic for a fixed thread count (no atomics, fixed summation
 * order).
 */
#ifndef VC_NN_CONV1D_H
#define VC_NN_CONV1D_H

#include "common.h"

#include <stddef.h>

typedef struct conv1d {
    int C, OC, K, stride, dil, pad; /* pad: zeros on both ends */
    float *w, *b;                   // (OC, C, K), (OC) or NULL for no bias
    float *dw, *db;                 // same shapes; may be NULL at inference
} conv1d;

/* (T + 2 pad - dil (K - 1) - 1) / stride + 1; <= 0 if the input is too short. */
int vcn_conv1d_out_len(const conv1d *l, int T);

/* Floats of scratch vcn_conv1d_forward and vcn_conv1d_backward need for (B, C, T) inputs. */
size_t vcn_conv1d_scratch_size(const conv1d *l, int B, int T);

/* out (B, OC, T_out), inp (B, C, T), scratch (vcn_conv1d_scratch_size). */
void vcn_conv1d_forward(const conv1d *l, float *out, const float *inp, int B, int T,
                        float *scratch);

/* Adds into dinp (B, C, T) (skipped if NULL), l->dw and l->db (each if non-NULL).
 * dout (B, OC, T_out), inp (B, C, T) as given to forward, scratch (vcn_conv1d_scratch_size). */
void vcn_conv1d_backward(const conv1d *l, float *dinp, const float *dout, const float *inp, int B,
                         int T, float *scratch);

#endif
