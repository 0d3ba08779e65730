/* The spectrogram discriminator (src/model/disc.c): finite-difference checks of its backward
 * (input and every parameter tensor, from the score map and a feature layer), of the
 * generator's loss gradient (LSGAN + feature matching) and of the discriminator's loss
 * gradient; a read-only backward leaves the parameter gradients alone; losses against hand
 * computations; lengths; determinism. */
#include "test.h"

#include "gradcheck.h"
#include "model/disc.h"

#include <string.h>

enum { F = 9, C = 6, B = 2, T = 16, L = VCM_DISC_LAYERS, FEAT = 1 };

static float *alloc(size_t n) {
    float *p = calloc(n, sizeof(float));
    VC_ASSERT(p);
    return p;
}

static size_t numel(const vcm_disc *d, const vcm_disc_ws *ws, int l) {
    return (size_t)ws->Bc * (size_t)d->conv[l].OC * (size_t)ws->Tl[l];
}

/* A discriminator with random weights and small random biases (zero biases would leave the
 * bias gradients' paths through the leaky ReLUs less exercised). */
static void make_disc(vcm_disc *d, vc_rng *rng) {
    CHECK(vcm_disc_init(d, F, C, 1) == VC_OK);
    vcm_disc_randomize(d, rng);
    for (int l = 0; l < L; l++) gc_randn(d->conv[l].b, (size_t)d->conv[l].OC, 0.1f, rng);
}

/* ---- a double-precision reference ----------------------------------------------------------
 *
 * Finite differences of the float forward are unusable here: every weight reaches hundreds of
 * pre-activations, so at a float-friendly eps (1e-3) about one leaky-ReLU kink lies inside
 * [-eps, eps] per coordinate, mostly too small a change of slope for the harness to tell from
 * curvature yet larger than the tolerance. The reference below computes the same network from
 * the definitions in double, so eps can be 1e-6 (still above the float spacing of any |value|
 * < 8, so a perturbation never rounds away); a kink then needs a pre-activation within ~1e-6
 * of 0 (seed 1 has one at 6.8e-6, which eps 1e-5 tripped over; 60 seeds pass at 1e-6). The
 * harness receives L(x) - L(x0), the only thing it uses, so its float output does not round
 * the tiny differences away. */

typedef struct ref_net {
    double *a[L], *h[L - 1]; /* as the workspace's, (B, OC_l, Tl[l]) */
    int Tl[L];
} ref_net;

static void ref_init(ref_net *n) {
    for (int l = 0; l < L; l++) {
        n->a[l] = calloc((size_t)B * C * T, sizeof(double));
        if (l < L - 1) n->h[l] = calloc((size_t)B * C * T, sizeof(double));
        VC_ASSERT(n->a[l] && (l == L - 1 || n->h[l]));
    }
}

static void ref_free(ref_net *n) {
    for (int l = 0; l < L; l++) free(n->a[l]);
    for (int l = 0; l < L - 1; l++) free(n->h[l]);
}

/* x (B, F, T) through the network, straight from conv1d's definition, in double. */
static void ref_forward(const vcm_disc *d, ref_net *n, const float *x) {
    int Tin = T;
    for (int l = 0; l < L; l++) {
        const conv1d *c = &d->conv[l];
        int To = vcn_conv1d_out_len(c, Tin);
        n->Tl[l] = To;
        for (int b = 0; b < B; b++)
            for (int o = 0; o < c->OC; o++)
                for (int t = 0; t < To; t++) {
                    double s = c->b[o];
                    for (int i = 0; i < c->C; i++)
                        for (int k = 0; k < c->K; k++) {
                            int u = t * c->stride + k - c->pad;
                            if (u < 0 || u >= Tin) continue;
                            size_t j = ((size_t)b * c->C + i) * Tin + u;
                            s += (double)c->w[(o * c->C + i) * c->K + k] *
                                 (l ? n->h[l - 1][j] : (double)x[j]);
                        }
                    size_t j = ((size_t)b * c->OC + o) * To + t;
                    n->a[l][j] = s;
                    if (l < L - 1) n->h[l][j] = s > 0.0 ? s : VCM_DISC_SLOPE * s;
                }
        Tin = To;
    }
}

