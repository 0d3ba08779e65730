/* vconv train: folders of speech in, a model file out. Progress on stderr (a redrawn line on a
 * terminal, plain lines otherwise). Ctrl-C or SIGTERM stops after the current step with the
 * checkpoint written (the model only with --save-on-interrupt), prints the command that
 * resumes and exits 128 + the signal; during feature extraction it stops at once, with no
 * checkpoint; a second Ctrl-C aborts at once. */
#define _POSIX_C_SOURCE 200809L /* sigaction */
#include "cli.h"
#include "output.h"

#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Set by the signal handler (the signal's number), read by the trainer between steps. On every
 * POSIX system we build for, sig_atomic_t is int, which is what vc_train_params.stop points
 * to. */
static volatile sig_atomic_t stop_requested = 0;

/* Under an MPI launcher (docs/cluster.md) the launcher also sends SIGTERM when another rank has
 * died; the step under way then never completes. Set before the handlers are installed: -1
 * outside a launcher, else this process's rank (only rank 0 speaks). */
static int launcher_rank = -1;

static int rank_from_launcher(void) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v) return atoi(v);
    }
    return -1;
}

static void on_signal(int sig) {
    static const char msg[] = "\nvconv train: stopping after this step and writing a checkpoint "
                              "(press Ctrl-C again to abort)\n";
    static const char mpi[] = "vconv train: if a rank has died, the job ends without this step; "
                              "the last checkpoint on disk is intact and --resume continues "
                              "from it\n";
    stop_requested = sig;
    signal(sig, SIG_DFL); /* a second signal ends the process the usual way */
    if (launcher_rank > 0) return;
    ssize_t r = write(STDERR_FILENO, msg, sizeof msg - 1);
    if (launcher_rank == 0) r = write(STDERR_FILENO, mpi, sizeof mpi - 1);
    (void)r;
}

/* Feature extraction reports progress from the calling thread between chunks of files, after
 * each chunk's cache files are complete: a stop there ends the process at once, with nothing
 * half written and no checkpoint (no step has been taken). */
static void train_progress(double fraction, void *user) {
    if (stop_requested) {
        fprintf(stderr, "\nvconv train: interrupted during feature extraction; no checkpoint "
                        "written (the features computed so far are cached for the next run)\n");
        exit(128 + (int)stop_requested);
    }
    cli_progress_update(fraction, user);
}

typedef struct train_display {
    const cli_common *common;
    int tty;
} train_display;

static void format_duration(char *buf, size_t size, double seconds) {
    long s = seconds > 0 ? (long)(seconds + 0.5) : 0;
    if (s >= 3600)
        snprintf(buf, size, "%ldh%02ldm", s / 3600, s / 60 % 60);
    else
        snprintf(buf, size, "%ldm%02lds", s / 60, s % 60);
}

static void show_report(const vc_train_report *r, void *user) {
    const train_display *d = user;
    if (d->common->quiet) return;
    char eta[32], val[32] = "-";
    format_duration(eta, sizeof eta, (double)(r->steps - r->step) * r->seconds_per_step);
    if (r->val_loss >= 0) snprintf(val, sizeof val, "%.4f", r->val_loss);
    char line[480], cycle[64] = "", adv[96] = "", phone[80] = "";
    if (r->cycle)
        snprintf(cycle, sizeof cycle, " cycle %.4f/%.4f", r->cycle_content, r->cycle_speaker);
    if (r->adversarial)
        snprintf(adv, sizeof adv, " adv %.4f fm %.4f disc %.4f/%.4f", r->gen_adv, r->gen_fm,
                 r->disc_real, r->disc_fake);
    if (r->phone_loss)
        snprintf(phone, sizeof phone, " phones %.4f acc %.1f%% of %.0f%%", r->phone_xent,
                 100.0 * r->phone_accuracy, 100.0 * r->phone_labelled);
    if (r->is_validation) { /* validation reports carry only the validation loss */
        fprintf(stderr, "%sstep %ld/%ld  validation loss %.4f\n", d->tty ? "\r\033[K" : "", r->step,
                r->steps, r->val_loss);
        return;
    }
    snprintf(line, sizeof line,
             "step %ld/%ld  loss %.4f (mel %.4f lin %.4f commit %.4f%s%s%s)  val %s  "
             "perplexity %.1f, %d/%d codes  %.2f steps/s  ETA %s",
             r->step, r->steps, r->loss, r->mel, r->lin, r->commit, cycle, adv, phone, val,
             r->perplexity, r->codes_used, r->codebook_size,
             r->seconds_per_step > 0 ? 1.0 / r->seconds_per_step : 0.0, eta);
    if (d->tty && !r->is_validation)
        fprintf(stderr, "\r\033[K%s", line); /* redraw in place; validation lines stay */
    else
        fprintf(stderr, "%s%s\n", d->tty ? "\r\033[K" : "", line);
}

