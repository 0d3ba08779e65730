/* Vocoders: the model's frames to audio, one chunk at a time.
 *
 * The conversion loop asks one question: "render frames [t0, t1) into y, continuing the audio
 * already written". It knows nothing of how a vocoder joins chunks (Griffin-Lim's fixed prefix,
 * margins and crossfade live in its implementation); a vocoder may read y before t0 * hop (what
 * it wrote before) and may write provisional audio past t1 * hop, which the next call continues
 * from or overwrites.
 *
 * Implementations (vcv_kind):
 *   VCV_SPECTRUM  fast Griffin-Lim on the envelope as a magnitude spectrum (griffinlim.c)
 *   VCV_HARMONIC  the envelope times harmonics at the F0, mixed with noise by the voicing
 *                 (dsp/excitation.h), then the same Griffin-Lim
 *   VCV_WORLD     the source-filter renderer of dsp/world_synth.h: the envelope (converted from
 *                 the STFT's scale by vcd_world_stft_offset), band aperiodicity (or 1 - voicing
 *                 when the frames have none) and F0 (world_vocoder.c)
 * A new kind adds a row to vocoder.c's table and a case in vcv_kind_of; vc_convert does not
 * change.
 */
#ifndef VC_VOCODER_VOCODER_H
#define VC_VOCODER_VOCODER_H

#include "common.h"

/* The frames of one chunk window: absolute frames [first, first + T) of the output. */
typedef struct vcv_frames {
    int first;                 /* absolute index of frame 0 */
    int T, F;                  /* frames; bins = n_fft / 2 + 1 */
    const float *log_env;      // (T, F) natural-log magnitude spectral envelope (the model's
                               // linear log-magnitude scale, at the frame's F0)
    const float *f0;           // (T) Hz, 0 where unvoiced
    const float *voicing;      // (T) voicing probability, 0..1
    const float *aperiodicity; // (T, n_bands) band aperiodicity 0..1, or NULL (not estimated)
    int n_bands;               /* 0 when aperiodicity is NULL */
} vcv_frames;

typedef enum vcv_kind { VCV_SPECTRUM = 0, VCV_HARMONIC = 1, VCV_WORLD = 2 } vcv_kind;

/* What every vocoder is made from. max_frames bounds T of any render call's window. */
typedef struct vcv_setup {
    vcv_kind kind;
    int sample_rate, n_fft, hop;
    int max_frames;
    vc_vocoder_params gl; /* Griffin-Lim's iterations, momentum and seed (progress unused) */
} vcv_setup;

typedef struct vcv_vocoder vcv_vocoder;

/* The vocoder conversion parameters ask for. */
vcv_kind vcv_kind_of(const vc_convert_params *p);

/* Makes the vocoder and all its scratch (FFTW plans included) once: render never allocates
 * beyond what its implementation documents. VC_ERR_ARG, VC_ERR_NOMEM. */
VC_WARN_UNUSED vc_status vcv_init(const vcv_setup *s, vcv_vocoder **out);
void vcv_free(vcv_vocoder *v); /* NULL: no-op */

/* Renders absolute frames [t0, t1) of fr into y (n samples, the whole output; frame t starts
 * at sample t * hop; the frame holding sample n - 1 is the last), continuing y[0, t0 * hop).
 * Call with t0 = 0 first, then each chunk's t0 equal to the previous t1; the last call's t1 is
 * the last frame + 1. fr must hold [t0, t1) and as much context either side as it has. */
VC_WARN_UNUSED vc_status vcv_render(vcv_vocoder *v, const vcv_frames *fr, int t0, int t1, float *y,
                                    size_t n);

/* Raised-cosine weight of the incoming side at position i of a crossfade of n (i < n): from
 * near 0 to near 1, symmetric, the two sides summing to 1. */
float vcv_fade_in(size_t i, size_t n);

#endif
