/* Frame matching: the pool a voice keeps, and the nearest-frame search; see match.h. */
#include "convert/match.h"

#include "model/retrieval.h"
#include "nn/knn.h"

#include <math.h>
#include <string.h>

vc_status vcc_pool_init(vc_voice_frames **out, int D, int C, int M, int F) {
    *out = NULL;
    vc_voice_frames *p = calloc(1, sizeof *p);
    if (!p) return VC_ERR_NOMEM;
    p->D = D, p->C = C, p->M = M, p->F = F;
    *out = p;
    return VC_OK;
}

void vcc_pool_free(vc_voice_frames *p) {
    if (!p) return;
    free(p->z);
    free(p->h);
    free(p->mel);
    free(p->env);
    free(p->log_ap);
    free(p->f0);
    free(p->voicing);
    free(p->ref_start);
    free(p);
}

static vc_status grow(float **a, size_t n) {
    float *b = realloc(*a, n * sizeof *b);
    if (!b) return VC_ERR_NOMEM;
    *a = b;
    return VC_OK;
}

vc_status vcc_pool_reserve(vc_voice_frames *p, int more) {
    if (more < 0 || p->n > INT32_MAX - more) return VC_ERR_ARG;
    if (p->n + more <= p->cap) return VC_OK;
    size_t cap = (size_t)(p->n + more) + (size_t)p->cap / 2; /* amortised growth */
    vc_status st = grow(&p->z, cap * (size_t)p->D);
    if (st == VC_OK) st = grow(&p->h, cap * (size_t)p->C);
    if (st == VC_OK) st = grow(&p->mel, cap * (size_t)p->M);
    if (st == VC_OK) st = grow(&p->env, cap * (size_t)p->F);
    if (st == VC_OK) st = grow(&p->log_ap, cap * VCD_WORLD_BANDS);
    if (st == VC_OK) st = grow(&p->f0, cap);
    if (st == VC_OK) st = grow(&p->voicing, cap);
    if (st == VC_OK) p->cap = (int)cap;
    return st;
}

vc_status vcc_pool_begin_reference(vc_voice_frames *p) {
    if (p->n_refs == p->refs_cap) {
        int cap = p->refs_cap ? 2 * p->refs_cap : 4;
        int *r = realloc(p->ref_start, sizeof(int) * (size_t)cap);
        if (!r) return VC_ERR_NOMEM;
        p->ref_start = r, p->refs_cap = cap;
    }
    p->ref_start[p->n_refs++] = p->n;
    return VC_OK;
}

void vcc_pool_add_ap(vc_voice_frames *p, float *ap, int voiced) {
    /* floored where the renderer floors it (0 would be -inf) */
    for (int b = 0; b < VCD_WORLD_BANDS; b++) ap[b] = logf(fmaxf(ap[b], VCD_WORLD_AP_MIN));
    if (!voiced) return;
    for (int b = 0; b < VCD_WORLD_BANDS; b++) p->log_ap_voiced[b] += ap[b];
    p->n_voiced++;
}

void vcc_pool_voiced_ap(const vc_voice_frames *p, float *ap) {
    for (int b = 0; b < VCD_WORLD_BANDS; b++)
        ap[b] = p && p->n_voiced ? (float)exp(p->log_ap_voiced[b] / (double)p->n_voiced) : 0.0f;
}

void vcc_content_features(const vcm_model *m, const vcm_workspace *ws, int T, int T2, float *z,
                          float *hidden, float *hwork, double *scratch) {
    const int D = m->cfg.code_dim, T2c = T2 / 2;
    if (z)
        for (int t = 0; t < T; t++) {
            for (int d = 0; d < D; d++) z[(size_t)t * D + d] = ws->z.v[(size_t)d * T2c + t / 2];
            vcn_l2_normalise(z + (size_t)t * D, D);
        }
    if (hidden) vcm_hidden_features(m, ws, 0, T, T2, hidden, hwork, scratch);
}

void vcc_matcher_free(vcc_matcher *mt) {
    if (!mt) return;
    free(mt->block);
    memset(mt, 0, sizeof *mt);
}

vc_status vcc_matcher_init(vcc_matcher *mt, const vc_voice_frames *pool, int W,
                           vc_match_space space, int k, float strength, float decoded,
                           float residual) {
    memset(mt, 0, sizeof *mt);
    if (!pool || pool->n < 1) {
        vcu_log(VC_LOG_ERROR, "frame matching: the voice holds no reference frames");
        return VC_ERR_ARG;
    }
    if (k < 1 || k > VCC_MATCH_K_MAX || pool->n < k) {
        vcu_log(VC_LOG_ERROR,
                "frame matching: %d neighbours asked for (1 to %d), the references give %d frames; "
                "give more reference audio or a smaller k",
                k, VCC_MATCH_K_MAX, pool->n);
        return VC_ERR_ARG;
    }
    mt->pool = pool;
    mt->W = W, mt->N = pool->n, mt->F = pool->F, mt->k = k, mt->space = space;
    mt->Df = space == VC_MATCH_HIDDEN ? pool->C : pool->D;
    mt->strength = strength;
    mt->decoded = decoded;
    mt->residual = residual;
    size_t Wz = (size_t)W, nd_rows = decoded > 0.0f ? Wz + (size_t)mt->N : 0;
    size_t n_dec = residual > 0.0f ? (size_t)mt->N * (size_t)mt->F : 0;
    size_t nf = Wz * (size_t)mt->Df + Wz * (size_t)mt->N + 2 * Wz * (size_t)mt->F +
                Wz * VCD_WORLD_BANDS + (size_t)pool->C * Wz + (size_t)k + nd_rows * pool->M + n_dec;
    size_t nd = 2 * (Wz + 1), ni = Wz * (size_t)k;
    mt->block = malloc(nd * sizeof(double) + nf * sizeof(float) + ni * sizeof(int));
    if (!mt->block) return VC_ERR_NOMEM;
    mt->dwork = mt->block;
    mt->q = (float *)(mt->dwork + nd);
    mt->sim = mt->q + Wz * (size_t)mt->Df;
    mt->env = mt->sim + Wz * (size_t)mt->N;
    mt->tmp = mt->env + Wz * (size_t)mt->F;
    mt->ap = mt->tmp + Wz * (size_t)mt->F;
    mt->hwork = mt->ap + Wz * VCD_WORLD_BANDS;
    mt->best = mt->hwork + (size_t)pool->C * Wz;
    mt->qd = mt->best + k;
    mt->pd = mt->qd + (nd_rows ? Wz * pool->M : 0);
    mt->dec = mt->pd + (nd_rows ? (size_t)mt->N * pool->M : 0);
    mt->idx = (int *)(mt->dec + n_dec);
    if (!nd_rows) mt->qd = mt->pd = NULL;
    if (!n_dec) mt->dec = NULL;
    for (int n = 0; nd_rows && n < mt->N; n++) { /* once per conversion */
        float *r = mt->pd + (size_t)n * pool->M;
        memcpy(r, pool->mel + (size_t)n * pool->M, sizeof(float) * (size_t)pool->M);
        vcn_l2_normalise(r, pool->M);
    }
    return VC_OK;
}

