/* What a batch of vconv convert converts (convert.h, convert_plan): every source in every
 * --to voice, or the pairs a pairs file lists. A pairs file is hostile input like any other:
 * its size, line count and line length are bounded, and anything malformed is refused with the
 * line number. Plain C and libc only, so that its libFuzzer target (fuzz/fuzz_pairs.c) builds
 * it alone. */
#include "convert.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Bounds on a pairs file. */
#define MAX_PAIRS_BYTES ((size_t)16 << 20)
#define MAX_PAIRS 100000

static int fail(char *err, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, size, fmt, ap);
    va_end(ap);
    return -1;
}

static void *alloc(size_t n) {
    void *p = calloc(n ? n : 1, 1);
    if (!p) abort();
    return p;
}

/* ---- names and pairs ---------------------------------------------------------------------- */

typedef struct named {
    const char *name;
    int index; /* where it was given */
} named;

static int by_name(const void *x, const void *y) {
    const named *a = x, *b = y;
    int c = strcmp(a->name, b->name);
    return c ? c : (a->index > b->index) - (a->index < b->index);
}

/* names (n) given with repeats -> each name once, in the order first given (*unique, *n_unique),
 * and each given name's index in it (ids, n). */
static void intern(const char *const *names, int n, const char ***unique, int *n_unique, int *ids) {
    named *s = alloc(sizeof *s * (size_t)n);
    int *first = alloc(sizeof *first * (size_t)n); /* each given name -> its first giving */
    for (int i = 0; i < n; i++) s[i].name = names[i], s[i].index = i;
    qsort(s, (size_t)n, sizeof *s, by_name);
    for (int k = 0; k < n; k++)
        first[s[k].index] =
            k && !strcmp(s[k].name, s[k - 1].name) ? first[s[k - 1].index] : s[k].index;
    *unique = alloc(sizeof **unique * (size_t)n);
    int *slot = alloc(sizeof *slot * (size_t)n);
    *n_unique = 0;
    for (int i = 0; i < n; i++) {
        if (first[i] == i) slot[i] = (*n_unique)++, (*unique)[slot[i]] = names[i];
        ids[i] = slot[first[i]];
    }
    free(slot);
    free(first);
    free(s);
}

/* The plan from n given (source, reference) pairs: names made unique, pairs grouped by source
 * (counting sort, so each source keeps its pairs' order). */
static void plan_from_pairs(convert_plan *p, const char *const *src, const char *const *ref,
                            int n) {
    int *sid = alloc(sizeof *sid * (size_t)n), *rid = alloc(sizeof *rid * (size_t)n);
    intern(src, n, &p->sources, &p->n_sources, sid);
    intern(ref, n, &p->refs, &p->n_refs, rid);
    p->n_pairs = n;
    p->pair_source = alloc(sizeof *p->pair_source * (size_t)n);
    p->pair_ref = alloc(sizeof *p->pair_ref * (size_t)n);
    p->source_start = alloc(sizeof *p->source_start * (size_t)(p->n_sources + 1));
    for (int k = 0; k < n; k++) p->source_start[sid[k] + 1]++;
    for (int i = 0; i < p->n_sources; i++) p->source_start[i + 1] += p->source_start[i];
    int *at = alloc(sizeof *at * (size_t)p->n_sources);
    for (int i = 0; i < p->n_sources; i++) at[i] = p->source_start[i];
    for (int k = 0; k < n; k++) {
        int j = at[sid[k]]++;
        p->pair_source[j] = sid[k], p->pair_ref[j] = rid[k];
    }
    free(at);
    free(sid);
    free(rid);
}

int convert_plan_cross(convert_plan *p, const char *const *refs, int n_refs,
                       const char *const *sources, int n_sources) {
    memset(p, 0, sizeof *p);
    long n = (long)n_refs * n_sources;
    if (n < 1 || n > MAX_PAIRS) return -1;
    const char **src = alloc(sizeof *src * (size_t)n), **ref = alloc(sizeof *ref * (size_t)n);
    for (int i = 0; i < n_sources; i++)
        for (int v = 0; v < n_refs; v++)
            src[(long)i * n_refs + v] = sources[i], ref[(long)i * n_refs + v] = refs[v];
    plan_from_pairs(p, src, ref, (int)n);
    free(src);
    free(ref);
    return 0;
}

