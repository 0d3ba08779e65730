/* The vector quantizer: true argmin against brute force, commitment loss and its gradient
 * (directly and by finite differences), straight-through gradient, EMA update (formula, k-means
 * step at decay 0, distortion never increases), k-means initialisation, dead-code re-seeding,
 * perplexity and usage, and thread-count independence. */
#include "test.h"
#include "gradcheck.h"

#include "nn/vq.h"

#include <float.h>
#include <omp.h>
#include <string.h>

/* Exact squared distance of frame (b, t) of z (B, D, T) to code k, in double. */
static double dist_ref(const vq *q, const float *z, int T, int b, int t, int k) {
    double s = 0.0;
    for (int d = 0; d < q->D; d++) {
        double e = (double)z[((size_t)b * q->D + d) * T + t] - q->codebook[(size_t)k * q->D + d];
        s += e * e;
    }
    return s;
}

/* Sum over frames of the exact squared distance to the assigned code. */
static double distortion(const vq *q, const float *z, const int *idx, int B, int T) {
    double s = 0.0;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) s += dist_ref(q, z, T, b, t, idx[b * T + t]);
    return s;
}

/* z (B, D, T): frames drawn around n_clusters centres N(0, 4^2) with spread 0.5. */
static void clustered(float *z, int B, int D, int T, int n_clusters, vc_rng *rng) {
    float *centres = malloc(sizeof(float) * (size_t)n_clusters * D); // (n_clusters, D)
    gc_randn(centres, (size_t)n_clusters * D, 4.0f, rng);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            int c = (int)(vcu_rng_u32(rng) % (uint32_t)n_clusters);
            for (int d = 0; d < D; d++)
                z[((size_t)b * D + d) * T + t] =
                    centres[(size_t)c * D + d] + 0.5f * vcu_rng_normal(rng);
        }
    free(centres);
}

typedef struct vq_buf {
    vq q;
    float *cb, *count, *sum, *scratch; /* codebook (N, D), ema (N), (N, D), scratch */
} vq_buf;

static void vq_buf_init(vq_buf *v, int N, int D, int B, int T) {
    v->q = (vq){N, D, NULL, NULL, NULL, 0.99f, 1e-5f, 0.25f};
    v->cb = calloc((size_t)N * D, sizeof(float));
    v->count = calloc((size_t)N, sizeof(float));
    v->sum = calloc((size_t)N * D, sizeof(float));
    v->q.codebook = v->cb;
    v->q.ema_count = v->count;
    v->q.ema_sum = v->sum;
    v->scratch = malloc(sizeof(float) * vcn_vq_scratch_size(&v->q, B, T));
}

static void vq_buf_free(vq_buf *v) {
    free(v->cb);
    free(v->count);
    free(v->sum);
    free(v->scratch);
}

