/* Fast Griffin-Lim phase reconstruction (Perraudin, Balazs & Sondergaard 2013): Griffin-Lim
 * with an inertial (momentum) step on the projected spectrum, which converges much faster than
 * the plain algorithm. The initial phase is drawn from a seeded RNG, so output is deterministic.
 */
#ifndef VC_DSP_GRIFFINLIM_H
#define VC_DSP_GRIFFINLIM_H

#include "dsp/stft.h"

/* x: (n) from target magnitude mag (T, F); T must equal stft_n_frames(n, s->hop) (else
 * VC_ERR_SHAPE; NULL pointers, n == 0 or iters < 0 give VC_ERR_ARG). iters = 0 returns the
 * random-phase signal. Allocates two (T, F, 2) spectra (VC_ERR_NOMEM if it cannot) and uses x
 * as scratch between iterations. Takes the public vocoder parameters as they are; calls
 * p->progress after each iteration when it is set. */
VC_WARN_UNUSED vc_status griffin_lim(stft *s, float *x, size_t n, const float *mag, int T,
                                     const vc_vocoder_params *p);

#endif
