/* vconv codebook --html: one self-contained page (inline SVG, images and audio as data URIs;
 * no script, no network) with the PCA of the codes, their usage, spectrograms with the code
 * sequence aligned under them, and what the most used codes sound like. */
#include "codebook_html.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTML_UTTERANCES 3   /* files shown with their spectrogram and codes */
#define HTML_CODE_CLIPS 8   /* most used codes given a playable clip */
#define CLIP_CODES 16       /* codes in a clip: 16 x 2 frames x 16 ms = 0.5 s */
#define MAX_VIEW_FRAMES 600 /* frames shown of each file (9.6 s at hop 256) */
#define VIEW_PX 2           /* screen pixels per frame */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void base64(FILE *f, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        fputc(B64[v >> 18 & 63], f);
        fputc(B64[v >> 12 & 63], f);
        fputc(i + 1 < n ? B64[v >> 6 & 63] : '=', f);
        fputc(i + 2 < n ? B64[v & 63] : '=', f);
    }
}

static void put_u32(unsigned char *p, unsigned v) {
    p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8), p[2] = (unsigned char)(v >> 16),
    p[3] = (unsigned char)(v >> 24);
}

static void put_u16(unsigned char *p, unsigned v) {
    p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8);
}

/* A 16-bit PCM WAV of a as a data URI. */
static int wav_data_uri(FILE *f, const vc_audio *a) {
    size_t bytes = 44 + 2 * a->n_samples;
    unsigned char *w = malloc(bytes);
    if (!w) return -1;
    memcpy(w, "RIFF", 4), put_u32(w + 4, (unsigned)(bytes - 8)), memcpy(w + 8, "WAVEfmt ", 8);
    put_u32(w + 16, 16), put_u16(w + 20, 1), put_u16(w + 22, 1);
    put_u32(w + 24, (unsigned)a->sample_rate), put_u32(w + 28, (unsigned)a->sample_rate * 2);
    put_u16(w + 32, 2), put_u16(w + 34, 16), memcpy(w + 36, "data", 4);
    put_u32(w + 40, (unsigned)(2 * a->n_samples));
    for (size_t i = 0; i < a->n_samples; i++) {
        float x = fmaxf(-1.0f, fminf(1.0f, a->samples[i]));
        put_u16(w + 44 + 2 * i, (unsigned)(unsigned short)(short)lrintf(x * 32767.0f));
    }
    fputs("data:audio/wav;base64,", f);
    base64(f, w, bytes);
    free(w);
    return 0;
}

/* Dark blue -> teal -> yellow for v in [0, 1]. */
static void colour(float v, unsigned char *rgb) {
    static const float stops[4][3] = {{20, 12, 60}, {30, 110, 140}, {110, 190, 90}, {250, 230, 60}};
    v = fmaxf(0.0f, fminf(1.0f, v)) * 3.0f;
    int k = v >= 3.0f ? 2 : (int)v;
    float t = v - (float)k;
    for (int c = 0; c < 3; c++)
        rgb[c] = (unsigned char)(stops[k][c] + t * (stops[k + 1][c] - stops[k][c]));
}

/* v (T, M) as a 24-bit BMP data URI, T columns, row 0 at the bottom, band_px pixels per row;
 * colours from lo to hi. */
static int bmp_data_uri(FILE *f, const float *v, int T, int M, float lo, float hi, int band_px) {
    int H = band_px * M, row = (3 * T + 3) & ~3;
    size_t bytes = 54 + (size_t)row * H;
    unsigned char *b = calloc(bytes, 1);
    if (!b) return -1;
    b[0] = 'B', b[1] = 'M', put_u32(b + 2, (unsigned)bytes), put_u32(b + 10, 54);
    put_u32(b + 14, 40), put_u32(b + 18, (unsigned)T), put_u32(b + 22, (unsigned)H);
    put_u16(b + 26, 1), put_u16(b + 28, 24), put_u32(b + 34, (unsigned)(row * H));
    for (int y = 0; y < H; y++) /* BMP rows run bottom-up: row 0 is the lowest band */
        for (int t = 0; t < T; t++) {
            unsigned char rgb[3];
            colour((v[(size_t)t * M + y / band_px] - lo) / (hi - lo), rgb);
            unsigned char *px = b + 54 + (size_t)y * row + 3 * (size_t)t;
            px[0] = rgb[2], px[1] = rgb[1], px[2] = rgb[0];
        }
    fputs("data:image/bmp;base64,", f);
    base64(f, b, bytes);
    free(b);
    return 0;
}

