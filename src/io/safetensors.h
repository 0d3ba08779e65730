/* safetensors: the model file format (https://github.com/huggingface/safetensors).
 *
 * Layout
 *
 *   offset 0      u64 N, little-endian: length of the JSON header in bytes
 *   offset 8      N bytes of UTF-8 JSON, one object (padded with trailing spaces; vconv pads so
 *                 that 8 + N is a multiple of 8, as the reference writer does)
 *   offset 8 + N  the data buffer: every tensor's bytes, little-endian, row-major, contiguous
 *
 *   {"__metadata__": {"key": "value", ...},            optional; values are strings only
 *    "enc.conv0.w": {"dtype": "F32", "shape": [64, 80, 5], "data_offsets": [0, 102400]},
 *    ...}
 *
 * data_offsets are [begin, end) in bytes relative to the start of the data buffer. The reader
 * accepts dtype "F32" and "F16" (IEEE binary16, converted to float on read).
 *
 * What the reader enforces (any violation is VC_ERR_FORMAT with a log line saying what and
 * where; the file is corrupt or not safetensors):
 *   - the file holds at least 8 bytes; 0 < N <= ST_MAX_HEADER (100 MB) and 8 + N <= file size;
 *   - the header is valid UTF-8 without NUL bytes, starts with '{', is one JSON object with
 *     only whitespace after it;
 *   - each tensor entry is an object with exactly the keys dtype (a known string), shape (an
 *     array of at most ST_MAX_DIMS non-negative integers; [] is a scalar) and data_offsets (two
 *     non-negative integers, begin <= end); integers must be exact in a double (<= 2^53);
 *   - the shape's element count times the dtype size equals end - begin (checked without
 *     overflow; a mismatch inside the file is corruption, hence FORMAT and not SHAPE);
 *   - tensors lie inside the data buffer, do not overlap and, as in the reference reader, tile
 *     it with no gaps and no trailing bytes;
 *   - names are unique, non-empty and not "__metadata__" twice; __metadata__ is an object of
 *     string values with unique keys.
 * VC_ERR_SHAPE is reserved for mismatches against what the caller expects (a wrong count in
 * vci_safetensors_read_f32; a missing, unknown or wrongly shaped tensor in params_file.h).
 * Non-finite values are found by vci_safetensors_read_f32 (VC_ERR_FORMAT naming the tensor), not
 * by the parser, so parsing stays O(header).
 *
 * __metadata__ keys of vconv model files (all values are strings, numbers in decimal):
 *   vconv.format_version   required by vci_params_read; VC_FORMAT_VERSION in params_file.h
 *   vconv.<field>          the model's configuration, one key per field of vcm_config
 *                          (src/model/config.h: sample_rate, n_fft, hop, n_mels, n_bins,
 *                          channels, ..., activation, beta, ema_decay), decimal strings
 *   vconv.norm_mean        log-mel normalisation mean, M comma-separated floats ("%.9g")
 *   vconv.norm_std         log-mel normalisation std, M comma-separated floats
 *   vconv.norm_lin_mean    log-magnitude normalisation mean, F comma-separated floats
 *   vconv.norm_lin_std     log-magnitude normalisation std, F comma-separated floats
 *   Reserved for training provenance (written by vconv train):
 *   vconv.train_corpus     data folders used for training
 *   vconv.train_steps      optimiser steps taken
 *   vconv.train_date       ISO 8601 UTC time the file was written
 *   vconv.train_commit     git commit of the code that trained the model
 *   vconv.version          vconv version string (VC_VERSION_STRING)
 *   Optional, for the codec (docs/codec.md; read by src/codec/codec.c, not by the loader):
 *   vconv.codec_prior      corpus count of each code, codebook size decimal integers,
 *                          comma-separated (vconv encode --learn-prior)
 * The safetensors layer itself requires no key; other keys are kept and ignored.
 */
#ifndef VC_IO_SAFETENSORS_H
#define VC_IO_SAFETENSORS_H

