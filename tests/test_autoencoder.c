/* The classic bottleneck autoencoder, trained end to end with our layers, backward passes and
 * AdamW on a toy signal set: its reconstruction loss must fall at least 10x in a few seconds,
 * and two runs with the same seed must give the same numbers bit for bit.
 *
 *   x (B,1,T) -> conv k5 s2 (16) -> relu -> conv k5 s2 (2)      bottleneck (B,2,T/4): 2x smaller
 *             -> upsample x2 -> conv k5 (16) -> relu -> upsample x2 -> conv k5 (1) -> MSE to x
 *
 * Signals: two sinusoids per example with random amplitude, phase and frequencies from a small
 * set, a few parameters each: learnable through a 2x bottleneck, but not by copying. */
#include "test.h"

#include "nn/act.h"
#include "nn/adam.h"
#include "nn/conv1d.h"
#include "nn/params.h"

#include <string.h>

enum { B = 16, T = 64, H = 16, Z = 2, STEPS = 600 };

static const vc_param_spec table[] = {
    {"enc1.w", 3, {H, 1, 5}, VC_INIT_UNIFORM, 1.0f, 1 * 5, 1},
    {"enc1.b", 1, {H}, VC_INIT_ZEROS, 0.0f, 0, 1},
    {"enc2.w", 3, {Z, H, 5}, VC_INIT_UNIFORM, 1.0f, H * 5, 1},
    {"enc2.b", 1, {Z}, VC_INIT_ZEROS, 0.0f, 0, 1},
    {"dec1.w", 3, {H, Z, 5}, VC_INIT_UNIFORM, 1.0f, Z * 5, 1},
    {"dec1.b", 1, {H}, VC_INIT_ZEROS, 0.0f, 0, 1},
    {"dec2.w", 3, {1, H, 5}, VC_INIT_UNIFORM, 1.0f, H * 5, 1},
    {"dec2.b", 1, {1}, VC_INIT_ZEROS, 0.0f, 0, 1},
};
#define N_PARAMS ((int)(sizeof table / sizeof table[0]))

typedef struct net {
    vc_params p;
    conv1d enc1, enc2, dec1, dec2;
    /* activations and their gradients */
    float x[B * T];                             // (B, 1, T)
    float c1[B * H * T / 2], r1[B * H * T / 2]; // (B, H, T/2)
    float c2[B * Z * T / 4];                    // (B, Z, T/4)
    float u1[B * Z * T / 2];                    // (B, Z, T/2)
    float c3[B * H * T / 2], r3[B * H * T / 2]; // (B, H, T/2)
    float u2[B * H * T];                        // (B, H, T)
    float y[B * T];                             // (B, 1, T)
    float dc1[B * H * T / 2], dr1[B * H * T / 2], dc2[B * Z * T / 4], du1[B * Z * T / 2];
    float dc3[B * H * T / 2], dr3[B * H * T / 2], du2[B * H * T], dy[B * T];
    float *scratch;
} net;

static conv1d bind_conv(vc_params *p, const char *w, const char *b, int stride) {
    int iw = vcn_params_find(p, w), ib = vcn_params_find(p, b);
    VC_ASSERT(iw >= 0 && ib >= 0);
    const vc_param_spec *s = &p->spec[iw];
    conv1d l = {.C = s->shape[1],
                .OC = s->shape[0],
                .K = s->shape[2],
                .stride = stride,
                .dil = 1,
                .pad = 2};
    l.w = vcn_params_data(p, iw);
    l.b = vcn_params_data(p, ib);
    l.dw = vcn_params_grad(p, iw);
    l.db = vcn_params_grad(p, ib);
    return l;
}

/* The reconstruction loss, mean (y - x)^2 (the library's losses are L1; this test's own). */
static double mse(const float *y, const float *x, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += ((double)y[i] - x[i]) * ((double)y[i] - x[i]);
    return s / (double)n;
}

/* Adds its gradient 2 (y - x) / n into dy. */
static void mse_backward(float *dy, const float *y, const float *x, size_t n) {
    float g = (float)(2.0 / (double)n);
    for (size_t i = 0; i < n; i++) dy[i] += g * (y[i] - x[i]);
}

static double forward(net *n) {
    vcn_conv1d_forward(&n->enc1, n->c1, n->x, B, T, n->scratch);
    vcn_relu_forward(n->r1, n->c1, sizeof n->r1 / sizeof(float));
    vcn_conv1d_forward(&n->enc2, n->c2, n->r1, B, T / 2, n->scratch);
    vcn_upsample_forward(n->u1, n->c2, B, Z, T / 4, 2);
    vcn_conv1d_forward(&n->dec1, n->c3, n->u1, B, T / 2, n->scratch);
    vcn_relu_forward(n->r3, n->c3, sizeof n->r3 / sizeof(float));
    vcn_upsample_forward(n->u2, n->r3, B, H, T / 2, 2);
    vcn_conv1d_forward(&n->dec2, n->y, n->u2, B, T, n->scratch);
    return mse(n->y, n->x, B * T);
}

