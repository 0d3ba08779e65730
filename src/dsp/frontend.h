/* Library-internal access to the public front end's parts. */
#ifndef VC_DSP_FRONTEND_H
#define VC_DSP_FRONTEND_H

#include "dsp/stft.h"

/* The front end's STFT (plans and scratch; the same one-thread rule applies). */
stft *vcd_frontend_stft(vc_frontend *fe);

#endif
