/* Time-aligned phone labels (vconv.h, vc_phone_labels_*): a Praat TextGrid (long or short text
 * format, UTF-8 or ASCII) or plain lines "start end phone" (seconds; what aligners, recognisers
 * and Audacity write). Every input is hostile: sizes are bounded, every number is checked, and
 * anything else is VC_ERR_FORMAT with a log line saying what and where.
 *
 * A TextGrid is read as its sequence of values: quoted strings ("" inside is one quote),
 * numbers and <exists>; the long format's "name =" words and "[i]:" indices are skipped, which
 * reduces it to the short format:
 *   "ooTextFile" "TextGrid" xmin xmax <exists> n_tiers, then per tier
 *   "IntervalTier" name xmin xmax n, then n times: xmin xmax text
 *   "TextTier"     name xmin xmax n, then n times: time mark   (skipped)
 * The phone tier is the interval tier named phones, phone or phonemes (any case), else the only
 * interval tier. Empty intervals (no phone) are left out. */
#define _POSIX_C_SOURCE 200809L /* access, strcasecmp */
#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Bounds on what a label file may hold. */
#define MAX_LABEL_BYTES ((size_t)64 << 20)
#define MAX_SEGMENTS 10000000
#define MAX_TIERS 10000

/* ---- the plain format --------------------------------------------------------------------- */

typedef struct seg_list {
    vc_phone_segment *s;
    int n, cap;
    const char *name; /* what messages call the input: its path, or "phone labels" */
} seg_list;

static vc_status push(seg_list *l, double start, double end, const char *name, size_t len) {
    if (l->n >= MAX_SEGMENTS) {
        vcu_log(VC_LOG_ERROR, "%s: more than %d segments", l->name, MAX_SEGMENTS);
        return VC_ERR_FORMAT;
    }
    if (len >= VC_PHONE_NAME_MAX) {
        vcu_log(VC_LOG_ERROR, "%s: a phone name of %zu bytes (at most %d)", l->name, len,
                VC_PHONE_NAME_MAX - 1);
        return VC_ERR_FORMAT;
    }
    if (!(start >= 0.0) || !(end >= start) || !isfinite(end) || end > 1e7) {
        vcu_log(VC_LOG_ERROR, "%s: a segment from %g to %g s (want 0 <= start <= end)", l->name,
                start, end);
        return VC_ERR_FORMAT;
    }
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        vc_phone_segment *s = realloc(l->s, sizeof *s * (size_t)cap);
        if (!s) return VC_ERR_NOMEM;
        l->s = s, l->cap = cap;
    }
    vc_phone_segment *g = &l->s[l->n++];
    g->start = start, g->end = end;
    memcpy(g->phone, name, len);
    g->phone[len] = '\0';
    return VC_OK;
}

/* A number spanning exactly [p, e): 0 on success. */
static int number_of(const char *p, const char *e, double *v) {
    char buf[64];
    size_t n = (size_t)(e - p);
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    *v = strtod(buf, &end);
    return errno || *end || !isfinite(*v) ? -1 : 0;
}

static int is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r';
}

/* Lines "start end phone" (any blanks between; '#' starts a comment line; blank lines skipped).
 * The phone is the rest of the line, trimmed. */
static vc_status parse_plain(const char *t, size_t n, seg_list *l) {
    const char *p = t, *end = t + n;
    for (int line = 1; p < end; line++) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) eol = end;
        const char *q = p;
        while (q < eol && is_space(*q)) q++;
        if (q < eol && *q != '#') {
            double v[2];
            for (int k = 0; k < 2; k++) {
                const char *w = q;
                while (q < eol && !is_space(*q)) q++;
                if (number_of(w, q, &v[k]) != 0) {
                    vcu_log(VC_LOG_ERROR,
                            "%s: line %d: want \"start end phone\" with "
                            "times in seconds",
                            l->name, line);
                    return VC_ERR_FORMAT;
                }
                while (q < eol && is_space(*q)) q++;
            }
            const char *z = eol;
            while (z > q && is_space(z[-1])) z--;
            if (z > q) { /* a segment without a phone is not a phone */
                vc_status st = push(l, v[0], v[1], q, (size_t)(z - q));
                if (st != VC_OK) return st;
            }
        }
        p = eol + 1;
    }
    return VC_OK;
}

