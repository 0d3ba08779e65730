/* vconv convert --to REFERENCE [--to REFERENCE ...] SOURCE... -o DIR (every source in each
 * reference's voice) or --pairs FILE -o DIR (the pairs it lists; convert_plan.c), with one model
 * load. The steps:
 *   names    each output's path, <DIR>/<source-stem>_as_<reference-stem>.wav; clashes refused
 *   outputs  each checked against its inputs before any work (output.h's rules)
 *   model    loaded once
 *   voices   one per reference, made once; a reference that fails fails its outputs only
 *   workers  --threads threads, each with its own converter (the model is only read), take the
 *            next source, load it once and convert it to each voice, writing each output
 *            atomically (temp file + rename): a failed or interrupted file leaves nothing
 *   summary  converted, failed (each with its reason), not started after Ctrl-C
 * The library's log sink is process-wide, so while the batch runs a sink of its own keeps each
 * thread's last error for the file that thread works on. */
#define _POSIX_C_SOURCE 200809L /* sigaction */
#include "convert.h"
#include "output.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const cmd = "convert";

/* Set by the signal handler (the signal's number), read by the workers between files. */
static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int sig) {
    static const char msg[] = "\nvconv convert: stopping after the files under way (press Ctrl-C "
                              "again to abort)\n";
    stop_requested = sig;
    signal(sig, SIG_DFL); /* a second signal ends the process the usual way */
    ssize_t r = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)r;
}

#define REASON_LEN 600

enum { PAIR_PENDING, PAIR_DONE, PAIR_FAILED };

/* One output: a source in one voice. */
typedef struct batch_pair {
    int source, voice; /* indices into the plan's sources and references */
    char *path;        /* the output file, malloc'd */
    cli_output out;    /* opened (checked) before the work */
    int state;         /* PAIR_* */
    char reason[REASON_LEN];
} batch_pair;

struct batch;

/* A thread that calls the library: the main thread or a worker. */
typedef struct batch_slot {
    struct batch *b;
    pthread_t thread;
    int registered;
    const char *task;        /* the file under way, named in warnings */
    char error[REASON_LEN];  /* the last error the library logged on this thread */
    double fraction;         /* of the output under way */
    vc_converter *converter; /* a worker's */
} batch_slot;

typedef struct batch {
    cli_common *common;
    const convert_settings *s;
    const convert_plan *plan;
    vc_model *model;
    vc_voice *voices;  /* (plan->n_refs) */
    batch_pair *pairs; /* (plan->n_pairs), grouped by source as the plan's */
    batch_slot main_slot;
    batch_slot *workers; /* (n_workers) */
    int n_workers;
    /* The lock guards the slots' registration and errors, the counters, the progress line and
     * stderr while workers run. */
    pthread_mutex_t lock;
    int next_source;
    long pending, finished; /* outputs to make at the start; made or failed since */
    double seconds;         /* of source audio converted */
    cli_progress progress;
} batch;

/* ---- the log sink ------------------------------------------------------------------------- */

static batch_slot *slot_of_caller(batch *b) {
    pthread_t self = pthread_self();
    for (int i = 0; i < b->n_workers; i++) /* first: the main thread may work as a worker */
        if (b->workers[i].registered && pthread_equal(b->workers[i].thread, self))
            return &b->workers[i];
    if (b->main_slot.registered && pthread_equal(b->main_slot.thread, self)) return &b->main_slot;
    return NULL;
}

/* The progress bar's line is ended before anything else is printed (it is drawn again at the
 * next update). Under the lock. */
static void clear_bar(batch *b) {
    if (b->progress.enabled && b->progress.tty && b->progress.last >= 0) {
        fputs("\r\033[K", stderr);
        b->progress.last = -1;
    }
}

