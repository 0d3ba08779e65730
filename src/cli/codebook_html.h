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

/* Codes against time-aligned phone labels (codebook_phones.c). */
typedef struct codebook_phones {
    const char *dir;          /* where the label files were looked for */
    int labelled, unlabelled; /* encoded files with and without a readable label file */
    long silence, outside;    /* codes on silence, and on no segment, left out */
    int n_phones;
    char (*names)[VC_PHONE_NAME_MAX]; /* (n_phones) as found, stress digits removed */
    vc_code_phone_stats stats;
} codebook_phones;

/* Writes the report to path (through path.tmp, renamed). counts (g->n) and cs may be NULL
 * (no audio); voice may be NULL (no code clips); phones may be NULL (no --phones). Returns 0,
 * or -1 on any failure. */
int codebook_html_write(const char *path, const vc_model *m, const char *model_path,
                        const vc_codebook_geometry *g, const vc_code_stats *cs, const long *counts,
                        const codebook_file *files, int n_files, const vc_voice *voice,
                        const char *voice_name, const codebook_phones *phones);

/* The k codes used most on phone p, most used first, into codes; returns how many there are
 * (codes never on p are not listed). */
int codebook_phones_top_codes(const codebook_phones *ph, int p, int *codes, int k);
/* The share of all codes on the most frequent phone: the purity that one phone for every code
 * gives, the floor to read purity against. */
double codebook_phones_purity_floor(const codebook_phones *ph);
/* Phones by number of codes, most first, into order (n_phones). */
void codebook_phones_by_frequency(const codebook_phones *ph, int *order);

#endif
