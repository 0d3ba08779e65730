/* conv1d: the im2col + SGEMM layer against a naive loop reference (double accumulation) over
 * kernel sizes, strides, dilations, paddings, batch sizes and bias; finite-difference gradient
 * checks for dinp, dw and db; backward accumulates; dinp NULL is allowed; repeatable. */
#include "test.h"

#include "gradcheck.h"
#include "nn/conv1d.h"

#include <string.h>

/* out (B, OC, T_out) from inp (B, C, T), straight from the definition, summed in double. */
static void conv1d_forward_ref(const conv1d *l, float *out, const float *inp, int B, int T) {
    int T_out = vcn_conv1d_out_len(l, T);
    for (int b = 0; b < B; b++)
        for (int o = 0; o < l->OC; o++)
            for (int t = 0; t < T_out; t++) {
                double s = l->b ? l->b[o] : 0.0;
                for (int c = 0; c < l->C; c++)
                    for (int k = 0; k < l->K; k++) {
                        int i = t * l->stride + k * l->dil - l->pad;
                        if (i < 0 || i >= T) continue;
                        s += (double)l->w[(o * l->C + c) * l->K + k] * inp[(b * l->C + c) * T + i];
                    }
                out[(b * l->OC + o) * T_out + t] = (float)s;
            }
}

/* Adds into dinp (B, C, T), dw (OC, C, K), db (OC); each gradient summed in double first. */
static void conv1d_backward_ref(const conv1d *l, float *dinp, const float *dout, const float *inp,
                                int B, int T) {
    int T_out = vcn_conv1d_out_len(l, T), C = l->C, K = l->K;
    for (int o = 0; o < l->OC; o++) {
        double sb = 0.0;
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T_out; t++) sb += dout[(b * l->OC + o) * T_out + t];
        if (l->db) l->db[o] += (float)sb;
        for (int c = 0; c < C; c++)
            for (int k = 0; k < K; k++) {
                double s = 0.0;
                for (int b = 0; b < B; b++)
                    for (int t = 0; t < T_out; t++) {
                        int i = t * l->stride + k * l->dil - l->pad;
                        if (i >= 0 && i < T)
                            s += (double)dout[(b * l->OC + o) * T_out + t] *
                                 inp[(b * C + c) * T + i];
                    }
                l->dw[(o * C + c) * K + k] += (float)s;
            }
    }
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++)
            for (int i = 0; i < T; i++) {
                double s = 0.0;
                for (int o = 0; o < l->OC; o++)
                    for (int k = 0; k < K; k++) {
                        int u = i + l->pad - k * l->dil; /* = t * stride */
                        if (u < 0 || u % l->stride) continue;
                        int t = u / l->stride;
                        if (t < T_out)
                            s += (double)l->w[(o * C + c) * K + k] *
                                 dout[(b * l->OC + o) * T_out + t];
                    }
                dinp[(b * C + c) * T + i] += (float)s;
            }
}

typedef struct cfg {
    int C, OC, K, stride, dil, pad, B, T, bias;
} cfg;

/* Everything one configuration needs, allocated together. */
typedef struct fixture {
    conv1d l;
    int B, T, T_out;
    size_t n_in, n_out, n_w;
    float *w, *b, *dw, *db, *inp, *dinp, *out, *dout, *scratch;
} fixture;

