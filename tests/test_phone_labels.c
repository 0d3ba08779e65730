/* Phone labels and code-phone statistics:
 * - the hand-written files in tests/data/labels read as written: a long-format TextGrid (the
 *   tier named Phones among a word tier and a point tier, empty intervals left out, names
 *   trimmed, "" quotes), a short-format one (its only interval tier), plain "start end phone"
 *   lines (comments, blank lines, tabs, CR, a segment without a phone);
 * - refused with VC_ERR_FORMAT: a bad number, two unnamed interval tiers, UTF-16, a NUL, end
 *   before start, NaN, a name too long; every prefix of a valid TextGrid parses or is refused
 *   (never a crash: the fuzz target goes further);
 * - label times to codes by the bundled model's hop;
 * - statistics: codes that name their phone give purity 1 and NMI 1, the rotated control far
 *   below; codes independent of the phone give an NMI near the control's; -1 is left out. */
#include "test.h"

#include "vconv/vconv.h"

#include <string.h>

static void quiet_log(int level, const char *msg, void *user) {
    (void)level, (void)msg, (void)user;
}

static vc_status load(const char *name, vc_phone_labels *l) {
    char path[1024];
    snprintf(path, sizeof path, "%s/labels/%s", VC_TEST_DATA_DIR, name);
    return vc_phone_labels_load(path, l);
}

static void test_files(void) {
    vc_phone_labels l;
    CHECK(load("long.TextGrid", &l) == VC_OK);
    CHECK(l.n == 3);
    if (l.n == 3) {
        CHECK(!strcmp(l.segments[0].phone, "HH") && !strcmp(l.segments[1].phone, "AH0") &&
              !strcmp(l.segments[2].phone, "L"));
        CHECK_NEAR(l.segments[1].start, 0.45, 0, 0); /* parsed, not computed: exact */
        CHECK_NEAR(l.segments[2].end, 1.5, 0, 0);
    }
    vc_phone_labels_free(&l);
    CHECK(load("short.TextGrid", &l) == VC_OK);
    CHECK(l.n == 2 && !strcmp(l.segments[0].phone, "sil") && !strcmp(l.segments[1].phone, "OW"));
    vc_phone_labels_free(&l);
    CHECK(load("plain.txt", &l) == VC_OK);
    CHECK(l.n == 4 && !strcmp(l.segments[1].phone, "HH") && !strcmp(l.segments[2].phone, "AH0"));
    if (l.n == 4) CHECK_NEAR(l.segments[3].start, 0.9, 0, 0);
    vc_phone_labels_free(&l);
    CHECK(load("bad_number.txt", &l) == VC_ERR_FORMAT && l.n == 0 && !l.segments);
    CHECK(load("two_tiers.TextGrid", &l) == VC_ERR_FORMAT);
    CHECK(load("missing.txt", &l) == VC_ERR_IO);
}

static vc_status parse(const char *text, vc_phone_labels *l) {
    return vc_phone_labels_parse(text, strlen(text), l);
}

static void test_hostile(void) {
    vc_phone_labels l;
    CHECK(parse("0 1 a\n", &l) == VC_OK && l.n == 1);
    vc_phone_labels_free(&l);
    CHECK(parse("", &l) == VC_OK && l.n == 0);
    CHECK(vc_phone_labels_parse("\xff\xfe\"\0o", 5, &l) == VC_ERR_FORMAT);
    CHECK(vc_phone_labels_parse("0 1 a\0b\n", 8, &l) == VC_ERR_FORMAT);
    CHECK(parse("0.5 0.4 a\n", &l) == VC_ERR_FORMAT);
    CHECK(parse("nan 0.4 a\n", &l) == VC_ERR_FORMAT);
    CHECK(parse("-1 0.4 a\n", &l) == VC_ERR_FORMAT);
    CHECK(parse("0 1e400 a\n", &l) == VC_ERR_FORMAT);
    CHECK(parse("0 1 abcdefghijklmnopqrstuvwxyz0123456789\n", &l) == VC_ERR_FORMAT);
    CHECK(parse("\"ooTextFile\" \"TextGrid\" 0 1 <exists> 1 \"IntervalTier\" \"p\" 0 1 2 0 1 "
                "\"a\"",
                &l) == VC_ERR_FORMAT); /* fewer intervals than it says */
    CHECK(parse("\"ooTextFile\" \"TextGrid\" 0 1 <exists> 1 \"IntervalTier\" \"p\" 0 1 1 0 1 "
                "\"unterminated",
                &l) == VC_ERR_FORMAT);
    CHECK(vc_phone_labels_parse(NULL, 3, &l) == VC_ERR_ARG);
    CHECK(vc_phone_labels_parse("x", 1, NULL) == VC_ERR_ARG);
    CHECK(vc_phone_labels_load(NULL, &l) == VC_ERR_ARG);
    vc_phone_labels_free(NULL);
    /* every prefix of a valid grid: parsed or refused, nothing else */
    const char *grid = "\"ooTextFile\"\n\"TextGrid\"\n0 1.5 <exists> 1\n\"IntervalTier\" "
                       "\"phones\" 0 1.5 2\n0 0.5 \"a\"\n0.5 1.5 \"b\"\n";
    int ok = 0, refused = 0;
    for (size_t n = 0; n <= strlen(grid); n++) {
        vc_status st = vc_phone_labels_parse(grid, n, &l);
        CHECK(st == VC_OK || st == VC_ERR_FORMAT);
        ok += st == VC_OK, refused += st == VC_ERR_FORMAT;
        vc_phone_labels_free(&l);
    }
    CHECK(ok >= 1 && refused > 10);
}

