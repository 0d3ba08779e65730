/* F0 tracking, YIN style (de Cheveigne & Kawahara 2002) with a Viterbi-smoothed choice among
 * candidates, one estimate per STFT frame (frame t centred on sample t*hop, T = 1 + n/hop).
 */
#ifndef VC_DSP_F0_H
#define VC_DSP_F0_H

#include "common.h"

typedef struct f0_params {
    int sample_rate, hop;
    float fmin, fmax; /* search range in Hz */
} f0_params;

/* f0: (T) Hz, 0 where unvoiced; voicing: (T) probability 0..1. T = 1 + n/hop.
 * Allocates its working memory (VC_ERR_NOMEM if it cannot). */
VC_WARN_UNUSED vc_status vcd_f0_track(const f0_params *p, const float *x, size_t n, float *f0,
                                      float *voicing, int T);

#endif