static void test_argmin(vc_rng *rng) {
    const int B = 3, T = 200, D = 16, N = 64;
    vq_buf v;
    vq_buf_init(&v, N, D, B, T);
    vq *q = &v.q;
    float *z = malloc(sizeof(float) * (size_t)B * D * T);  // (B, D, T)
    float *zq = malloc(sizeof(float) * (size_t)B * D * T); // (B, D, T)
    int *idx = malloc(sizeof(int) * (size_t)B * T);        // (B, T)
    int exact = 0, near = 0, bad = 0, frames = 0, tie_ok = 0, ties = 0;
    /* Two data sets: centred, and offset by 100 with spread 1, where the GEMM form
     * ||z||^2 - 2 z.c + ||c||^2 cancels badly (distances ~1e-4 of the norms). */
    for (int set = 0; set < 2; set++) {
        float off = set ? 100.0f : 0.0f;
        for (size_t i = 0; i < (size_t)N * D; i++) v.cb[i] = off + vcu_rng_normal(rng);
        for (size_t i = 0; i < (size_t)B * D * T; i++) z[i] = off + vcu_rng_normal(rng);
        /* Exact ties among frames near codes 9 and 11: code 5 duplicates code 9 (the tie goes
         * to the lower index, 5); code 20 is code 11 with coordinate 0 moved by 1/16, and those
         * frames sit at 1/32 in that coordinate, midway. Coordinate 0 of code 11 is rounded to
         * a multiple of 2^-10 first so that these sums are exact in float. */
        memcpy(v.cb + 5 * D, v.cb + 9 * D, sizeof(float) * D);
        v.cb[11 * D] = roundf(v.cb[11 * D] * 1024.0f) / 1024.0f;
        memcpy(v.cb + 20 * D, v.cb + 11 * D, sizeof(float) * D);
        v.cb[20 * D] = v.cb[11 * D] + 1.0f / 16.0f;
        for (int t = 0; t < 20; t++) {
            int code = t < 10 ? 9 : 11;
            for (int d = 0; d < D; d++)
                z[(size_t)d * T + t] = v.cb[code * D + d] + 0.01f * vcu_rng_normal(rng);
            if (code == 11) z[t] = v.cb[11 * D] + 1.0f / 32.0f;
        }
        vcn_vq_quantize(q, zq, idx, z, B, T, v.scratch);
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++) {
                int best = 0;
                double dmin = dist_ref(q, z, T, b, t, 0);
                for (int k = 1; k < N; k++) {
                    double dk = dist_ref(q, z, T, b, t, k);
                    if (dk < dmin) dmin = dk, best = k;
                }
                int got = idx[b * T + t];
                double dg = dist_ref(q, z, T, b, t, got);
                frames++;
                if (got == best)
                    exact++;
                else if (dg <= dmin * (1.0 + 1e-5))
                    near++;
                else
                    bad++;
                if (b == 0 && t < 20) {
                    ties++;
                    tie_ok += got == (t < 10 ? 5 : 11);
                }
                for (int d = 0; d < D; d++)
                    if (zq[((size_t)b * D + d) * T + t] != v.cb[(size_t)got * D + d]) bad++;
            }
    }
    /* Rounding in the GEMM could in principle pick a code whose exact distance is within a tiny
     * epsilon of the minimum; such picks (within 1e-5 relative, in double) are accepted and
     * counted. vcn_vq_quantize re-checks near-best codes exactly, so none are expected. */
    fprintf(stderr,
            "argmin: %d frames: %d exact argmin, %d near-ties accepted (<= 1e-5 rel), %d wrong; "
            "constructed exact ties resolved to the lowest index: %d/%d\n",
            frames, exact, near, bad, tie_ok, ties);
    CHECK(bad == 0);
    CHECK(tie_ok == ties);
    /* zq may be NULL. */
    int *idx2 = malloc(sizeof(int) * (size_t)B * T);
    vcn_vq_quantize(q, NULL, idx2, z, B, T, v.scratch);
    CHECK(!memcmp(idx, idx2, sizeof(int) * (size_t)B * T));
    free(idx2);
    free(z);
    free(zq);
    free(idx);
    vq_buf_free(&v);
}

typedef struct commit_ctx {
    vq *q;
    float *z, *zq, *scratch;
    int *idx;
    int B, T;
    double base;
} commit_ctx;

/* out[0] = commitment loss minus its value at the unperturbed point: subtracting in double
 * before rounding to float keeps the small differences the harness takes exact. */
static void commit_forward(void *ctx, float *out) {
    commit_ctx *c = ctx;
    vcn_vq_quantize(c->q, c->zq, c->idx, c->z, c->B, c->T, c->scratch);
    out[0] = (float)(vcn_vq_commit_loss(c->q, c->z, c->zq, c->B, c->T) - c->base);
}

