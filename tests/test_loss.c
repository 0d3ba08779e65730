/* The L1 and MSE losses: values against naive double sums (block edges included), gradients
 * by finite differences, scale, L1's zero gradient at ties, and accumulation. The softmax
 * cross-entropy: value against -log softmax computed another way, unlabelled positions left
 * out, accuracy, gradient by finite differences, and accumulation. */
#include "test.h"

#include "gradcheck.h"
#include "nn/loss.h"

#include <math.h>
#include <string.h>

enum { N = 300 }; /* not a multiple of the 64 summation blocks */

/* The loss is a scalar of size ~1 whose change under a 1e-3 perturbation is ~1e-5: stored as a
 * float it would lose most digits. So the gradcheck "output" is the change from the loss at
 * the unperturbed point, loss - loss0, computed in double and small enough that a float keeps
 * it to ~1e-7 relative. */
typedef struct loss_ctx {
    int squared; /* MSE, else L1 */
    const float *pred, *target;
    size_t n;
    double loss0;
} loss_ctx;

static double loss_of(const loss_ctx *k) {
    return k->squared ? vcn_mse_loss(k->pred, k->target, k->n)
                      : vcn_l1_loss(k->pred, k->target, k->n);
}

static void loss_backward(int squared, float *g, const float *p, const float *t, size_t n,
                          float scale) {
    if (squared)
        vcn_mse_loss_backward(g, p, t, n, scale);
    else
        vcn_l1_loss_backward(g, p, t, n, scale);
}

static void loss_f(void *ctx, float *out) {
    loss_ctx *k = ctx;
    out[0] = (float)(loss_of(k) - k->loss0);
}

static void test_loss(int squared, size_t n, vc_rng *rng) {
    const char *name = squared ? "mse" : "l1";
    float *p = calloc(n, sizeof(float)), *t = calloc(n, sizeof(float));
    float *g = calloc(n, sizeof(float)), *g2 = calloc(n, sizeof(float));
    VC_ASSERT(p && t && g && g2);
    gc_randn(p, n, 1.0f, rng);
    gc_randn(t, n, 1.0f, rng);
    /* |pred - target| >= 0.01, ten times the fd eps: a difference within eps of 0 puts the
     * central difference across L1's kink without the harness always seeing it. */
    for (size_t i = 0; i < n; i++)
        if (fabsf(p[i] - t[i]) < 0.01f) p[i] = t[i] + (p[i] >= t[i] ? 0.01f : -0.01f);
    /* Ties: L1's kinks (not for MSE, whose zero-gradient tie the harness's one-sided test would
     * also flag: there the one-sided slopes are +-eps/n, opposite and equal). */
    int ties = !squared && n >= 100;
    if (ties) p[3] = t[3], p[n - 1] = t[n - 1];

    /* Naive sequential double sum; the blocked sum differs only in double rounding (~n * 1e-16
     * relative), so 1e-12. */
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)p[i] - (double)t[i];
        s += squared ? d * d : fabs(d);
    }
    loss_ctx k = {squared, p, t, n, 0.0};
    double got = loss_of(&k), want = s / (double)n;
    fprintf(stderr, "%s n=%zu: loss %.12g, rel err vs naive %.3g\n", name, n, got,
            fabs(got - want) / want);
    CHECK_NEAR(got, want, 0.0, 1e-12);

    loss_backward(squared, g, p, t, n, 1.0f);
    if (ties) CHECK(g[3] == 0.0f && g[n - 1] == 0.0f); /* zero at exact ties */

    if (n <= 1000) {
        k.loss0 = got;
        float out, r = 1.0f;
        gc_loss L = {loss_f, &k, &out, &r, 1};
        /* Gradients are ~1/n = 3e-3: atol 1e-6 is 3e-4 of that, rtol 1e-3 covers the float
         * rounding of the difference; L1 is linear away from ties and MSE quadratic, so their
         * central differences have no truncation error. L1's 2 ties (of 300) are kinks. */
        const gc_opts o = {1e-3, 1e-6, 1e-3, (int)n, 0.01};
        char tag[32];
        snprintf(tag, sizeof tag, "%s dpred", name);
        CHECK(gradcheck(tag, &L, p, g, n, &o, rng));
    }

    /* scale: a power of two scales every gradient exactly; accumulation doubles exactly. */
    for (int rep = 0; rep < 2; rep++) {
        loss_backward(squared, g2, p, t, n, 0.5f);
    }
    char tag[32];
    snprintf(tag, sizeof tag, "%s scale+accumulate", name);
    check_tensor(tag, g2, g, n, 0.0, 0.0);
    free(p), free(t), free(g), free(g2);
}

