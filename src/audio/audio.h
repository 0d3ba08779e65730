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

/* vc_audio_load on a file image in memory: same decoder and same checks, log lines name the
 * input "<memory>". Used by the fuzzer and the tests. */
VC_WARN_UNUSED vc_status audio_load_memory(const void *data, size_t size, int sample_rate,
                                           vc_audio *out, vc_audio_info *info);

#endif
