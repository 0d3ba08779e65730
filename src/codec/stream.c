/* The .vcq bitstream, version 2: a short header (magic, version, flags, model hash, varint
 * fields), three range-coded sections (speaker embedding; content codes; F0 and voicing), a
 * CRC-32. Layout in docs/codec.md. */
#include "codec/stream.h"
#include "codec/range.h"

#include "common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t MAGIC[4] = {'V', 'C', 'Q', 0x1A};

#define DELTA_SYMBOLS 32 /* 0..30: a change of -15..15 steps; 31: escape to an absolute value */
#define DELTA_ESCAPE 31

uint32_t vcq_crc32(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

void vcq_stream_free(vcq_stream *s) {
    free(s->spk);
    free(s->codes);
    free(s->f0q);
    memset(s, 0, sizeof *s);
}

/* ---- little-endian fields ----------------------------------------------------------------- */

static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* LEB128 varints: 7 bits a byte, low first; at most 5 bytes (32 bits). */
static size_t put_varint(uint8_t *p, uint32_t v) {
    size_t k = 0;
    for (; v >= 0x80; v >>= 7) p[k++] = (uint8_t)(v | 0x80);
    p[k++] = (uint8_t)v;
    return k;
}

/* The varint at buf[*at] (before end); 0 when it runs past end or over 32 bits. */
static int get_varint(const uint8_t *buf, size_t end, size_t *at, uint32_t *v) {
    uint64_t x = 0;
    for (int k = 0; k < 5; k++) {
        if (*at >= end) return 0;
        uint8_t b = buf[(*at)++];
        x |= (uint64_t)(b & 0x7F) << (7 * k);
        if (!(b & 0x80)) {
            *v = (uint32_t)x;
            return x <= UINT32_MAX;
        }
    }
    return 0;
}

/* The initial counts of the speaker values' model: a discretised Gaussian of one step per half
 * of the embedding's RMS (the step vc_codec_encode picks), with broader tails; the file's values
 * then adapt it. */
static const uint16_t SPK_COUNTS[VCQ_SPK_LEVELS] = {
    1, 1, 1, 1, 1, 1,  1,  1,   1,   1,   1,   1,   1,   1,   1,  1,  2, 2, 2, 2, 2,
    3, 3, 4, 5, 9, 21, 55, 124, 227, 329, 373, 329, 227, 124, 55, 21, 9, 5, 4, 3, 3,
    2, 2, 2, 2, 2, 1,  1,  1,   1,   1,   1,   1,   1,   1,   1,  1,  1, 1, 1, 1, 1};

double vcq_spk_step(int code) {
    return exp2(code / 8.0 - 16.0);
}

void vcq_prior_counts(const uint32_t *raw, int n, uint16_t *counts) {
    uint64_t total = 0;
    for (int i = 0; i < n; i++) total += raw[i];
    uint64_t spare = VCQ_PRIOR_TOTAL > (uint32_t)n ? VCQ_PRIOR_TOTAL - (uint32_t)n : 0;
    for (int i = 0; i < n; i++)
        counts[i] = (uint16_t)(1 + (total ? (uint64_t)raw[i] * spare / total : 0));
}

/* ---- the coded sections ------------------------------------------------------------------- */

/* The three pitch models: voicing (one per previous voicing), change, absolute value. */
typedef struct pitch_models {
    vcq_model voiced[2], delta, level;
} pitch_models;

static void pitch_models_free(pitch_models *pm) {
    vcq_model_free(&pm->voiced[0]);
    vcq_model_free(&pm->voiced[1]);
    vcq_model_free(&pm->delta);
    vcq_model_free(&pm->level);
}

static vc_status pitch_models_init(pitch_models *pm) {
    memset(pm, 0, sizeof *pm);
    vc_status st = vcq_model_init(&pm->voiced[0], 2);
    if (st == VC_OK) st = vcq_model_init(&pm->voiced[1], 2);
    if (st == VC_OK) st = vcq_model_init(&pm->delta, DELTA_SYMBOLS);
    if (st == VC_OK) st = vcq_model_init(&pm->level, VCQ_F0_LEVELS);
    if (st != VC_OK) pitch_models_free(pm);
    return st;
}

/* Voicing, then for a voiced code the change from the previous voiced one (escaping to the
 * absolute level at the start of a voiced run or for a jump over 15 steps). */
static void put_pitch(vcq_enc *e, pitch_models *pm, const int16_t *q, int n) {
    int prev = VCQ_UNVOICED;
    for (int i = 0; i < n; i++) {
        int v = q[i] != VCQ_UNVOICED;
        vcq_enc_put(e, &pm->voiced[prev != VCQ_UNVOICED], v);
        if (v) {
            int d = prev == VCQ_UNVOICED ? DELTA_ESCAPE : q[i] - prev;
            if (d >= -15 && d <= 15)
                vcq_enc_put(e, &pm->delta, d + 15);
            else {
                vcq_enc_put(e, &pm->delta, DELTA_ESCAPE);
                vcq_enc_put(e, &pm->level, q[i]);
            }
        }
        prev = q[i];
    }
}

static void get_pitch(vcq_dec *d, pitch_models *pm, int16_t *q, int n) {
    int prev = VCQ_UNVOICED;
    for (int i = 0; i < n; i++) {
        int v = vcq_dec_get(d, &pm->voiced[prev != VCQ_UNVOICED]), val = VCQ_UNVOICED;
        if (v) {
            int s = vcq_dec_get(d, &pm->delta);
            val = s == DELTA_ESCAPE || prev == VCQ_UNVOICED ? vcq_dec_get(d, &pm->level)
                                                            : prev + s - 15;
            if (val < 0 || val >= VCQ_F0_LEVELS) d->overrun = 1; /* corrupt: refused */
            if (val < 0 || val >= VCQ_F0_LEVELS) val = 0;
        }
        q[i] = (int16_t)val;
        prev = val;
    }
}

/* The model of the codes: from the prior's counts, or flat. */
static vc_status codes_model_init(vcq_model *m, int n, const uint16_t *prior) {
    return prior ? vcq_model_init_counts(m, n, prior) : vcq_model_init(m, n);
}

/* Range-codes one section into *e: 0 the speaker values, 1 the codes, 2 the pitch track. */
static vc_status code_section(const vcq_stream *s, const uint16_t *prior, int which, vcq_enc *e) {
    vcq_enc_init(e);
    vc_status st;
    if (which == 2) {
        pitch_models pm;
        if ((st = pitch_models_init(&pm)) != VC_OK) return st;
        put_pitch(e, &pm, s->f0q, s->n_codes);
        pitch_models_free(&pm);
    } else if (which == 1) {
        vcq_model m;
        if ((st = codes_model_init(&m, s->codebook_size, prior)) != VC_OK) return st;
        for (int i = 0; i < s->n_codes; i++) vcq_enc_put(e, &m, s->codes[i]);
        vcq_model_free(&m);
    } else {
        vcq_model m;
        if ((st = vcq_model_init_counts(&m, VCQ_SPK_LEVELS, SPK_COUNTS)) != VC_OK) return st;
        for (int k = 0; k < s->spk_dim; k++) vcq_enc_put(e, &m, s->spk[k] + VCQ_SPK_MAX);
        vcq_model_free(&m);
    }
    st = vcq_enc_finish(e);
    if (st != VC_OK) free(e->buf);
    return st;
}

static int stream_ok(const vcq_stream *s) {
    if (s->n_codes < 1 || s->n_codes > VCQ_MAX_CODES || s->codebook_size < 2 ||
        s->codebook_size > VCQ_MAX_SYMBOLS || s->spk_dim < 1 || s->spk_dim > 65535 ||
        s->codes == NULL || !s->f0q || !s->spk || s->span_len < 1 || s->span_begin > s->n_samples ||
        s->span_len > s->n_samples - s->span_begin || s->spk_step < 0 || s->spk_step > 255 ||
        !(fabsf(s->level_db) < 300.0f))
        return 0;
    for (int k = 0; k < s->spk_dim; k++)
        if (s->spk[k] < -VCQ_SPK_MAX || s->spk[k] > VCQ_SPK_MAX) return 0;
    for (int i = 0; i < s->n_codes; i++)
        if (s->codes[i] < 0 || s->codes[i] >= s->codebook_size ||
            (s->f0q[i] != VCQ_UNVOICED && (s->f0q[i] < 0 || s->f0q[i] >= VCQ_F0_LEVELS)))
            return 0;
    return 1;
}

#define VCQ_MAX_HEADER (VCQ_FIXED_BYTES + 10 * 5 + 1) /* every varint at its longest */

/* The header: fixed part, then the varint fields and the speaker step; returns its bytes. */
static size_t put_header(const vcq_stream *s, int flags, size_t spk_len, size_t codes_len,
                         uint8_t *p) {
    memcpy(p, MAGIC, 4);
    p[4] = VCQ_VERSION;
    p[5] = (uint8_t)flags;
    put_u32(p + 6, s->model_hash);
    size_t k = VCQ_FIXED_BYTES;
    int32_t level = (int32_t)lrintf(s->level_db * 100.0f);
    uint32_t fields[] = {s->n_samples,
                         s->span_begin,
                         s->span_len,
                         (uint32_t)s->n_codes,
                         (uint32_t)s->codebook_size,
                         (uint32_t)s->spk_dim,
                         level >= 0 ? 2u * (uint32_t)level : 2u * (uint32_t)(-level) - 1u,
                         (uint32_t)spk_len,
                         (uint32_t)codes_len};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) k += put_varint(p + k, fields[i]);
    p[k++] = (uint8_t)s->spk_step;
    return k;
}

