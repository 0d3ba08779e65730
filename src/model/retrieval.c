/* The decoder's retrieval input; see retrieval.h. */
#include "model/retrieval.h"

#include "nn/knn.h"
#include "nn/norm.h"

#include <string.h>

int vcm_retrieval_channels(const vcm_config *c) {
    return c->retrieval ? c->n_mels + 1 : 0;
}

void vcm_hidden_features(const vcm_model *m, const vcm_workspace *ws, int b, int T, int Tf,
                         float *out, float *hwork, double *scratch) {
    const int C = m->cfg.channels, R = m->cfg.res_blocks;
    VC_ASSERT(T <= Tf && Tf <= ws->T && b < ws->B);
    const float *h = (R > 0 ? ws->res[R - 1].h.v : ws->c_h.v) + (size_t)b * C * Tf; // (C, Tf)
    int window = ws->norm_window > 0 ? ws->norm_window : Tf;
    vcn_norm_local_forward(hwork, h, NULL, NULL, 1, C, Tf, window, VCM_NORM_EPS, scratch);
    for (int t = 0; t < T; t++) {
        for (int c = 0; c < C; c++) out[(size_t)t * C + c] = hwork[(size_t)c * Tf + t];
        vcn_l2_normalise(out + (size_t)t * C, C);
    }
}

void vcm_retrieval_gather(int M, const float *mel, const int *idx, int T, int k, float *r,
                          int stride) {
    const float inv = 1.0f / (float)k;
    for (int t = 0; t < T; t++) {
        for (int c = 0; c < M; c++) r[(size_t)c * stride + t] = 0.0f;
        for (int j = 0; j < k; j++) {
            const float *row = mel + (size_t)idx[(size_t)t * k + j] * M;
            for (int c = 0; c < M; c++) r[(size_t)c * stride + t] += row[c];
        }
        for (int c = 0; c < M; c++) r[(size_t)c * stride + t] *= inv;
        r[(size_t)M * stride + t] = 1.0f;
    }
}
