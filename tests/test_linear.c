/* linear: the SGEMM layer against a naive loop reference (double accumulation), finite-
 * difference gradient checks for dinp, dw and db, backward accumulates, dinp NULL allowed. */
#include "test.h"

#include "gradcheck.h"
#include "nn/linear.h"

#include <string.h>

/* out (B, OC) from inp (B, C), summed in double. */
static void linear_forward_ref(const linear *l, float *out, const float *inp, int B) {
    for (int i = 0; i < B; i++)
        for (int o = 0; o < l->OC; o++) {
            double s = l->b ? l->b[o] : 0.0;
            for (int c = 0; c < l->C; c++) s += (double)l->w[o * l->C + c] * inp[i * l->C + c];
            out[i * l->OC + o] = (float)s;
        }
}

/* Adds into dinp (B, C), dw (OC, C), db (OC). */
static void linear_backward_ref(const linear *l, float *dinp, const float *dout, const float *inp,
                                int B) {
    for (int o = 0; o < l->OC; o++) {
        double sb = 0.0;
        for (int i = 0; i < B; i++) sb += dout[i * l->OC + o];
        if (l->db) l->db[o] += (float)sb;
        for (int c = 0; c < l->C; c++) {
            double s = 0.0;
            for (int i = 0; i < B; i++) s += (double)dout[i * l->OC + o] * inp[i * l->C + c];
            l->dw[o * l->C + c] += (float)s;
        }
    }
    for (int i = 0; i < B; i++)
        for (int c = 0; c < l->C; c++) {
            double s = 0.0;
            for (int o = 0; o < l->OC; o++) s += (double)dout[i * l->OC + o] * l->w[o * l->C + c];
            dinp[i * l->C + c] += (float)s;
        }
}

typedef struct fixture {
    linear l;
    int B;
    size_t n_in, n_out, n_w;
    float *w, *b, *dw, *db, *inp, *dinp, *out, *dout;
} fixture;

static void fixture_init(fixture *f, int C, int OC, int B, int bias, vc_rng *rng) {
    memset(f, 0, sizeof *f);
    f->B = B;
    f->n_in = (size_t)B * C;
    f->n_out = (size_t)B * OC;
    f->n_w = (size_t)OC * C;
    f->w = malloc(f->n_w * sizeof(float));
    f->dw = calloc(f->n_w, sizeof(float));
    f->b = malloc((size_t)OC * sizeof(float));
    f->db = calloc((size_t)OC, sizeof(float));
    f->inp = malloc(f->n_in * sizeof(float));
    f->dinp = calloc(f->n_in, sizeof(float));
    f->out = malloc(f->n_out * sizeof(float));
    f->dout = malloc(f->n_out * sizeof(float));
    VC_ASSERT(f->w && f->dw && f->b && f->db && f->inp && f->dinp && f->out && f->dout);
    gc_randn(f->w, f->n_w, 1.0f / sqrtf((float)C), rng);
    gc_randn(f->b, (size_t)OC, 0.5f, rng);
    gc_randn(f->inp, f->n_in, 1.0f, rng);
    gc_randn(f->dout, f->n_out, 1.0f, rng);
    f->l = (linear){C, OC, f->w, bias ? f->b : NULL, f->dw, bias ? f->db : NULL};
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
}

static void gc_forward(void *ctx, float *out) {
    fixture *f = ctx;
    vcn_linear_forward(&f->l, out, f->inp, f->B);
}

