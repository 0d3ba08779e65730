/* The .vcq bitstream (docs/codec.md): what a stream holds, written and parsed without a model.
 * The parser trusts nothing: every size is bounded and checked against the bytes there are, and a
 * CRC-32 over the whole stream turns any corruption into VC_ERR_FORMAT. */
#ifndef VC_CODEC_STREAM_H
#define VC_CODEC_STREAM_H

#include "vconv/vconv.h"

#include <stddef.h>
#include <stdint.h>

#define VCQ_VERSION 2
#define VCQ_FIXED_BYTES 10      /* magic, version, flags, model hash: before the varint fields */
#define VCQ_MAX_CODES (1 << 22) /* about 18 h at 64 codes/s */
#define VCQ_FLAG_PRIOR 1        /* the codes are coded from the model's code prior */
#define VCQ_SPK_LEVELS 63       /* speaker values: -31..31 steps of 2^(step_code / 8 - 16) */
#define VCQ_SPK_MAX 31
#define VCQ_F0_LEVELS 128 /* quantised log-F0: VCQ_F0_BASE_HZ * 2^(q / VCQ_F0_PER_OCTAVE) */
#define VCQ_F0_BASE_HZ 40.0
#define VCQ_F0_PER_OCTAVE 24.0 /* half-semitone steps */
#define VCQ_UNVOICED (-1)

typedef struct vcq_stream {
    uint32_t model_hash; /* vc_codec_model_hash folded to 32 bits */
    int sample_rate;
    uint32_t n_samples, span_begin, span_len; /* the input at the model's rate; its speech span */
    int n_codes, codebook_size, spk_dim;
    int flags;      /* the parsed stream's (VCQ_FLAG_PRIOR); vcq_write sets its own */
    float level_db; /* the input's active level, dBFS (0.01 dB steps) */
    int spk_step;   /* embedding[k] = spk[k] * vcq_spk_step(spk_step); in [0, 255] */
    int8_t *spk;    // (spk_dim) in [-VCQ_SPK_MAX, VCQ_SPK_MAX]
    int *codes;     // (n_codes) in [0, codebook_size)
    int16_t *f0q;   // (n_codes) in [0, VCQ_F0_LEVELS) or VCQ_UNVOICED
} vcq_stream;

/* Bytes of each part of a written stream. */
typedef struct vcq_sizes {
    size_t header, speaker, codes, pitch, total;
} vcq_sizes;

void vcq_stream_free(vcq_stream *s); /* frees the arrays, zeroes the struct */

/* The speaker quantiser's step for a step code in [0, 255]: 2^(code / 8 - 16). */
double vcq_spk_step(int code);

/* The initial counts of the codes' model from a code prior (raw corpus counts of each of the n
 * codes, any magnitude): scaled to a total near VCQ_PRIOR_TOTAL, every count at least 1. One
 * integer rule, so the encoder and decoder build the same model. */
#define VCQ_PRIOR_TOTAL (1u << 14)
void vcq_prior_counts(const uint32_t *raw, int n, uint16_t *counts);

/* prior: NULL (codes coded adaptively from flat counts) or the codebook_size initial counts of
 * vcq_prior_counts (the stream's VCQ_FLAG_PRIOR is set). VC_ERR_ARG for an out-of-range field.
 * *out (malloc'd) holds *n bytes; sizes may be NULL. */
VC_WARN_UNUSED vc_status vcq_write(const vcq_stream *s, const uint16_t *prior, uint8_t **out,
                                   size_t *n, vcq_sizes *sizes);

/* VC_ERR_FORMAT (bad magic, sizes, CRC, coded data), VC_ERR_VERSION (another version: version 1
 * streams are refused); *s is empty on failure. prior (prior_n counts): as vcq_write, for a
 * stream with VCQ_FLAG_PRIOR (NULL, or prior_n not its codebook size, refuses such a stream:
 * VC_ERR_SHAPE). sizes (may be NULL) gets the bytes of each part. Logs one line saying what is
 * wrong. */
VC_WARN_UNUSED vc_status vcq_parse(const uint8_t *buf, size_t n, const uint16_t *prior, int prior_n,
                                   vcq_stream *s, vcq_sizes *sizes);

uint32_t vcq_crc32(const uint8_t *p, size_t n);

#endif
