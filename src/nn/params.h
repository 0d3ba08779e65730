/* Parameters: one table of tensors, one contiguous slab.
 *
 * Tensor conventions (every layer in src/nn/ follows them):
 *   - activations are (B, C, T): batch, channels, time, row-major, time contiguous;
 *     per-utterance vectors are (B, C); weights are documented per layer, e.g. conv1d (OC, C, K);
 *   - every float array carries a shape comment, using the letters of src/common.h;
 *   - backward functions ADD into their gradient outputs (dinp, dw, db), so fan-out and residual
 *     paths need no special cases; params_zero_grad clears the gradient slab once per step;
 *   - layers never allocate: whatever backward needs (norm statistics, argmin indices, GEMM
 *     scratch) is an explicit buffer owned by the caller, with a *_size helper where it is not
 *     obvious.
 *
 * The parameter table (vc_param_spec rows: name, shape, initialisation) is the single source of
 * truth: it fixes each tensor's offset in the slab, drives random initialisation, file I/O by
 * name and the enumeration in gradient checks. Gradients and Adam moments are slabs with the
 * same layout, so one offset addresses a tensor in all of them.
 */
#ifndef VC_NN_PARAMS_H
#define VC_NN_PARAMS_H

#include "common.h"

#define VC_PARAM_NAME_MAX 64
#define VC_PARAM_MAX_DIMS 4

typedef enum vc_init_kind {
    VC_INIT_ZEROS = 0,
    VC_INIT_ONES = 1,
    VC_INIT_UNIFORM = 2, /* U(-a, a) with a = scale / sqrt(fan_in) (PyTorch's conv/linear default
                            with scale 1) */
    VC_INIT_NORMAL = 3   /* N(0, scale^2) */
} vc_init_kind;

typedef struct vc_param_spec {
    char name[VC_PARAM_NAME_MAX]; /* unique, e.g. "content.conv0.w" */
    int ndim;
    int shape[VC_PARAM_MAX_DIMS];
    vc_init_kind init;
    float scale;
    int fan_in;    /* for VC_INIT_UNIFORM */
    int trainable; /* 1: the optimiser updates it from its gradient; 0: something else owns it
                      (the codebook follows its EMA) or it is fixed */
} vc_param_spec;

typedef struct vc_params {
    int n;               /* tensors */
    vc_param_spec *spec; // (n) copied from the caller's table
    size_t *offset;      // (n) start of each tensor in the slabs, 16-float aligned
    size_t total;        /* floats in each slab, padding included */
    float *data;         // (total) values
    float *grad;         // (total) gradients; NULL when built without them
} vc_params;

size_t vcn_param_numel(const vc_param_spec *s);

/* Validates the table (names unique and non-empty, 1..4 dims, positive sizes) and allocates the
 * slabs (zeroed); with_grad = 0 for inference. */
VC_WARN_UNUSED vc_status vcn_params_init(vc_params *p, const vc_param_spec *spec, int n,
                                         int with_grad);
void vcn_params_free(vc_params *p);

/* Index of a tensor by name, or -1. */
int vcn_params_find(const vc_params *p, const char *name);
float *vcn_params_data(const vc_params *p, int i); /* start of tensor i in the value slab */
float *vcn_params_grad(const vc_params *p, int i); /* ... in the gradient slab (NULL if none) */

/* Whether the optimiser updates tensor i (its row's trainable flag). */
int vcn_params_trainable(const vc_params *p, int i);

/* Initialises every tensor as its row says, drawing from rng in table order. */
void vcn_params_randomize(vc_params *p, vc_rng *rng);
void vcn_params_zero_grad(vc_params *p);

#endif
