/* safetensors reader and writer; the format and every check are documented in safetensors.h.
 * Every input is hostile: sizes are checked before use and without overflow, nothing is read
 * outside the image, and every failure says what was wrong through vcu_log. */
#define _POSIX_C_SOURCE 200809L /* fstat, mkstemp, fsync, fchmod */

#include "io/safetensors.h"
#include "core/atomic_file.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Largest integer a double (cJSON's number type) holds exactly. */
#define ST_MAX_INT 9007199254740992.0

static const char *const dtype_names[] = {"F32", "F16"};
static const size_t dtype_sizes[] = {4, 2};

/* ------------------------------------------------------------- half floats */

uint16_t vci_f32_to_f16(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t exp = (u >> 23) & 0xffu, man = u & 0x7fffffu;
    if (exp == 0xffu) /* inf, or NaN kept quiet with its top payload bits */
        return (uint16_t)(sign | 0x7c00u | (man ? 0x200u | (man >> 13) : 0u));
    int e = (int)exp - 127 + 15; /* biased half exponent */
    if (e >= 0x1f) return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) {
        /* Half subnormal: m * 2^-24 with m = full * 2^(e - 14). Below 2^-25 everything rounds to
         * zero (2^-25 itself is a tie that goes to the even 0). */
        if (e < -10) return sign;
        uint32_t full = man | 0x800000u;
        int shift = 14 - e; /* 14..24 */
        uint32_t m = full >> shift, rem = full & ((1u << shift) - 1u), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (m & 1u))) m++; /* 1024 is the smallest normal: ok */
        return (uint16_t)(sign | m);
    }
    uint32_t h = ((uint32_t)e << 10) | (man >> 13), rem = man & 0x1fffu;
    /* A carry out of the mantissa bumps the exponent, and out of 30 gives inf: both correct. */
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++;
    return (uint16_t)(sign | h);
}

float vci_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, u;
    if (exp == 0x1fu) {
        u = sign | 0x7f800000u | (man << 13);
    } else if (exp == 0) {
        if (man == 0) {
            u = sign;
        } else { /* subnormal: normalise, every half subnormal is a float normal */
            uint32_t e = 113;
            while (!(man & 0x400u)) {
                man <<= 1;
                e--;
            }
            u = sign | (e << 23) | ((man & 0x3ffu) << 13);
        }
    } else {
        u = sign | ((exp + 112) << 23) | (man << 13);
    }
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* ------------------------------------------------------------------ parse */

static uint64_t le64(const unsigned char *b) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | b[i];
    return v;
}

/* Index of the first byte that is not valid UTF-8 (or is NUL), or n. */
static size_t utf8_bad_at(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c == 0) return i;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp, min;
        if ((c & 0xe0u) == 0xc0u) {
            len = 2, cp = c & 0x1fu, min = 0x80;
        } else if ((c & 0xf0u) == 0xe0u) {
            len = 3, cp = c & 0x0fu, min = 0x800;
        } else if ((c & 0xf8u) == 0xf0u) {
            len = 4, cp = c & 0x07u, min = 0x10000;
        } else {
            return i;
        }
        if (n - i < len) return i;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0u) != 0x80u) return i;
            cp = cp << 6 | (s[i + k] & 0x3fu);
        }
        /* Overlong forms, surrogates and code points past Unicode are invalid UTF-8. */
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
        i += len;
    }
    return n;
}

/* A JSON number that is a non-negative integer exact in a double. */
static int json_uint(const cJSON *j, uint64_t *out) {
    if (!cJSON_IsNumber(j)) return 0;
    double d = j->valuedouble;
    if (!(d >= 0.0 && d <= ST_MAX_INT) || d != floor(d)) return 0;
    *out = (uint64_t)d;
    return 1;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first name that appears twice, or NULL. Sorting keeps hostile headers with millions of
 * entries at n log n. names is reordered. */
static const char *find_duplicate(const char **names, size_t n) {
    if (n < 2) return NULL;
    qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 1; i < n; i++)
        if (!strcmp(names[i - 1], names[i])) return names[i];
    return NULL;
}