static void test_commit(vc_rng *rng) {
    const int B = 2, T = 24, D = 8, N = 32;
    const size_t n = (size_t)B * D * T;
    vq_buf v;
    vq_buf_init(&v, N, D, B, T);
    vq *q = &v.q;
    float *z = malloc(sizeof(float) * n), *zq = malloc(sizeof(float) * n); // (B, D, T)
    float *dz = malloc(sizeof(float) * n), *dzq = malloc(sizeof(float) * n);
    float *dz0 = malloc(sizeof(float) * n), *want = malloc(sizeof(float) * n);
    int *idx = malloc(sizeof(int) * (size_t)B * T);
    gc_randn(v.cb, (size_t)N * D, 1.0f, rng);
    /* Frames scattered around random codes, each kept at least 0.05 (in squared distance)
     * closer to its code than to any other: a perturbation of 1e-4 in one coordinate moves a
     * squared distance by ~1e-4 * |z - c|, so no argmin flips inside the finite differences. */
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            int k = (int)(vcu_rng_u32(rng) % (uint32_t)N);
            float noise[8];
            gc_randn(noise, (size_t)D, 0.5f, rng);
            for (float s = 1.0f;; s *= 0.5f) {
                for (int d = 0; d < D; d++)
                    z[((size_t)b * D + d) * T + t] = v.cb[k * D + d] + s * noise[d];
                double dk = dist_ref(q, z, T, b, t, k), gap = INFINITY;
                for (int j = 0; j < N; j++)
                    if (j != k) gap = fmin(gap, dist_ref(q, z, T, b, t, j) - dk);
                if (gap > 0.05) break;
            }
        }
    vcn_vq_quantize(q, zq, idx, z, B, T, v.scratch);

    /* Loss against a naive loop over (b, d, t). */
    double naive = 0.0;
    for (int b = 0; b < B; b++)
        for (int d = 0; d < D; d++)
            for (int t = 0; t < T; t++) {
                double e = (double)z[((size_t)b * D + d) * T + t] -
                           (double)v.cb[(size_t)idx[b * T + t] * D + d];
                naive += e * e;
            }
    naive *= q->beta / (double)n;
    double loss = vcn_vq_commit_loss(q, z, zq, B, T);
    fprintf(stderr, "commit loss %.9g, naive %.9g\n", loss, naive);
    CHECK_NEAR(loss, naive, 0.0, 1e-12); /* both double sums over the same float terms */

    /* Straight-through plus commitment, added into a non-zero dz. */
    gc_randn(dz0, n, 1.0f, rng);
    gc_randn(dzq, n, 1.0f, rng);
    memcpy(dz, dz0, sizeof(float) * n);
    vcn_vq_backward(q, dz, dzq, z, zq, B, T);
    for (size_t i = 0; i < n; i++)
        want[i] = (float)((double)dz0[i] + dzq[i] + 2.0 * q->beta / (double)n * (z[i] - zq[i]));
    /* A few float roundings of O(1) values. */
    CHECK(check_tensor("dz = dz0 + dzq + 2 beta/(BTD) (z - zq)", dz, want, n, 1e-6, 1e-6));
    /* With dzq = 0 only the commitment term: checked against finite differences below. */
    memset(dz, 0, sizeof(float) * n);
    memset(dzq, 0, sizeof(float) * n);
    vcn_vq_backward(q, dz, dzq, z, zq, B, T);

    float out[1], r[1] = {1.0f};
    commit_ctx c = {q, z, zq, v.scratch, idx, B, T, 0.0};
    c.base = vcn_vq_commit_loss(q, z, zq, B, T);
    gc_loss L = {commit_forward, &c, out, r, 1};
    /* The loss is quadratic between argmin flips, so central differences are exact up to
     * rounding. A flip inside [z - eps, z + eps] would bend the loss (it stays continuous: both
     * codes are equidistant there), which the harness need not see as a kink; the frames above
     * keep clear of that. Loss differences are ~1e-7, far above the float resolution of out;
     * the gradient entries are ~1e-3, so atol 1e-8 is far below them. */
    gc_opts o = {1e-4, 1e-8, 1e-3, 300, 0.05};
    CHECK(gradcheck("commit loss wrt z", &L, z, dz, n, &o, rng));
    free(z);
    free(zq);
    free(dz);
    free(dzq);
    free(dz0);
    free(want);
    free(idx);
    vq_buf_free(&v);
}

