/* Training features (trim, log-mel, F0, int16 audio) and their per-utterance cache; see
 * features.h. */
#define _POSIX_C_SOURCE 200809L
#include "io/features.h"

#include "io/safetensors.h"
#include "model/audio_contract.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <string.h>
#include <sys/stat.h>

#define SKIP_NAMES_SHOWN 5 /* skipped files named in the summary warning */

void vci_utt_features_free(vc_utt_features *u) {
    if (!u) return;
    free(u->mel);
    free(u->f0);
    free(u->voicing);
    free(u->audio);
    memset(u, 0, sizeof *u);
}

void vci_feature_set_free(vc_feature_set *fs) {
    if (!fs) return;
    for (int i = 0; i < fs->n; i++) vci_utt_features_free(&fs->u[i]);
    free(fs->u);
    memset(fs, 0, sizeof *fs);
}

static int16_t to_i16(float x) {
    float q = roundf(x * 32767.0f);
    return (int16_t)(q > 32767.0f ? 32767 : q < -32768.0f ? -32768 : q);
}

vc_status vci_features_compute(vc_frontend *fe, const float *x, size_t n, vc_utt_features *out) {
    if (!fe || !x || !out || n < 1) return VC_ERR_ARG;
    memset(out, 0, sizeof *out);
    const vc_frontend_params *p = vc_frontend_params_of(fe);
    int16_t *q = malloc(n * sizeof *q); // (n) quantised first: the stored audio is the truth
    if (!q) return VC_ERR_NOMEM;
    float *xq = malloc(n * sizeof *xq); // (n)
    if (!xq) {
        free(q);
        return VC_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        q[i] = to_i16(x[i]);
        xq[i] = (float)q[i] / 32767.0f;
    }
    size_t b = 0, e = 0;
    vc_status st = vcm_trim_span(xq, n, p, &b, &e);
    size_t len = e - b;
    int T = st == VC_OK ? vc_frontend_n_frames(fe, len) : 0;
    int M = p->n_mels;
    float *tm = NULL; // (T, M) as the front end gives it
    if (st == VC_OK) {
        out->audio = malloc(len * sizeof *out->audio);
        out->mel = malloc((size_t)T * (size_t)M * sizeof *out->mel);
        out->f0 = malloc((size_t)T * sizeof *out->f0);
        out->voicing = malloc((size_t)T * sizeof *out->voicing);
        tm = malloc((size_t)T * (size_t)M * sizeof *tm);
        if (!out->audio || !out->mel || !out->f0 || !out->voicing || !tm) st = VC_ERR_NOMEM;
    }
    if (st == VC_OK) st = vc_frontend_log_mel(fe, xq + b, len, tm);
    if (st == VC_OK) st = vc_frontend_f0(fe, xq + b, len, out->f0, out->voicing);
    if (st == VC_OK) {
        for (int t = 0; t < T; t++)
            for (int m = 0; m < M; m++) out->mel[(size_t)m * T + t] = tm[(size_t)t * M + m];
        memcpy(out->audio, q + b, len * sizeof *q);
        out->T = T;
        out->n_samples = len;
        out->trim_start = b;
    }
    free(tm);
    free(xq);
    free(q);
    if (st != VC_OK) vci_utt_features_free(out);
    return st;
}

/* ---------------------------------------------------------------- cache */

/* Everything that changes the features, in one string (hashed into the file name). */
static void cache_key(const vc_frontend_params *p, char *buf, size_t cap) {
    snprintf(buf, cap,
             "vconv-features v%s rate=%d n_fft=%d hop=%d mels=%d fmin=%.9g fmax=%.9g "
             "f0=%.9g..%.9g trim=%.9gdB margin=%d silence=%.9gdBFS q=int16/32767",
             VC_FEATURES_VERSION, p->sample_rate, p->n_fft, p->hop, p->n_mels, (double)p->fmin,
             (double)p->fmax, (double)p->f0_min, (double)p->f0_max, VCM_TRIM_DB,
             VCM_TRIM_MARGIN_HOPS, VCM_SILENCE_DBFS);
}