static int cmp_ranges(const void *a, const void *b) {
    const st_tensor *x = *(const st_tensor *const *)a, *y = *(const st_tensor *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static vc_status parse_metadata(const cJSON *obj, const char *what, st_file *f) {
    if (!cJSON_IsObject(obj)) {
        vcu_log(VC_LOG_ERROR, "%s: __metadata__ is not an object", what);
        return VC_ERR_FORMAT;
    }
    int n = cJSON_GetArraySize(obj);
    if (n == 0) return VC_OK;
    f->meta = calloc((size_t)n, sizeof *f->meta);
    const char **keys = malloc(sizeof *keys * (size_t)n);
    if (!f->meta || !keys) {
        free(keys);
        return VC_ERR_NOMEM;
    }
    for (const cJSON *kv = obj->child; kv; kv = kv->next) {
        if (!cJSON_IsString(kv) || !kv->valuestring) {
            vcu_log(VC_LOG_ERROR, "%s: __metadata__ value of \"%s\" is not a string", what,
                    kv->string);
            free(keys);
            return VC_ERR_FORMAT;
        }
        keys[f->n_meta] = kv->string;
        f->meta[f->n_meta].key = kv->string;
        f->meta[f->n_meta].value = kv->valuestring;
        f->n_meta++;
    }
    const char *dup = find_duplicate(keys, (size_t)f->n_meta);
    if (dup) vcu_log(VC_LOG_ERROR, "%s: __metadata__ key \"%s\" appears twice", what, dup);
    free(keys);
    return dup ? VC_ERR_FORMAT : VC_OK;
}

/* One tensor entry: {"dtype": str, "shape": [int...], "data_offsets": [int, int]}. */
static vc_status parse_tensor(const cJSON *obj, const char *what, st_tensor *t) {
    const char *name = obj->string;
    t->name = name;
    if (name[0] == '\0') {
        vcu_log(VC_LOG_ERROR, "%s: a tensor has an empty name", what);
        return VC_ERR_FORMAT;
    }
    if (!cJSON_IsObject(obj)) {
        vcu_log(VC_LOG_ERROR, "%s: tensor \"%s\" is not an object", what, name);
        return VC_ERR_FORMAT;
    }
    const cJSON *dtype = NULL, *shape = NULL, *offs = NULL;
    for (const cJSON *k = obj->child; k; k = k->next) {
        const cJSON **slot = !strcmp(k->string, "dtype")          ? &dtype
                             : !strcmp(k->string, "shape")        ? &shape
                             : !strcmp(k->string, "data_offsets") ? &offs
                                                                  : NULL;
        if (!slot || *slot) {
            vcu_log(VC_LOG_ERROR, "%s: tensor \"%s\": %s key \"%s\"", what, name,
                    slot ? "duplicate" : "unknown", k->string);
            return VC_ERR_FORMAT;
        }
        *slot = k;
    }
    if (!dtype || !shape || !offs) {
        vcu_log(VC_LOG_ERROR, "%s: tensor \"%s\" lacks \"%s\"", what, name,
                !dtype   ? "dtype"
                : !shape ? "shape"
                         : "data_offsets");
        return VC_ERR_FORMAT;
    }
    if (!cJSON_IsString(dtype) || !dtype->valuestring) {
        vcu_log(VC_LOG_ERROR, "%s: tensor \"%s\": dtype is not a string", what, name);
        return VC_ERR_FORMAT;
    }
    if (!strcmp(dtype->valuestring, "F32")) {
        t->dtype = ST_F32;
    } else if (!strcmp(dtype->valuestring, "F16")) {
        t->dtype = ST_F16;
    } else {
        vcu_log(VC_LOG_ERROR,
                "%s: tensor \"%s\": unsupported dtype \"%.32s\" (vconv reads F32, F16)", what, name,
                dtype->valuestring);
        return VC_ERR_FORMAT;
    }
    int ndim = cJSON_IsArray(shape) ? cJSON_GetArraySize(shape) : -1;
    if (ndim < 0 || ndim > ST_MAX_DIMS) {
        vcu_log(VC_LOG_ERROR, "%s: tensor \"%s\": shape is not an array of at most %d dims", what,
                name, ST_MAX_DIMS);
        return VC_ERR_FORMAT;
    }
    t->ndim = ndim;
    /* The element count, overflow-checked in order as the reference reader does. */
    size_t numel = 1;
    int d = 0;
    for (const cJSON *v = shape->child; v; v = v->next, d++) {
        uint64_t dim;
        if (!json_uint(v, &dim)) {
            vcu_log(VC_LOG_ERROR, "%s: tensor \"%s\": shape[%d] is not a non-negative integer",
                    what, name, d);
            return VC_ERR_FORMAT;
        }
        if (dim > SIZE_MAX || (dim && numel > SIZE_MAX / (size_t)dim)) {
            vcu_log(VC_LOG_ERROR, "%s: tensor \"%s\": shape overflows", what, name);
            return VC_ERR_FORMAT;
        }
        t->shape[d] = (int64_t)dim;
        numel *= (size_t)dim;
    }
    t->numel = numel;
    uint64_t b, e;
    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 || !json_uint(offs->child, &b) ||
        !json_uint(offs->child->next, &e) || b > e) {
        vcu_log(VC_LOG_ERROR,
                "%s: tensor \"%s\": data_offsets is not [begin, end] with integers "
                "0 <= begin <= end",
                what, name);
        return VC_ERR_FORMAT;
    }
    size_t es = dtype_sizes[t->dtype];
    if (numel > SIZE_MAX / es || e - b != (uint64_t)(numel * es)) {
        vcu_log(VC_LOG_ERROR, "%s: tensor \"%s\": %zu %s elements do not fill its %llu bytes", what,
                name, numel, dtype_names[t->dtype], (unsigned long long)(e - b));
        return VC_ERR_FORMAT;
    }
    if (e > SIZE_MAX) {
        vcu_log(VC_LOG_ERROR, "%s: tensor \"%s\": offsets beyond addressable memory", what, name);
        return VC_ERR_FORMAT;
    }
    t->begin = (size_t)b;
    t->end = (size_t)e;
    return VC_OK;
}

/* Tensors must lie in the buffer and tile it exactly (no overlap, gap or trailing bytes). */
static vc_status check_layout(const st_file *f, const char *what) {
    for (int i = 0; i < f->n_tensors; i++) {
        const st_tensor *t = &f->tensors[i];
        if (t->end > f->data_size) {
            vcu_log(VC_LOG_ERROR,
                    "%s: tensor \"%s\": data_offsets [%zu, %zu] past the end of the %zu-byte data "
                    "buffer (file truncated?)",
                    what, t->name, t->begin, t->end, f->data_size);
            return VC_ERR_FORMAT;
        }
    }
    size_t n = (size_t)f->n_tensors;
    const st_tensor **order = malloc(sizeof *order * (n ? n : 1));
    if (!order) return VC_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) order[i] = &f->tensors[i];
    qsort(order, n, sizeof *order, cmp_ranges);
    vc_status st = VC_OK;
    size_t pos = 0;
    for (size_t i = 0; i < n && st == VC_OK; i++) {
        if (order[i]->begin != pos) {
            if (order[i]->begin < pos)
                vcu_log(VC_LOG_ERROR, "%s: tensor \"%s\" overlaps tensor \"%s\"", what,
                        order[i]->name, order[i - 1]->name);
            else
                vcu_log(VC_LOG_ERROR, "%s: gap of %zu bytes before tensor \"%s\"", what,
                        order[i]->begin - pos, order[i]->name);
            st = VC_ERR_FORMAT;
        }
        pos = order[i]->end;
    }
    free(order);
    if (st == VC_OK && pos != f->data_size) {
        vcu_log(VC_LOG_ERROR, "%s: %zu bytes after the last tensor", what, f->data_size - pos);
        st = VC_ERR_FORMAT;
    }
    return st;
}