static void batch_log(int level, const char *msg, void *user) {
    batch *b = user;
    pthread_mutex_lock(&b->lock);
    batch_slot *slot = slot_of_caller(b);
    if (level == 0 && slot) {
        size_t len = strlen(slot->error);
        if (!strncmp(msg, "HINT:", 5) && len) /* the hint follows the error it explains */
            snprintf(slot->error + len, sizeof slot->error - len, ". %s", msg);
        else
            snprintf(slot->error, sizeof slot->error, "%s", msg);
    } else if (level == 0 || (level == 1 && !b->common->quiet)) {
        clear_bar(b);
        const char *task = slot && slot->task ? slot->task : NULL;
        fprintf(stderr, "vconv: %s%s%s%s\n", level ? "warning: " : "", task ? task : "",
                task ? ": " : "", msg);
    }
    pthread_mutex_unlock(&b->lock);
}

static void slot_register(batch *b, batch_slot *slot) {
    pthread_mutex_lock(&b->lock);
    slot->b = b;
    slot->thread = pthread_self();
    slot->registered = 1;
    pthread_mutex_unlock(&b->lock);
}

/* Why a step of this thread failed: the library's line, else the status named after what. The
 * slot's error is cleared for the next step. */
static void take_reason(batch_slot *slot, vc_status st, const char *what, char *reason) {
    pthread_mutex_lock(&slot->b->lock);
    if (slot->error[0])
        snprintf(reason, REASON_LEN, "%s", slot->error);
    else
        snprintf(reason, REASON_LEN, "%s: %s", what, vc_strerror(st));
    slot->error[0] = '\0';
    pthread_mutex_unlock(&slot->b->lock);
}

/* ---- progress ----------------------------------------------------------------------------- */

/* Outputs finished plus each worker's share of the one under way. Under the lock. */
static void show_progress(batch *b) {
    double done = (double)b->finished;
    for (int i = 0; i < b->n_workers; i++) done += b->workers[i].fraction;
    cli_progress_update(b->pending ? done / (double)b->pending : 1.0, &b->progress);
}

static void on_chunk(double fraction, void *user) {
    batch_slot *slot = user;
    pthread_mutex_lock(&slot->b->lock);
    slot->fraction = fraction;
    show_progress(slot->b);
    pthread_mutex_unlock(&slot->b->lock);
}

/* The pair is made (reason NULL) or failed; seconds of source audio count when made. */
static void finish_pair(batch_slot *slot, batch_pair *p, const char *reason, double seconds) {
    batch *b = slot->b;
    pthread_mutex_lock(&b->lock);
    p->state = reason ? PAIR_FAILED : PAIR_DONE;
    if (reason) snprintf(p->reason, sizeof p->reason, "%s", reason);
    if (!reason) b->seconds += seconds;
    b->finished++;
    slot->fraction = 0.0;
    show_progress(b);
    pthread_mutex_unlock(&b->lock);
}

/* ---- the workers -------------------------------------------------------------------------- */

/* Converts, writes and commits one output. NULL when made, else the reason into reason. */
static const char *make_output(batch_slot *slot, batch_pair *p, const vc_audio *src,
                               const vc_voice *voice, char *reason) {
    const convert_settings *s = slot->b->s;
    vc_audio out = {0};
    vc_status st = vc_converter_run(slot->converter, src, voice, &out);
    if (st == VC_OK) {
        int rate = s->out_rate ? s->out_rate : out.sample_rate;
        st = cli_output_save_audio(&p->out, &out, s->enc, rate);
    }
    vc_audio_free(&out);
    if (st != VC_OK) {
        take_reason(slot, st, "conversion", reason);
        cli_output_discard(&p->out);
        return reason;
    }
    /* A regular file is in place already; a FIFO or device is written now. */
    if (cli_output_commit(&p->out, cmd) != EXIT_OK) {
        snprintf(reason, REASON_LEN, "writing failed (the line above says why)");
        return reason;
    }
    return NULL;
}

