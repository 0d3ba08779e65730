/* Option parsing, usage text, the one-line failure convention and small helpers. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "output.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Options every command accepts, appended to its own table when parsing and in the usage; they
 * write into c. */
enum { N_COMMON = 3 };

static void common_options(cli_common *c, cli_option out[N_COMMON]) {
    const cli_option opts[N_COMMON] = {
        {"threads", 0, OPT_INT, &c->threads, 1, 256, NULL, "N", "threads for compute"},
        {"quiet", 'q', OPT_FLAG, &c->quiet, 0, 0, NULL, NULL, "print nothing but errors"},
        {"help", 'h', OPT_FLAG, &c->help, 0, 0, NULL, NULL, "show this help"},
    };
    memcpy(out, opts, sizeof opts);
}

static void common_defaults(cli_common *c) {
    memset(c, 0, sizeof *c);
    c->threads = 1;
}

/* The log sink keeps the last error for the one-line failure message and prints warnings. */
static void cli_log(int level, const char *msg, void *user) {
    cli_common *c = user;
    if (level == 0 && !strncmp(msg, "HINT:", 5) && c->last_error[0]) {
        /* The hint follows the error it explains, on the same line. */
        size_t len = strlen(c->last_error);
        snprintf(c->last_error + len, sizeof c->last_error - len, ". %s", msg);
    } else if (level == 0) {
        snprintf(c->last_error, sizeof c->last_error, "%s", msg);
    } else if (level == 1 && !c->quiet) {
        fprintf(stderr, "vconv: warning: %s\n", msg);
    }
}

static void print_option(FILE *f, const cli_option *o) {
    char left[64];
    if (o->short_name)
        snprintf(left, sizeof left, "-%c, --%s%s%s", o->short_name, o->long_name,
                 o->metavar ? " " : "", o->metavar ? o->metavar : "");
    else
        snprintf(left, sizeof left, "    --%s%s%s", o->long_name, o->metavar ? " " : "",
                 o->metavar ? o->metavar : "");
    fprintf(f, "  %-24s %s", left, o->help);
    switch (o->kind) {
    /* A starting value outside the range (NaN, 0 for a rate) means "not set": the help text
     * says what happens then. */
    case OPT_INT: {
        int v = *(const int *)o->dest;
        fprintf(f, " (integer %.0f..%.0f", o->min, o->max);
        if (v >= o->min && v <= o->max) fprintf(f, ", default %d", v);
        fputc(')', f);
        break;
    }
    case OPT_FLOAT: {
        double v = (double)*(const float *)o->dest;
        fprintf(f, " (number %g..%g", o->min, o->max);
        if (v >= o->min && v <= o->max) fprintf(f, ", default %g", v);
        fputc(')', f);
        break;
    }
    case OPT_STRING:
        if (*(const char **)o->dest) fprintf(f, " (default %s)", *(const char **)o->dest);
        break;
    case OPT_CHOICE:
        fprintf(f, " (one of:");
        for (int i = 0; o->choices[i]; i++) fprintf(f, " %s", o->choices[i]);
        fprintf(f, "; default %s)", o->choices[*(const int *)o->dest]);
        break;
    case OPT_STRINGS:
        fprintf(f, " (repeatable, at most %d times)", CLI_MAX_REPEAT);
        break;
    case OPT_FLAG:
        break;
    }
    fputc('\n', f);
}

void cli_usage(FILE *f, const cli_command *cmd) {
    fprintf(f, "usage: vconv %s %s\n\n%s\n\noptions:\n", cmd->name, cmd->synopsis,
            cmd->description);
    for (int i = 0; i < cmd->n_opts; i++) print_option(f, &cmd->opts[i]);
    cli_common defaults;
    cli_option common[N_COMMON];
    common_defaults(&defaults);
    common_options(&defaults, common);
    for (int i = 0; i < N_COMMON; i++) print_option(f, &common[i]);
}

static const cli_option *find_option(const cli_command *cmd, const cli_option *common,
                                     const char *arg, size_t len, char short_name) {
    for (int k = 0; k < cmd->n_opts + N_COMMON; k++) {
        const cli_option *o = k < cmd->n_opts ? &cmd->opts[k] : &common[k - cmd->n_opts];
        if (short_name ? o->short_name == short_name
                       : strlen(o->long_name) == len && !strncmp(o->long_name, arg, len))
            return o;
    }
    return NULL;
}