/* Cross-entropy: the gradcheck output is again the change from the unperturbed loss. */
typedef struct xent_ctx {
    const float *x;
    const int *y;
    int B, P, T;
    double loss0;
} xent_ctx;

static void xent_f(void *ctx, float *out) {
    xent_ctx *k = ctx;
    out[0] = (float)(vcn_xent_loss(k->x, k->y, k->B, k->P, k->T, NULL, NULL) - k->loss0);
}

static void test_xent(vc_rng *rng) {
    enum { B = 3, P = 7, T = 11 };
    size_t n = (size_t)B * P * T;
    float x[B * P * T], g[B * P * T], g2[B * P * T];
    int y[B * T];
    gc_randn(x, n, 2.0f, rng);
    for (int i = 0; i < B * T; i++) y[i] = i % 5 == 2 ? -1 : (int)(vcu_rng_u32(rng) % P);
    /* naive: -log(exp(x_y) / sum exp(x_c)) with the plain exponentials, positions in any order */
    double want = 0.0;
    long n_lab = 0, n_right = 0;
    for (int b = 0; b < B; b++)
        for (int t = T - 1; t >= 0; t--) {
            int c0 = y[b * T + t];
            if (c0 < 0) continue;
            double s = 0.0;
            int best = 0;
            for (int c = 0; c < P; c++) {
                s += exp((double)x[(b * P + c) * T + t]);
                if (x[(b * P + c) * T + t] > x[(b * P + best) * T + t]) best = c;
            }
            want -= log(exp((double)x[(b * P + c0) * T + t]) / s);
            n_lab++, n_right += best == c0;
        }
    long got_n, got_right;
    double got = vcn_xent_loss(x, y, B, P, T, &got_n, &got_right);
    fprintf(stderr, "xent: loss %.12g (naive %.12g), %ld labelled, %ld right\n", got, want, got_n,
            got_right);
    CHECK_NEAR(got, want, 0.0, 1e-12);
    CHECK(got_n == n_lab && got_right == n_right && n_lab == 26);

    memset(g, 0, sizeof g);
    vcn_xent_loss_backward(g, x, y, B, P, T, 1.0f);
    for (int b = 0; b < B; b++) /* nothing at unlabelled positions; each position sums to 0 */
        for (int t = 0; t < T; t++) {
            double s = 0.0;
            for (int c = 0; c < P; c++) {
                float v = g[(b * P + c) * T + t];
                if (y[b * T + t] < 0) CHECK(v == 0.0f);
                s += v;
            }
            CHECK_NEAR(s, 0.0, 1e-6, 0.0);
        }
    xent_ctx k = {x, y, B, P, T, got};
    float out, r = 1.0f;
    gc_loss L = {xent_f, &k, &out, &r, 1};
    /* Gradients are softmax shares, up to 1; a smooth loss of size ~60 stored as a change */
    const gc_opts o = {1e-3, 1e-4, 2e-3, (int)n, 0.0};
    CHECK(gradcheck("xent dlogits", &L, x, g, n, &o, rng));
    memset(g2, 0, sizeof g2);
    vcn_xent_loss_backward(g2, x, y, B, P, T, 0.5f);
    vcn_xent_loss_backward(g2, x, y, B, P, T, 0.5f);
    check_tensor("xent scale+accumulate", g2, g, n, 1e-7, 1e-6);
}

int main(void) {
    vc_rng rng;
    vcu_rng_seed(&rng, test_seed(1));
    for (int squared = 0; squared < 2; squared++) {
        test_loss(squared, N, &rng);
        /* Large enough for the parallel path when threads are available. */
        test_loss(squared, 100003, &rng);
        /* Fewer elements than blocks: empty blocks add nothing. */
        test_loss(squared, 5, &rng);
    }
    test_xent(&rng);
    return test_finish();
}