static void backward(net *n) {
    /* Backward adds into every gradient: clear the activations' and the parameters'. */
    memset(n->dc1, 0, sizeof n->dc1), memset(n->dr1, 0, sizeof n->dr1);
    memset(n->dc2, 0, sizeof n->dc2), memset(n->du1, 0, sizeof n->du1);
    memset(n->dc3, 0, sizeof n->dc3), memset(n->dr3, 0, sizeof n->dr3);
    memset(n->du2, 0, sizeof n->du2), memset(n->dy, 0, sizeof n->dy);
    vcn_params_zero_grad(&n->p);
    mse_backward(n->dy, n->y, n->x, B * T);
    vcn_conv1d_backward(&n->dec2, n->du2, n->dy, n->u2, B, T, n->scratch);
    vcn_upsample_backward(n->dr3, n->du2, B, H, T / 2, 2);
    vcn_relu_backward(n->dc3, n->dr3, n->c3, sizeof n->c3 / sizeof(float));
    vcn_conv1d_backward(&n->dec1, n->du1, n->dc3, n->u1, B, T / 2, n->scratch);
    vcn_upsample_backward(n->dc2, n->du1, B, Z, T / 4, 2);
    vcn_conv1d_backward(&n->enc2, n->dr1, n->dc2, n->r1, B, T / 2, n->scratch);
    vcn_relu_backward(n->dc1, n->dr1, n->c1, sizeof n->c1 / sizeof(float));
    vcn_conv1d_backward(&n->enc1, NULL, n->dc1, n->x, B, T, n->scratch);
}

static void make_batch(float *x, vc_rng *rng) {
    static const float freqs[] = {1.0f, 2.0f, 3.0f, 5.0f}; /* cycles per 64 samples */
    for (int b = 0; b < B; b++)
        for (int k = 0; k < 2; k++) {
            float a = 0.3f + 0.4f * vcu_rng_uniform(rng), ph = VC_TWO_PI * vcu_rng_uniform(rng);
            float f = freqs[vcu_rng_u32(rng) % 4];
            for (int t = 0; t < T; t++)
                x[b * T + t] =
                    (k ? x[b * T + t] : 0.0f) + a * sinf(VC_TWO_PI * f * (float)t / (float)T + ph);
        }
}

/* Trains from seed; writes the loss of the first and last steps (mean of 20). */
static void train(uint64_t seed, double *first, double *last) {
    static net n; /* ~200 KB: off the stack */
    memset(&n, 0, sizeof n);
    CHECK(vcn_params_init(&n.p, table, N_PARAMS, 1) == VC_OK);
    vc_rng rng;
    vcu_rng_seed(&rng, seed);
    vcn_params_randomize(&n.p, &rng);
    n.enc1 = bind_conv(&n.p, "enc1.w", "enc1.b", 2);
    n.enc2 = bind_conv(&n.p, "enc2.w", "enc2.b", 2);
    n.dec1 = bind_conv(&n.p, "dec1.w", "dec1.b", 1);
    n.dec2 = bind_conv(&n.p, "dec2.w", "dec2.b", 1);
    size_t scratch = 0;
    const conv1d *layers[] = {&n.enc1, &n.enc2, &n.dec1, &n.dec2};
    const int lengths[] = {T, T / 2, T / 2, T};
    for (int i = 0; i < 4; i++) {
        size_t s = vcn_conv1d_scratch_size(layers[i], B, lengths[i]);
        scratch = s > scratch ? s : scratch;
    }
    n.scratch = malloc(scratch * sizeof(float));
    adamw opt;
    CHECK(vcn_adamw_init(&opt, n.p.total, 0.9f, 0.999f, 1e-8f) == VC_OK);
    double sum_first = 0.0, sum_last = 0.0;
    for (int step = 0; step < STEPS; step++) {
        make_batch(n.x, &rng);
        double loss = forward(&n);
        backward(&n);
        vcn_grad_clip_norm(n.p.grad, n.p.total, 1.0f);
        vcn_adamw_begin_step(&opt);
        vcn_adamw_update(&opt, n.p.data, n.p.grad, 0, n.p.total,
                         vcn_lr_schedule(step, 3e-3f, 20, STEPS, VC_LR_COSINE), 0.0f);
        if (step < 20) sum_first += loss;
        if (step >= STEPS - 20) sum_last += loss;
    }
    *first = sum_first / 20.0;
    *last = sum_last / 20.0;
    vcn_adamw_free(&opt);
    free(n.scratch);
    vcn_params_free(&n.p);
}

int main(void) {
    uint64_t seed = test_seed(1);
    double first, last, first2, last2;
    train(seed, &first, &last);
    fprintf(stderr,
            "autoencoder: loss %.5f over the first 20 steps, %.6f over the last 20 (%.1fx)\n",
            first, last, first / last);
    /* The bar: at least 10x lower after training. */
    CHECK(last * 10.0 <= first);
    /* Same seed, same thread count: the same numbers bit for bit. */
    train(seed, &first2, &last2);
    CHECK(first == first2 && last == last2);
    return test_finish();
}
