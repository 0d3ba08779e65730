/* The .vcq bitstream (docs/codec.md): what a stream holds, written and parsed without a model.
 * The parser trusts nothing: every size is bounded and checked against the bytes there are, and a
 * CRC-32 over the whole stream turns any corruption into VC_ERR_FORMAT. */
#ifndef VC_CODEC_STREAM_H
#define VC_CODEC_STREAM_H

#include "vconv/vconv.h"

#include <stddef.h>
#include <stdint.h>

#define VCQ_VERSION 1
#define VCQ_HEADER_BYTES 48     /* fixed part before the speaker embedding */
#define VCQ_MAX_CODES (1 << 22) /* about 18 h at 64 codes/s */
#define VCQ_F0_LEVELS 128       /* quantised log-F0: VCQ_F0_BASE_HZ * 2^(q / VCQ_F0_PER_OCTAVE) */
#define VCQ_F0_BASE_HZ 40.0
#define VCQ_F0_PER_OCTAVE 24.0 /* half-semitone steps */
#define VCQ_UNVOICED (-1)

typedef struct vcq_stream {
    uint64_t model_hash;
    int sample_rate;
    uint32_t n_samples, span_begin, span_len; /* the input at the model's rate; its speech span */
    int n_codes, codebook_size, spk_dim;
    float level_db;  /* the input's active level, dBFS (0.01 dB steps) */
    float spk_scale; /* embedding[k] = spk[k] * spk_scale */
    int8_t *spk;     // (spk_dim)
    int *codes;      // (n_codes) in [0, codebook_size)
    int16_t *f0q;    // (n_codes) in [0, VCQ_F0_LEVELS) or VCQ_UNVOICED
} vcq_stream;

/* Bytes of each part of a written stream. */
typedef struct vcq_sizes {
    size_t header, speaker, codes, pitch, total;
} vcq_sizes;

void vcq_stream_free(vcq_stream *s); /* frees the arrays, zeroes the struct */

/* VC_ERR_ARG for an out-of-range field. *out (malloc'd) holds *n bytes; sizes may be NULL. */
VC_WARN_UNUSED vc_status vcq_write(const vcq_stream *s, uint8_t **out, size_t *n, vcq_sizes *sizes);

/* VC_ERR_FORMAT (bad magic, sizes, CRC, coded data), VC_ERR_VERSION; *s is empty on failure.
 * Logs one line saying what is wrong. */
VC_WARN_UNUSED vc_status vcq_parse(const uint8_t *buf, size_t n, vcq_stream *s);

uint32_t vcq_crc32(const uint8_t *p, size_t n);

#endif
