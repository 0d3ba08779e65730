/* Where a command's result goes and where its audio comes from, checked before any work.
 *
 * Every command that writes a file opens its output here first, before loading or computing
 * anything, so that a mistake costs nothing and nothing of the user's is destroyed:
 *   - an output that is the same file as an input (device and inode, not names) is refused;
 *   - a symlink is followed: its target is replaced, the link stays;
 *   - an existing regular file is replaced atomically (temp file in its folder, renamed);
 *   - an existing character device or FIFO is written in place, never replaced; block devices,
 *     sockets and folders are refused;
 *   - a missing folder, or a folder this process cannot create a file in, is refused;
 *   - "-" is standard output (refused when it is a terminal).
 * The writer writes a whole file at cli_output_path(): the target itself for a regular file
 * (every writer in vconv writes through a temp file and a rename), a temp file in $TMPDIR for a
 * stream, which cli_output_commit() copies into it. "-" as an audio input is standard input.
 *
 * vconv train (whose library call writes the model and checkpoints itself, repeatedly) uses:
 *     cli_output out;
 *     if (cli_output_open(&out, "train", p.out_model, inputs, n, CLI_OUT_FILE_ONLY)) fail;
 *     p.out_model = out.target;      (symlinks followed; checks done before feature extraction)
 *     ... vc_train(&p) ...
 *     cli_output_discard(&out);      (frees; removes nothing of a regular target) */
#ifndef VC_CLI_OUTPUT_H
#define VC_CLI_OUTPUT_H

#include "cli.h"

/* Flags of cli_output_open. */
enum {
    /* The output is audio: a name without an extension is written as WAV. */
    CLI_OUT_AUDIO = 1,
    /* The writer writes the target path itself, possibly many times and with files beside it
     * (training's model, checkpoint and log): standard output, devices and FIFOs are refused. */
    CLI_OUT_FILE_ONLY = 2,
};

typedef struct cli_output {
    const char *name; /* as the user gave it, for messages; "-" is standard output */
    char *target;     /* the file that will hold the result: name with symlinks followed;
                         NULL for standard output */
    int stream;       /* 1: standard output, a device or a FIFO, written in place at commit */
    char *tmp;        /* a stream's temp file, copied into it at commit; NULL otherwise */
} cli_output;

/* Checks name as the output of cmd against the inputs (file names, "-" for standard input; NULL
 * entries are skipped) and makes the temp file. On refusal prints one line and returns
 * EXIT_RUNTIME with *o safe to discard; else EXIT_OK. */
int cli_output_open(cli_output *o, const char *cmd, const char *name, const char *const *inputs,
                    int n_inputs, int flags);

/* The file the writer writes: the target, or a stream's temp file (whose name ends in the
 * output's extension, so a writer that picks the container by extension picks the right one). */
const char *cli_output_path(const cli_output *o);

/* The name to pick an audio container by: the target's (a symlink's target decides), "-" for
 * standard output. */
const char *cli_output_format_name(const cli_output *o);

/* After the writer succeeded: copies a stream's temp file into the stream (a regular target is
 * in place already) and frees o. Prints one line and returns EXIT_RUNTIME on failure. */
int cli_output_commit(cli_output *o, const char *cmd);

/* After the writer failed with st: prints the one-line error (the library's line, with o's temp
 * file called by o's name), discards o and returns EXIT_RUNTIME. */
int cli_output_fail(cli_common *common, const char *cmd, cli_output *o, vc_status st);

/* Removes a stream's temp file, if any, and frees o. Safe on a zeroed or refused cli_output. */
void cli_output_discard(cli_output *o);

/* Whether o can hold audio with this encoding at this rate (its extension names a container
 * libsndfile writes): EXIT_OK, or the one-line error and EXIT_RUNTIME. Call before the work. */
int cli_output_check_audio(cli_common *common, const char *cmd, const cli_output *o,
                           vc_audio_encoding enc, int rate);

/* Resamples a to rate if it is at another one and writes it at cli_output_path(o); prints
 * nothing (the library logs why it failed). The caller then commits or discards o. */
vc_status cli_output_save_audio(const cli_output *o, const vc_audio *a, vc_audio_encoding enc,
                                int rate);

/* cli_output_save_audio, then commits o (which is discarded on failure). EXIT_OK, or the
 * one-line error naming o and EXIT_RUNTIME. */
int cli_output_write_audio(cli_common *common, const char *cmd, cli_output *o, const vc_audio *a,
                           vc_audio_encoding enc, int rate);

/* Loads audio like vc_audio_load; "-" reads standard input (once per run; refused when it is a
 * terminal). On failure prints the one-line error naming the input and returns EXIT_RUNTIME
 * (EXIT_USAGE for a second "-"), *a untouched. */
int cli_load_audio(cli_common *common, const char *cmd, const char *name, int rate, vc_audio *a,
                   vc_audio_info *info);
/* The same with vc_audio_load_audible: silence is refused while reading, before it is stored. */
int cli_load_audible(cli_common *common, const char *cmd, const char *name, int rate, vc_audio *a,
                     vc_audio_info *info);

#endif
