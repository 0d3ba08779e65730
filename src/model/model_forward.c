/* Forward and backward passes of the model and the inference entry points; see model.h. */
#include "model/model.h"

#include "nn/act.h"
#include "nn/loss.h"

#include <string.h>

/* The hidden layers' activation (config.h: ReLU for the model, GELU for the gradient check).
 * Both forwards may run in place; the backwards read the activation's input. */
static void act_forward(const vcm_config *c, float *out, const float *inp, size_t n) {
    if (c->activation == VCM_ACT_GELU)
        vcn_gelu_forward(out, inp, n);
    else
        vcn_relu_forward(out, inp, n);
}

static void act_backward(const vcm_config *c, float *dinp, const float *dout, const float *inp,
                         size_t n) {
    if (c->activation == VCM_ACT_GELU)
        vcn_gelu_backward(dinp, dout, inp, n);
    else
        vcn_relu_backward(dinp, dout, inp, n);
}

/* Instance norm of the content encoder (no affine); over a sliding window at inference when
 * the workspace asks for one (window frames at the frame rate, half that at half rate). */
static void content_norm(const vcm_model *m, vcm_workspace *ws, float *out, float *mean,
                         float *rstd, const float *inp, int B, int T, int window) {
    if (ws->norm_window > 0)
        vcn_norm_local_forward(out, inp, NULL, NULL, B, m->cfg.channels, T, window, VCM_NORM_EPS,
                               ws->norm_scratch);
    else
        vcn_instnorm_forward(&m->inorm, out, mean, rstd, inp, B, T);
}

/* x (B, M, T) -> ws->z (B, D, T/2). */
static void content_forward(const vcm_model *m, vcm_workspace *ws, const float *x, int B, int T) {
    size_t nC = (size_t)B * (size_t)m->cfg.channels * (size_t)T;
    int T2 = T / 2;
    vcn_conv1d_forward(&m->c_in, ws->c_a.v, x, B, T, ws->scratch);
    content_norm(m, ws, ws->c_n.v, ws->c_mean, ws->c_rstd, ws->c_a.v, B, T, ws->norm_window);
    act_forward(&m->cfg, ws->c_h.v, ws->c_n.v, nC);
    const float *h = ws->c_h.v; // (B, C, T)
    for (int i = 0; i < m->cfg.res_blocks; i++) {
        vcm_res_ws *r = &ws->res[i];
        vcn_conv1d_forward(&m->c_res[i], r->a.v, h, B, T, ws->scratch);
        content_norm(m, ws, r->n.v, r->mean, r->rstd, r->a.v, B, T, ws->norm_window);
        act_forward(&m->cfg, r->r.v, r->n.v, nC);
        vcn_add_forward(r->h.v, h, r->r.v, nC);
        h = r->h.v;
    }
    vcn_conv1d_forward(&m->c_down, ws->dn_a.v, h, B, T, ws->scratch);
    content_norm(m, ws, ws->dn_n.v, ws->dn_mean, ws->dn_rstd, ws->dn_a.v, B, T2,
                 ws->norm_window / 2);
    act_forward(&m->cfg, ws->dn_h.v, ws->dn_n.v, nC / 2);
    vcn_conv1d_forward(&m->c_out, ws->z.v, ws->dn_h.v, B, T2, ws->scratch);
}

/* xs (B, M, Ts) -> ws->spk (B, S). */
static void speaker_forward(const vcm_model *m, vcm_workspace *ws, const float *xs, int B, int Ts) {
    int Cs = m->cfg.spk_channels;
    const float *in = xs;
    for (int k = 0; k < VCM_SPK_CONVS; k++) {
        vcn_conv1d_forward(&m->s_conv[k], ws->s_a[k].v, in, B, Ts, ws->scratch);
        act_forward(&m->cfg, ws->s_h[k].v, ws->s_a[k].v, (size_t)B * (size_t)Cs * (size_t)Ts);
        in = ws->s_h[k].v;
    }
    vcn_pool_forward(ws->pool.v, in, B, Cs, Ts, VCM_NORM_EPS);
    vcn_linear_forward(&m->s_proj, ws->spk.v, ws->pool.v, B);
}