#include "common.h"

#define ST_MAX_HEADER ((uint64_t)100 << 20) /* larger headers are absurd: refused unread */
#define ST_MAX_FILE ((uint64_t)16 << 30)    /* the path reader refuses bigger files */
#define ST_MAX_DIMS 8

typedef enum st_dtype { ST_F32 = 0, ST_F16 = 1 } st_dtype;

typedef struct st_tensor {
    const char *name; /* points into the parsed header, owned by the st_file */
    st_dtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS]; // (ndim)
    size_t numel;
    size_t begin, end; /* byte range in the data buffer */
} st_tensor;

typedef struct st_kv {
    const char *key, *value; /* owned by the st_file */
} st_kv;

/* A parsed file. Tensors are in header order. Ownership: the st_file owns its tables and
 * strings; `data` points into the caller's buffer for vci_safetensors_parse (which must outlive the
 * st_file) and into `owned` (the file image) for vci_safetensors_load. Free with
 * vci_safetensors_free. */
typedef struct st_file {
    int n_tensors;
    st_tensor *tensors; // (n_tensors)
    int n_meta;
    st_kv *meta;               // (n_meta)
    const unsigned char *data; // (data_size) start of the data buffer
    size_t data_size;
    void *json; /* the parsed header (cJSON), owns the strings */
    void *owned;
} st_file;

/* Parse a file image in memory. Only the header is copied; see st_file for ownership. On
 * failure *out is zeroed and nothing needs freeing. */
VC_WARN_UNUSED vc_status vci_safetensors_parse(const void *data, size_t size, st_file *out);
/* Read the whole file at path (regular file, 8 bytes .. ST_MAX_FILE) and parse it. Log lines
 * name the path. VC_ERR_IO if it cannot be opened or read. */
VC_WARN_UNUSED vc_status vci_safetensors_load(const char *path, st_file *out);
void vci_safetensors_free(st_file *f); /* NULL or zeroed: no-op */

/* Index of a tensor by name, or -1. */
int vci_safetensors_find(const st_file *f, const char *name);
/* Value of a __metadata__ key, or NULL. */
const char *vci_safetensors_meta(const st_file *f, const char *key);

/* Copy tensor i out as float (F16 converted exactly). count must equal its element count
 * (VC_ERR_SHAPE otherwise). A non-finite value is VC_ERR_FORMAT naming the tensor and index;
 * dst is then partly written. */
VC_WARN_UNUSED vc_status vci_safetensors_read_f32(const st_file *f, int i, float *dst,
                                                  size_t count);

/* One tensor to write. data holds numel floats (may be NULL when numel is 0). */
typedef struct st_tensor_out {
    const char *name;
    int ndim; /* 0..ST_MAX_DIMS */
    int64_t shape[ST_MAX_DIMS];
    const float *data;
} st_tensor_out;

/* Write n tensors in the given order (header entries and data in that order; the reference
 * writer sorts by dtype and name, but readers accept any order) with n_meta key/value pairs
 * (meta_kv = key0, value0, key1, ...), all stored as dtype. Written to a temp file in the
 * same folder, fsynced and renamed over path: path never holds a partial file.
 * VC_ERR_ARG for NULL or empty names, duplicate names or keys, bad shapes, and for values the
 * file could not hold: non-finite floats, or F16 values beyond +-65504 after rounding (they
 * would become inf and the reader would refuse the file). VC_ERR_IO for write failures. */
VC_WARN_UNUSED vc_status vci_safetensors_write(const char *path, const st_tensor_out *t, int n,
                                               const char *const *meta_kv, int n_meta,
                                               st_dtype dtype);

/* IEEE binary16 <-> binary32 bits. To half: round to nearest, ties to even, overflow to inf,
 * NaN stays NaN (quiet). To float: exact, subnormals, inf and NaN included. */
uint16_t vci_f32_to_f16(float x);
float vci_f16_to_f32(uint16_t h);

#endif
