/* Content codes in and out: vc_encode (audio -> codes, as vc_convert computes them) and
 * vc_synthesize_codes (codes -> audio with a voice at a level pitch). */
#include "convert/convert.h"

#include "dsp/stft.h"
#include "model/audio_contract.h"

#include <math.h>
#include <string.h>

#define SYNTH_MAX_CODES 4096 /* codes vc_synthesize_codes takes at once (about 2 min) */

vc_status vc_encode(const vc_model *vm, const vc_audio *a, double chunk_seconds, int **codes,
                    int *n_codes, int *first_frame) {
    if (!vm || !a || !codes || !n_codes || !(chunk_seconds > 0.0)) return VC_ERR_ARG;
    *codes = NULL;
    *n_codes = 0;
    vcc_input in;
    vc_status st = vcc_prepare(vm, a, "input", &in);
    if (st != VC_OK) return st;
    const float *x = in.x + in.b;
    size_t len = in.e - in.b;
    const int T = vcd_stft_n_frames(len, vm->fp.hop), L = vcc_core_frames(vm, chunk_seconds, T);
    int *out = malloc(sizeof(int) * (size_t)(T + 1) / 2);
    vcc_chunk c;
    memset(&c, 0, sizeof c);
    st = out ? vcc_chunk_init(&c, vm, L + 2 * VCC_CONTEXT + 2, NULL) : VC_ERR_NOMEM;
    for (int core = 0; st == VC_OK && core < T; core += L) {
        int w0 = core - VCC_CONTEXT > 0 ? core - VCC_CONTEXT : 0;
        int w1 = core + L + VCC_CONTEXT < T ? core + L + VCC_CONTEXT : T;
        if ((st = vcc_encode_window(&c, x, len, w0, w1 - w0)) != VC_OK) break;
        int end = core + L < T ? core + L : T; /* the core's codes: frames [core, end) */
        for (int t = core / 2; t < (end + 1) / 2; t++) out[t] = c.codes[t - w0 / 2];
    }
    if (st == VC_OK) {
        *codes = out;
        *n_codes = (T + 1) / 2;
        if (first_frame) *first_frame = (int)(in.b / (size_t)vm->fp.hop);
        out = NULL;
    }
    free(out);
    vcc_chunk_free(&c);
    free(in.x);
    return st;
}

/* Decodes codes (n_codes) at a level pitch, the voice's mean F0 fully voiced (the contour input
 * is 0), into c->lm; f0 (2 T) receives that F0 and voicing for the vocoder. */
static vc_status decode_level(vcc_chunk *c, const int *codes, int n_codes, const vc_voice *voice,
                              float *f0) {
    const int T = 2 * n_codes;
    float hz = voice->voiced_frames > 0 ? (float)exp(voice->logf0_mean) : 120.0f;
    for (int t = 0; t < T; t++) {
        c->p[t] = 0.0f;
        c->p[T + t] = 1.0f;
        f0[t] = hz;
        f0[T + t] = 1.0f;
    }
    vc_status st = vcm_decode(c->m, &c->ws, codes, NULL, 0.0f, n_codes, voice->embedding, c->p,
                              NULL, c->mel, c->lin);
    if (st == VC_OK) vcc_denormalise(c, T, T, f0, f0 + T);
    return st;
}

vc_status vc_synthesize_codes(const vc_model *vm, const int *codes, int n_codes,
                              const vc_voice *voice, const vc_convert_params *p, vc_audio *out) {
    if (!vm || !codes || n_codes < 1 || n_codes > SYNTH_MAX_CODES || !voice || !p || !out ||
        !voice->embedding || voice->dim != vm->m.cfg.spk_dim || p->vocoder.iters < 0)
        return VC_ERR_ARG;
    const int T = 2 * n_codes;
    for (int i = 0; i < n_codes; i++)
        if (codes[i] < 0 || codes[i] >= vm->m.cfg.codebook_size) return VC_ERR_ARG;
    size_t n = (size_t)(T - 1) * vm->fp.hop;
    vcv_setup vs = {vcv_kind_of(p), vm->fp.sample_rate, vm->fp.n_fft, vm->fp.hop, T, p->vocoder};
    vcc_chunk c;
    memset(&c, 0, sizeof c);
    float *f0 = malloc(sizeof(float) * 2 * (size_t)T); // (T) F0, (T) voicing
    float *y = malloc(n * sizeof *y);
    vc_status st = f0 && y ? vcc_chunk_init(&c, vm, T, &vs) : VC_ERR_NOMEM;
    if (st == VC_OK) st = decode_level(&c, codes, n_codes, voice, f0);
    if (st == VC_OK) {
        c.a = 0, c.b = T;
        vcv_frames fr = vcc_frames(&c, f0, f0 + T);
        st = vcv_render(c.voc, &fr, 0, T, y, n);
    }
    vc_level lv;
    if (st == VC_OK) st = vc_audio_level(y, n, vm->fp.sample_rate, &lv);
    if (st == VC_OK) {
        float g = lv.active_dbfs > VC_LEVEL_FLOOR_DB ? vcm_level_gain(lv.active_dbfs) : 0.0f;
        for (size_t i = 0; i < n; i++) vcc_soft_limit(&y[i], g);
        out->samples = y;
        out->n_samples = n;
        out->sample_rate = vm->fp.sample_rate;
        y = NULL; /* handed over */
    }
    vcc_chunk_free(&c);
    free(y);
    free(f0);
    return st;
}
