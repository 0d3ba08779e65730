/* Data parallelism over MPI, or one process without it: see dist.h. */
#include "train/dist.h"

#include <string.h>

void vct_dist_slice(const vct_dist *d, int B, int *b0, int *nb) {
    int q = B / d->size, r = B % d->size;
    *b0 = d->rank * q + (d->rank < r ? d->rank : r);
    *nb = q + (d->rank < r);
}

#if VC_HAVE_MPI
#include <limits.h>
#include <mpi.h>

/* Launchers that start ranks set these; a plain run does not, so it never initialises MPI
 * (which costs time and, under a sanitizer, reports the library's own allocations). */
static int under_launcher(void) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK",
                                       "MPI_LOCALNRANKS"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i])) return 1;
    return 0;
}

/* Logs a failed call once; every later collective fails at once. */
static vc_status check(vct_dist *d, int rc, const char *what) {
    if (rc == MPI_SUCCESS) return VC_OK;
    if (!d->failed) {
        char msg[MPI_MAX_ERROR_STRING];
        int len = 0;
        MPI_Error_string(rc, msg, &len);
        vcu_log(VC_LOG_ERROR,
                "train: rank %d of %d: %s failed (%s): another rank has probably died; the job "
                "ends, the last checkpoint on disk is intact and --resume continues from it",
                d->rank, d->size, what, msg);
    }
    d->failed = 1;
    return VC_ERR_INTERNAL;
}

vc_status vct_dist_init(vct_dist *d) {
    memset(d, 0, sizeof *d);
    d->size = 1;
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited && !under_launcher()) return VC_OK;
    if (!inited) {
        int provided;
        /* funneled: only the thread that called vc_train calls MPI (OpenMP threads never do) */
        if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
            vcu_log(VC_LOG_ERROR, "train: MPI_Init failed");
            return VC_ERR_INTERNAL;
        }
        d->owns_mpi = 1;
    }
    /* errors come back to us, so rank 0 can say what happened before the job ends */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d->size);
    vcu_log_set_rank(d->rank);
    return VC_OK;
}

void vct_dist_free(vct_dist *d) {
    if (d->failed && d->size > 1) MPI_Abort(MPI_COMM_WORLD, 1); /* a finalise would hang */
    if (d->owns_mpi) MPI_Finalize();
    vcu_log_set_rank(0);
    memset(d, 0, sizeof *d);
}

vc_status vct_dist_sum_floats(vct_dist *d, float *buf, size_t n) {
    if (d->size == 1) return VC_OK;
    if (d->failed) return VC_ERR_INTERNAL;
    VC_ASSERT(n <= INT_MAX);
    return check(d, MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD),
                 "allreduce");
}

vc_status vct_dist_sum_doubles(vct_dist *d, double *buf, int n) {
    if (d->size == 1) return VC_OK;
    if (d->failed) return VC_ERR_INTERNAL;
    return check(d, MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD),
                 "allreduce");
}

vc_status vct_dist_bcast(vct_dist *d, void *buf, size_t bytes) {
    if (d->size == 1) return VC_OK;
    if (d->failed) return VC_ERR_INTERNAL;
    VC_ASSERT(bytes <= INT_MAX);
    return check(d, MPI_Bcast(buf, (int)bytes, MPI_BYTE, 0, MPI_COMM_WORLD), "broadcast");
}

vc_status vct_dist_gather_floats(vct_dist *d, float *all, const float *mine, int B,
                                 size_t per_item) {
    int b0, nb;
    vct_dist_slice(d, B, &b0, &nb);
    if (d->size == 1) {
        if (all != mine) memcpy(all, mine, sizeof(float) * (size_t)nb * per_item);
        return VC_OK;
    }
    if (d->failed) return VC_ERR_INTERNAL;
    VC_ASSERT((size_t)B * per_item <= INT_MAX);
    int *counts = malloc(sizeof(int) * 2 * (size_t)d->size);
    if (!counts) return VC_ERR_NOMEM;
    int *displs = counts + d->size;
    vct_dist r = *d;
    for (r.rank = 0; r.rank < d->size; r.rank++) {
        int s0, sn;
        vct_dist_slice(&r, B, &s0, &sn);
        counts[r.rank] = sn * (int)per_item;
        displs[r.rank] = s0 * (int)per_item;
    }
    int rc = MPI_Gatherv(mine, nb * (int)per_item, MPI_FLOAT, all, counts, displs, MPI_FLOAT, 0,
                         MPI_COMM_WORLD);
    free(counts);
    return check(d, rc, "gather");
}