/* EMA update against the formula in double, decay 0 as a k-means step, and the distortion of a
 * fixed batch under repeated quantize + update. */
static void test_ema(vc_rng *rng) {
    const int B = 4, T = 64, D = 8, N = 16;
    const size_t n = (size_t)B * D * T;
    vq_buf v;
    vq_buf_init(&v, N, D, B, T);
    vq *q = &v.q;
    float *z = malloc(sizeof(float) * n);
    int *idx = malloc(sizeof(int) * (size_t)B * T);
    float *want = malloc(sizeof(float) * (size_t)N * D);
    double *sums = malloc(sizeof(double) * (size_t)N * D), cnt[16];
    clustered(z, B, D, T, 12, rng);

    /* One update against the formula (decay 0.9, eps 1e-2 so smoothing matters). */
    vcn_vq_init_from_data(q, VC_VQ_INIT_SAMPLE, 0, z, B, T, rng, idx, v.scratch);
    for (int k = 0; k < N; k++) v.count[k] *= 0.5f + vcu_rng_uniform(rng); /* unequal counts */
    q->decay = 0.9f;
    q->eps = 1e-2f;
    vcn_vq_quantize(q, NULL, idx, z, B, T, v.scratch);
    memset(cnt, 0, sizeof cnt);
    memset(sums, 0, sizeof(double) * (size_t)N * D);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            int k = idx[b * T + t];
            cnt[k] += 1.0;
            for (int d = 0; d < D; d++) sums[k * D + d] += z[((size_t)b * D + d) * T + t];
        }
    double ec[16], ntot = 0.0;
    for (int k = 0; k < N; k++) ntot += ec[k] = 0.9 * v.count[k] + 0.1 * cnt[k];
    for (int k = 0; k < N; k++) {
        double sm = (ec[k] + 1e-2) / (ntot + N * 1e-2) * ntot;
        for (int d = 0; d < D; d++)
            want[k * D + d] = (float)((0.9 * v.sum[k * D + d] + 0.1 * sums[k * D + d]) / sm);
    }
    vcn_vq_ema_update(q, z, idx, B, T, v.scratch);
    /* float sums of ~50 values of size ~4 and a few float roundings */
    CHECK(check_tensor("ema update vs formula", v.cb, want, (size_t)N * D, 1e-4, 1e-5));

    /* decay 0, eps 0: exactly a k-means step (used codes to their cluster mean, others kept). */
    q->decay = 0.0f;
    q->eps = 0.0f;
    gc_randn(v.cb, (size_t)N * D, 4.0f, rng);
    vcn_vq_quantize(q, NULL, idx, z, B, T, v.scratch);
    memset(cnt, 0, sizeof cnt);
    memset(sums, 0, sizeof(double) * (size_t)N * D);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            int k = idx[b * T + t];
            cnt[k] += 1.0;
            for (int d = 0; d < D; d++) sums[k * D + d] += z[((size_t)b * D + d) * T + t];
        }
    int unused = 0;
    for (int k = 0; k < N; k++) {
        unused += cnt[k] == 0.0;
        for (int d = 0; d < D; d++)
            want[k * D + d] = cnt[k] > 0.0 ? (float)(sums[k * D + d] / cnt[k]) : v.cb[k * D + d];
    }
    double before = distortion(q, z, idx, B, T);
    vcn_vq_ema_update(q, z, idx, B, T, v.scratch);
    CHECK(check_tensor("decay 0 = k-means step", v.cb, want, (size_t)N * D, 1e-4, 1e-5));
    vcn_vq_quantize(q, NULL, idx, z, B, T, v.scratch);
    double after = distortion(q, z, idx, B, T);
    fprintf(stderr, "k-means step (%d unused codes kept): distortion %.6g -> %.6g\n", unused,
            before, after);
    CHECK(after <= before);

    /* Repeated EMA steps on a fixed batch, EMA state consistent with the codebook: each used
     * code moves along the segment from its old position towards its cluster mean, which cannot
     * increase its cluster's squared distances, and re-assignment only lowers them further.
     * Laplace smoothing shifts a code by ~eps*N/n relative, hence the 1e-5 relative slack. */
    for (int run = 0; run < 2; run++) {
        q->decay = run ? 0.99f : 0.9f;
        q->eps = 1e-5f;
        vcn_vq_init_from_data(q, VC_VQ_INIT_SAMPLE, 0, z, B, T, rng, idx, v.scratch);
        double prev = INFINITY, first = 0.0;
        int increases = 0;
        for (int it = 0; it < 30; it++) {
            vcn_vq_quantize(q, NULL, idx, z, B, T, v.scratch);
            double dist = distortion(q, z, idx, B, T);
            if (it == 0) first = dist;
            if (dist > prev * (1.0 + 1e-5)) {
                increases++;
                fprintf(stderr, "  step %d: distortion %.9g > previous %.9g\n", it, dist, prev);
            }
            prev = dist;
            vcn_vq_ema_update(q, z, idx, B, T, v.scratch);
        }
        fprintf(stderr, "ema decay %.2f: distortion %.6g -> %.6g over 30 steps, %d increases\n",
                (double)q->decay, first, prev, increases);
        CHECK(increases == 0);
        CHECK(prev < first);
    }
    free(z);
    free(idx);
    free(want);
    free(sums);
    vq_buf_free(&v);
}

