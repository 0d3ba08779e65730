/* Internal definitions shared by every module.
 *
 * Dimension letters, used in names and shape comments everywhere:
 *   B batch, T frames, C in-channels, OC out-channels, K kernel,
 *   M mel bands, F FFT bins (n_fft/2 + 1), N codebook size, D code dim, S speaker dim.
 *
 * Layouts: spectral arrays are frame-major, (T, F) or (T, M); complex spectra are interleaved
 * (T, F, 2) as re, im pairs (the layout of fftwf_complex). Audio is mono float.
 */
#ifndef VC_COMMON_H
#define VC_COMMON_H

#include "vconv/vconv.h"

#include <stdio.h>
#include <stdlib.h>

/* Programmer errors only (internal shape mismatches), never bad input: stays on in every build. */
#define VC_ASSERT(cond)                                                                            \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "vconv: assertion failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* M_PI is not part of strict C11. */
#define VC_TWO_PI 6.283185307179586476925286766559

enum { VC_LOG_ERROR = 0, VC_LOG_WARN = 1, VC_LOG_INFO = 2, VC_LOG_DEBUG = 3 };

/* printf-style message to the log sink set by vc_log_set. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void vcu_log(int level, const char *fmt, ...);
/* The calling thread computes with vc_set_num_threads' count (OpenMP's is per thread; OpenBLAS's
 * OpenMP build follows the calling thread's): called where each compute entry point starts. */
void vcu_threads_here(void);
/* The MPI rank of this process (0 without MPI): ranks > 0 log errors only, prefixed. */
void vcu_log_set_rank(int rank);

/* splitmix64-seeded xorshift generator; explicit state, no globals. */
typedef struct vc_rng {
    uint64_t s;
} vc_rng;
void vcu_rng_seed(vc_rng *r, uint64_t seed);
uint32_t vcu_rng_u32(vc_rng *r);
float vcu_rng_uniform(vc_rng *r); /* [0, 1) */
float vcu_rng_normal(vc_rng *r);  /* standard normal (Box-Muller) */

#endif
