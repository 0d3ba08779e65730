/* Frame matching (kNN): the target's real frames, chosen by content.
 *
 * A voice keeps every speech frame of every reference (vc_voice_frames, pooled across
 * references, so more reference audio gives a better voice):
 *   - two content features in the model's own speaker-normalised content space, each
 *     L2-normalised so that a dot product is a cosine:
 *       z       the content encoder's continuous output before quantisation, one per code, given
 *               to both of its frames (VC_MATCH_Z);
 *       hidden  its last frame-rate hidden state (the last residual block's output), normalised
 *               per channel over the sliding window of VCM_TRAIN_FRAMES the encoder's own instance
 *               norms use (VC_MATCH_HIDDEN);
 *   - its normalised log-mel, the decoder's retrieval input (model/retrieval.h);
 *   - its WORLD envelope (pitch-period scale, dsp/world.h) and band aperiodicity, analysed from the
 *     reference audio at the F0 of the project's tracker.
 *
 * Conversion, per chunk window: the source's features for each frame (computed exactly as the
 * references' were), the similarity of every window frame to every pool frame in one sgemm, the
 * k most similar per frame (with a decoded weight w > 0: the similarity is (1 - w) that of the
 * content features plus w the cosine of the decoder's output for the frame, in the target's
 * voice, to the pool frames' log-mel, so that a neighbour also sounds like what the decoder
 * predicts the target says there), the mean of their envelopes and aperiodicities (of a voiced
 * frame's voiced neighbours), smoothed over +-VCC_MATCH_SMOOTH frames (a triangle), so
 * neighbouring frames that picked different references do not buzz. Conversion
 * (convert.c, match_frames) blends that into the decoder's envelope in the log domain at the
 * output F0 (vcd_world_stft_offset converts scales), by the strength.
 */
#ifndef VC_CONVERT_MATCH_H
#define VC_CONVERT_MATCH_H

#include "dsp/world.h"
#include "model/model.h"

#define VCC_MATCH_SMOOTH 1 /* frames either side the matched envelopes are averaged over */
#define VCC_MATCH_K_MAX 64 /* the most neighbours a conversion may ask for */

struct vc_voice_frames {
    int n, cap;          /* frames held, room */
    int D, C, M, F;      /* z dim, hidden channels, mels, bins */
    float *z;            // (cap, D) L2-normalised
    float *h;            // (cap, C) L2-normalised
    float *mel;          // (cap, M) normalised log-mel (the model's input)
    float *env;          // (cap, F) WORLD log envelope
    float *log_ap;       // (cap, VCD_WORLD_BANDS) ln aperiodicity
    float *f0, *voicing; // (cap) each: the tracker's F0 (0 unvoiced), voicing
    int *ref_start;      // (n_refs) each reference's first frame
    int n_refs, refs_cap;
    double log_ap_voiced[VCD_WORLD_BANDS]; /* sums of ln aperiodicity over voiced frames */
    long n_voiced;
};

VC_WARN_UNUSED vc_status vcc_pool_init(vc_voice_frames **out, int D, int C, int M, int F);
void vcc_pool_free(vc_voice_frames *p); /* NULL: no-op */
/* Room for `more` frames after the n held (the arrays may move). VC_ERR_NOMEM. */
VC_WARN_UNUSED vc_status vcc_pool_reserve(vc_voice_frames *p, int more);

/* Aperiodicity is averaged in the log domain, as envelopes are: its values in voiced speech
 * are skewed (ARCTIC slt, 1.5-kHz band: median 0.09, mean 0.27, from the frames at the edges of
 * voicing), and a plain mean of them renders every voiced frame as noisy as those edges. So the
 * pool keeps the logs, taken once: vcc_pool_add_ap turns one frame's aperiodicity
 * (VCD_WORLD_BANDS values, in place: a pool row's log_ap) into ln, floored at
 * VCD_WORLD_AP_MIN, and adds a voiced frame to the profile's sums; vcc_pool_voiced_ap gives each
 * band's geometric mean over the voiced frames added (ap, VCD_WORLD_BANDS); 0 where there is
 * none. */
void vcc_pool_add_ap(vc_voice_frames *p, float *ap, int voiced);

