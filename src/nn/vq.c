/* Vector quantizer with EMA codebook; see vq.h. */
#include "nn/vq.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <string.h>

size_t vcn_vq_scratch_size(const vq *q, int B, int T) {
    size_t N = (size_t)q->N, D = (size_t)q->D;
    size_t quant = (size_t)T * N + N;    /* scores (T, N), code norms (N) */
    size_t ema = D * N + N;              /* sums (D, N), counts (N) */
    size_t seed = (size_t)B * (size_t)T; /* k-means++: distance to the nearest code (B*T) */
    size_t s = quant > ema ? quant : ema;
    return s > seed ? s : seed;
}

/* Exact squared distance of frame t of zb (D, T) to code c (D), in double. */
static double dist2(const float *zb, int T, int t, const float *c, int D) {
    double s = 0.0;
    for (int d = 0; d < D; d++) {
        double e = (double)zb[(size_t)d * T + t] - (double)c[d];
        s += e * e;
    }
    return s;
}

void vcn_vq_quantize(const vq *q, float *zq, int *idx, const float *z, int B, int T,
                     float *scratch) {
    const int N = q->N, D = q->D;
    const float *cb = q->codebook;       // (N, D)
    float *scores = scratch;             // (T, N) -2 z.c, then + ||c||^2
    float *cn = scratch + (size_t)T * N; // (N) ||c||^2
    double cmax = 0.0;
    for (int k = 0; k < N; k++) {
        double s = 0.0;
        for (int d = 0; d < D; d++) s += (double)cb[(size_t)k * D + d] * cb[(size_t)k * D + d];
        cn[k] = (float)s;
        if (s > cmax) cmax = s;
    }
    for (int b = 0; b < B; b++) {
        const float *zb = z + (size_t)b * D * T; // (D, T)
        /* scores (T, N) = -2 * zb^T (T, D) x C^T (D, N) */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasTrans, T, N, D, -2.0f, zb, T, cb, D, 0.0f,
                    scores, N);
#pragma omp parallel for schedule(static)
        for (int t = 0; t < T; t++) {
            const float *s = scores + (size_t)t * N;
            float best = INFINITY;
            int bi = 0;
            for (int k = 0; k < N; k++) {
                float v = s[k] + cn[k];
                if (v < best) {
                    best = v;
                    bi = k;
                }
            }
            /* Rounding in the float distances (dot products of length D, the norms, the sum) is
             * bounded by about (D + 2) * u * (||z||^2 + 2 ||c||^2) per code (u = FLT_EPSILON / 2),
             * so any code within twice that of the best may truly be nearest: compare those
             * exactly. Usually the best is the only one. */
            double zn = 0.0;
            for (int d = 0; d < D; d++) zn += (double)zb[(size_t)d * T + t] * zb[(size_t)d * T + t];
            float margin = (float)((D + 2) * (double)FLT_EPSILON * (zn + 2.0 * cmax));
            double bestd = -1.0;
            for (int k = 0; k < N; k++) {
                if (k == bi || !(s[k] + cn[k] <= best + margin)) continue;
                if (bestd < 0.0) bestd = dist2(zb, T, t, cb + (size_t)bi * D, D);
                double dk = dist2(zb, T, t, cb + (size_t)k * D, D);
                if (dk < bestd || (dk == bestd && k < bi)) {
                    bestd = dk;
                    bi = k;
                }
            }
            idx[(size_t)b * T + t] = bi;
        }
    }
    if (!zq) return;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++)
        for (int d = 0; d < D; d++) {
            float *o = zq + ((size_t)b * D + d) * T;
            const int *ib = idx + (size_t)b * T;
            for (int t = 0; t < T; t++) o[t] = cb[(size_t)ib[t] * D + d];
        }
}

double vcn_vq_commit_loss(const vq *q, const float *z, const float *zq, int B, int T) {
    size_t n = (size_t)B * q->D * T;
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = (double)z[i] - (double)zq[i];
        s += e * e;
    }
    return q->beta * s / (double)n;
}

void vcn_vq_backward(const vq *q, float *dz, const float *dzq, const float *z, const float *zq,
                     int B, int T) {
    size_t n = (size_t)B * q->D * T;
    float g = (float)(2.0 * q->beta / (double)n);
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) dz[i] += dzq[i] + g * (z[i] - zq[i]);
}

/* counts (N) and sums (D, N) of the frames assigned to each code. sums is code-minor so that the
 * threads, one range of d each, write disjoint memory; each sum runs in frame order. */