static size_t ref_numel(const vcm_disc *d, const ref_net *n, int l) {
    return (size_t)B * (size_t)d->conv[l].OC * (size_t)n->Tl[l];
}

typedef enum { LOSS_PROJ, LOSS_GEN, LOSS_DISC } loss_kind;

typedef struct fd_ctx {
    const vcm_disc *d;
    loss_kind kind;
    ref_net *real, *fake;
    const float *xr, *xf;
    const double *rs, *rh; /* LOSS_PROJ: projections of the score map and of h[FEAT] */
    double w;              /* LOSS_GEN: the weight */
    double base;           /* the loss at the unperturbed point */
} fd_ctx;

/* The loss from the definitions, in double: LOSS_PROJ sum rs a[L-1] + sum rh h[FEAT] of x_f;
 * LOSS_GEN w (mean (D(fake) - 1)^2 + 2 mean_l mean |h_fake - h_real|); LOSS_DISC
 * mean (D(real) - 1)^2 + mean D(fake)^2. */
static double fd_loss(fd_ctx *k) {
    const vcm_disc *d = k->d;
    ref_net *f = k->fake, *r = k->real;
    ref_forward(d, f, k->xf);
    if (k->kind == LOSS_DISC) ref_forward(d, r, k->xr);
    size_t ns = ref_numel(d, f, L - 1);
    double s = 0.0;
    if (k->kind == LOSS_PROJ) {
        for (size_t i = 0; i < ns; i++) s += k->rs[i] * f->a[L - 1][i];
        size_t nh = ref_numel(d, f, FEAT);
        for (size_t i = 0; i < nh; i++) s += k->rh[i] * f->h[FEAT][i];
        return s;
    }
    if (k->kind == LOSS_DISC) {
        for (size_t i = 0; i < ns; i++)
            s += (r->a[L - 1][i] - 1.0) * (r->a[L - 1][i] - 1.0) + f->a[L - 1][i] * f->a[L - 1][i];
        return s / (double)ns;
    }
    for (size_t i = 0; i < ns; i++) s += (f->a[L - 1][i] - 1.0) * (f->a[L - 1][i] - 1.0);
    double adv = s / (double)ns, fm = 0.0;
    for (int l = 0; l < L - 1; l++) {
        size_t nh = ref_numel(d, f, l);
        double e = 0.0;
        for (size_t i = 0; i < nh; i++) e += fabs(f->h[l][i] - r->h[l][i]);
        fm += e / (double)nh / (L - 1);
    }
    return k->w * (adv + VCM_DISC_FM_WEIGHT * fm);
}

static void fd_forward(void *c, float *out) {
    fd_ctx *k = c;
    out[0] = (float)(fd_loss(k) - k->base);
}

/* Checks grad (n) against finite differences of k's loss in v (n). */
static void fd_check(const char *name, fd_ctx *k, float *v, const float *grad, size_t n,
                     const gc_opts *o, vc_rng *rng) {
    static const float one = 1.0f;
    float out;
    k->base = 0.0;
    k->base = fd_loss(k);
    gc_loss Ls = {fd_forward, k, &out, &one, 1};
    CHECK(gradcheck(name, &Ls, v, grad, n, o, rng));
}

/* Every parameter tensor of d against k's loss. */
static void fd_check_params(const char *prefix, fd_ctx *k, vcm_disc *d, const gc_opts *o,
                            vc_rng *rng) {
    for (int i = 0; i < d->params.n; i++) {
        char tag[96];
        snprintf(tag, sizeof tag, "%s %s", prefix, d->params.spec[i].name);
        fd_check(tag, k, vcn_params_data(&d->params, i), vcn_params_grad(&d->params, i),
                 vcn_param_numel(&d->params.spec[i]), o, rng);
    }
}

/* ---- backward of a projection of the score map and of feature layer FEAT ---------------- */