/* ---- the TextGrid format ------------------------------------------------------------------ */

typedef enum { TOK_END, TOK_STRING, TOK_NUMBER, TOK_EXISTS, TOK_BAD } tok_kind;

typedef struct tokenizer {
    const char *p, *end;
    char str[VC_PHONE_NAME_MAX]; /* a string token's text when it fits */
    size_t str_len;              /* its full length (may exceed the buffer) */
    double num;
} tokenizer;

/* The next value; words ("xmin", "=", "item", "[1]:", "intervals:") are skipped. */
static tok_kind next_token(tokenizer *z) {
    for (;;) {
        while (z->p < z->end && isspace((unsigned char)*z->p)) z->p++;
        if (z->p >= z->end) return TOK_END;
        const char *w = z->p;
        if (*w == '!') { /* a comment, to the end of the line */
            while (z->p < z->end && *z->p != '\n') z->p++;
            continue;
        }
        if (*w == '"') {
            z->str_len = 0;
            for (z->p++;; z->p++) {
                if (z->p >= z->end) return TOK_BAD; /* an unterminated string */
                if (*z->p == '"') {
                    if (z->p + 1 < z->end && z->p[1] == '"')
                        z->p++; /* "" is one quote */
                    else
                        break;
                }
                if (z->str_len < sizeof z->str - 1) z->str[z->str_len] = *z->p;
                z->str_len++;
            }
            z->p++;
            z->str[z->str_len < sizeof z->str ? z->str_len : sizeof z->str - 1] = '\0';
            return TOK_STRING;
        }
        while (z->p < z->end && !isspace((unsigned char)*z->p)) z->p++;
        if (z->p - w == 8 && !memcmp(w, "<exists>", 8)) return TOK_EXISTS;
        if (*w == '-' || *w == '+' || *w == '.' || isdigit((unsigned char)*w))
            return number_of(w, z->p, &z->num) == 0 ? TOK_NUMBER : TOK_BAD;
        /* a word of the long format: skipped */
    }
}

static vc_status grid_error(const seg_list *l, const char *what) {
    vcu_log(VC_LOG_ERROR, "%s: not a readable TextGrid: %s", l->name, what);
    return VC_ERR_FORMAT;
}

/* The next token must be a number (a count when count_max > 0: a whole number in range). */
static int want_number(tokenizer *z, double *v, double count_max) {
    if (next_token(z) != TOK_NUMBER) return -1;
    if (count_max > 0 && (z->num < 0 || z->num > count_max || z->num != floor(z->num))) return -1;
    *v = z->num;
    return 0;
}

static int is_phone_tier_name(const tokenizer *z) {
    static const char *const names[] = {"phones", "phone", "phonemes", NULL};
    for (int i = 0; names[i]; i++) {
        size_t n = strlen(names[i]);
        if (z->str_len != n) continue;
        size_t k = 0;
        while (k < n && tolower((unsigned char)z->str[k]) == names[i][k]) k++;
        if (k == n) return 1;
    }
    return 0;
}

/* One tier's items: kept in l when keep (an interval tier), else read and dropped. */
static vc_status read_tier(tokenizer *z, int interval, int keep, seg_list *l) {
    double xmin, xmax, count;
    if (want_number(z, &xmin, 0) || want_number(z, &xmax, 0) ||
        want_number(z, &count, MAX_SEGMENTS))
        return grid_error(l, "a tier's range or size");
    for (long i = 0; i < (long)count; i++) {
        double a, b = 0.0;
        if (want_number(z, &a, 0) || (interval && want_number(z, &b, 0)))
            return grid_error(l, "an interval's or point's time");
        if (next_token(z) != TOK_STRING) return grid_error(l, "an interval's or point's text");
        if (!keep || !interval) continue;
        if (z->str_len >= sizeof z->str) {
            vcu_log(VC_LOG_ERROR, "%s: a phone name of %zu bytes (at most %d)", l->name, z->str_len,
                    VC_PHONE_NAME_MAX - 1);
            return VC_ERR_FORMAT;
        }
        /* the text trimmed of blanks; an empty interval is no phone */
        size_t s = 0, e = z->str_len;
        while (s < e && isspace((unsigned char)z->str[s])) s++;
        while (e > s && isspace((unsigned char)z->str[e - 1])) e--;
        if (e == s) continue;
        vc_status st = push(l, a, b, z->str + s, e - s);
        if (st != VC_OK) return st;
    }
    return VC_OK;
}

