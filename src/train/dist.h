/* Data parallelism for the trainer: the only file that talks to MPI is dist.c.
 *
 * Built with MPI (CMake option VC_MPI), vct_dist_init joins MPI_COMM_WORLD when the program was
 * started by an MPI launcher (mpirun, mpiexec, srun: their environment says so) or has
 * initialised MPI itself; otherwise, and in a build without MPI, the process is rank 0 of 1 and
 * every call below is a no-op (a copy where it must be), so the training loop reads the same
 * either way.
 *
 * How the trainer uses it (train.c, setup.c):
 *   - every rank draws the whole global batch from the same training stream, takes its slice
 *     (vct_dist_slice) and computes the gradient of the mean loss over its own items scaled by
 *     its share of the batch; the sum over ranks (vct_dist_sum_floats, one call over the whole
 *     gradient slab) is then the gradient of the global batch mean;
 *   - the codebook's EMA statistics (per-code counts and sums) are summed the same way before
 *     the EMA update;
 *   - what draws from the stream on one rank only (k-means initialisation, dead-code
 *     re-seeding) runs on rank 0 over the frames gathered there (vct_dist_gather_floats); the
 *     codebook, its EMA state and the stream's state are then broadcast (vct_dist_bcast);
 *   - a status every rank must share (a failed write on rank 0, a stop request) goes through
 *     vct_dist_agree / vct_dist_any, so no rank waits in a collective the others never enter.
 *
 * A failed MPI call (a rank died, the network went) is logged once and returned as
 * VC_ERR_INTERNAL; vct_dist_free then aborts the job instead of finalising (a finalise would
 * wait for the dead rank).
 */
#ifndef VC_TRAIN_DIST_H
#define VC_TRAIN_DIST_H

#include "common.h"

typedef struct vct_dist {
    int rank, size;
    int owns_mpi; /* MPI_Init was ours: MPI_Finalize is too */
    int failed;   /* an MPI call failed: the job cannot continue */
} vct_dist;

/* Joins MPI where there is one (see above), else rank 0 of 1. Ranks other than 0 then log
 * errors only, prefixed with their rank. */
VC_WARN_UNUSED vc_status vct_dist_init(vct_dist *d);
void vct_dist_free(vct_dist *d);

/* This rank's items of a batch of B: [*b0, *b0 + *nb). Every rank gets B / size or one more. */
void vct_dist_slice(const vct_dist *d, int B, int *b0, int *nb);

/* Whether item b of a batch is in the slice b0 .. b0 + nb - 1. Per-item randomness is drawn for
 * every item of the batch on every rank (so each slice sees the draws one process would) and
 * applied to the slice's items only. */
static inline int vct_dist_is_mine(int b, int b0, int nb) {
    return b >= b0 && b < b0 + nb;
}

/* In place: buf = the sum of every rank's buf (the same result on every rank). */
VC_WARN_UNUSED vc_status vct_dist_sum_floats(vct_dist *d, float *buf, size_t n);
VC_WARN_UNUSED vc_status vct_dist_sum_doubles(vct_dist *d, double *buf, int n);

/* bytes of buf from rank 0 to every rank. */
VC_WARN_UNUSED vc_status vct_dist_bcast(vct_dist *d, void *buf, size_t bytes);

/* Rank 0's all = the concatenation in rank order of every rank's mine, whose length is
 * per_item floats times the rank's slice of B items (vct_dist_slice). all is only written
 * on rank 0 (it may be NULL elsewhere). */
VC_WARN_UNUSED vc_status vct_dist_gather_floats(vct_dist *d, float *all, const float *mine, int B,
                                                size_t per_item);

/* The status every rank agrees on: VC_OK when every rank's st is VC_OK, else the lowest
 * (the same value on every rank). */
VC_WARN_UNUSED vc_status vct_dist_agree(vct_dist *d, vc_status st);

/* Whether flag is non-zero on any rank (0 when the collective fails). */
int vct_dist_any(vct_dist *d, int flag);

VC_WARN_UNUSED vc_status vct_dist_barrier(vct_dist *d);

/* *same = 1 when h is the same on every rank. */
VC_WARN_UNUSED vc_status vct_dist_same_u64(vct_dist *d, uint64_t h, int *same);

#endif