static void check_case(int C, int OC, int B, int bias, vc_rng *rng) {
    fixture f;
    fixture_init(&f, C, OC, B, bias, rng);
    char name[64];
    snprintf(name, sizeof name, "C%d OC%d B%d%s", C, OC, B, bias ? " bias" : "");

    /* Float sums of at most 96 products of O(1) values: rounding error below 1e-5 relative;
     * 1e-4 leaves a margin, while an indexing error gives an O(1) difference. */
    float *want = malloc(f.n_out * sizeof(float));
    VC_ASSERT(want);
    vcn_linear_forward(&f.l, f.out, f.inp, B);
    linear_forward_ref(&f.l, want, f.inp, B);
    check_tensor(name, f.out, want, f.n_out, 1e-4, 1e-4);

    /* Backward on top of random gradients: it must add. */
    gc_randn(f.dinp, f.n_in, 1.0f, rng);
    gc_randn(f.dw, f.n_w, 1.0f, rng);
    gc_randn(f.db, (size_t)OC, 1.0f, rng);
    float *dinp_ref = copy_of(f.dinp, f.n_in), *dw_ref = copy_of(f.dw, f.n_w),
          *db_ref = copy_of(f.db, (size_t)OC);
    vcn_linear_backward(&f.l, f.dinp, f.dout, f.inp, B);
    linear ref = f.l;
    ref.dw = dw_ref;
    ref.db = bias ? db_ref : NULL;
    linear_backward_ref(&ref, dinp_ref, f.dout, f.inp, B);
    check_tensor("dinp", f.dinp, dinp_ref, f.n_in, 1e-4, 1e-4);
    check_tensor("dw", f.dw, dw_ref, f.n_w, 1e-4, 1e-4);
    if (bias) check_tensor("db", f.db, db_ref, (size_t)OC, 1e-4, 1e-4);
    fprintf(stderr, "ref %-18s max abs err: out %.2g dinp %.2g dw %.2g db %.2g\n", name,
            max_abs_diff(f.out, want, f.n_out), max_abs_diff(f.dinp, dinp_ref, f.n_in),
            max_abs_diff(f.dw, dw_ref, f.n_w), max_abs_diff(f.db, db_ref, (size_t)OC));

    /* Twice from zero, dinp NULL: twice one call. One GEMM with beta 1 per call, so in practice
     * exact; allow a rounding of the sum (~1e-7 relative) in case a BLAS adds in pieces. */
    memset(f.dw, 0, f.n_w * sizeof(float));
    memset(f.db, 0, (size_t)OC * sizeof(float));
    vcn_linear_backward(&f.l, NULL, f.dout, f.inp, B);
    vcn_linear_backward(&f.l, NULL, f.dout, f.inp, B);
    float *dw_twice = copy_of(f.dw, f.n_w), *db_twice = copy_of(f.db, (size_t)OC);
    memset(f.dw, 0, f.n_w * sizeof(float));
    memset(f.db, 0, (size_t)OC * sizeof(float));
    vcn_linear_backward(&f.l, NULL, f.dout, f.inp, B);
    for (size_t i = 0; i < f.n_w; i++) f.dw[i] *= 2.0f;
    for (int o = 0; o < OC; o++) f.db[o] *= 2.0f;
    check_tensor("dw twice", dw_twice, f.dw, f.n_w, 1e-6, 1e-5);
    if (bias) check_tensor("db twice", db_twice, f.db, (size_t)OC, 1e-6, 1e-5);

    /* Finite differences of L = sum r * out. The output is linear in each single variable, so
     * central differences have no truncation error, only the float rounding of the forward
     * (~1e-5 on L, ~5e-4 after dividing by 2 eps = 2e-2): atol 2e-3, rtol 1e-2. */
    memset(f.dinp, 0, f.n_in * sizeof(float));
    memset(f.dw, 0, f.n_w * sizeof(float));
    memset(f.db, 0, (size_t)OC * sizeof(float));
    vcn_linear_backward(&f.l, f.dinp, f.dout, f.inp, B);
    gc_loss L = {gc_forward, &f, f.out, f.dout, f.n_out};
    gc_opts o = {1e-2, 2e-3, 1e-2, 200, 0.0};
    char gname[80];
    snprintf(gname, sizeof gname, "linear %s dinp", name);
    CHECK(gradcheck(gname, &L, f.inp, f.dinp, f.n_in, &o, rng));
    snprintf(gname, sizeof gname, "linear %s dw", name);
    CHECK(gradcheck(gname, &L, f.w, f.dw, f.n_w, &o, rng));
    if (bias) {
        snprintf(gname, sizeof gname, "linear %s db", name);
        CHECK(gradcheck(gname, &L, f.b, f.db, (size_t)OC, &o, rng));
    }
    free(want);
    free(dinp_ref);
    free(dw_ref);
    free(db_ref);
    free(dw_twice);
    free(db_twice);
    fixture_free(&f);
}

int main(void) {
    vc_rng rng;
    vcu_rng_seed(&rng, test_seed(1));
    check_case(5, 3, 1, 1, &rng);
    check_case(7, 4, 6, 0, &rng);
    check_case(96, 48, 9, 1, &rng);
    return test_finish();
}