/* FNV-1a 64 of the file's bytes. VC_ERR_IO (logged) when it cannot be read. */
static vc_status hash_file(const char *path, uint64_t *h) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        vcu_log(VC_LOG_ERROR, "%s: %s", path, strerror(errno));
        return VC_ERR_IO;
    }
    unsigned char buf[1 << 16];
    uint64_t v = VC_FNV_OFFSET;
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) v = vci_fnv1a64(v, buf, got);
    int bad = ferror(f), err = errno;
    fclose(f);
    if (bad) {
        vcu_log(VC_LOG_ERROR, "%s: read error: %s", path, strerror(err));
        return VC_ERR_IO;
    }
    *h = v;
    return VC_OK;
}

/* Reads one cache file into *u. Any problem: a status (the caller recomputes). */
static vc_status cache_read(const char *path, const char *key, int M, const vc_frontend *fe,
                            vc_utt_features *u) {
    st_file f;
    memset(u, 0, sizeof *u);
    vc_status st = vci_safetensors_load(path, &f);
    if (st != VC_OK) return st;
    const char *k = vci_safetensors_meta(&f, "vconv.cache_key");
    const char *ts = vci_safetensors_meta(&f, "vconv.trim_start");
    char *ts_end = NULL;
    unsigned long long trim = ts ? strtoull(ts, &ts_end, 10) : 0;
    int im = vci_safetensors_find(&f, "mel"), i0 = vci_safetensors_find(&f, "f0");
    int iv = vci_safetensors_find(&f, "voicing"), ia = vci_safetensors_find(&f, "audio");
    float *af = NULL;
    if (!k || strcmp(k, key) || !ts || ts_end == ts || *ts_end || ts[0] == '-' ||
        trim > (1ull << 40) || im < 0 || i0 < 0 || iv < 0 || ia < 0 || f.n_tensors != 4) {
        st = VC_ERR_FORMAT;
    } else {
        const st_tensor *tm = &f.tensors[im], *t0 = &f.tensors[i0], *tv = &f.tensors[iv],
                        *ta = &f.tensors[ia];
        size_t n = ta->ndim == 1 ? (size_t)ta->shape[0] : 0;
        int T = n > 0 ? vc_frontend_n_frames(fe, n) : -1;
        if (ta->ndim != 1 || n == 0 || tm->ndim != 2 || tm->shape[0] != M || tm->shape[1] != T ||
            t0->ndim != 1 || t0->shape[0] != T || tv->ndim != 1 || tv->shape[0] != T) {
            st = VC_ERR_SHAPE;
        } else {
            u->T = T;
            u->n_samples = n;
            u->trim_start = (size_t)trim;
            u->mel = malloc((size_t)M * (size_t)T * sizeof *u->mel);
            u->f0 = malloc((size_t)T * sizeof *u->f0);
            u->voicing = malloc((size_t)T * sizeof *u->voicing);
            u->audio = malloc(n * sizeof *u->audio);
            af = malloc(n * sizeof *af);
            if (!u->mel || !u->f0 || !u->voicing || !u->audio || !af) st = VC_ERR_NOMEM;
            if (st == VC_OK) st = vci_safetensors_read_f32(&f, im, u->mel, (size_t)M * (size_t)T);
            if (st == VC_OK) st = vci_safetensors_read_f32(&f, i0, u->f0, (size_t)T);
            if (st == VC_OK) st = vci_safetensors_read_f32(&f, iv, u->voicing, (size_t)T);
            if (st == VC_OK) st = vci_safetensors_read_f32(&f, ia, af, n);
            for (size_t i = 0; st == VC_OK && i < n; i++) {
                if (af[i] != roundf(af[i]) || af[i] < -32768.0f || af[i] > 32767.0f)
                    st = VC_ERR_FORMAT; /* not an int16 value: not ours */
                else
                    u->audio[i] = (int16_t)af[i];
            }
        }
    }
    free(af);
    vci_safetensors_free(&f);
    if (st != VC_OK) vci_utt_features_free(u);
    return st;
}

static vc_status cache_write(const char *path, const char *key, int M, const vc_utt_features *u) {
    float *af = malloc(u->n_samples * sizeof *af); // (n)
    if (!af) return VC_ERR_NOMEM;
    for (size_t i = 0; i < u->n_samples; i++) af[i] = (float)u->audio[i];
    st_tensor_out t[4] = {
        {"mel", 2, {M, u->T}, u->mel},
        {"f0", 1, {u->T}, u->f0},
        {"voicing", 1, {u->T}, u->voicing},
        {"audio", 1, {(int64_t)u->n_samples}, af},
    };
    char trim[32];
    snprintf(trim, sizeof trim, "%zu", u->trim_start);
    const char *kv[4] = {"vconv.cache_key", key, "vconv.trim_start", trim};
    vc_status st = vci_safetensors_write(path, t, 4, kv, 2, ST_F32);
    free(af);
    return st;
}

