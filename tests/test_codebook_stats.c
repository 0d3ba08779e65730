/* Codebook statistics on code sequences built so that usage, perplexity and mutual
 * information are known exactly, and through a whole model built so that every frame of any
 * input lands on one chosen code. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include "model/model.h"
#include "tempdir.h"
#include "test.h"
#include "vconv/vconv.h"

#include <string.h>

#define U 40 /* utterances */
#define L 64 /* codes each */

int main(void) {
    static int buf[U][L];
    const int *codes[U];
    int n[U], spk[U];
    vc_code_stats st;

    /* speaker u % 2; speaker 0 says codes 0 and 1, speaker 1 codes 2 and 3, each half the time:
     * H(code) = 2 bits, H(speaker) = 1 bit, I = 1 bit, NMI = 2 * 1 / 3 */
    for (int u = 0; u < U; u++) {
        spk[u] = u % 2;
        for (int i = 0; i < L; i++) buf[u][i] = 2 * spk[u] + (i % 2);
        codes[u] = buf[u];
        n[u] = L;
    }
    CHECK(vc_code_stats_compute(codes, n, spk, U, 8, 1, &st) == VC_OK);
    CHECK(st.total == U * L && st.used == 4 && st.speakers == 2 && st.codebook_size == 8);
    CHECK_NEAR(st.entropy_bits, 2.0, 1e-12, 0);
    CHECK_NEAR(st.perplexity, 4.0, 1e-12, 0);
    CHECK_NEAR(st.mi_bits, 1.0, 1e-12, 0);
    CHECK_NEAR(st.nmi, 2.0 / 3.0, 1e-12, 0);
    /* shuffling whole utterances between speakers breaks the dependence: with 40 utterances the
     * permuted labels agree with the true ones for about half of them, leaving little MI */
    CHECK(st.nmi_shuffled < 0.1);

    /* both speakers use all four codes alike: independent, I = 0 */
    for (int u = 0; u < U; u++)
        for (int i = 0; i < L; i++) buf[u][i] = i % 4;
    CHECK(vc_code_stats_compute(codes, n, spk, U, 4, 1, &st) == VC_OK);
    CHECK(st.used == 4 && fabs(st.mi_bits) < 1e-12 && fabs(st.nmi) < 1e-12);
    CHECK_NEAR(st.perplexity, 4.0, 1e-12, 0);

    /* skewed usage without speakers: code 0 three times in four, codes 1..3 a twelfth each */
    for (int u = 0; u < U; u++) {
        n[u] = 60; /* five blocks of 12: nine 0s, then 1, 2, 3 */
        for (int i = 0; i < n[u]; i++) buf[u][i] = i % 12 < 9 ? 0 : i % 12 - 8;
    }
    CHECK(vc_code_stats_compute(codes, n, NULL, U, 16, 1, &st) == VC_OK);
    double h = -(0.75 * log2(0.75) + 3 * (1.0 / 12) * log2(1.0 / 12));
    CHECK(st.used == 4 && st.speakers == 0 && st.mi_bits == 0.0);
    CHECK_NEAR(st.entropy_bits, h, 1e-9, 0);
    CHECK_NEAR(st.perplexity, exp2(h), 1e-9, 0);

    /* bad input: a code out of range, a negative speaker, nothing to count */
    buf[3][5] = 16;
    CHECK(vc_code_stats_compute(codes, n, NULL, U, 16, 1, &st) == VC_ERR_ARG);
    buf[3][5] = 0;
    spk[7] = -1;
    CHECK(vc_code_stats_compute(codes, n, spk, U, 16, 1, &st) == VC_ERR_ARG);
    CHECK(vc_code_stats_compute(codes, n, NULL, 0, 16, 1, &st) == VC_ERR_ARG);

    /* A tiny model whose content encoder ends in a zero convolution with code 5 as its bias: z
     * is code 5 at every frame, whatever the input, so encoding any speech gives only code 5:
     * one code used, perplexity 1, entropy 0, and no information about the speaker. */
    char dir[] = "/tmp/vconv_test_codebook_XXXXXX", path[1024];
    if (!mkdtemp(dir)) return 1;
    join(path, sizeof path, dir, "m.safetensors");
    vcm_config c;
    CHECK(vcm_config_preset("tiny", &c) == VC_OK);
    vcm_model m;
    CHECK(vcm_model_init(&m, &c, 0) == VC_OK);
    vc_rng r;
    vcu_rng_seed(&r, 5);
    vcm_model_randomize(&m, &r);
    memset(m.c_out.w, 0, sizeof(float) * (size_t)m.c_out.OC * m.c_out.C * m.c_out.K);
    memcpy(m.c_out.b, m.vq.codebook + 5 * c.code_dim, sizeof(float) * (size_t)c.code_dim);
    CHECK(vcm_model_save(path, &m, NULL, 0, 0) == VC_OK);
    vcm_model_free(&m);
    vc_model *model = NULL;
    CHECK(vc_model_load(path, &model) == VC_OK);
    enum { RATE = 16000, SECONDS = 2 };
    static float wave[2][RATE * SECONDS];
    int *mc[2] = {NULL, NULL}, mn[2] = {0, 0}, ms[2] = {0, 1};
    for (int u = 0; u < 2; u++) {
        for (int i = 0; i < RATE * SECONDS; i++) /* two "speakers": different tones and noise */
            wave[u][i] = 0.2f * sinf(6.2831853f * (u ? 220.0f : 110.0f) * i / RATE) +
                         0.02f * (vcu_rng_uniform(&r) - 0.5f);
        vc_audio a = {wave[u], RATE * SECONDS, RATE};
        CHECK(vc_encode(model, &a, 10.0, &mc[u], &mn[u], NULL) == VC_OK);
    }
    int only5 = 1;
    for (int u = 0; u < 2; u++)
        for (int i = 0; i < mn[u]; i++) only5 &= mc[u][i] == 5;
    CHECK(only5 && mn[0] > 50);
    CHECK(vc_code_stats_compute((const int *const *)mc, mn, ms, 2, c.codebook_size, 1, &st) ==
          VC_OK);
    CHECK(st.used == 1 && st.total == mn[0] + mn[1] && st.speakers == 2);
    CHECK(st.entropy_bits == 0.0 && st.perplexity == 1.0 && st.mi_bits == 0.0 && st.nmi == 0.0);
    free(mc[0]);
    free(mc[1]);
    vc_model_free(model);
    remove_tree(dir);
    return test_finish();
}
