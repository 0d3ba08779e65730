/* vconv score: an anomaly score per file, the model's reconstruction error (vc_score_audio)
 * divided by its median error on reference speech, worst first, with each file's worst seconds.
 * Meant for finding broken, noisy, clipped or non-speech files in a corpus before training on
 * it (docs/score.md says how well it does that). A file that cannot be scored is reported and
 * skipped; the others go on. */
#define _POSIX_C_SOURCE 200809L /* stat */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SCORE_CHUNK_SECONDS 10.0 /* as vconv codebook encodes: bounds memory on long files */
#define REFERENCE_KEY "vconv.score_reference"

/* One input's result: scored (spans kept, frame errors dropped) or why it was skipped. */
typedef struct score_item {
    const char *path;
    int index; /* in the input order: ties and skipped files keep it */
    int ok;
    vc_score s;
    char why[256];
} score_item;

/* Where the normalisation came from: the median raw error of reference speech. */
typedef struct score_reference {
    double median; /* 0: none (scores are raw errors) */
    int n_files;
    const char *source; /* "baseline", "model metadata", "bundled samples" */
} score_reference;

typedef struct score_run {
    cli_common *common;
    const vc_model *model;
    score_item *items;
    int n;
} score_run;

/* Scores path into it; on failure keeps the library's message (or the status) in it->why. */
static int score_one(cli_common *common, const vc_model *model, const char *path, score_item *it) {
    memset(it, 0, sizeof *it);
    it->path = path;
    common->last_error[0] = '\0';
    vc_audio a;
    vc_status st = vc_audio_load(path, vc_model_sample_rate(model), &a, NULL);
    if (st == VC_OK) {
        st = vc_score_audio(model, &a, SCORE_CHUNK_SECONDS, &it->s);
        vc_audio_free(&a);
    }
    if (st == VC_OK) {
        free(it->s.frame_error); /* only the spans are printed */
        it->s.frame_error = NULL;
        it->ok = 1;
        return 1;
    }
    /* the library names the file as it was given, or the input as "input": said once here */
    const char *why = common->last_error[0] ? common->last_error : vc_strerror(st);
    size_t n = strlen(path);
    if (!strncmp(why, path, n) && !strncmp(why + n, ": ", 2)) why += n + 2;
    if (!strncmp(why, "input: ", 7)) why += 7;
    snprintf(it->why, sizeof it->why, "%.255s", why);
    common->last_error[0] = '\0';
    return 0;
}

/* Scores every path (n) into items, with progress; returns how many were scored. Failures are
 * reported on stderr as they happen. */
static int score_all(score_run *r, const char *const *paths, const char *label) {
    cli_progress progress;
    cli_progress_init(&progress, r->common, label, r->n >= 10);
    int ok = 0;
    for (int i = 0; i < r->n; i++) {
        int scored = score_one(r->common, r->model, paths[i], &r->items[i]);
        r->items[i].index = i;
        if (scored)
            ok++;
        else if (!r->common->quiet)
            fprintf(stderr, "%svconv score: %s: %s (skipped)\n",
                    progress.tty && progress.last >= 0 ? "\n" : "", paths[i], r->items[i].why);
        cli_progress_update((double)(i + 1) / r->n, &progress);
    }
    cli_progress_done(&progress);
    return ok;
}

static void free_items(score_item *items, int n) {
    for (int i = 0; items && i < n; i++) vc_score_free(&items[i].s);
    free(items);
}

static int compare_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The model's stored reference median (REFERENCE_KEY). */
static int stored_reference(const vc_model *model, score_reference *ref) {
    const char *stored = vc_model_meta(model, REFERENCE_KEY);
    char *end = NULL;
    double v = strtod(stored, &end);
    if (end == stored || !(v > 0.0) || !isfinite(v)) {
        fprintf(stderr, "vconv score: the model's %s is not a positive number: '%s'\n",
                REFERENCE_KEY, stored);
        return EXIT_RUNTIME;
    }
    ref->median = v, ref->source = "model metadata";
    return EXIT_OK;
}

/* The median raw error of the scored items (n); *n_ok receives how many were scored. 0 when
 * none was, or without memory. */
