/* vconv convert's two forms: one source to one output (cmd_convert.c), and many sources to
 * each of several voices at once (convert_batch.c). What they share is declared here. */
#ifndef VC_CLI_CONVERT_H
#define VC_CLI_CONVERT_H

#include "cli.h"

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

/* Every source in the voice of each reference in refs, written as
 * <dir>/<source-stem>_as_<reference-stem>.wav, on common->threads worker threads. A failed file
 * stops nothing else and leaves no output; the summary lists each failure and its reason.
 * EXIT_OK when every output was written, EXIT_RUNTIME when one failed, EXIT_USAGE for names
 * that clash, 128 + the signal after Ctrl-C or SIGTERM (the files under way are finished). */
int convert_batch(cli_common *common, const convert_settings *s, const char *const *refs,
                  int n_refs, char *const *sources, int n_sources, const char *dir);

#endif
