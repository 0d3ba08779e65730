/* Nearest neighbours by cosine; see knn.h. */
#include "nn/knn.h"

#include <cblas.h>
#include <math.h>

void vcn_l2_normalise(float *v, int n) {
    double s = 0.0;
    for (int i = 0; i < n; i++) s += (double)v[i] * v[i];
    float g = s > 1e-20 ? (float)(1.0 / sqrt(s)) : 0.0f;
    for (int i = 0; i < n; i++) v[i] *= g;
}

/* The k largest of row s (N) into idx (k), largest first; on ties the earlier row. */
static void top_k(const float *s, int N, int k, int *idx, float *best) {
    int n = 0;
    for (int j = 0; j < N; j++) {
        float v = s[j];
        if (n == k && !(v > best[k - 1])) continue;
        int i = n < k ? n++ : k - 1;
        while (i > 0 && v > best[i - 1]) {
            best[i] = best[i - 1];
            idx[i] = idx[i - 1];
            i--;
        }
        best[i] = v;
        idx[i] = j;
    }
}

void vcn_knn_cosine(const float *q, int T, const float *pool, int N, int D, int k, float *sim,
                    int *idx, float *best) {
    VC_ASSERT(k >= 1 && k <= N);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, N, D, 1.0f, q, D, pool, D, 0.0f, sim,
                N);
    for (int t = 0; t < T; t++) top_k(sim + (size_t)t * N, N, k, idx + (size_t)t * k, best);
}

void vcn_knn_cosine_mix(const float *q, const float *pool, int D, const float *q2,
                        const float *pool2, int D2, float w, int T, int N, int k, float *sim,
                        int *idx, float *best) {
    VC_ASSERT(k >= 1 && k <= N);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, N, D, 1.0f - w, q, D, pool, D, 0.0f,
                sim, N);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, N, D2, w, q2, D2, pool2, D2, 1.0f, sim,
                N);
    for (int t = 0; t < T; t++) top_k(sim + (size_t)t * N, N, k, idx + (size_t)t * k, best);
}
