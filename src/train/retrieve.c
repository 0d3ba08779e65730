/* Retrieval in training; see retrieve.h. */
#include "train/retrieve.h"

#include "model/retrieval.h"
#include "nn/knn.h"

#include <string.h>

vc_status vct_retriever_init(vct_retriever *rt, const vcm_model *m, int B, int T, int Ts) {
    memset(rt, 0, sizeof *rt);
    int Tm = T > Ts ? T : Ts, C = m->cfg.channels, k = VCM_RETRIEVAL_K;
    Tm += Tm & 1; /* the content encoder takes even lengths */
    rt->B = B, rt->T = T, rt->Ts = Ts, rt->M = m->cfg.n_mels, rt->C = C;
    vc_status st = vcm_workspace_init(&rt->ws, m, 1, Tm, 1);
    if (st != VC_OK) return st;
    rt->qf = malloc(sizeof(float) * (size_t)T * C);
    rt->pf = malloc(sizeof(float) * (size_t)Ts * C);
    rt->pmel = malloc(sizeof(float) * (size_t)Ts * rt->M);
    rt->sim = malloc(sizeof(float) * (size_t)T * Ts);
    rt->best = malloc(sizeof(float) * k);
    rt->hwork = malloc(sizeof(float) * (size_t)C * Tm);
    rt->dwork = malloc(sizeof(double) * 2 * ((size_t)Tm + 1));
    rt->idx = malloc(sizeof(int) * (size_t)T * k);
    if (!rt->qf || !rt->pf || !rt->pmel || !rt->sim || !rt->best || !rt->hwork || !rt->dwork ||
        !rt->idx) {
        vct_retriever_free(rt);
        return VC_ERR_NOMEM;
    }
    return VC_OK;
}

void vct_retriever_free(vct_retriever *rt) {
    if (!rt) return;
    vcm_workspace_free(&rt->ws);
    free(rt->qf);
    free(rt->pf);
    free(rt->pmel);
    free(rt->sim);
    free(rt->best);
    free(rt->hwork);
    free(rt->dwork);
    free(rt->idx);
    memset(rt, 0, sizeof *rt);
}

void vct_retrieve(vct_retriever *rt, const vcm_model *m, const float *xc, const float *xs, int B,
                  const unsigned char *use, float *r) {
    const int T = rt->T, Ts = rt->Ts, M = rt->M, C = rt->C, k = VCM_RETRIEVAL_K;
    const size_t nr = (size_t)(M + 1) * T;
    VC_ASSERT(B <= rt->B && T % 2 == 0 && Ts % 2 == 0 && Ts >= k);
    memset(r, 0, sizeof(float) * nr * (size_t)B);
    /* item by item: the workspace's content activations hold one segment at a time */
    for (int b = 0; b < B; b++) {
        if (use && !use[b]) continue;
        const float *xsb = xs + (size_t)b * M * Ts;
        vcm_content_forward(m, &rt->ws, xsb, 1, Ts);
        vcm_hidden_features(m, &rt->ws, 0, Ts, Ts, rt->pf, rt->hwork, rt->dwork);
        vcm_content_forward(m, &rt->ws, xc + (size_t)b * M * T, 1, T);
        vcm_hidden_features(m, &rt->ws, 0, T, T, rt->qf, rt->hwork, rt->dwork);
        vcn_knn_cosine(rt->qf, T, rt->pf, Ts, C, k, rt->sim, rt->idx, rt->best);
        for (int t = 0; t < Ts; t++)
            for (int c = 0; c < M; c++) rt->pmel[(size_t)t * M + c] = xsb[(size_t)c * Ts + t];
        vcm_retrieval_gather(M, rt->pmel, rt->idx, T, k, r + (size_t)b * nr, T);
    }
}
