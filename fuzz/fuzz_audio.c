/* libFuzzer target for the audio loader: any bytes through vca_load_memory (the decoder
 * vc_audio_load uses). Must never crash, leak or trip a sanitizer. Inputs
 * of odd length go through the two-read path (check, then store) that long files take, with
 * the silence floor of vc_audio_load_audible and at the file's rate (no resampling, so the
 * scale bound is exact); even ones through the single read and the resampler. */
#include "audio/audio.h"

#include <math.h>
#include <stdint.h>

#include "quiet_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vc_log_set(quiet_log, NULL);
    vc_audio a = {0};
    vc_audio_info info;
    /* libFuzzer may pass data == NULL for the empty input; the loader must reject that. */
    vca_load_opts opts = vca_load_default_opts();
    if (size & 1) {
        opts.two_pass_frames = 0;
        opts.min_active_dbfs = VC_AUDIO_SILENCE_DBFS;
    }
    const int rate = size & 1 ? 0 : 16000;
    vc_status st =
        vca_load_memory(data ? (const void *)data : (const void *)"", size, rate, &opts, &a, &info);
    if (st == VC_OK) {
        VC_ASSERT(a.samples && a.n_samples > 0 && (rate == 0 || a.sample_rate == rate));
        /* Finite; at the file's rate also within scale: anything beyond VCA_SCALE_LIMIT was
         * scaled down or refused. */
        for (size_t i = 0; i < a.n_samples; i++) {
            VC_ASSERT(isfinite(a.samples[i]));
            VC_ASSERT(rate != 0 || fabsf(a.samples[i]) <= VCA_SCALE_LIMIT);
        }
    } else {
        VC_ASSERT(a.samples == NULL && a.n_samples == 0);
    }
    vc_audio_free(&a);
    return 0;
}