static vc_status parse_header(const unsigned char *bytes, size_t size, const char *what,
                              st_file *f) {
    if (size < 8) {
        vcu_log(VC_LOG_ERROR, "%s: %zu bytes, too short for safetensors (8-byte header length)",
                what, size);
        return VC_ERR_FORMAT;
    }
    uint64_t n = le64(bytes);
    if (n == 0 || n > ST_MAX_HEADER || n > size - 8) {
        vcu_log(VC_LOG_ERROR, "%s: header length %llu is %s", what, (unsigned long long)n,
                n == 0              ? "zero"
                : n > ST_MAX_HEADER ? "absurd (over 100 MB): not a safetensors file?"
                                    : "larger than the file (truncated?)");
        return VC_ERR_FORMAT;
    }
    const char *hdr = (const char *)bytes + 8;
    size_t bad = utf8_bad_at(bytes + 8, (size_t)n);
    if (bad != n) {
        vcu_log(VC_LOG_ERROR, "%s: header is not UTF-8 text (bad byte 0x%02x at %zu)", what,
                bytes[8 + bad], bad);
        return VC_ERR_FORMAT;
    }
    if (hdr[0] != '{') {
        vcu_log(VC_LOG_ERROR, "%s: header does not start with '{'", what);
        return VC_ERR_FORMAT;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(hdr, (size_t)n, &end, 0);
    if (!root) {
        /* cJSON also fails this way when out of memory; with a header <= 100 MB that is rare
         * enough to report as malformed. */
        vcu_log(VC_LOG_ERROR, "%s: malformed JSON header near byte %td", what,
                end ? end - hdr : (ptrdiff_t)0);
        return VC_ERR_FORMAT;
    }
    f->json = root;
    for (; end < hdr + n; end++) {
        if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r') {
            vcu_log(VC_LOG_ERROR, "%s: text after the JSON header object at byte %td", what,
                    end - hdr);
            return VC_ERR_FORMAT;
        }
    }
    if (!cJSON_IsObject(root)) {
        vcu_log(VC_LOG_ERROR, "%s: header is not a JSON object", what);
        return VC_ERR_FORMAT;
    }
    f->data = bytes + 8 + n;
    f->data_size = size - 8 - (size_t)n;

    int entries = cJSON_GetArraySize(root);
    f->tensors = calloc(entries ? (size_t)entries : 1, sizeof *f->tensors);
    if (!f->tensors) return VC_ERR_NOMEM;
    int seen_meta = 0;
    for (const cJSON *it = root->child; it; it = it->next) {
        vc_status st;
        if (!strcmp(it->string, "__metadata__")) {
            if (seen_meta++) {
                vcu_log(VC_LOG_ERROR, "%s: __metadata__ appears twice", what);
                return VC_ERR_FORMAT;
            }
            st = parse_metadata(it, what, f);
        } else {
            st = parse_tensor(it, what, &f->tensors[f->n_tensors++]);
        }
        if (st != VC_OK) return st;
    }
    const char **names = malloc(sizeof *names * (size_t)(f->n_tensors ? f->n_tensors : 1));
    if (!names) return VC_ERR_NOMEM;
    for (int i = 0; i < f->n_tensors; i++) names[i] = f->tensors[i].name;
    const char *dup = find_duplicate(names, (size_t)f->n_tensors);
    if (dup) vcu_log(VC_LOG_ERROR, "%s: tensor \"%s\" appears twice", what, dup);
    free(names);
    if (dup) return VC_ERR_FORMAT;
    return check_layout(f, what);
}

