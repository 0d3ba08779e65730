/* The layouts of the public structs the Python package (python/vconv) declares with ctypes, as
 * this compiler lays them out: "STRUCT size N" and "STRUCT FIELD offset N" lines, which
 * tests/python/test_vconv.py compares with ctypes' own. */
#include "vconv/vconv.h"

#include <stddef.h>
#include <stdio.h>

#define SIZE(s) printf(#s " size %zu\n", sizeof(s))
#define FIELD(s, f) printf(#s " " #f " offset %zu\n", offsetof(s, f))

int main(void) {
    SIZE(vc_audio);
    FIELD(vc_audio, samples);
    FIELD(vc_audio, n_samples);
    FIELD(vc_audio, sample_rate);
    SIZE(vc_voice);
    FIELD(vc_voice, embedding);
    FIELD(vc_voice, dim);
    FIELD(vc_voice, logf0_mean);
    FIELD(vc_voice, logf0_std);
    FIELD(vc_voice, voiced_frames);
    FIELD(vc_voice, seconds);
    FIELD(vc_voice, log_mag_std);
    FIELD(vc_voice, n_bins);
    FIELD(vc_voice, frames);
    FIELD(vc_voice, n_frames);
    SIZE(vc_vocoder_params);
    FIELD(vc_vocoder_params, iters);
    FIELD(vc_vocoder_params, momentum);
    FIELD(vc_vocoder_params, seed);
    FIELD(vc_vocoder_params, progress);
    FIELD(vc_vocoder_params, progress_user);
    SIZE(vc_convert_params);
    FIELD(vc_convert_params, auto_pitch);
    FIELD(vc_convert_params, pitch_shift);
    FIELD(vc_convert_params, harmonic);
    FIELD(vc_convert_params, world_vocoder);
    FIELD(vc_convert_params, match_dynamics);
    FIELD(vc_convert_params, match);
    FIELD(vc_convert_params, match_k);
    FIELD(vc_convert_params, match_space);
    FIELD(vc_convert_params, retrieval);
    FIELD(vc_convert_params, content_blend);
    FIELD(vc_convert_params, match_decoded);
    FIELD(vc_convert_params, vocoder);
    FIELD(vc_convert_params, chunk_seconds);
    FIELD(vc_convert_params, progress);
    FIELD(vc_convert_params, progress_user);
    return 0;
}
