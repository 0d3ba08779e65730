/* Conversion internals: the steps vc_convert, vc_voice_from_audio, vc_encode and
 * vc_synthesize_codes share (the public API is vconv.h). */
#ifndef VC_CONVERT_CONVERT_H
#define VC_CONVERT_CONVERT_H

#include "model/handle.h"
#include "vocoder/vocoder.h"

#define VCC_CONTEXT 128 /* frames of model context each side of a chunk's core; even */

/* An input brought to the model: resampled to its rate, levelled to VCM_LEVEL_DBFS, its speech
 * span [b, e) found by vcm_trim_span. x (n) is owned; level_db is the input's own active
 * level. */
typedef struct vcc_input {
    float *x;
    size_t n, b, e;
    double level_db;
} vcc_input;

/* VC_ERR_AUDIO (logged, naming `what`) for no audio, silence or no speech; *out is empty on
 * failure. Free with free(out->x). */
VC_WARN_UNUSED vc_status vcc_prepare(const vc_model *vm, const vc_audio *a, const char *what,
                                     vcc_input *out);

/* One conversion's state: the model, its front end (FFTW plans and scratch), the vocoder and
 * every per-chunk array, made once for windows of up to W frames (one arena allocation). A
 * chunk is the core [core, end) of the speech span's frames, read through the window [a, b)
 * = the core with VCC_CONTEXT frames either side, cut at the span's ends. Owned by one thread;
 * several conversions may run at once with one model, each with its own state. */
typedef struct vcc_chunk {
    const vc_model *vm;
    const vcm_model *m;
    vc_frontend *fe;
    vcv_vocoder *voc; /* NULL when only encoding */
    vcm_workspace ws;
    int W;
    int k, core, end, a, b; /* the current chunk (its index k) */
    float *tm;              // (W, M) log-mel as the front end gives it
    float *x;               // (M, W) model input
    float *p;               // (2, W) pitch input
    int *codes;             // (W / 2)
    float *mel;             // (M, W) decoder mel output (unused beyond the call)
    float *lin;             // (F, W) decoder normalised log-magnitude
    float *lm;              // (W, F) log-magnitude, frame-major: what the vocoder renders
    float *slow;            // (W, F) the slow part of lm (match dynamics)
    float *tail;            // (2 VCC_CONTEXT, F) the previous window's last frames of lm
    float *dyn_gain;        // (F) match dynamics: each bin's stretch
    float *ap;              // (W, VCD_WORLD_BANDS) aperiodicity for the WORLD vocoder
    float *r;               // (M + 1, W) the decoder's retrieval input (model/retrieval.h)
    double *dscratch;       // (W + 1)
    void *arena;
} vcc_chunk;

/* Chunk cores of L frames (even, so codes stay aligned) for a speech span of T frames. */
int vcc_core_frames(const vc_model *vm, double chunk_seconds, int T);

/* vocoder may be NULL (no vocoder: encoding only). */
VC_WARN_UNUSED vc_status vcc_chunk_init(vcc_chunk *c, const vc_model *vm, int W,
                                        const vcv_setup *vocoder);
void vcc_chunk_free(vcc_chunk *c); /* zeroed: no-op */

/* Content codes of window [a, a + Tw) of the speech x (len) into c->codes (Tw2 / 2, Tw2 = Tw
 * rounded up to even, the last frame repeated). */
VC_WARN_UNUSED vc_status vcc_encode_window(vcc_chunk *c, const float *x, size_t len, int a, int Tw);

/* The decoder's normalised log-magnitude c->lin (F, stride), frames [0, T), denormalised into
 * c->lm (T, F). A model that predicts the WORLD envelope (cfg.envelope) has it brought to the
 * STFT scale at the frames' output F0 and voicing (f0, voicing: T; vcd_world_stft_offset), so
 * everything after this reads one scale; the world vocoder takes the offset back. */
void vcc_denormalise(vcc_chunk *c, int stride, int T, const float *f0, const float *voicing);

/* The decoder's own rendering of every frame of the voice's pool, in the WORLD envelope's scale,
 * into mt->dec (made by vcc_matcher_init with a residual): each reference's frames (the model
 * input the pool keeps) encoded and decoded as a source's are, with the reference's own pitch
 * contour and the content blend, in windows of at most c->W - 2 frames. Frame matching with a
 * residual takes it off the matched envelopes, so that what it adds to the decoder's output is
 * what the decoder gets wrong about this voice, not another sound. */
struct vcc_matcher;
VC_WARN_UNUSED vc_status vcc_decode_pool(vcc_chunk *c, struct vcc_matcher *mt,
                                         const vc_voice *voice, float blend);

/* Splits the log-magnitude lm (T, F) into a slow part, each bin's mean over the 128 frames
 * around each frame (cut at the ends), written to slow (T, F), and the fast part left in lm:
 * lm - slow. scratch: T + 1 doubles. The spectral dynamics are measured and stretched on the
 * fast part only, so a slow change of level or timbre (a new sentence, another speaker in a
 * long recording) is kept as it is, not amplified. */
void vcc_split_dynamics(float *lm, float *slow, int T, int F, double *scratch);

/* *y times g, through the output's soft limiter (above -1 dBFS the excess is compressed by
 * tanh into the headroom left below full scale). Returns 1 when the sample was limited. */
int vcc_soft_limit(float *y, float g);

/* The frames of the chunk window for the vocoder: c->lm with f0 and voicing of the whole span
 * (indexed by absolute frame). */
vcv_frames vcc_frames(const vcc_chunk *c, const float *f0, const float *voicing);

/* The codec's decoder (src/codec): audio for given content codes ((T + 1) / 2 for the T frames
 * of in's speech span [b, e)) and the span's F0 and voicing (T each), as vc_convert renders a
 * source (pitch input, target F0, chunks, vocoder) without encoding anything; in->x is not read.
 * The output has in->n samples at the model's rate, the speech at in->b, at in->level_db.
 * p->match must be 0 (matching needs the source's content features). */
VC_WARN_UNUSED vc_status vcc_render_codes(const vc_model *vm, const vcc_input *in, const int *codes,
                                          const float *f0, const float *voicing,
                                          const vc_voice *voice, const vc_convert_params *p,
                                          vc_audio *out);

#endif