/* The decoder's last hidden state (B, C, T). */
static vcm_act *dec_top(const vcm_model *m, vcm_workspace *ws) {
    return m->cfg.dec_blocks ? &ws->blk[m->cfg.dec_blocks - 1].h : &ws->d_h0;
}
static vcm_act *content_top(const vcm_model *m, vcm_workspace *ws) {
    return m->cfg.res_blocks ? &ws->res[m->cfg.res_blocks - 1].h : &ws->c_h;
}

/* The retrieval conv's output added into ws->d_h0; without frames (r NULL) that is its bias,
 * what the conv gives for an all-zero input. */
static void retrieval_forward(const vcm_model *m, vcm_workspace *ws, const float *r, int B, int T) {
    int C = m->cfg.channels;
    if (r) {
        size_t nC = (size_t)B * (size_t)C * (size_t)T;
        vcn_conv1d_forward(&m->d_ret, ws->ret.v, r, B, T, ws->scratch);
        vcn_add_forward(ws->d_h0.v, ws->d_h0.v, ws->ret.v, nC);
        return;
    }
    for (int b = 0; b < B; b++)
        for (int o = 0; o < C; o++) {
            float *h = ws->d_h0.v + ((size_t)b * C + o) * (size_t)T;
            for (int t = 0; t < T; t++) h[t] += m->d_ret.b[o];
        }
}

/* out = q + a (z - q) over n values: the content between the codes q (a = 0) and the
 * encoder's continuous output z (a = 1), what the decoder reads in training and at conversion. */
static void blend_content(float *out, const float *q, const float *z, float a, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = q[i] + a * (z[i] - q[i]);
}

/* zin (B, D, T/2), spk (B, S), p (B, 2, T), r (B, M + 1, T) or NULL -> ws->mel (B, M, T),
 * ws->lin (B, F, T). */
static void decoder_forward(const vcm_model *m, vcm_workspace *ws, const float *zin,
                            const float *spk, const float *p, const float *r, int B, int T) {
    const vcm_config *c = &m->cfg;
    int C = c->channels, D = c->code_dim;
    size_t nC = (size_t)B * (size_t)C * (size_t)T;
    vcn_upsample_forward(ws->up.v, zin, B, D, T / 2, 2);
    vcn_concat_forward(ws->cat.v, ws->up.v, p, B, D, 2, T);
    vcn_conv1d_forward(&m->d_in, ws->d_h0.v, ws->cat.v, B, T, ws->scratch);
    if (c->retrieval) retrieval_forward(m, ws, r, B, T);
    const float *h = ws->d_h0.v; // (B, C, T)
    for (int i = 0; i < c->dec_blocks; i++) {
        vcm_dec_ws *b = &ws->blk[i];
        const vcm_dec_block *l = &m->d_block[i];
        vcn_conv1d_forward(&l->conv, b->a.v, h, B, T, ws->scratch);
        vcn_linear_forward(&l->gamma, b->g.v, spk, B);
        vcn_linear_forward(&l->beta, b->be.v, spk, B);
        if (ws->norm_window > 0)
            vcn_norm_local_forward(b->b.v, b->a.v, b->g.v, b->be.v, B, C, T, ws->norm_window,
                                   VCM_NORM_EPS, ws->norm_scratch);
        else
            vcn_adain_forward(b->b.v, b->mean, b->rstd, b->a.v, b->g.v, b->be.v, B, C, T,
                              VCM_NORM_EPS);
        act_forward(&m->cfg, b->r.v, b->b.v, nC);
        vcn_add_forward(b->h.v, h, b->r.v, nC);
        h = b->h.v;
    }
    vcn_conv1d_forward(&m->d_mel, ws->mel.v, h, B, T, ws->scratch);
    vcn_conv1d_forward(&m->post0, ws->pa.v, h, B, T, ws->scratch);
    act_forward(&m->cfg, ws->pr.v, ws->pa.v, (size_t)B * (size_t)c->postnet_channels * (size_t)T);
    vcn_conv1d_forward(&m->post1, ws->lin.v, ws->pr.v, B, T, ws->scratch);
}

