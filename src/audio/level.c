/* Signal level in dBFS: whole-signal RMS and peak, plus an "active" RMS over 20 ms blocks
 * within 40 dB of the loudest block, so leading and trailing silence does not drag it down.
 * The block-by-block accumulator is shared by vc_audio_level and the loader (which measures a
 * file while reading it, before storing anything), so a level means one thing everywhere. */
#include "audio.h"

#include <math.h>
#include <string.h>

#define LEVEL_ACTIVE_RANGE 1e-4 /* 40 dB below the loudest block, as an energy ratio */

/* 10 log10 of a mean square (or 20 log10 of an amplitude via squaring), floored. */
static double power_db(double mean_square) {
    if (!(mean_square > 0.0)) return VC_LEVEL_FLOOR_DB;
    double db = 10.0 * log10(mean_square);
    return db < VC_LEVEL_FLOOR_DB ? VC_LEVEL_FLOOR_DB : db;
}

vc_status vca_level_init(vca_level_acc *a, int sample_rate) {
    memset(a, 0, sizeof *a);
    if (sample_rate <= 0) return VC_ERR_ARG;
    a->block = (size_t)lround(VCA_LEVEL_BLOCK_SECONDS * sample_rate);
    if (a->block == 0) a->block = 1;
    return VC_OK;
}

void vca_level_free(vca_level_acc *a) {
    if (!a) return;
    free(a->block_e);
    free(a->block_peak);
    memset(a, 0, sizeof *a);
}

/* Closes the current block (full, or the short last one). */
static vc_status close_block(vca_level_acc *a) {
    if (a->n_blocks == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 256;
        double *e = realloc(a->block_e, cap * sizeof *e);
        if (!e) return VC_ERR_NOMEM;
        a->block_e = e;
        float *p = realloc(a->block_peak, cap * sizeof *p);
        if (!p) return VC_ERR_NOMEM;
        a->block_peak = p;
        a->cap = cap;
    }
    a->block_e[a->n_blocks] = a->e_cur;
    a->block_peak[a->n_blocks] = a->peak_cur;
    a->n_blocks++;
    a->last_len = a->fill;
    a->e_cur = 0.0;
    a->peak_cur = 0.0f;
    a->fill = 0;
    return VC_OK;
}

vc_status vca_level_push(vca_level_acc *a, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        double v = fabs((double)x[i]);
        a->sum2 += v * v;
        a->e_cur += v * v;
        if (v > a->peak) {
            a->peak = v;
            a->peak_at = a->n;
        }
        if ((float)v > a->peak_cur) a->peak_cur = (float)v;
        a->n++;
        if (++a->fill == a->block) {
            vc_status st = close_block(a);
            if (st != VC_OK) return st;
        }
    }
    return VC_OK;
}

vc_status vca_level_finish(vca_level_acc *a, vc_level *out) {
    if (a->fill > 0) {
        vc_status st = close_block(a);
        if (st != VC_OK) return st;
    }
    vc_level lv = {.rms_dbfs = VC_LEVEL_FLOOR_DB,
                   .peak_dbfs = VC_LEVEL_FLOOR_DB,
                   .active_dbfs = VC_LEVEL_FLOOR_DB,
                   .active_share = 0.0};
    if (a->n == 0 || a->peak == 0.0) {
        *out = lv;
        return VC_OK;
    }
    lv.rms_dbfs = power_db(a->sum2 / (double)a->n);
    lv.peak_dbfs = power_db(a->peak * a->peak);
    /* A short last block counts with its own length. */
    double max_ms = 0.0;
    for (size_t k = 0; k < a->n_blocks; k++) {
        size_t len = k + 1 == a->n_blocks ? a->last_len : a->block;
        double ms = a->block_e[k] / (double)len;
        if (ms > max_ms) max_ms = ms;
    }
    size_t n_active = 0, active_len = 0;
    double active_sum2 = 0.0;
    for (size_t k = 0; k < a->n_blocks; k++) {
        size_t len = k + 1 == a->n_blocks ? a->last_len : a->block;
        double e = a->block_e[k];
        if (e > 0.0 && e / (double)len >= max_ms * LEVEL_ACTIVE_RANGE) {
            n_active++;
            active_len += len;
            active_sum2 += e;
        }
    }
    lv.active_dbfs = active_len ? power_db(active_sum2 / (double)active_len) : VC_LEVEL_FLOOR_DB;
    lv.active_share = (double)n_active / (double)a->n_blocks;
    *out = lv;
    return VC_OK;
}

vc_status vc_audio_level(const float *x, size_t n, int sample_rate, vc_level *out) {
    if (!out || (!x && n > 0) || sample_rate <= 0) {
        vcu_log(VC_LOG_ERROR, "vc_audio_level: %s",
                !out               ? "NULL out"
                : sample_rate <= 0 ? "sample rate <= 0"
                                   : "NULL samples");
        return VC_ERR_ARG;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) {
            vcu_log(VC_LOG_ERROR, "vc_audio_level: non-finite sample at %zu", i);
            return VC_ERR_AUDIO;
        }
    }
    vca_level_acc acc;
    vc_status st = vca_level_init(&acc, sample_rate);
    if (st == VC_OK) st = vca_level_push(&acc, x, n);
    if (st == VC_OK) st = vca_level_finish(&acc, out);
    vca_level_free(&acc);
    if (st == VC_ERR_NOMEM) vcu_log(VC_LOG_ERROR, "vc_audio_level: out of memory");
    return st;
}
