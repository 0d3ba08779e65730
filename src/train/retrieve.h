/* Retrieval in training: the decoder's retrieval input (model/retrieval.h) for a batch.
 *
 * Each item's content frames retrieve from its speaker segment xs (another utterance of the
 * same speaker where the corpus has one, batch.h): the content encoder runs, without
 * gradients, on the content input (augmented, so the query's voice differs from the
 * reference's as a source's does at conversion) and on xs; each content frame takes the mean
 * normalised log-mel of its VCM_RETRIEVAL_K nearest xs frames. So the decoder learns to render
 * a speaker's own frames matched by content and to fill in where they match poorly, as a short
 * reference leaves it to at conversion. Items without retrieval get r = 0 (flag 0), so the
 * model also learns to do without (a voice without frames).
 */
#ifndef VC_TRAIN_RETRIEVE_H
#define VC_TRAIN_RETRIEVE_H

#include "model/model.h"

typedef struct vct_retriever {
    vcm_workspace ws; /* content forwards of one segment (max(T, Ts) frames) */
    int B, T, Ts, M, C;
    float *qf;     // (T, C) one item's query features
    float *pf;     // (Ts, C) its reference features
    float *pmel;   // (Ts, M) its reference frames, frame-major
    float *sim;    // (T, Ts)
    float *best;   // (k)
    float *hwork;  // (C, max(T, Ts))
    double *dwork; // (2 (max(T, Ts) + 1))
    int *idx;      // (T, k)
} vct_retriever;

/* For batches of up to B items of T content and Ts speaker frames. VC_ERR_NOMEM. */
VC_WARN_UNUSED vc_status vct_retriever_init(vct_retriever *rt, const vcm_model *m, int B, int T,
                                            int Ts);
void vct_retriever_free(vct_retriever *rt);

/* r (B, M + 1, T) for the batch's content input xc (B, M, T) and speaker segments xs
 * (B, M, Ts): item b retrieves when use[b] is non-zero (use NULL: every item), else all 0. */
void vct_retrieve(vct_retriever *rt, const vcm_model *m, const float *xc, const float *xs, int B,
                  const unsigned char *use, float *r);

#endif