void vcm_forward_train(const vcm_model *m, vcm_workspace *ws, const float *x, const float *p,
                       const float *xs, const float *r, const float *mel_target,
                       const float *lin_target, int quantize, const float *blend, vcm_losses *out) {
    VC_ASSERT(m && ws && x && p && xs && mel_target && lin_target);
    int B = ws->B, T = ws->T, Ts = ws->Ts, T2 = T / 2;
    const vcm_config *c = &m->cfg;
    ws->Bc = B, ws->Tc = T, ws->Tsc = Ts;
    ws->x = x, ws->p = p, ws->xs = xs, ws->mel_t = mel_target, ws->lin_t = lin_target;
    ws->r = c->retrieval ? r : NULL;
    ws->quantize = quantize;
    ws->ph_labels = NULL; /* a phone loss is this forward's only if vcm_forward_phones follows */
    size_t nz = (size_t)B * (size_t)c->code_dim * (size_t)T2;
    content_forward(m, ws, x, B, T);
    if (quantize) {
        vcn_vq_quantize(&m->vq, ws->zq.v, ws->idx, ws->z.v, B, T2, ws->scratch);
    } else {
        memcpy(ws->zq.v, ws->z.v, nz * sizeof(float));
        for (size_t i = 0; i < (size_t)B * (size_t)T2; i++) ws->idx[i] = -1; /* no codes */
    }
    const float *zin = ws->zq.v;
    if (quantize && blend) { /* the straight-through gradient is the same: backward ignores it */
        size_t n1 = (size_t)c->code_dim * (size_t)T2;
        for (int b = 0; b < B; b++)
            blend_content(ws->zmix + b * n1, ws->zq.v + b * n1, ws->z.v + b * n1, blend[b], n1);
        zin = ws->zmix;
    }
    ws->zin = zin;
    speaker_forward(m, ws, xs, B, Ts);
    decoder_forward(m, ws, zin, ws->spk.v, p, ws->r, B, T);
    if (out) {
        out->mel = vcn_l1_loss(ws->mel.v, mel_target, (size_t)B * (size_t)c->n_mels * (size_t)T);
        out->lin = vcn_l1_loss(ws->lin.v, lin_target, (size_t)B * (size_t)c->n_bins * (size_t)T);
        out->commit = quantize ? vcn_vq_commit_loss(&m->vq, ws->z.v, ws->zq.v, B, T2) : 0.0;
        out->total = out->mel + out->lin + out->commit;
    }
}

void vcm_forward_phones(const vcm_model *m, vcm_workspace *ws, const int *labels, float weight,
                        vcm_phone_losses *out) {
    VC_ASSERT(m->cfg.phone_head && ws->x && labels);
    int B = ws->Bc, T2 = ws->Tc / 2;
    vcn_conv1d_forward(&m->phone, ws->ph.v, ws->z.v, B, T2, ws->scratch);
    ws->ph_labels = labels, ws->ph_weight = weight;
    if (!out) return;
    long n, right;
    double sum = vcn_xent_loss(ws->ph.v, labels, B, VCM_PHONES, T2, &n, &right);
    out->labelled = n;
    out->xent = n ? sum / (double)n : 0.0;
    out->accuracy = n ? (double)right / (double)n : 0.0;
    out->loss = (double)weight * sum / ((double)B * (double)T2);
}

/* The phone loss's gradient (when the last forward had one) added into ws->z.d and the head. */
static void phones_backward(const vcm_model *m, vcm_workspace *ws) {
    if (!ws->ph_labels) return;
    int B = ws->Bc, T2 = ws->Tc / 2;
    float scale = (float)((double)ws->ph_weight / ((double)B * (double)T2));
    vcn_xent_loss_backward(ws->ph.d, ws->ph.v, ws->ph_labels, B, VCM_PHONES, T2, scale);
    vcn_conv1d_backward(&m->phone, ws->z.d, ws->ph.d, ws->z.v, B, T2, ws->scratch);
}

