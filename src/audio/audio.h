/* Audio files in and out. audio.c is the only file that includes <sndfile.h>; resampling
 * (soxr) lives in resample.c and loudness in level.c. The public entry points (vc_audio_load,
 * vc_audio_save, vc_audio_resample, vc_audio_level) are declared in vconv.h.
 */
#ifndef VC_AUDIO_AUDIO_H
#define VC_AUDIO_AUDIO_H

#include "common.h"

/* Longest input accepted: 4 hours at the file's rate. Beyond it a file is "absurd" and refused
 * before any allocation. */
#define VC_AUDIO_MAX_SECONDS (4.0 * 3600.0)

/* Highest sample rate and channel count accepted in a file or as an argument; anything beyond
 * is a corrupt or hostile header. */
#define VC_AUDIO_MAX_RATE 768000
#define VC_AUDIO_MAX_CHANNELS 64

/* Lowest sample rate accepted in a file: nothing recorded is slower, and resampling a forged
 * 1 Hz header to the model's rate would make each byte of the file seconds of audio (found by
 * fuzzing: 1 KB became 8 minutes). */
#define VC_AUDIO_MIN_RATE 1000

/* Files whose header declares more frames than this are read twice: once to check them (level,
 * channels, scale) without storing anything, then to store exactly what passed. Shorter files
 * are stored on the first read. 2^24 frames: 64 MB of mono float, 17 min at 16 kHz. */
#define VCA_TWO_PASS_FRAMES (1 << 24)

/* Float samples peaking above this (+20 dBFS) are out of scale: scaled down when the excess is
 * global, refused when it is a burst (docs/robustness.md, "Audio input"). Below it, float
 * headroom (a mix that went over 0 dBFS) is kept as it is. */
#define VCA_SCALE_LIMIT 10.0

/* What a load checks beyond vc_audio_load's defaults. */
typedef struct vca_load_opts {
    double min_active_dbfs; /* refuse at or below this active level; -INFINITY: never */
    size_t two_pass_frames; /* read twice above this many declared frames; VCA_TWO_PASS_FRAMES */
} vca_load_opts;

/* vc_audio_load's options: no level floor, VCA_TWO_PASS_FRAMES. */
vca_load_opts vca_load_default_opts(void);

/* vc_audio_load on a file image in memory: same decoder and same checks, log lines name the
 * input "<memory>". Used by the fuzzer and the tests. vca_load_memory takes the options
 * (NULL: the defaults). */
VC_WARN_UNUSED vc_status vca_audio_load_memory(const void *data, size_t size, int sample_rate,
                                               vc_audio *out, vc_audio_info *info);
VC_WARN_UNUSED vc_status vca_load_memory(const void *data, size_t size, int sample_rate,
                                         const vca_load_opts *opts, vc_audio *out,
                                         vc_audio_info *info);

/* ------------------------------------------------------------------ level (level.c) */

#define VCA_LEVEL_BLOCK_SECONDS 0.020

/* vc_level accumulated block by block (20 ms blocks): push the signal in any pieces, then
 * finish. Keeps each block's energy and peak (12 bytes per 20 ms), nothing of the signal. */
typedef struct vca_level_acc {
    size_t block;      /* samples per block, >= 1 */
    size_t fill;       /* samples in the open block */
    size_t last_len;   /* length of the last closed block */
    double e_cur;      /* energy of the open block */
    float peak_cur;    /* peak of the open block */
    double *block_e;   // (n_blocks) energy of each closed block
    float *block_peak; // (n_blocks) absolute peak of each closed block
    size_t n_blocks, cap;
    double sum2, peak; /* whole signal */
    size_t n, peak_at; /* samples pushed; index of the first peak sample */
} vca_level_acc;

VC_WARN_UNUSED vc_status vca_level_init(vca_level_acc *a, int sample_rate);
/* x (n) must be finite. VC_ERR_NOMEM only. */
VC_WARN_UNUSED vc_status vca_level_push(vca_level_acc *a, const float *x, size_t n);
/* Closes the last block and computes the level; the blocks stay readable until free. */
VC_WARN_UNUSED vc_status vca_level_finish(vca_level_acc *a, vc_level *out);
void vca_level_free(vca_level_acc *a);

#endif