static void accumulate(const vq *q, float *sums, float *counts, const float *z, const int *idx,
                       int B, int T) {
    const int N = q->N, D = q->D;
    memset(counts, 0, sizeof(float) * (size_t)N);
    for (size_t i = 0; i < (size_t)B * T; i++) {
        VC_ASSERT(idx[i] >= 0 && idx[i] < N);
        counts[idx[i]] += 1.0f;
    }
#pragma omp parallel for schedule(static)
    for (int d = 0; d < D; d++) {
        float *sd = sums + (size_t)d * N;
        memset(sd, 0, sizeof(float) * (size_t)N);
        for (int b = 0; b < B; b++) {
            const float *zr = z + ((size_t)b * D + d) * T;
            const int *ib = idx + (size_t)b * T;
            for (int t = 0; t < T; t++) sd[ib[t]] += zr[t];
        }
    }
}

size_t vcn_vq_ema_stats_size(const vq *q) {
    return (size_t)q->D * q->N + (size_t)q->N;
}

void vcn_vq_ema_stats(const vq *q, float *stats, const float *z, const int *idx, int B, int T) {
    accumulate(q, stats, stats + (size_t)q->D * q->N, z, idx, B, T);
}

void vcn_vq_ema_apply(vq *q, const float *stats) {
    const int N = q->N, D = q->D;
    const float *sums = stats;                   // (D, N)
    const float *counts = stats + (size_t)D * N; // (N)
    const float a = q->decay, c = 1.0f - q->decay;
    double n = 0.0;
    for (int k = 0; k < N; k++) {
        q->ema_count[k] = a * q->ema_count[k] + c * counts[k];
        n += q->ema_count[k];
    }
#pragma omp parallel for schedule(static)
    for (int k = 0; k < N; k++) {
        float *es = q->ema_sum + (size_t)k * D;
        for (int d = 0; d < D; d++) es[d] = a * es[d] + c * sums[(size_t)d * N + k];
        double smoothed = ((double)q->ema_count[k] + q->eps) / (n + (double)N * q->eps) * n;
        if (!(smoothed > 0.0)) continue; /* no mass at all: nothing to average */
        float *ck = q->codebook + (size_t)k * D;
        for (int d = 0; d < D; d++) ck[d] = (float)(es[d] / smoothed);
    }
}

void vcn_vq_ema_update(vq *q, const float *z, const int *idx, int B, int T, float *scratch) {
    vcn_vq_ema_stats(q, scratch, z, idx, B, T);
    vcn_vq_ema_apply(q, scratch);
}

/* Frame i (of B*T) of z (B, D, T) into v (D). */
static void get_frame(float *v, const float *z, int D, int T, size_t i) {
    size_t b = i / (size_t)T, t = i % (size_t)T;
    for (int d = 0; d < D; d++) v[d] = z[(b * D + d) * T + t];
}

static size_t rand_below(vc_rng *rng, size_t n) {
    uint64_t r = ((uint64_t)vcu_rng_u32(rng) << 32) | vcu_rng_u32(rng);
    return (size_t)(r % n);
}

/* Adds N(0, (scale * rms(v))^2) noise to v (D). */
static void jitter(float *v, int D, float scale, vc_rng *rng) {
    double s = 0.0;
    for (int d = 0; d < D; d++) s += (double)v[d] * v[d];
    float sd = scale * (float)sqrt(s / D);
    for (int d = 0; d < D; d++) v[d] += sd * vcu_rng_normal(rng);
}

/* k-means++ seeding; mind (B*T) is scratch. */
static void kmeanspp_seed(vq *q, const float *z, int B, int T, vc_rng *rng, float *mind) {
    const int N = q->N, D = q->D;
    const size_t n = (size_t)B * T;
    get_frame(q->codebook, z, D, T, rand_below(rng, n));
    for (int k = 1; k < N; k++) {
        const float *c = q->codebook + (size_t)(k - 1) * D; /* the code placed last */
#pragma omp parallel for schedule(static)
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++) {
                size_t i = (size_t)b * T + t;
                float dd = (float)dist2(z + (size_t)b * D * T, T, t, c, D);
                if (k == 1 || dd < mind[i]) mind[i] = dd;
            }
        double total = 0.0;
        for (size_t i = 0; i < n; i++) total += mind[i];
        size_t pick = 0;
        if (total > 0.0) {
            double u = vcu_rng_uniform(rng) * total, acc = 0.0;
            for (size_t i = 0; i < n; i++) {
                if (!(mind[i] > 0.0f)) continue;
                pick = i; /* the last positive one if rounding leaves u >= the final sum */
                acc += mind[i];
                if (u < acc) break;
            }
        } else {
            pick = rand_below(rng, n); /* every frame is already a code */
        }
        float *ck = q->codebook + (size_t)k * D;
        get_frame(ck, z, D, T, pick);
        if (total <= 0.0) jitter(ck, D, 1e-3f, rng);
    }
}

