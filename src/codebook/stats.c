/* Codebook statistics over encoded utterances: usage, entropy, perplexity, how much the code
 * depends on the speaker (vc_code_stats_compute) and on the phone (vc_code_phone_stats_compute);
 * both measure dependence with the one mutual_information below. */
#include "common.h"

#include <math.h>
#include <string.h>

/* Entropy in bits of counts (n) summing to total. */
static double entropy_bits(const long *counts, int n, long total) {
    double h = 0.0;
    for (int i = 0; i < n; i++)
        if (counts[i] > 0) {
            double p = (double)counts[i] / (double)total;
            h -= p * log2(p);
        }
    return h;
}

/* Mutual information in bits between code and label from the joint counts (N, S), and its
 * normalisation 2 I / (H(code) + H(label)) (0 when both entropies are 0). */
static void mutual_information(const long *joint, int N, int S, long total, double *mi, double *nmi,
                               long *code_counts, long *label_counts) {
    memset(code_counts, 0, sizeof(long) * (size_t)N);
    memset(label_counts, 0, sizeof(long) * (size_t)S);
    for (int c = 0; c < N; c++)
        for (int s = 0; s < S; s++) {
            code_counts[c] += joint[(size_t)c * S + s];
            label_counts[s] += joint[(size_t)c * S + s];
        }
    double hc = entropy_bits(code_counts, N, total), hs = entropy_bits(label_counts, S, total);
    double hj = entropy_bits(joint, N * S, total);
    *mi = fmax(0.0, hc + hs - hj);
    *nmi = hc + hs > 0.0 ? 2.0 * *mi / (hc + hs) : 0.0;
}

vc_status vc_code_stats_compute(const int *const *codes, const int *n_codes, const int *speaker,
                                int n_utts, int codebook_size, uint64_t seed, vc_code_stats *out) {
    if (!codes || !n_codes || n_utts < 1 || codebook_size < 1 || !out) return VC_ERR_ARG;
    memset(out, 0, sizeof *out);
    const int N = codebook_size;
    int S = 1;
    for (int u = 0; u < n_utts; u++) {
        if (n_codes[u] < 0 || (n_codes[u] && !codes[u])) return VC_ERR_ARG;
        if (speaker && (speaker[u] < 0 || speaker[u] >= 1 << 20)) return VC_ERR_ARG;
        if (speaker && speaker[u] + 1 > S) S = speaker[u] + 1;
        for (int i = 0; i < n_codes[u]; i++)
            if (codes[u][i] < 0 || codes[u][i] >= N) return VC_ERR_ARG;
    }
    long *joint = calloc((size_t)N * S * 2 + (size_t)N + (size_t)S, sizeof *joint);
    int *perm = speaker ? malloc(sizeof *perm * (size_t)n_utts) : NULL;
    if (!joint || (speaker && !perm)) {
        free(joint);
        free(perm);
        return VC_ERR_NOMEM;
    }
    long *shuffled = joint + (size_t)N * S, *cc = shuffled + (size_t)N * S, *sc = cc + N;
    /* The control keeps each utterance's codes together and gives it another utterance's
     * speaker (a seeded Fisher-Yates permutation): what finite data alone makes of the MI. */
    vc_rng rng;
    vcu_rng_seed(&rng, seed);
    for (int u = 0; perm && u < n_utts; u++) perm[u] = speaker[u];
    for (int u = n_utts - 1; perm && u > 0; u--) {
        int j = (int)(((uint64_t)vcu_rng_u32(&rng) * (uint64_t)(u + 1)) >> 32), t = perm[u];
        perm[u] = perm[j];
        perm[j] = t;
    }
    long total = 0;
    for (int u = 0; u < n_utts; u++)
        for (int i = 0; i < n_codes[u]; i++) {
            joint[(size_t)codes[u][i] * S + (speaker ? speaker[u] : 0)]++;
            if (perm) shuffled[(size_t)codes[u][i] * S + perm[u]]++;
            total++;
        }
    out->codebook_size = N;
    out->total = total;
    out->speakers = speaker ? S : 0;
    if (total > 0) {
        mutual_information(joint, N, S, total, &out->mi_bits, &out->nmi, cc, sc);
        for (int c = 0; c < N; c++) out->used += cc[c] > 0;
        out->entropy_bits = entropy_bits(cc, N, total);
        out->perplexity = exp2(out->entropy_bits);
        if (perm) {
            double mi_shuffled;
            mutual_information(shuffled, N, S, total, &mi_shuffled, &out->nmi_shuffled, cc, sc);
        }
        if (!speaker) out->mi_bits = out->nmi = 0.0;
    }
    free(perm);
    free(joint);
    return VC_OK;
}

