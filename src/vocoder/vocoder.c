/* The vocoder interface: a table of implementations; see vocoder.h. */
#include "vocoder/impl.h"

#include <math.h>

struct vcv_vocoder {
    const vcv_impl *impl;
    void *state;
};

static const vcv_impl *const impls[] = {&vcv_spectrum_impl, &vcv_harmonic_impl, &vcv_world_impl};

vcv_kind vcv_kind_of(const vc_convert_params *p) {
    if (p->world_vocoder) return VCV_WORLD;
    return p->harmonic ? VCV_HARMONIC : VCV_SPECTRUM;
}

vc_status vcv_init(const vcv_setup *s, vcv_vocoder **out) {
    if (!s || !out || s->max_frames < 1 || s->hop < 1 || s->n_fft < 2) return VC_ERR_ARG;
    *out = NULL;
    const vcv_impl *impl = NULL;
    for (size_t i = 0; i < sizeof impls / sizeof impls[0]; i++)
        if (impls[i]->kind == s->kind) impl = impls[i];
    if (!impl) return VC_ERR_ARG;
    vcv_vocoder *v = calloc(1, sizeof *v);
    if (!v) return VC_ERR_NOMEM;
    v->impl = impl;
    vc_status st = impl->init(s, &v->state);
    if (st != VC_OK) {
        free(v);
        return st;
    }
    *out = v;
    return VC_OK;
}

void vcv_free(vcv_vocoder *v) {
    if (!v) return;
    v->impl->free(v->state);
    free(v);
}

vc_status vcv_render(vcv_vocoder *v, const vcv_frames *fr, int t0, int t1, float *y, size_t n) {
    if (!v || !fr || !fr->log_env || !fr->f0 || !fr->voicing || !y || n == 0 || t0 < 0 ||
        t1 <= t0 || t0 < fr->first || t1 > fr->first + fr->T ||
        (fr->aperiodicity && fr->n_bands < 1))
        return VC_ERR_ARG;
    return v->impl->render(v->state, fr, t0, t1, y, n);
}

float vcv_fade_in(size_t i, size_t n) {
    return 0.5f - 0.5f * (float)cos(VC_TWO_PI * 0.5 * ((double)i + 0.5) / (double)n);
}