static void test_init(vc_rng *rng) {
    const int B = 4, T = 100, D = 8, N = 16;
    const size_t n = (size_t)B * D * T;
    vq_buf v;
    vq_buf_init(&v, N, D, B, T);
    vq *q = &v.q;
    float *z = malloc(sizeof(float) * n);
    int *idx = malloc(sizeof(int) * (size_t)B * T);
    clustered(z, B, D, T, 12, rng);

    gc_randn(v.cb, (size_t)N * D, 4.0f, rng); /* random, at the data's scale */
    vcn_vq_quantize(q, NULL, idx, z, B, T, v.scratch);
    double d_rand = distortion(q, z, idx, B, T);
    vcn_vq_init_from_data(q, VC_VQ_INIT_SAMPLE, 0, z, B, T, rng, idx, v.scratch);
    vcn_vq_quantize(q, NULL, idx, z, B, T, v.scratch);
    double d_sample = distortion(q, z, idx, B, T);
    double sc = 0.0;
    for (int k = 0; k < N; k++) sc += v.count[k];
    CHECK_NEAR(sc, B * T, 1e-3, 0.0);
    vc_rng rng_copy = *rng; /* the same k-means++ seeding for both, so Lloyd can only improve it */
    vcn_vq_init_from_data(q, VC_VQ_INIT_KMEANS, 0, z, B, T, rng, idx, v.scratch);
    vcn_vq_quantize(q, NULL, idx, z, B, T, v.scratch);
    double d_pp = distortion(q, z, idx, B, T);
    vcn_vq_init_from_data(q, VC_VQ_INIT_KMEANS, 10, z, B, T, &rng_copy, idx, v.scratch);
    vcn_vq_quantize(q, NULL, idx, z, B, T, v.scratch);
    double d_km = distortion(q, z, idx, B, T);
    fprintf(stderr,
            "init distortion (12 clusters, spread 0.5, %d frames): random %.5g, sampled %.5g, "
            "k-means++ %.5g, k-means++ + 10 Lloyd %.5g (noise floor ~%.5g)\n",
            B * T, d_rand, d_sample, d_pp, d_km, 0.25 * D * B * T);
    CHECK(d_km < d_rand);
    CHECK(d_km < d_sample);
    CHECK(d_km <= d_pp);
    /* EMA state consistent: counts of the final assignment, sums = code * count. */
    float counts[16];
    vcn_vq_counts(q, counts, idx, B, T);
    CHECK(!memcmp(counts, v.count, sizeof counts));
    float want[16 * 8];
    for (int i = 0; i < N * D; i++) want[i] = v.cb[i] * v.count[i / D];
    CHECK(check_tensor("kmeans ema_sum = code * count", v.sum, want, (size_t)N * D, 0.0, 0.0));

    /* Sampling with fewer frames than codes: every frame used, repeats jittered, codes distinct. */
    vcn_vq_init_from_data(q, VC_VQ_INIT_SAMPLE, 0, z, 1, 10, rng, idx, v.scratch);
    int equal = 0;
    for (int a = 0; a < N; a++)
        for (int b = a + 1; b < N; b++)
            equal += !memcmp(v.cb + a * D, v.cb + b * D, sizeof(float) * D);
    CHECK(equal == 0);
    free(z);
    free(idx);
    vq_buf_free(&v);
}

