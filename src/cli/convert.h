/* vconv convert's two forms: one source to one output (cmd_convert.c), and many sources to
 * each of several voices at once (convert_batch.c). What they share is declared here. */
#ifndef VC_CLI_CONVERT_H
#define VC_CLI_CONVERT_H

#include "cli.h"

#include <stddef.h>

/* What every conversion of one run shares, from the command line. */
typedef struct convert_settings {
    const char *model_path;
    vc_convert_params cp;
    vc_audio_encoding enc;
    int out_rate; /* 0: the model's */
} convert_settings;

/* "dir/a.flac" + "dir/b.wav" -> "a_as_b.wav" (no folder). */
void convert_output_name(char *buf, size_t size, const char *source, const char *reference);

/* The voice taken, in one line on stderr (unless -q): "<label>: 3.1 s of reference speech...". */
void convert_report_voice(const cli_common *common, const char *label, const vc_voice *voice,
                          const vc_convert_params *cp);

/* What a batch converts: the sources and references, each named once, and the outputs as pairs
 * of their indices, grouped by source (each source is loaded once, for all its outputs). */
typedef struct convert_plan {
    const char **sources; /* (n_sources) */
    int n_sources;
    const char **refs; /* (n_refs) */
    int n_refs;
    int *pair_source, *pair_ref; /* (n_pairs) */
    int n_pairs;
    int *source_start; /* (n_sources + 1): source i's pairs are [source_start[i], [i + 1]) */
    char *storage;     /* the pairs file's text the names point into, or NULL */
} convert_plan;

/* Every source in every reference's voice (at most 100000 pairs): 0, or -1. */
int convert_plan_cross(convert_plan *p, const char *const *refs, int n_refs,
                       const char *const *sources, int n_sources);
/* A pairs file's text: one output per line, "SOURCE<TAB>REFERENCE" (or the two separated by
 * blanks when neither holds one), '#' comment lines and blank lines skipped; at most 100000
 * pairs and 16 MB. 0, or -1 with the reason (and its line) in err. */
int convert_plan_parse(convert_plan *p, const char *text, size_t n, char *err, size_t err_size);
/* The pairs file at path: as convert_plan_parse, or -1 when it cannot be read. */
int convert_plan_read(convert_plan *p, const char *path, char *err, size_t err_size);
void convert_plan_free(convert_plan *p);

/* The plan's outputs, written as <dir>/<source-stem>_as_<reference-stem>.wav, on
 * common->threads worker threads. A failed file stops nothing else and leaves no output; the
 * summary lists each failure and its reason. EXIT_OK when every output was written,
 * EXIT_RUNTIME when one failed, EXIT_USAGE for names that clash, 128 + the signal after Ctrl-C
 * or SIGTERM (the files under way are finished). */
int convert_batch(cli_common *common, const convert_settings *s, const convert_plan *plan,
                  const char *dir);

#endif
