/* Status strings, version, the log sink and the thread setting. */
#include "common.h"

#include <cblas.h>
#include <omp.h>
#include <stdarg.h>

static const struct {
    int status;
    const char *text;
} status_texts[] = {
    {VC_OK, "success"},
    {VC_ERR_ARG, "invalid argument"},
    {VC_ERR_NOMEM, "out of memory"},
    {VC_ERR_IO, "file could not be opened, read or written"},
    {VC_ERR_FORMAT, "file format not recognised or file corrupt"},
    {VC_ERR_VERSION, "unsupported file format version"},
    {VC_ERR_SHAPE, "tensor shape or size mismatch"},
    {VC_ERR_AUDIO, "audio unusable (empty, non-finite samples or absurd size)"},
    {VC_ERR_INTERNAL, "internal library failure"},
};

const char *vc_strerror(int status) {
    for (size_t i = 0; i < sizeof status_texts / sizeof status_texts[0]; i++)
        if (status_texts[i].status == status) return status_texts[i].text;
    return "unknown status";
}

const char *vc_version(void) {
    return VC_VERSION_STRING;
}

static void log_to_stderr(int level, const char *msg, void *user) {
    (void)user;
    fprintf(stderr, "vconv: %s%s\n", level == VC_LOG_WARN ? "warning: " : "", msg);
}

/* The one documented piece of global state: where library messages go. */
static vc_log_fn log_fn = log_to_stderr;
static void *log_user = NULL;

void vc_log_set(vc_log_fn fn, void *user) {
    log_fn = fn ? fn : log_to_stderr;
    log_user = fn ? user : NULL;
}

/* Under MPI (src/train/dist.c) every rank runs the same code: ranks other than 0 keep only
 * their errors, named by rank, so the log reads as one process's. */
static int log_rank = 0;

void vcu_log_set_rank(int rank) {
    log_rank = rank;
}

void vcu_log(int level, const char *fmt, ...) {
    if (log_rank > 0 && level > VC_LOG_ERROR) return;
    char msg[1024];
    int n = log_rank > 0 ? snprintf(msg, sizeof msg, "rank %d: ", log_rank) : 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    log_fn(level, msg, log_user);
}

/* The count vc_set_num_threads last set (0: never). OpenMP keeps its count per thread, and a
 * thread the caller starts later begins at OpenMP's default (every core), not at this; so each
 * compute entry point applies it to its own thread (vcu_threads_here). */
static _Atomic int num_threads;

void vcu_threads_here(void) {
    int n = num_threads;
    if (n > 0 && omp_get_max_threads() != n) omp_set_num_threads(n);
}

void vc_set_num_threads(int n) {
    if (n < 1) n = 1;
    num_threads = n;
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
    /* With any other build of OpenBLAS, its worker threads and OpenMP's spin-wait against each
     * other and multi-threaded runs lose about half their speed. */
    if (n > 1 && openblas_get_parallel() != 2)
        vcu_log(VC_LOG_WARN, "OpenBLAS is not its OpenMP build, so its threads compete with "
                             "OpenMP's; install libopenblas-openmp-dev and rebuild");
}
