/* Signal level in dBFS: whole-signal RMS and peak, plus an "active" RMS over 20 ms blocks
 * within 40 dB of the loudest block, so leading and trailing silence does not drag it down. */
#include "audio.h"

#include <math.h>

#define LEVEL_BLOCK_SECONDS 0.020
#define LEVEL_ACTIVE_RANGE 1e-4 /* 40 dB below the loudest block, as an energy ratio */

/* 10 log10 of a mean square (or 20 log10 of an amplitude via squaring), floored. */
static double power_db(double mean_square) {
    if (!(mean_square > 0.0)) return VC_LEVEL_FLOOR_DB;
    double db = 10.0 * log10(mean_square);
    return db < VC_LEVEL_FLOOR_DB ? VC_LEVEL_FLOOR_DB : db;
}

static double block_energy(const float *x, size_t len) {
    double e = 0.0;
    for (size_t i = 0; i < len; i++) e += (double)x[i] * (double)x[i];
    return e;
}

vc_status vc_audio_level(const float *x, size_t n, int sample_rate, vc_level *out) {
    if (!out || (!x && n > 0) || sample_rate <= 0) {
        vc_log(VC_LOG_ERROR, "vc_audio_level: %s",
               !out               ? "NULL out"
               : sample_rate <= 0 ? "sample rate <= 0"
                                  : "NULL samples");
        return VC_ERR_ARG;
    }
    double sum2 = 0.0, peak = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) {
            vc_log(VC_LOG_ERROR, "vc_audio_level: non-finite sample at %zu", i);
            return VC_ERR_AUDIO;
        }
        double a = fabs((double)x[i]);
        sum2 += a * a;
        if (a > peak) peak = a;
    }
    vc_level lv = {.rms_dbfs = VC_LEVEL_FLOOR_DB,
                   .peak_dbfs = VC_LEVEL_FLOOR_DB,
                   .active_dbfs = VC_LEVEL_FLOOR_DB,
                   .active_share = 0.0};
    if (n == 0 || peak == 0.0) {
        *out = lv;
        return VC_OK;
    }
    lv.rms_dbfs = power_db(sum2 / (double)n);
    lv.peak_dbfs = power_db(peak * peak);

    /* Two passes over the blocks (loudest, then active) instead of storing block energies.
     * A short last block counts with its own length. */
    size_t block = (size_t)lround(LEVEL_BLOCK_SECONDS * sample_rate);
    if (block == 0) block = 1;
    double max_ms = 0.0;
    for (size_t i = 0; i < n; i += block) {
        size_t len = n - i < block ? n - i : block;
        double ms = block_energy(x + i, len) / (double)len;
        if (ms > max_ms) max_ms = ms;
    }
    size_t n_blocks = 0, n_active = 0, active_len = 0;
    double active_sum2 = 0.0;
    for (size_t i = 0; i < n; i += block) {
        size_t len = n - i < block ? n - i : block;
        double e = block_energy(x + i, len);
        n_blocks++;
        if (e > 0.0 && e / (double)len >= max_ms * LEVEL_ACTIVE_RANGE) {
            n_active++;
            active_len += len;
            active_sum2 += e;
        }
    }
    lv.active_dbfs = active_len ? power_db(active_sum2 / (double)active_len) : VC_LEVEL_FLOOR_DB;
    lv.active_share = (double)n_active / (double)n_blocks;
    *out = lv;
    return VC_OK;
}