/* Reads a whole (small) text file: the JSON config. */
static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(1 << 20);
    size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    int too_long = buf && n == (1 << 20) - 1;
    fclose(f);
    if (!buf || too_long) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* Where the options land. Parsed twice: once over the defaults (the values to use), once
 * over sentinels, which shows what the command line gave explicitly. */
typedef struct train_args {
    vc_train_params p;
    cli_strings data;
    const char *config_path;
    int steps, seed, spk_utt; /* spk_utt: index into spk_choices */
} train_args;

static const char *const spk_choices[] = {"preset", "same", "other", NULL};

#define N_TRAIN_OPTS 30

static void train_options(train_args *a, cli_option *o) {
    vc_train_params *p = &a->p;
    const cli_option opts[N_TRAIN_OPTS] = {
        {"data", 'd', OPT_STRINGS, &a->data, 0, 0, NULL, "DIR",
         "folder of speech, scanned recursively; speaker = first folder level"},
        {"output", 'o', OPT_STRING, &p->out_model, 0, 0, NULL, "MODEL",
         "model file to write when the run ends"},
        {"preset", 0, OPT_STRING, &p->preset, 0, 0, NULL, "NAME",
         "model size: tiny or default (default: default; on --resume, the checkpoint's)"},
        {"config", 0, OPT_STRING, &a->config_path, 0, 0, NULL, "FILE",
         "JSON overriding the preset's fields (see docs/model.md)"},
        {"steps", 0, OPT_INT, &a->steps, 1, 100000000, NULL, "N",
         "optimiser steps (on --resume: the checkpoint's, or a new end)"},
        {"batch", 0, OPT_INT, &p->batch, 1, 1024, NULL, "N", "utterance segments per step"},
        {"segment", 0, OPT_INT, &p->segment_frames, 8, 4096, NULL, "T",
         "frames per training segment (even)"},
        {"lr", 0, OPT_FLOAT, &p->lr, 1e-7, 1.0, NULL, "X", "peak learning rate"},
        {"warmup", 0, OPT_INT, &p->warmup, 0, 10000000, NULL, "N", "learning-rate warm-up steps"},
        {"seed", 0, OPT_INT, &a->seed, 0, 2147483647, NULL, "S", "seed of every random choice"},
        {"speaker-utterance", 0, OPT_CHOICE, &a->spk_utt, 0, 0, spk_choices, NULL,
         "speaker branch input: another utterance of the speaker (other), another segment of "
         "the same one (same), or the preset's (other for default, same for tiny)"},
        {"augment-warp", 0, OPT_FLOAT, &p->augment_warp, -1, 0.45, NULL, "W",
         "content-input frequency warp factor in [1-W, 1+W]; 0 off, -1 the preset's (0.15 "
         "default, 0 tiny)"},
        {"augment-pitch", 0, OPT_FLOAT, &p->augment_pitch, -1, 12, NULL, "SEMITONES",
         "content-input pitch-like shift up to +-SEMITONES; 0 off, -1 the preset's (2, 0)"},
        {"augment-eq", 0, OPT_FLOAT, &p->augment_eq_db, -1, 24, NULL, "DB",
         "content-input random smooth EQ up to +-DB; 0 off, -1 the preset's (6, 0)"},
        {"denoise", 0, OPT_FLOAT, &p->denoise, 0, 1, NULL, "P",
         "denoising training: each encoder input corrupted with probability P (white, pink or "
         "babble noise at 0-20 dB SNR, light reverberation), targets clean; default 0 (off)"},
        {"continuous-content", 0, OPT_FLOAT, &p->continuous_content, 0, 1, NULL, "P",
         "with probability P an item's decoder reads its content between the codes and the "
         "encoder's continuous output (convert's --content-blend), drawn in [0, 1]; default 0"},
        {"cycle-content", 0, OPT_FLOAT, &p->cycle_content, 0, 100, NULL, "W",
         "conversion consistency: each item is also decoded in another item's voice, and the "
         "decoder learns to keep the content the content encoder reads back (weight W); "
         "default 0"},
        {"cycle-speaker", 0, OPT_FLOAT, &p->cycle_speaker, 0, 100, NULL, "W",
         "the same pass: the decoder learns to give the voice it is asked for, as the speaker "
         "encoder reads it back (weight W); default 0"},
        {"adversarial", 0, OPT_FLOAT, &p->adversarial, 0, 10, NULL, "W",
         "adversarial training: a discriminator learns to tell decoded spectrograms from real "
         "ones, and the decoder learns to fool it and match its features (weight W beside "
         "the L1 losses); default 0"},
        {"phone-loss", 0, OPT_FLOAT, &p->phone_loss, 0, 10, NULL, "W",
         "phone loss: a phone classifier on the content encoder's output learns the phones of "
         "--phones labels, and the encoder with it (weight W beside the other losses); "
         "default 0"},
        {"phones", 0, OPT_STRING, &p->phone_labels, 0, 0, NULL, "DIR",
         "time-aligned ARPAbet phone labels for --phone-loss, laid out as vconv codebook "
         "--phones reads them (scripts/phone_labels writes them); needed on --resume too"},
        {"resume", 0, OPT_STRING, &p->resume, 0, 0, NULL, "CKPT",
         "continue from a checkpoint, with its run settings"},
        {"init", 0, OPT_STRING, &p->init_model, 0, 0, NULL, "MODEL",
         "start from MODEL's parameters and statistics (fine-tuning; tensors the config adds, "
         "e.g. \"retrieval\": 1, start at their initialisation); ignored on --resume"},
        {"save-on-interrupt", 0, OPT_FLAG, &p->save_on_interrupt, 0, 0, NULL, NULL,
         "on Ctrl-C/SIGTERM also write the unfinished model under MODEL"},
        {"checkpoint", 0, OPT_STRING, &p->checkpoint, 0, 0, NULL, "FILE",
         "checkpoint file (default: MODEL.ckpt)"},
        {"cache", 0, OPT_STRING, &p->cache_dir, 0, 0, NULL, "DIR",
         "feature cache (default: .vconv-cache beside MODEL)"},
        {"log", 0, OPT_STRING, &p->log_path, 0, 0, NULL, "FILE",
         "JSON-lines training log (default: MODEL.log.jsonl)"},
        {"val-every", 0, OPT_INT, &p->val_every, 1, 100000000, NULL, "N",
         "steps between validations"},
        {"checkpoint-every", 0, OPT_INT, &p->checkpoint_every, 1, 100000000, NULL, "N",
         "steps between checkpoints"},
        {"log-every", 0, OPT_INT, &p->log_every, 1, 100000000, NULL, "N", "steps between reports"},
    };
    memcpy(o, opts, sizeof opts);
}