static void test_backward(vc_rng *rng) {
    vcm_disc d;
    vcm_disc_ws ws;
    ref_net net;
    make_disc(&d, rng);
    CHECK(vcm_disc_ws_init(&ws, &d, B, T) == VC_OK);
    ref_init(&net);
    size_t nx = (size_t)B * F * T;
    float *x = alloc(nx), *dx = alloc(nx), *dx2 = alloc(nx);
    gc_randn(x, nx, 1.0f, rng);
    vcm_disc_forward(&d, &ws, x, B, T);
    CHECK(ws.Tl[0] == T && ws.Tl[1] == T / 2 && ws.Tl[2] == T / 4 && ws.Tl[3] == T / 4);

    /* The forward against the reference: float sums of <= 45 products of O(1) values. */
    ref_forward(&d, &net, x);
    double ferr = 0.0;
    for (int l = 0; l < L; l++) {
        CHECK(net.Tl[l] == ws.Tl[l]);
        for (size_t i = 0; i < numel(&d, &ws, l); i++) {
            ferr = fmax(ferr, fabs(ws.a[l].v[i] - net.a[l][i]));
            if (l < L - 1) ferr = fmax(ferr, fabs(ws.h[l].v[i] - net.h[l][i]));
        }
    }
    fprintf(stderr, "forward: max abs err vs double %.3g\n", ferr);
    CHECK(ferr < 1e-5);

    size_t ns = numel(&d, &ws, L - 1), nh = numel(&d, &ws, FEAT);
    float *rs = alloc(ns), *rh = alloc(nh);
    gc_randn(rs, ns, 1.0f, rng);
    gc_randn(rh, nh, 1.0f, rng);
    double *rsd = calloc(ns, sizeof(double)), *rhd = calloc(nh, sizeof(double));
    VC_ASSERT(rsd && rhd);
    for (size_t i = 0; i < ns; i++) rsd[i] = rs[i];
    for (size_t i = 0; i < nh; i++) rhd[i] = rh[i];

    vcn_params_zero_grad(&d.params);
    vcm_disc_ws_zero_grad(&ws);
    memcpy(ws.a[L - 1].d, rs, ns * sizeof(float));
    memcpy(ws.h[FEAT].d, rh, nh * sizeof(float));
    vcm_disc_backward(&d, &ws, dx, 1);

    /* The loss is piecewise linear in any one coordinate, so central differences in double are
     * exact off kinks; the analytic gradients (O(1)) come from float arithmetic, good to ~1e-6
     * of the largest terms (seen: 6e-7), under atol 1e-4 and rtol 1e-3. Kinks the harness
     * detects may be skipped: up to 5%. */
    const gc_opts o = {1e-6, 1e-4, 1e-3, 200, 0.05};
    fd_ctx k = {.d = &d, .kind = LOSS_PROJ, .fake = &net, .xf = x, .rs = rsd, .rh = rhd};
    fd_check("disc dx", &k, x, dx, nx, &o, rng);
    fd_check_params("disc", &k, &d, &o, rng);

    /* Read-only: the gradient slab (filled with markers) stays exactly as it was, and dx is the
     * same computation as with parameter gradients (conv1d's dinp does not depend on dw). */
    for (size_t i = 0; i < d.params.total; i++) d.params.grad[i] = 0.5f + (float)(i % 7);
    float *gsave = copy_of(d.params.grad, d.params.total);
    vcm_disc_ws_zero_grad(&ws);
    memcpy(ws.a[L - 1].d, rs, ns * sizeof(float));
    memcpy(ws.h[FEAT].d, rh, nh * sizeof(float));
    vcm_disc_backward(&d, &ws, dx2, 0);
    check_tensor("read-only backward: param grads untouched", d.params.grad, gsave, d.params.total,
                 0.0, 0.0);
    check_tensor("read-only backward: dx", dx2, dx, nx, 0.0, 0.0);

    /* Backward adds into dx: a second run gives 2 dx, up to the rounding of adding the taps
     * into a non-zero dx (a few ulp of O(1) values). */
    vcm_disc_ws_zero_grad(&ws);
    memcpy(ws.a[L - 1].d, rs, ns * sizeof(float));
    memcpy(ws.h[FEAT].d, rh, nh * sizeof(float));
    vcm_disc_backward(&d, &ws, dx2, 0);
    for (size_t i = 0; i < nx; i++) dx[i] *= 2.0f;
    check_tensor("backward accumulates into dx", dx2, dx, nx, 1e-6, 1e-6);

    free(x), free(dx), free(dx2), free(rs), free(rh), free(rsd), free(rhd), free(gsave);
    ref_free(&net);
    vcm_disc_ws_free(&ws);
    vcm_disc_free(&d);
}