/* Source i loaded once and converted to each voice its outputs still wait for. */
static void convert_source(batch_slot *slot, int i) {
    batch *b = slot->b;
    const char *path = b->plan->sources[i];
    batch_pair *row = b->pairs + b->plan->source_start[i];
    int n = b->plan->source_start[i + 1] - b->plan->source_start[i], waiting = 0;
    for (int k = 0; k < n; k++) waiting += row[k].state == PAIR_PENDING;
    if (!waiting) return;
    char reason[REASON_LEN];
    vc_audio src = {0};
    slot->task = path;
    vc_status st = vc_audio_load_audible(path, vc_model_sample_rate(b->model), &src, NULL);
    if (st != VC_OK) take_reason(slot, st, path, reason);
    for (int k = 0; k < n; k++) {
        if (row[k].state != PAIR_PENDING) continue;
        if (st != VC_OK) {
            cli_output_discard(&row[k].out);
            finish_pair(slot, &row[k], reason, 0.0);
            continue;
        }
        if (stop_requested) break;
        slot->task = row[k].path;
        const char *why = make_output(slot, &row[k], &src, &b->voices[row[k].voice], reason);
        finish_pair(slot, &row[k], why, (double)src.n_samples / src.sample_rate);
    }
    slot->task = NULL;
    vc_audio_free(&src);
}

static void *worker_run(void *arg) {
    batch_slot *slot = arg;
    batch *b = slot->b;
    slot_register(b, slot); /* one compute thread: set before the voices, applied by the library */
    for (;;) {
        pthread_mutex_lock(&b->lock);
        int i = stop_requested ? b->plan->n_sources : b->next_source++;
        pthread_mutex_unlock(&b->lock);
        if (i >= b->plan->n_sources) break;
        convert_source(slot, i);
    }
    return NULL;
}

/* ---- before and after the work ------------------------------------------------------------ */

static int compare_paths(const void *x, const void *y) {
    const batch_pair *const *a = x, *const *c = y;
    return strcmp((*a)->path, (*c)->path);
}

/* Every output's path; EXIT_USAGE (with the line) when two would have one name. */
static int name_outputs(batch *b, const char *dir) {
    size_t n = (size_t)b->plan->n_pairs;
    for (size_t k = 0; k < n; k++) {
        batch_pair *p = &b->pairs[k];
        char name[1024];
        convert_output_name(name, sizeof name, b->plan->sources[p->source],
                            b->plan->refs[p->voice]);
        size_t len = strlen(dir) + strlen(name) + 2;
        if (!(p->path = malloc(len))) abort();
        snprintf(p->path, len, "%s/%s", dir, name);
    }
    batch_pair **sorted = malloc(n * sizeof *sorted);
    if (!sorted) abort();
    for (size_t k = 0; k < n; k++) sorted[k] = &b->pairs[k];
    qsort(sorted, n, sizeof *sorted, compare_paths);
    int rc = EXIT_OK;
    for (size_t k = 1; k < n && rc == EXIT_OK; k++)
        if (!strcmp(sorted[k]->path, sorted[k - 1]->path)) {
            fprintf(stderr,
                    "vconv %s: two outputs would be %s: give the sources (or references) "
                    "files of distinct names, each pair once\n",
                    cmd, sorted[k]->path);
            rc = EXIT_USAGE;
        }
    free(sorted);
    return rc;
}

/* Each output checked against its inputs (output.h); a refused one fails alone. */
static void open_outputs(batch *b) {
    for (int k = 0; k < b->plan->n_pairs; k++) {
        batch_pair *p = &b->pairs[k];
        const char *inputs[3] = {b->plan->sources[p->source], b->plan->refs[p->voice],
                                 b->s->model_path};
        if (cli_output_open(&p->out, cmd, p->path, inputs, 3, CLI_OUT_AUDIO) == EXIT_OK) continue;
        cli_output_discard(&p->out);
        p->state = PAIR_FAILED;
        snprintf(p->reason, sizeof p->reason, "output refused (the line above says why)");
    }
}

