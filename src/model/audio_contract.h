/* The audio contract: everything the model sees of audio and everything it gives back.
 *
 * Training (the feature cache and the batches), conversion, the codebook tool and the HTML
 * report all call this file; none of them rebuilds any part of it. What it owns:
 *
 *   front end   vcm_frontend_params: rate, n_fft, hop, mels, mel range fmin..fmax, F0 range,
 *               all from the model's config (stored in the model file, config.h)
 *   levelling   conversion inputs are brought to VCM_LEVEL_DBFS active level (the corpus's
 *               median) before analysis; training sees its corpus as recorded
 *   trimming    vcm_trim_span: leading and trailing silence, relative to the loudest 20 ms
 *   log floor   VC_LOG_FLOOR (vconv.h): log(max(v, VC_LOG_FLOOR)) for the log-mel (the front
 *               end) and the log-magnitude (vcm_log_magnitude)
 *   mel input   vcm_mel_norm: (log-mel - mel_mean) / mel_std per band, channel-major (M, T)
 *   lin target  vcm_lin_norm and its inverse vcm_lin_denorm, then vcm_magnitude (exp, capped)
 *   pitch       vcm_pitch_features: the decoder's (2, T) speaker-normalised log-F0 + voicing
 *
 * The per-value operations are inline so that training (one frame at a time, from the cache)
 * and conversion (a window at a time) compute the same bits.
 */
#ifndef VC_MODEL_AUDIO_CONTRACT_H
#define VC_MODEL_AUDIO_CONTRACT_H

#include "model/model.h"

#include <math.h>

#define VCM_LEVEL_DBFS (-24.0) /* conversion's working level: the corpus's median active level */
#define VCM_TRIM_DB 40.0       /* a block this far below the loudest is silence */
#define VCM_TRIM_MARGIN_HOPS 2 /* hops kept either side of the loud span */
#define VCM_SILENCE_DBFS VC_AUDIO_SILENCE_DBFS /* loudest 20 ms block below this: no speech */
#define VCM_PITCH_STD_FLOOR 0.01f              /* log-F0 spread floor (a near-monotone voice) */
#define VCM_LOG_MAG_CAP 20.0f /* vcm_magnitude's cap: e^20, far above any real spectrum */

/* The model's front end: every field from its config. */
vc_frontend_params vcm_frontend_params(const vcm_config *c);

/* Levels x (n) in place to VCM_LEVEL_DBFS active level; *level_db (may be NULL) receives its
 * own active level first. VC_ERR_AUDIO when its active level is at or below VCM_SILENCE_DBFS
 * (x untouched), with a log line naming `what`. */
VC_WARN_UNUSED vc_status vcm_level(float *x, size_t n, int rate, const char *what,
                                   double *level_db);

/* The gain that brings audio at active level level_db to VCM_LEVEL_DBFS. */
float vcm_level_gain(double level_db);

/* The span [*b, *e) of x kept after trimming: a frame (20 ms block starting at t * hop) is
 * silent when its energy is more than VCM_TRIM_DB below the loudest block; the span runs from the
 * first to the end of the last loud block, widened by VCM_TRIM_MARGIN_HOPS hops each side.
 * VC_ERR_AUDIO when the loudest block is below VCM_SILENCE_DBFS or fewer than n_fft samples
 * remain; VC_ERR_NOMEM. */
VC_WARN_UNUSED vc_status vcm_trim_span(const float *x, size_t n, const vc_frontend_params *p,
                                       size_t *b, size_t *e);

/* log(max(v, VC_LOG_FLOOR)) of each magnitude (n), in place: the linear target's log. */
void vcm_log_magnitude(float *mag, size_t n);

/* The model's input from a log-mel value of band k. */
static inline float vcm_mel_norm(const vcm_model *m, int k, float log_mel) {
    return (log_mel - m->mel_mean[k]) * (1.0f / m->mel_std[k]);
}

/* The normalised log-magnitude (the postnet's target) of bin f, and its inverse. */
static inline float vcm_lin_norm(const vcm_model *m, int f, float log_mag) {
    return (log_mag - m->lin_mean[f]) / m->lin_std[f];
}
static inline float vcm_lin_denorm(const vcm_model *m, int f, float lin) {
    return lin * m->lin_std[f] + m->lin_mean[f];
}

/* Log-magnitude to magnitude in place, capped at e^VCM_LOG_MAG_CAP so that a wild output cannot
 * overflow a vocoder. */
void vcm_magnitude(float *log_mag, size_t n);

/* The model's input for frames [t0, t0 + T) of x (n): the log-mel normalised, channel-major
 * into out (M, T_pad), frames past T repeating frame T - 1. tm: (T, M) scratch. */
VC_WARN_UNUSED vc_status vcm_model_input(vc_frontend *fe, const vcm_model *m, const float *x,
                                         size_t n, int t0, int T, int T_pad, float *tm, float *out);

/* The decoder's pitch input out (2, T) from f0 (T, Hz, 0 unvoiced) and voicing (T):
 *   channel 0: (log f0 - mu) / sigma, mu and sigma the mean and std of log f0 over the voiced
 *              frames (f0 > 0), sigma floored at VCM_PITCH_STD_FLOOR; 0 on unvoiced frames and
 *              everywhere when no frame is voiced;
 *   channel 1: the voicing, copied.
 * So the contour follows the audio while the range comes from elsewhere (a voice's mu, sigma). */
void vcm_pitch_features(const float *f0, const float *voicing, int T, float *out);

#endif