static void fixture_init(fixture *f, const cfg *c, vc_rng *rng) {
    memset(f, 0, sizeof *f);
    f->l = (conv1d){c->C, c->OC, c->K, c->stride, c->dil, c->pad, NULL, NULL, NULL, NULL};
    f->B = c->B;
    f->T = c->T;
    f->T_out = vcn_conv1d_out_len(&f->l, c->T);
    f->n_in = (size_t)c->B * c->C * c->T;
    f->n_out = (size_t)c->B * c->OC * f->T_out;
    f->n_w = (size_t)c->OC * c->C * c->K;
    f->w = malloc(f->n_w * sizeof(float));
    f->dw = calloc(f->n_w, sizeof(float));
    f->b = malloc((size_t)c->OC * sizeof(float));
    f->db = calloc((size_t)c->OC, sizeof(float));
    f->inp = malloc(f->n_in * sizeof(float));
    f->dinp = calloc(f->n_in, sizeof(float));
    f->out = malloc(f->n_out * sizeof(float));
    f->dout = malloc(f->n_out * sizeof(float));
    size_t ns = vcn_conv1d_scratch_size(&f->l, c->B, c->T);
    /* Exactly the size asked for (ASan catches overruns); NULL when none is needed. */
    f->scratch = ns ? malloc(ns * sizeof(float)) : NULL;
    VC_ASSERT(f->w && f->dw && f->b && f->db && f->inp && f->dinp && f->out && f->dout);
    VC_ASSERT(!ns || f->scratch);
    /* PyTorch-like weight scale keeps outputs O(1) whatever C K is. */
    gc_randn(f->w, f->n_w, 1.0f / sqrtf((float)(c->C * c->K)), rng);
    gc_randn(f->b, (size_t)c->OC, 0.5f, rng);
    gc_randn(f->inp, f->n_in, 1.0f, rng);
    gc_randn(f->dout, f->n_out, 1.0f, rng);
    f->l.w = f->w;
    f->l.b = c->bias ? f->b : NULL;
    f->l.dw = f->dw;
    f->l.db = c->bias ? f->db : NULL;
}

static void fixture_free(fixture *f) {
    free(f->w);
    free(f->dw);
    free(f->b);
    free(f->db);
    free(f->inp);
    free(f->dinp);
    free(f->out);
    free(f->dout);
    free(f->scratch);
}

/* Float GEMM sums of at most ~C K or B T_out (< 700 here) products of O(1) values: the rounding
 * error is about sqrt(n) 2^-24 |sum| and at worst n 2^-24 |sum|, below 1e-5 relative; 1e-4
 * leaves a margin, while any indexing error shows as an O(1) difference. */
#define REF_ATOL 1e-4
#define REF_RTOL 1e-4

/* Forward and backward (on top of non-zero gradients, to test that backward adds) against the
 * reference. */