static void sentinels(train_args *a) {
    memset(a, 0, sizeof *a);
    vc_train_params *p = &a->p;
    p->batch = p->segment_frames = p->warmup = a->steps = a->seed = INT_MIN;
    p->val_every = p->checkpoint_every = p->log_every = INT_MIN;
    p->lr = p->augment_warp = p->augment_pitch = p->augment_eq_db = p->denoise = NAN;
    p->continuous_content = p->cycle_content = p->cycle_speaker = p->adversarial = NAN;
    p->phone_loss = NAN;
    a->spk_utt = -1;
}

/* On --resume: every run setting the command line did not give comes from the checkpoint
 * (vc_train reports a given one that differs, before any feature is computed). */
static int settings_from_checkpoint(train_args *a, const train_args *given, cli_common *common) {
    vc_train_params ck = a->p;
    vc_status st = vc_train_resume_params(a->p.resume, &ck);
    if (st != VC_OK) return cli_fail(common, "train", a->p.resume, st);
    vc_train_params *p = &a->p;
    const vc_train_params *g = &given->p;
    if (given->steps == INT_MIN) p->steps = ck.steps;
    if (given->seed == INT_MIN) p->seed = ck.seed;
    if (g->batch == INT_MIN) p->batch = ck.batch;
    if (g->segment_frames == INT_MIN) p->segment_frames = ck.segment_frames;
    if (g->warmup == INT_MIN) p->warmup = ck.warmup;
    if (isnan(g->lr)) p->lr = ck.lr;
    if (g->val_every == INT_MIN) p->val_every = ck.val_every;
    if (g->checkpoint_every == INT_MIN) p->checkpoint_every = ck.checkpoint_every;
    if (g->log_every == INT_MIN) p->log_every = ck.log_every;
    p->clip = ck.clip; /* no option sets these two */
    p->val_share = ck.val_share;
    if (given->spk_utt < 0) p->speaker_utterance = ck.speaker_utterance;
    if (isnan(g->augment_warp)) p->augment_warp = ck.augment_warp;
    if (isnan(g->augment_pitch)) p->augment_pitch = ck.augment_pitch;
    if (isnan(g->augment_eq_db)) p->augment_eq_db = ck.augment_eq_db;
    if (isnan(g->denoise)) p->denoise = ck.denoise;
    if (isnan(g->continuous_content)) p->continuous_content = ck.continuous_content;
    if (isnan(g->cycle_content)) p->cycle_content = ck.cycle_content;
    if (isnan(g->cycle_speaker)) p->cycle_speaker = ck.cycle_speaker;
    if (isnan(g->adversarial)) p->adversarial = ck.adversarial;
    if (isnan(g->phone_loss)) p->phone_loss = ck.phone_loss;
    return EXIT_OK;
}

