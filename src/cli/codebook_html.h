/* The HTML report of vconv codebook (codebook_html.c). */
#ifndef VC_CLI_CODEBOOK_HTML_H
#define VC_CLI_CODEBOOK_HTML_H

#include "vconv/vconv.h"

/* One encoded file. */
typedef struct codebook_file {
    const char *path;
    int speaker; /* index into the speaker names, -1 when given as a file */
    int *codes;
    int n;
    int first_frame; /* where the codes start in the file (frames at the model's hop) */
} codebook_file;

/* Writes the report to path (through path.tmp, renamed). counts (g->n) and cs may be NULL
 * (no audio); voice may be NULL (no code clips). Returns 0, or -1 on any failure. */
int codebook_html_write(const char *path, const vc_model *m, const char *model_path,
                        const vc_codebook_geometry *g, const vc_code_stats *cs, const long *counts,
                        const codebook_file *files, int n_files, const vc_voice *voice,
                        const char *voice_name);

#endif