/* Each code's most frequent phone and its share of the code's uses, from the joint (N, P);
 * returns the share of all uses on their code's most frequent phone. */
static double purity_of(const long *joint, int N, int P, long total, int *code_phone,
                        double *code_purity) {
    long on_top = 0;
    for (int c = 0; c < N; c++) {
        long row = 0, best = 0;
        code_phone[c] = -1;
        for (int p = 0; p < P; p++) {
            long v = joint[(size_t)c * P + p];
            row += v;
            if (v > best) best = v, code_phone[c] = p;
        }
        code_purity[c] = row ? (double)best / (double)row : 0.0;
        on_top += best;
    }
    return total ? (double)on_top / (double)total : 0.0;
}

vc_status vc_code_phone_stats_compute(const int *const *codes, const int *const *phones,
                                      const int *n_codes, int n_utts, int codebook_size,
                                      int n_phones, uint64_t seed, vc_code_phone_stats *out) {
    if (!out) return VC_ERR_ARG;
    memset(out, 0, sizeof *out);
    if (!codes || !phones || !n_codes || n_utts < 1 || codebook_size < 1 || n_phones < 1 ||
        n_phones > 4096 || codebook_size > 1 << 16)
        return VC_ERR_ARG;
    const int N = codebook_size, P = n_phones;
    for (int u = 0; u < n_utts; u++) {
        if (n_codes[u] < 0 || (n_codes[u] && (!codes[u] || !phones[u]))) return VC_ERR_ARG;
        for (int i = 0; i < n_codes[u]; i++)
            if (codes[u][i] < 0 || codes[u][i] >= N || phones[u][i] < -1 || phones[u][i] >= P)
                return VC_ERR_ARG;
    }
    long *shuffled = calloc((size_t)N * P + (size_t)N + (size_t)P, sizeof *shuffled);
    out->joint = calloc((size_t)N * P, sizeof *out->joint);
    out->code_phone = malloc(sizeof *out->code_phone * (size_t)N);
    out->code_purity = malloc(sizeof *out->code_purity * (size_t)N);
    if (!shuffled || !out->joint || !out->code_phone || !out->code_purity) {
        free(shuffled);
        vc_code_phone_stats_free(out);
        return VC_ERR_NOMEM;
    }
    long *cc = shuffled + (size_t)N * P, *pc = cc + N, total = 0, total_shuffled = 0;
    /* The control rotates each utterance's phone track by a seeded offset in [1, n): every code
     * meets a phone of its own utterance at another time. */
    vc_rng rng;
    vcu_rng_seed(&rng, seed);
    for (int u = 0; u < n_utts; u++) {
        int n = n_codes[u];
        int shift = n > 1 ? 1 + (int)(((uint64_t)vcu_rng_u32(&rng) * (uint64_t)(n - 1)) >> 32) : 0;
        for (int i = 0; i < n; i++) {
            int p = phones[u][i], q = phones[u][(i + shift) % n];
            if (p >= 0) out->joint[(size_t)codes[u][i] * P + p]++, total++;
            if (q >= 0) shuffled[(size_t)codes[u][i] * P + q]++, total_shuffled++;
        }
    }
    out->codebook_size = N;
    out->n_phones = P;
    out->total = total;
    out->purity = purity_of(out->joint, N, P, total, out->code_phone, out->code_purity);
    if (total > 0) mutual_information(out->joint, N, P, total, &out->mi_bits, &out->nmi, cc, pc);
    if (total_shuffled > 0) {
        double mi_shuffled;
        mutual_information(shuffled, N, P, total_shuffled, &mi_shuffled, &out->nmi_shuffled, cc,
                           pc);
    }
    free(shuffled);
    return VC_OK;
}

void vc_code_phone_stats_free(vc_code_phone_stats *s) {
    if (!s) return;
    free(s->joint);
    free(s->code_phone);
    free(s->code_purity);
    memset(s, 0, sizeof *s);
}