/* ---- the generator's and the discriminator's losses --------------------------------------- */

static void test_losses(vc_rng *rng) {
    vcm_disc d;
    vcm_disc_ws real, fake;
    ref_net rr, rf;
    make_disc(&d, rng);
    CHECK(vcm_disc_ws_init(&real, &d, B, T) == VC_OK);
    CHECK(vcm_disc_ws_init(&fake, &d, B, T) == VC_OK);
    ref_init(&rr);
    ref_init(&rf);
    size_t nx = (size_t)B * F * T;
    float *xr = alloc(nx), *xf = alloc(nx), *dfake = alloc(nx);
    gc_randn(xr, nx, 1.0f, rng);
    gc_randn(xf, nx, 1.0f, rng);
    const float w = 0.7f;
    vcm_disc_forward(&d, &real, xr, B, T);
    vcm_disc_forward(&d, &fake, xf, B, T);

    /* The generator: losses against the definitions (in double on the workspace's floats, in
     * nearly the same order: 1e-12 relative), then dfake by finite differences. */
    vcn_params_zero_grad(&d.params);
    vcm_adv_losses lo = {-1.0, -1.0, 0.0, 0.0};
    vcm_disc_generator_backward(&d, &real, &fake, w, dfake, &lo);
    CHECK(lo.d_real == -1.0 && lo.d_fake == -1.0); /* not its business */
    size_t ns = numel(&d, &fake, L - 1);
    double adv = 0.0, fm = 0.0;
    for (size_t i = 0; i < ns; i++)
        adv += ((double)fake.a[L - 1].v[i] - 1.0) * ((double)fake.a[L - 1].v[i] - 1.0);
    for (int l = 0; l < L - 1; l++) {
        size_t nh = numel(&d, &fake, l);
        double s = 0.0;
        for (size_t i = 0; i < nh; i++) s += fabs((double)fake.h[l].v[i] - real.h[l].v[i]);
        fm += s / (double)nh / (L - 1);
    }
    CHECK_NEAR(lo.g_adv, adv / (double)ns, 0.0, 1e-12);
    CHECK_NEAR(lo.g_fm, fm, 0.0, 1e-12);
    CHECK(lo.g_adv > 0.0 && lo.g_fm > 0.0);
    int zero = 1; /* the discriminator is only read */
    for (size_t i = 0; i < d.params.total; i++) zero &= d.params.grad[i] == 0.0f;
    CHECK(zero);

    /* Piecewise quadratic in one input (squares of piecewise linear scores, absolute values of
     * piecewise linear features): central differences in double are exact off kinks. The
     * gradients are ~1e-3 (means over the maps), their float error ~1e-9 (seen: 7e-10). */
    ref_forward(&d, &rr, xr); /* the real features: constants */
    const gc_opts og = {1e-6, 1e-7, 1e-3, 288, 0.05};
    fd_ctx kg = {.d = &d, .kind = LOSS_GEN, .real = &rr, .fake = &rf, .xf = xf, .w = w};
    fd_check("generator dfake", &kg, xf, dfake, nx, &og, rng);

    /* Adds into dfake: a second call gives twice, up to rounding of the added taps. */
    float *d1 = copy_of(dfake, nx);
    vcm_disc_forward(&d, &fake, xf, B, T);
    vcm_disc_generator_backward(&d, &real, &fake, w, dfake, &lo);
    for (size_t i = 0; i < nx; i++) d1[i] *= 2.0f;
    check_tensor("generator adds into dfake", dfake, d1, nx, 1e-8, 1e-6);

    /* The discriminator: losses against the definitions, parameters by finite differences. */
    vcm_disc_forward(&d, &real, xr, B, T);
    vcm_disc_forward(&d, &fake, xf, B, T);
    vcn_params_zero_grad(&d.params);
    vcm_adv_losses ld = {0.0, 0.0, -1.0, -1.0};
    vcm_disc_backward_loss(&d, &real, &fake, &ld);
    CHECK(ld.g_adv == -1.0 && ld.g_fm == -1.0);
    double dr = 0.0, df = 0.0;
    for (size_t i = 0; i < ns; i++) {
        dr += ((double)real.a[L - 1].v[i] - 1.0) * ((double)real.a[L - 1].v[i] - 1.0);
        df += (double)fake.a[L - 1].v[i] * fake.a[L - 1].v[i];
    }
    CHECK_NEAR(ld.d_real, dr / (double)ns, 0.0, 1e-12);
    CHECK_NEAR(ld.d_fake, df / (double)ns, 0.0, 1e-12);
    /* As above, in each parameter; gradients ~1e-2, float error ~1e-8 (seen: 4e-8). */
    const gc_opts od = {1e-6, 1e-6, 1e-3, 200, 0.05};
    fd_ctx kd = {.d = &d, .kind = LOSS_DISC, .real = &rr, .fake = &rf, .xr = xr, .xf = xf};
    fd_check_params("d-loss", &kd, &d, &od, rng);

    free(xr), free(xf), free(dfake), free(d1);
    ref_free(&rr);
    ref_free(&rf);
    vcm_disc_ws_free(&real);
    vcm_disc_ws_free(&fake);
    vcm_disc_free(&d);
}

