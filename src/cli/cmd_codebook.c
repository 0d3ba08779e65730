/* vconv codebook: what the codes of a model do on speech: usage, perplexity, entropy, dead
 * codes, and how much the code depends on the speaker. */
#include "cli.h"
#include "codebook_html.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

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

/* Near-duplicates: pairs of codes closer than a tenth of the median nearest-neighbour
 * distance (each pair once). */
#define NEAR_DUPLICATE_SHARE 0.1

/* The geometry as text, or as the opening of the JSON object ("{" and its keys, without the
 * closing brace unless close). */
static void print_geometry(const vc_codebook_geometry *g, const char *model_path, int json,
                           int close) {
    int n = g->n;
    float *v = malloc(sizeof(float) * (size_t)n);
    if (!v) abort();
    memcpy(v, g->norms, sizeof(float) * (size_t)n);
    float nmin = quantile(v, n, 0.0), nmed = quantile(v, n, 0.5), nmax = quantile(v, n, 1.0);
    memcpy(v, g->nn_dist, sizeof(float) * (size_t)n);
    float d[5] = {quantile(v, n, 0.0), quantile(v, n, 0.1), quantile(v, n, 0.5),
                  quantile(v, n, 0.9), quantile(v, n, 1.0)};
    free(v);
    float dup = (float)NEAR_DUPLICATE_SHARE * d[2];
    int n_dup = 0;
    for (int i = 0; i < n; i++) n_dup += g->nn_dist[i] < dup && g->nn_index[i] > i;
    if (json) {
        printf("{\"model\": ");
        cli_json_string(stdout, model_path);
        printf(", \"codebook_size\": %d, \"code_dim\": %d,\n \"geometry\": {\"norm\": "
               "{\"min\": %.6g, \"median\": %.6g, \"max\": %.6g}, \"nn_distance\": {\"min\": "
               "%.6g, \"p10\": %.6g, \"median\": %.6g, \"p90\": %.6g, \"max\": %.6g},\n  "
               "\"near_duplicates\": [",
               n, g->dim, nmin, nmed, nmax, d[0], d[1], d[2], d[3], d[4]);
        for (int i = 0, first = 1; i < n; i++)
            if (g->nn_dist[i] < dup && g->nn_index[i] > i)
                printf("%s[%d, %d]", first ? "" : ", ", i, g->nn_index[i]), first = 0;
        printf("], \"pca_share\": [%.6f, %.6f],\n  \"pca\": [", g->pca_share[0], g->pca_share[1]);
        for (int i = 0; i < n; i++)
            printf("%s[%.5g, %.5g]", i ? ", " : "", g->pca[2 * i], g->pca[2 * i + 1]);
        printf("]}%s", close ? "}\n" : "");
    } else {
        printf("model     %s: %d codes of %d dimensions\n", model_path, n, g->dim);
        printf("norms     min %.3g, median %.3g, max %.3g\n", nmin, nmed, nmax);
        printf("nearest   distance to the nearest other code: min %.3g, 10%% %.3g, median %.3g, "
               "90%% %.3g, max %.3g\n",
               d[0], d[1], d[2], d[3], d[4]);
        printf("twins     %d pairs closer than %.2g (a tenth of the median)\n", n_dup, dup);
        printf("pca       the two leading axes explain %.1f%% and %.1f%% of the variance\n",
               100.0 * g->pca_share[0], 100.0 * g->pca_share[1]);
    }
}

typedef struct speaker_usage {
    int files;
    vc_code_stats stats; /* usage of this speaker's codes alone */
} speaker_usage;

/* Codes used, and their perplexity, over the files of speaker sp. */
static speaker_usage usage_of(const codebook_file *enc, int n_enc, int sp, int N) {
    speaker_usage u = {0};
    const int **codes = malloc(sizeof *codes * (size_t)n_enc);
    int *lens = malloc(sizeof *lens * (size_t)n_enc);
    if (!codes || !lens) abort();
    for (int i = 0; i < n_enc; i++)
        if (enc[i].speaker == sp) codes[u.files] = enc[i].codes, lens[u.files++] = enc[i].n;
    if (u.files && vc_code_stats_compute(codes, lens, NULL, u.files, N, 1, &u.stats) != VC_OK)
        memset(&u.stats, 0, sizeof u.stats);
    free(codes);
    free(lens);
    return u;
}