/* ---------------------------------------------------------------- build */

enum { UTT_HIT = 0, UTT_MISS = 1, UTT_SKIP = 2 };

/* One utterance: cache hit, or compute (and write the cache). Returns UTT_*. */
static int build_one(vc_frontend *fe, const char *path, const char *cache_dir, const char *key,
                     vc_utt_features *u) {
    const vc_frontend_params *p = vc_frontend_params_of(fe);
    char *cpath = NULL;
    if (cache_dir) {
        uint64_t h;
        if (hash_file(path, &h) != VC_OK) return UTT_SKIP;
        h = vci_fnv1a64(h, key, strlen(key));
        size_t cap = strlen(cache_dir) + 40;
        if (!(cpath = malloc(cap))) return UTT_SKIP;
        snprintf(cpath, cap, "%s/%016llx.safetensors", cache_dir, (unsigned long long)h);
        struct stat sb;
        if (stat(cpath, &sb) == 0) {
            if (cache_read(cpath, key, p->n_mels, fe, u) == VC_OK) {
                free(cpath);
                return UTT_HIT;
            }
            vcu_log(VC_LOG_WARN, "%s: cache file for %s is unusable; recomputing it", cpath, path);
        }
    }
    vc_audio a;
    vc_status st = vc_audio_load(path, p->sample_rate, &a, NULL);
    if (st == VC_OK) {
        st = vci_features_compute(fe, a.samples, a.n_samples, u);
        if (st == VC_ERR_AUDIO)
            vcu_log(VC_LOG_WARN, "%s: silent or shorter than %d samples after trimming", path,
                    p->n_fft);
        vc_audio_free(&a);
    }
    if (st == VC_OK && cpath && cache_write(cpath, key, p->n_mels, u) != VC_OK)
        vcu_log(VC_LOG_WARN, "%s: could not write the cache file (features kept in memory)", cpath);
    free(cpath);
    return st == VC_OK ? UTT_MISS : UTT_SKIP;
}

vc_status vci_features_build(const vc_corpus *c, const char *cache_dir, const vc_frontend_params *p,
                             int threads, vc_progress_fn progress, void *progress_user,
                             vc_feature_set *out, vc_feature_stats *stats) {
    if (!out) return VC_ERR_ARG;
    memset(out, 0, sizeof *out);
    if (stats) memset(stats, 0, sizeof *stats);
    if (!c || !p || c->n_utt < 1) {
        vcu_log(VC_LOG_ERROR, "vci_features_build: invalid arguments");
        return VC_ERR_ARG;
    }
    if (cache_dir && mkdir(cache_dir, 0755) != 0 && errno != EEXIST) {
        vcu_log(VC_LOG_WARN, "%s: cannot create the cache folder (%s); features not cached",
                cache_dir, strerror(errno));
        cache_dir = NULL;
    }
    int nt = threads > 0 ? threads : omp_get_max_threads();
    if (nt > c->n_utt) nt = c->n_utt;
    char key[512];
    cache_key(p, key, sizeof key);
    vc_status st = VC_OK;
    vc_frontend **fe = calloc((size_t)nt, sizeof *fe); // (nt) one per thread: they own scratch
    vc_utt_features *all = calloc((size_t)c->n_utt, sizeof *all); // (n_utt)
    int *res = calloc((size_t)c->n_utt, sizeof *res);             // (n_utt) UTT_*
    if (!fe || !all || !res) st = VC_ERR_NOMEM;
    for (int i = 0; st == VC_OK && i < nt; i++) st = vc_frontend_init(p, &fe[i]); /* plans here */
    /* chunks, so progress is reported from this thread between parallel regions */
    int chunk = 8 * nt;
    for (int b = 0; st == VC_OK && b < c->n_utt; b += chunk) {
        int e = b + chunk < c->n_utt ? b + chunk : c->n_utt;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
        for (int i = b; i < e; i++)
            res[i] = build_one(fe[omp_get_thread_num()], c->utt[i].path, cache_dir, key, &all[i]);
        if (progress) progress((double)e / c->n_utt, progress_user);
    }
    int n_ok = 0, n_skip = 0;
    for (int i = 0; st == VC_OK && i < c->n_utt; i++) {
        if (res[i] == UTT_SKIP) {
            if (n_skip < SKIP_NAMES_SHOWN)
                vcu_log(VC_LOG_WARN, "skipped (unreadable, corrupt, silent or too short): %s",
                        c->utt[i].path);
            n_skip++;
            continue;
        }
        if (stats) {
            stats->hits += res[i] == UTT_HIT;
            stats->misses += res[i] == UTT_MISS;
        }
        all[i].utt = i;
        all[i].speaker = c->utt[i].speaker;
        all[n_ok++] = all[i]; /* compact in place: n_ok <= i */
    }
    if (stats) stats->skipped = n_skip;
    if (st == VC_OK && n_skip > SKIP_NAMES_SHOWN)
        vcu_log(VC_LOG_WARN, "%d files skipped in all (first %d named above)", n_skip,
                SKIP_NAMES_SHOWN);
    if (st == VC_OK && n_ok == 0) {
        vcu_log(VC_LOG_ERROR, "no usable audio among %d files", c->n_utt);
        st = VC_ERR_AUDIO;
    }
    if (fe)
        for (int i = 0; i < nt; i++) vc_frontend_free(fe[i]);
    free(fe);
    free(res);
    if (st != VC_OK) {
        if (all)
            for (int i = 0; i < c->n_utt; i++) vci_utt_features_free(&all[i]);
        free(all);
        return st;
    }
    vc_utt_features *shrunk = realloc(all, (size_t)n_ok * sizeof *all);
    out->u = shrunk ? shrunk : all;
    out->n = n_ok;
    out->M = p->n_mels;
    out->hop = p->hop;
    out->sample_rate = p->sample_rate;
    return VC_OK;
}