static double median_error(const score_item *items, int n, int *n_ok) {
    double *errs = malloc(sizeof(double) * (size_t)(n ? n : 1)), med = 0.0;
    int k = 0;
    for (int i = 0; errs && i < n; i++)
        if (items[i].ok) errs[k++] = items[i].s.error;
    if (k) {
        qsort(errs, (size_t)k, sizeof *errs, compare_double);
        med = k % 2 ? errs[k / 2] : 0.5 * (errs[k / 2 - 1] + errs[k / 2]);
    }
    free(errs);
    *n_ok = k;
    return med;
}

/* The median raw error of reference speech (paths, n), scored now. */
static int find_reference(cli_common *common, const vc_model *model, const char *const *paths,
                          int n, const char *source, score_reference *ref) {
    score_run r = {common, model, calloc((size_t)(n ? n : 1), sizeof(score_item)), n};
    if (!r.items) return cli_fail(common, "score", "reference", VC_ERR_NOMEM);
    score_all(&r, paths, "reference");
    ref->median = median_error(r.items, n, &ref->n_files);
    ref->source = source;
    free_items(r.items, n);
    if (ref->median > 0.0) return EXIT_OK;
    fprintf(stderr, "vconv score: none of the %d reference files could be scored\n", n);
    return EXIT_RUNTIME;
}

/* Order of the output: scored files by error, worst first, then the skipped in input order. */
static int compare_items(const void *a, const void *b) {
    const score_item *x = a, *y = b;
    if (x->ok != y->ok) return y->ok - x->ok;
    if (x->ok && x->s.error != y->s.error) return x->s.error < y->s.error ? 1 : -1;
    return (x->index > y->index) - (x->index < y->index);
}

/* The indexes of the k worst spans of s into idx (k <= n_spans), worst first. */
static void worst_spans(const vc_score *s, int *idx, int k) {
    for (int j = 0; j < k; j++) {
        int best = -1;
        for (int i = 0; i < s->n_spans; i++) {
            int taken = 0;
            for (int q = 0; q < j; q++) taken |= idx[q] == i;
            if (!taken && (best < 0 || s->spans[i].error > s->spans[best].error)) best = i;
        }
        idx[j] = best;
    }
}

static double normalised(const score_reference *ref, double error) {
    return ref->median > 0.0 ? error / ref->median : error;
}

static void print_text(const score_item *items, int n_show, const score_reference *ref,
                       int n_spans) {
    if (ref->median > 0.0 && ref->n_files > 0)
        printf("# score = reconstruction error / %.4f, the median error of %s (%d file%s)\n",
               ref->median, ref->source, ref->n_files, ref->n_files == 1 ? "" : "s");
    else if (ref->median > 0.0)
        printf("# score = reconstruction error / %.4f, the median error stored in the model "
               "(" REFERENCE_KEY ")\n",
               ref->median);
    else
        printf("# score = raw reconstruction error (no reference speech; see --baseline)\n");
    printf("# score  error  speech_s  file  worst spans (start-end s: score)\n");
    for (int i = 0; i < n_show && items[i].ok; i++) {
        const vc_score *s = &items[i].s;
        printf("%7.3f %6.4f %8.2f  %s ", normalised(ref, s->error), s->error, s->speech_seconds,
               items[i].path);
        int idx[16], k = n_spans < s->n_spans ? n_spans : s->n_spans;
        worst_spans(s, idx, k);
        for (int j = 0; j < k; j++)
            printf(" %.1f-%.1f: %.2f", s->spans[idx[j]].start_s, s->spans[idx[j]].end_s,
                   normalised(ref, s->spans[idx[j]].error));
        printf("\n");
    }
}

static void print_json_file(const score_item *it, const score_reference *ref) {
    const vc_score *s = &it->s;
    printf("  {\"file\": ");
    cli_json_string(stdout, it->path);
    printf(", \"score\": %.6f, \"error\": %.6f, \"speech_s\": %.3f, \"spans\": [",
           normalised(ref, s->error), s->error, s->speech_seconds);
    for (int j = 0; j < s->n_spans; j++)
        printf("%s{\"start_s\": %.3f, \"end_s\": %.3f, \"score\": %.6f}", j ? ", " : "",
               s->spans[j].start_s, s->spans[j].end_s, normalised(ref, s->spans[j].error));
    printf("]}");
}

