/* A small byte-wise range coder (the LZMA style: 32-bit range, carry propagated through a cached
 * byte) and an adaptive frequency model over an alphabet of n symbols. Used by the .vcq
 * bitstream (docs/codec.md). Encoder and decoder start from the same counts (flat, or a prior)
 * and update their models alike, so no statistics are stored in the stream. */
#ifndef VC_CODEC_RANGE_H
#define VC_CODEC_RANGE_H

#include "vconv/vconv.h"

#include <stddef.h>
#include <stdint.h>

#define VCQ_MAX_SYMBOLS 4096     /* the largest alphabet a model takes */
#define VCQ_MAX_TOTAL (1u << 16) /* range / total stays >= 2^8: no symbol gets a zero range */

/* Adaptive counts: every symbol starts at 1, a coded one gains VCQ_INC; all are halved (kept
 * >= 1) when the total passes VCQ_MAX_TOTAL, so the model follows the recent statistics. */
typedef struct vcq_model {
    int n;
    uint32_t total;
    uint16_t *freq; // (n)
} vcq_model;

VC_WARN_UNUSED vc_status vcq_model_init(vcq_model *m, int n);
/* The same, starting from counts (n of them, each >= 1, total <= VCQ_MAX_TOTAL; else VC_ERR_ARG):
 * a prior the file's statistics then adapt. */
VC_WARN_UNUSED vc_status vcq_model_init_counts(vcq_model *m, int n, const uint16_t *counts);
void vcq_model_free(vcq_model *m);

typedef struct vcq_enc {
    uint8_t *buf;
    size_t len, cap;
    uint64_t low;
    uint32_t range;
    uint8_t cache;
    size_t cache_size;
    int failed; /* an allocation failed: the stream is incomplete */
} vcq_enc;

void vcq_enc_init(vcq_enc *e);
void vcq_enc_put(vcq_enc *e, vcq_model *m, int sym);
/* Flushes the coder; VC_ERR_NOMEM when a byte could not be stored. e->buf (e->len) is the
 * stream, owned by the caller (free). */
VC_WARN_UNUSED vc_status vcq_enc_finish(vcq_enc *e);

typedef struct vcq_dec {
    const uint8_t *buf;
    size_t len, pos;
    uint32_t range, code;
    int overrun; /* bytes were read past the end: the stream was truncated or corrupt */
} vcq_dec;

void vcq_dec_init(vcq_dec *d, const uint8_t *buf, size_t len);
int vcq_dec_get(vcq_dec *d, vcq_model *m);

#endif
