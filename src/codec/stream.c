/* The .vcq bitstream: fixed little-endian header, the speaker embedding, two range-coded
 * sections (content codes; F0 and voicing), a CRC-32. Layout in docs/codec.md. */
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

static void put_u16(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
}
static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get_u16(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}
static uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get_u64(const uint8_t *p) {
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
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

/* Range-codes the codes (one adaptive model over the codebook) or the pitch track into *e. */
static vc_status code_section(const vcq_stream *s, int pitch, vcq_enc *e) {
    vcq_enc_init(e);
    vc_status st;
    if (pitch) {
        pitch_models pm;
        if ((st = pitch_models_init(&pm)) != VC_OK) return st;
        put_pitch(e, &pm, s->f0q, s->n_codes);
        pitch_models_free(&pm);
    } else {
        vcq_model m;
        if ((st = vcq_model_init(&m, s->codebook_size)) != VC_OK) return st;
        for (int i = 0; i < s->n_codes; i++) vcq_enc_put(e, &m, s->codes[i]);
        vcq_model_free(&m);
    }
    st = vcq_enc_finish(e);
    if (st != VC_OK) free(e->buf);
    return st;
}

static int stream_ok(const vcq_stream *s) {
    if (s->n_codes < 1 || s->n_codes > VCQ_MAX_CODES || s->codebook_size < 2 ||
        s->codebook_size > VCQ_MAX_SYMBOLS || s->spk_dim < 1 || s->spk_dim > 65535 ||
        s->sample_rate < 1000 || s->sample_rate > 384000 || !s->codes || !s->f0q || !s->spk ||
        s->span_len < 1 || s->span_begin > s->n_samples ||
        s->span_len > s->n_samples - s->span_begin || !isfinite(s->spk_scale) ||
        !(fabsf(s->level_db) < 300.0f))
        return 0;
    for (int i = 0; i < s->n_codes; i++)
        if (s->codes[i] < 0 || s->codes[i] >= s->codebook_size ||
            (s->f0q[i] != VCQ_UNVOICED && (s->f0q[i] < 0 || s->f0q[i] >= VCQ_F0_LEVELS)))
            return 0;
    return 1;
}

static void put_header(const vcq_stream *s, uint8_t *p) {
    memcpy(p, MAGIC, 4);
    put_u16(p + 4, VCQ_VERSION);
    put_u16(p + 6, 0); /* flags, none yet */
    put_u64(p + 8, s->model_hash);
    put_u32(p + 16, (uint32_t)s->sample_rate);
    put_u32(p + 20, s->n_samples);
    put_u32(p + 24, s->span_begin);
    put_u32(p + 28, s->span_len);
    put_u32(p + 32, (uint32_t)s->n_codes);
    put_u16(p + 36, (uint32_t)s->codebook_size);
    put_u16(p + 38, (uint32_t)s->spk_dim);
    put_u16(p + 40, (uint16_t)(int16_t)lrintf(s->level_db * 100.0f));
    put_u16(p + 42, 0); /* reserved */
    uint32_t scale;
    memcpy(&scale, &s->spk_scale, 4);
    put_u32(p + 44, scale);
}

vc_status vcq_write(const vcq_stream *s, uint8_t **out, size_t *n, vcq_sizes *sizes) {
    if (!s || !out || !n || !stream_ok(s)) return VC_ERR_ARG;
    *out = NULL, *n = 0;
    vcq_enc ec, ep;
    vc_status st = code_section(s, 0, &ec);
    if (st != VC_OK) return st;
    if ((st = code_section(s, 1, &ep)) != VC_OK) {
        free(ec.buf);
        return st;
    }
    size_t S = (size_t)s->spk_dim, total = VCQ_HEADER_BYTES + S + 4 + ec.len + 4 + ep.len + 4;
    uint8_t *b = malloc(total);
    if (b) {
        put_header(s, b);
        uint8_t *p = b + VCQ_HEADER_BYTES;
        memcpy(p, s->spk, S), p += S;
        put_u32(p, (uint32_t)ec.len), memcpy(p + 4, ec.buf, ec.len), p += 4 + ec.len;
        put_u32(p, (uint32_t)ep.len), memcpy(p + 4, ep.buf, ep.len), p += 4 + ep.len;
        put_u32(p, vcq_crc32(b, total - 4));
        *out = b, *n = total;
        if (sizes) {
            vcq_sizes z = {VCQ_HEADER_BYTES + 12, S, ec.len, ep.len, total};
            *sizes = z;
        }
    }
    free(ec.buf);
    free(ep.buf);
    return b ? VC_OK : VC_ERR_NOMEM;
}

static vc_status bad(const char *why) {
    vcu_log(VC_LOG_ERROR, "not a valid .vcq stream: %s", why);
    return VC_ERR_FORMAT;
}

/* The fixed header into s (arrays not yet made). */
static vc_status get_header(const uint8_t *p, size_t n, vcq_stream *s) {
    if (n < VCQ_HEADER_BYTES + 16 || memcmp(p, MAGIC, 4) != 0) return bad("no VCQ header");
    if (get_u16(p + 4) != VCQ_VERSION) {
        vcu_log(VC_LOG_ERROR, ".vcq stream version %u; this vconv reads version %d", get_u16(p + 4),
                VCQ_VERSION);
        return VC_ERR_VERSION;
    }
    if (vcq_crc32(p, n - 4) != get_u32(p + n - 4)) return bad("checksum mismatch (corrupt or cut)");
    s->model_hash = get_u64(p + 8);
    s->sample_rate = (int)get_u32(p + 16);
    s->n_samples = get_u32(p + 20);
    s->span_begin = get_u32(p + 24);
    s->span_len = get_u32(p + 28);
    uint32_t nc = get_u32(p + 32);
    s->n_codes = nc > VCQ_MAX_CODES ? 0 : (int)nc;
    s->codebook_size = (int)get_u16(p + 36);
    s->spk_dim = (int)get_u16(p + 38);
    s->level_db = (float)(int16_t)get_u16(p + 40) / 100.0f;
    uint32_t scale = get_u32(p + 44);
    memcpy(&s->spk_scale, &scale, 4);
    return VC_OK;
}

/* The next section's bytes: a u32 length, then that many bytes within the stream's end. */
static int get_section(const uint8_t *buf, size_t end, size_t *at, const uint8_t **sec,
                       size_t *len) {
    if (end - *at < 4) return 0;
    uint32_t l = get_u32(buf + *at);
    if (l > end - *at - 4) return 0;
    *sec = buf + *at + 4, *len = l;
    *at += 4 + (size_t)l;
    return 1;
}

static vc_status decode_sections(vcq_stream *s, const uint8_t *cb, size_t cn, const uint8_t *pb,
                                 size_t pn) {
    vcq_model m;
    pitch_models pm;
    vc_status st = vcq_model_init(&m, s->codebook_size);
    if (st != VC_OK) return st;
    if ((st = pitch_models_init(&pm)) != VC_OK) {
        vcq_model_free(&m);
        return st;
    }
    vcq_dec dc, dp;
    vcq_dec_init(&dc, cb, cn);
    for (int i = 0; i < s->n_codes; i++) s->codes[i] = vcq_dec_get(&dc, &m);
    vcq_dec_init(&dp, pb, pn);
    get_pitch(&dp, &pm, s->f0q, s->n_codes);
    vcq_model_free(&m);
    pitch_models_free(&pm);
    return dc.overrun || dp.overrun ? bad("coded data ends early") : VC_OK;
}

vc_status vcq_parse(const uint8_t *buf, size_t n, vcq_stream *s) {
    if (!buf || !s) return VC_ERR_ARG;
    memset(s, 0, sizeof *s);
    vc_status st = get_header(buf, n, s);
    if (st != VC_OK) return st;
    if (s->n_codes < 1 || s->codebook_size < 2 || s->codebook_size > VCQ_MAX_SYMBOLS ||
        s->spk_dim < 1 || (size_t)s->spk_dim > n - VCQ_HEADER_BYTES - 16)
        return bad("sizes out of range");
    size_t at = VCQ_HEADER_BYTES + (size_t)s->spk_dim, cn, pn;
    const uint8_t *cb, *pb;
    if (!get_section(buf, n - 4, &at, &cb, &cn) || !get_section(buf, n - 4, &at, &pb, &pn) ||
        at != n - 4)
        return bad("section lengths do not add up");
    s->spk = malloc((size_t)s->spk_dim);
    s->codes = malloc(sizeof *s->codes * (size_t)s->n_codes);
    s->f0q = malloc(sizeof *s->f0q * (size_t)s->n_codes);
    st = s->spk && s->codes && s->f0q ? VC_OK : VC_ERR_NOMEM;
    if (st == VC_OK) {
        memcpy(s->spk, buf + VCQ_HEADER_BYTES, (size_t)s->spk_dim);
        st = decode_sections(s, cb, cn, pb, pn);
    }
    if (st == VC_OK && !stream_ok(s)) st = bad("fields out of range");
    if (st != VC_OK) vcq_stream_free(s);
    return st;
}
