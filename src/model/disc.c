/* The spectrogram discriminator and its LSGAN + feature-matching losses; see disc.h. */
#include "model/disc.h"

#include "nn/act.h"
#include "nn/loss.h"

#include <stdio.h>
#include <string.h>

enum { L = VCM_DISC_LAYERS };

/* Kernel, stride, padding of each conv; in-channels F then C, out-channels C then 1. */
static const int disc_K[L] = {5, 5, 5, 3};
static const int disc_stride[L] = {1, 2, 2, 1};
static const int disc_pad[L] = {2, 2, 2, 1};

static void set_row(vc_param_spec *s, int l, const char *suffix, int ndim, const int *shape,
                    vc_init_kind init, int fan_in) {
    memset(s, 0, sizeof *s);
    int len = snprintf(s->name, sizeof s->name, "disc.conv%d.%s", l, suffix);
    VC_ASSERT(len > 0 && len < (int)sizeof s->name);
    s->ndim = ndim;
    for (int i = 0; i < ndim; i++) s->shape[i] = shape[i];
    s->init = init;
    s->scale = init == VC_INIT_UNIFORM ? 1.0f : 0.0f;
    s->fan_in = fan_in;
    s->trainable = 1;
}

vc_status vcm_disc_init(vcm_disc *d, int F, int C, int with_grad) {
    if (!d) return VC_ERR_ARG;
    memset(d, 0, sizeof *d);
    if (F < 1 || C < 1) return VC_ERR_ARG;
    d->F = F;
    d->C = C;
    for (int l = 0; l < L; l++) {
        int ic = l ? C : F, oc = l == L - 1 ? 1 : C, K = disc_K[l];
        d->conv[l] = (conv1d){
            .C = ic, .OC = oc, .K = K, .stride = disc_stride[l], .dil = 1, .pad = disc_pad[l]};
        set_row(&d->spec[2 * l], l, "w", 3, (const int[]){oc, ic, K}, VC_INIT_UNIFORM, ic * K);
        set_row(&d->spec[2 * l + 1], l, "b", 1, (const int[]){oc}, VC_INIT_ZEROS, 0);
    }
    vc_status st = vcn_params_init(&d->params, d->spec, 2 * L, with_grad);
    if (st != VC_OK) {
        vcm_disc_free(d);
        return st;
    }
    for (int l = 0; l < L; l++) {
        conv1d *c = &d->conv[l];
        c->w = vcn_params_data(&d->params, 2 * l);
        c->b = vcn_params_data(&d->params, 2 * l + 1);
        c->dw = vcn_params_grad(&d->params, 2 * l);
        c->db = vcn_params_grad(&d->params, 2 * l + 1);
    }
    return VC_OK;
}

void vcm_disc_randomize(vcm_disc *d, vc_rng *rng) {
    vcn_params_randomize(&d->params, rng);
}

void vcm_disc_free(vcm_disc *d) {
    if (!d) return;
    vcn_params_free(&d->params);
    memset(d, 0, sizeof *d);
}

int vcm_disc_layer_len(const vcm_disc *d, int l, int T) {
    VC_ASSERT(l >= 0 && l < L);
    for (int i = 0; i <= l && T > 0; i++) T = vcn_conv1d_out_len(&d->conv[i], T);
    return T;
}

int vcm_disc_score_len(const vcm_disc *d, int T) {
    return vcm_disc_layer_len(d, L - 1, T);
}

/* Floats of layer l's output (B, OC_l, Tl). */
static size_t layer_numel(const vcm_disc *d, int l, int B, int Tl) {
    return (size_t)B * (size_t)d->conv[l].OC * (size_t)Tl;
}

vc_status vcm_disc_ws_init(vcm_disc_ws *ws, const vcm_disc *d, int B, int T) {
    if (!ws) return VC_ERR_ARG;
    memset(ws, 0, sizeof *ws);
    if (!d || B < 1 || T < 1 || vcm_disc_score_len(d, T) < 1) return VC_ERR_ARG;
    ws->B = B;
    ws->T = T;
    /* a[l] for every layer and h[l] beside the hidden ones; lengths only shrink with T, so the
     * capacity's layout serves any smaller forward. */
    size_t n = 0, scratch = 0;
    int Tin = T;
    for (int l = 0; l < L; l++) {
        int Tl = vcn_conv1d_out_len(&d->conv[l], Tin);
        size_t s = vcn_conv1d_scratch_size(&d->conv[l], B, Tin);
        if (s > scratch) scratch = s;
        n += layer_numel(d, l, B, Tl) * (l < L - 1 ? 2 : 1);
        Tin = Tl;
    }
    ws->n_act = n;
    ws->n_scratch = scratch;
    ws->vslab = calloc(n, sizeof(float));
    ws->dslab = calloc(n, sizeof(float));
    ws->scratch = calloc(scratch ? scratch : 1, sizeof(float));
    if (!ws->vslab || !ws->dslab || !ws->scratch) {
        vcm_disc_ws_free(ws);
        return VC_ERR_NOMEM;
    }
    size_t off = 0;
    Tin = T;
    for (int l = 0; l < L; l++) {
        int Tl = vcn_conv1d_out_len(&d->conv[l], Tin);
        size_t k = layer_numel(d, l, B, Tl);
        ws->a[l] = (vcm_act){ws->vslab + off, ws->dslab + off};
        off += k;
        if (l < L - 1) {
            ws->h[l] = (vcm_act){ws->vslab + off, ws->dslab + off};
            off += k;
        }
        Tin = Tl;
    }
    VC_ASSERT(off == n);
    return VC_OK;
}