/* One Lloyd step from assignments idx: each non-empty cluster's code moves to its mean. */
static void lloyd_step(vq *q, const float *z, const int *idx, int B, int T, float *scratch) {
    const int N = q->N, D = q->D;
    float *sums = scratch;                   // (D, N)
    float *counts = scratch + (size_t)D * N; // (N)
    accumulate(q, sums, counts, z, idx, B, T);
    for (int k = 0; k < N; k++) {
        if (counts[k] == 0.0f) continue;
        for (int d = 0; d < D; d++)
            q->codebook[(size_t)k * D + d] = sums[(size_t)d * N + k] / counts[k];
    }
}

void vcn_vq_init_from_data(vq *q, vq_init_kind kind, int lloyd_iters, const float *z, int B, int T,
                           vc_rng *rng, int *idx, float *scratch) {
    const int N = q->N, D = q->D;
    const size_t n = (size_t)B * T;
    VC_ASSERT(n > 0);
    if (kind == VC_VQ_INIT_SAMPLE) {
        /* Partial Fisher-Yates over frame numbers (kept in idx) for distinct picks. */
        for (size_t i = 0; i < n; i++) idx[i] = (int)i;
        for (int k = 0; k < N; k++) {
            size_t j = (size_t)k % n;
            if (j == (size_t)k) { /* first pass over the frames: draw without replacement */
                size_t r = j + rand_below(rng, n - j);
                int tmp = idx[j];
                idx[j] = idx[r];
                idx[r] = tmp;
            }
            float *ck = q->codebook + (size_t)k * D;
            get_frame(ck, z, D, T, (size_t)idx[j]);
            if ((size_t)k >= n) jitter(ck, D, 1e-3f, rng); /* a repeat of an earlier frame */
        }
        float cnt = (float)n / (float)N;
        for (int k = 0; k < N; k++) {
            q->ema_count[k] = cnt;
            for (int d = 0; d < D; d++)
                q->ema_sum[(size_t)k * D + d] = cnt * q->codebook[(size_t)k * D + d];
        }
        return;
    }
    VC_ASSERT(kind == VC_VQ_INIT_KMEANS);
    kmeanspp_seed(q, z, B, T, rng, scratch);
    for (int it = 0; it < lloyd_iters; it++) {
        vcn_vq_quantize(q, NULL, idx, z, B, T, scratch);
        lloyd_step(q, z, idx, B, T, scratch);
    }
    vcn_vq_quantize(q, NULL, idx, z, B, T, scratch);
    vcn_vq_counts(q, q->ema_count, idx, B, T);
    for (int k = 0; k < N; k++)
        for (int d = 0; d < D; d++)
            q->ema_sum[(size_t)k * D + d] = q->ema_count[k] * q->codebook[(size_t)k * D + d];
}

int vcn_vq_reseed_dead(vq *q, const float *z, int B, int T, float threshold, vc_rng *rng) {
    const int N = q->N, D = q->D;
    int reseeded = 0;
    for (int k = 0; k < N; k++) {
        if (!(q->ema_count[k] < threshold)) continue;
        float *ck = q->codebook + (size_t)k * D;
        get_frame(ck, z, D, T, rand_below(rng, (size_t)B * T));
        jitter(ck, D, 1e-3f, rng);
        q->ema_count[k] = threshold;
        for (int d = 0; d < D; d++) q->ema_sum[(size_t)k * D + d] = threshold * ck[d];
        reseeded++;
    }
    return reseeded;
}

void vcn_vq_counts(const vq *q, float *counts, const int *idx, int B, int T) {
    memset(counts, 0, sizeof(float) * (size_t)q->N);
    for (size_t i = 0; i < (size_t)B * T; i++) {
        VC_ASSERT(idx[i] >= 0 && idx[i] < q->N);
        counts[idx[i]] += 1.0f;
    }
}

vq_health vcn_vq_health_from_counts(const float *counts, int N) {
    vq_health h = {0.0, 0.0, 0};
    double total = 0.0;
    for (int k = 0; k < N; k++) total += counts[k] > 0.0f ? counts[k] : 0.0f;
    if (!(total > 0.0)) return h;
    double ent = 0.0;
    for (int k = 0; k < N; k++) {
        if (!(counts[k] > 0.0f)) continue;
        double p = counts[k] / total;
        ent -= p * log(p);
        h.used++;
    }
    h.perplexity = exp(ent);
    h.used_share = (double)h.used / N;
    return h;
}
