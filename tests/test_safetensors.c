/* safetensors and the table-driven model file: half-float conversion, write/read round trips
 * (F32 exact, F16 to half precision), metadata, every kind of malformed file rejected with its
 * status, random mutations never crash, and an independent reader (Python + numpy) agrees.
 * Files go to a mkdtemp folder under /tmp, removed at the end. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, opendir */

#include "test.h"
#include "tempdir.h"

#include "io/params_file.h"
#include "io/safetensors.h"

#include <dirent.h>
#include <float.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef VC_TEST_DATA_DIR
#define VC_TEST_DATA_DIR "tests/data"
#endif

/* ---------------------------------------------------------------- helpers */

typedef struct log_capture {
    char last[1024];
    char all[4096]; /* every line of the current case, for HINT checks */
    int count;
} log_capture;

static void capture_log(int level, const char *msg, void *user) {
    log_capture *lc = user;
    (void)level;
    snprintf(lc->last, sizeof lc->last, "%s", msg);
    size_t len = strlen(lc->all);
    snprintf(lc->all + len, sizeof lc->all - len, "%s\n", msg);
    lc->count++;
}

static void capture_reset(log_capture *lc) {
    lc->last[0] = lc->all[0] = '\0';
    lc->count = 0;
}

static unsigned char *read_bytes(const char *path, size_t *n) {
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) return NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *buf = malloc(sb.st_size > 0 ? (size_t)sb.st_size : 1);
    if (buf && fread(buf, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *n = (size_t)sb.st_size;
    return buf;
}

static int write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    size_t w = n ? fwrite(data, 1, n, f) : 0;
    return fclose(f) == 0 && w == n;
}

static void put_le64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* A file image from a header text and data bytes; caller frees. */
static unsigned char *make_image(const char *json, const void *data, size_t data_len,
                                 size_t *size) {
    size_t n = strlen(json);
    unsigned char *img = malloc(8 + n + data_len + 1);
    put_le64(img, n);
    memcpy(img + 8, json, n);
    if (data_len) memcpy(img + 8 + n, data, data_len);
    *size = 8 + n + data_len;
    return img;
}

/* A copy of a good image with the first `from` in its header replaced by `to` and the header
 * length fixed up; NULL if `from` is not in the header. Caller frees. */
static unsigned char *edit_header(const unsigned char *img, size_t size, const char *from,
                                  const char *to, size_t *out_size) {
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | img[i];
    char *hdr = malloc(n + 1);
    memcpy(hdr, img + 8, n);
    hdr[n] = '\0';
    char *at = strstr(hdr, from);
    if (!at) {
        free(hdr);
        return NULL;
    }
    size_t lf = strlen(from), lt = strlen(to), nn = n - lf + lt;
    unsigned char *out = malloc(8 + nn + (size - 8 - n) + 1);
    put_le64(out, nn);
    size_t pre = (size_t)(at - hdr);
    memcpy(out + 8, hdr, pre);
    memcpy(out + 8 + pre, to, lt);
    memcpy(out + 8 + pre + lt, at + lf, n - pre - lf);
    memcpy(out + 8 + nn, img + 8 + n, size - 8 - n);
    *out_size = 8 + nn + (size - 8 - n);
    free(hdr);
    return out;
}

/* ------------------------------------------------------------ half floats */

static void test_half(vc_rng *rng) {
    /* Every non-NaN half survives half -> float -> half exactly. */
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float x = vci_f16_to_f32((uint16_t)h);
        int is_nan = (h & 0x7c00u) == 0x7c00u && (h & 0x3ffu);
        if (is_nan ? !isnan(x) : vci_f32_to_f16(x) != h) bad++;
    }
    CHECK(bad == 0);
    CHECK(vci_f16_to_f32(0x0001) == ldexpf(1.0f, -24)); /* smallest subnormal */
    CHECK(vci_f16_to_f32(0x03ff) == ldexpf(1023.0f, -24));
    CHECK(vci_f16_to_f32(0x0400) == ldexpf(1.0f, -14)); /* smallest normal */
    CHECK(vci_f16_to_f32(0x7bff) == 65504.0f);
    CHECK(vci_f16_to_f32(0x8000) == 0.0f && signbit(vci_f16_to_f32(0x8000)));
    CHECK(isinf(vci_f16_to_f32(0x7c00)) && vci_f16_to_f32(0xfc00) < 0);
    CHECK(isnan(vci_f16_to_f32(0x7e00)));
    /* Ties go to even. */
    CHECK(vci_f32_to_f16(1.0f + ldexpf(1.0f, -11)) == 0x3c00);    /* 1 + half ulp -> 1 */
    CHECK(vci_f32_to_f16(1.0f + ldexpf(3.0f, -11)) == 0x3c02);    /* -> 1 + 2 ulp (even) */
    CHECK(vci_f32_to_f16(ldexpf(1.0f, -25)) == 0x0000);           /* tie with 0 -> 0 */
    CHECK(vci_f32_to_f16(nextafterf(ldexpf(1.0f, -25), 1)) == 1); /* just above -> 2^-24 */
    CHECK(vci_f32_to_f16(ldexpf(3.0f, -25)) == 0x0002);           /* 1.5 * 2^-24 -> 2 */
    CHECK(vci_f32_to_f16(ldexpf(5.0f, -25)) == 0x0002);           /* 2.5 * 2^-24 -> 2 */
    CHECK(vci_f32_to_f16(ldexpf(2047.0f, -25)) == 0x0400);        /* rounds up into the normals */
    CHECK(vci_f32_to_f16(65519.0f) == 0x7bff);
    CHECK(vci_f32_to_f16(65520.0f) == 0x7c00); /* tie with 2^16 goes to the even inf */
    CHECK(vci_f32_to_f16(-1e9f) == 0xfc00);
    CHECK(vci_f32_to_f16(1e-30f) == 0 && vci_f32_to_f16(-1e-30f) == 0x8000);
    CHECK((vci_f32_to_f16(NAN) & 0x7fffu) > 0x7c00u);
    /* Random floats over the half range go to a nearest half. */
    bad = 0;
    for (int i = 0; i < 200000; i++) {
        float x = ldexpf(2.0f * vcu_rng_uniform(rng) - 1.0f, (int)(vcu_rng_u32(rng) % 42) - 26);
        uint16_t h = vci_f32_to_f16(x);
        double err = fabs((double)vci_f16_to_f32(h) - x);
        uint16_t up = (uint16_t)(h + 1), down = (uint16_t)(h - 1);
        if ((h & 0x7fffu) >= 0x7c00u) continue;
        if (((up & 0x7fffu) < 0x7c00u && fabs((double)vci_f16_to_f32(up) - x) < err) ||
            ((h & 0x7fffu) && fabs((double)vci_f16_to_f32(down) - x) < err))
            bad++;
    }
    CHECK(bad == 0);
}