/* Reads every tier; the phone tier's intervals end in l. Two passes: the first finds which tier
 * to keep (by name, else the only interval tier). */
static vc_status parse_textgrid(const char *t, size_t n, seg_list *l) {
    int keep = -1;
    for (int pass = 0; pass < 2; pass++) {
        tokenizer z = {.p = t, .end = t + n};
        double xmin, xmax, n_tiers;
        if (next_token(&z) != TOK_STRING || strcmp(z.str, "ooTextFile") ||
            next_token(&z) != TOK_STRING || strcmp(z.str, "TextGrid"))
            return grid_error(l, "no \"ooTextFile\" \"TextGrid\" header");
        if (want_number(&z, &xmin, 0) || want_number(&z, &xmax, 0))
            return grid_error(l, "the grid's range");
        tok_kind k = next_token(&z);
        if (k != TOK_EXISTS)
            return k == TOK_END ? grid_error(l, "no tiers") : grid_error(l, "tiers?");
        if (want_number(&z, &n_tiers, MAX_TIERS)) return grid_error(l, "the tier count");
        int n_interval = 0, named = -1, only = -1;
        for (int tier = 0; tier < (int)n_tiers; tier++) {
            if (next_token(&z) != TOK_STRING) return grid_error(l, "a tier's class");
            int interval = !strcmp(z.str, "IntervalTier");
            if (!interval && strcmp(z.str, "TextTier")) return grid_error(l, "a tier's class");
            if (next_token(&z) != TOK_STRING) return grid_error(l, "a tier's name");
            if (interval) {
                n_interval++, only = tier;
                if (named < 0 && is_phone_tier_name(&z)) named = tier;
            }
            vc_status st = read_tier(&z, interval, pass == 1 && tier == keep, l);
            if (st != VC_OK) return st;
        }
        if (pass == 0) {
            keep = named >= 0 ? named : n_interval == 1 ? only : -1;
            if (keep < 0) {
                vcu_log(VC_LOG_ERROR,
                        "%s: %d interval tiers and none named \"phones\" (or "
                        "\"phone\", \"phonemes\"): name the phone tier so",
                        l->name, n_interval);
                return VC_ERR_FORMAT;
            }
        }
    }
    return VC_OK;
}

/* ---- entry points ------------------------------------------------------------------------- */

static int by_start(const void *x, const void *y) {
    const vc_phone_segment *a = x, *b = y;
    return a->start < b->start ? -1 : a->start > b->start ? 1 : 0;
}

/* text into out; messages call it name. */
static vc_status parse_named(const char *text, size_t n, const char *name, vc_phone_labels *out) {
    if (n > MAX_LABEL_BYTES) {
        vcu_log(VC_LOG_ERROR, "%s: %zu bytes (at most %zu)", name, n, MAX_LABEL_BYTES);
        return VC_ERR_FORMAT;
    }
    if (n >= 2 && ((unsigned char)text[0] == 0xfe || (unsigned char)text[0] == 0xff)) {
        vcu_log(VC_LOG_ERROR,
                "%s: UTF-16 text; save the file as UTF-8 (Praat: Preferences > "
                "Text writing > UTF-8)",
                name);
        return VC_ERR_FORMAT;
    }
    if (n >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) text += 3, n -= 3; /* a UTF-8 BOM */
    if (n && memchr(text, '\0', n)) {
        vcu_log(VC_LOG_ERROR, "%s: a NUL byte: not a text file", name);
        return VC_ERR_FORMAT;
    }
    /* A TextGrid says so in its first value. */
    size_t i = 0;
    while (i < n && isspace((unsigned char)text[i])) i++;
    int grid = (n - i >= 9 && !memcmp(text + i, "File type", 9)) ||
               (n - i >= 12 && !memcmp(text + i, "\"ooTextFile\"", 12));
    seg_list l = {.name = name};
    vc_status st = grid ? parse_textgrid(text, n, &l) : parse_plain(text, n, &l);
    if (st != VC_OK) {
        free(l.s);
        return st;
    }
    if (l.n) qsort(l.s, (size_t)l.n, sizeof *l.s, by_start);
    out->segments = l.s;
    out->n = l.n;
    return VC_OK;
}

