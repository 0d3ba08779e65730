/* Shared pieces of the vconv command line: a table-driven option parser whose table also prints
 * the usage (type, default, range), the log sink that keeps failures to one line, and exit
 * codes. The CLI uses the library only through vconv.h. */
#ifndef VC_CLI_H
#define VC_CLI_H

#include "vconv/vconv.h"

#include <stdio.h>

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };
/* cli_parse result meaning "--help was printed": the command exits 0 at once. */
#define CLI_HELP_SHOWN (-1)

typedef enum { OPT_FLAG, OPT_INT, OPT_FLOAT, OPT_STRING, OPT_CHOICE, OPT_STRINGS } cli_opt_kind;

/* Destination of a repeatable option (OPT_STRINGS): every value in order. */
#define CLI_MAX_REPEAT 64
typedef struct cli_strings {
    const char *items[CLI_MAX_REPEAT];
    int n;
} cli_strings;

typedef struct cli_option {
    const char *long_name; /* without "--" */
    char short_name;       /* 0 if none */
    cli_opt_kind kind;
    void *dest;      /* int* (FLAG, INT, CHOICE: index), float*, const char**, cli_strings* */
    double min, max; /* accepted range for INT and FLOAT */
    const char *const *choices; /* NULL-terminated, for CHOICE */
    const char *metavar;        /* e.g. "N", "FILE" */
    const char *help;
} cli_option;

typedef struct cli_command {
    const char *name;
    const char *synopsis;    /* arguments after the command name */
    const char *description; /* one paragraph */
    const cli_option *opts;
    int n_opts;
    int min_positional, max_positional;
} cli_command;

/* Options every command takes, filled in by cli_parse, and the last error the library logged
 * (the log sink's user data), which cli_fail prints as the command's one line. */
typedef struct cli_common {
    int threads;
    int quiet;
    int help;
    int stdin_used; /* "-" was read already (standard input is read once) */
    int exit_code;  /* what cli_begin's caller returns when cli_begin returns 0 */
    char last_error[1024];
} cli_common;

/* Parses argv (argv[0] is the command name) into the option destinations and positional[]
 * (pointers into argv). Returns the positional count, CLI_HELP_SHOWN, or -EXIT_USAGE after
 * printing one line to stderr. Also applies --threads and installs the log sink. */
int cli_parse(const cli_command *cmd, int argc, char **argv, cli_common *common, char **positional);

/* The preamble of every command: cli_parse, then 1 when the command should run (*n_pos set), or
 * 0 when it should return common->exit_code at once (0 after --help, 2 after a usage error). */
int cli_begin(const cli_command *cmd, int argc, char **argv, cli_common *common, char **positional,
              int *n_pos);

/* The opts/n_opts pair of a cli_command from an array of options. */
#define CLI_OPTIONS(array) .opts = (array), .n_opts = (int)(sizeof(array) / sizeof((array)[0]))

void cli_usage(FILE *f, const cli_command *cmd);
/* "vconv CMD: <fmt with arg> (try 'vconv CMD --help')" on stderr; returns -EXIT_USAGE. */
int cli_usage_error(const cli_command *cmd, const char *fmt, const char *arg);

/* Prints one line: "vconv CMD: <the library's last logged error>" if there is one, else
 * "vconv CMD: WHAT: <vc_strerror(status)>". Returns EXIT_RUNTIME. */
int cli_fail(cli_common *common, const char *cmd, const char *what, vc_status status);
/* Informational line to stderr unless -q. */
void cli_info(const cli_common *common, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Loads a model file; on failure prints the one-line error naming path and returns
 * EXIT_RUNTIME with *m NULL. */
int cli_load_model(cli_common *common, const char *cmd, const char *path, vc_model **m);

/* Loads path ("-": standard input) as mono audio at the default front end's rate and makes that
 * front end. On failure prints the one-line error and returns EXIT_RUNTIME with *a zeroed and *fe
 * NULL. info may be NULL. */
int cli_load_input(cli_common *common, const char *cmd, const char *path, vc_audio *a,
                   vc_audio_info *info, vc_frontend **fe);

/* Progress of long work on stderr: a bar redrawn in place on a terminal, a plain line every
 * 25% otherwise, nothing with -q or when not enabled. cli_progress_update is a vc_progress_fn
 * (user = the cli_progress). */
typedef struct cli_progress {
    const char *label;
    int enabled, tty, last; /* last: percent (terminal) or quarter (plain) shown */
    int show_eta;           /* 1: the time left at the pace so far follows the percentage */
    double t0;              /* cli_now_seconds() at init */
} cli_progress;

void cli_progress_init(cli_progress *p, const cli_common *common, const char *label, int enabled);
void cli_progress_update(double fraction, void *user);
void cli_progress_done(cli_progress *p);

/* "dir/name.ext" -> "name<suffix>" in the current directory, into buf ("-" -> "stdin<suffix>"). */
void cli_derive_output(char *buf, size_t size, const char *input, const char *suffix);

double cli_now_seconds(void);

/* The bundled model's path into buf (vc_default_model_path), also when it is missing. */
const char *cli_default_model(char *buf, size_t size);
/* The bundled sample clips' folder into buf: samples/ in vc_data_dir (installed), else
 * vc_data_dir itself (the source tree's samples/); NULL when there is no data folder. */
const char *cli_samples_dir(char *buf, size_t size);

/* s as a JSON string literal (quotes, escapes) on f. */
void cli_json_string(FILE *f, const char *s);

int cmd_convert(int argc, char **argv);
int cmd_encode(int argc, char **argv);
int cmd_decode(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_codebook(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_resynth(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_score(int argc, char **argv);

#endif