vc_status vcq_write(const vcq_stream *s, const uint16_t *prior, uint8_t **out, size_t *n,
                    vcq_sizes *sizes) {
    if (!s || !out || !n || !stream_ok(s)) return VC_ERR_ARG;
    *out = NULL, *n = 0;
    vcq_enc sec[3];
    vc_status st = VC_OK;
    int made = 0;
    for (; made < 3 && st == VC_OK; made++)
        if ((st = code_section(s, prior, made, &sec[made])) != VC_OK) break;
    uint8_t *b = NULL;
    if (st == VC_OK) {
        uint8_t hdr[VCQ_MAX_HEADER];
        size_t h = put_header(s, prior ? VCQ_FLAG_PRIOR : 0, sec[0].len, sec[1].len, hdr);
        size_t total = h + sec[0].len + sec[1].len + sec[2].len + 4;
        b = malloc(total);
        if (b) {
            memcpy(b, hdr, h);
            uint8_t *p = b + h;
            for (int i = 0; i < 3; i++) memcpy(p, sec[i].buf, sec[i].len), p += sec[i].len;
            put_u32(p, vcq_crc32(b, total - 4));
            *out = b, *n = total;
            if (sizes) {
                vcq_sizes z = {h + 4, sec[0].len, sec[1].len, sec[2].len, total};
                *sizes = z;
            }
        } else
            st = VC_ERR_NOMEM;
    }
    for (int i = 0; i < made; i++) free(sec[i].buf);
    return st;
}

