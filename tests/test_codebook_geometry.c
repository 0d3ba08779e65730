/* Codebook geometry on a codebook built so that norms, nearest neighbours and principal axes
 * are known: code i = (i, 0.5 (i mod 2), 0, ...), with the last code a copy of the one before. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include "model/model.h"
#include "tempdir.h"
#include "test.h"

int main(void) {
    char dir[] = "/tmp/vconv_test_geometry_XXXXXX", path[1024];
    if (!mkdtemp(dir)) return 1;
    join(path, sizeof path, dir, "m.safetensors");
    vcm_config c;
    CHECK(vcm_config_preset("tiny", &c) == VC_OK);
    vcm_model m;
    CHECK(vcm_model_init(&m, &c, 0) == VC_OK);
    vc_rng r;
    vcu_rng_seed(&r, 3);
    vcm_model_randomize(&m, &r);
    const int N = c.codebook_size, D = c.code_dim;
    for (int i = 0; i < N; i++) {
        float *code = m.vq.codebook + (size_t)i * D;
        int k = i == N - 1 ? N - 2 : i; /* the last code duplicates the one before */
        for (int d = 0; d < D; d++) code[d] = 0.0f;
        code[0] = (float)k;
        code[1] = 0.5f * (float)(k % 2);
    }
    CHECK(vcm_model_save(path, &m, NULL, 0, 0) == VC_OK);
    vcm_model_free(&m);
    vc_model *model = NULL;
    CHECK(vc_model_load(path, &model) == VC_OK);
    vc_codebook_geometry g;
    CHECK(vc_codebook_geometry_of(model, &g) == VC_OK);
    CHECK(g.n == N && g.dim == D);
    int ok_norm = 1, ok_nn = 1;
    for (int i = 0; i < N; i++) {
        int k = i == N - 1 ? N - 2 : i;
        ok_norm &= fabs(g.norms[i] - sqrt((double)k * k + 0.25 * (k % 2))) < 1e-5;
        double want = i >= N - 2 ? 0.0 : sqrt(1.25); /* neighbours one apart, or the copy */
        ok_nn &= fabs(g.nn_dist[i] - want) < 1e-5;
    }
    CHECK(ok_norm);
    CHECK(ok_nn);
    CHECK(g.nn_index[N - 1] == N - 2 && g.nn_index[N - 2] == N - 1);
    /* first axis along the line: coordinates i - mean up to sign, and nearly all the variance */
    double mean = 0.0, var0 = 0.0, var1 = 0.0, m1 = 0.0;
    for (int i = 0; i < N; i++) mean += (i == N - 1 ? N - 2 : i) / (double)N;
    for (int i = 0; i < N; i++) {
        int k = i == N - 1 ? N - 2 : i;
        var0 += (k - mean) * (k - mean) / N;
        m1 += 0.5 * (k % 2) / N;
    }
    for (int i = 0; i < N; i++) {
        int k = i == N - 1 ? N - 2 : i;
        var1 += (0.5 * (k % 2) - m1) * (0.5 * (k % 2) - m1) / N;
    }
    CHECK_NEAR(g.pca_share[0] + g.pca_share[1], 1.0, 1e-6, 0);
    CHECK(g.pca_share[0] > 0.99);
    double sign = g.pca[0] < 0 ? 1.0 : -1.0; /* code 0 sits at -mean on the first axis */
    int ok_pca = 1;
    for (int i = 0; i < N; i++) {
        int k = i == N - 1 ? N - 2 : i;
        ok_pca &= fabs(sign * g.pca[2 * i] - (k - mean)) < 0.05; /* the axis tilts slightly */
    }
    CHECK(ok_pca);
    fprintf(stderr, "pca shares %.5f %.5f (line and alternation carry %.5f and %.5f of it)\n",
            g.pca_share[0], g.pca_share[1], var0 / (var0 + var1), var1 / (var0 + var1));
    vc_codebook_geometry_free(&g);
    vc_model_free(model);
    remove_tree(dir);
    return test_finish();
}
