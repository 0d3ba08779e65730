/* vconv train: folders of speech in, a model file out. Progress on stderr (a redrawn line on a
 * terminal, plain lines otherwise); Ctrl-C or SIGTERM stops after the current step with a
 * checkpoint and the model written, and a second Ctrl-C aborts at once. */
#define _POSIX_C_SOURCE 200809L /* sigaction */
#include "cli.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Set by the signal handler, read by the trainer between steps. On every POSIX system we build
 * for, sig_atomic_t is int, which is what vc_train_params.stop points to. */
static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int sig) {
    static const char msg[] = "\nvconv train: stopping after this step and writing a checkpoint "
                              "(press Ctrl-C again to abort)\n";
    stop_requested = 1;
    signal(sig, SIG_DFL); /* a second signal ends the process the usual way */
    ssize_t r = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)r;
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
    char line[256];
    if (r->is_validation) { /* validation reports carry only the validation loss */
        fprintf(stderr, "%sstep %ld/%ld  validation loss %.4f\n", d->tty ? "\r\033[K" : "", r->step,
                r->steps, r->val_loss);
        return;
    }
    snprintf(line, sizeof line,
             "step %ld/%ld  loss %.4f (mel %.4f lin %.4f commit %.4f)  val %s  "
             "perplexity %.1f, %d/%d codes  %.2f steps/s  ETA %s",
             r->step, r->steps, r->loss, r->mel, r->lin, r->commit, val, r->perplexity,
             r->codes_used, r->codebook_size,
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

int cmd_train(int argc, char **argv) {
    vc_train_params p = vc_train_default_params();
    cli_strings data = {0};
    const char *config_path = NULL;
    int steps = (int)p.steps, seed = (int)p.seed;
    const cli_option opts[] = {
        {"data", 'd', OPT_STRINGS, &data, 0, 0, NULL, "DIR",
         "folder of speech, scanned recursively; speaker = first folder level"},
        {"output", 'o', OPT_STRING, &p.out_model, 0, 0, NULL, "MODEL", "model file to write"},
        {"preset", 0, OPT_STRING, &p.preset, 0, 0, NULL, "NAME",
         "model size: tiny or default (default: default; on --resume, the checkpoint's)"},
        {"config", 0, OPT_STRING, &config_path, 0, 0, NULL, "FILE",
         "JSON overriding the preset's fields (see docs/model.md)"},
        {"steps", 0, OPT_INT, &steps, 1, 100000000, NULL, "N", "optimiser steps"},
        {"batch", 0, OPT_INT, &p.batch, 1, 1024, NULL, "N", "utterance segments per step"},
        {"segment", 0, OPT_INT, &p.segment_frames, 8, 4096, NULL, "T",
         "frames per training segment (even)"},
        {"lr", 0, OPT_FLOAT, &p.lr, 1e-7, 1.0, NULL, "X", "peak learning rate"},
        {"warmup", 0, OPT_INT, &p.warmup, 0, 10000000, NULL, "N", "learning-rate warm-up steps"},
        {"seed", 0, OPT_INT, &seed, 0, 2147483647, NULL, "S", "seed of every random choice"},
        {"resume", 0, OPT_STRING, &p.resume, 0, 0, NULL, "CKPT", "continue from a checkpoint"},
        {"checkpoint", 0, OPT_STRING, &p.checkpoint, 0, 0, NULL, "FILE",
         "checkpoint file (default: MODEL.ckpt)"},
        {"cache", 0, OPT_STRING, &p.cache_dir, 0, 0, NULL, "DIR",
         "feature cache (default: .vconv-cache beside MODEL)"},
        {"log", 0, OPT_STRING, &p.log_path, 0, 0, NULL, "FILE",
         "JSON-lines training log (default: MODEL.log.jsonl)"},
        {"val-every", 0, OPT_INT, &p.val_every, 1, 100000000, NULL, "N",
         "steps between validations"},
        {"checkpoint-every", 0, OPT_INT, &p.checkpoint_every, 1, 100000000, NULL, "N",
         "steps between checkpoints"},
        {"log-every", 0, OPT_INT, &p.log_every, 1, 100000000, NULL, "N", "steps between reports"},
    };
    const cli_command cmd = {
        .name = "train",
        .synopsis = "--data DIR [--data DIR ...] -o MODEL [--preset tiny|default] [--config FILE]\n"
                    "       [--steps N] [--batch N] [--resume CKPT] [--threads N] [--seed S]",
        .description =
            "Train a voice-conversion model on speech from many speakers: no transcripts, no\n"
            "parallel sentences, speaker labels optional (the first folder level under each DIR\n"
            "is taken as the speaker). Features are cached and reused across runs. Ctrl-C\n"
            "stops cleanly with a checkpoint that --resume continues bit for bit.",
        .opts = opts,
        .n_opts = (int)(sizeof opts / sizeof opts[0]),
        .min_positional = 0,
        .max_positional = 0,
    };
    cli_common common;
    int n = cli_parse(&cmd, argc, argv, &common, NULL);
    if (n == CLI_HELP_SHOWN) return EXIT_OK;
    if (n < 0) return -n;
    if (data.n == 0 || !p.out_model) {
        fprintf(stderr, "vconv train: %s (try 'vconv train --help')\n",
                data.n == 0 ? "at least one --data DIR is needed" : "-o MODEL is needed");
        return EXIT_USAGE;
    }
    p.data_dirs = data.items;
    p.n_data_dirs = data.n;
    p.steps = steps;
    p.seed = (uint64_t)seed;
    char *config_json = NULL;
    if (config_path) {
        config_json = read_text(config_path);
        if (!config_json) {
            fprintf(stderr, "vconv train: cannot read config %s\n", config_path);
            return EXIT_RUNTIME;
        }
        p.config_json = config_json;
    }

    train_display display = {.common = &common, .tty = isatty(STDERR_FILENO)};
    cli_progress features;
    cli_progress_init(&features, &common, "features", 1);
    p.report = show_report;
    p.report_user = &display;
    p.progress = cli_progress_update;
    p.progress_user = &features;
    p.stop = (volatile int *)&stop_requested;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    double t0 = cli_now_seconds();
    vc_status st = vc_train(&p);
    cli_progress_done(&features);
    if (display.tty && !common.quiet) fputc('\n', stderr);
    free(config_json);
    if (st != VC_OK) return cli_fail(&common, cmd.name, p.out_model, st);
    cli_info(&common, "%s %s in %.0f s", stop_requested ? "stopped; wrote" : "wrote", p.out_model,
             cli_now_seconds() - t0);
    return EXIT_OK;
}
