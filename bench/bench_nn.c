/* Layer benchmarks against the machine's SGEMM peak, run by scripts/bench_nn (never by tests).
 *
 *   bench_nn [THREADS [RUNS]]     default 1 thread, 7 runs
 *
 * Prints one JSON object per line on stdout:
 *   sgemm      square cblas_sgemm at n = 1024 and 2048; the faster is the peak;
 *   gemm_shape the bare GEMMs of the conv below, batch-wide and per item (to separate GEMM
 *              efficiency from im2col and copy costs);
 *   conv1d     forward, and forward + backward (dinp, dw, db), at the model shape
 *              C = OC = 256, K = 5, pad 2, stride 1, B = 16, T = 128;
 *   omp_then_conv1d_fwd  an OpenMP elementwise loop, then the forward (GFLOP/s of the conv
 *              only): what the GEMMs lose when libgomp's spinning workers compete with
 *              OpenBLAS's (set OMP_WAIT_POLICY=passive to avoid it).
 * GFLOP/s count 2 B OC C K T_out per GEMM pass (forward 1 pass, backward 2). Every figure is the
 * median of RUNS timed runs after one warm-up. THREADS sets both OpenBLAS and OpenMP. */
#define _POSIX_C_SOURCE 200809L
#include "bench.h"
#include "bench_blas.h"
#include "nn/conv1d.h"

#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* The model's conv shape; scripts/bench_nn times the same in PyTorch. */
enum { CONV_C = 256, CONV_OC = 256, CONV_K = 5, CONV_PAD = 2, CONV_B = 16, CONV_T = 128 };

/* What one timed call does. */
typedef enum job { GEMM_BATCH, GEMM_ITEMS, CONV_FWD, CONV_FWD_BWD, ACT_CONV_FWD } job;

typedef struct ctx {
    conv1d l;                /* conv at the model shape */
    float *inp, *out, *dout; // (B, C, T), (B, OC, T), (B, OC, T)
    float *dinp, *scratch;   // (B, C, T), (vcn_conv1d_scratch_size)
} ctx;

static void run(ctx *x, job j) {
    const int CK = CONV_C * CONV_K, N = CONV_B * CONV_T;
    switch (j) {
    case GEMM_BATCH: /* (OC, B T) = (OC, C K) (C K, B T) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, CONV_OC, N, CK, 1.0f, x->l.w, CK,
                    x->scratch, N, 0.0f, x->out, N);
        break;
    case GEMM_ITEMS: /* B times (OC, T) = (OC, C K) (C K, T) */
        for (int b = 0; b < CONV_B; b++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, CONV_OC, CONV_T, CK, 1.0f,
                        x->l.w, CK, x->scratch + (size_t)b * CK * CONV_T, CONV_T, 0.0f,
                        x->out + (size_t)b * CONV_OC * CONV_T, CONV_T);
        break;
    case CONV_FWD:
        vcn_conv1d_forward(&x->l, x->out, x->inp, CONV_B, CONV_T, x->scratch);
        break;
    case ACT_CONV_FWD: { /* an OpenMP elementwise layer (as in act.c) right before the conv */
        const int n = CONV_B * CONV_C * CONV_T;
        float *v = x->inp;
#pragma omp parallel for
        for (int i = 0; i < n; i++) v[i] = v[i] > 1e30f ? 0.0f : v[i];
        vcn_conv1d_forward(&x->l, x->out, x->inp, CONV_B, CONV_T, x->scratch);
        break;
    }
    case CONV_FWD_BWD:
        vcn_conv1d_forward(&x->l, x->out, x->inp, CONV_B, CONV_T, x->scratch);
        vcn_conv1d_backward(&x->l, x->dinp, x->dout, x->inp, CONV_B, CONV_T, x->scratch);
        break;
    }
}

/* Median seconds per call over runs samples of reps calls each, after one warm-up sample. */
static double time_job(ctx *x, job j, int runs, int reps) {
    double t[BENCH_MAX_RUNS];
    if (runs > BENCH_MAX_RUNS) runs = BENCH_MAX_RUNS;
    for (int r = -1; r < runs; r++) {
        double t0 = bench_now();
        for (int i = 0; i < reps; i++) run(x, j);
        if (r >= 0) t[r] = (bench_now() - t0) / reps;
    }
    return bench_median(t, runs);
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1, runs = argc > 2 ? atoi(argv[2]) : 7;
    if (threads < 1 || runs < 1) {
        fprintf(stderr, "usage: bench_nn [THREADS [RUNS]]\n");
        return 2;
    }
    bench_set_threads(threads);
    vc_rng rng;
    vcu_rng_seed(&rng, 1);
    double peak = bench_sgemm_peak(threads, runs, &rng);
    ctx x = {0};

    x.l = (conv1d){CONV_C, CONV_OC, CONV_K, 1, 1, CONV_PAD, NULL, NULL, NULL, NULL};
    const int T_out = vcn_conv1d_out_len(&x.l, CONV_T);
    size_t n_w = (size_t)CONV_OC * CONV_C * CONV_K, n_in = (size_t)CONV_B * CONV_C * CONV_T,
           n_out = (size_t)CONV_B * CONV_OC * T_out;
    x.l.w = bench_alloc_rand(n_w, &rng);
    x.l.b = bench_alloc_rand(CONV_OC, &rng);
    x.l.dw = bench_alloc_rand(n_w, &rng);
    x.l.db = bench_alloc_rand(CONV_OC, &rng);
    x.inp = bench_alloc_rand(n_in, &rng);
    x.dinp = bench_alloc_rand(n_in, &rng);
    x.out = bench_alloc_rand(n_out, &rng);
    x.dout = bench_alloc_rand(n_out, &rng);
    x.scratch = bench_alloc_rand(vcn_conv1d_scratch_size(&x.l, CONV_B, CONV_T), &rng);
    const double pass = 2.0 * CONV_B * CONV_OC * CONV_C * CONV_K * T_out * 1e-9; /* GFLOP */

    const struct {
        const char *name;
        job j;
        int passes;
    } conv_jobs[] = {{"gemm_shape_batch", GEMM_BATCH, 1},
                     {"gemm_shape_items", GEMM_ITEMS, 1},
                     {"conv1d_fwd", CONV_FWD, 1},
                     {"conv1d_fwd_bwd", CONV_FWD_BWD, 3},
                     {"omp_then_conv1d_fwd", ACT_CONV_FWD, 1}};
    for (int i = 0; i < 5; i++) {
        double sec = time_job(&x, conv_jobs[i].j, runs, 3);
        double gf = conv_jobs[i].passes * pass / sec;
        printf("{\"bench\": \"%s\", \"threads\": %d, \"C\": %d, \"OC\": %d, \"K\": %d, \"B\": %d, "
               "\"T\": %d, \"median_s\": %.6f, \"gflops\": %.1f, \"pct_peak\": %.1f}\n",
               conv_jobs[i].name, threads, CONV_C, CONV_OC, CONV_K, CONV_B, CONV_T, sec, gf,
               100.0 * gf / peak);
    }
    free(x.l.w);
    free(x.l.b);
    free(x.l.dw);
    free(x.l.db);
    free(x.inp);
    free(x.dinp);
    free(x.out);
    free(x.dout);
    free(x.scratch);
    return 0;
}
