/* Denoising training (vconv train --denoise P): the encoders' inputs are corrupted, the targets
 * stay clean, so the model learns to hear speech through noise and reverberation.
 *
 * Each batch item's content input xc and speaker input xs are corrupted independently, each
 * with probability P, on the log-mel (de-normalised, changed, normalised again; the targets x
 * and lin are never touched). The features are logs of the mel filterbank applied to magnitudes;
 * we work on their squares, e = exp(2 lm), as band powers, where additive noise adds in
 * expectation:
 *   1. light reverberation (with probability 1/2, before the noise): an exponential tail per
 *      band, e'(t) = e(t) + (1 - a) r(t), r(t) = a (r(t-1) + e(t-1)), a the power decay of
 *      one frame for an RT60 drawn uniformly in [0.1, 0.4] s (60 dB of decay over RT60); the
 *      tail carries a times the direct energy, so the direct-to-reverberant ratio is at least
 *      about 2.4 dB;
 *   2. additive noise n (M, T) of one of three kinds, uniformly:
 *      white  expected band power 1 in every band,
 *      pink   expected band power f_1 / f_m (1/f, f_m the band's centre),
 *             both times a per band and frame gamma draw of mean 1 and shape k_m, the number of
 *             FFT bins under half the band's triangle (at least 1): a band averaging more bins
 *             fluctuates less, as noise spectra do;
 *      babble the sum of the band powers of 2 to 4 training utterances (whole segments from
 *             random starts, wrapping around in shorter ones);
 *   3. the noise scaled to an SNR drawn uniformly in [0, 20] dB, measured over the active
 *      frames (frame power within VCT_DENOISE_ACTIVE_DB of the loudest frame) of the
 *      reverberant speech: g = S / (N 10^(snr/10)), S and N the mean frame powers of speech and
 *      noise over those frames; lm = 0.5 log(e' + g n).
 * Randomness: per item, for xc then xs, a fixed set of draws from the training stream (apply,
 * kind, SNR, reverberation, RT60, and a 64-bit seed for the noise itself, which a stream of its
 * own generates), for every item of the global batch on every rank, so a data-parallel slice
 * sees the draws one process would and a run is fixed by its seed. No draw at all when off.
 */
#ifndef VC_TRAIN_DENOISE_H
#define VC_TRAIN_DENOISE_H

#include "io/checkpoint.h"
#include "io/features.h"

#define VCT_DENOISE_SNR_MAX_DB 20.0f
#define VCT_DENOISE_RT60_MIN 0.1f /* s */
#define VCT_DENOISE_RT60_MAX 0.4f
#define VCT_DENOISE_REVERB_SHARE 0.5f /* of the corrupted inputs */
#define VCT_DENOISE_ACTIVE_DB 40.0f
#define VCT_DENOISE_BABBLE_MIN 2
#define VCT_DENOISE_BABBLE_MAX 4

typedef enum vct_noise_kind {
    VCT_NOISE_WHITE = 0,
    VCT_NOISE_PINK = 1,
    VCT_NOISE_BABBLE = 2,
    VCT_NOISE_KINDS = 3
} vct_noise_kind;

/* One input's corruption, as drawn. */
typedef struct vct_noise_draw {
    int on;        /* corrupt this input */
    int kind;      /* vct_noise_kind */
    float snr_db;  /* 0 .. VCT_DENOISE_SNR_MAX_DB */
    float rt60;    /* s; 0: no reverberation */
    uint64_t seed; /* of the noise's own stream */
} vct_noise_draw;

typedef struct vct_denoise {
    int on;
    float prob; /* per input */
    int M, T;
    float frame_s;            /* hop / sample rate */
    float *pink, *shape;      // (M) pink band powers, gamma shapes
    const vc_feature_set *fs; /* babble sources, not owned */
    const int *pool;          /* fs indices of the babble sources, not owned */
    int n_pool;
    float *e, *n, *lm; // (M, T) scratch: speech and noise band powers, a log-mel
} vct_denoise;

/* For the front end fp and inputs of up to T frames; babble from fs->u[pool[i]], i < n_pool
 * (kept by reference: they must outlive d). Off (no allocation) when run->denoise is 0. */
VC_WARN_UNUSED vc_status vct_denoise_init(vct_denoise *d, const vci_run *run,
                                          const vc_frontend_params *fp, int T,
                                          const vc_feature_set *fs, const int *pool, int n_pool);
void vct_denoise_free(vct_denoise *d);

/* One input's draws from rng (the fixed set above). */
void vct_denoise_draw(const vct_denoise *d, vc_rng *rng, vct_noise_draw *dr);

/* lm (M, T), a log-mel (not normalised), corrupted in place as dr says (nothing when !dr->on).
 * With noise_out, the scaled noise band powers g n (M, T) go there (for tests). */
void vct_denoise_log_mel(vct_denoise *d, const vct_noise_draw *dr, float *lm, int T,
                         float *noise_out);

/* xc (nb, M, T) and xs (nb, M, Ts), normalised by mean/std per band (M), corrupted in place;
 * nothing, and no draw, when off. They hold items b0 .. b0 + nb - 1 of a batch of B: the draws
 * are made for all B items in order, and applied to those items only (as vct_augment_batch). */
void vct_denoise_batch(vct_denoise *d, vc_rng *rng, const float *mean, const float *std, float *xc,
                       int T, float *xs, int Ts, int B, int b0, int nb);

#endif