static vc_status bad(const char *why) {
    vcu_log(VC_LOG_ERROR, "not a valid .vcq stream: %s", why);
    return VC_ERR_FORMAT;
}

/* The header into s (arrays not yet made), its flags, the speaker and codes sections' lengths;
 * *at is where the sections begin. */
static vc_status get_header(const uint8_t *p, size_t n, vcq_stream *s, int *flags, size_t *at,
                            uint32_t *spk_len, uint32_t *codes_len) {
    if (n < VCQ_FIXED_BYTES + 4 || memcmp(p, MAGIC, 4) != 0) return bad("no VCQ header");
    if (p[4] != VCQ_VERSION) {
        vcu_log(VC_LOG_ERROR,
                ".vcq stream version %u; this vconv reads version %d (encode the audio again)",
                p[4], VCQ_VERSION);
        return VC_ERR_VERSION;
    }
    if (vcq_crc32(p, n - 4) != get_u32(p + n - 4)) return bad("checksum mismatch (corrupt or cut)");
    *flags = p[5];
    if (*flags & ~VCQ_FLAG_PRIOR) return bad("unknown flags");
    s->flags = *flags;
    s->model_hash = get_u32(p + 6);
    uint32_t f[9];
    *at = VCQ_FIXED_BYTES;
    for (int i = 0; i < 9; i++)
        if (!get_varint(p, n - 4, at, &f[i])) return bad("header fields cut or malformed");
    if (*at >= n - 4) return bad("header fields cut or malformed");
    s->spk_step = p[(*at)++];
    if (f[3] < 1 || f[3] > VCQ_MAX_CODES || f[4] < 2 || f[4] > VCQ_MAX_SYMBOLS || f[5] < 1 ||
        f[5] > 65535 || f[6] >= 60000)
        return bad("sizes out of range");
    s->n_samples = f[0], s->span_begin = f[1], s->span_len = f[2];
    s->n_codes = (int)f[3], s->codebook_size = (int)f[4], s->spk_dim = (int)f[5];
    s->level_db = (f[6] & 1 ? -(float)((f[6] + 1) / 2) : (float)(f[6] / 2)) / 100.0f;
    *spk_len = f[7], *codes_len = f[8];
    return VC_OK;
}

