/* Speaker augmentation of the content encoder's input (the targets are left alone), so that
 * codes cannot carry timbre and the model sees more voices than the corpus has. Per batch
 * item, on the log-mel (the normalised input is de-normalised, changed, normalised again):
 *   1. pitch-like shift: the log-mel is split into its envelope (a 7-band moving average across
 *      frequency) and the fine structure around it (harmonics, where the bands resolve them);
 *      the fine structure alone is moved in frequency by 2^(s/12), s uniform in +-pitch
 *      semitones, so harmonics move while formants stay;
 *   2. frequency warp (vocal-tract-length style): band m takes the value the spectrum had at
 *      f_m / a, f_m its centre frequency and a uniform in [1 - warp, 1 + warp]; linear
 *      interpolation between bands on the mel scale, ends held;
 *   3. random smooth EQ: gain(m) = eq_db / 4 * sum_{k=0..3} c_k cos(pi k m / (M - 1)) dB of
 *      amplitude, c_k uniform in [-1, 1], so |gain| <= eq_db.
 * The draws come from the caller's rng in a fixed order (a, s, c_0..c_3 per item, each only
 * when its augmentation is on), so a run is fixed by its seed and resumes bit for bit.
 */
#ifndef VC_TRAIN_AUGMENT_H
#define VC_TRAIN_AUGMENT_H

#include "io/checkpoint.h"

#define VCT_AUG_ENV_BANDS 3 /* envelope: moving average over 2 * 3 + 1 bands */
#define VCT_AUG_EQ_TERMS 4

typedef struct vct_augment {
    int on; /* any augmentation enabled */
    float warp, pitch, eq_db;
    int M;
    double mel_lo, mel_step; /* band m's centre is mel_lo + (m + 1) mel_step on the mel scale */
    float *buf, *env, *lm;   // (M, T) scratch
    int T;
} vct_augment;

/* For M bands over fmin..fmax Hz and items of up to T frames. */
VC_WARN_UNUSED vc_status vct_augment_init(vct_augment *a, const vci_run *run, int M, float fmin,
                                          float fmax, int T);
void vct_augment_free(vct_augment *a);

/* One item: out (M, T) from the log-mel in (M, T) with warp factor alpha, fine-structure
 * ratio ratio and EQ coefficients eq (VCT_AUG_EQ_TERMS, in dB units of eq_db; NULL: none).
 * in and out must differ. */
void vct_augment_log_mel(vct_augment *a, float alpha, float ratio, const float *eq, const float *in,
                         float *out, int T);

/* lm (M, T) = the log-mel of the model input x (M, T) normalised by mean/std per band, and
 * back: x = (lm - mean) / std. x and lm may be the same array. */
void vct_mel_denorm(const float *mean, const float *std, const float *x, float *lm, int M, int T);
void vct_mel_norm(const float *mean, const float *std, const float *lm, float *x, int M, int T);

/* xc (nb, M, T) = x augmented, x normalised by mean/std per band (M); nothing, and no draw,
 * when off (then xc is x). x and xc hold items b0 .. b0 + nb - 1 of a batch of B: the draws
 * are made for all B items in order (so every slice of a data-parallel batch sees the draws a
 * single process would), and applied to those items only. */
void vct_augment_batch(vct_augment *a, vc_rng *rng, const float *mean, const float *std,
                       const float *x, float *xc, int B, int b0, int nb, int T);

#endif
