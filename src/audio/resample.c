/* Sample-rate conversion of mono float audio with soxr (high quality, single thread so the
 * output is deterministic). */
#include "audio.h"

#include <soxr.h>

#include <stdint.h>
#include <string.h>

vc_status vc_audio_resample(const float *x, size_t n, int in_rate, int out_rate, float **out,
                            size_t *n_out) {
    if (!out || !n_out || (!x && n > 0)) {
        vcu_log(VC_LOG_ERROR, "vc_audio_resample: NULL argument");
        return VC_ERR_ARG;
    }
    if (in_rate <= 0 || in_rate > VC_AUDIO_MAX_RATE || out_rate <= 0 ||
        out_rate > VC_AUDIO_MAX_RATE) {
        vcu_log(VC_LOG_ERROR, "vc_audio_resample: rates %d -> %d Hz out of range (1..%d)", in_rate,
                out_rate, VC_AUDIO_MAX_RATE);
        return VC_ERR_ARG;
    }
    /* n * out_rate must not overflow in the length computation. */
    if ((uint64_t)n > UINT64_MAX / (uint64_t)out_rate / 2) {
        vcu_log(VC_LOG_ERROR, "vc_audio_resample: %zu samples is too long", n);
        return VC_ERR_ARG;
    }
    /* round(n * out / in), in integers so long inputs stay exact. */
    uint64_t len = ((uint64_t)n * (uint64_t)out_rate + (uint64_t)in_rate / 2) / (uint64_t)in_rate;
    if (len > SIZE_MAX / sizeof(float)) {
        vcu_log(VC_LOG_ERROR, "vc_audio_resample: output of %llu samples is too long",
                (unsigned long long)len);
        return VC_ERR_ARG;
    }
    if (len == 0) {
        *out = NULL;
        *n_out = 0;
        return VC_OK;
    }
    float *y = malloc(sizeof(float) * (size_t)len); // (len)
    if (!y) {
        vcu_log(VC_LOG_ERROR, "vc_audio_resample: out of memory for %llu samples",
                (unsigned long long)len);
        return VC_ERR_NOMEM;
    }
    if (in_rate == out_rate) {
        memcpy(y, x, sizeof(float) * n);
    } else {
        soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
        soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
        soxr_runtime_spec_t rt = soxr_runtime_spec(1);
        size_t done = 0;
        soxr_error_t err =
            soxr_oneshot(in_rate, out_rate, 1, x, n, NULL, y, (size_t)len, &done, &io, &q, &rt);
        if (err) {
            vcu_log(VC_LOG_ERROR, "vc_audio_resample: soxr failed: %s", err);
            free(y);
            return VC_ERR_INTERNAL;
        }
        /* soxr flushes its whole tail; a shortfall is at most a sample of rounding. */
        if (done < (size_t)len) memset(y + done, 0, sizeof(float) * ((size_t)len - done));
    }
    *out = y;
    *n_out = (size_t)len;
    return VC_OK;
}
