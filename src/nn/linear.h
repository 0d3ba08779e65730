/* Fully connected layer on (B, C) rows: out = inp w^T + b, one SGEMM. */
#ifndef VC_NN_LINEAR_H
#define VC_NN_LINEAR_H

#include "common.h"

typedef struct linear {
    int C, OC;
    float *w, *b;   // (OC, C), (OC) or NULL for no bias
    float *dw, *db; // same shapes; may be NULL at inference
} linear;

/* out (B, OC), inp (B, C). */
void vcn_linear_forward(const linear *l, float *out, const float *inp, int B);

/* Adds into dinp (B, C) (skipped if NULL), l->dw and l->db (each if non-NULL).
 * dout (B, OC), inp (B, C) as given to forward. */
void vcn_linear_backward(const linear *l, float *dinp, const float *dout, const float *inp, int B);

#endif
