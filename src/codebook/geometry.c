/* Geometry of a model's codebook: norms, nearest neighbours, and a 2-D principal-component
 * projection (vconv.h, vc_codebook_geometry_of). */
#include "common.h"
#include "model/handle.h"

#include <math.h>
#include <string.h>

#define PCA_ITERS 200

/* Leading eigenvector of the symmetric (D, D) matrix c by power iteration from a fixed start
 * (deterministic); returns its eigenvalue. v: (D). */
static double power_iteration(const double *c, int D, double *v, double *tmp) {
    for (int i = 0; i < D; i++) v[i] = 1.0 / sqrt((double)D) * (1.0 + 0.01 * i);
    double lambda = 0.0;
    for (int it = 0; it < PCA_ITERS; it++) {
        double norm = 0.0;
        for (int i = 0; i < D; i++) {
            double s = 0.0;
            for (int j = 0; j < D; j++) s += c[(size_t)i * D + j] * v[j];
            tmp[i] = s;
            norm += s * s;
        }
        norm = sqrt(norm);
        if (norm < 1e-30) return 0.0;
        for (int i = 0; i < D; i++) v[i] = tmp[i] / norm;
        lambda = norm;
    }
    return lambda;
}

vc_status vc_codebook_geometry_of(const vc_model *model, vc_codebook_geometry *out) {
    if (!model || !out) return VC_ERR_ARG;
    memset(out, 0, sizeof *out);
    const vcm_model *m = vcm_model_internal(model);
    const int N = m->cfg.codebook_size, D = m->cfg.code_dim;
    const float *cb = m->vq.codebook; // (N, D)
    out->norms = malloc(sizeof(float) * (size_t)N);
    out->nn_dist = malloc(sizeof(float) * (size_t)N);
    out->nn_index = malloc(sizeof(int) * (size_t)N);
    out->pca = malloc(sizeof(float) * 2 * (size_t)N);
    double *cov = calloc((size_t)D * D + 4 * (size_t)D, sizeof(double));
    if (!out->norms || !out->nn_dist || !out->nn_index || !out->pca || !cov) {
        free(cov);
        vc_codebook_geometry_free(out);
        return VC_ERR_NOMEM;
    }
    double *mean = cov + (size_t)D * D, *v1 = mean + D, *v2 = v1 + D, *tmp = v2 + D;
    out->n = N;
    out->dim = D;
    for (int i = 0; i < N; i++) {
        double s = 0.0;
        for (int d = 0; d < D; d++) s += (double)cb[(size_t)i * D + d] * cb[(size_t)i * D + d];
        out->norms[i] = (float)sqrt(s);
        double best = INFINITY;
        int arg = -1;
        for (int j = 0; j < N; j++) {
            if (j == i) continue;
            double e = 0.0;
            for (int d = 0; d < D; d++) {
                double x = (double)cb[(size_t)i * D + d] - cb[(size_t)j * D + d];
                e += x * x;
            }
            if (e < best) best = e, arg = j;
        }
        out->nn_dist[i] = arg >= 0 ? (float)sqrt(best) : 0.0f;
        out->nn_index[i] = arg;
    }
    /* covariance of the codes (population), then the two leading axes (deflation) */
    for (int i = 0; i < N; i++)
        for (int d = 0; d < D; d++) mean[d] += cb[(size_t)i * D + d] / (double)N;
    double total = 0.0;
    for (int i = 0; i < N; i++)
        for (int a = 0; a < D; a++) {
            double xa = cb[(size_t)i * D + a] - mean[a];
            total += xa * xa / N;
            for (int b = 0; b < D; b++)
                cov[(size_t)a * D + b] += xa * (cb[(size_t)i * D + b] - mean[b]) / N;
        }
    double l1 = power_iteration(cov, D, v1, tmp);
    for (int a = 0; a < D; a++)
        for (int b = 0; b < D; b++) cov[(size_t)a * D + b] -= l1 * v1[a] * v1[b];
    double l2 = D > 1 ? power_iteration(cov, D, v2, tmp) : 0.0;
    out->pca_share[0] = total > 0.0 ? l1 / total : 0.0;
    out->pca_share[1] = total > 0.0 ? l2 / total : 0.0;
    for (int i = 0; i < N; i++) {
        double p1 = 0.0, p2 = 0.0;
        for (int d = 0; d < D; d++) {
            double x = cb[(size_t)i * D + d] - mean[d];
            p1 += x * v1[d];
            p2 += x * v2[d];
        }
        out->pca[2 * i] = (float)p1;
        out->pca[2 * i + 1] = (float)p2;
    }
    free(cov);
    return VC_OK;
}

void vc_codebook_geometry_free(vc_codebook_geometry *g) {
    if (!g) return;
    free(g->norms);
    free(g->nn_dist);
    free(g->nn_index);
    free(g->pca);
    memset(g, 0, sizeof *g);
}