void vcm_disc_ws_free(vcm_disc_ws *ws) {
    if (!ws) return;
    free(ws->vslab);
    free(ws->dslab);
    free(ws->scratch);
    memset(ws, 0, sizeof *ws);
}

void vcm_disc_ws_zero_grad(vcm_disc_ws *ws) {
    memset(ws->dslab, 0, ws->n_act * sizeof(float));
}

void vcm_disc_forward(const vcm_disc *d, vcm_disc_ws *ws, const float *x, int B, int T) {
    VC_ASSERT(x && B >= 1 && B <= ws->B && T >= 1 && T <= ws->T);
    ws->Bc = B;
    ws->Tc = T;
    ws->x = x;
    const float *in = x;
    int Tin = T;
    for (int l = 0; l < L; l++) {
        int Tl = vcn_conv1d_out_len(&d->conv[l], Tin);
        ws->Tl[l] = Tl;
        vcn_conv1d_forward(&d->conv[l], ws->a[l].v, in, B, Tin, ws->scratch);
        if (l == L - 1) break;
        vcn_lrelu_forward(ws->h[l].v, ws->a[l].v, layer_numel(d, l, B, Tl), VCM_DISC_SLOPE);
        in = ws->h[l].v;
        Tin = Tl;
    }
}

void vcm_disc_backward(const vcm_disc *d, vcm_disc_ws *ws, float *dx, int param_grads) {
    int B = ws->Bc;
    VC_ASSERT(B >= 1 && ws->x);
    VC_ASSERT(!param_grads || d->params.grad);
    for (int l = L - 1; l >= 0; l--) {
        /* a read-only copy: the same weights without gradient pointers */
        conv1d k = d->conv[l];
        if (!param_grads) k.dw = k.db = NULL;
        int Tin = l ? ws->Tl[l - 1] : ws->Tc;
        const float *in = l ? ws->h[l - 1].v : ws->x;
        float *din = l ? ws->h[l - 1].d : dx;
        if (!din && !param_grads) break; /* nothing below is wanted */
        vcn_conv1d_backward(&k, din, ws->a[l].d, in, B, Tin, ws->scratch);
        if (l == 0) break;
        size_t n = layer_numel(d, l - 1, B, Tin);
        memset(ws->a[l - 1].d, 0, n * sizeof(float));
        vcn_lrelu_backward(ws->a[l - 1].d, ws->h[l - 1].d, ws->a[l - 1].v, n, VCM_DISC_SLOPE);
    }
}

/* mean (s - target)^2 over the score map (n floats), in double in index order; its gradient
 * scale * 2 (s - target) / n is written into ds. */
static double ls_loss(float *ds, const float *s, size_t n, float target, float scale) {
    double sum = 0.0;
    float g = (float)(2.0 * (double)scale / (double)n);
    for (size_t i = 0; i < n; i++) {
        double e = (double)s[i] - (double)target;
        sum += e * e;
        ds[i] = g * (s[i] - target);
    }
    return sum / (double)n;
}

static void check_pair(const vcm_disc_ws *real, const vcm_disc_ws *fake) {
    VC_ASSERT(real->Bc >= 1 && real->Bc == fake->Bc && real->Tc == fake->Tc);
}

void vcm_disc_generator_backward(const vcm_disc *d, vcm_disc_ws *real, vcm_disc_ws *fake, float w,
                                 float *dfake, vcm_adv_losses *out) {
    check_pair(real, fake);
    VC_ASSERT(dfake);
    int B = fake->Bc;
    vcm_disc_ws_zero_grad(fake);
    out->g_adv = ls_loss(fake->a[L - 1].d, fake->a[L - 1].v,
                         layer_numel(d, L - 1, B, fake->Tl[L - 1]), 1.0f, w);
    /* Each feature layer's mean |h_fake - h_real| weighs 1 / (L - 1) of g_fm. */
    float wl = w * VCM_DISC_FM_WEIGHT / (float)(L - 1);
    double fm = 0.0;
    for (int l = 0; l < L - 1; l++) {
        size_t n = layer_numel(d, l, B, fake->Tl[l]);
        fm += vcn_l1_loss(fake->h[l].v, real->h[l].v, n);
        vcn_l1_loss_backward(fake->h[l].d, fake->h[l].v, real->h[l].v, n, wl);
    }
    out->g_fm = fm / (double)(L - 1);
    vcm_disc_backward(d, fake, dfake, 0);
}

void vcm_disc_backward_loss(const vcm_disc *d, vcm_disc_ws *real, vcm_disc_ws *fake,
                            vcm_adv_losses *out) {
    check_pair(real, fake);
    int B = real->Bc;
    size_t n = layer_numel(d, L - 1, B, real->Tl[L - 1]);
    vcm_disc_ws_zero_grad(real);
    vcm_disc_ws_zero_grad(fake);
    out->d_real = ls_loss(real->a[L - 1].d, real->a[L - 1].v, n, 1.0f, 1.0f);
    out->d_fake = ls_loss(fake->a[L - 1].d, fake->a[L - 1].v, n, 0.0f, 1.0f);
    vcm_disc_backward(d, real, NULL, 1);
    vcm_disc_backward(d, fake, NULL, 1);
}

void vcm_disc_pass(vcm_disc *d, vcm_disc_ws *real, vcm_disc_ws *fake, const float *x_real,
                   const float *x_fake, int B, int T, float w, float *dfake, vcm_adv_losses *out) {
    vcn_params_zero_grad(&d->params);
    vcm_disc_forward(d, real, x_real, B, T);
    vcm_disc_forward(d, fake, x_fake, B, T);
    vcm_disc_generator_backward(d, real, fake, w, dfake, out);
    vcm_disc_backward_loss(d, real, fake, out);
}