/* ---------------------------------------------------------- round trips */

static void test_roundtrip(const char *dir, vc_rng *rng, log_capture *lc) {
    char path[1024];
    join(path, sizeof path, dir, "rt.safetensors");
    float a[6], s = 3.5f, b[40];
    for (int i = 0; i < 6; i++) a[i] = 100.0f * vcu_rng_normal(rng);
    a[0] = -0.0f, a[1] = FLT_MIN, a[2] = 1e-40f /* float subnormal */, a[3] = -FLT_MAX;
    for (int i = 0; i < 40; i++) b[i] = vcu_rng_normal(rng);
    const st_tensor_out t[] = {
        {"enc.a", 2, {2, 3}, a},
        {"scalar", 0, {0}, &s},
        {"empty", 2, {0, 4}, NULL},
        {"dec.b", 4, {2, 2, 5, 2}, b},
    };
    const char *meta[] = {
        "vconv.sample_rate",         "16000", "quote", "say \"hi\"\\n\t", "unicode",
        "h\xc3\xa9llo \xe2\x9c\x93", "empty", ""};
    CHECK(vci_safetensors_write(path, t, 4, meta, 4, ST_F32) == VC_OK);
    CHECK(count_matching(dir, "") == 1); /* no temp file left behind */

    size_t size;
    unsigned char *img = read_bytes(path, &size);
    CHECK(img != NULL);
    if (!img) return;
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | img[i];
    CHECK((8 + n) % 8 == 0);                     /* padded like the reference writer */
    CHECK(size == 8 + n + 4 * (6 + 1 + 0 + 40)); /* contiguous data, nothing else */
    CHECK(img[8] == '{' && (img[8 + n - 1] == '}' || img[8 + n - 1] == ' '));

    st_file f;
    CHECK(vci_safetensors_load(path, &f) == VC_OK);
    CHECK(f.n_tensors == 4 && f.n_meta == 4);
    CHECK(!strcmp(vci_safetensors_meta(&f, "quote"), "say \"hi\"\\n\t"));
    CHECK(!strcmp(vci_safetensors_meta(&f, "unicode"), "h\xc3\xa9llo \xe2\x9c\x93"));
    CHECK(!strcmp(vci_safetensors_meta(&f, "empty"), ""));
    CHECK(!strcmp(vci_safetensors_meta(&f, "vconv.sample_rate"), "16000"));
    CHECK(vci_safetensors_meta(&f, "nope") == NULL);
    CHECK(vci_safetensors_find(&f, "nope") == -1);
    for (int i = 0; i < 4; i++) {
        int j = vci_safetensors_find(&f, t[i].name);
        CHECK(j == i); /* written in the given order */
        if (j < 0) continue;
        const st_tensor *ti = &f.tensors[j];
        CHECK(ti->dtype == ST_F32 && ti->ndim == t[i].ndim);
        for (int d = 0; d < t[i].ndim; d++) CHECK(ti->shape[d] == t[i].shape[d]);
    }
    float ga[6], gs, gb[40];
    CHECK(vci_safetensors_read_f32(&f, 0, ga, 6) == VC_OK);
    CHECK(!memcmp(ga, a, sizeof a)); /* F32 is bit exact, -0 and subnormals included */
    CHECK(vci_safetensors_read_f32(&f, 1, &gs, 1) == VC_OK && gs == s);
    CHECK(f.tensors[2].numel == 0 && vci_safetensors_read_f32(&f, 2, NULL, 0) == VC_OK);
    CHECK(vci_safetensors_read_f32(&f, 3, gb, 40) == VC_OK && !memcmp(gb, b, sizeof b));
    capture_reset(lc);
    CHECK(vci_safetensors_read_f32(&f, 3, gb, 39) == VC_ERR_SHAPE);
    CHECK(strstr(lc->last, "dec.b") != NULL);
    CHECK(vci_safetensors_read_f32(&f, 4, gb, 40) == VC_ERR_ARG);
    vci_safetensors_free(&f);
    vci_safetensors_free(&f); /* zeroed: no-op */
    vci_safetensors_free(NULL);

    /* The same image from memory references the caller's buffer. */
    CHECK(vci_safetensors_parse(img, size, &f) == VC_OK);
    CHECK(f.data == img + 8 + n && f.owned == NULL);
    vci_safetensors_free(&f);
    free(img);

    /* F16: within half precision, half subnormals included. */
    float h[64], gh[64];
    for (int i = 0; i < 64; i++) {
        h[i] = i < 8 ? ldexpf((float)(i * 37 % 1024), -24) /* half subnormals */
               : i < 16
                   ? ldexpf(vcu_rng_uniform(rng), -14 - (i % 4)) /* random subnormals */
                   : 60000.0f * (2.0f * vcu_rng_uniform(rng) - 1.0f) / powf(10.0f, (float)(i % 9));
    }
    h[63] = -65504.0f;
    const st_tensor_out th = {"h", 2, {8, 8}, h};
    CHECK(vci_safetensors_write(path, &th, 1, NULL, 0, ST_F16) == VC_OK);
    CHECK(vci_safetensors_load(path, &f) == VC_OK);
    CHECK(f.n_tensors == 1 && f.tensors[0].dtype == ST_F16 && f.n_meta == 0);
    CHECK(f.data_size == 128);
    CHECK(vci_safetensors_read_f32(&f, 0, gh, 64) == VC_OK);
    int bad = 0;
    for (int i = 0; i < 64; i++) {
        /* Normals: relative error <= 2^-11 (half of the 10-bit mantissa's ulp). Subnormals:
         * absolute error <= 2^-25 (half of their fixed spacing 2^-24). */
        double tol = fabs(h[i]) >= ldexp(1.0, -14) ? ldexp(fabs(h[i]), -11) : ldexp(1.0, -25);
        if (fabs((double)gh[i] - h[i]) > tol) bad++;
    }
    CHECK(bad == 0);
    for (int i = 0; i < 8; i++) CHECK(gh[i] == h[i]); /* exact half subnormals stay exact */
    vci_safetensors_free(&f);

    /* Values the file cannot hold are refused, and the old file stays. */
    size_t before_size;
    unsigned char *before = read_bytes(path, &before_size);
    h[5] = 65520.0f; /* rounds to inf in F16 */
    CHECK(vci_safetensors_write(path, &th, 1, NULL, 0, ST_F16) == VC_ERR_ARG);
    h[5] = NAN;
    CHECK(vci_safetensors_write(path, &th, 1, NULL, 0, ST_F32) == VC_ERR_ARG);
    h[5] = 0.0f;
    const st_tensor_out dup[] = {{"x", 1, {1}, h}, {"x", 1, {1}, h}};
    CHECK(vci_safetensors_write(path, dup, 2, NULL, 0, ST_F32) == VC_ERR_ARG);
    const st_tensor_out reserved = {"__metadata__", 1, {1}, h};
    CHECK(vci_safetensors_write(path, &reserved, 1, NULL, 0, ST_F32) == VC_ERR_ARG);
    const st_tensor_out negshape = {"n", 1, {-1}, h};
    CHECK(vci_safetensors_write(path, &negshape, 1, NULL, 0, ST_F32) == VC_ERR_ARG);
    const char *dupmeta[] = {"k", "1", "k", "2"};
    CHECK(vci_safetensors_write(path, &th, 1, dupmeta, 2, ST_F32) == VC_ERR_ARG);
    const char *badutf[] = {"k", "\xff"};
    CHECK(vci_safetensors_write(path, &th, 1, badutf, 1, ST_F32) == VC_ERR_ARG);
    CHECK(vci_safetensors_write(path, &th, 1, NULL, 0, (st_dtype)7) == VC_ERR_ARG);
    char nodir[1100];
    join(nodir, sizeof nodir, dir, "missing/x.safetensors");
    CHECK(vci_safetensors_write(nodir, &th, 1, NULL, 0, ST_F32) == VC_ERR_IO);
    size_t after_size;
    unsigned char *after = read_bytes(path, &after_size);
    CHECK(before && after && before_size == after_size && !memcmp(before, after, after_size));
    CHECK(count_matching(dir, "") == 1);
    free(before);
    free(after);

    /* Metadata only, and an empty header, are valid files. */
    const char *only[] = {"a", "b"};
    CHECK(vci_safetensors_write(path, NULL, 0, only, 1, ST_F32) == VC_OK);
    CHECK(vci_safetensors_load(path, &f) == VC_OK && f.n_tensors == 0 && f.n_meta == 1);
    vci_safetensors_free(&f);
    CHECK(vci_safetensors_write(path, NULL, 0, NULL, 0, ST_F16) == VC_OK);
    CHECK(vci_safetensors_load(path, &f) == VC_OK && f.n_tensors == 0 && f.n_meta == 0);
    vci_safetensors_free(&f);
    unlink(path);
}

