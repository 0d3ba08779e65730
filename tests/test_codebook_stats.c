/* Codebook statistics on code sequences built so that usage, perplexity and mutual
 * information are known exactly. */
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
    return test_finish();
}