int cli_usage_error(const cli_command *cmd, const char *fmt, const char *arg) {
    fprintf(stderr, "vconv %s: ", cmd->name);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (try 'vconv %s --help')\n", cmd->name);
    return -EXIT_USAGE;
}

/* Stores value into o's destination; returns 0 or a usage error. */
static int set_value(const cli_command *cmd, const cli_option *o, const char *value) {
    char *end = NULL;
    errno = 0;
    switch (o->kind) {
    case OPT_INT: {
        long v = strtol(value, &end, 10);
        if (errno || end == value || *end || v < o->min || v > o->max)
            return cli_usage_error(cmd, "bad value for --%s: expected an integer in range",
                                   o->long_name);
        *(int *)o->dest = (int)v;
        return 0;
    }
    case OPT_FLOAT: {
        double v = strtod(value, &end);
        if (errno || end == value || *end || !isfinite(v) || v < o->min || v > o->max)
            return cli_usage_error(cmd, "bad value for --%s: expected a number in range",
                                   o->long_name);
        *(float *)o->dest = (float)v;
        return 0;
    }
    case OPT_STRING:
        *(const char **)o->dest = value;
        return 0;
    case OPT_STRINGS: {
        cli_strings *list = o->dest;
        if (list->n >= CLI_MAX_REPEAT)
            return cli_usage_error(cmd, "too many --%s options", o->long_name);
        list->items[list->n++] = value;
        return 0;
    }
    case OPT_CHOICE:
        for (int i = 0; o->choices[i]; i++)
            if (!strcmp(o->choices[i], value)) {
                *(int *)o->dest = i;
                return 0;
            }
        return cli_usage_error(cmd, "bad value for --%s (see the choices in --help)", o->long_name);
    case OPT_FLAG:
        break;
    }
    return 0;
}

int cli_parse(const cli_command *cmd, int argc, char **argv, cli_common *common,
              char **positional) {
    int n_pos = 0, only_positional = 0;
    cli_option common_opts[N_COMMON];
    common_defaults(common);
    common_options(common, common_opts);
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        if (only_positional || arg[0] != '-' || arg[1] == '\0') { /* "-" alone is a name */
            if (n_pos >= cmd->max_positional && cmd->max_positional > cmd->min_positional) {
                fprintf(stderr, "vconv %s: at most %d file arguments (try 'vconv %s --help')\n",
                        cmd->name, cmd->max_positional, cmd->name);
                return -EXIT_USAGE;
            }
            if (n_pos >= cmd->max_positional)
                return cli_usage_error(cmd, "unexpected argument '%s'", arg);
            positional[n_pos++] = arg;
            continue;
        }
        if (!strcmp(arg, "--")) {
            only_positional = 1;
            continue;
        }
        const cli_option *o;
        const char *inline_value = NULL;
        if (arg[1] == '-') {
            const char *name = arg + 2, *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            o = find_option(cmd, common_opts, name, len, 0);
            if (eq) inline_value = eq + 1;
        } else {
            if (arg[2] != '\0') return cli_usage_error(cmd, "unknown option '%s'", arg);
            o = find_option(cmd, common_opts, NULL, 0, arg[1]);
        }
        if (!o) return cli_usage_error(cmd, "unknown option '%s'", arg);
        if (o->kind == OPT_FLAG) {
            if (inline_value)
                return cli_usage_error(cmd, "option --%s takes no value", o->long_name);
            *(int *)o->dest = 1;
            continue;
        }
        const char *value = inline_value;
        if (!value) {
            if (i + 1 >= argc)
                return cli_usage_error(cmd, "option --%s needs a value", o->long_name);
            value = argv[++i];
        }
        int r = set_value(cmd, o, value);
        if (r) return r;
    }
    if (common->help) {
        cli_usage(stdout, cmd);
        return CLI_HELP_SHOWN;
    }
    if (n_pos < cmd->min_positional) return cli_usage_error(cmd, "%s", "missing argument");
    vc_set_num_threads(common->threads);
    vc_log_set(cli_log, common);
    return n_pos;
}

int cli_begin(const cli_command *cmd, int argc, char **argv, cli_common *common, char **positional,
              int *n_pos) {
    int n = cli_parse(cmd, argc, argv, common, positional);
    common->exit_code = n == CLI_HELP_SHOWN ? EXIT_OK : n < 0 ? -n : EXIT_OK;
    *n_pos = n < 0 ? 0 : n;
    return n >= 0;
}