/* A layer read but not trained: the same weights without gradient pointers, so its backward
 * gives the input's gradient only. */
static const conv1d *conv_grad(const conv1d *l, int train, conv1d *copy) {
    if (train) return l;
    *copy = *l;
    copy->dw = copy->db = NULL;
    return copy;
}

/* Each backward below mirrors its forward's lines in reverse; every backward adds. */

/* From ws->mel.d and ws->lin.d to the decoder's parameters, ws->zq.d (the decoder's content
 * input), ws->dp and dspk (NULL: not wanted); spk is the voice the forward read. */
static void decoder_backward(const vcm_model *m, vcm_workspace *ws, const float *spk, float *dspk) {
    const vcm_config *c = &m->cfg;
    int B = ws->Bc, T = ws->Tc, T2 = T / 2, C = c->channels, D = c->code_dim;
    size_t nC = (size_t)B * (size_t)C * (size_t)T;
    float *s = ws->scratch;
    vcm_act *top = dec_top(m, ws);
    vcn_conv1d_backward(&m->post1, ws->pr.d, ws->lin.d, ws->pr.v, B, T, s);
    act_backward(&m->cfg, ws->pa.d, ws->pr.d, ws->pa.v,
                 (size_t)B * (size_t)c->postnet_channels * T);
    vcn_conv1d_backward(&m->post0, top->d, ws->pa.d, top->v, B, T, s);
    vcn_conv1d_backward(&m->d_mel, top->d, ws->mel.d, top->v, B, T, s);
    for (int i = c->dec_blocks - 1; i >= 0; i--) {
        vcm_dec_ws *b = &ws->blk[i];
        const vcm_dec_block *l = &m->d_block[i];
        vcm_act *hin = i ? &ws->blk[i - 1].h : &ws->d_h0;
        vcn_add_backward(hin->d, b->r.d, b->h.d, nC);
        act_backward(&m->cfg, b->b.d, b->r.d, b->b.v, nC);
        vcn_adain_backward(b->a.d, b->g.d, b->be.d, b->b.d, b->a.v, b->mean, b->rstd, b->g.v, B, C,
                           T);
        vcn_linear_backward(&l->gamma, dspk, b->g.d, spk, B);
        vcn_linear_backward(&l->beta, dspk, b->be.d, spk, B);
        vcn_conv1d_backward(&l->conv, hin->d, b->a.d, hin->v, B, T, s);
    }
    vcn_conv1d_backward(&m->d_in, ws->cat.d, ws->d_h0.d, ws->cat.v, B, T, s);
    if (c->retrieval && ws->r) /* the sum's gradient, into the retrieval conv (none into r) */
        vcn_conv1d_backward(&m->d_ret, NULL, ws->d_h0.d, ws->r, B, T, s);
    else if (c->retrieval) /* no frames: the conv's output was its bias */
        for (int b = 0; b < B; b++)
            for (int o = 0; o < C; o++) {
                const float *dh = ws->d_h0.d + ((size_t)b * C + o) * (size_t)T;
                for (int t = 0; t < T; t++) m->d_ret.db[o] += dh[t];
            }
    vcn_concat_backward(ws->up.d, ws->dp, ws->cat.d, B, D, 2, T);
    vcn_upsample_backward(ws->zq.d, ws->up.d, B, D, T2, 2);
}

/* From ws->z.d to the content encoder's parameters (train; else they are only read) and dx,
 * the gradient of its input x. */