/* Marks the frames added next as a new reference's (its frames [ref_start[r], ref_start[r + 1])
 * or [.., n) for the last), so that what runs over a reference's frames as one utterance (the
 * decoder's rendering of the pool) does not run across two. VC_ERR_NOMEM. */
VC_WARN_UNUSED vc_status vcc_pool_begin_reference(vc_voice_frames *p);
void vcc_pool_voiced_ap(const vc_voice_frames *p, float *ap);

/* Features of frames [0, T) from a workspace whose last vcm_encode_content ran on T2 frames
 * (T <= T2, even): z (T, D) and hidden (T, C), each row L2-normalised. hwork: (C, T2) floats;
 * scratch: 2 (T2 + 1) doubles. Either output may be NULL. */
void vcc_content_features(const vcm_model *m, const vcm_workspace *ws, int T, int T2, float *z,
                          float *hidden, float *hwork, double *scratch);

/* One conversion's matching scratch, for windows of up to W frames against pool p (space and k
 * from the parameters; features of that space only). */
typedef struct vcc_matcher {
    const vc_voice_frames *pool;
    int W, N, Df, F, k;
    vc_match_space space;
    float strength;
    float decoded;  /* the decoded output's weight in choosing neighbours */
    float residual; /* how much of the decoder's own rendering of the neighbours is taken off */
    float *q;       // (W, Df) the window's features
    float *qd;      // (W, M) the decoded log-mel, rows L2-normalised
    float *pd;      // (N, M) the pool's log-mel, rows L2-normalised
    float *sim;     // (W, N) cosine of each window frame to each pool frame
    float *env;     // (W, F) matched envelope (WORLD scale), less residual times dec's mean
    float *dec;     // (N, F) the decoder's rendering of each pool frame (WORLD scale), residual > 0
    float *ap;      // (W, VCD_WORLD_BANDS) matched aperiodicity
    float *tmp;     // (W, F) smoothing of env, then of ap (so F >= VCD_WORLD_BANDS)
    float *hwork;   // (C, W) hidden-state normalisation
    double *dwork;  // (2 (W + 1))
    int *idx;       // (W, k) the neighbours of each frame
    float *best;    // (k)
    void *block;
} vcc_matcher;

/* decoded: the weight of the decoder's output in choosing neighbours (0..1; 0: content alone).
 * residual: 0..1, the share of the decoder's own rendering of the neighbours taken off their
 * envelopes (mt->dec, which the caller fills before matching; NULL when 0). VC_ERR_ARG (logged,
 * saying why) when the pool is missing or holds fewer than k frames or k is outside [1,
 * VCC_MATCH_K_MAX]; VC_ERR_NOMEM. */
VC_WARN_UNUSED vc_status vcc_matcher_init(vcc_matcher *mt, const vc_voice_frames *pool, int W,
                                          vc_match_space space, int k, float strength,
                                          float decoded, float residual);
void vcc_matcher_free(vcc_matcher *mt); /* zeroed: no-op */

/* The k pool frames most similar to each of the T window frames whose features are in mt->q
 * into mt->idx (T, k), most similar first; ties go to the earlier pool frame. One sgemm. */
void vcc_match_nearest(vcc_matcher *mt, int T);

/* The same with the decoder's output for the window, mel (M, stride) normalised log-mel, frames
 * [0, T), weighted by mt->decoded against the content features in mt->q. */
void vcc_match_nearest_decoded(vcc_matcher *mt, const float *mel, int stride, int T);

/* After vcc_match_nearest: the neighbours' mean envelope (less mt->residual times the mean of
 * their mt->dec) and aperiodicity, smoothed over time, into mt->env, mt->ap (T rows). f0,
 * voicing (T each): the window's output F0 and voicing, or f0 NULL. A frame rendered voiced
 * (vcd_world_is_voiced; f0_floor as the vocoder's) takes the aperiodicity of its voiced
 * neighbours alone when it has any: an unvoiced neighbour (a /z/ matched by an /s/, the edge
 * of a vowel) is noise in every band (aperiodicity 1), and one of four, averaged in, takes a
 * band of 0.01 to 0.03 (a breathy output; docs/evaluation.md, "Aperiodicity from voiced
 * neighbours"). Envelopes still come from all k. */
void vcc_match_average(vcc_matcher *mt, const float *f0, const float *voicing, float f0_floor,
                       int T);

#endif
