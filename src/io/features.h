/* Training features and their on-disk cache.
 *
 * Per utterance (vci_features_build):
 *   1. load with vc_audio_load at the front end's rate (downmix, resample);
 *   2. quantise to int16 (round(x * 32767), clipped): this is the stored audio, and every feature
 *      below is computed from it (as q / 32767), so a cached and a fresh utterance agree exactly;
 *   3. trim leading/trailing silence with vcm_trim_span (model/audio_contract.h, the same trim
 *      conversion applies). Unusable (skipped): the loudest 20 ms block below VCM_SILENCE_DBFS
 *      (-60 dBFS RMS), or fewer than n_fft samples left after trimming;
 *   4. log-mel (M, T) channel-major (the transpose of vc_frontend_log_mel's (T, M)), F0 in Hz
 *      (0 unvoiced) and voicing probability (T) by vc_frontend_f0; T = vc_frontend_n_frames(n).
 *
 * Cache: one safetensors file per utterance, CACHE_DIR/<16 hex digits>.safetensors, named by
 * FNV-1a 64 of the audio file's bytes followed by the cache key string (format version, front
 * end rate, n_fft, hop, mels, fmin, fmax, f0 range, trim settings). An edited file or a changed
 * config therefore misses, an unchanged file hits wherever it lives, and the same bytes under
 * two paths share one entry. Tensors, all F32 (vci_safetensors_write writes one dtype per file):
 *   "mel" (M, T), "f0" (T), "voicing" (T), "audio" (n) holding the int16 values exactly as
 *   floats (-32768..32767; F16 cannot hold 16-bit integers exactly).
 * __metadata__: "vconv.cache_key" (the key string; checked on load against hash collisions) and
 * "vconv.trim_start" (decimal samples; version 2 on).
 * About 5 bytes per trimmed sample on disk (4 audio + 80 * 4 / 256 mel). Written atomically. A
 * cache file that fails to parse, has another key, wrong shapes or non-finite values is a miss:
 * recomputed and overwritten, with a warning. A cache folder that cannot be written only warns
 * (features are still returned). cache_dir NULL disables the cache.
 */
#ifndef VC_IO_FEATURES_H
#define VC_IO_FEATURES_H

#include "common.h"
#include "io/corpus.h"

#define VC_FEATURES_VERSION "2"

typedef struct vc_utt_features {
    int utt;        /* index into the corpus */
    int speaker;    /* the corpus speaker index, copied */
    int T;          /* frames */
    float *mel;     // (M, T)
    float *f0;      // (T) Hz, 0 where unvoiced
    float *voicing; // (T) 0..1
    int16_t *audio; // (n_samples) trimmed audio; as float: audio[i] / 32767.0f
    size_t n_samples;
    size_t trim_start; /* samples trimmed from the start: audio[0] is sample trim_start of the
                          file at the front end's rate (where its time-aligned labels begin) */
} vc_utt_features;

typedef struct vc_feature_set {
    int M, hop, sample_rate;
    int n;              /* usable utterances */
    vc_utt_features *u; // (n) in corpus order
} vc_feature_set;

typedef struct vc_feature_stats {
    int hits, misses, skipped;
} vc_feature_stats;

/* Features of every corpus utterance, from the cache or computed (and then cached). threads < 1
 * uses the OpenMP default; results do not depend on it. progress (may be NULL) is called from
 * the calling thread with the fraction done. Unreadable, corrupt, silent or too short files are
 * skipped (count in stats->skipped, the first few named in a warning); none usable ->
 * VC_ERR_AUDIO. stats may be NULL. On failure *out is empty. */
VC_WARN_UNUSED vc_status vci_features_build(const vc_corpus *c, const char *cache_dir,
                                            const vc_frontend_params *p, int threads,
                                            vc_progress_fn progress, void *progress_user,
                                            vc_feature_set *out, vc_feature_stats *stats);
void vci_feature_set_free(vc_feature_set *fs); /* NULL or zeroed: no-op */

/* Features of one audio buffer (trim + mel + F0), as vci_features_build computes them, without
 * the cache. fe's params decide everything. VC_ERR_AUDIO when silent or too short. */
VC_WARN_UNUSED vc_status vci_features_compute(vc_frontend *fe, const float *x, size_t n,
                                              vc_utt_features *out);
void vci_utt_features_free(vc_utt_features *u);

/* Per-band mean and std of the log-mel over all frames of the training utterances (is_val,
 * indexed by corpus utterance, NULL = all are training). Two passes in double; std floored at
 * VC_MEL_STD_FLOOR. VC_ERR_ARG when no training frame exists. */
#define VC_MEL_STD_FLOOR 1e-3f
VC_WARN_UNUSED vc_status vci_features_mel_stats(const vc_feature_set *fs,
                                                const unsigned char *is_val, float *mean /*(M)*/,
                                                float *std /*(M)*/);

/* A start frame drawn uniformly from [0, T_utt - T] for a segment of T frames of utterance
 * index i (into fs->u). An utterance shorter than T is VC_ERR_SHAPE with *start = 0 and no
 * random number drawn (the caller pads or picks another); it never pads silently. */
VC_WARN_UNUSED vc_status vci_features_sample_segment(const vc_feature_set *fs, int i, int T,
                                                     vc_rng *rng, int *start);

#endif