vc_status vc_phone_labels_parse(const char *text, size_t n, vc_phone_labels *out) {
    if (!out) return VC_ERR_ARG;
    memset(out, 0, sizeof *out);
    if (!text && n) return VC_ERR_ARG;
    return parse_named(text, n, "phone labels", out);
}

vc_status vc_phone_labels_load(const char *path, vc_phone_labels *out) {
    if (!path || !out) return VC_ERR_ARG;
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        vcu_log(VC_LOG_ERROR, "%s: cannot open: %s", path, strerror(errno));
        return VC_ERR_IO;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    vc_status st = buf ? VC_OK : VC_ERR_NOMEM;
    while (st == VC_OK) {
        if (n == cap) {
            if (cap > MAX_LABEL_BYTES) break; /* the parser names the size */
            char *b = realloc(buf, cap * 2);
            if (!b) {
                st = VC_ERR_NOMEM;
                break;
            }
            buf = b, cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) {
            if (ferror(f)) {
                vcu_log(VC_LOG_ERROR, "%s: read error", path);
                st = VC_ERR_IO;
            }
            break;
        }
    }
    fclose(f);
    if (st == VC_OK) st = parse_named(buf, n, path, out);
    free(buf);
    return st;
}

void vc_phone_labels_free(vc_phone_labels *l) {
    if (!l) return;
    free(l->segments);
    memset(l, 0, sizeof *l);
}

/* ---- phone names ---------------------------------------------------------------------------- */

int vc_phone_is_silence(const char *name) {
    static const char *const names[] = {"sil", "sp",   "spn", "pau", "h#", "<sil>",
                                        "<s>", "</s>", "nsn", "_",   "#",  NULL};
    if (name[0] == '+' || name[0] == '[') return 1;
    for (int i = 0; names[i]; i++)
        if (!strcasecmp(name, names[i])) return 1;
    return 0;
}

void vc_phone_strip_stress(char *name) {
    size_t n = strlen(name);
    if (n > 1 && name[n - 1] >= '0' && name[n - 1] <= '2' && isalpha((unsigned char)name[n - 2]))
        name[n - 1] = '\0';
}

/* ---- where a recording's labels are ------------------------------------------------------- */

int vc_phone_labels_find(const char *dir, const char *audio, char *buf, size_t size) {
    static const char *const extensions[] = {"TextGrid", "lab", "txt", NULL};
    if (!dir || !audio || !buf || size == 0) return 0;
    const char *slash = strrchr(audio, '/'), *base = slash ? slash + 1 : audio;
    const char *dot = strrchr(base, '.');
    int stem = dot && dot != base ? (int)(dot - base) : (int)strlen(base), folder = 0;
    const char *start = slash;
    if (slash) {
        while (start > audio && start[-1] != '/') start--;
        folder = (int)(slash - start);
    }
    for (int with_folder = folder > 0; with_folder >= 0; with_folder--)
        for (int e = 0; extensions[e]; e++) {
            int n = with_folder ? snprintf(buf, size, "%s/%.*s/%.*s.%s", dir, folder, start, stem,
                                           base, extensions[e])
                                : snprintf(buf, size, "%s/%.*s.%s", dir, stem, base, extensions[e]);
            if (n > 0 && (size_t)n < size && access(buf, R_OK) == 0) return 1;
        }
    return 0;
}
