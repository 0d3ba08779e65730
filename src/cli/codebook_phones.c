/* vconv codebook --phones DIR: do the codes follow the phones? Each encoded file's labels are
 * found in DIR, read (vc_phone_labels_load), put in code time by the model's hop
 * (vc_phone_labels_at_codes), and counted against the codes (vc_code_phone_stats_compute). */
#include "codebook_report.h"

#include <stdlib.h>
#include <string.h>

/* Top codes shown per phone. */
#define TOP_CODES 5

/* The phone's index in the inventory, added when new, its stress digit removed
 * (vc_phone_strip_stress). -1 when the inventory is full. */
static int phone_index(codebook_phones *ph, const char *name, int *cap) {
    char base[VC_PHONE_NAME_MAX];
    snprintf(base, sizeof base, "%s", name);
    vc_phone_strip_stress(base);
    size_t n = strlen(base);
    for (int i = 0; i < ph->n_phones; i++)
        if (!strcmp(ph->names[i], base)) return i;
    if (ph->n_phones >= 4096) return -1;
    if (ph->n_phones == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        void *grown = realloc(ph->names, sizeof *ph->names * (size_t)*cap);
        if (!grown) abort();
        ph->names = grown;
    }
    memcpy(ph->names[ph->n_phones], base, n + 1);
    return ph->n_phones++;
}

/* File f's phone track (one entry per code, -1 for none) into track; 0, or -1 without labels. */
static int track_of(codebook_phones *ph, const vc_model *m, const codebook_file *f, int *track,
                    int *cap) {
    char path[2048];
    if (!vc_phone_labels_find(ph->dir, f->path, path, sizeof path)) return -1;
    vc_phone_labels l;
    if (vc_phone_labels_load(path, &l) != VC_OK) return -1; /* the sink has the line */
    vc_status st = vc_phone_labels_at_codes(m, &l, f->first_frame, f->n, track);
    for (int k = 0; st == VC_OK && k < f->n; k++) {
        int s = track[k];
        if (s < 0) {
            ph->outside++;
        } else if (vc_phone_is_silence(l.segments[s].phone)) {
            ph->silence++;
            track[k] = -1;
        } else {
            track[k] = phone_index(ph, l.segments[s].phone, cap);
        }
    }
    vc_phone_labels_free(&l);
    return st == VC_OK ? 0 : -1;
}

int codebook_phones_compute(cli_common *common, const vc_model *m, const char *dir,
                            const codebook_file *files, int n_files, codebook_phones *ph) {
    memset(ph, 0, sizeof *ph);
    ph->dir = dir;
    int **tracks = calloc((size_t)n_files, sizeof *tracks), cap = 0;
    const int **codes = malloc(sizeof *codes * (size_t)n_files);
    int *lens = malloc(sizeof *lens * (size_t)n_files);
    if (!tracks || !codes || !lens) abort();
    int used = 0;
    for (int i = 0; i < n_files; i++) {
        int *track = malloc(sizeof *track * (size_t)(files[i].n ? files[i].n : 1));
        if (!track) abort();
        if (track_of(ph, m, &files[i], track, &cap) != 0) {
            if (common->last_error[0]) { /* a label file there but unreadable: say so */
                fprintf(stderr, "vconv codebook: warning: %s (its file is left out)\n",
                        common->last_error);
                common->last_error[0] = '\0';
            }
            free(track);
            ph->unlabelled++;
            continue;
        }
        ph->labelled++;
        tracks[used] = track, codes[used] = files[i].codes, lens[used] = files[i].n, used++;
    }
    int rc = EXIT_OK;
    if (!used || !ph->n_phones) {
        fprintf(stderr,
                "vconv codebook: --phones %s: no phone labels for any of the %d files (looked "
                "for %s/<folder>/<name>.TextGrid, .lab or .txt, then %s/<name>.*)\n",
                dir, n_files, dir, dir);
        rc = EXIT_RUNTIME;
    } else {
        vc_status st =
            vc_code_phone_stats_compute(codes, (const int *const *)tracks, lens, used,
                                        vc_model_codebook_size(m), ph->n_phones, 1, &ph->stats);
        if (st != VC_OK) rc = cli_fail(common, "codebook", "phone statistics", st);
    }
    for (int i = 0; i < used; i++) free(tracks[i]);
    free(tracks);
    free(codes);
    free(lens);
    return rc;
}

void codebook_phones_free(codebook_phones *ph) {
    vc_code_phone_stats_free(&ph->stats);
    free(ph->names);
    memset(ph, 0, sizeof *ph);
}

/* Codes on each phone (the joint's column sums) into per (n_phones). */
static void phone_totals(const codebook_phones *ph, long *per) {
    const vc_code_phone_stats *s = &ph->stats;
    memset(per, 0, sizeof *per * (size_t)ph->n_phones);
    for (int c = 0; c < s->codebook_size; c++)
        for (int p = 0; p < ph->n_phones; p++) per[p] += s->joint[(size_t)c * ph->n_phones + p];
}