/* Voice v from its reference; when it fails, so does each of its outputs. */
static void make_voice(batch *b, int v) {
    batch_slot *slot = &b->main_slot;
    const char *path = b->plan->refs[v];
    vc_audio ref = {0};
    slot->task = path;
    vc_status st = vc_audio_load_audible(path, vc_model_sample_rate(b->model), &ref, NULL);
    if (st == VC_OK) st = vc_voice_from_audio(b->model, &ref, 1, &b->voices[v]);
    vc_audio_free(&ref);
    slot->task = NULL;
    if (st == VC_OK) {
        char label[1100];
        snprintf(label, sizeof label, "voice of %s", path);
        convert_report_voice(b->common, label, &b->voices[v], &b->s->cp);
        return;
    }
    char why[REASON_LEN], reason[REASON_LEN];
    take_reason(slot, st, path, why);
    fprintf(stderr, "vconv %s: %s\n", cmd, why);
    /* cut to fit: a reason stays one line of bounded length */
    snprintf(reason, sizeof reason, "the reference failed: %.*s", REASON_LEN - 32, why);
    for (int k = 0; k < b->plan->n_pairs; k++) {
        batch_pair *p = &b->pairs[k];
        if (p->voice != v || p->state != PAIR_PENDING) continue;
        cli_output_discard(&p->out);
        p->state = PAIR_FAILED;
        snprintf(p->reason, sizeof p->reason, "%s", reason);
    }
}

/* One converter per worker, made here (FFTW plans are made on the main thread). */
static int start_workers(batch *b) {
    if (!(b->workers = calloc((size_t)b->n_workers, sizeof *b->workers))) abort();
    vc_convert_params cp = b->s->cp;
    cp.progress = on_chunk;
    for (int k = 0; k < b->n_workers; k++) {
        batch_slot *w = &b->workers[k];
        w->b = b;
        cp.progress_user = w;
        vc_status st = vc_converter_init(b->model, &cp, &w->converter);
        if (st != VC_OK) {
            char reason[REASON_LEN];
            take_reason(&b->main_slot, st, "converter", reason);
            fprintf(stderr, "vconv %s: %s\n", cmd, reason);
            return EXIT_RUNTIME;
        }
    }
    return EXIT_OK;
}

/* The counts, each failure with its reason, and the exit status. */
static int summarise(batch *b, const char *dir, double elapsed) {
    long made = 0, failed = 0, waiting = 0, n = b->plan->n_pairs;
    for (long k = 0; k < n; k++) {
        made += b->pairs[k].state == PAIR_DONE;
        failed += b->pairs[k].state == PAIR_FAILED;
        waiting += b->pairs[k].state == PAIR_PENDING;
    }
    cli_info(b->common,
             "converted %ld of %ld into %s: %.1f s of source audio in %.1f s (real-time factor "
             "%.3f, %d worker%s)",
             made, n, dir, b->seconds, elapsed, b->seconds > 0 ? elapsed / b->seconds : 0.0,
             b->n_workers, b->n_workers == 1 ? "" : "s");
    for (long k = 0; k < n; k++)
        if (b->pairs[k].state == PAIR_FAILED)
            fprintf(stderr, "vconv %s: failed: %s: %s\n", cmd, b->pairs[k].path,
                    b->pairs[k].reason);
    if (failed) fprintf(stderr, "vconv %s: %ld of %ld failed\n", cmd, failed, n);
    if (waiting) {
        fprintf(stderr, "vconv %s: interrupted: %ld not converted\n", cmd, waiting);
        return 128 + (stop_requested ? (int)stop_requested : SIGINT);
    }
    return failed ? EXIT_RUNTIME : EXIT_OK;
}

/* The workers started and waited for. */
static void run_workers(batch *b) {
    pthread_t *threads = malloc((size_t)b->n_workers * sizeof *threads);
    if (!threads) abort();
    int started = 0;
    for (; started < b->n_workers; started++)
        if (pthread_create(&threads[started], NULL, worker_run, &b->workers[started]) != 0) break;
    if (!started) worker_run(&b->workers[0]); /* no thread to be had: the work is done here */
    for (int k = 0; k < started; k++) pthread_join(threads[k], NULL);
    free(threads);
}