static void print_json(const score_item *items, int n, int n_show, const char *model_path,
                       const score_reference *ref) {
    printf("{\"model\": ");
    cli_json_string(stdout, model_path);
    printf(",\n \"reference\": ");
    if (ref->median > 0.0) {
        printf("{\"source\": ");
        cli_json_string(stdout, ref->source);
        printf(", \"files\": %d, \"median_error\": %.6f}", ref->n_files, ref->median);
    } else {
        printf("null");
    }
    printf(",\n \"files\": [\n");
    int shown = 0;
    for (int i = 0; i < n_show && items[i].ok; i++, shown++) {
        if (shown) printf(",\n");
        print_json_file(&items[i], ref);
    }
    printf("%s],\n \"skipped\": [", shown ? "\n " : "");
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (items[i].ok) continue;
        printf("%s\n  {\"file\": ", k++ ? "," : "");
        cli_json_string(stdout, items[i].path);
        printf(", \"error\": ");
        cli_json_string(stdout, items[i].why);
        printf("}");
    }
    printf("%s]}\n", k ? "\n " : "");
}

/* Every path: the positional files, then the files of the --data folders. */
typedef struct score_inputs {
    const char **paths;
    int n;
    vc_file_list list;
} score_inputs;

static int gather_inputs(cli_common *common, char **pos, int n_pos, const cli_strings *dirs,
                         score_inputs *in) {
    memset(in, 0, sizeof *in);
    vc_status st = dirs->n ? vc_list_audio(dirs->items, dirs->n, &in->list) : VC_OK;
    if (st != VC_OK) return cli_fail(common, "score", dirs->items[0], st);
    in->n = n_pos + in->list.n;
    in->paths = malloc(sizeof(char *) * (size_t)(in->n ? in->n : 1));
    if (!in->paths) return cli_fail(common, "score", "inputs", VC_ERR_NOMEM);
    for (int i = 0; i < n_pos; i++) in->paths[i] = pos[i];
    for (int i = 0; i < in->list.n; i++) in->paths[n_pos + i] = in->list.paths[i];
    return EXIT_OK;
}

static void free_inputs(score_inputs *in) {
    free(in->paths);
    vc_file_list_free(&in->list);
    memset(in, 0, sizeof *in);
}

/* --baseline items into files and folders (vc_list_audio walks folders; a missing path is
 * left to it, which names it). */
static int baseline_inputs(cli_common *common, const cli_strings *baseline, score_inputs *ref) {
    cli_strings dirs = {0};
    char *files[CLI_MAX_REPEAT];
    int n_files = 0;
    for (int i = 0; i < baseline->n; i++) {
        struct stat sb;
        if (stat(baseline->items[i], &sb) == 0 && S_ISREG(sb.st_mode))
            files[n_files++] = (char *)baseline->items[i];
        else
            dirs.items[dirs.n++] = baseline->items[i];
    }
    return gather_inputs(common, files, n_files, &dirs, ref);
}

/* The normalisation, first found: --baseline speech scored now, the model's stored median
 * (REFERENCE_KEY, see --calibrate), the clips beside the bundled model (samples/ in the source
 * tree, PREFIX/share/vconv/samples installed), else none. */
static int reference_of(cli_common *common, const vc_model *model, const cli_strings *baseline,
                        score_reference *ref) {
    score_inputs in;
    memset(ref, 0, sizeof *ref);
    if (baseline->n) {
        int rc = baseline_inputs(common, baseline, &in);
        if (rc == EXIT_OK) rc = find_reference(common, model, in.paths, in.n, "baseline", ref);
        free_inputs(&in);
        return rc;
    }
    if (vc_model_meta(model, REFERENCE_KEY)) return stored_reference(model, ref);
    char buf[1200];
    const char *dirs[1] = {cli_samples_dir(buf, sizeof buf)};
    memset(&in, 0, sizeof in);
    if (!dirs[0] || vc_list_audio(dirs, 1, &in.list) != VC_OK) { /* no clips: raw errors */
        common->last_error[0] = '\0';
        return EXIT_OK;
    }
    int rc = find_reference(common, model, in.list.paths, in.list.n, "bundled samples", ref);
    vc_file_list_free(&in.list);
    return rc;
}

