/* The printed report of vconv codebook; see codebook_report.h. */
#include "codebook_report.h"
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* Near-duplicates: pairs of codes closer than a tenth of the median nearest-neighbour
 * distance (each pair once). */
#define NEAR_DUPLICATE_SHARE 0.1
/* Dead codes listed by number in the text report; the JSON lists them all. */
#define DEAD_SHOWN 32

/* Run-length encoded codes: "c" or "cxN" separated by spaces (text) or [c, N] pairs (JSON). */
static void print_rle(FILE *f, const int *codes, int n, int json) {
    for (int i = 0, first = 1; i < n; first = 0) {
        int j = i;
        while (j < n && codes[j] == codes[i]) j++;
        if (json)
            fprintf(f, "%s[%d, %d]", first ? "" : ", ", codes[i], j - i);
        else if (j - i > 1)
            fprintf(f, "%s%dx%d", first ? "" : " ", codes[i], j - i);
        else
            fprintf(f, "%s%d", first ? "" : " ", codes[i]);
        i = j;
    }
}

static int compare_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* q-quantile of v (n), sorted in place (nearest rank). */
static float quantile(float *v, int n, double q) {
    qsort(v, (size_t)n, sizeof *v, compare_float);
    return v[(int)(q * (n - 1) + 0.5)];
}

/* The summary figures of the geometry. */
typedef struct geometry_summary {
    float norm[3]; /* min, median, max */
    float nn[5];   /* nearest-neighbour distance: min, p10, median, p90, max */
    float dup;     /* near-duplicate threshold */
    int n_dup;
} geometry_summary;

static geometry_summary summarise(const vc_codebook_geometry *g) {
    geometry_summary s;
    int n = g->n;
    float *v = malloc(sizeof(float) * (size_t)n);
    if (!v) abort();
    memcpy(v, g->norms, sizeof(float) * (size_t)n);
    s.norm[0] = quantile(v, n, 0.0), s.norm[1] = quantile(v, n, 0.5);
    s.norm[2] = quantile(v, n, 1.0);
    memcpy(v, g->nn_dist, sizeof(float) * (size_t)n);
    const double q[5] = {0.0, 0.1, 0.5, 0.9, 1.0};
    for (int i = 0; i < 5; i++) s.nn[i] = quantile(v, n, q[i]);
    free(v);
    s.dup = (float)NEAR_DUPLICATE_SHARE * s.nn[2];
    s.n_dup = 0;
    for (int i = 0; i < n; i++) s.n_dup += g->nn_dist[i] < s.dup && g->nn_index[i] > i;
    return s;
}

static void print_geometry_json(const vc_codebook_geometry *g, const geometry_summary *s,
                                const char *model_path) {
    int n = g->n;
    printf("{\"model\": ");
    cli_json_string(stdout, model_path);
    printf(", \"codebook_size\": %d, \"code_dim\": %d,\n \"geometry\": {\"norm\": "
           "{\"min\": %.6g, \"median\": %.6g, \"max\": %.6g}, \"nn_distance\": {\"min\": "
           "%.6g, \"p10\": %.6g, \"median\": %.6g, \"p90\": %.6g, \"max\": %.6g},\n  "
           "\"near_duplicates\": [",
           n, g->dim, s->norm[0], s->norm[1], s->norm[2], s->nn[0], s->nn[1], s->nn[2], s->nn[3],
           s->nn[4]);
    for (int i = 0, first = 1; i < n; i++)
        if (g->nn_dist[i] < s->dup && g->nn_index[i] > i)
            printf("%s[%d, %d]", first ? "" : ", ", i, g->nn_index[i]), first = 0;
    printf("], \"pca_share\": [%.6f, %.6f],\n  \"pca\": [", g->pca_share[0], g->pca_share[1]);
    for (int i = 0; i < n; i++)
        printf("%s[%.5g, %.5g]", i ? ", " : "", g->pca[2 * i], g->pca[2 * i + 1]);
    printf("]}");
}

void codebook_print_geometry(const vc_codebook_geometry *g, const char *model_path, int json,
                             int close) {
    geometry_summary s = summarise(g);
    if (json) {
        print_geometry_json(g, &s, model_path);
        printf("%s", close ? "}\n" : "");
        return;
    }
    printf("model     %s: %d codes of %d dimensions\n", model_path, g->n, g->dim);
    printf("norms     min %.3g, median %.3g, max %.3g\n", s.norm[0], s.norm[1], s.norm[2]);
    printf("nearest   distance to the nearest other code: min %.3g, 10%% %.3g, median %.3g, "
           "90%% %.3g, max %.3g\n",
           s.nn[0], s.nn[1], s.nn[2], s.nn[3], s.nn[4]);
    printf("twins     %d pairs closer than %.2g (a tenth of the median)\n", s.n_dup, s.dup);
    printf("pca       the two leading axes explain %.1f%% and %.1f%% of the variance\n",
           100.0 * g->pca_share[0], 100.0 * g->pca_share[1]);
}

typedef struct speaker_usage {
    int files;
    vc_code_stats stats; /* usage of this speaker's codes alone */
} speaker_usage;