static vc_status parse_image(const void *data, size_t size, const char *what, st_file *out) {
    if (!out) return VC_ERR_ARG;
    memset(out, 0, sizeof *out);
    if (!data) {
        vcu_log(VC_LOG_ERROR, "vci_safetensors_parse: NULL data");
        return VC_ERR_ARG;
    }
    vc_status st = parse_header(data, size, what, out);
    if (st != VC_OK) vci_safetensors_free(out);
    return st;
}

vc_status vci_safetensors_parse(const void *data, size_t size, st_file *out) {
    return parse_image(data, size, "<memory>", out);
}

vc_status vci_safetensors_load(const char *path, st_file *out) {
    if (!path || !out) {
        vcu_log(VC_LOG_ERROR, "vci_safetensors_load: NULL %s", !path ? "path" : "out");
        if (out) memset(out, 0, sizeof *out);
        return VC_ERR_ARG;
    }
    memset(out, 0, sizeof *out);
    /* O_NONBLOCK: opening a FIFO must not hang; it is refused as not a regular file below. */
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0) {
        vcu_log(VC_LOG_ERROR, "%s: cannot open: %s", path, strerror(errno));
        return VC_ERR_IO;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        vcu_log(VC_LOG_ERROR, "%s: not a regular file", path);
        close(fd);
        return VC_ERR_IO;
    }
    if (sb.st_size < 8 || (uint64_t)sb.st_size > ST_MAX_FILE ||
        (uint64_t)sb.st_size > (uint64_t)SIZE_MAX) {
        vcu_log(VC_LOG_ERROR, "%s: %lld bytes is %s for a model file", path, (long long)sb.st_size,
                sb.st_size < 8 ? "too short" : "too large");
        close(fd);
        return VC_ERR_FORMAT;
    }
    size_t size = (size_t)sb.st_size, got = 0;
    unsigned char *buf = malloc(size);
    if (!buf) {
        close(fd);
        return VC_ERR_NOMEM;
    }
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break; /* error, or the file shrank under us */
        got += (size_t)r;
    }
    close(fd);
    if (got != size) {
        vcu_log(VC_LOG_ERROR, "%s: read %zu of %zu bytes", path, got, size);
        free(buf);
        return VC_ERR_IO;
    }
    vc_status st = parse_image(buf, size, path, out);
    if (st != VC_OK) {
        free(buf);
        return st;
    }
    out->owned = buf;
    return VC_OK;
}