static void content_backward(const vcm_model *m, vcm_workspace *ws, const float *x, float *dx,
                             int train) {
    const vcm_config *c = &m->cfg;
    int B = ws->Bc, T = ws->Tc, T2 = T / 2;
    size_t nC = (size_t)B * (size_t)c->channels * (size_t)T;
    float *s = ws->scratch;
    conv1d k;
    vcn_conv1d_backward(conv_grad(&m->c_out, train, &k), ws->dn_h.d, ws->z.d, ws->dn_h.v, B, T2, s);
    act_backward(&m->cfg, ws->dn_n.d, ws->dn_h.d, ws->dn_n.v, nC / 2);
    vcn_instnorm_backward(&m->inorm, ws->dn_a.d, ws->dn_n.d, ws->dn_a.v, ws->dn_mean, ws->dn_rstd,
                          B, T2);
    vcm_act *ctop = content_top(m, ws);
    vcn_conv1d_backward(conv_grad(&m->c_down, train, &k), ctop->d, ws->dn_a.d, ctop->v, B, T, s);
    for (int i = c->res_blocks - 1; i >= 0; i--) {
        vcm_res_ws *r = &ws->res[i];
        vcm_act *hin = i ? &ws->res[i - 1].h : &ws->c_h;
        vcn_add_backward(hin->d, r->r.d, r->h.d, nC);
        act_backward(&m->cfg, r->n.d, r->r.d, r->n.v, nC);
        vcn_instnorm_backward(&m->inorm, r->a.d, r->n.d, r->a.v, r->mean, r->rstd, B, T);
        vcn_conv1d_backward(conv_grad(&m->c_res[i], train, &k), hin->d, r->a.d, hin->v, B, T, s);
    }
    act_backward(&m->cfg, ws->c_n.d, ws->c_h.d, ws->c_n.v, nC);
    vcn_instnorm_backward(&m->inorm, ws->c_a.d, ws->c_n.d, ws->c_a.v, ws->c_mean, ws->c_rstd, B, T);
    vcn_conv1d_backward(conv_grad(&m->c_in, train, &k), dx, ws->c_a.d, x, B, T, s);
}

/* From ws->spk.d to the speaker encoder's parameters (train; else only read) and dxs, the
 * gradient of its input xs (B, M, ws->Tsc). */
static void speaker_backward(const vcm_model *m, vcm_workspace *ws, const float *xs, float *dxs,
                             int train) {
    int B = ws->Bc, Ts = ws->Tsc, Cs = m->cfg.spk_channels;
    size_t nS = (size_t)B * (size_t)Cs * (size_t)Ts;
    float *s = ws->scratch;
    linear proj = m->s_proj;
    if (!train) proj.dw = proj.db = NULL;
    vcn_linear_backward(&proj, ws->pool.d, ws->spk.d, ws->pool.v, B);
    vcn_pool_backward(ws->s_h[VCM_SPK_CONVS - 1].d, ws->pool.d, ws->s_h[VCM_SPK_CONVS - 1].v, B, Cs,
                      Ts, VCM_NORM_EPS);
    conv1d k;
    for (int i = VCM_SPK_CONVS - 1; i >= 0; i--) {
        act_backward(&m->cfg, ws->s_a[i].d, ws->s_h[i].d, ws->s_a[i].v, nS);
        const float *in = i ? ws->s_h[i - 1].v : xs;
        float *din = i ? ws->s_h[i - 1].d : dxs;
        vcn_conv1d_backward(conv_grad(&m->s_conv[i], train, &k), din, ws->s_a[i].d, in, B, Ts, s);
    }
}

/* From ws->mel.d and ws->lin.d (every other activation gradient zero) to the parameters and
 * the inputs. */
static void backward_core(const vcm_model *m, vcm_workspace *ws) {
    int B = ws->Bc, T2 = ws->Tc / 2;
    decoder_backward(m, ws, ws->spk.v, ws->spk.d);
    /* VQ: straight-through plus the commitment gradient (0 when zq = z) */
    vcn_vq_backward(&m->vq, ws->z.d, ws->zq.d, ws->z.v, ws->zq.v, B, T2);
    phones_backward(m, ws);
    content_backward(m, ws, ws->x, ws->dx, 1);
    speaker_backward(m, ws, ws->xs, ws->dxs, 1);
}

