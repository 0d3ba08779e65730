/* Time of one allreduce (sum) of the default model's gradient slab, the collective that
 * data-parallel training runs once per step (src/train/dist.h). Run under the launcher:
 *
 *   mpirun -np 2 bench_allreduce [RUNS [PRESET]]     default 20 runs, preset "default"
 *
 * Prints one JSON line (rank 0): slab floats and bytes, ranks, median and minimum seconds
 * over RUNS calls after 3 warm-up calls, each call started together (barrier). Outside a
 * launcher, or built without MPI, it runs on 1 rank, where the call is a no-op. */
#include "bench.h"
#include "model/model.h"
#include "train/dist.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 20;
    const char *preset = argc > 2 ? argv[2] : "default";
    if (runs < 1) runs = 1;
    vcm_config cfg;
    vcm_model m;
    memset(&m, 0, sizeof m);
    vct_dist d;
    if (vcm_config_preset(preset, &cfg) != VC_OK || vcm_model_init(&m, &cfg, 1) != VC_OK ||
        vct_dist_init(&d) != VC_OK) {
        fprintf(stderr, "bench_allreduce: setup failed\n");
        return 1;
    }
    size_t n = m.params.total;
    float *g = m.params.grad;
    for (size_t i = 0; i < n; i++) g[i] = 1e-3f * (float)(i % 1000);
    double *t = malloc(sizeof(double) * (size_t)runs);
    int bad = !t;
    for (int k = -3; k < runs && !bad; k++) {
        bad |= vct_dist_barrier(&d) != VC_OK;
        double t0 = bench_now();
        bad |= vct_dist_sum_floats(&d, g, n) != VC_OK;
        if (k >= 0) t[k] = bench_now() - t0;
    }
    if (!bad && d.rank == 0) {
        double med = bench_median(t, runs), min = t[0];
        printf(
            "{\"bench\":\"allreduce\",\"preset\":\"%s\",\"floats\":%zu,\"bytes\":%zu,"
            "\"ranks\":%d,\"runs\":%d,\"median_s\":%.6f,\"min_s\":%.6f,\"GB_per_s_algo\":%.3f}\n",
            preset, n, n * sizeof(float), d.size, runs, med, min,
            (double)(n * sizeof(float)) / med / 1e9);
    }
    free(t);
    vcm_model_free(&m);
    vct_dist_free(&d);
    return bad;
}