void vci_safetensors_free(st_file *f) {
    if (!f) return;
    free(f->tensors);
    free(f->meta);
    cJSON_Delete(f->json);
    free(f->owned);
    memset(f, 0, sizeof *f);
}

int vci_safetensors_find(const st_file *f, const char *name) {
    if (!f || !name) return -1;
    for (int i = 0; i < f->n_tensors; i++)
        if (!strcmp(f->tensors[i].name, name)) return i;
    return -1;
}

const char *vci_safetensors_meta(const st_file *f, const char *key) {
    if (!f || !key) return NULL;
    for (int i = 0; i < f->n_meta; i++)
        if (!strcmp(f->meta[i].key, key)) return f->meta[i].value;
    return NULL;
}

vc_status vci_safetensors_read_f32(const st_file *f, int i, float *dst, size_t count) {
    if (!f || i < 0 || i >= f->n_tensors || (count && !dst)) return VC_ERR_ARG;
    const st_tensor *t = &f->tensors[i];
    if (count != t->numel) {
        vcu_log(VC_LOG_ERROR, "tensor \"%s\": %zu elements, caller expects %zu", t->name, t->numel,
                count);
        return VC_ERR_SHAPE;
    }
    /* Byte-wise little-endian assembly: any host byte order, any alignment of the buffer. */
    const unsigned char *b = f->data + t->begin;
    for (size_t k = 0; k < count; k++) {
        int finite;
        if (t->dtype == ST_F32) {
            const unsigned char *q = b + 4 * k;
            uint32_t u =
                (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
            finite = (u & 0x7f800000u) != 0x7f800000u;
            memcpy(&dst[k], &u, sizeof u);
        } else {
            uint16_t h = (uint16_t)(b[2 * k] | b[2 * k + 1] << 8);
            finite = (h & 0x7c00u) != 0x7c00u;
            dst[k] = vci_f16_to_f32(h);
        }
        if (!finite) {
            vcu_log(VC_LOG_ERROR, "tensor \"%s\": non-finite value at element %zu", t->name, k);
            return VC_ERR_FORMAT;
        }
    }
    return VC_OK;
}

/* ------------------------------------------------------------------ write */

/* Checks one tensor to write; *numel gets its element count. */
static vc_status check_out_tensor(const st_tensor_out *t, st_dtype dtype, size_t *numel) {
    if (!t->name || !t->name[0] || !strcmp(t->name, "__metadata__") ||
        utf8_bad_at((const unsigned char *)t->name, strlen(t->name)) != strlen(t->name)) {
        vcu_log(VC_LOG_ERROR,
                "vci_safetensors_write: tensor name is NULL, empty, reserved or not UTF-8");
        return VC_ERR_ARG;
    }
    if (t->ndim < 0 || t->ndim > ST_MAX_DIMS) {
        vcu_log(VC_LOG_ERROR, "vci_safetensors_write: tensor \"%s\": %d dims", t->name, t->ndim);
        return VC_ERR_ARG;
    }
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++) {
        int64_t s = t->shape[d];
        if (s < 0 || (double)s > ST_MAX_INT || (uint64_t)s > SIZE_MAX ||
            (s && n > SIZE_MAX / 4 / (size_t)s)) {
            vcu_log(VC_LOG_ERROR, "vci_safetensors_write: tensor \"%s\": bad shape[%d] = %lld",
                    t->name, d, (long long)s);
            return VC_ERR_ARG;
        }
        n *= (size_t)s;
    }
    if (n && !t->data) {
        vcu_log(VC_LOG_ERROR, "vci_safetensors_write: tensor \"%s\": NULL data", t->name);
        return VC_ERR_ARG;
    }
    for (size_t k = 0; k < n; k++) {
        float x = t->data[k];
        /* F16: anything that rounds past 65504 would be stored as inf. */
        if (!isfinite(x) || (dtype == ST_F16 && (vci_f32_to_f16(x) & 0x7c00u) == 0x7c00u)) {
            vcu_log(VC_LOG_ERROR, "vci_safetensors_write: tensor \"%s\": value %g at %zu is %s",
                    t->name, (double)x, k,
                    isfinite(x) ? "out of F16 range (|x| > 65504)" : "not finite");
            return VC_ERR_ARG;
        }
    }
    *numel = n;
    return VC_OK;
}