/* The pool's content features in the matcher's space (mt->Df per frame). */
static const float *content_pool(const vcc_matcher *mt) {
    return mt->space == VC_MATCH_HIDDEN ? mt->pool->h : mt->pool->z;
}

void vcc_match_nearest(vcc_matcher *mt, int T) {
    vcn_knn_cosine(mt->q, T, content_pool(mt), mt->N, mt->Df, mt->k, mt->sim, mt->idx, mt->best);
}

void vcc_match_nearest_decoded(vcc_matcher *mt, const float *mel, int stride, int T) {
    const vc_voice_frames *p = mt->pool;
    const int M = p->M;
    VC_ASSERT(mt->qd && T <= mt->W);
    for (int t = 0; t < T; t++) {
        float *r = mt->qd + (size_t)t * M;
        for (int j = 0; j < M; j++) r[j] = mel[(size_t)j * stride + t];
        vcn_l2_normalise(r, M);
    }
    vcn_knn_cosine_mix(mt->q, content_pool(mt), mt->Df, mt->qd, mt->pd, M, mt->decoded, T, mt->N,
                       mt->k, mt->sim, mt->idx, mt->best);
}

/* Rows [0, T) of a (T, n) smoothed over time by a triangle of +-VCC_MATCH_SMOOTH frames (cut
 * at the ends, weights renormalised), through tmp. */
static void smooth_rows(float *a, float *tmp, int T, int n) {
    const int R = VCC_MATCH_SMOOTH;
    for (int t = 0; t < T; t++) {
        float *o = tmp + (size_t)t * n;
        double wsum = 0.0;
        for (int i = 0; i < n; i++) o[i] = 0.0f;
        for (int d = -R; d <= R; d++) {
            int u = t + d;
            if (u < 0 || u >= T) continue;
            float w = (float)(R + 1 - abs(d));
            wsum += w;
            for (int i = 0; i < n; i++) o[i] += w * a[(size_t)u * n + i];
        }
        for (int i = 0; i < n; i++) o[i] = (float)(o[i] / wsum);
    }
    memcpy(a, tmp, sizeof(float) * (size_t)T * n);
}

/* Whether pool frame r is voiced, by the rule the vocoder renders with. */
static int pool_voiced(const vc_voice_frames *p, int r, float f0_floor) {
    return vcd_world_is_voiced(p->f0[r], p->voicing, r, f0_floor);
}

void vcc_match_average(vcc_matcher *mt, const float *f0, const float *voicing, float f0_floor,
                       int T) {
    const vc_voice_frames *p = mt->pool;
    const int F = mt->F, k = mt->k, B = VCD_WORLD_BANDS;
    const float inv = 1.0f / (float)k, res = mt->dec ? mt->residual : 0.0f;
    for (int t = 0; t < T; t++) {
        float *e = mt->env + (size_t)t * F, *a = mt->ap + (size_t)t * B;
        const int *nb = mt->idx + (size_t)t * k;
        memset(e, 0, sizeof(float) * (size_t)F);
        memset(a, 0, sizeof(float) * B);
        for (int j = 0; j < k; j++) {
            size_t r = (size_t)nb[j];
            for (int f = 0; f < F; f++) e[f] += p->env[r * F + f];
            for (int f = 0; res > 0.0f && f < F; f++) e[f] -= res * mt->dec[r * F + f];
        }
        for (int f = 0; f < F; f++) e[f] *= inv;
        /* a voiced output frame takes its voiced neighbours' aperiodicity (see match.h) */
        const int out_voiced = f0 && vcd_world_is_voiced(f0[t], voicing, t, f0_floor);
        int voiced_only = 0, n_ap = 0;
        for (int j = 0; out_voiced && j < k; j++) voiced_only |= pool_voiced(p, nb[j], f0_floor);
        for (int j = 0; j < k; j++) {
            if (voiced_only && !pool_voiced(p, nb[j], f0_floor)) continue;
            for (int b = 0; b < B; b++) a[b] += p->log_ap[(size_t)nb[j] * B + b];
            n_ap++;
        }
        for (int b = 0; b < B; b++) a[b] = expf(a[b] / (float)n_ap); /* see vcc_pool_voiced_ap */
    }
    smooth_rows(mt->env, mt->tmp, T, F);
    smooth_rows(mt->ap, mt->tmp, T, B);
}