static void hue_of(int code, char *buf, size_t size) {
    snprintf(buf, size, "hsl(%d,65%%,50%%)",
             (int)(360.0 * (code * 0.618034 - floor(code * 0.618034))));
}

static void escape(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '"')
            fputs("&quot;", f);
        else
            fputc(*s, f);
    }
}

static void pca_svg(FILE *f, const vc_codebook_geometry *g, const long *counts) {
    float x0 = 1e30f, x1 = -1e30f, y0 = 1e30f, y1 = -1e30f;
    long most = 1;
    for (int i = 0; i < g->n; i++) {
        x0 = fminf(x0, g->pca[2 * i]), x1 = fmaxf(x1, g->pca[2 * i]);
        y0 = fminf(y0, g->pca[2 * i + 1]), y1 = fmaxf(y1, g->pca[2 * i + 1]);
        if (counts && counts[i] > most) most = counts[i];
    }
    float sx = 440.0f / fmaxf(x1 - x0, 1e-6f), sy = 440.0f / fmaxf(y1 - y0, 1e-6f);
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"480\" height=\"480\" "
               "role=\"img\"><rect width=\"480\" height=\"480\" fill=\"#fafafa\"/>\n");
    for (int i = 0; i < g->n; i++) {
        char hue[40];
        hue_of(i, hue, sizeof hue);
        long c = counts ? counts[i] : 1;
        double r = counts ? 1.5 + 10.0 * sqrt((double)c / most) : 3.0;
        fprintf(f,
                "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\" fill-opacity=\"%s\" "
                "stroke=\"%s\"><title>code %d: %ld uses</title></circle>\n",
                20 + (g->pca[2 * i] - x0) * sx, 460 - (g->pca[2 * i + 1] - y0) * sy, r,
                c ? hue : "none", c ? "0.7" : "0", hue, i, c);
    }
    fprintf(f, "</svg>\n");
}

static void usage_svg(FILE *f, const long *counts, int n) {
    long *sorted = malloc(sizeof(long) * (size_t)n);
    if (!sorted) return;
    memcpy(sorted, counts, sizeof(long) * (size_t)n);
    for (int i = 1; i < n; i++) /* descending insertion sort: n is at most a few thousand */
        for (int j = i; j > 0 && sorted[j] > sorted[j - 1]; j--) {
            long t = sorted[j];
            sorted[j] = sorted[j - 1], sorted[j - 1] = t;
        }
    double w = 760.0 / n, top = sorted[0] > 0 ? (double)sorted[0] : 1.0;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"800\" height=\"220\" "
               "role=\"img\"><rect width=\"800\" height=\"220\" fill=\"#fafafa\"/>\n");
    for (int i = 0; i < n; i++) {
        double h = 190.0 * sorted[i] / top;
        fprintf(f, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"#3a7\"/>\n",
                20 + i * w, 200 - h, w > 1.5 ? w - 0.5 : w, h);
    }
    fprintf(f,
            "<text x=\"20\" y=\"215\" font-size=\"11\">codes by use, most used first (%d "
            "codes; the tallest bar is %ld uses)</text></svg>\n",
            n, sorted[0]);
    free(sorted);
}