/* ------------------------------------------------------------- params */

static const vc_param_spec table[] = {
    {"enc.conv.w", 3, {8, 3, 5}, VC_INIT_UNIFORM, 1.0f, 15, 1},
    {"enc.conv.b", 1, {8}, VC_INIT_NORMAL, 0.1f, 0, 1},
    {"norm.gamma", 1, {7}, VC_INIT_NORMAL, 1.0f, 0, 1},
    {"codebook", 2, {16, 4}, VC_INIT_NORMAL, 0.5f, 0, 1},
};
enum { N_TABLE = sizeof table / sizeof table[0] };

/* Saves p's values under p's table but with row `skip` dropped, an `extra` tensor, row
 * `reshape` given another shape, or NaN in row `nan_row`; meta as given. */
static vc_status save_variant(const char *path, const vc_params *p, int skip, int extra,
                              int reshape, int nan_row, const char *const *meta, int n_meta) {
    st_tensor_out t[N_TABLE + 1] = {{0}};
    float *nan_copy = NULL;
    int n = 0;
    for (int i = 0; i < p->n; i++) {
        if (i == skip) continue;
        const vc_param_spec *s = &p->spec[i];
        st_tensor_out *o = &t[n++];
        o->name = s->name;
        o->ndim = s->ndim;
        for (int d = 0; d < s->ndim; d++) o->shape[d] = s->shape[d];
        o->data = vcn_params_data(p, i);
        if (i == reshape) { /* same element count, other shape */
            o->ndim = 1;
            o->shape[0] = (int64_t)vcn_param_numel(s);
        }
        if (i == nan_row) {
            nan_copy = malloc(sizeof(float) * vcn_param_numel(s));
            memcpy(nan_copy, o->data, sizeof(float) * vcn_param_numel(s));
            o->data = nan_copy;
        }
    }
    if (extra) t[n++] = (st_tensor_out){"stray", 1, {2}, vcn_params_data(p, 0)};
    vc_status st = vci_safetensors_write(path, t, n, meta, n_meta, ST_F16);
    if (nan_copy && st == VC_OK) {
        /* The writer refuses NaN, so poke one into the finished file: first value of the row,
         * F16 quiet NaN 0x7e00. */
        size_t size;
        unsigned char *img = read_bytes(path, &size);
        st_file f;
        if (img && vci_safetensors_parse(img, size, &f) == VC_OK) {
            int j = vci_safetensors_find(&f, p->spec[nan_row].name);
            size_t at = (size_t)(f.data - img) + f.tensors[j].begin;
            vci_safetensors_free(&f);
            img[at] = 0x00;
            img[at + 1] = 0x7e;
            st = write_bytes(path, img, size) ? VC_OK : VC_ERR_IO;
        }
        free(img);
    }
    free(nan_copy);
    return st;
}