/* The run after the reference: score, sort, print. */
static int score_and_print(score_run *r, const score_inputs *in, const score_reference *ref,
                           const char *model_path, int json, int top, int n_spans, int calibrate) {
    int ok = score_all(r, in->paths, "score");
    if (ok == 0) {
        fprintf(stderr, "vconv score: none of the %d files could be scored\n", r->n);
        return EXIT_RUNTIME;
    }
    qsort(r->items, (size_t)r->n, sizeof *r->items, compare_items);
    if (calibrate) { /* these files' median raw error, for vconv export --set */
        int k;
        double med = median_error(r->items, r->n, &k);
        printf("%s=%.6f\n", REFERENCE_KEY, med);
        cli_info(r->common,
                 "median reconstruction error of %d files; store it with: vconv "
                 "export MODEL -o OUT --set %s=%.6f",
                 k, REFERENCE_KEY, med);
        return EXIT_OK;
    }
    int n_show = top > 0 && top < ok ? top : ok;
    if (json)
        print_json(r->items, r->n, n_show, model_path, ref);
    else
        print_text(r->items, n_show, ref, n_spans);
    if (ok < r->n) cli_info(r->common, "%d of %d files could not be scored", r->n - ok, r->n);
    return EXIT_OK;
}

int cmd_score(int argc, char **argv) {
    const char *model_path = NULL;
    int json = 0, top = 0, n_spans = 3, calibrate = 0;
    cli_strings dirs = {0}, baseline = {0};
    const cli_option opts[] = {
        {"data", 'd', OPT_STRINGS, &dirs, 0, 0, NULL, "DIR",
         "score every audio file under DIR (recursively)"},
        {"model", 'm', OPT_STRING, &model_path, 0, 0, NULL, "MODEL",
         "model file (default: the bundled model)"},
        {"json", 0, OPT_FLAG, &json, 0, 0, NULL, NULL, "print one JSON object (docs/score.md)"},
        {"top", 0, OPT_INT, &top, 0, 1e9, NULL, "N", "list only the N worst files (0: all)"},
        {"spans", 0, OPT_INT, &n_spans, 0, 16, NULL, "K", "worst one-second spans shown per file"},
        {"baseline", 0, OPT_STRINGS, &baseline, 0, 0, NULL, "DIR|FILE",
         "reference speech the scores are relative to (see above)"},
        {"calibrate", 0, OPT_FLAG, &calibrate, 0, 0, NULL, NULL,
         "print the inputs' median error as " REFERENCE_KEY "=VALUE and stop"},
    };
    const cli_command cmd = {
        .name = "score",
        .synopsis = "[FILE ...] [--data DIR ...] [--model MODEL] [--json] [--top N]",
        .description =
            "An anomaly score per file: the model's reconstruction error (normalised log-mel\n"
            "against its decoding from the file's own codes, speaker embedding and pitch),\n"
            "divided by the median error of reference speech, so 1 is typical clean speech and\n"
            "higher is worse. Files are listed worst first with their worst one-second spans.\n"
            "The reference, first found: --baseline files and folders (scored first); the\n"
            "model's " REFERENCE_KEY " metadata (from --calibrate on clean speech, stored with\n"
            "vconv export --set); the sample clips beside the bundled model; else scores are\n"
            "raw errors. A file that cannot be scored is reported and skipped. At most 64 file\n"
            "arguments (give more as --data folders).",
        CLI_OPTIONS(opts),
        .min_positional = 0,
        .max_positional = CLI_MAX_REPEAT,
    };
    cli_common common;
    char *pos[CLI_MAX_REPEAT];
    int n_pos;
    if (!cli_begin(&cmd, argc, argv, &common, pos, &n_pos)) return common.exit_code;
    if (n_pos == 0 && dirs.n == 0) {
        fprintf(stderr, "vconv score: give audio files or --data DIR (try --help)\n");
        return EXIT_USAGE;
    }
    char model_buf[1200];
    if (!model_path) model_path = cli_default_model(model_buf, sizeof model_buf);
    vc_model *model = NULL;
    score_inputs in;
    memset(&in, 0, sizeof in);
    score_reference ref = {0};
    score_run r = {&common, NULL, NULL, 0};
    int rc = cli_load_model(&common, cmd.name, model_path, &model);
    if (rc == EXIT_OK) rc = gather_inputs(&common, pos, n_pos, &dirs, &in);
    if (rc == EXIT_OK && !calibrate) rc = reference_of(&common, model, &baseline, &ref);
    if (rc == EXIT_OK) {
        r.model = model, r.n = in.n;
        r.items = calloc((size_t)in.n, sizeof *r.items);
        rc = r.items ? score_and_print(&r, &in, &ref, model_path, json, top, n_spans, calibrate)
                     : cli_fail(&common, cmd.name, "inputs", VC_ERR_NOMEM);
    }
    free_items(r.items, r.n);
    free_inputs(&in);
    vc_model_free(model);
    return rc;
}