/* Codes used, and their perplexity, over the files of speaker sp. */
static speaker_usage usage_of(const codebook_usage *u, int sp) {
    speaker_usage s = {0};
    const int **codes = malloc(sizeof *codes * (size_t)u->n_files);
    int *lens = malloc(sizeof *lens * (size_t)u->n_files);
    if (!codes || !lens) abort();
    for (int i = 0; i < u->n_files; i++)
        if (u->files[i].speaker == sp)
            codes[s.files] = u->files[i].codes, lens[s.files++] = u->files[i].n;
    if (s.files && vc_code_stats_compute(codes, lens, NULL, s.files, u->N, 1, &s.stats) != VC_OK)
        memset(&s.stats, 0, sizeof s.stats);
    free(codes);
    free(lens);
    return s;
}

static void print_files_json(const codebook_usage *u) {
    printf(",\n \"codes_per_second\": %.4f,\n \"files\": [", u->codes_per_second);
    for (int i = 0; i < u->n_files; i++) {
        const codebook_file *e = &u->files[i];
        printf("%s\n  {\"path\": ", i ? "," : "");
        cli_json_string(stdout, e->path);
        printf(", \"speaker\": ");
        if (e->speaker >= 0)
            cli_json_string(stdout, u->list->speakers[e->speaker]);
        else
            printf("null");
        printf(", \"codes\": %d, \"first_frame\": %d", e->n, e->first_frame);
        if (u->with_codes) {
            printf(", \"rle\": [");
            print_rle(stdout, e->codes, e->n, 1);
            printf("]");
        }
        printf("}");
    }
    printf("],\n \"skipped\": %d", u->skipped);
}

static void print_usage_json(const codebook_usage *u) {
    const vc_code_stats *cs = u->stats;
    int N = u->N;
    print_files_json(u);
    printf(",\n \"usage\": {\"total\": %ld, \"seconds\": %.3f, \"used\": %d, "
           "\"share_used\": %.6f, \"perplexity\": %.4f, \"entropy_bits\": %.6f, "
           "\"bits_per_second\": %.4f,\n  \"counts\": [",
           cs->total, (double)cs->total / u->codes_per_second, cs->used, (double)cs->used / N,
           cs->perplexity, cs->entropy_bits, cs->entropy_bits * u->codes_per_second);
    for (int k = 0; k < N; k++) printf("%s%ld", k ? ", " : "", u->counts[k]);
    printf("],\n  \"dead\": [");
    for (int k = 0, first = 1; k < N; k++)
        if (!u->counts[k]) printf("%s%d", first ? "" : ", ", k), first = 0;
    printf("]}");
    if (u->with_speakers) {
        printf(",\n \"speaker\": {\"speakers\": %d, \"mi_bits\": %.6f, \"nmi\": %.6f, "
               "\"nmi_shuffled\": %.6f,\n  \"per_speaker\": [",
               cs->speakers, cs->mi_bits, cs->nmi, cs->nmi_shuffled);
        for (int sp = 0; sp < u->list->n_speakers; sp++) {
            speaker_usage s = usage_of(u, sp);
            printf("%s\n   {\"speaker\": ", sp ? "," : "");
            cli_json_string(stdout, u->list->speakers[sp]);
            printf(", \"files\": %d, \"codes\": %ld, \"used\": %d, \"perplexity\": %.4f}", s.files,
                   s.stats.total, s.stats.used, s.stats.perplexity);
        }
        printf("]}");
    }
    if (u->phones) codebook_phones_print(u->phones, u->with_speakers ? cs : NULL, 1);
    printf("}\n");
}

static void print_usage_text(const codebook_usage *u) {
    const vc_code_stats *cs = u->stats;
    int N = u->N;
    printf("audio     %d files (%d skipped), %.1f s of speech, %ld codes (%.2f per second)\n",
           u->n_files, u->skipped, (double)cs->total / u->codes_per_second, cs->total,
           u->codes_per_second);
    printf("usage     %d of %d codes used (%.1f%%), perplexity %.1f, entropy %.2f bits per "
           "code, %.0f bits per second\n",
           cs->used, N, 100.0 * cs->used / N, cs->perplexity, cs->entropy_bits,
           cs->entropy_bits * u->codes_per_second);
    printf("dead      %d codes", N - cs->used);
    for (int k = 0, shown = 0; k < N && shown < DEAD_SHOWN; k++)
        if (!u->counts[k]) printf("%s%d", shown++ ? " " : ": ", k);
    printf(N - cs->used > DEAD_SHOWN ? " ...\n" : "\n");
    if (u->with_speakers) {
        printf("speaker   %d speakers: normalised mutual information code-speaker %.4f "
               "(%.3f bits); with speakers shuffled between utterances %.4f\n",
               cs->speakers, cs->nmi, cs->mi_bits, cs->nmi_shuffled);
        for (int sp = 0; sp < u->list->n_speakers; sp++) {
            speaker_usage s = usage_of(u, sp);
            printf("          %-28s %4d files %7ld codes, %4d used, perplexity %.1f\n",
                   u->list->speakers[sp], s.files, s.stats.total, s.stats.used, s.stats.perplexity);
        }
    }
    if (u->phones) codebook_phones_print(u->phones, u->with_speakers ? cs : NULL, 0);
    for (int i = 0; u->with_codes && i < u->n_files; i++) {
        printf("%s: ", u->files[i].path);
        print_rle(stdout, u->files[i].codes, u->files[i].n, 0);
        printf("\n");
    }
}

void codebook_print_usage(const codebook_usage *u, int json) {
    if (json)
        print_usage_json(u);
    else
        print_usage_text(u);
}
