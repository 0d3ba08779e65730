/* What a vocoder implementation provides to vocoder.c (one table row per kind). */
#ifndef VC_VOCODER_IMPL_H
#define VC_VOCODER_IMPL_H

#include "vocoder/vocoder.h"

typedef struct vcv_impl {
    vcv_kind kind;
    const char *name;
    VC_WARN_UNUSED vc_status (*init)(const vcv_setup *s, void **state);
    VC_WARN_UNUSED vc_status (*render)(void *state, const vcv_frames *fr, int t0, int t1, float *y,
                                       size_t n);
    void (*free)(void *state);
} vcv_impl;

extern const vcv_impl vcv_spectrum_impl; /* griffinlim.c */
extern const vcv_impl vcv_harmonic_impl; /* griffinlim.c */
extern const vcv_impl vcv_world_impl;    /* world_vocoder.c */

#endif