int codebook_phones_top_codes(const codebook_phones *ph, int p, int *codes, int k) {
    const vc_code_phone_stats *s = &ph->stats;
    const long *col = s->joint + p; /* col[c * n_phones]: code c's uses on p */
    int n = 0;
    for (int c = 0; c < s->codebook_size; c++) {
        long v = col[(size_t)c * ph->n_phones];
        if (!v) continue;
        if (n < k)
            n++;
        else if (v <= col[(size_t)codes[k - 1] * ph->n_phones])
            continue;
        int j = n - 1; /* c goes into the last place, moved up past smaller counts */
        while (j > 0 && col[(size_t)codes[j - 1] * ph->n_phones] < v) codes[j] = codes[j - 1], j--;
        codes[j] = c;
    }
    return n;
}

void codebook_phones_by_frequency(const codebook_phones *ph, int *order) {
    long *per = malloc(sizeof *per * (size_t)ph->n_phones);
    if (!per) abort();
    phone_totals(ph, per);
    for (int i = 0; i < ph->n_phones; i++) { /* insertion sort: a few dozen phones */
        int j = i;
        while (j > 0 && per[order[j - 1]] < per[i]) order[j] = order[j - 1], j--;
        order[j] = i;
    }
    free(per);
}

/* The share of all codes on the most frequent phone: the purity one phone for every code
 * gives, the floor to read purity against. */
double codebook_phones_purity_floor(const codebook_phones *ph) {
    long *per = malloc(sizeof *per * (size_t)ph->n_phones), best = 0;
    if (!per) abort();
    phone_totals(ph, per);
    for (int p = 0; p < ph->n_phones; p++)
        if (per[p] > best) best = per[p];
    free(per);
    return ph->stats.total ? (double)best / (double)ph->stats.total : 0.0;
}

void codebook_phones_print(const codebook_phones *ph, const vc_code_stats *speaker, int json) {
    const vc_code_phone_stats *s = &ph->stats;
    int *order = malloc(sizeof *order * (size_t)ph->n_phones), top[TOP_CODES];
    long *per = malloc(sizeof *per * (size_t)ph->n_phones);
    if (!order || !per) abort();
    codebook_phones_by_frequency(ph, order);
    phone_totals(ph, per);
    if (json) {
        printf(",\n \"phones\": {\"labels\": ");
        cli_json_string(stdout, ph->dir);
        printf(", \"files_labelled\": %d, \"files_unlabelled\": %d, \"codes\": %ld, "
               "\"codes_silence\": %ld, \"codes_outside\": %ld, \"phones\": %d, \"purity\": "
               "%.6f, \"purity_floor\": %.6f, \"mi_bits\": %.6f, \"nmi\": %.6f, "
               "\"nmi_rotated\": %.6f",
               ph->labelled, ph->unlabelled, s->total, ph->silence, ph->outside, ph->n_phones,
               s->purity, codebook_phones_purity_floor(ph), s->mi_bits, s->nmi, s->nmi_shuffled);
        if (speaker) printf(", \"nmi_speaker\": %.6f", speaker->nmi);
        printf(",\n  \"per_phone\": [");
        for (int i = 0; i < ph->n_phones; i++) {
            int p = order[i], n = codebook_phones_top_codes(ph, p, top, TOP_CODES);
            printf("%s\n   {\"phone\": ", i ? "," : "");
            cli_json_string(stdout, ph->names[p]);
            printf(", \"codes\": %ld, \"top_codes\": [", per[p]);
            for (int k = 0; k < n; k++) printf("%s%d", k ? ", " : "", top[k]);
            printf("]}");
        }
        printf("],\n  \"per_code\": [");
        for (int c = 0, first = 1; c < s->codebook_size; c++) {
            if (s->code_phone[c] < 0) continue;
            printf("%s\n   {\"code\": %d, \"phone\": ", first ? "" : ",", c);
            cli_json_string(stdout, ph->names[s->code_phone[c]]);
            printf(", \"purity\": %.4f}", s->code_purity[c]);
            first = 0;
        }
        printf("]}");
    } else {
        printf("phones    %d files labelled from %s (%d without labels); %ld codes on %d phones "
               "(%ld on silence and %ld outside any segment left out)\n",
               ph->labelled, ph->dir, ph->unlabelled, s->total, ph->n_phones, ph->silence,
               ph->outside);
        printf("          purity %.3f: share of codes on their code's most frequent phone (one "
               "phone for every code: %.3f)\n",
               s->purity, codebook_phones_purity_floor(ph));
        printf("          normalised mutual information code-phone %.4f (%.3f bits); with the "
               "phones rotated in time %.4f",
               s->nmi, s->mi_bits, s->nmi_shuffled);
        if (speaker) printf("; code-speaker %.4f", speaker->nmi);
        printf("\n");
        for (int i = 0; i < ph->n_phones; i++) {
            int p = order[i], n = codebook_phones_top_codes(ph, p, top, TOP_CODES);
            printf("          %-6s %7ld codes; top codes", ph->names[p], per[p]);
            for (int k = 0; k < n; k++)
                printf(" %d (%.0f%%)", top[k],
                       100.0 * (double)s->joint[(size_t)top[k] * ph->n_phones + p] /
                           (double)per[p]);
            printf("\n");
        }
    }
    free(order);
    free(per);
}