/* One file: its log-mel as an image and its code sequence as a strip under it, same x scale. */
static int utterance_view(FILE *f, const vc_model *m, const codebook_file *e, int index) {
    vc_frontend_params p = vc_model_frontend_params(m); /* what the model hears */
    vc_audio a;
    vc_frontend *fe = NULL;
    if (vc_audio_load(e->path, p.sample_rate, &a, NULL) != VC_OK) return -1;
    if (vc_frontend_init(&p, &fe) != VC_OK) {
        vc_audio_free(&a);
        return -1;
    }
    int T = vc_frontend_n_frames(fe, a.n_samples), M = p.n_mels;
    if (T > MAX_VIEW_FRAMES) T = MAX_VIEW_FRAMES;
    float *lm = malloc(sizeof(float) * (size_t)T * M);
    int rc =
        lm && vc_frontend_log_mel_frames(fe, a.samples, a.n_samples, 0, T, lm) == VC_OK ? 0 : -1;
    if (rc == 0) {
        fprintf(f, "<h3>%d. ", index + 1);
        escape(f, e->path);
        fprintf(f,
                "</h3>\n<div class=\"utt\"><img alt=\"log-mel spectrogram\" width=\"%d\" "
                "height=\"%d\" src=\"",
                T, 2 * M);
        float hi = -1e9f;
        for (int i = 0; i < T * M; i++) hi = fmaxf(hi, lm[i]);
        rc = bmp_data_uri(f, lm, T, M, hi - 8.0f, hi, 2); /* 8 nats (70 dB) of range */
        fprintf(f,
                "\"><br>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"34\" "
                "role=\"img\">\n",
                T);
        for (int i = 0; i < e->n;) {
            int j = i;
            while (j < e->n && e->codes[j] == e->codes[i]) j++;
            int x = e->first_frame + 2 * i, w = 2 * (j - i);
            if (x >= T) break;
            char hue[40];
            hue_of(e->codes[i], hue, sizeof hue);
            fprintf(f,
                    "<rect x=\"%d\" y=\"0\" width=\"%d\" height=\"20\" fill=\"%s\"><title>code "
                    "%d, %d frames</title></rect>",
                    VIEW_PX * x, VIEW_PX * w, hue, e->codes[i], w);
            if (VIEW_PX * w >= 14)
                fprintf(f, "<text x=\"%d\" y=\"32\" font-size=\"9\">%d</text>", VIEW_PX * x,
                        e->codes[i]);
            fputc('\n', f);
            i = j;
        }
        fprintf(f, "</svg></div>\n");
    }
    free(lm);
    vc_frontend_free(fe);
    vc_audio_free(&a);
    return rc;
}

/* The report's head and the table of figures: model, codebook, PCA, usage, speaker. */
static void html_summary(FILE *f, const char *model_path, const vc_codebook_geometry *g,
                         const vc_code_stats *cs, int n_files) {
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
               "<title>vconv codebook</title>\n<style>body{font-family:sans-serif;margin:2em;"
               "max-width:1300px}table{border-collapse:collapse}td,th{padding:2px 10px;"
               "text-align:left;border-bottom:1px solid #ddd}.utt{overflow-x:auto}"
               ".clips td{vertical-align:middle}</style></head><body>\n<h1>vconv codebook</h1>\n"
               "<table>\n<tr><th>model</th><td>");
    escape(f, model_path);
    fprintf(f, "</td></tr>\n<tr><th>codebook</th><td>%d codes of %d dimensions</td></tr>\n", g->n,
            g->dim);
    fprintf(f,
            "<tr><th>PCA</th><td>the two leading axes explain %.1f%% and %.1f%% of the "
            "variance</td></tr>\n",
            100 * g->pca_share[0], 100 * g->pca_share[1]);
    if (cs) {
        fprintf(f,
                "<tr><th>audio</th><td>%d files, %ld codes</td></tr>\n<tr><th>usage</th><td>%d "
                "of %d codes used (%.1f%%), perplexity %.1f, entropy %.2f bits per code"
                "</td></tr>\n",
                n_files, cs->total, cs->used, g->n, 100.0 * cs->used / g->n, cs->perplexity,
                cs->entropy_bits);
        if (cs->speakers > 1)
            fprintf(f,
                    "<tr><th>speaker</th><td>%d speakers: normalised mutual information "
                    "code-speaker %.4f (shuffled control %.4f)</td></tr>\n",
                    cs->speakers, cs->nmi, cs->nmi_shuffled);
    }
    fprintf(f, "</table>\n");
}

/* Codes and phones: the figures, a code x phone heat map (each used code a column, ordered by
 * its most frequent phone, then by purity; each phone a row, the most frequent on top; colour:
 * the share of the code's uses on the phone), and each phone's top codes. 0, or -1. */
