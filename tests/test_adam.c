/* AdamW against a hand computation, bias correction, convergence on a quadratic, decoupled weight
 * decay, range updates; gradient clipping; the learning-rate schedule at its key steps. */
#include "test.h"

#include "nn/adam.h"

#include <string.h>

static void test_one_step(void) {
    adamw o;
    CHECK(vcn_adamw_init(&o, 3, 0.9f, 0.999f, 1e-8f) == VC_OK);
    CHECK(o.step == 0 && o.m[2] == 0.0f && o.v[1] == 0.0f);
    float p[3] = {1.0f, -2.0f, 0.5f}, g[3] = {0.1f, -0.3f, 2.0f};
    const float lr = 0.01f, wd = 0.1f;
    /* Step 1 by hand: m = 0.1 g, v = 0.001 g^2, mhat = g, vhat = g^2, so the Adam part is
     * g / (|g| + eps) = sign(g) up to eps: a bias-corrected first step moves by ~lr. */
    vcn_adamw_begin_step(&o);
    vcn_adamw_update(&o, p, g, 0, 3, lr, wd);
    /* The hand computation uses the float betas, as stored (0.999f is not 0.999). */
    const double b1 = 0.9f, b2 = 0.999f;
    double p0[3] = {1.0, -2.0, 0.5}, gd[3] = {0.1f, -0.3f, 2.0f};
    for (int i = 0; i < 3; i++) {
        double want = p0[i] - lr * (gd[i] / (fabs(gd[i]) + 1e-8) + wd * p0[i]);
        fprintf(stderr, "step 1: p[%d] %.9g want %.9g (|update| %.6g vs lr %.6g)\n", i, p[i], want,
                fabs(p[i] - p0[i]), (double)lr);
        CHECK_NEAR(p[i], want, 1e-7, 1e-6); /* float rounding of O(1) values */
        CHECK_NEAR(fabs(p[i] - p0[i] + lr * wd * p0[i]), lr, 1e-6, 0.0); /* ~lr, any |g| */
        CHECK_NEAR(o.m[i], (1 - b1) * gd[i], 0.0, 1e-6);
        CHECK_NEAR(o.v[i], (1 - b2) * gd[i] * gd[i], 0.0, 1e-6);
    }
    /* Step 2 by hand, from the moments above. */
    double m[3], v[3], q[3];
    for (int i = 0; i < 3; i++) m[i] = o.m[i], v[i] = o.v[i], q[i] = p[i];
    float g2[3] = {-0.2f, 0.05f, 1.0f};
    vcn_adamw_begin_step(&o);
    vcn_adamw_update(&o, p, g2, 0, 3, lr, wd);
    for (int i = 0; i < 3; i++) {
        double mm = b1 * m[i] + (1 - b1) * g2[i], vv = b2 * v[i] + (1 - b2) * g2[i] * g2[i];
        double mh = mm / (1 - b1 * b1), vh = vv / (1 - b2 * b2);
        double want = q[i] - lr * (mh / (sqrt(vh) + 1e-8) + wd * q[i]);
        CHECK_NEAR(p[i], want, 1e-7, 1e-6);
    }
    vcn_adamw_free(&o);
    vcn_adamw_free(&o); /* a freed (zeroed) struct frees again */
    vcn_adamw_free(NULL);
    CHECK(vcn_adamw_init(&o, 0, 0.9f, 0.999f, 1e-8f) == VC_ERR_ARG);
    CHECK(vcn_adamw_init(&o, 4, 1.0f, 0.999f, 1e-8f) == VC_ERR_ARG);
    CHECK(vcn_adamw_init(NULL, 4, 0.9f, 0.999f, 1e-8f) == VC_ERR_ARG);
}

/* Minimises f(p) = sum_i a_i (p_i - c_i)^2 with very different curvatures a_i. */
static void test_quadratic(void) {
    enum { n = 8 };
    adamw o;
    CHECK(vcn_adamw_init(&o, n, 0.9f, 0.999f, 1e-8f) == VC_OK);
    float p[n], g[n], a[n], c[n];
    for (int i = 0; i < n; i++) {
        p[i] = 0.0f;
        a[i] = powf(10.0f, (float)(i % 4) - 2.0f); /* 0.01 .. 10 */
        c[i] = (float)i - 3.5f;
    }
    double f0 = 0.0, f = 0.0;
    for (int i = 0; i < n; i++) f0 += a[i] * c[i] * c[i];
    for (long s = 0; s < 3000; s++) {
        for (int i = 0; i < n; i++) g[i] = 2.0f * a[i] * (p[i] - c[i]);
        vcn_adamw_begin_step(&o);
        vcn_adamw_update(&o, p, g, 0, n, vcn_lr_schedule(s, 0.1f, 50, 3000, VC_LR_COSINE), 0.0f);
    }
    double maxerr = 0.0;
    for (int i = 0; i < n; i++) {
        f += a[i] * (p[i] - c[i]) * (p[i] - c[i]);
        maxerr = fmax(maxerr, fabs(p[i] - c[i]));
    }
    fprintf(stderr, "quadratic: f %.6g -> %.3g after 3000 steps, max |p - c| %.3g\n", f0, f,
            maxerr);
    CHECK(maxerr < 1e-3); /* cosine decay to 0 lets Adam settle on the minimum */
    vcn_adamw_free(&o);
}

/* Zero gradient: only the decay acts, p *= 1 - lr*wd, and only inside the range given; the other
 * range gets its own decay (here none). */
