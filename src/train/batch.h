/* Training batches: segment sampling and input/target assembly from the feature set.
 *
 * One batch item is (utterance u, content start t, speaker utterance us, speaker start ts), all
 * drawn from the
 * caller's vc_rng (vct_draw_item); vct_fill_item then writes, for frames t .. t+T-1:
 *   x     (M, T)  normalized log-mel, vcm_mel_norm (also the mel target)
 *   p     (2, T)  vcm_pitch_features of the WHOLE utterance, sliced (normalised per utterance)
 *   xs    (M, Ts) normalized log-mel of utterance us from ts (a second, independent draw: in
 *                 the same utterance it may overlap the content segment, or even coincide when
 *                 the utterance is barely longer than T)
 *   lin   (F, T)  the postnet's target normalised by vcm_lin_norm: the log-magnitude
 *                 vcm_log_magnitude(|X|), or, for a model with cfg.envelope, the WORLD envelope
 *                 of those frames (dsp/world_analysis.h) at the utterance's own F0 and voicing
 * (all from the audio contract, model/audio_contract.h, as conversion computes them)
 *
 * The magnitude is computed on the fly from the utterance's int16 audio (a whole-utterance
 * cache would be ~1 GB for a real corpus). Frame t of the whole-utterance STFT is centred at
 * t*hop and reads samples [t*hop - n_fft/2, t*hop + n_fft/2) (reflect padding outside). We
 * transform the span [a, b) with a = max(0, (t - k) hop), k = ceil(n_fft / 2 / hop), and
 * b = min(n, (t+T-1) hop + n_fft/2): a is a multiple of hop, so frame j of the span is frame
 * a/hop + j of the utterance, and every frame we keep reads only real samples of the span, or
 * the same reflected samples as the whole utterance where a = 0 or b = n. The frames are
 * therefore bit-identical to the whole-utterance STFT (a test checks it). The WORLD envelope is
 * analysed on the same span: its windows (at most n_fft long, centred on the frame) then read
 * the same samples as the whole utterance's, so its frames are bit-identical too (tested).
 */
#ifndef VC_TRAIN_BATCH_H
#define VC_TRAIN_BATCH_H

#include "dsp/world_analysis.h"
#include "io/features.h"
#include "model/model.h"

/* Scratch for one item assembly, sized for the longest utterance of a feature set. */
typedef struct vct_scratch {
    float *pitch;          // (2, T_max) pitch features of a whole utterance
    float *audio;          // (span_max) float audio of the STFT span
    float *mag;            // (frames of span_max, F)
    float *span_f0;        // (2, frames of span_max) F0 and voicing of the span (envelope)
    vcd_world_analysis wa; /* the envelope's analysis (envelope targets only, else zeroed) */
    size_t span_max;
} vct_scratch;

/* envelope: 1 to also make the WORLD analysis that envelope targets need (cfg.envelope). */
VC_WARN_UNUSED vc_status vct_scratch_init(vct_scratch *s, const vc_feature_set *fs,
                                          const vc_frontend_params *fp, int envelope);
void vct_scratch_free(vct_scratch *s);

/* The log-magnitude vcm_log_magnitude(|X|) of frames t .. t+T-1 of utterance u, out (T, F),
 * bit-identical to those frames of the whole utterance's STFT (see above). */
VC_WARN_UNUSED vc_status vct_log_magnitude(vc_frontend *fe, const vc_utt_features *u, int t, int T,
                                           vct_scratch *s, float *out);

/* The WORLD envelope (log, pitch-period scale) of frames t .. t+T-1 of utterance u at its own
 * F0 and voicing, out (T, F), bit-identical to those frames of the whole utterance's analysis.
 * s must have been made with envelope = 1. */
VC_WARN_UNUSED vc_status vct_world_envelope(vc_frontend *fe, const vc_utt_features *u, int t, int T,
                                            vct_scratch *s, float *out);

/* The postnet's target before normalisation, out (T, F): vct_world_envelope for a model with
 * cfg.envelope, else vct_log_magnitude. */
VC_WARN_UNUSED vc_status vct_lin_target(vc_frontend *fe, const vc_utt_features *u, int t, int T,
                                        int envelope, vct_scratch *s, float *out);

typedef struct vct_item {
    int u;  /* index into fs->u: the content segment's utterance */
    int us; /* index into fs->u: the speaker segment's utterance (u, or another of u's speaker) */
    int t, ts; /* content and speaker segment starts (in u and us) */
} vct_item;

/* Training utterances (fs indices) grouped by speaker, for drawing items. */
typedef struct vct_speakers {
    int n;      /* speakers with a usable training utterance */
    int *start; // (n + 1) into utt
    int *utt;   // training utterances grouped by speaker, ascending within a speaker
} vct_speakers;

/* A speaker uniformly, then one of its utterances uniformly (so every speaker counts equally
 * however much audio it has), then the content start. The speaker segment comes from another
 * utterance of the same speaker, uniformly among the others, when other_utt is set and the
 * speaker has one; else from the same utterance (its own random start: it may overlap the
 * content segment). Every utterance in s must have at least max(T, Ts) frames. Draws from rng
 * in a fixed order; with other_utt = 0 the draws are those of the first version. */
void vct_draw_item(const vc_feature_set *fs, const vct_speakers *s, int T, int Ts, int other_utt,
                   vc_rng *rng, vct_item *it);

/* Writes item b of a batch of B into x (B,M,T), p (B,2,T), xs (B,M,Ts), lin (B,F,T),
 * normalised with m's statistics. */
VC_WARN_UNUSED vc_status vct_fill_item(vc_frontend *fe, const vc_feature_set *fs,
                                       const vcm_model *m, const vct_item *it, int b, int B, int T,
                                       int Ts, vct_scratch *s, float *x, float *p, float *xs,
                                       float *lin);

/* Per-bin mean and std (floored at VC_MEL_STD_FLOOR) of the postnet's target (vct_lin_target)
 * over the segments (n items of T frames), accumulated in double in item order. */
VC_WARN_UNUSED vc_status vct_lin_stats(vc_frontend *fe, const vc_feature_set *fs,
                                       const vct_item *items, int n, int T, int envelope,
                                       vct_scratch *s, float *mean /*(F)*/, float *std /*(F)*/);

#endif
