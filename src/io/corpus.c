/* Corpus scanning and the deterministic train/validation split; see corpus.h. */
#define _POSIX_C_SOURCE 200809L
#include "io/corpus.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define CORPUS_MAX_DEPTH 64 /* deeper trees are absurd; also bounds the recursion */

uint64_t vci_fnv1a64(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* splitmix64 finaliser: spreads ids evenly over 64 bits for the split. */
static uint64_t mix64(uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int is_audio_name(const char *name) {
    static const char *const exts[] = {".wav", ".flac", ".ogg", ".oga", ".aiff",
                                       ".aif", ".au",   ".mp3", ".opus"};
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        size_t e = strlen(exts[i]);
        if (n > e && !strcasecmp(name + n - e, exts[i])) return 1;
    }
    return 0;
}

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static char *join_path(const char *a, const char *b) {
    size_t na = strlen(a), nb = strlen(b);
    char *p = malloc(na + nb + 2);
    if (!p) return NULL;
    memcpy(p, a, na);
    p[na] = '/';
    memcpy(p + na + 1, b, nb + 1);
    return p;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Growable list of relative paths found under one DIR. */
typedef struct str_list {
    char **s; // (n)
    int n, cap;
} str_list;

static vc_status list_push(str_list *l, char *s) {
    if (!s) return VC_ERR_NOMEM;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        char **ns = realloc(l->s, (size_t)cap * sizeof *ns);
        if (!ns) {
            free(s);
            return VC_ERR_NOMEM;
        }
        l->s = ns;
        l->cap = cap;
    }
    l->s[l->n++] = s;
    return VC_OK;
}

static void list_free(str_list *l) {
    for (int i = 0; i < l->n; i++) free(l->s[i]);
    free(l->s);
    memset(l, 0, sizeof *l);
}

/* Appends the audio files under root/rel (rel "" for root itself) to out, sorted. */
static vc_status scan_dir(const char *root, const char *rel, int depth, str_list *out) {
    char *abs = rel[0] ? join_path(root, rel) : dup_str(root);
    if (!abs) return VC_ERR_NOMEM;
    DIR *d = opendir(abs);
    if (!d) {
        vcu_log(VC_LOG_ERROR, "%s: cannot read folder: %s", abs, strerror(errno));
        free(abs);
        return VC_ERR_IO;
    }
    str_list names = {0};
    vc_status st = VC_OK;
    for (struct dirent *e; st == VC_OK && (e = readdir(d));)
        if (e->d_name[0] != '.') st = list_push(&names, dup_str(e->d_name));
    closedir(d);
    if (st == VC_OK && names.n > 1) qsort(names.s, (size_t)names.n, sizeof *names.s, cmp_str);
    for (int i = 0; st == VC_OK && i < names.n; i++) {
        char *full = join_path(abs, names.s[i]);
        char *sub = rel[0] ? join_path(rel, names.s[i]) : dup_str(names.s[i]);
        struct stat lsb, sb;
        if (!full || !sub) {
            st = VC_ERR_NOMEM;
        } else if (lstat(full, &lsb) != 0) {
            vcu_log(VC_LOG_WARN, "%s: skipped: %s", full, strerror(errno));
        } else if (S_ISDIR(lsb.st_mode)) {
            if (depth >= CORPUS_MAX_DEPTH)
                vcu_log(VC_LOG_WARN, "%s: skipped: more than %d folder levels", full,
                        CORPUS_MAX_DEPTH);
            else
                st = scan_dir(root, sub, depth + 1, out);
        } else if (is_audio_name(names.s[i]) && stat(full, &sb) == 0 && S_ISREG(sb.st_mode)) {
            /* regular files and symlinks to regular files; symlinked folders are not followed */
            st = list_push(out, sub);
            sub = NULL;
        }
        free(full);
        free(sub);
    }
    list_free(&names);
    free(abs);
    return st;
}

static const char *base_name(const char *path, size_t *len) {
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--; /* "data/" -> "data" */
    size_t b = n;
    while (b > 0 && path[b - 1] != '/') b--;
    *len = n - b;
    return path + b;
}

/* Index of the speaker named name, adding it if new; -1 when out of memory. */
static int speaker_index(vc_corpus *c, int *cap, const char *name) {
    /* speakers of one DIR arrive contiguously, so the last one is the usual hit */
    if (c->n_spk > 0 && !strcmp(c->spk[c->n_spk - 1].name, name)) return c->n_spk - 1;
    for (int i = 0; i < c->n_spk; i++)
        if (!strcmp(c->spk[i].name, name)) return i;
    if (c->n_spk == *cap) {
        int ncap = *cap ? 2 * *cap : 16;
        vc_speaker *ns = realloc(c->spk, (size_t)ncap * sizeof *ns);
        if (!ns) return -1;
        c->spk = ns;
        *cap = ncap;
    }
    vc_speaker *s = &c->spk[c->n_spk];
    memset(s, 0, sizeof *s);
    if (!(s->name = dup_str(name))) return -1;
    return c->n_spk++;
}

void vci_corpus_free(vc_corpus *c) {
    if (!c) return;
    for (int i = 0; i < c->n_utt; i++) free(c->utt[i].path);
    for (int i = 0; i < c->n_spk; i++) {
        free(c->spk[i].name);
        free(c->spk[i].utt);
    }
    free(c->utt);
    free(c->spk);
    memset(c, 0, sizeof *c);
}

/* Adds DIR k's files (found[k]) to c. prefix keys speakers and ids. */
static vc_status add_dir(vc_corpus *c, int *spk_cap, const char *dir, const char *prefix,
                         const str_list *found) {
    vc_status st = VC_OK;
    for (int i = 0; st == VC_OK && i < found->n; i++) {
        const char *rel = found->s[i];
        const char *slash = strchr(rel, '/');
        size_t sl = slash ? (size_t)(slash - rel) : strlen(rel);
        size_t np = strlen(prefix);
        char *key = malloc(np + strlen(rel) + 2); /* "<prefix>/<rel>" */
        if (!key) return VC_ERR_NOMEM;
        memcpy(key, prefix, np);
        key[np] = '/';
        memcpy(key + np + 1, rel, strlen(rel) + 1);
        vc_utterance *u = &c->utt[c->n_utt];
        u->id = vci_fnv1a64(VC_FNV_OFFSET, key, strlen(key));
        key[np + 1 + sl] = '\0'; /* the speaker key "<prefix>/<first component>" */
        u->speaker = speaker_index(c, spk_cap, key);
        u->path = join_path(dir, rel);
        free(key);
        if (u->speaker < 0 || !u->path) {
            free(u->path);
            st = VC_ERR_NOMEM;
        } else {
            c->n_utt++;
        }
    }
    return st;
}

static vc_status fill_speaker_lists(vc_corpus *c) {
    for (int i = 0; i < c->n_utt; i++) c->spk[c->utt[i].speaker].n_utt++;
    for (int s = 0; s < c->n_spk; s++) {
        c->spk[s].utt = malloc((size_t)c->spk[s].n_utt * sizeof(int));
        if (!c->spk[s].utt) return VC_ERR_NOMEM;
        c->spk[s].n_utt = 0;
    }
    for (int i = 0; i < c->n_utt; i++) {
        vc_speaker *s = &c->spk[c->utt[i].speaker];
        s->utt[s->n_utt++] = i;
    }
    return VC_OK;
}

vc_status vci_corpus_scan(const char *const *dirs, int n_dirs, vc_corpus *out) {
    if (!out) return VC_ERR_ARG;
    memset(out, 0, sizeof *out);
    if (!dirs || n_dirs < 1) {
        vcu_log(VC_LOG_ERROR, "vci_corpus_scan: no folders given");
        return VC_ERR_ARG;
    }
    for (int k = 0; k < n_dirs; k++) {
        if (!dirs[k] || !dirs[k][0]) {
            vcu_log(VC_LOG_ERROR, "vci_corpus_scan: empty folder name");
            return VC_ERR_ARG;
        }
    }
    str_list *found = calloc((size_t)n_dirs, sizeof *found); // (n_dirs)
    if (!found) return VC_ERR_NOMEM;
    vc_status st = VC_OK;
    long total = 0;
    for (int k = 0; st == VC_OK && k < n_dirs; k++) {
        struct stat sb;
        if (stat(dirs[k], &sb) != 0) {
            vcu_log(VC_LOG_ERROR, "%s: %s", dirs[k], strerror(errno));
            st = VC_ERR_IO;
        } else if (!S_ISDIR(sb.st_mode)) {
            vcu_log(VC_LOG_ERROR, "%s: not a folder", dirs[k]);
            st = VC_ERR_IO;
        } else {
            st = scan_dir(dirs[k], "", 0, &found[k]);
            total += found[k].n;
        }
    }
    if (st == VC_OK && total == 0) {
        vcu_log(VC_LOG_ERROR,
                "no audio files (.wav .flac .ogg .oga .aiff .aif .au .mp3 .opus) in %s%s", dirs[0],
                n_dirs > 1 ? " and the other folders" : "");
        st = VC_ERR_AUDIO;
    }
    if (st == VC_OK && total > (1L << 30)) st = VC_ERR_ARG; /* int indices */
    if (st == VC_OK && !(out->utt = calloc((size_t)total, sizeof *out->utt))) st = VC_ERR_NOMEM;
    int spk_cap = 0;
    for (int k = 0; st == VC_OK && k < n_dirs; k++) {
        size_t bl, bl2;
        const char *b = base_name(dirs[k], &bl);
        int clash = 0; /* an earlier DIR with the same basename: key by the full path */
        for (int j = 0; j < k; j++) {
            const char *b2 = base_name(dirs[j], &bl2);
            if (bl == bl2 && !memcmp(b, b2, bl)) clash = 1;
        }
        char *prefix = clash ? dup_str(dirs[k]) : malloc(bl + 1);
        if (!prefix) {
            st = VC_ERR_NOMEM;
            break;
        }
        if (!clash) {
            memcpy(prefix, b, bl);
            prefix[bl] = '\0';
        }
        st = add_dir(out, &spk_cap, dirs[k], prefix, &found[k]);
        free(prefix);
    }
    if (st == VC_OK) st = fill_speaker_lists(out);
    for (int k = 0; k < n_dirs; k++) list_free(&found[k]);
    free(found);
    if (st != VC_OK) vci_corpus_free(out);
    return st;
}

int vci_corpus_split(const vc_corpus *c, float val_share, uint64_t seed, unsigned char *is_val) {
    if (!c || !is_val || !(val_share >= 0.0f && val_share <= 1.0f)) return VC_ERR_ARG;
    int n_val = 0, lo = -1, hi = -1;
    uint64_t hlo = 0, hhi = 0;
    /* threshold on the top 53 bits, compared in double: exact for any share */
    double thr = (double)val_share;
    for (int i = 0; i < c->n_utt; i++) {
        uint64_t h = mix64(c->utt[i].id ^ mix64(seed));
        double u = (double)(h >> 11) * (1.0 / 9007199254740992.0); /* [0, 1) */
        is_val[i] = u < thr;
        n_val += is_val[i];
        /* ties broken by id so the choice never depends on order */
        if (lo < 0 || h < hlo || (h == hlo && c->utt[i].id < c->utt[lo].id)) lo = i, hlo = h;
        if (hi < 0 || h > hhi || (h == hhi && c->utt[i].id > c->utt[hi].id)) hi = i, hhi = h;
    }
    if (c->n_utt >= 2 && val_share > 0.0f && val_share < 1.0f) {
        if (n_val == 0) {
            is_val[lo] = 1;
            n_val = 1;
        }
        if (n_val == c->n_utt) {
            is_val[hi] = 0;
            n_val--;
        }
    }
    return n_val;
}

/* ---- the public listing (vconv.h) --------------------------------------------------------- */

vc_status vc_list_audio(const char *const *dirs, int n_dirs, vc_file_list *out) {
    if (!dirs || n_dirs < 1 || !out) return VC_ERR_ARG;
    memset(out, 0, sizeof *out);
    vc_corpus *c = calloc(1, sizeof *c);
    if (!c) return VC_ERR_NOMEM;
    vc_status st = vci_corpus_scan(dirs, n_dirs, c);
    const char **paths = NULL, **speakers = NULL;
    int *speaker = NULL;
    if (st == VC_OK) {
        paths = malloc(sizeof *paths * (size_t)c->n_utt);
        speaker = malloc(sizeof *speaker * (size_t)c->n_utt);
        speakers = malloc(sizeof *speakers * (size_t)c->n_spk);
        if (!paths || !speaker || !speakers) st = VC_ERR_NOMEM;
    }
    if (st != VC_OK) {
        free(paths);
        free(speaker);
        free(speakers);
        vci_corpus_free(c);
        free(c);
        return st;
    }
    for (int i = 0; i < c->n_utt; i++) paths[i] = c->utt[i].path, speaker[i] = c->utt[i].speaker;
    for (int s = 0; s < c->n_spk; s++) speakers[s] = c->spk[s].name;
    *out = (vc_file_list){.n = c->n_utt,
                          .paths = paths,
                          .speaker = speaker,
                          .n_speakers = c->n_spk,
                          .speakers = speakers,
                          .priv = c};
    return VC_OK;
}

void vc_file_list_free(vc_file_list *l) {
    if (!l) return;
    free((void *)l->paths);
    free((void *)l->speaker);
    free((void *)l->speakers);
    vci_corpus_free(l->priv);
    free(l->priv);
    memset(l, 0, sizeof *l);
}