int cmd_codebook(int argc, char **argv) {
    const char *model_path = NULL, *html_path = NULL, *voice_path = NULL;
    int json = 0, with_codes = 0;
    cli_strings dirs = {0};
    const cli_option opts[] = {
        {"data", 'd', OPT_STRINGS, &dirs, 0, 0, NULL, "DIR",
         "folder of speech, speaker = first folder level (repeatable)"},
        {"model", 'm', OPT_STRING, &model_path, 0, 0, NULL, "MODEL",
         "model file (or give it first; default: the bundled model)"},
        {"json", 0, OPT_FLAG, &json, 0, 0, NULL, NULL, "print one JSON object (docs/codebook.md)"},
        {"codes", 0, OPT_FLAG, &with_codes, 0, 0, NULL, NULL,
         "print each file's code sequence, run-length encoded"},
        {"html", 0, OPT_STRING, &html_path, 0, 0, NULL, "REPORT.html",
         "also write a self-contained HTML report (plots, spectrograms, code clips)"},
        {"voice", 0, OPT_STRING, &voice_path, 0, 0, NULL, "REF",
         "voice of the report's code clips (default: the first audio file)"},
    };
    const cli_command cmd = {
        .name = "codebook",
        .synopsis = "[MODEL] [AUDIO ...] [--data DIR ...] [--json] [--codes]",
        .description =
            "Without audio: the codebook's geometry (norms, nearest-neighbour distances,\n"
            "near-duplicate codes, a 2-D PCA). With audio: encode it and report how the\n"
            "codebook is used: codes in use,\n"
            "perplexity, entropy (bits per code and per second), dead codes, and with speaker\n"
            "folders (--data) how much the code depends on the speaker: normalised mutual\n"
            "information, next to the same with speakers shuffled between utterances.",
        .opts = opts,
        .n_opts = (int)(sizeof opts / sizeof opts[0]),
        .min_positional = 0,
        .max_positional = CLI_MAX_REPEAT,
    };
    cli_common common;
    char *pos[CLI_MAX_REPEAT];
    int n_pos = cli_parse(&cmd, argc, argv, &common, pos);
    if (n_pos == CLI_HELP_SHOWN) return EXIT_OK;
    if (n_pos < 0) return -n_pos;
    int first_audio = 0;
    if (n_pos > 0 && ends_with(pos[0], ".safetensors")) {
        if (!model_path) model_path = pos[0];
        first_audio = 1;
    }
    char model_buf[1200];
    if (!model_path) model_path = cli_default_model(model_buf, sizeof model_buf);
    int with_audio = first_audio < n_pos || dirs.n > 0;

    vc_model *model = NULL;
    vc_file_list list = {0};
    codebook_file *enc = NULL;
    int n_enc = 0, skipped = 0, rc = EXIT_RUNTIME;
    vc_status st = vc_model_load(model_path, &model);
    if (st != VC_OK) {
        rc = cli_fail(&common, cmd.name, model_path, st);
        goto done;
    }
    vc_codebook_geometry geo = {0};
    if ((st = vc_codebook_geometry_of(model, &geo)) != VC_OK) {
        rc = cli_fail(&common, cmd.name, model_path, st);
        goto done;
    }
    if (!with_audio) {
        print_geometry(&geo, model_path, json, 1);
        if (html_path && codebook_html_write(html_path, model, model_path, &geo, NULL, NULL, NULL,
                                             0, NULL, "") != 0) {
            fprintf(stderr, "vconv codebook: could not write %s\n", html_path);
            goto done;
        }
        rc = EXIT_OK;
        goto done;
    }
    if (dirs.n && (st = vc_list_audio(dirs.items, dirs.n, &list)) != VC_OK) {
        rc = cli_fail(&common, cmd.name, dirs.items[0], st);
        goto done;
    }
    int n_files = (n_pos - first_audio) + list.n;
    enc = calloc((size_t)n_files, sizeof *enc);
    if (!enc) {
        rc = cli_fail(&common, cmd.name, "encoding", VC_ERR_NOMEM);
        goto done;
    }
    int rate = vc_model_sample_rate(model);
    cli_progress progress;
    cli_progress_init(&progress, &common, "encode", n_files >= 20);
    for (int i = 0; i < n_files; i++) {
        int from_list = i >= n_pos - first_audio;
        const char *path = from_list ? list.paths[i - (n_pos - first_audio)] : pos[first_audio + i];
        vc_audio a;
        st = vc_audio_load(path, rate, &a, NULL);
        if (st == VC_OK) {
            codebook_file *e = &enc[n_enc];
            st = vc_encode(model, &a, 10.0, &e->codes, &e->n, &e->first_frame);
            vc_audio_free(&a);
            if (st == VC_OK) {
                e->path = path;
                e->speaker = from_list ? list.speaker[i - (n_pos - first_audio)] : -1;
                n_enc++;
            }
        }
        if (st != VC_OK) {
            if (st == VC_ERR_NOMEM) {
                rc = cli_fail(&common, cmd.name, path, st);
                goto done;
            }
            skipped++; /* unreadable or silent: counted, the library logged why */
        }
        cli_progress_update((double)(i + 1) / n_files, &progress);
    }
    cli_progress_done(&progress);
    if (n_enc == 0) {
        fprintf(stderr, "vconv codebook: none of the %d files could be encoded\n", n_files);
        goto done;
    }

    /* statistics: speakers only when every file came from a speaker folder */
    const int **codes = malloc(sizeof *codes * (size_t)n_enc);
    int *lens = malloc(sizeof *lens * (size_t)n_enc), *spk = malloc(sizeof *spk * (size_t)n_enc);
    int N = vc_model_codebook_size(model), with_speakers = list.n_speakers > 1;
    long *counts = calloc((size_t)N, sizeof *counts);
    if (!codes || !lens || !spk || !counts) {
        free(codes), free(lens), free(spk), free(counts);
        rc = cli_fail(&common, cmd.name, "statistics", VC_ERR_NOMEM);
        goto done;
    }
    for (int i = 0; i < n_enc; i++) {
        codes[i] = enc[i].codes, lens[i] = enc[i].n, spk[i] = enc[i].speaker;
        with_speakers &= enc[i].speaker >= 0;
        for (int k = 0; k < enc[i].n; k++) counts[enc[i].codes[k]]++;
    }
    vc_code_stats cs;
    st = vc_code_stats_compute(codes, lens, with_speakers ? spk : NULL, n_enc, N, 1, &cs);
    if (st != VC_OK) {
        free(codes), free(lens), free(spk), free(counts);
        rc = cli_fail(&common, cmd.name, "statistics", st);
        goto done;
    }
    double codes_per_second = vc_model_codes_per_second(model);
    double seconds = (double)cs.total / codes_per_second;
    if (json) {
        print_geometry(&geo, model_path, 1, 0);
        printf(",\n \"codes_per_second\": %.4f,\n \"files\": [", codes_per_second);
        for (int i = 0; i < n_enc; i++) {
            printf("%s\n  {\"path\": ", i ? "," : "");
            cli_json_string(stdout, enc[i].path);
            printf(", \"speaker\": ");
            if (enc[i].speaker >= 0)
                cli_json_string(stdout, list.speakers[enc[i].speaker]);
            else
                printf("null");
            printf(", \"codes\": %d", enc[i].n);
            if (with_codes) {
                printf(", \"rle\": [");
                print_rle(stdout, enc[i].codes, enc[i].n, 1);
                printf("]");
            }
            printf("}");
        }
        printf(
            "],\n \"skipped\": %d,\n \"usage\": {\"total\": %ld, \"seconds\": %.3f, \"used\": %d, "
            "\"share_used\": %.6f, \"perplexity\": %.4f, \"entropy_bits\": %.6f, "
            "\"bits_per_second\": %.4f,\n  \"counts\": [",
            skipped, cs.total, seconds, cs.used, (double)cs.used / N, cs.perplexity,
            cs.entropy_bits, cs.entropy_bits * codes_per_second);
        for (int k = 0; k < N; k++) printf("%s%ld", k ? ", " : "", counts[k]);
        printf("],\n  \"dead\": [");
        for (int k = 0, first = 1; k < N; k++)
            if (!counts[k]) printf("%s%d", first ? "" : ", ", k), first = 0;
        printf("]}");
        if (with_speakers) {
            printf(",\n \"speaker\": {\"speakers\": %d, \"mi_bits\": %.6f, \"nmi\": %.6f, "
                   "\"nmi_shuffled\": %.6f,\n  \"per_speaker\": [",
                   cs.speakers, cs.mi_bits, cs.nmi, cs.nmi_shuffled);
            for (int sp = 0; sp < list.n_speakers; sp++) {
                speaker_usage u = usage_of(enc, n_enc, sp, N);
                printf("%s\n   {\"speaker\": ", sp ? "," : "");
                cli_json_string(stdout, list.speakers[sp]);
                printf(", \"files\": %d, \"codes\": %ld, \"used\": %d, \"perplexity\": %.4f}",
                       u.files, u.stats.total, u.stats.used, u.stats.perplexity);
            }
            printf("]}");
        }
        printf("}\n");
    } else {
        print_geometry(&geo, model_path, 0, 0);
        printf("audio     %d files (%d skipped), %.1f s of speech, %ld codes (%.2f per second)\n",
               n_enc, skipped, seconds, cs.total, codes_per_second);
        printf("usage     %d of %d codes used (%.1f%%), perplexity %.1f, entropy %.2f bits per "
               "code, %.0f bits per second\n",
               cs.used, N, 100.0 * cs.used / N, cs.perplexity, cs.entropy_bits,
               cs.entropy_bits * codes_per_second);
        printf("dead      %d codes", N - cs.used);
        for (int k = 0, shown = 0; k < N && shown < 32; k++)
            if (!counts[k]) printf("%s%d", shown++ ? " " : ": ", k);
        printf(N - cs.used > 32 ? " ...\n" : "\n");
        if (with_speakers) {
            printf("speaker   %d speakers: normalised mutual information code-speaker %.4f "
                   "(%.3f bits); with speakers shuffled between utterances %.4f\n",
                   cs.speakers, cs.nmi, cs.mi_bits, cs.nmi_shuffled);
            for (int sp = 0; sp < list.n_speakers; sp++) {
                speaker_usage u = usage_of(enc, n_enc, sp, N);
                printf("          %-28s %4d files %7ld codes, %4d used, perplexity %.1f\n",
                       list.speakers[sp], u.files, u.stats.total, u.stats.used, u.stats.perplexity);
            }
        }
        for (int i = 0; with_codes && i < n_enc; i++) {
            printf("%s: ", enc[i].path);
            print_rle(stdout, enc[i].codes, enc[i].n, 0);
            printf("\n");
        }
    }
    if (html_path) {
        vc_voice voice = {0};
        vc_audio va = {0};
        const char *vp = voice_path ? voice_path : enc[0].path;
        int ok = vc_audio_load(vp, rate, &va, NULL) == VC_OK &&
                 vc_voice_from_audio(model, &va, 1, &voice) == VC_OK;
        vc_audio_free(&va);
        if (!ok) fprintf(stderr, "vconv codebook: no voice from %s; the report has no clips\n", vp);
        int w = codebook_html_write(html_path, model, model_path, &geo, &cs, counts, enc, n_enc,
                                    ok ? &voice : NULL, vp);
        vc_voice_free(&voice);
        if (w != 0) {
            free(codes), free(lens), free(spk), free(counts);
            fprintf(stderr, "vconv codebook: could not write %s\n", html_path);
            goto done;
        }
        cli_info(&common, "wrote %s", html_path);
    }
    free(codes), free(lens), free(spk), free(counts);
    rc = EXIT_OK;
done:
    for (int i = 0; i < n_enc; i++) free(enc[i].codes);
    free(enc);
    vc_codebook_geometry_free(&geo);
    vc_file_list_free(&list);
    vc_model_free(model);
    return rc;
}