/* s quoted for a POSIX shell when it needs it. */
static void print_shell_word(FILE *f, const char *s) {
    if (*s &&
        strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./=:,+-@%") ==
            strlen(s)) {
        fputs(s, f);
        return;
    }
    fputc('\'', f);
    for (; *s; s++)
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    fputc('\'', f);
}

/* The command that continues this run: the same one, with --resume CKPT instead of any
 * --resume it had. prog is the program as it was invoked. */
static void print_resume_command(FILE *f, const char *prog, int argc, char **argv,
                                 const char *ckpt) {
    print_shell_word(f, prog);
    fputs(" train", f);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--resume")) {
            i++;
            continue;
        }
        if (!strncmp(argv[i], "--resume=", 9)) continue;
        fputc(' ', f);
        print_shell_word(f, argv[i]);
    }
    fputs(" --resume ", f);
    print_shell_word(f, ckpt);
    fputc('\n', f);
}

/* Reads the config, installs the signal handlers, trains; on a stop, prints what was written
 * and the command that resumes, and exits 128 + the signal. */
static int run_training(train_args *a, cli_common *common, int argc, char **argv) {
    vc_train_params *p = &a->p;
    char *config_json = NULL;
    if (a->config_path) {
        config_json = read_text(a->config_path);
        if (!config_json) {
            fprintf(stderr, "vconv train: cannot read config %s\n", a->config_path);
            return EXIT_RUNTIME;
        }
        p->config_json = config_json;
    }
    char *ckpt = vc_train_checkpoint_path(p);
    train_display display = {.common = common, .tty = isatty(STDERR_FILENO)};
    cli_progress features;
    cli_progress_init(&features, common, "features", 1);
    p->report = show_report;
    p->report_user = &display;
    p->progress = train_progress;
    p->progress_user = &features;
    p->stop = (volatile int *)&stop_requested;
    int stopped = 0, rank = 0;
    p->stopped = &stopped;
    p->rank = &rank; /* under MPI only rank 0 speaks: the others' errors come from the library */
    launcher_rank = rank_from_launcher();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    double t0 = cli_now_seconds();
    vc_status st = ckpt ? vc_train(p) : VC_ERR_NOMEM;
    cli_progress_done(&features);
    if (display.tty && !common->quiet) fputc('\n', stderr);
    free(config_json);
    int rc = EXIT_OK;
    if (rank != 0) {
        rc = st != VC_OK ? EXIT_RUNTIME : stopped ? 128 + (int)stop_requested : EXIT_OK;
    } else if (st != VC_OK) {
        rc = cli_fail(common, "train", p->out_model, st);
    } else if (stopped) {
        fprintf(stderr, "vconv train: interrupted; wrote checkpoint %s%s%s\nresume with: ", ckpt,
                p->save_on_interrupt ? " and the unfinished model " : " (no model: ",
                p->save_on_interrupt ? p->out_model : "--save-on-interrupt writes one)");
        /* argv is main's argv + 1 (main.c), so argv[-1] is the program as invoked */
        print_resume_command(stderr, argv[-1], argc, argv, ckpt);
        rc = 128 + (int)stop_requested;
    } else {
        cli_info(common, "wrote %s in %.0f s", p->out_model, cli_now_seconds() - t0);
    }
    free(ckpt);
    return rc;
}