static cJSON *json_uint_raw(uint64_t v) {
    /* Raw text keeps offsets exact integers; cJSON would print large doubles as 1e+15. */
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    return cJSON_CreateRaw(buf);
}

/* The header JSON for the tensors and metadata; NULL when out of memory. */
static char *build_header(const st_tensor_out *t, const size_t *numel, int n,
                          const char *const *meta_kv, int n_meta, st_dtype dtype) {
    cJSON *root = cJSON_CreateObject();
    int ok = root != NULL;
    if (ok && n_meta > 0) {
        cJSON *meta = cJSON_AddObjectToObject(root, "__metadata__");
        ok = meta != NULL;
        for (int i = 0; ok && i < n_meta; i++)
            ok = cJSON_AddStringToObject(meta, meta_kv[2 * i], meta_kv[2 * i + 1]) != NULL;
    }
    uint64_t pos = 0;
    for (int i = 0; ok && i < n; i++) {
        cJSON *e = cJSON_AddObjectToObject(root, t[i].name);
        cJSON *shape = e ? cJSON_AddArrayToObject(e, "shape") : NULL;
        cJSON *offs = shape ? cJSON_AddArrayToObject(e, "data_offsets") : NULL;
        ok = offs && cJSON_AddStringToObject(e, "dtype", dtype_names[dtype]);
        for (int d = 0; ok && d < t[i].ndim; d++) {
            cJSON *v = json_uint_raw((uint64_t)t[i].shape[d]);
            ok = v && cJSON_AddItemToArray(shape, v);
            if (v && !ok) cJSON_Delete(v);
        }
        uint64_t end = pos + (uint64_t)numel[i] * dtype_sizes[dtype];
        for (int k = 0; ok && k < 2; k++) {
            cJSON *v = json_uint_raw(k ? end : pos);
            ok = v && cJSON_AddItemToArray(offs, v);
            if (v && !ok) cJSON_Delete(v);
        }
        pos = end;
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return text;
}

static int write_all(int fd, const void *buf, size_t n) {
    const unsigned char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return 0;
        p += w;
        n -= (size_t)w;
    }
    return 1;
}