static void test_reseed(vc_rng *rng) {
    const int B = 4, T = 64, D = 8, N = 16;
    const size_t n = (size_t)B * D * T;
    vq_buf v;
    vq_buf_init(&v, N, D, B, T);
    vq *q = &v.q;
    q->decay = 0.9f;
    float *z = malloc(sizeof(float) * n), counts[16];
    int *idx = malloc(sizeof(int) * (size_t)B * T);
    clustered(z, B, D, T, 12, rng);
    vcn_vq_init_from_data(q, VC_VQ_INIT_SAMPLE, 0, z, B, T, rng, idx, v.scratch);
    /* Codes 4.. are moved far from the data: they never win a frame and their counts decay. */
    for (int k = 4; k < N; k++)
        for (int d = 0; d < D; d++) {
            v.cb[k * D + d] = 1000.0f + vcu_rng_normal(rng);
            v.sum[k * D + d] = v.count[k] * v.cb[k * D + d];
        }
    for (int it = 0; it < 30; it++) {
        vcn_vq_quantize(q, NULL, idx, z, B, T, v.scratch);
        vcn_vq_ema_update(q, z, idx, B, T, v.scratch);
    }
    vcn_vq_quantize(q, NULL, idx, z, B, T, v.scratch);
    vcn_vq_counts(q, counts, idx, B, T);
    vq_health before = vcn_vq_health_from_counts(counts, N);
    const float threshold = 1.0f;
    int dead = 0;
    for (int k = 0; k < N; k++) dead += v.count[k] < threshold;
    int got = vcn_vq_reseed_dead(q, z, B, T, threshold, rng);
    vcn_vq_quantize(q, NULL, idx, z, B, T, v.scratch);
    vcn_vq_counts(q, counts, idx, B, T);
    vq_health after = vcn_vq_health_from_counts(counts, N);
    fprintf(stderr,
            "reseed: %d codes below %.1f, %d re-seeded; used %d -> %d of %d (share %.3f -> %.3f), "
            "perplexity %.3f -> %.3f\n",
            dead, (double)threshold, got, before.used, after.used, N, before.used_share,
            after.used_share, before.perplexity, after.perplexity);
    CHECK(dead >= 12);
    CHECK(got == dead);
    CHECK(after.used_share > before.used_share);
    CHECK(after.perplexity > before.perplexity);
    for (int k = 0; k < N; k++) {
        CHECK(v.count[k] >= threshold);
        CHECK(fabsf(v.cb[k * D]) < 100.0f); /* every code now sits among the data */
    }
    CHECK(vcn_vq_reseed_dead(q, z, B, T, threshold, rng) == 0); /* nothing left to revive */
    free(z);
    free(idx);
    vq_buf_free(&v);
}

