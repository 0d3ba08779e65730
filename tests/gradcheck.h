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
 * differences disagree in a way that does not shrink with eps is counted as a kink and skipped
 * (see gradcheck), and the check fails if more than max_kink_share of the sampled coordinates
 * are kinks.
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

/* One-sided differences (L(x+h) - L(x)) / h and (L(x) - L(x-h)) / h at coordinate i, with h
 * the perturbation actually applied after rounding to float. */
static inline void gc_one_sided(const gc_loss *L, float *x, size_t i, double eps, double L0,
                                double *dp, double *dm) {
    float saved = x[i];
    x[i] = saved + (float)eps;
    double hp = (double)x[i] - saved, Lp = gc_eval(L);
    x[i] = saved - (float)eps;
    double hm = saved - (double)x[i], Lm = gc_eval(L);
    x[i] = saved;
    *dp = (Lp - L0) / hp;
    *dm = (L0 - Lm) / hm;
}

/* Compares grad (n) with finite differences of L with respect to x (n). Prints one line with
 * the largest error; returns 1 if the check passed.
 *
 * Kinks: for a smooth L the one-sided differences differ by about h * L'', so the gap halves
 * each time h does. Across a kink at distance u * h the gap is the jump in slope times
 * (1 - u), or 0 once the kink lies outside [-h, h]; no kink position makes it halve twice in a
 * row. A coordinate whose gap at eps is large for its slope is measured again at eps / 2 and
 * eps / 4: if both ratios are near 0.5 it is smooth (typically a near-zero gradient with some
 * curvature) and the central difference at eps stands; otherwise it is a kink and skipped. */
static inline int gradcheck(const char *name, const gc_loss *L, float *x, const float *grad,
                            size_t n, const gc_opts *o, vc_rng *rng) {
    int coords = (size_t)o->max_coords < n ? o->max_coords : (int)n;
    int kinks = 0, bad = 0;
    double worst_abs = 0.0, worst_rel = 0.0, worst = 0.0, worst_fd = 0.0, worst_an = 0.0;
    size_t worst_i = 0;
    double L0 = gc_eval(L);
    for (int c = 0; c < coords; c++) {
        size_t i = coords == (int)n ? (size_t)c : (size_t)(vcu_rng_u32(rng) % (uint32_t)n);
        double dp, dm;
        gc_one_sided(L, x, i, o->eps, L0, &dp, &dm);
        double gap = fabs(dp - dm);
        if (gap > 0.5 * (fabs(dp) + fabs(dm)) + o->atol) {
            double dp2, dm2, dp4, dm4;
            gc_one_sided(L, x, i, 0.5 * o->eps, L0, &dp2, &dm2);
            gc_one_sided(L, x, i, 0.25 * o->eps, L0, &dp4, &dm4);
            double gap2 = fabs(dp2 - dm2), r1 = gap2 / gap;
            double r2 = gap2 > 0.0 ? fabs(dp4 - dm4) / gap2 : 0.0;
            if (!(r1 > 0.35 && r1 < 0.65 && r2 > 0.35 && r2 < 0.65)) {
                kinks++;
                continue;
            }
        }
        double fd = 0.5 * (dp + dm), an = grad[i];
        double err = fabs(fd - an), allowed = o->atol + o->rtol * fmax(fabs(fd), fabs(an));
        if (err > allowed) bad++;
        if (err > worst_abs) worst_abs = err;
        if (fmax(fabs(fd), fabs(an)) > o->atol && err / fmax(fabs(fd), fabs(an)) > worst_rel)
            worst_rel = err / fmax(fabs(fd), fabs(an));
        if (err - allowed > worst) {
            worst = err - allowed;
            worst_fd = fd;
            worst_an = an;
            worst_i = i;
        }
    }
    int kinks_ok = kinks <= o->max_kink_share * coords;
    int ok = bad == 0 && kinks_ok;
    fprintf(stderr,
            "gradcheck %-28s %s: %d coords, %d kinks skipped, %d bad, max abs err %.2g, max rel "
            "err %.2g",
            name, ok ? "ok" : "FAILED", coords, kinks, bad, worst_abs, worst_rel);
    if (bad) fprintf(stderr, " (worst at %zu: fd %.6g analytic %.6g)", worst_i, worst_fd, worst_an);
    if (!kinks_ok) fprintf(stderr, " (too many kinks)");
    fputc('\n', stderr);
    return ok;
}

/* Fills v (n) with N(0, scale^2) from rng. */
static inline void gc_randn(float *v, size_t n, float scale, vc_rng *rng) {
    for (size_t i = 0; i < n; i++) v[i] = scale * vcu_rng_normal(rng);
}

#endif
