/* Shared by the benchmarks that time our own layers against the machine's SGEMM: thread setup,
 * random operands and the SGEMM peak that every "share of peak" figure divides by. Include
 * after bench.h. */
#ifndef VC_BENCH_BLAS_H
#define VC_BENCH_BLAS_H

#include "common.h"

#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#define BENCH_MAX_RUNS 64

/* n floats from N(0, 1); exits on a failed allocation (benchmarks only). */
static inline float *bench_alloc_rand(size_t n, vc_rng *rng) {
    float *x = malloc(n * sizeof(float));
    if (!x) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) x[i] = vcu_rng_normal(rng);
    return x;
}

/* Sets OpenMP's and OpenBLAS's thread counts and reports which OpenBLAS build runs: at 2
 * threads the pthread build competes with OpenMP (see CMakeLists.txt). */
static inline void bench_set_threads(int threads) {
    openblas_set_num_threads(threads);
    omp_set_num_threads(threads);
    static const char *const builds[] = {"sequential", "pthread", "openmp"};
    int par = openblas_get_parallel();
    printf("{\"bench\": \"openblas\", \"build\": \"%s\", \"config\": \"%s\"}\n",
           par >= 0 && par <= 2 ? builds[par] : "unknown", openblas_get_config());
}

/* Square SGEMM at n = 1024 and 2048, median of runs after one warm-up each; prints both and
 * returns the faster in GFLOP/s: the peak the layers are measured against. */
static inline double bench_sgemm_peak(int threads, int runs, vc_rng *rng) {
    double peak = 0.0, t[BENCH_MAX_RUNS];
    if (runs > BENCH_MAX_RUNS) runs = BENCH_MAX_RUNS;
    const int sizes[] = {1024, 2048};
    for (int s = 0; s < 2; s++) {
        int n = sizes[s];
        size_t nn = (size_t)n * (size_t)n;
        float *a = bench_alloc_rand(nn, rng), *b = bench_alloc_rand(nn, rng);
        float *c = bench_alloc_rand(nn, rng);
        for (int r = -1; r < runs; r++) {
            double t0 = bench_now();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f,
                        c, n);
            if (r >= 0) t[r] = bench_now() - t0;
        }
        double sec = bench_median(t, runs);
        double gf = 2.0 * n * n * (double)n / sec * 1e-9;
        if (gf > peak) peak = gf;
        printf("{\"bench\": \"sgemm\", \"threads\": %d, \"n\": %d, \"median_s\": %.6f, "
               "\"gflops\": %.1f}\n",
               threads, n, sec, gf);
        free(a);
        free(b);
        free(c);
    }
    return peak;
}

#endif
