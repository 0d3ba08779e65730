/* Nearest neighbours by cosine: the search behind frame matching at conversion
 * (convert/match.h) and the decoder's retrieval input in training (model/retrieval.h).
 *
 * Rows are L2-normalised by the caller, so a dot product is a cosine; all similarities of T
 * queries to N pool rows come from one sgemm, then each query keeps its k best.
 */
#ifndef VC_NN_KNN_H
#define VC_NN_KNN_H

#include "common.h"

/* The k rows of pool (N, D) most similar to each query row of q (T, D) into idx (T, k), most
 * similar first; ties go to the earlier pool row. sim: (T, N) scratch (the similarities are
 * left there); best: (k) scratch. Needs 1 <= k <= N. */
void vcn_knn_cosine(const float *q, int T, const float *pool, int N, int D, int k, float *sim,
                    int *idx, float *best);

/* The same over two spaces at once: a query's similarity to a pool row is
 * (1 - w) cos(q, pool) + w cos(q2, pool2), with q2 (T, D2) and pool2 (N, D2) the same frames'
 * features in a second space, also L2-normalised rows. */
void vcn_knn_cosine_mix(const float *q, const float *pool, int D, const float *q2,
                        const float *pool2, int D2, float w, int T, int N, int k, float *sim,
                        int *idx, float *best);

/* Scales v (n) to unit L2 norm; an all-zero row stays zero. */
void vcn_l2_normalise(float *v, int n);

#endif