int cli_fail(cli_common *common, const char *cmd, const char *what, vc_status status) {
    /* The library's own message already names the file and the reason. */
    if (common->last_error[0])
        fprintf(stderr, "vconv %s: %s\n", cmd, common->last_error);
    else
        fprintf(stderr, "vconv %s: %s: %s\n", cmd, what, vc_strerror(status));
    common->last_error[0] = '\0';
    return EXIT_RUNTIME;
}

void cli_info(const cli_common *common, const char *fmt, ...) {
    if (common->quiet) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("vconv: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_derive_output(char *buf, size_t size, const char *input, const char *suffix) {
    const char *base = strrchr(input, '/');
    base = base ? base + 1 : input;
    if (!strcmp(input, "-")) base = "stdin"; /* standard input has no name to derive from */
    const char *dot = strrchr(base, '.');
    int len = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
    snprintf(buf, size, "%.*s%s", len, base, suffix);
}

double cli_now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cli_progress_init(cli_progress *p, const cli_common *common, const char *label, int enabled) {
    p->label = label;
    p->enabled = enabled && !common->quiet;
    p->tty = isatty(STDERR_FILENO);
    p->last = -1;
    p->show_eta = 0;
    p->t0 = cli_now_seconds();
}

/* " ETA 1m05s" into buf: the time left at the pace so far; empty until a fraction is done. */
static void format_eta(const cli_progress *p, double fraction, char *buf, size_t size) {
    buf[0] = '\0';
    if (!p->show_eta || fraction <= 0.0 || fraction >= 1.0) return;
    double left = (cli_now_seconds() - p->t0) * (1.0 - fraction) / fraction;
    long s = lround(left);
    if (s >= 3600)
        snprintf(buf, size, " ETA %ldh%02ldm", s / 3600, s / 60 % 60);
    else if (s >= 60)
        snprintf(buf, size, " ETA %ldm%02lds", s / 60, s % 60);
    else
        snprintf(buf, size, " ETA %lds", s);
}

void cli_progress_update(double fraction, void *user) {
    cli_progress *p = user;
    if (!p->enabled) return;
    if (fraction < 0.0) fraction = 0.0;
    if (fraction > 1.0) fraction = 1.0;
    if (p->tty) {
        int pct = (int)(100.0 * fraction), filled = pct / 4;
        if (pct == p->last) return;
        p->last = pct;
        char eta[48];
        format_eta(p, fraction, eta, sizeof eta);
        fprintf(stderr, "\rvconv: %s [%.*s%.*s] %3d%%%s\033[K", p->label, filled,
                "#########################", 25 - filled, "-------------------------", pct, eta);
    } else {
        int quarter = (int)(4.0 * fraction);
        if (quarter == p->last || quarter == 0) return;
        p->last = quarter;
        char eta[48];
        format_eta(p, fraction, eta, sizeof eta);
        fprintf(stderr, "vconv: %s %d%%%s\n", p->label, 25 * quarter, eta);
    }
    fflush(stderr);
}

void cli_progress_done(cli_progress *p) {
    if (p->enabled && p->tty && p->last >= 0) fputc('\n', stderr);
    p->enabled = 0;
}

int cli_load_model(cli_common *common, const char *cmd, const char *path, vc_model **m) {
    *m = NULL;
    vc_status st = vc_model_load(path, m);
    return st == VC_OK ? EXIT_OK : cli_fail(common, cmd, path, st);
}

int cli_load_input(cli_common *common, const char *cmd, const char *path, vc_audio *a,
                   vc_audio_info *info, vc_frontend **fe) {
    vc_frontend_params fp = vc_frontend_default_params();
    *fe = NULL;
    int rc = cli_load_audio(common, cmd, path, fp.sample_rate, a, info);
    if (rc != EXIT_OK) return rc;
    vc_status st = vc_frontend_init(&fp, fe);
    if (st != VC_OK) {
        vc_audio_free(a);
        return cli_fail(common, cmd, "front end", st);
    }
    return EXIT_OK;
}

void cli_json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

const char *cli_default_model(char *buf, size_t size) {
    /* A missing model still gets its path, which the load's error then names. */
    vc_status found = vc_default_model_path(buf, size);
    (void)found;
    return buf;
}

const char *cli_samples_dir(char *buf, size_t size) {
    char dir[1024];
    if (vc_data_dir(dir, sizeof dir) != VC_OK) return NULL;
    /* Installed, the clips are in samples/ beside the model; in the source tree the model is in
     * samples/ with them. */
    snprintf(buf, size, "%s/samples", dir);
    if (access(buf, R_OK | X_OK) == 0) return buf;
    snprintf(buf, size, "%s", dir);
    return buf;
}
