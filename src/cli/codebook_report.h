/* What vconv codebook prints (text or JSON, docs/codebook.md): the codebook's geometry and, with
 * audio, its usage overall and per speaker. cmd_codebook.c handles the arguments and the work. */
#ifndef VC_CLI_CODEBOOK_REPORT_H
#define VC_CLI_CODEBOOK_REPORT_H

#include "cli.h"
#include "codebook_html.h"

/* Everything measured on the audio, for printing. */
typedef struct codebook_usage {
    const codebook_file *files; /* (n_files) the encoded files */
    int n_files, skipped;
    const vc_file_list *list; /* the speaker folders (speaker names) */
    const vc_code_stats *stats;
    const long *counts; /* (N) uses of each code */
    int N;
    double codes_per_second;
    int with_speakers, with_codes;
    const codebook_phones *phones; /* NULL without --phones */
} codebook_usage;

/* Every encoded file's phone labels, found in dir (dir/<folder>/<name>.TextGrid, .lab or .txt,
 * then dir/<name>.*), against its codes. EXIT_OK, or EXIT_RUNTIME with the line when no file has
 * labels. Free with codebook_phones_free (also after a failure). */
int codebook_phones_compute(cli_common *common, const vc_model *m, const char *dir,
                            const codebook_file *files, int n_files, codebook_phones *ph);
void codebook_phones_free(codebook_phones *ph);
/* Text lines, or the JSON object's "phones" key (with its leading comma); speaker: the
 * code-speaker statistics to show beside, or NULL. */
void codebook_phones_print(const codebook_phones *ph, const vc_code_stats *speaker, int json);

/* The geometry as text, or as the opening of the JSON object ("{" and its keys, without the
 * closing brace unless close). */
void codebook_print_geometry(const vc_codebook_geometry *g, const char *model_path, int json,
                             int close);

/* The usage after the geometry: text lines, or the rest of the JSON object with its closing
 * brace. */
void codebook_print_usage(const codebook_usage *u, int json);

#endif