vc_status vct_dist_agree(vct_dist *d, vc_status st) {
    if (d->size == 1) return st;
    if (d->failed) return VC_ERR_INTERNAL;
    int mine = (int)st, all = 0;
    vc_status c =
        check(d, MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD), "allreduce");
    return c != VC_OK ? c : (vc_status)all;
}

int vct_dist_any(vct_dist *d, int flag) {
    if (d->size == 1) return flag != 0;
    if (d->failed) return 0;
    int mine = flag != 0, all = 0;
    if (check(d, MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD), "allreduce"))
        return 0;
    return all;
}

vc_status vct_dist_barrier(vct_dist *d) {
    if (d->size == 1) return VC_OK;
    if (d->failed) return VC_ERR_INTERNAL;
    return check(d, MPI_Barrier(MPI_COMM_WORLD), "barrier");
}

vc_status vct_dist_same_u64(vct_dist *d, uint64_t h, int *same) {
    *same = 1;
    if (d->size == 1) return VC_OK;
    if (d->failed) return VC_ERR_INTERNAL;
    uint64_t mm[2] = {h, ~h}, r[2]; /* min of h and of ~h: min and max in one call */
    vc_status st =
        check(d, MPI_Allreduce(mm, r, 2, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD), "allreduce");
    if (st == VC_OK) *same = r[0] == ~r[1];
    return st;
}

#else /* one process: rank 0 of 1 */

/* Started as one of several ranks, a build without MPI would train the whole run once per
 * process, all over the same files: refuse. */
vc_status vct_dist_init(vct_dist *d) {
    memset(d, 0, sizeof *d);
    d->size = 1;
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && atoi(v) > 1) {
            vcu_log(VC_LOG_ERROR,
                    "train: started as one of %s processes, but this vconv was built without MPI "
                    "(each would train alone over the same files); rebuild with MPI "
                    "(libopenmpi-dev) or run one process",
                    v);
            return VC_ERR_ARG;
        }
    }
    return VC_OK;
}

void vct_dist_free(vct_dist *d) {
    memset(d, 0, sizeof *d);
}

vc_status vct_dist_sum_floats(vct_dist *d, float *buf, size_t n) {
    (void)d, (void)buf, (void)n;
    return VC_OK;
}

vc_status vct_dist_sum_doubles(vct_dist *d, double *buf, int n) {
    (void)d, (void)buf, (void)n;
    return VC_OK;
}

vc_status vct_dist_bcast(vct_dist *d, void *buf, size_t bytes) {
    (void)d, (void)buf, (void)bytes;
    return VC_OK;
}

vc_status vct_dist_gather_floats(vct_dist *d, float *all, const float *mine, int B,
                                 size_t per_item) {
    (void)d;
    if (all != mine) memcpy(all, mine, sizeof(float) * (size_t)B * per_item);
    return VC_OK;
}

vc_status vct_dist_agree(vct_dist *d, vc_status st) {
    (void)d;
    return st;
}

int vct_dist_any(vct_dist *d, int flag) {
    (void)d;
    return flag != 0;
}

vc_status vct_dist_barrier(vct_dist *d) {
    (void)d;
    return VC_OK;
}

vc_status vct_dist_same_u64(vct_dist *d, uint64_t h, int *same) {
    (void)d, (void)h;
    *same = 1;
    return VC_OK;
}

#endif