static void check_against_ref(const cfg *c, vc_rng *rng) {
    fixture f;
    fixture_init(&f, c, rng);
    char name[160];
    snprintf(name, sizeof name, "C%d OC%d K%d s%d d%d p%d B%d T%d%s", c->C, c->OC, c->K, c->stride,
             c->dil, c->pad, c->B, c->T, c->bias ? " bias" : "");
    float *want = malloc(f.n_out * sizeof(float));
    VC_ASSERT(want);
    vcn_conv1d_forward(&f.l, f.out, f.inp, f.B, f.T, f.scratch);
    conv1d_forward_ref(&f.l, want, f.inp, f.B, f.T);
    double e_out = max_abs_diff(f.out, want, f.n_out);
    check_tensor(name, f.out, want, f.n_out, REF_ATOL, REF_RTOL);

    /* Start the gradients from random values: backward must add to them. */
    gc_randn(f.dinp, f.n_in, 1.0f, rng);
    gc_randn(f.dw, f.n_w, 1.0f, rng);
    gc_randn(f.db, (size_t)c->OC, 1.0f, rng);
    float *dinp_ref = copy_of(f.dinp, f.n_in), *dw_ref = copy_of(f.dw, f.n_w),
          *db_ref = copy_of(f.db, (size_t)c->OC);
    vcn_conv1d_backward(&f.l, f.dinp, f.dout, f.inp, f.B, f.T, f.scratch);
    conv1d ref = f.l;
    ref.dw = dw_ref;
    ref.db = c->bias ? db_ref : NULL;
    conv1d_backward_ref(&ref, dinp_ref, f.dout, f.inp, f.B, f.T);
    check_tensor("dinp", f.dinp, dinp_ref, f.n_in, REF_ATOL, REF_RTOL);
    check_tensor("dw", f.dw, dw_ref, f.n_w, REF_ATOL, REF_RTOL);
    if (c->bias) check_tensor("db", f.db, db_ref, (size_t)c->OC, REF_ATOL, REF_RTOL);
    fprintf(stderr, "ref %-40s T_out %3d  max abs err: out %.2g dinp %.2g dw %.2g db %.2g\n", name,
            f.T_out, e_out, max_abs_diff(f.dinp, dinp_ref, f.n_in),
            max_abs_diff(f.dw, dw_ref, f.n_w), max_abs_diff(f.db, db_ref, (size_t)c->OC));

    /* dinp NULL, twice from zero, against 2 x (one call from zero). */
    memset(f.dw, 0, f.n_w * sizeof(float));
    memset(f.db, 0, (size_t)c->OC * sizeof(float));
    vcn_conv1d_backward(&f.l, NULL, f.dout, f.inp, f.B, f.T, f.scratch);
    vcn_conv1d_backward(&f.l, NULL, f.dout, f.inp, f.B, f.T, f.scratch);
    float *dw_twice = copy_of(f.dw, f.n_w), *db_twice = copy_of(f.db, (size_t)c->OC);
    memset(f.dw, 0, f.n_w * sizeof(float));
    memset(f.db, 0, (size_t)c->OC * sizeof(float));
    vcn_conv1d_backward(&f.l, NULL, f.dout, f.inp, f.B, f.T, f.scratch);
    for (size_t i = 0; i < f.n_w; i++) f.dw[i] *= 2.0f;
    for (int o = 0; o < c->OC; o++) f.db[o] *= 2.0f;
    /* Not bit-exact: the pointwise path adds item by item, and (s + a) + b != s + (a + b) in
     * float; the difference is a rounding of the sum, ~1e-7 relative. */
    check_tensor("dw twice", dw_twice, f.dw, f.n_w, 1e-6, 1e-5);
    if (c->bias) check_tensor("db twice", db_twice, f.db, (size_t)c->OC, 1e-6, 1e-5);
    /* dw and db NULL: dinp only, the same as with them. */
    conv1d no_params = f.l;
    no_params.dw = no_params.db = NULL;
    float *dinp2 = copy_of(f.dinp, f.n_in);
    vcn_conv1d_backward(&no_params, dinp2, f.dout, f.inp, f.B, f.T, f.scratch);
    vcn_conv1d_backward(&f.l, f.dinp, f.dout, f.inp, f.B, f.T, f.scratch);
    check_tensor("dinp without dw", dinp2, f.dinp, f.n_in, 0.0, 0.0);

    /* Repeatable: the same call gives the same bits. */
    float *again = malloc(f.n_out * sizeof(float));
    VC_ASSERT(again);
    vcn_conv1d_forward(&f.l, again, f.inp, f.B, f.T, f.scratch);
    CHECK(!memcmp(again, f.out, f.n_out * sizeof(float)));

    free(again);
    free(dinp2);
    free(dw_twice);
    free(db_twice);
    free(want);
    free(dinp_ref);
    free(dw_ref);
    free(db_ref);
    fixture_free(&f);
}

static void gc_forward(void *ctx, float *out) {
    fixture *f = ctx;
    vcn_conv1d_forward(&f->l, out, f->inp, f->B, f->T, f->scratch);
}

/* Finite differences of L = sum r * out for dinp, dw and db. The output is linear in each single
 * variable, so central differences carry no truncation error, only float rounding of the
 * forward: each out is a float sum with relative error ~1e-7 and L sums a few hundred of them,
 * so L is off by ~1e-5 at most, and dividing by 2 eps = 2e-2 gives ~5e-4 in the finite
 * difference. eps = 1e-2 keeps that well under atol = 2e-3, and rtol = 1e-2 absorbs the same
 * noise on large gradients (typically 1..10 here). */