static void batch_free(batch *b) {
    for (int k = 0; b->pairs && k < b->plan->n_pairs; k++) {
        cli_output_discard(&b->pairs[k].out);
        free(b->pairs[k].path);
    }
    free(b->pairs);
    for (int k = 0; b->workers && k < b->n_workers; k++) vc_converter_free(b->workers[k].converter);
    free(b->workers);
    for (int v = 0; b->voices && v < b->plan->n_refs; v++) vc_voice_free(&b->voices[v]);
    free(b->voices);
    vc_model_free(b->model);
    pthread_mutex_destroy(&b->lock);
}

static int check_inputs(const convert_plan *plan, const char *dir) {
    for (int i = 0; i < plan->n_refs + plan->n_sources; i++)
        if (!strcmp(i < plan->n_refs ? plan->refs[i] : plan->sources[i - plan->n_refs], "-")) {
            fprintf(stderr,
                    "vconv %s: '-' (standard input) cannot be read by a batch; give "
                    "files (try 'vconv convert --help')\n",
                    cmd);
            return EXIT_USAGE;
        }
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr,
                "vconv %s: %s: not a folder (with --to or --pairs, -o names the folder the "
                "outputs go into)\n",
                cmd, dir);
        return EXIT_RUNTIME;
    }
    return EXIT_OK;
}

int convert_batch(cli_common *common, const convert_settings *s, const convert_plan *plan,
                  const char *dir) {
    int rc = check_inputs(plan, dir);
    if (rc != EXIT_OK) return rc;
    /* Ctrl-C and SIGTERM from here on stop the batch between files (before the work: no file
     * is started), whatever the signals' disposition was (a background job ignores SIGINT). */
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    batch b;
    memset(&b, 0, sizeof b);
    b.common = common;
    b.s = s;
    b.plan = plan;
    pthread_mutex_init(&b.lock, NULL);
    if (!(b.pairs = calloc((size_t)plan->n_pairs, sizeof *b.pairs))) abort();
    if (!(b.voices = calloc((size_t)plan->n_refs, sizeof *b.voices))) abort();
    for (int k = 0; k < plan->n_pairs; k++)
        b.pairs[k].source = plan->pair_source[k], b.pairs[k].voice = plan->pair_ref[k];
    if ((rc = name_outputs(&b, dir)) != EXIT_OK) goto done;
    open_outputs(&b);
    if ((rc = cli_load_model(common, cmd, s->model_path, &b.model)) != EXIT_OK) goto done;
    int rate = s->out_rate ? s->out_rate : vc_model_sample_rate(b.model);
    if (vc_audio_save_check(b.pairs[0].path, s->enc, rate) != VC_OK) {
        rc = cli_fail(common, cmd, b.pairs[0].path, VC_ERR_ARG);
        goto done;
    }

    vc_log_set(batch_log, &b);
    slot_register(&b, &b.main_slot);
    /* One compute thread from here on, voices included: a voice made with two threads can
     * differ from a single conversion's in the last bits (OpenBLAS kernels whose sums depend
     * on how the work is split), and every output must have that conversion's bytes. */
    vc_set_num_threads(1);
    for (int v = 0; v < plan->n_refs; v++) make_voice(&b, v);
    for (int k = 0; k < plan->n_pairs; k++) b.pending += b.pairs[k].state == PAIR_PENDING;
    b.n_workers = !b.pending                          ? 0
                  : common->threads < plan->n_sources ? common->threads
                                                      : plan->n_sources;
    double t0 = cli_now_seconds();
    if (b.pending && (rc = start_workers(&b)) != EXIT_OK) goto done;
    cli_progress_init(&b.progress, common, cmd, b.pending > 0);
    b.progress.show_eta = 1;
    if (b.pending) run_workers(&b);
    cli_progress_done(&b.progress);
    rc = summarise(&b, dir, cli_now_seconds() - t0);
done:
    vc_log_set(NULL, NULL);
    batch_free(&b);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return rc;
}