static void test_weight_decay(void) {
    adamw o;
    CHECK(vcn_adamw_init(&o, 6, 0.9f, 0.999f, 1e-8f) == VC_OK);
    float p[6] = {1, 2, 3, -4, 5, 6}, g[6] = {0};
    const float lr = 0.1f, wd = 0.5f;
    for (int s = 0; s < 3; s++) {
        vcn_adamw_begin_step(&o);
        vcn_adamw_update(&o, p, g, 1, 3, lr, wd); /* p[1..3] */
        vcn_adamw_update(&o, p, g, 4, 2, lr, 0.0f);
    }
    float want[6] = {1, 2, 3, -4, 5, 6};
    for (int i = 1; i < 4; i++) want[i] = (float)(want[i] * pow(1.0 - lr * wd, 3));
    fprintf(stderr, "weight decay: p[1] %.7g after 3 zero-gradient steps (want %.7g)\n", p[1],
            want[1]);
    CHECK(check_tensor("decoupled decay", p, want, 6, 0.0, 1e-6)); /* three float roundings */
    vcn_adamw_free(&o);
}

static void test_clip(void) {
    float g[1000], h[1000];
    double want2 = 0.0;
    for (int i = 0; i < 1000; i++) {
        g[i] = h[i] = 0.01f * (float)((i * 37) % 101 - 50);
        want2 += (double)g[i] * g[i];
    }
    double want = sqrt(want2);
    double norm = vcn_grad_clip_norm(g, 1000, (float)(2.0 * want)); /* below: untouched */
    CHECK_NEAR(norm, want, 0.0, 1e-12);
    CHECK(!memcmp(g, h, sizeof g));
    norm = vcn_grad_clip_norm(g, 1000, 1.0f);         /* above: scaled to norm 1 */
    double after = vcn_grad_clip_norm(g, 1000, 0.0f); /* max_norm 0: measure only */
    fprintf(stderr, "clip: norm %.9g (want %.9g), after clipping to 1: %.9g\n", norm, want, after);
    CHECK_NEAR(norm, want, 0.0, 1e-12);
    CHECK_NEAR(after, 1.0, 0.0, 1e-6); /* float scaling of 1000 values */
    CHECK_NEAR(g[7], h[7] / want, 1e-9, 1e-6);
    h[3] = NAN;
    memcpy(g, h, sizeof g);
    norm = vcn_grad_clip_norm(g, 1000, 1.0f);
    CHECK(isnan(norm));
    CHECK(g[0] == h[0] && g[999] == h[999]); /* left for the caller, who skips the step */
    h[3] = INFINITY;
    CHECK(isinf(vcn_grad_clip_norm(h, 1000, 1.0f)));
    CHECK(vcn_grad_clip_norm(h, 0, 1.0f) == 0.0);
}

static void test_schedule(void) {
    const float base = 1e-3f;
    const long W = 100, Tt = 1100;
    /* Warm-up: (step + 1) / W. */
    CHECK_NEAR(vcn_lr_schedule(0, base, W, Tt, VC_LR_COSINE), base / W, 0.0, 1e-6);
    CHECK_NEAR(vcn_lr_schedule(49, base, W, Tt, VC_LR_COSINE), base / 2, 0.0, 1e-6);
    CHECK_NEAR(vcn_lr_schedule(W, base, W, Tt, VC_LR_COSINE), base, 0.0, 1e-6);
    CHECK_NEAR(vcn_lr_schedule(W + 500, base, W, Tt, VC_LR_COSINE), base / 2, 0.0, 1e-6);
    CHECK_NEAR(vcn_lr_schedule(W + 250, base, W, Tt, VC_LR_COSINE), base * (1 + sqrt(0.5)) / 2, 0.0,
               1e-6);
    CHECK_NEAR(vcn_lr_schedule(Tt, base, W, Tt, VC_LR_COSINE), 0.0, 1e-12, 0.0);
    CHECK_NEAR(vcn_lr_schedule(Tt + 50, base, W, Tt, VC_LR_COSINE), 0.0, 1e-12, 0.0);
    CHECK_NEAR(vcn_lr_schedule(W + 500, base, W, Tt, VC_LR_COSINE_FLOOR), base * 0.55, 0.0, 1e-6);
    CHECK_NEAR(vcn_lr_schedule(Tt, base, W, Tt, VC_LR_COSINE_FLOOR), base * 0.1, 0.0, 1e-6);
    CHECK_NEAR(vcn_lr_schedule(0, base, W, Tt, VC_LR_CONSTANT), base / W, 0.0, 1e-6);
    CHECK_NEAR(vcn_lr_schedule(W + 500, base, W, Tt, VC_LR_CONSTANT), base, 0.0, 0.0);
    CHECK_NEAR(vcn_lr_schedule(Tt * 2, base, W, Tt, VC_LR_CONSTANT), base, 0.0, 0.0);
    CHECK_NEAR(vcn_lr_schedule(0, base, 0, Tt, VC_LR_COSINE), base, 0.0, 1e-6); /* no warm-up */
    CHECK_NEAR(vcn_lr_schedule(500, base, W, W, VC_LR_COSINE), base, 0.0, 0.0); /* no decay span */
    fprintf(stderr,
            "schedule (base 1e-3, warmup 100, total 1100, cosine): step 0 %.4g, 100 %.4g, "
            "600 %.4g, 1100 %.4g; floor kind at 1100 %.4g\n",
            (double)vcn_lr_schedule(0, base, W, Tt, VC_LR_COSINE),
            (double)vcn_lr_schedule(W, base, W, Tt, VC_LR_COSINE),
            (double)vcn_lr_schedule(600, base, W, Tt, VC_LR_COSINE),
            (double)vcn_lr_schedule(Tt, base, W, Tt, VC_LR_COSINE),
            (double)vcn_lr_schedule(Tt, base, W, Tt, VC_LR_COSINE_FLOOR));
}

int main(void) {
    test_one_step();
    test_quadratic();
    test_weight_decay();
    test_clip();
    test_schedule();
    return test_finish();
}