static int html_phones(FILE *f, const codebook_phones *ph, const vc_code_stats *cs) {
    const vc_code_phone_stats *s = &ph->stats;
    const int N = s->codebook_size, P = ph->n_phones;
    int *order = malloc(sizeof *order * (size_t)P), *rank = malloc(sizeof *rank * (size_t)P);
    int *cols = malloc(sizeof *cols * (size_t)N);
    float *v = NULL;
    int rc = order && rank && cols ? 0 : -1, T = 0;
    if (rc == 0) {
        codebook_phones_by_frequency(ph, order);
        for (int i = 0; i < P; i++) rank[order[i]] = i;
        for (int c = 0; c < N; c++) { /* used codes, by their phone's rank, then by purity */
            if (s->code_phone[c] < 0) continue;
            int j = T++, rank_c = rank[s->code_phone[c]];
            while (j > 0) {
                int o = cols[j - 1], rank_o = rank[s->code_phone[o]];
                if (rank_o < rank_c || (rank_o == rank_c && s->code_purity[o] >= s->code_purity[c]))
                    break;
                cols[j] = o, j--;
            }
            cols[j] = c;
        }
        if (!(v = malloc(sizeof *v * (size_t)(T ? T : 1) * (size_t)P))) rc = -1;
    }
    for (int t = 0; rc == 0 && t < T; t++) {
        const long *row = s->joint + (size_t)cols[t] * P;
        long sum = 0;
        for (int p = 0; p < P; p++) sum += row[p];
        for (int p = 0; p < P; p++) /* image row 0 is the bottom: the rarest phone */
            v[(size_t)t * P + (P - 1 - rank[p])] = sum ? (float)row[p] / (float)sum : 0.0f;
    }
    if (rc == 0) {
        fprintf(f, "<h2>Codes and phones</h2>\n<p>Labels from ");
        escape(f, ph->dir);
        fprintf(f,
                ": %d files (%d without labels), %ld codes on %d phones (silence left out). "
                "<b>Phone purity %.3f</b> (share of codes on their code's most frequent phone; "
                "one phone for every code gives %.3f). <b>Normalised mutual information "
                "code-phone %.4f</b> (%.3f bits; with each file's phones rotated in time "
                "%.4f)",
                ph->labelled, ph->unlabelled, s->total, P, s->purity,
                codebook_phones_purity_floor(ph), s->nmi, s->mi_bits, s->nmi_shuffled);
        if (cs && cs->speakers > 1)
            fprintf(f, " next to <b>code-speaker %.4f</b> (shuffled %.4f)", cs->nmi,
                    cs->nmi_shuffled);
        fprintf(f, ".</p>\n<p>Each column is a code in use, ordered by its most frequent phone; "
                   "each row a phone, the most frequent on top; colour: the share of the "
                   "code's uses on that phone (dark 0, yellow 1). A code that has learnt a "
                   "phone is a bright cell in its phone's row.</p>\n");
        const int band = 12, px = T < 400 ? 3 : 2, W = 60 + px * T;
        fprintf(f,
                "<div class=\"utt\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
                "height=\"%d\" role=\"img\"><title>code x phone heat map</title>\n",
                W, band * P + 4);
        for (int i = 0; i < P; i++) {
            fprintf(f, "<text x=\"54\" y=\"%d\" font-size=\"10\" text-anchor=\"end\">",
                    band * i + band - 2);
            escape(f, ph->names[order[i]]);
            fprintf(f, "</text>\n");
        }
        fprintf(f,
                "<image x=\"60\" y=\"0\" width=\"%d\" height=\"%d\" preserveAspectRatio=\"none\" "
                "style=\"image-rendering:pixelated\" href=\"",
                px * T, band * P);
        rc = bmp_data_uri(f, v, T, P, 0.0f, 1.0f, band);
        fprintf(f, "\"/></svg></div>\n<h3>Each phone's top codes</h3>\n<table>\n<tr><th>phone"
                   "</th><th>codes</th><th>top codes (share of the phone's codes)</th></tr>\n");
    }
    for (int i = 0; rc == 0 && i < P; i++) {
        int p = order[i], top[5], n = codebook_phones_top_codes(ph, p, top, 5);
        long total = 0;
        for (int c = 0; c < N; c++) total += s->joint[(size_t)c * P + p];
        fprintf(f, "<tr><td>");
        escape(f, ph->names[p]);
        fprintf(f, "</td><td>%ld</td><td>", total);
        for (int k = 0; k < n; k++)
            fprintf(f, "%s%d (%.0f%%)", k ? ", " : "", top[k],
                    100.0 * (double)s->joint[(size_t)top[k] * P + p] / (double)total);
        fprintf(f, "</td></tr>\n");
    }
    if (rc == 0) fprintf(f, "</table>\n");
    free(order), free(rank), free(cols), free(v);
    return rc;
}