/* The plain file against the bundled model's code times: code k's centre is at
 * (first + 2k + 0.5) hops. */
static void test_at_codes(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/vconv-default.safetensors", VC_SAMPLES_DIR);
    vc_model *m = NULL;
    if (vc_model_load(path, &m) != VC_OK) {
        fprintf(stderr, "no bundled model: label timing not checked\n");
        return;
    }
    vc_phone_labels l;
    CHECK(load("plain.txt", &l) == VC_OK);
    double hop_s = 1.0 / (2.0 * vc_model_codes_per_second(m));
    int seg[64];
    CHECK(vc_phone_labels_at_codes(m, &l, 0, 64, seg) == VC_OK);
    for (int k = 0; k < 64; k++) {
        double t = (2.0 * k + 0.5) * hop_s;
        int want = -1;
        for (int i = 0; i < l.n; i++)
            if (l.segments[i].start <= t && t < l.segments[i].end) want = i;
        CHECK(seg[k] == want);
    }
    CHECK(seg[0] == 0 && seg[63] == -1); /* sil at the start; past 1.6 s nothing */
    /* 10 frames later in the file: the same code index lands 10 hops later */
    int later[8];
    CHECK(vc_phone_labels_at_codes(m, &l, 10, 8, later) == VC_OK);
    CHECK(later[0] == seg[5]); /* frame 10.5 = code 5's centre */
    CHECK(vc_phone_labels_at_codes(NULL, &l, 0, 8, later) == VC_ERR_ARG);
    CHECK(vc_phone_labels_at_codes(m, &l, -1, 8, later) == VC_ERR_ARG);
    vc_phone_labels_free(&l);
    vc_model_free(m);
}

#define U 20
#define LEN 200

static void test_stats(void) {
    static int codes[U][LEN], phones[U][LEN];
    const int *cp[U], *pp[U];
    int n[U];
    uint32_t r = 12345;
    for (int u = 0; u < U; u++) {
        /* phones in runs of 3..8 codes; each phone p has its own two codes 2p, 2p + 1 */
        for (int i = 0, p = 0, left = 0; i < LEN; i++) {
            if (!left) r = r * 1664525u + 1013904223u, p = (int)(r >> 28) % 10, left = 3 + p % 6;
            left--;
            phones[u][i] = p;
            codes[u][i] = 2 * p + (i & 1);
        }
        cp[u] = codes[u], pp[u] = phones[u], n[u] = LEN;
    }
    vc_code_phone_stats s;
    CHECK(vc_code_phone_stats_compute(cp, pp, n, U, 20, 10, 1, &s) == VC_OK);
    CHECK(s.total == U * LEN);
    CHECK_NEAR(s.purity, 1.0, 1e-12, 0); /* every code on one phone */
    CHECK(s.code_phone[7] == 3 && s.code_purity[7] == 1.0);
    /* H(phone | code) = 0, so I = H(phone) and NMI = 2 H(p) / (H(p) + 1 + H(p)) < 1: a code
     * carries one more bit (which of its phone's two codes) than the phone */
    CHECK(s.nmi > 0.8 && s.nmi < 1.0);
    CHECK(s.nmi_shuffled < 0.5 * s.nmi);
    vc_code_phone_stats_free(&s);
    /* codes independent of the phones: NMI close to the rotated control's */
    for (int u = 0; u < U; u++)
        for (int i = 0; i < LEN; i++) r = r * 1664525u + 1013904223u, codes[u][i] = (int)(r >> 27);
    CHECK(vc_code_phone_stats_compute(cp, pp, n, U, 32, 10, 1, &s) == VC_OK);
    CHECK(s.nmi < 0.1 && s.nmi < 2.0 * s.nmi_shuffled + 0.01);
    vc_code_phone_stats_free(&s);
    /* unlabelled codes are left out */
    for (int i = 0; i < LEN; i += 2) phones[0][i] = -1;
    CHECK(vc_code_phone_stats_compute(cp, pp, n, U, 32, 10, 1, &s) == VC_OK);
    CHECK(s.total == U * LEN - LEN / 2);
    vc_code_phone_stats_free(&s);
    phones[0][1] = 10; /* out of range */
    CHECK(vc_code_phone_stats_compute(cp, pp, n, U, 32, 10, 1, &s) == VC_ERR_ARG && !s.joint);
    CHECK(vc_code_phone_stats_compute(cp, pp, n, 0, 32, 10, 1, &s) == VC_ERR_ARG);
    CHECK(vc_code_phone_stats_compute(cp, pp, n, U, 32, 10, 1, NULL) == VC_ERR_ARG);
    vc_code_phone_stats_free(NULL);
}

int main(void) {
    vc_log_set(quiet_log, NULL);
    test_files();
    test_hostile();
    test_at_codes();
    test_stats();
    return test_finish();
}
