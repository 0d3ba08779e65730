/* Finite-difference gradient checks, shared by every layer test.
 *
 * The scalar loss is a random projection of a layer's output, L = sum_i r_i * out_i, summed in
 * double. Its gradient with respect to the output is r itself, so a test seeds backward with
 * dout = r and compares the analytic gradient of any variable x (an input or a parameter)
 * against central differences (L(x + eps) - L(x - eps)) / 2 eps at up to max_coords randomly
 * chosen coordinates.
 *
 * Non-smooth points (a ReLU kink, a VQ argmin flip, the |x| of an L1 loss) make a central
 * difference meaningless. They are detected, not hidden: a coordinate whose one-sided
 * differences (L(x+eps) - L(x)) / eps and (L(x) - L(x-eps)) / eps disagree by more than half
 * their size is counted as a kink and skipped, and the check fails if more than max_kink_share
 * of the sampled coordinates are kinks.
 *
 * Include after test.h. */
#ifndef VC_GRADCHECK_H
#define VC_GRADCHECK_H

#include "common.h"

#include <math.h>
#include <stdio.h>

/* Recomputes the layer's output into out from the current variables (the harness perturbs a
 * variable in place, calls this, and restores it). */
typedef void (*gc_forward_fn)(void *ctx, float *out);

typedef struct gc_loss {
    gc_forward_fn forward;
    void *ctx;
    float *out;     // (n_out) scratch the forward writes
    const float *r; // (n_out) projection, also the dout to seed backward with
    size_t n_out;
} gc_loss;

static inline double gc_eval(const gc_loss *L) {
    L->forward(L->ctx, L->out);
    double s = 0.0;
    for (size_t i = 0; i < L->n_out; i++) s += (double)L->r[i] * (double)L->out[i];
    return s;
}

typedef struct gc_opts {
    double eps;            /* perturbation */
    double atol, rtol;     /* |fd - analytic| <= atol + rtol * max(|fd|, |analytic|) */
    int max_coords;        /* coordinates sampled (all if n is smaller) */
    double max_kink_share; /* share of sampled coordinates allowed to be skipped as kinks */
} gc_opts;

/* Compares grad (n) with finite differences of L with respect to x (n). Prints one line with
 * the worst error; returns 1 if the check passed. */
static inline int gradcheck(const char *name, const gc_loss *L, float *x, const float *grad,
                            size_t n, const gc_opts *o, vc_rng *rng) {
    int coords = (size_t)o->max_coords < n ? o->max_coords : (int)n;
    int kinks = 0, bad = 0;
    double worst = 0.0, worst_fd = 0.0, worst_an = 0.0;
    size_t worst_i = 0;
    double L0 = gc_eval(L);
    for (int c = 0; c < coords; c++) {
        size_t i = coords == (int)n ? (size_t)c : (size_t)(vc_rng_u32(rng) % (uint32_t)n);
        float saved = x[i];
        x[i] = saved + (float)o->eps;
        double Lp = gc_eval(L);
        x[i] = saved - (float)o->eps;
        double Lm = gc_eval(L);
        x[i] = saved;
        /* The perturbation actually applied after rounding to float. */
        double hp = (double)(saved + (float)o->eps) - saved;
        double hm = saved - (double)(saved - (float)o->eps);
        double dp = (Lp - L0) / hp, dm = (L0 - Lm) / hm;
        if (fabs(dp - dm) > 0.5 * (fabs(dp) + fabs(dm)) + o->atol) {
            kinks++;
            continue;
        }
        double fd = (Lp - Lm) / (hp + hm), an = grad[i];
        double err = fabs(fd - an), allowed = o->atol + o->rtol * fmax(fabs(fd), fabs(an));
        if (err > allowed) bad++;
        if (err - allowed > worst) {
            worst = err - allowed;
            worst_fd = fd;
            worst_an = an;
            worst_i = i;
        }
    }
    int kinks_ok = kinks <= o->max_kink_share * coords;
    int ok = bad == 0 && kinks_ok;
    fprintf(stderr, "gradcheck %-28s %s: %d coords, %d kinks skipped, %d bad", name,
            ok ? "ok" : "FAILED", coords, kinks, bad);
    if (bad) fprintf(stderr, " (worst at %zu: fd %.6g analytic %.6g)", worst_i, worst_fd, worst_an);
    if (!kinks_ok) fprintf(stderr, " (too many kinks)");
    fputc('\n', stderr);
    return ok;
}

/* Fills v (n) with N(0, scale^2) from rng. */
static inline void gc_randn(float *v, size_t n, float scale, vc_rng *rng) {
    for (size_t i = 0; i < n; i++) v[i] = scale * vc_rng_normal(rng);
}

#endif