static void check_gradients(const cfg *c, vc_rng *rng) {
    fixture f;
    fixture_init(&f, c, rng);
    vcn_conv1d_backward(&f.l, f.dinp, f.dout, f.inp, f.B, f.T, f.scratch);
    gc_loss L = {gc_forward, &f, f.out, f.dout, f.n_out};
    gc_opts o = {1e-2, 2e-3, 1e-2, 200, 0.0};
    char name[64];
    snprintf(name, sizeof name, "conv1d K%d s%d d%d p%d dinp", c->K, c->stride, c->dil, c->pad);
    CHECK(gradcheck(name, &L, f.inp, f.dinp, f.n_in, &o, rng));
    snprintf(name, sizeof name, "conv1d K%d s%d d%d p%d dw", c->K, c->stride, c->dil, c->pad);
    CHECK(gradcheck(name, &L, f.w, f.dw, f.n_w, &o, rng));
    if (c->bias) {
        snprintf(name, sizeof name, "conv1d K%d s%d d%d p%d db", c->K, c->stride, c->dil, c->pad);
        CHECK(gradcheck(name, &L, f.b, f.db, (size_t)c->OC, &o, rng));
    }
    fixture_free(&f);
}

int main(void) {
    vc_rng rng;
    vcu_rng_seed(&rng, test_seed(1));

    conv1d l = {4, 4, 5, 1, 1, 2, NULL, NULL, NULL, NULL};
    CHECK(vcn_conv1d_out_len(&l, 10) == 10); /* 'same' padding */
    l.stride = 2;
    CHECK(vcn_conv1d_out_len(&l, 10) == 5);
    l = (conv1d){4, 4, 5, 1, 2, 0, NULL, NULL, NULL, NULL};
    CHECK(vcn_conv1d_out_len(&l, 9) == 1); /* span dil (K - 1) + 1 = 9 */
    CHECK(vcn_conv1d_out_len(&l, 8) == 0); /* too short: no output, not 1 */
    l = (conv1d){4, 4, 1, 1, 1, 0, NULL, NULL, NULL, NULL};
    CHECK(vcn_conv1d_scratch_size(&l, 3, 10) == 0); /* pointwise: no im2col */

    const cfg cfgs[] = {
        /* C OC K s d p B T bias */
        {3, 4, 1, 1, 1, 0, 1, 17, 1},  /* pointwise (no im2col), one item */
        {3, 5, 1, 1, 1, 0, 3, 17, 0},  /* pointwise, batch, no bias */
        {3, 4, 1, 2, 1, 0, 3, 17, 1},  /* K 1 with stride: im2col path */
        {3, 4, 1, 1, 1, 1, 2, 9, 1},   /* K 1 with padding */
        {5, 4, 3, 1, 1, 1, 3, 17, 1},  /* 'same' K 3 */
        {4, 6, 3, 2, 1, 1, 3, 17, 1},  /* stride 2 */
        {2, 3, 3, 2, 1, 0, 3, 16, 1},  /* stride 2, no padding, even T */
        {3, 5, 5, 1, 2, 2, 1, 19, 0},  /* dilation 2, one item (no staging copy) */
        {3, 5, 5, 2, 2, 2, 3, 19, 1},  /* dilation and stride */
        {4, 3, 5, 1, 1, 2, 3, 21, 1},  /* 'same' K 5 */
        {4, 4, 3, 1, 3, 2, 3, 7, 1},   /* taps reaching past both ends */
        {2, 3, 5, 1, 1, 0, 1, 5, 1},   /* T_out = 1 */
        {64, 48, 5, 1, 1, 2, 3, 45, 1} /* larger, blocked GEMMs */
    };
    const int n_cfgs = (int)(sizeof cfgs / sizeof cfgs[0]);
    for (int i = 0; i < n_cfgs; i++) check_against_ref(&cfgs[i], &rng);
    for (int i = 0; i < n_cfgs - 1; i++) check_gradients(&cfgs[i], &rng);
    return test_finish();
}