/* The clips of the most used codes, each repeated for 0.5 s in voice. 0, or -1 on failure. */
static int html_code_clips(FILE *f, const vc_model *m, int n_codes, const long *counts,
                           const vc_voice *voice, const char *voice_name) {
    fprintf(f, "<h2>What the most used codes sound like</h2>\n<p>Each clip is one code "
               "repeated for 0.5 s, decoded with the voice of ");
    escape(f, voice_name);
    fprintf(f, " at a level pitch.</p>\n<table class=\"clips\">\n");
    int rc = 0;
    int *order = malloc(sizeof(int) * (size_t)n_codes);
    if (!order) rc = -1;
    for (int i = 0; rc == 0 && i < n_codes; i++) order[i] = i;
    for (int k = 0; rc == 0 && k < HTML_CODE_CLIPS && k < n_codes; k++) {
        for (int j = k + 1; j < n_codes; j++) /* selection of the k-th most used */
            if (counts[order[j]] > counts[order[k]]) {
                int t = order[j];
                order[j] = order[k], order[k] = t;
            }
        if (!counts[order[k]]) break;
        int codes[CLIP_CODES];
        for (int i = 0; i < CLIP_CODES; i++) codes[i] = order[k];
        vc_convert_params cp = vc_convert_default_params();
        vc_audio clip = {0};
        if (vc_synthesize_codes(m, codes, CLIP_CODES, voice, &cp, &clip) != VC_OK) {
            rc = -1;
            break;
        }
        fprintf(f,
                "<tr><td>code %d</td><td>%ld uses</td><td><audio controls "
                "preload=\"none\" src=\"",
                order[k], counts[order[k]]);
        rc = wav_data_uri(f, &clip);
        fprintf(f, "\"></audio></td></tr>\n");
        vc_audio_free(&clip);
    }
    free(order);
    fprintf(f, "</table>\n");
    return rc;
}

int codebook_html_write(const char *path, const vc_model *m, const char *model_path,
                        const vc_codebook_geometry *g, const vc_code_stats *cs, const long *counts,
                        const codebook_file *files, int n_files, const vc_voice *voice,
                        const char *voice_name, const codebook_phones *phones) {
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    int rc = 0;
    html_summary(f, model_path, g, cs, n_files);
    fprintf(f,
            "<h2>Codes on their two leading principal axes</h2>\n<p>Marker area "
            "is proportional to use%s; hover for counts.</p>\n",
            counts ? "; hollow markers are codes never used" : " (no audio given)");
    pca_svg(f, g, counts);
    if (counts) {
        fprintf(f, "<h2>Usage</h2>\n");
        usage_svg(f, counts, g->n);
        fprintf(f, "<h2>Utterances and their codes</h2>\n<p>Log-mel spectrogram (low bands at "
                   "the bottom) with the code sequence under it: one code every two frames, "
                   "colour by code, runs merged.</p>\n");
        for (int i = 0; i < n_files && i < HTML_UTTERANCES && rc == 0; i++)
            rc = utterance_view(f, m, &files[i], i);
    }
    if (phones && rc == 0) rc = html_phones(f, phones, cs);
    if (counts && voice && rc == 0) rc = html_code_clips(f, m, g->n, counts, voice, voice_name);
    fprintf(f, "<p><small>Written by vconv %s.</small></p>\n</body></html>\n", vc_version());
    if (fclose(f) != 0) rc = -1;
    if (rc == 0 && rename(tmp, path) != 0) rc = -1;
    if (rc != 0) remove(tmp);
    return rc;
}