/* A case computed by hand: weights 0 except conv0's tap from bin 0 to channel 0 at the centre
 * (1), conv3's bias 0.5. Then the score is 0.5 everywhere (d_real = d_fake = g_adv = 0.25), and
 * the features differ only in h[0]'s channel 0: lrelu(1) = 1 for real x = 1, lrelu(-1) = -0.2
 * for fake x = -1, so g_fm = (1.2 / C) / 3. */
static void test_hand(void) {
    vcm_disc d;
    vcm_disc_ws real, fake;
    CHECK(vcm_disc_init(&d, F, C, 1) == VC_OK);
    CHECK(vcm_disc_ws_init(&real, &d, B, T) == VC_OK);
    CHECK(vcm_disc_ws_init(&fake, &d, B, T) == VC_OK);
    d.conv[0].w[(0 * F + 0) * 5 + 2] = 1.0f;
    d.conv[L - 1].b[0] = 0.5f;
    size_t nx = (size_t)B * F * T;
    float *xr = alloc(nx), *xf = alloc(nx), *dfake = alloc(nx);
    for (size_t i = 0; i < nx; i++) xr[i] = 1.0f, xf[i] = -1.0f;
    vcm_disc_forward(&d, &real, xr, B, T);
    vcm_disc_forward(&d, &fake, xf, B, T);
    vcm_adv_losses lo;
    vcm_disc_generator_backward(&d, &real, &fake, 1.0f, dfake, &lo);
    vcm_disc_backward_loss(&d, &real, &fake, &lo);
    CHECK(lo.d_real == 0.25 && lo.d_fake == 0.25 && lo.g_adv == 0.25);
    CHECK_NEAR(lo.g_fm, 1.2 / C / 3.0, 1e-7, 0.0); /* 1.2f - the float -0.2f: 1e-8 */
    /* dfake: only bin 0 gets a gradient, through h[0] channel 0 at slope 0.2: feature matching
     * pulls h_fake up (sign -1), d g_fm / d h = -1 / (n_h0 (L-1)), times FM weight 2. */
    double want = -VCM_DISC_FM_WEIGHT / (double)(L - 1) / ((double)B * C * T) * VCM_DISC_SLOPE;
    CHECK_NEAR(dfake[0], want, 0.0, 1e-6);
    CHECK(dfake[T] == 0.0f); /* bin 1 */
    free(xr), free(xf), free(dfake);
    vcm_disc_ws_free(&real);
    vcm_disc_ws_free(&fake);
    vcm_disc_free(&d);
}

