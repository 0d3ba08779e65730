/* The range coder and adaptive model of range.h. */
#include "codec/range.h"

#include <stdlib.h>
#include <string.h>

#define VCQ_INC 24
#define TOP (1u << 24)

vc_status vcq_model_init(vcq_model *m, int n) {
    memset(m, 0, sizeof *m);
    if (n < 2 || n > VCQ_MAX_SYMBOLS) return VC_ERR_ARG;
    m->freq = malloc(sizeof *m->freq * (size_t)n);
    if (!m->freq) return VC_ERR_NOMEM;
    m->n = n;
    for (int i = 0; i < n; i++) m->freq[i] = 1;
    m->total = (uint32_t)n;
    return VC_OK;
}

vc_status vcq_model_init_counts(vcq_model *m, int n, const uint16_t *counts) {
    memset(m, 0, sizeof *m);
    if (!counts) return VC_ERR_ARG;
    uint32_t total = 0;
    for (int i = 0; i < n && i < VCQ_MAX_SYMBOLS; i++) {
        if (counts[i] < 1) return VC_ERR_ARG;
        total += counts[i];
    }
    if (total > VCQ_MAX_TOTAL) return VC_ERR_ARG;
    vc_status st = vcq_model_init(m, n);
    if (st != VC_OK) return st;
    memcpy(m->freq, counts, sizeof *m->freq * (size_t)n);
    m->total = total;
    return VC_OK;
}

void vcq_model_free(vcq_model *m) {
    free(m->freq);
    memset(m, 0, sizeof *m);
}

static void model_update(vcq_model *m, int sym) {
    m->freq[sym] += VCQ_INC;
    m->total += VCQ_INC;
    if (m->total <= VCQ_MAX_TOTAL) return;
    m->total = 0;
    for (int i = 0; i < m->n; i++) {
        m->freq[i] = (uint16_t)((m->freq[i] + 1) / 2);
        m->total += m->freq[i];
    }
}

static void put_byte(vcq_enc *e, uint8_t b) {
    if (e->len == e->cap) {
        size_t cap = e->cap ? 2 * e->cap : 256;
        uint8_t *nb = realloc(e->buf, cap);
        if (!nb) {
            e->failed = 1;
            return;
        }
        e->buf = nb, e->cap = cap;
    }
    e->buf[e->len++] = b;
}

/* Emits the top byte of low once a carry can no longer reach it (a run of 0xFF bytes waits in
 * cache_size until then). */
static void shift_low(vcq_enc *e) {
    if ((uint32_t)e->low < 0xFF000000u || (e->low >> 32) != 0) {
        uint8_t carry = (uint8_t)(e->low >> 32), b = e->cache;
        do {
            put_byte(e, (uint8_t)(b + carry));
            b = 0xFF;
        } while (--e->cache_size != 0);
        e->cache = (uint8_t)(e->low >> 24);
    }
    e->cache_size++;
    e->low = (e->low & 0x00FFFFFFu) << 8;
}

void vcq_enc_init(vcq_enc *e) {
    memset(e, 0, sizeof *e);
    e->range = 0xFFFFFFFFu;
    e->cache_size = 1;
}

void vcq_enc_put(vcq_enc *e, vcq_model *m, int sym) {
    uint32_t cum = 0;
    for (int i = 0; i < sym; i++) cum += m->freq[i];
    uint32_t r = e->range / m->total;
    e->low += (uint64_t)r * cum;
    e->range = r * m->freq[sym];
    while (e->range < TOP) {
        e->range <<= 8;
        shift_low(e);
    }
    model_update(m, sym);
}

vc_status vcq_enc_finish(vcq_enc *e) {
    for (int i = 0; i < 5; i++) shift_low(e);
    return e->failed ? VC_ERR_NOMEM : VC_OK;
}

/* Past the end the decoder reads zeros and notes the overrun: a truncated stream decodes to
 * something bounded, and the caller refuses it. */
static uint8_t next_byte(vcq_dec *d) {
    if (d->pos < d->len) return d->buf[d->pos++];
    d->overrun = 1;
    return 0;
}

void vcq_dec_init(vcq_dec *d, const uint8_t *buf, size_t len) {
    memset(d, 0, sizeof *d);
    d->buf = buf, d->len = len;
    d->range = 0xFFFFFFFFu;
    for (int i = 0; i < 5; i++) d->code = (d->code << 8) | next_byte(d);
}

int vcq_dec_get(vcq_dec *d, vcq_model *m) {
    uint32_t r = d->range / m->total, v = d->code / r;
    if (v >= m->total) v = m->total - 1; /* only a corrupt stream gets here */
    int sym = 0;
    uint32_t cum = 0;
    while (cum + m->freq[sym] <= v) cum += m->freq[sym++];
    d->code -= r * cum;
    d->range = r * m->freq[sym];
    while (d->range < TOP) {
        d->code = (d->code << 8) | next_byte(d);
        d->range <<= 8;
    }
    model_update(m, sym);
    return sym;
}