/* ---- the pairs file ----------------------------------------------------------------------- */

static int is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\r';
}

/* [s, e) trimmed of blanks, NUL-terminated in place (e is writable: a separator or the line's
 * end); NULL when empty. */
static const char *field(char *s, char *e) {
    while (s < e && is_blank(*s)) s++;
    while (e > s && is_blank(e[-1])) e--;
    if (e == s) return NULL;
    *e = '\0';
    return s;
}

int convert_plan_parse(convert_plan *p, const char *text, size_t n, char *err, size_t err_size) {
    memset(p, 0, sizeof *p);
    if (n > MAX_PAIRS_BYTES)
        return fail(err, err_size, "%zu bytes (at most %zu)", n, MAX_PAIRS_BYTES);
    if (n && memchr(text, '\0', n)) return fail(err, err_size, "a NUL byte: not a text file");
    p->storage = alloc(n + 1);
    if (n) memcpy(p->storage, text, n);
    const char **src = NULL, **ref = NULL;
    int count = 0, cap = 0, line = 0;
    for (char *s = p->storage, *end = p->storage + n; s < end; s++) {
        char *eol = memchr(s, '\n', (size_t)(end - s));
        if (!eol) eol = end;
        line++;
        char *q = s;
        while (q < eol && is_blank(*q)) q++;
        if (q < eol && *q != '#') {
            /* a tab separates when there is one (names may hold spaces), else blanks do */
            char *sep = memchr(q, '\t', (size_t)(eol - q));
            const char *a = NULL, *b = NULL;
            if (sep) {
                a = field(q, sep), b = field(sep + 1, eol);
                if (b && strchr(b, '\t')) b = NULL;
            } else {
                char *w = q;
                while (w < eol && !is_blank(*w)) w++;
                char *rest = w;
                while (rest < eol && is_blank(*rest)) rest++;
                char *w2 = rest;
                while (w2 < eol && !is_blank(*w2)) w2++;
                char *after = w2;
                while (after < eol && is_blank(*after)) after++;
                if (after == eol && w2 > rest) a = field(q, w), b = field(rest, eol);
            }
            if (!a || !b) {
                free(src), free(ref);
                convert_plan_free(p);
                return fail(err, err_size,
                            "line %d: want SOURCE and REFERENCE, separated by a tab (or by "
                            "blanks when neither name holds one)",
                            line);
            }
            if (count == MAX_PAIRS) {
                free(src), free(ref);
                convert_plan_free(p);
                return fail(err, err_size, "more than %d pairs", MAX_PAIRS);
            }
            if (count == cap) {
                cap = cap ? 2 * cap : 64;
                src = realloc(src, sizeof *src * (size_t)cap);
                ref = realloc(ref, sizeof *ref * (size_t)cap);
                if (!src || !ref) abort();
            }
            src[count] = a, ref[count++] = b;
        }
        s = eol;
    }
    if (!count) {
        convert_plan_free(p);
        return fail(err, err_size, "no pairs");
    }
    char *storage = p->storage;
    plan_from_pairs(p, src, ref, count);
    p->storage = storage;
    free(src);
    free(ref);
    return 0;
}

int convert_plan_read(convert_plan *p, const char *path, char *err, size_t err_size) {
    memset(p, 0, sizeof *p);
    FILE *f = fopen(path, "rb");
    if (!f) return fail(err, err_size, "cannot open: %s", strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = alloc(cap);
    for (;;) {
        if (n == cap) {
            if (cap > MAX_PAIRS_BYTES) break; /* the parser names the size */
            char *grown = realloc(buf, cap * 2);
            if (!grown) abort();
            buf = grown, cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    int rc = bad ? fail(err, err_size, "read error") : convert_plan_parse(p, buf, n, err, err_size);
    free(buf);
    return rc;
}

void convert_plan_free(convert_plan *p) {
    free(p->sources);
    free(p->refs);
    free(p->pair_source);
    free(p->pair_ref);
    free(p->source_start);
    free(p->storage);
    memset(p, 0, sizeof *p);
}