void vcm_backward_with(const vcm_model *m, vcm_workspace *ws, const float *dlin) {
    VC_ASSERT(ws->dslab && ws->x);
    memset(ws->dslab, 0, ws->dn * sizeof(float));
    size_t T = (size_t)ws->Tc, B = (size_t)ws->Bc, nlin = B * (size_t)m->cfg.n_bins * T;
    vcn_l1_loss_backward(ws->mel.d, ws->mel.v, ws->mel_t, B * (size_t)m->cfg.n_mels * T, 1.0f);
    vcn_l1_loss_backward(ws->lin.d, ws->lin.v, ws->lin_t, nlin, 1.0f);
    if (dlin) vcn_add_forward(ws->lin.d, ws->lin.d, dlin, nlin);
    backward_core(m, ws);
}

void vcm_backward(const vcm_model *m, vcm_workspace *ws) {
    vcm_backward_with(m, ws, NULL);
}

void vcm_backward_from_outputs(const vcm_model *m, vcm_workspace *ws, const float *dmel,
                               const float *dlin) {
    VC_ASSERT(ws->dslab && ws->x && dmel && dlin);
    memset(ws->dslab, 0, ws->dn * sizeof(float));
    size_t T = (size_t)ws->Tc, B = (size_t)ws->Bc;
    memcpy(ws->mel.d, dmel, B * (size_t)m->cfg.n_mels * T * sizeof(float));
    memcpy(ws->lin.d, dlin, B * (size_t)m->cfg.n_bins * T * sizeof(float));
    backward_core(m, ws);
}

/* ---- conversion consistency (training) ---------------------------------------------------- */

void vcm_forward_cycle(const vcm_model *m, vcm_workspace *ws, const float *zin, const float *spk,
                       const float *p, const float *z_target, float w_content, float w_speaker,
                       vcm_cycle_losses *out) {
    VC_ASSERT(m && ws && zin && spk && p && z_target && ws->Ts == ws->T);
    int B = ws->B, T = ws->T, T2 = T / 2;
    const vcm_config *c = &m->cfg;
    ws->Bc = B, ws->Tc = T, ws->Tsc = T;
    ws->p = p, ws->r = NULL;
    ws->x = ws->xs = ws->mel.v; /* both encoders read the decoded mel */
    ws->spk_in = spk, ws->z_target = z_target;
    ws->w_content = w_content, ws->w_speaker = w_speaker;
    decoder_forward(m, ws, zin, spk, p, NULL, B, T);
    content_forward(m, ws, ws->mel.v, B, T);
    speaker_forward(m, ws, ws->mel.v, B, T);
    if (out) {
        out->content = vcn_mse_loss(ws->z.v, z_target, (size_t)B * (size_t)c->code_dim * T2);
        out->speaker = vcn_mse_loss(ws->spk.v, spk, (size_t)B * (size_t)c->spk_dim);
        out->total = w_content * out->content + w_speaker * out->speaker;
    }
}

void vcm_cycle_voices(const float *spk, int B, int S, float *out) {
    VC_ASSERT(spk && out && spk != out && B >= 1 && S >= 1);
    for (int b = 0; b < B; b++) {
        int other = (b ^ 1) < B ? b ^ 1 : b;
        memcpy(out + (size_t)b * S, spk + (size_t)other * S, sizeof(float) * (size_t)S);
    }
}