/* ------------------------------------------------------------- training */

vc_status vci_features_mel_stats(const vc_feature_set *fs, const unsigned char *is_val, float *mean,
                                 float *std) {
    if (!fs || !mean || !std || fs->M < 1) return VC_ERR_ARG;
    int M = fs->M;
    double *sum = calloc((size_t)M, sizeof *sum); // (M)
    double *var = calloc((size_t)M, sizeof *var); // (M)
    if (!sum || !var) {
        free(sum);
        free(var);
        return VC_ERR_NOMEM;
    }
    double frames = 0.0;
    for (int i = 0; i < fs->n; i++) {
        const vc_utt_features *u = &fs->u[i];
        if (is_val && is_val[u->utt]) continue;
        frames += u->T;
        for (int m = 0; m < M; m++)
            for (int t = 0; t < u->T; t++) sum[m] += u->mel[(size_t)m * u->T + t];
    }
    vc_status st = VC_OK;
    if (frames < 1.0) {
        vcu_log(VC_LOG_ERROR, "vci_features_mel_stats: no training frames");
        st = VC_ERR_ARG;
    } else {
        for (int m = 0; m < M; m++) sum[m] /= frames; /* now the mean */
        for (int i = 0; i < fs->n; i++) {
            const vc_utt_features *u = &fs->u[i];
            if (is_val && is_val[u->utt]) continue;
            for (int m = 0; m < M; m++)
                for (int t = 0; t < u->T; t++) {
                    double d = u->mel[(size_t)m * u->T + t] - sum[m];
                    var[m] += d * d;
                }
        }
        for (int m = 0; m < M; m++) {
            mean[m] = (float)sum[m];
            float s = (float)sqrt(var[m] / frames);
            std[m] = s > VC_MEL_STD_FLOOR ? s : VC_MEL_STD_FLOOR;
        }
    }
    free(sum);
    free(var);
    return st;
}

vc_status vci_features_sample_segment(const vc_feature_set *fs, int i, int T, vc_rng *rng,
                                      int *start) {
    if (!fs || !rng || !start || i < 0 || i >= fs->n || T < 1) return VC_ERR_ARG;
    *start = 0;
    int room = fs->u[i].T - T; /* valid starts: 0..room */
    if (room < 0) return VC_ERR_SHAPE;
    *start = (int)(((uint64_t)vcu_rng_u32(rng) * (uint64_t)(room + 1)) >> 32);
    return VC_OK;
}