int cmd_train(int argc, char **argv) {
    train_args args, given;
    memset(&args, 0, sizeof args);
    args.p = vc_train_default_params();
    args.steps = (int)args.p.steps;
    args.seed = (int)args.p.seed;
    cli_option opts[N_TRAIN_OPTS];
    train_options(&args, opts);
    vc_train_params *pp = &args.p;
    const cli_command cmd = {
        .name = "train",
        .synopsis = "--data DIR [--data DIR ...] -o MODEL [--preset tiny|default] [--config FILE]\n"
                    "       [--steps N] [--batch N] [--resume CKPT] [--threads N] [--seed S]",
        .description =
            "Train a voice-conversion model on speech from many speakers: no transcripts, no\n"
            "parallel sentences, speaker labels optional (the first folder level under each DIR\n"
            "is taken as the speaker). Features are cached and reused across runs. Ctrl-C or\n"
            "SIGTERM writes the checkpoint (not the model, unless --save-on-interrupt), prints\n"
            "the command that resumes, and exits 130 (143 for SIGTERM); --resume continues bit\n"
            "for bit with the checkpoint's run settings.",
        CLI_OPTIONS(opts),
        .min_positional = 0,
        .max_positional = 0,
    };
    cli_common common;
    int n;
    if (!cli_begin(&cmd, argc, argv, &common, NULL, &n)) return common.exit_code;
    sentinels(&given); /* the same command line again, over sentinels: what it gave */
    train_options(&given, opts);
    if (!cli_begin(&cmd, argc, argv, &common, NULL, &n)) return common.exit_code;
    if (args.data.n == 0 || !pp->out_model) {
        fprintf(stderr, "vconv train: %s (try 'vconv train --help')\n",
                args.data.n == 0 ? "at least one --data DIR is needed" : "-o MODEL is needed");
        return EXIT_USAGE;
    }
    /* The model file is checked like every command's output, before any feature is computed;
     * the trainer writes it (and the checkpoint and log beside it) itself. */
    cli_output out;
    const char *inputs[3] = {pp->resume, args.config_path, pp->init_model};
    if (cli_output_open(&out, cmd.name, pp->out_model, inputs, 3, CLI_OUT_FILE_ONLY) != EXIT_OK) {
        cli_output_discard(&out);
        return EXIT_RUNTIME;
    }
    pp->out_model = out.target;
    pp->data_dirs = args.data.items;
    pp->n_data_dirs = args.data.n;
    pp->steps = args.steps;
    pp->seed = (uint64_t)args.seed;
    pp->speaker_utterance = args.spk_utt - 1; /* preset -1, same 0, other 1 */
    int rc = pp->resume ? settings_from_checkpoint(&args, &given, &common) : EXIT_OK;
    if (rc == EXIT_OK) rc = run_training(&args, &common, argc, argv);
    cli_output_discard(&out);
    return rc;
}