void vcm_backward_cycle(const vcm_model *m, vcm_workspace *ws) {
    VC_ASSERT(ws->dslab && ws->spk_in && ws->z_target);
    memset(ws->dslab, 0, ws->dn * sizeof(float));
    const vcm_config *c = &m->cfg;
    size_t B = (size_t)ws->Bc, T = (size_t)ws->Tc, nM = B * (size_t)c->n_mels * T;
    vcn_mse_loss_backward(ws->z.d, ws->z.v, ws->z_target, B * (size_t)c->code_dim * (T / 2),
                          ws->w_content);
    vcn_mse_loss_backward(ws->spk.d, ws->spk.v, ws->spk_in, B * (size_t)c->spk_dim, ws->w_speaker);
    content_backward(m, ws, ws->mel.v, ws->dx, 0);
    speaker_backward(m, ws, ws->mel.v, ws->dxs, 0);
    for (size_t i = 0; i < nM; i++) ws->mel.d[i] = ws->dx[i] + ws->dxs[i];
    decoder_backward(m, ws, ws->spk_in, NULL); /* lin.d stays 0: only the mel is re-encoded */
}

/* ---- inference, batch 1 ------------------------------------------------------------------- */

vc_status vcm_encode_content(const vcm_model *m, vcm_workspace *ws, const float *x, int T,
                             int *codes) {
    if (!m || !ws || !x || !codes || T < 2 || T % 2 || T > ws->T) {
        vcu_log(VC_LOG_ERROR, "vcm_encode_content: need even 2 <= T <= %d (got %d)", ws ? ws->T : 0,
                T);
        return VC_ERR_ARG;
    }
    content_forward(m, ws, x, 1, T);
    vcn_vq_quantize(&m->vq, ws->zq.v, codes, ws->z.v, 1, T / 2, ws->scratch);
    return VC_OK;
}

vc_status vcm_encode_speaker(const vcm_model *m, vcm_workspace *ws, const float *xs, int Ts,
                             float *spk) {
    if (!m || !ws || !xs || !spk || Ts < 1 || Ts > ws->Ts) {
        vcu_log(VC_LOG_ERROR, "vcm_encode_speaker: need 1 <= Ts <= %d (got %d)", ws ? ws->Ts : 0,
                Ts);
        return VC_ERR_ARG;
    }
    speaker_forward(m, ws, xs, 1, Ts);
    memcpy(spk, ws->spk.v, sizeof(float) * (size_t)m->cfg.spk_dim);
    return VC_OK;
}

void vcm_content_forward(const vcm_model *m, vcm_workspace *ws, const float *x, int B, int T) {
    VC_ASSERT(m && ws && x && B >= 1 && B <= ws->B && T >= 2 && T % 2 == 0 && T <= ws->T);
    content_forward(m, ws, x, B, T);
}

vc_status vcm_decode(const vcm_model *m, vcm_workspace *ws, const int *codes, const float *z,
                     float blend, int T2, const float *spk, const float *p, const float *r,
                     float *mel, float *lin) {
    if (!m || !ws || !codes || !spk || !p || !mel || !lin || T2 < 1 || 2 * T2 > ws->T) {
        vcu_log(VC_LOG_ERROR, "vcm_decode: need 1 <= T2 <= %d (got %d)", ws ? ws->T / 2 : 0, T2);
        return VC_ERR_ARG;
    }
    int D = m->cfg.code_dim, N = m->cfg.codebook_size, T = 2 * T2;
    for (int t = 0; t < T2; t++) {
        if (codes[t] < 0 || codes[t] >= N) {
            vcu_log(VC_LOG_ERROR, "vcm_decode: code %d at frame %d outside [0, %d)", codes[t], t,
                    N);
            return VC_ERR_ARG;
        }
        for (int d = 0; d < D; d++)
            ws->zq.v[(size_t)d * T2 + t] = m->vq.codebook[(size_t)codes[t] * D + d];
    }
    if (z) blend_content(ws->zq.v, ws->zq.v, z, blend, (size_t)D * (size_t)T2);
    memcpy(ws->spk.v, spk, sizeof(float) * (size_t)m->cfg.spk_dim);
    decoder_forward(m, ws, ws->zq.v, ws->spk.v, p, r, 1, T);
    memcpy(mel, ws->mel.v, sizeof(float) * (size_t)m->cfg.n_mels * T);
    memcpy(lin, ws->lin.v, sizeof(float) * (size_t)m->cfg.n_bins * T);
    return VC_OK;
}
