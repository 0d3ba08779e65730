/* Vector quantizer: the VQ-VAE codebook (van den Oord et al. 2017) with EMA codebook updates and
 * Laplace smoothing (Razavi et al. 2019; Sonnet's VectorQuantizerEMA).
 *
 * The encoder output z is an activation (B, D, T): the code dimension D is the channel axis, time
 * contiguous. Each frame z[b, :, t] is replaced by its nearest code (squared L2, ties to the
 * lowest index), giving zq (B, D, T) and the indices idx (B, T).
 *
 * Training, per step:
 *   vcn_vq_quantize       zq, idx from z
 *   vcn_vq_commit_loss    beta * mean ||z - sg(zq)||^2, the mean over all B*T*D elements (so the
 *                     value does not depend on batch size, length or code dimension)
 *   vcn_vq_backward       dz += dzq (straight-through) + d(commit loss)/dz
 *   vcn_vq_ema_update     codebook from EMA statistics of the batch (no codebook gradient)
 *   vcn_vq_reseed_dead    every few steps: codes whose EMA count decayed are moved onto batch
 * frames vcn_vq_counts, vcn_vq_health_from_counts   perplexity and share of codes in use, for the
 * logs
 *
 * The codebook may point into the parameter slab; ema_count and ema_sum are training state owned
 * by the caller (they belong in the train-state file). One scratch buffer of vcn_vq_scratch_size
 * floats serves every function that takes one. OpenMP is used only around loops that do not call
 * BLAS, with static work splits: results are deterministic for a fixed thread count, and every
 * reduction here runs in a fixed order, so they do not depend on it either.
 */
#ifndef VC_NN_VQ_H
#define VC_NN_VQ_H

#include "common.h"

typedef struct vq {
    int N, D;
    float *codebook;  // (N, D)
    float *ema_count; // (N) EMA of the number of frames assigned to each code
    float *ema_sum;   // (N, D) EMA of the sum of the frames assigned to each code
    float decay;      /* EMA decay, e.g. 0.99; 0 makes vcn_vq_ema_update a k-means (Lloyd) step */
    float eps;        /* Laplace smoothing of the counts, e.g. 1e-5 */
    float beta;       /* commitment weight, e.g. 0.25 */
} vq;

typedef enum vq_init_kind {
    VC_VQ_INIT_SAMPLE = 0, /* codes are distinct random frames of the batch (where B*T >= N) */
    VC_VQ_INIT_KMEANS = 1  /* k-means++ seeding, then Lloyd iterations */
} vq_init_kind;

/* Codebook health for a set of counts. */
typedef struct vq_health {
    double perplexity; /* exp(-sum p log p) with p = counts / sum(counts): 1 .. N
                          (0 when every count is zero) */
    double used_share; /* share of codes with a non-zero count: 0 .. 1 */
    int used;          /* codes with a non-zero count */
} vq_health;

/* Floats of scratch for vcn_vq_quantize, vcn_vq_ema_update and vcn_vq_init_from_data with these B,
 * T. */
size_t vcn_vq_scratch_size(const vq *q, int B, int T);

/* Nearest code of every frame: idx (B, T), and zq (B, D, T) = the codes (zq may be NULL when only
 * the indices are wanted). The distances ||z||^2 - 2 z.c + ||c||^2 come from one sgemm per batch
 * item; codes whose GEMM distance lies within the GEMM's rounding bound of the best are then
 * compared exactly (double), so idx is the true argmin with ties to the lowest index. */
void vcn_vq_quantize(const vq *q, float *zq, int *idx, const float *z, int B, int T,
                     float *scratch);

/* beta * sum (z - zq)^2 / (B*T*D): the commitment loss, zq (B, D, T) treated as a constant. */
double vcn_vq_commit_loss(const vq *q, const float *z, const float *zq, int B, int T);

/* dz (B, D, T) += dzq + 2 * beta / (B*T*D) * (z - zq): the straight-through estimator passes the
 * decoder's gradient dzq to the encoder unchanged; the second term is the commitment gradient. */
void vcn_vq_backward(const vq *q, float *dz, const float *dzq, const float *z, const float *zq,
                     int B, int T);

/* One EMA step from the batch z (B, D, T) and its assignments idx (B, T):
 *   ema_count = decay * ema_count + (1 - decay) * counts
 *   ema_sum   = decay * ema_sum   + (1 - decay) * (sum of the frames assigned to each code)
 *   n = sum(ema_count); smoothed = (ema_count + eps) / (n + N * eps) * n
 *   codebook  = ema_sum / smoothed
 * n is the total EMA count, as in Sonnet, so smoothing moves mass between codes without changing
 * the total. A code with no mass at all (smoothed == 0, only possible with eps == 0) keeps its
 * vector. */
void vcn_vq_ema_update(vq *q, const float *z, const int *idx, int B, int T, float *scratch);

/* vcn_vq_ema_update in two halves, so that data-parallel training can sum the batch statistics
 * of every rank in between: stats (vcn_vq_ema_stats_size floats) = the per-code sums (D, N)
 * then the counts (N) of the frames of z assigned by idx; apply = the EMA step from them. */
size_t vcn_vq_ema_stats_size(const vq *q);
void vcn_vq_ema_stats(const vq *q, float *stats, const float *z, const int *idx, int B, int T);
void vcn_vq_ema_apply(vq *q, const float *stats);

/* Initialises the codebook from the batch z (B, D, T) and sets the EMA state consistently with
 * it (ema_count = frames per code, ema_sum = codebook * ema_count):
 *   VC_VQ_INIT_SAMPLE: N distinct random frames (with repeats only if B*T < N), plus tiny noise
 *                      on repeats so no two codes coincide; each code is given count B*T/N;
 *   VC_VQ_INIT_KMEANS: k-means++ seeding (each next code drawn with probability proportional to
 *                      the squared distance to the nearest code so far), then lloyd_iters Lloyd
 *                      iterations (an empty cluster keeps its code); counts are the final
 *                      assignment's.
 * idx (B, T) is workspace (left holding the final assignment for k-means). */
void vcn_vq_init_from_data(vq *q, vq_init_kind kind, int lloyd_iters, const float *z, int B, int T,
                           vc_rng *rng, int *idx, float *scratch);

/* Moves every code whose ema_count is below threshold onto a random frame of z (B, D, T) plus
 * noise of 1e-3 times that frame's RMS (so codes seeded from one frame differ), and sets its EMA
 * state to count = threshold, sum = code * threshold. Returns how many codes were re-seeded. */
int vcn_vq_reseed_dead(vq *q, const float *z, int B, int T, float threshold, vc_rng *rng);

/* counts (N) = frames assigned to each code in idx (B, T). */
void vcn_vq_counts(const vq *q, float *counts, const int *idx, int B, int T);

/* Perplexity and usage of counts (N), e.g. vcn_vq_counts of a batch or the EMA counts. */
vq_health vcn_vq_health_from_counts(const float *counts, int N);

#endif