static vc_status decode_sections(vcq_stream *s, const uint16_t *prior, const uint8_t *sec[3],
                                 const size_t len[3]) {
    vcq_model ms, mc;
    pitch_models pm;
    vc_status st = vcq_model_init_counts(&ms, VCQ_SPK_LEVELS, SPK_COUNTS);
    if (st != VC_OK) return st;
    if ((st = codes_model_init(&mc, s->codebook_size, prior)) != VC_OK) {
        vcq_model_free(&ms);
        return st;
    }
    if ((st = pitch_models_init(&pm)) != VC_OK) {
        vcq_model_free(&ms);
        vcq_model_free(&mc);
        return st;
    }
    vcq_dec d[3];
    vcq_dec_init(&d[0], sec[0], len[0]);
    for (int k = 0; k < s->spk_dim; k++)
        s->spk[k] = (int8_t)(vcq_dec_get(&d[0], &ms) - VCQ_SPK_MAX);
    vcq_dec_init(&d[1], sec[1], len[1]);
    for (int i = 0; i < s->n_codes; i++) s->codes[i] = vcq_dec_get(&d[1], &mc);
    vcq_dec_init(&d[2], sec[2], len[2]);
    get_pitch(&d[2], &pm, s->f0q, s->n_codes);
    vcq_model_free(&ms);
    vcq_model_free(&mc);
    pitch_models_free(&pm);
    return d[0].overrun || d[1].overrun || d[2].overrun ? bad("coded data ends early") : VC_OK;
}

vc_status vcq_parse(const uint8_t *buf, size_t n, const uint16_t *prior, int prior_n, vcq_stream *s,
                    vcq_sizes *sizes) {
    if (!buf || !s) return VC_ERR_ARG;
    memset(s, 0, sizeof *s);
    int fl = 0;
    size_t at = 0;
    uint32_t spk_len = 0, codes_len = 0;
    vc_status st = get_header(buf, n, s, &fl, &at, &spk_len, &codes_len);
    if (st != VC_OK) return st;
    size_t end = n - 4;
    if (spk_len > end - at || codes_len > end - at - spk_len)
        return bad("section lengths do not add up");
    if ((fl & VCQ_FLAG_PRIOR) && (!prior || prior_n != s->codebook_size)) {
        vcu_log(VC_LOG_ERROR, "the stream was made with another model: its codes need the code "
                              "prior of the model that encoded it (decode it with that model)");
        return VC_ERR_SHAPE;
    }
    const uint8_t *sec[3] = {buf + at, buf + at + spk_len, buf + at + spk_len + codes_len};
    const size_t len[3] = {spk_len, codes_len, end - at - spk_len - codes_len};
    s->spk = malloc((size_t)s->spk_dim);
    s->codes = malloc(sizeof *s->codes * (size_t)s->n_codes);
    s->f0q = malloc(sizeof *s->f0q * (size_t)s->n_codes);
    st = s->spk && s->codes && s->f0q ? VC_OK : VC_ERR_NOMEM;
    if (st == VC_OK) st = decode_sections(s, fl & VCQ_FLAG_PRIOR ? prior : NULL, sec, len);
    if (st == VC_OK && !stream_ok(s)) st = bad("fields out of range");
    if (st != VC_OK) vcq_stream_free(s);
    if (st == VC_OK && sizes) {
        vcq_sizes z = {n - len[0] - len[1] - len[2], len[0], len[1], len[2], n};
        *sizes = z;
    }
    return st;
}