/* Header length, header (space padded) and data, converted in 64 KB chunks. */
static int write_body(int fd, const char *hdr, size_t hdr_len, const st_tensor_out *t,
                      const size_t *numel, int n, st_dtype dtype) {
    enum { CHUNK = 1 << 16 };
    unsigned char *buf = malloc(CHUNK);
    if (!buf) return 0;
    size_t padded = (hdr_len + 7) / 8 * 8, fill = 0;
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    int ok = write_all(fd, buf, 8) && write_all(fd, hdr, hdr_len);
    memset(buf, ' ', padded - hdr_len);
    ok = ok && write_all(fd, buf, padded - hdr_len);
    for (int i = 0; ok && i < n; i++) {
        for (size_t k = 0; ok && k < numel[i]; k++) {
            if (fill + 4 > CHUNK) {
                ok = write_all(fd, buf, fill);
                fill = 0;
            }
            if (dtype == ST_F32) {
                uint32_t u;
                memcpy(&u, &t[i].data[k], sizeof u);
                for (int b = 0; b < 4; b++) buf[fill++] = (unsigned char)(u >> (8 * b));
            } else {
                uint16_t h = vci_f32_to_f16(t[i].data[k]);
                buf[fill++] = (unsigned char)(h & 0xffu);
                buf[fill++] = (unsigned char)(h >> 8);
            }
        }
    }
    ok = ok && write_all(fd, buf, fill);
    free(buf);
    return ok;
}

/* Write the file through a temp file renamed into place (core/atomic_file.h). */
static vc_status write_file(const char *path, const char *hdr, const st_tensor_out *t,
                            const size_t *numel, int n, st_dtype dtype) {
    vc_atomic_file out;
    vc_status st = vcu_atomic_open(&out, path);
    if (st != VC_OK) return st;
    if (!write_body(out.fd, hdr, strlen(hdr), t, numel, n, dtype)) {
        vcu_log(VC_LOG_ERROR, "%s: write failed: %s", path, strerror(errno));
        st = VC_ERR_IO;
    }
    return vcu_atomic_finish(&out, st);
}

vc_status vci_safetensors_write(const char *path, const st_tensor_out *t, int n,
                                const char *const *meta_kv, int n_meta, st_dtype dtype) {
    if (!path || !path[0] || n < 0 || n_meta < 0 || (n > 0 && !t) || (n_meta > 0 && !meta_kv) ||
        (dtype != ST_F32 && dtype != ST_F16)) {
        vcu_log(VC_LOG_ERROR, "vci_safetensors_write: invalid arguments");
        return VC_ERR_ARG;
    }
    for (int i = 0; i < n_meta; i++) {
        const char *k = meta_kv[2 * i], *v = meta_kv[2 * i + 1];
        if (!k || !k[0] || !v || utf8_bad_at((const unsigned char *)k, strlen(k)) != strlen(k) ||
            utf8_bad_at((const unsigned char *)v, strlen(v)) != strlen(v)) {
            vcu_log(VC_LOG_ERROR, "%s: metadata pair %d is NULL, empty or not UTF-8", path, i);
            return VC_ERR_ARG;
        }
        for (int j = 0; j < i; j++)
            if (!strcmp(k, meta_kv[2 * j])) {
                vcu_log(VC_LOG_ERROR, "%s: metadata key \"%s\" given twice", path, k);
                return VC_ERR_ARG;
            }
    }
    size_t *numel = malloc(sizeof *numel * (size_t)(n ? n : 1));
    if (!numel) return VC_ERR_NOMEM;
    vc_status st = VC_OK;
    for (int i = 0; i < n && st == VC_OK; i++) {
        st = check_out_tensor(&t[i], dtype, &numel[i]);
        for (int j = 0; j < i && st == VC_OK; j++)
            if (!strcmp(t[i].name, t[j].name)) {
                vcu_log(VC_LOG_ERROR, "%s: tensor \"%s\" given twice", path, t[i].name);
                st = VC_ERR_ARG;
            }
    }
    char *hdr = NULL;
    if (st == VC_OK) {
        hdr = build_header(t, numel, n, meta_kv, n_meta, dtype);
        if (!hdr) st = VC_ERR_NOMEM;
    }
    if (st == VC_OK && strlen(hdr) > ST_MAX_HEADER - 8) {
        vcu_log(VC_LOG_ERROR, "%s: header of %zu bytes is too large", path, strlen(hdr));
        st = VC_ERR_ARG;
    }
    if (st == VC_OK) st = write_file(path, hdr, t, numel, n, dtype);
    cJSON_free(hdr);
    free(numel);
    return st;
}