static void test_health(void) {
    float c[20] = {0};
    for (int k = 0; k < 5; k++) c[3 * k] = 7.0f;
    vq_health h = vcn_vq_health_from_counts(c, 20);
    fprintf(stderr, "uniform over 5 of 20: perplexity %.12g, used share %.3f\n", h.perplexity,
            h.used_share);
    CHECK_NEAR(h.perplexity, 5.0, 1e-12, 0.0);
    CHECK_NEAR(h.used_share, 0.25, 1e-15, 0.0);
    CHECK(h.used == 5);
    /* p = (1/2, 1/4, 1/4): entropy 1.5 ln 2, perplexity 2^1.5, from indices via vcn_vq_counts */
    vq q = {8, 1, NULL, NULL, NULL, 0.0f, 0.0f, 0.0f};
    int idx[8] = {6, 2, 6, 0, 6, 2, 0, 6};
    float counts[8];
    vcn_vq_counts(&q, counts, idx, 2, 4);
    CHECK(counts[6] == 4.0f && counts[2] == 2.0f && counts[0] == 2.0f && counts[1] == 0.0f);
    h = vcn_vq_health_from_counts(counts, 8);
    CHECK_NEAR(h.perplexity, pow(2.0, 1.5), 1e-12, 0.0);
    CHECK_NEAR(h.used_share, 3.0 / 8.0, 1e-15, 0.0);
    memset(c, 0, sizeof c);
    h = vcn_vq_health_from_counts(c, 20);
    CHECK(h.perplexity == 0.0 && h.used == 0);
}

/* The same results with 1 and 3 threads. */
static void test_threads(vc_rng *rng) {
    const int B = 3, T = 50, D = 8, N = 32;
    const size_t n = (size_t)B * D * T;
    vq_buf v;
    vq_buf_init(&v, N, D, B, T);
    float *z = malloc(sizeof(float) * n), *zq1 = malloc(sizeof(float) * n);
    float *zq3 = malloc(sizeof(float) * n), *cb1 = malloc(sizeof(float) * (size_t)N * D);
    int *i1 = malloc(sizeof(int) * (size_t)B * T), *i3 = malloc(sizeof(int) * (size_t)B * T);
    clustered(z, B, D, T, 10, rng);
    gc_randn(v.cb, (size_t)N * D, 4.0f, rng);
    float *cb0 = malloc(sizeof(float) * (size_t)N * D);
    memcpy(cb0, v.cb, sizeof(float) * (size_t)N * D);
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    vcn_vq_quantize(&v.q, zq1, i1, z, B, T, v.scratch);
    vcn_vq_ema_update(&v.q, z, i1, B, T, v.scratch);
    memcpy(cb1, v.cb, sizeof(float) * (size_t)N * D);
    memcpy(v.cb, cb0, sizeof(float) * (size_t)N * D);
    memset(v.count, 0, sizeof(float) * (size_t)N);
    memset(v.sum, 0, sizeof(float) * (size_t)N * D);
    omp_set_num_threads(3);
    vcn_vq_quantize(&v.q, zq3, i3, z, B, T, v.scratch);
    vcn_vq_ema_update(&v.q, z, i3, B, T, v.scratch);
    omp_set_num_threads(saved);
    CHECK(!memcmp(i1, i3, sizeof(int) * (size_t)B * T));
    CHECK(!memcmp(zq1, zq3, sizeof(float) * n));
    CHECK(!memcmp(cb1, v.cb, sizeof(float) * (size_t)N * D));
    free(z);
    free(zq1);
    free(zq3);
    free(cb0);
    free(cb1);
    free(i1);
    free(i3);
    vq_buf_free(&v);
}

int main(void) {
    vc_rng rng;
    vcu_rng_seed(&rng, test_seed(1));
    test_argmin(&rng);
    test_commit(&rng);
    test_ema(&rng);
    test_init(&rng);
    test_reseed(&rng);
    test_health();
    test_threads(&rng);
    return test_finish();
}