/* A parameter file read the way the model loader reads one: parsed, then filled by name. */
static vc_status load_params(const char *path, vc_params *p) {
    st_file f;
    vc_status st = vci_safetensors_load(path, &f);
    if (st == VC_OK) st = vci_params_read(&f, path, p);
    vci_safetensors_free(&f);
    return st;
}

static void test_params(const char *dir, vc_rng *rng, log_capture *lc) {
    char path[1024];
    join(path, sizeof path, dir, "model.safetensors");
    vc_params p, q;
    CHECK(vcn_params_init(&p, table, N_TABLE, 0) == VC_OK);
    CHECK(vcn_params_init(&q, table, N_TABLE, 0) == VC_OK);
    vcn_params_randomize(&p, rng);
    const char *meta[] = {"vconv.sample_rate", "16000", "vconv.train_steps", "10"};
    CHECK(vci_params_save(path, &p, meta, 2, 0) == VC_OK);
    CHECK(load_params(path, &q) == VC_OK);
    for (int i = 0; i < N_TABLE; i++)
        check_tensor(table[i].name, vcn_params_data(&q, i), vcn_params_data(&p, i),
                     vcn_param_numel(&table[i]), 0.0, 0.0); /* F32: exact */
    st_file f;
    CHECK(vci_safetensors_load(path, &f) == VC_OK);
    CHECK(f.n_tensors == N_TABLE && f.n_meta == 3);
    CHECK(!strcmp(vci_safetensors_meta(&f, VC_META_FORMAT_VERSION), VC_FORMAT_VERSION));
    CHECK(!strcmp(vci_safetensors_meta(&f, "vconv.train_steps"), "10"));
    vci_safetensors_free(&f);
    const char *own_version[] = {VC_META_FORMAT_VERSION, "9"};
    CHECK(vci_params_save(path, &p, own_version, 1, 0) == VC_ERR_ARG);

    /* F16 through the in-memory parser. */
    CHECK(vci_params_save(path, &p, NULL, 0, 1) == VC_OK);
    size_t size;
    unsigned char *img = read_bytes(path, &size);
    memset(q.data, 0, q.total * sizeof(float));
    st_file fm;
    CHECK(img && vci_safetensors_parse(img, size, &fm) == VC_OK);
    CHECK(vci_params_read(&fm, "<memory>", &q) == VC_OK);
    vci_safetensors_free(&fm);
    free(img);
    for (int i = 0; i < N_TABLE; i++) /* 2^-11 relative: half precision; 2^-25 absolute: the
                                         spacing of half subnormals, for values near 0 */
        check_tensor(table[i].name, vcn_params_data(&q, i), vcn_params_data(&p, i),
                     vcn_param_numel(&table[i]), ldexp(1.0, -25), ldexp(1.0, -11));

    /* Files that do not fit leave q untouched. */
    float *saved = malloc(q.total * sizeof(float));
    memcpy(saved, q.data, q.total * sizeof(float));
    const char *v1[] = {VC_META_FORMAT_VERSION, VC_FORMAT_VERSION};
    const char *v2[] = {VC_META_FORMAT_VERSION, "2"};
    const char *v0[] = {VC_META_FORMAT_VERSION, "0"};
    const char *vx[] = {VC_META_FORMAT_VERSION, "one"};
    const struct {
        const char *what;
        int skip, extra, reshape, nan_row;
        const char *const *meta;
        vc_status want;
        const char *log;
    } cases[] = {
        {"missing tensor", 2, 0, -1, -1, v1, VC_ERR_SHAPE, "\"norm.gamma\" is missing"},
        {"unknown tensor", -1, 1, -1, -1, v1, VC_ERR_SHAPE, "unknown tensor \"stray\""},
        {"wrong shape", -1, 0, 3, -1, v1, VC_ERR_SHAPE, "shape (64), the model expects (16, 4)"},
        {"NaN value", -1, 0, -1, 1, v1, VC_ERR_FORMAT, "non-finite value at element 0"},
        {"no version", -1, 0, -1, -1, NULL, VC_ERR_VERSION, "HINT: this safetensors file was"},
        {"newer version", -1, 0, -1, -1, v2, VC_ERR_VERSION,
         "HINT: this file was written by a "
         "newer vconv"},
        {"older version", -1, 0, -1, -1, v0, VC_ERR_VERSION,
         "HINT: this file was written by an "
         "older vconv"},
        {"bad version", -1, 0, -1, -1, vx, VC_ERR_VERSION, "HINT: the version is not a number"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        CHECK(save_variant(path, &p, cases[c].skip, cases[c].extra, cases[c].reshape,
                           cases[c].nan_row, cases[c].meta, cases[c].meta ? 1 : 0) == VC_OK);
        capture_reset(lc);
        vc_status st = load_params(path, &q);
        if (st != cases[c].want || !strstr(lc->all, cases[c].log))
            fprintf(stderr, "params case %s: status %d, log:\n%s", cases[c].what, (int)st, lc->all);
        CHECK(st == cases[c].want);
        CHECK(strstr(lc->all, cases[c].log) != NULL);
        CHECK(!memcmp(saved, q.data, q.total * sizeof(float)));
    }
    /* The same well-formed variant loads: the harness itself is sound. */
    CHECK(save_variant(path, &p, -1, 0, -1, -1, v1, 1) == VC_OK);
    CHECK(load_params(path, &q) == VC_OK);
    join(path, sizeof path, dir, "does-not-exist.safetensors");
    CHECK(load_params(path, &q) == VC_ERR_IO);
    free(saved);
    vcn_params_free(&p);
    vcn_params_free(&q);
    join(path, sizeof path, dir, "model.safetensors");
    unlink(path);
}

/* ------------------------------------------------------------ malformed */

static void test_malformed(const char *dir, log_capture *lc) {
    char path[1024];
    join(path, sizeof path, dir, "good.safetensors");
    const float a[4] = {1, 2, 3, 4}, b[3] = {5, 6, 7};
    const st_tensor_out t[] = {{"a", 2, {2, 2}, a}, {"b", 1, {3}, b}};
    const char *meta[] = {"k", "v"};
    CHECK(vci_safetensors_write(path, t, 2, meta, 1, ST_F32) == VC_OK);
    size_t size;
    unsigned char *good = read_bytes(path, &size);
    CHECK(good != NULL);
    if (!good) return;
    st_file f;
    CHECK(vci_safetensors_parse(good, size, &f) == VC_OK);
    vci_safetensors_free(&f);

    /* Header edits: each replaces the first match in the good header. The writer emits
     * "a":{"shape":[2,2],"data_offsets":[0,16],"dtype":"F32"}, "b": ... [16,28]. */
    const struct {
        const char *what, *from, *to;
        vc_status want;
    } edits[] = {
        {"unknown dtype", "\"F32\"", "\"F64\"", VC_ERR_FORMAT},
        {"int dtype", "\"F32\"", "\"I32\"", VC_ERR_FORMAT},
        {"dtype not a string", "\"F32\"", "32", VC_ERR_FORMAT},
        {"missing dtype", ",\"dtype\":\"F32\"", "", VC_ERR_FORMAT},
        {"missing shape", "\"shape\":[2,2],", "", VC_ERR_FORMAT},
        {"missing offsets", "\"data_offsets\":[0,16],", "", VC_ERR_FORMAT},
        {"unknown field", "\"shape\":[2,2],", "\"shape\":[2,2],\"x\":1,", VC_ERR_FORMAT},
        {"repeated field", "\"shape\":[2,2],", "\"shape\":[2,2],\"shape\":[2,2],", VC_ERR_FORMAT},
        {"negative dim", "[2,2]", "[-2,-2]", VC_ERR_FORMAT},
        {"fractional dim", "[2,2]", "[2.5,2]", VC_ERR_FORMAT},
        {"dim not a number", "[2,2]", "[\"2\",2]", VC_ERR_FORMAT},
        {"shape not an array", "[2,2]", "4", VC_ERR_FORMAT},
        {"too many dims", "[2,2]", "[1,1,1,1,1,1,1,2,2]", VC_ERR_FORMAT},
        {"overflowing shape", "[2,2]", "[4294967296,4294967296,4294967296,0]", VC_ERR_FORMAT},
        {"huge dim", "[2,2]", "[1e300,0]", VC_ERR_FORMAT},
        {"shape/size mismatch", "[2,2]", "[2,3]", VC_ERR_FORMAT},
        {"offsets past the end", "[16,28]", "[16,1000000000016]", VC_ERR_FORMAT},
        {"offsets begin > end", "[0,16]", "[16,0]", VC_ERR_FORMAT},
        {"offsets not a pair", "[0,16]", "[0,16,32]", VC_ERR_FORMAT},
        {"negative offset", "[0,16]", "[-16,0]", VC_ERR_FORMAT},
        {"overlapping", "[16,28]", "[12,24]", VC_ERR_FORMAT},
        {"duplicate name", "\"b\":", "\"a\":", VC_ERR_FORMAT},
        {"empty name", "\"b\":", "\"\":", VC_ERR_FORMAT},
        {"tensor not an object", "\"b\":{", "\"b\":3,\"c\":{", VC_ERR_FORMAT},
        {"metadata value not a string", "\"v\"", "1", VC_ERR_FORMAT},
        {"metadata not an object", "{\"k\":\"v\"}", "[\"v\"]", VC_ERR_FORMAT},
        {"duplicate metadata key", "\"k\":\"v\"", "\"k\":\"v\",\"k\":\"w\"", VC_ERR_FORMAT},
        {"duplicate metadata", "{\"__metadata__\"", "{\"__metadata__\":{},\"__metadata__\"",
         VC_ERR_FORMAT},
        {"garbage JSON", "\"a\":{", "\"a\":{{", VC_ERR_FORMAT},
        {"unterminated JSON", "}}", "}", VC_ERR_FORMAT},
        {"text after the object", "}}", "}} x", VC_ERR_FORMAT},
        {"not an object", "{\"__metadata__\"", "[{\"__metadata__\"", VC_ERR_FORMAT},
        {"invalid UTF-8", "\"k\"", "\"\xc3\x28\"", VC_ERR_FORMAT},
        {"NUL in header", "\"k\"", "\"k\"\x01", VC_ERR_FORMAT}, /* \x01 then patched to 0 */
        {"whitespace padding is fine", "}}", "}}   \n", VC_OK},
    };
    for (size_t c = 0; c < sizeof edits / sizeof edits[0]; c++) {
        size_t n;
        unsigned char *img = edit_header(good, size, edits[c].from, edits[c].to, &n);
        CHECK(img != NULL);
        if (!img) {
            fprintf(stderr, "edit %s: \"%s\" not in the header\n", edits[c].what, edits[c].from);
            continue;
        }
        if (!strcmp(edits[c].what, "NUL in header")) {
            unsigned char *p = memchr(img + 8, 0x01, n - 8);
            *p = 0;
        }
        capture_reset(lc);
        vc_status st = vci_safetensors_parse(img, n, &f);
        if (st != edits[c].want)
            fprintf(stderr, "edit %s: status %d, want %d (%s)\n", edits[c].what, (int)st,
                    (int)edits[c].want, lc->last);
        CHECK(st == edits[c].want);
        CHECK(st == VC_OK || lc->count > 0); /* every rejection says why */
        CHECK(st == VC_OK || (f.tensors == NULL && f.json == NULL && f.n_tensors == 0));
        vci_safetensors_free(&f);
        free(img);
    }

    /* Byte-level damage to the good image. */
    unsigned char *img = malloc(size + 16);
    memcpy(img, good, size);
    CHECK(vci_safetensors_parse(img, 0, &f) == VC_ERR_FORMAT);
    CHECK(vci_safetensors_parse(img, 5, &f) == VC_ERR_FORMAT); /* shorter than 8 */
    CHECK(vci_safetensors_parse(img, 8, &f) == VC_ERR_FORMAT); /* no header text */
    for (size_t cut = 9; cut < size; cut += 7)
        CHECK(vci_safetensors_parse(img, cut, &f) == VC_ERR_FORMAT); /* truncated anywhere */
    CHECK(vci_safetensors_parse(img, size - 1, &f) == VC_ERR_FORMAT);
    memset(img + size, 0, 4);
    CHECK(vci_safetensors_parse(img, size + 4, &f) == VC_ERR_FORMAT); /* trailing bytes */
    put_le64(img, 0);
    CHECK(vci_safetensors_parse(img, size, &f) == VC_ERR_FORMAT); /* header length 0 */
    put_le64(img, size - 7);
    CHECK(vci_safetensors_parse(img, size, &f) == VC_ERR_FORMAT); /* longer than the file */
    put_le64(img, (uint64_t)1 << 40);
    CHECK(vci_safetensors_parse(img, size, &f) == VC_ERR_FORMAT); /* absurd */
    put_le64(img, UINT64_MAX);
    CHECK(vci_safetensors_parse(img, size, &f) == VC_ERR_FORMAT);
    memcpy(img, good, size);
    CHECK(vci_safetensors_parse(NULL, size, &f) == VC_ERR_ARG);
    CHECK(vci_safetensors_parse(img, size, NULL) == VC_ERR_ARG);

    /* Non-finite values parse (the header is fine) but are refused on read. */
    CHECK(vci_safetensors_parse(img, size, &f) == VC_OK);
    size_t at = (size_t)(f.data - img) + f.tensors[vci_safetensors_find(&f, "b")].begin;
    vci_safetensors_free(&f);
    float v[4];
    const uint32_t bad32[] = {0x7fc00000u, 0x7f800000u, 0xff800000u, 0x7f800001u};
    for (int k = 0; k < 4; k++) {
        memcpy(img, good, size);
        put_le64(img + at + 4, bad32[k]);       /* element 1 of "b" (and 4 more zero bytes) */
        memcpy(img + at + 8, good + at + 8, 4); /* restore element 2 */
        CHECK(vci_safetensors_parse(img, size, &f) == VC_OK);
        capture_reset(lc);
        CHECK(vci_safetensors_read_f32(&f, vci_safetensors_find(&f, "b"), v, 3) == VC_ERR_FORMAT);
        CHECK(strstr(lc->last, "\"b\"") && strstr(lc->last, "element 1"));
        vci_safetensors_free(&f);
    }
    free(img);
    free(good);

    /* inf and NaN in F16. */
    const float h[4] = {1, 2, 3, 4};
    const st_tensor_out th = {"h16", 1, {4}, h};
    CHECK(vci_safetensors_write(path, &th, 1, NULL, 0, ST_F16) == VC_OK);
    good = read_bytes(path, &size);
    const uint16_t bad16[] = {0x7c00, 0xfc00, 0x7e00, 0x7c01};
    for (int k = 0; k < 4; k++) {
        good[size - 2] = (unsigned char)(bad16[k] & 0xff); /* the last element */
        good[size - 1] = (unsigned char)(bad16[k] >> 8);
        CHECK(vci_safetensors_parse(good, size, &f) == VC_OK);
        capture_reset(lc);
        CHECK(vci_safetensors_read_f32(&f, 0, v, 4) == VC_ERR_FORMAT);
        CHECK(strstr(lc->last, "\"h16\"") && strstr(lc->last, "element 3"));
        vci_safetensors_free(&f);
    }
    free(good);

    /* Hand-written headers. */
    static const struct {
        const char *json;
        size_t data_len;
        vc_status want;
    } raw[] = {
        {"{}", 0, VC_OK},
        {"{}       ", 0, VC_OK},
        {" {}", 0, VC_ERR_FORMAT}, /* must start with '{', as in the reference reader */
        {"{", 0, VC_ERR_FORMAT},
        {"null", 0, VC_ERR_FORMAT},
        {"{}", 4, VC_ERR_FORMAT}, /* data nobody claims */
        {"{\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4, VC_OK},
        {"{\"z\":{\"dtype\":\"F16\",\"shape\":[0,7],\"data_offsets\":[0,0]}}", 0, VC_OK},
        {"{\"z\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]},"
         "\"y\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]}}",
         2, VC_ERR_FORMAT}, /* two tensors on the same bytes */
        {"{\"g\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8,
         VC_ERR_FORMAT}, /* a gap before the first tensor */
        {"{\"s\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.0000001]}}", 4,
         VC_ERR_FORMAT},
        {"{\"\\u00e9\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, VC_OK},
    };
    const unsigned char zeros[8] = {0};
    for (size_t c = 0; c < sizeof raw / sizeof raw[0]; c++) {
        size_t n;
        unsigned char *im = make_image(raw[c].json, zeros, raw[c].data_len, &n);
        vc_status st = vci_safetensors_parse(im, n, &f);
        if (st != raw[c].want)
            fprintf(stderr, "header %s: status %d, want %d\n", raw[c].json, (int)st,
                    (int)raw[c].want);
        CHECK(st == raw[c].want);
        for (int i = 0; st == VC_OK && i < f.n_tensors; i++)
            CHECK(vci_safetensors_read_f32(&f, i, v, f.tensors[i].numel) == VC_OK);
        vci_safetensors_free(&f);
        free(im);
    }

    /* The path reader: missing, a folder, too short. */
    char p2[1100];
    join(p2, sizeof p2, dir, "nope.safetensors");
    CHECK(vci_safetensors_load(p2, &f) == VC_ERR_IO);
    CHECK(vci_safetensors_load(dir, &f) == VC_ERR_IO);
    CHECK(write_bytes(p2, "abc", 3));
    CHECK(vci_safetensors_load(p2, &f) == VC_ERR_FORMAT);
    CHECK(write_bytes(p2, "", 0));
    CHECK(vci_safetensors_load(p2, &f) == VC_ERR_FORMAT);
    CHECK(vci_safetensors_load(NULL, &f) == VC_ERR_ARG);
    unlink(p2);
    CHECK(mkfifo(p2, 0600) == 0 && vci_safetensors_load(p2, &f) == VC_ERR_IO); /* no hang */
    unlink(p2);
    unlink(path);
}

/* ------------------------------------------------------------ mutations */

static void test_mutations(const char *dir, vc_rng *rng) {
    char path[1024];
    join(path, sizeof path, dir, "fuzz.safetensors");
    vc_params p;
    CHECK(vcn_params_init(&p, table, N_TABLE, 0) == VC_OK);
    vcn_params_randomize(&p, rng);
    const char *meta[] = {"vconv.n_mels", "80"};
    CHECK(vci_params_save(path, &p, meta, 1, 1) == VC_OK);
    size_t size;
    unsigned char *good = read_bytes(path, &size);
    CHECK(good != NULL);
    if (!good) return;
    unsigned char *img = malloc(size);
    float *buf = malloc(sizeof(float) * size); /* numel <= bytes / 2 for any tensor in it */
    static const char tokens[] = "{}[]\",:0123456789-.e ";
    int outcomes[4] = {0}, odd = 0;
    enum { ITERS = 4000 }; /* a few seconds under ASan */
    for (int it = 0; it < ITERS; it++) {
        memcpy(img, good, size);
        size_t n = size;
        int ops = 1 + (int)(vcu_rng_u32(rng) % 4);
        for (int o = 0; o < ops; o++) {
            uint32_t r = vcu_rng_u32(rng), kind = r % 8;
            size_t pos = (size_t)(vcu_rng_u32(rng) % n);
            if (kind == 0) {
                n = pos > 0 ? pos : 1; /* truncate */
            } else if (kind <= 2 && pos < 8) {
                img[pos] = (unsigned char)vcu_rng_u32(rng); /* header length byte */
            } else if (kind <= 4) {
                img[pos] ^= (unsigned char)(1u << (vcu_rng_u32(rng) % 8)); /* bit flip */
            } else if (kind <= 6) {
                img[pos] = (unsigned char)tokens[vcu_rng_u32(rng) % (sizeof tokens - 1)];
            } else {
                img[pos] = (unsigned char)vcu_rng_u32(rng);
            }
        }
        st_file f;
        vc_status st = vci_safetensors_parse(img, n, &f);
        if (st == VC_OK) {
            outcomes[0]++;
            for (int i = 0; i < f.n_tensors; i++) {
                vc_status rs = f.tensors[i].numel <= size
                                   ? vci_safetensors_read_f32(&f, i, buf, f.tensors[i].numel)
                                   : VC_ERR_SHAPE;
                if (rs != VC_OK && rs != VC_ERR_FORMAT) odd++;
            }
        } else if (st == VC_ERR_FORMAT) {
            outcomes[1]++;
        } else {
            odd++;
        }
        if (st == VC_OK) st = vci_params_read(&f, "<memory>", &p);
        vci_safetensors_free(&f);
        if (st == VC_ERR_VERSION || st == VC_ERR_SHAPE) outcomes[2]++;
        if (st == VC_OK) outcomes[3]++;
        if (st != VC_OK && st != VC_ERR_FORMAT && st != VC_ERR_VERSION && st != VC_ERR_SHAPE) odd++;
    }
    fprintf(stderr,
            "mutations: %d inputs, %d parsed, %d rejected as corrupt; as a model: %d loaded, "
            "%d version/shape mismatches\n",
            ITERS, outcomes[0], outcomes[1], outcomes[3], outcomes[2]);
    CHECK(odd == 0);
    CHECK(outcomes[0] > 0 && outcomes[1] > 0); /* the mutations reach both paths */
    free(buf);
    free(img);
    free(good);
    vcn_params_free(&p);
    unlink(path);
}

/* ------------------------------------------------ independent reader */

static void test_python(const char *dir) {
    if (system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
        fprintf(stderr, "note: /usr/bin/python3 with numpy not found; skipping the independent "
                        "reader check\n");
        return;
    }
    /* Values start + step * k: exact in F32 and F16, half subnormals in "sub". */
    const struct {
        const char *name;
        int ndim;
        int64_t shape[3];
        double start, step;
    } spec[] = {
        {"enc.w", 3, {2, 3, 4}, -3.0, 0.25},
        {"bias", 1, {5}, 100.0, -8.0},
        {"sub", 2, {2, 4}, 0.0, 5.9604644775390625e-08 /* 2^-24 */},
    };
    float vals[3][24];
    st_tensor_out t[3];
    char args[2048] = "";
    for (int i = 0; i < 3; i++) {
        size_t n = 1, len = strlen(args);
        for (int d = 0; d < spec[i].ndim; d++) n *= (size_t)spec[i].shape[d];
        for (size_t k = 0; k < n; k++) vals[i][k] = (float)(spec[i].start + spec[i].step * k);
        t[i] = (st_tensor_out){spec[i].name, spec[i].ndim, {0}, vals[i]};
        memcpy(t[i].shape, spec[i].shape, sizeof spec[i].shape);
        snprintf(args + len, sizeof args - len, " --expect %s %lld", spec[i].name,
                 (long long)spec[i].shape[0]);
        for (int d = 1; d < spec[i].ndim; d++) {
            len = strlen(args);
            snprintf(args + len, sizeof args - len, "x%lld", (long long)spec[i].shape[d]);
        }
        len = strlen(args);
        snprintf(args + len, sizeof args - len, " %.17g %.17g", spec[i].start, spec[i].step);
    }
    const char *meta[] = {"vconv.format_version", "1", "note", "checked by numpy"};
    for (int f16 = 0; f16 < 2; f16++) {
        char path[1024], cmd[4096];
        join(path, sizeof path, dir, f16 ? "py16.safetensors" : "py32.safetensors");
        CHECK(vci_safetensors_write(path, t, 3, meta, 2, f16 ? ST_F16 : ST_F32) == VC_OK);
        snprintf(cmd, sizeof cmd,
                 "/usr/bin/python3 '%s/../check_safetensors.py' '%s' --dtype %s "
                 "--meta vconv.format_version 1 --meta note 'checked by numpy'%s",
                 VC_TEST_DATA_DIR, path, f16 ? "F16" : "F32", args);
        int rc = system(cmd);
        if (rc != 0) fprintf(stderr, "failed: %s\n", cmd);
        CHECK(rc == 0);
        unlink(path);
    }

    /* The other way round: a file numpy wrote, mixed dtypes, header order unlike data order. */
    char path[1024], cmd[2048];
    join(path, sizeof path, dir, "numpy.safetensors");
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/../check_safetensors.py' --write '%s'",
             VC_TEST_DATA_DIR, path);
    CHECK(system(cmd) == 0);
    st_file f;
    CHECK(vci_safetensors_load(path, &f) == VC_OK);
    int i32 = vci_safetensors_find(&f, "w32"), i16 = vci_safetensors_find(&f, "w16");
    CHECK(i32 >= 0 && i16 >= 0 && f.n_tensors == 2);
    CHECK(vci_safetensors_meta(&f, "who") && !strcmp(vci_safetensors_meta(&f, "who"), "numpy"));
    float w32[6], w16[4];
    const float want32[6] = {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f};
    const float want16[4] = {1.0f, -2.0f, 5.9604644775390625e-08f /* 2^-24 */, 65504.0f};
    CHECK(i32 >= 0 && vci_safetensors_read_f32(&f, i32, w32, 6) == VC_OK);
    CHECK(i16 >= 0 && vci_safetensors_read_f32(&f, i16, w16, 4) == VC_OK);
    check_tensor("numpy w32", w32, want32, 6, 0.0, 0.0); /* exact: values chosen exact */
    check_tensor("numpy w16", w16, want16, 4, 0.0, 0.0);
    vci_safetensors_free(&f);
    unlink(path);
}

int main(void) {
    vc_rng rng;
    vcu_rng_seed(&rng, test_seed(1));
    log_capture lc = {{0}, {0}, 0};
    vc_log_set(capture_log, &lc);
    char dir[] = "/tmp/vc_test_safetensors_XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    fprintf(stderr, "temp folder %s\n", dir);
    test_half(&rng);
    test_roundtrip(dir, &rng, &lc);
    test_params(dir, &rng, &lc);
    test_malformed(dir, &lc);
    test_mutations(dir, &rng);
    test_python(dir);
    CHECK(count_matching(dir, "") == 0); /* every case cleaned up after itself */
    remove_tree(dir);
    vc_log_set(NULL, NULL);
    return test_finish();
}
