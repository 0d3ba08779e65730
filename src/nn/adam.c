/* AdamW, gradient clipping, learning-rate schedule; see adam.h. */
#include "nn/adam.h"

#include <math.h>
#include <string.h>

vc_status vcn_adamw_init(adamw *o, size_t n, float beta1, float beta2, float eps) {
    if (!o) return VC_ERR_ARG;
    memset(o, 0, sizeof *o);
    if (n == 0 || !(beta1 >= 0.0f && beta1 < 1.0f) || !(beta2 >= 0.0f && beta2 < 1.0f) ||
        !(eps >= 0.0f))
        return VC_ERR_ARG;
    o->m = calloc(n, sizeof(float));
    o->v = calloc(n, sizeof(float));
    if (!o->m || !o->v) {
        vcn_adamw_free(o);
        return VC_ERR_NOMEM;
    }
    o->n = n;
    o->beta1 = beta1;
    o->beta2 = beta2;
    o->eps = eps;
    return VC_OK;
}

void vcn_adamw_free(adamw *o) {
    if (!o) return;
    free(o->m);
    free(o->v);
    memset(o, 0, sizeof *o);
}

void vcn_adamw_begin_step(adamw *o) {
    o->step++;
}

void vcn_adamw_update(const adamw *o, float *param, const float *grad, size_t offset, size_t count,
                      float lr, float weight_decay) {
    VC_ASSERT(o->step > 0 && offset <= o->n && count <= o->n - offset);
    const float b1 = o->beta1, b2 = o->beta2, eps = o->eps;
    /* Bias corrections in double: beta2^step stays close to 1 for thousands of steps. */
    const float c1 = (float)(1.0 / (1.0 - pow(b1, (double)o->step)));
    const float c2 = (float)(1.0 / (1.0 - pow(b2, (double)o->step)));
    float *p = param + offset, *m = o->m + offset, *v = o->v + offset;
    const float *g = grad + offset;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < count; i++) {
        m[i] = b1 * m[i] + (1.0f - b1) * g[i];
        v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
        float mhat = m[i] * c1, vhat = v[i] * c2;
        p[i] -= lr * (mhat / (sqrtf(vhat) + eps) + weight_decay * p[i]);
    }
}

/* Fixed chunks summed in chunk order: the same norm for any thread count. */
#define CLIP_CHUNKS 64

double vcn_grad_clip_norm(float *grad, size_t n, float max_norm) {
    double part[CLIP_CHUNKS];
    size_t chunk = (n + CLIP_CHUNKS - 1) / CLIP_CHUNKS;
#pragma omp parallel for schedule(static)
    for (int c = 0; c < CLIP_CHUNKS; c++) {
        size_t lo = (size_t)c * chunk, hi = lo + chunk < n ? lo + chunk : n;
        double s = 0.0;
        for (size_t i = lo; i < hi; i++) s += (double)grad[i] * grad[i];
        part[c] = s;
    }
    double s = 0.0;
    for (int c = 0; c < CLIP_CHUNKS; c++) s += part[c];
    double norm = sqrt(s);
    if (isfinite(norm) && max_norm > 0.0f && norm > max_norm) {
        float scale = (float)(max_norm / norm);
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++) grad[i] *= scale;
    }
    return norm;
}

float vcn_lr_schedule(long step, float base_lr, long warmup, long total, int kind) {
    if (step < 0) step = 0;
    if (step < warmup) return base_lr * (float)((double)(step + 1) / (double)warmup);
    if (kind == VC_LR_CONSTANT || total <= warmup) return base_lr;
    double floor_lr = kind == VC_LR_COSINE_FLOOR ? (double)VC_LR_FLOOR * base_lr : 0.0;
    double p = (double)(step - warmup) / (double)(total - warmup);
    if (p > 1.0) p = 1.0;
    return (float)(floor_lr + (base_lr - floor_lr) * 0.5 * (1.0 + cos(VC_TWO_PI * 0.5 * p)));
}