static void test_shapes_and_init(void) {
    vcm_disc d, d2;
    CHECK(vcm_disc_init(NULL, F, C, 0) == VC_ERR_ARG);
    CHECK(vcm_disc_init(&d, 0, C, 0) == VC_ERR_ARG);
    CHECK(vcm_disc_init(&d, F, 0, 0) == VC_ERR_ARG);
    vcm_disc_free(&d); /* zeroed by the failed init */
    vcm_disc_free(NULL);
    vcm_disc_ws_free(NULL);

    CHECK(vcm_disc_init(&d, F, C, 0) == VC_OK);
    CHECK(d.params.grad == NULL);
    CHECK(vcn_params_find(&d.params, "disc.conv0.w") == 0);
    CHECK(vcn_params_find(&d.params, "disc.conv3.b") == 2 * L - 1);
    CHECK(d.params.spec[0].shape[0] == C && d.params.spec[0].shape[1] == F &&
          d.params.spec[0].shape[2] == 5);
    CHECK(d.params.spec[6].shape[0] == 1 && d.params.spec[6].shape[2] == 3);
    /* score map: ceil(ceil(T / 2) / 2) */
    CHECK(vcm_disc_score_len(&d, 128) == 32);
    CHECK(vcm_disc_score_len(&d, 16) == 4);
    CHECK(vcm_disc_score_len(&d, 15) == 4);
    CHECK(vcm_disc_score_len(&d, 13) == 4);
    CHECK(vcm_disc_score_len(&d, 1) == 1);
    CHECK(vcm_disc_layer_len(&d, 1, 15) == 8);

    vcm_disc_ws ws;
    CHECK(vcm_disc_ws_init(&ws, &d, 0, T) == VC_ERR_ARG);
    CHECK(vcm_disc_ws_init(&ws, &d, B, 0) == VC_ERR_ARG);
    vcm_disc_ws_free(&ws);

    /* Same seed, same parameters, bit for bit; biases start at 0. */
    vc_rng r1, r2;
    vcu_rng_seed(&r1, 42);
    vcu_rng_seed(&r2, 42);
    CHECK(vcm_disc_init(&d2, F, C, 1) == VC_OK);
    vcm_disc_randomize(&d, &r1);
    vcm_disc_randomize(&d2, &r2);
    CHECK(d.params.total == d2.params.total);
    CHECK(memcmp(d.params.data, d2.params.data, d.params.total * sizeof(float)) == 0);
    for (int l = 0; l < L; l++) CHECK(d.conv[l].b[0] == 0.0f);
    /* U(+-1/sqrt(fan_in)) */
    float bound = 1.0f / sqrtf((float)(F * 5)), wmax = 0.0f;
    for (int i = 0; i < C * F * 5; i++) wmax = fmaxf(wmax, fabsf(d.conv[0].w[i]));
    CHECK(wmax <= bound && wmax > 0.5f * bound);

    /* A smaller forward in a larger workspace (B 1, T 13 in a (2, 16) one) gives what a
     * workspace of its own size gives, and the same run twice is bit-identical. */
    vcm_disc_ws big, small;
    CHECK(vcm_disc_ws_init(&big, &d, B, T) == VC_OK);
    CHECK(vcm_disc_ws_init(&small, &d, 1, 13) == VC_OK);
    float x[F * 13];
    vc_rng r3;
    vcu_rng_seed(&r3, 7);
    gc_randn(x, F * 13, 1.0f, &r3);
    vcm_disc_forward(&d, &big, x, 1, 13);
    vcm_disc_forward(&d, &small, x, 1, 13);
    CHECK(big.Tl[L - 1] == 4 && small.Tl[L - 1] == 4);
    check_tensor("smaller forward", big.a[L - 1].v, small.a[L - 1].v, 4, 0.0, 0.0);
    float s1[4];
    memcpy(s1, small.a[L - 1].v, sizeof s1);
    vcm_disc_forward(&d, &small, x, 1, 13);
    check_tensor("forward repeatable", small.a[L - 1].v, s1, 4, 0.0, 0.0);
    vcm_disc_ws_free(&big);
    vcm_disc_ws_free(&small);
    vcm_disc_free(&d);
    vcm_disc_free(&d2);
}

int main(void) {
    vc_rng rng;
    vcu_rng_seed(&rng, test_seed(1));
    test_shapes_and_init();
    test_hand();
    test_backward(&rng);
    test_losses(&rng);
    return test_finish();
}
