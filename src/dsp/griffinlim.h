/* Fast Griffin-Lim phase reconstruction (Perraudin, Balazs & Sondergaard 2013): Griffin-Lim
 * with an inertial (momentum) step on the projected spectrum, which converges much faster than
 * the plain algorithm. The initial phase is drawn from a seeded RNG, so output is deterministic.
 */
#ifndef VC_DSP_GRIFFINLIM_H
#define VC_DSP_GRIFFINLIM_H

#include "dsp/stft.h"

/* x: (n) from target magnitude mag (T, F); T must equal vcd_stft_n_frames(n, s->hop) (else
 * VC_ERR_SHAPE; NULL pointers, n == 0 or iters < 0 give VC_ERR_ARG). iters = 0 returns the
 * random-phase signal. Allocates two (T, F, 2) spectra (VC_ERR_NOMEM if it cannot; see
 * vcd_griffin_lim_prefix_ws for caller scratch) and uses x
 * as scratch between iterations. Takes the public vocoder parameters as they are; calls
 * p->progress after each iteration when it is set. */
VC_WARN_UNUSED vc_status vcd_griffin_lim(stft *s, float *x, size_t n, const float *mag, int T,
                                         const vc_vocoder_params *p);

/* The same with a fixed prefix: on entry x[0, n_fixed) holds audio that is already decided (the
 * end of the previous chunk of a long signal). It is imposed after every inverse STFT, and the
 * frames lying inside it start from its phase, so the rest of x is solved to continue it and
 * the two pieces join without the comb filtering of two independent phase solutions. On return
 * x[0, n_fixed) holds the solution's own estimate of the prefix (close to it, not equal), so the
 * caller can crossfade from the prefix to the solution over its last samples.
 * n_fixed = 0 is vcd_griffin_lim exactly; VC_ERR_ARG when n_fixed > n. */
VC_WARN_UNUSED vc_status vcd_griffin_lim_prefix(stft *s, float *x, size_t n, const float *mag,
                                                int T, const vc_vocoder_params *p, size_t n_fixed);

/* vcd_griffin_lim_prefix on caller scratch ws of vcd_griffin_lim_scratch_floats(T, F, n_fixed)
 * floats: no allocation (a vocoder sizes it once for its longest window). */
size_t vcd_griffin_lim_scratch_floats(int T, int F, size_t n_fixed);
VC_WARN_UNUSED vc_status vcd_griffin_lim_prefix_ws(stft *s, float *x, size_t n, const float *mag,
                                                   int T, const vc_vocoder_params *p,
                                                   size_t n_fixed, float *ws);

#endif
