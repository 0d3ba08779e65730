/* libFuzzer target for the audio loader: any bytes through audio_load_memory (the decoder
 * vc_audio_load uses) at a 16 kHz target. Must never crash, leak or trip a sanitizer. */
#include "audio/audio.h"

#include <math.h>
#include <stdint.h>

/* Library log lines for rejected inputs would flood the fuzzer's output. */
static void quiet_log(int level, const char *msg, void *user) {
    (void)level;
    (void)msg;
    (void)user;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vc_log_set(quiet_log, NULL);
    vc_audio a = {0};
    vc_audio_info info;
    /* libFuzzer may pass data == NULL for the empty input; the loader must reject that. */
    vc_status st =
        audio_load_memory(data ? (const void *)data : (const void *)"", size, 16000, &a, &info);
    if (st == VC_OK) {
        VC_ASSERT(a.samples && a.n_samples > 0 && a.sample_rate == 16000);
        for (size_t i = 0; i < a.n_samples; i++) VC_ASSERT(isfinite(a.samples[i]));
    } else {
        VC_ASSERT(a.samples == NULL && a.n_samples == 0);
    }
    vc_audio_free(&a);
    return 0;
}
