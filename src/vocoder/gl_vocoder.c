/* The Griffin-Lim vocoders (spectrum and harmonic) behind vocoder.h.
 *
 * Each render solves the phase of frames [g0, g1) = [t0, t1) widened by GL_MARGIN frames either
 * side (within the window and the output). From the second chunk on, the audio already written
 * over [g0, t0) is a fixed prefix the solution continues (vcd_griffin_lim_prefix), and the solution
 * goes into y from the prefix's last CHUNK_FADE hops on, crossfaded there from the prefix, where
 * the two are coherent. The frames past t1 are written provisionally; the next chunk starts from
 * them. The harmonic kind first shapes the magnitude with vcd_excitation_shape at the frames' F0.
 */
#include "dsp/excitation.h"
#include "dsp/griffinlim.h"
#include "model/audio_contract.h"
#include "vocoder/impl.h"

#include <math.h>
#include <string.h>

#define GL_MARGIN 64 /* frames of vocoder context each side of a chunk's core */
#define CHUNK_FADE 2 /* hops of crossfade at the end of the fixed prefix */

typedef struct gl_state {
    int harmonic;
    int F, hop, max_frames;
    float bin_hz;
    vc_vocoder_params gl;
    stft stft;    /* plans and scratch of this vocoder */
    float *mag;   // (max_frames, F) the frames being rendered, as a magnitude
    float *exc;   // (2 F) vcd_excitation_shape scratch
    float *audio; // (max_frames * hop) the rendered span
    float
        *gl_ws; // Griffin-Lim's spectra and prefix for max_frames (vcd_griffin_lim_scratch_floats)
} gl_state;

static void gl_free(void *state) {
    gl_state *g = state;
    if (!g) return;
    vcd_stft_free(&g->stft);
    free(g->mag);
    free(g);
}

static vc_status gl_init_kind(const vcv_setup *s, void **state, int harmonic) {
    gl_state *g = calloc(1, sizeof *g);
    if (!g) return VC_ERR_NOMEM;
    g->harmonic = harmonic;
    g->F = s->n_fft / 2 + 1;
    g->hop = s->hop;
    g->max_frames = s->max_frames;
    g->bin_hz = (float)s->sample_rate / (float)s->n_fft;
    g->gl = s->gl;
    g->gl.progress = NULL;
    size_t nm = (size_t)s->max_frames * g->F, ne = 2 * (size_t)g->F;
    size_t na = (size_t)s->max_frames * (size_t)s->hop;
    size_t nw = vcd_griffin_lim_scratch_floats(s->max_frames, g->F, (size_t)GL_MARGIN * s->hop);
    g->mag = malloc(sizeof(float) * (nm + ne + na + nw)); /* one block: mag, exc, audio, gl */
    vc_status st = g->mag ? vcd_stft_init(&g->stft, s->n_fft, s->hop) : VC_ERR_NOMEM;
    if (st != VC_OK) {
        gl_free(g);
        return st;
    }
    g->exc = g->mag + nm;
    g->audio = g->exc + ne;
    g->gl_ws = g->audio + na;
    *state = g;
    return VC_OK;
}

static vc_status spectrum_init(const vcv_setup *s, void **state) {
    return gl_init_kind(s, state, 0);
}
static vc_status harmonic_init(const vcv_setup *s, void **state) {
    return gl_init_kind(s, state, 1);
}

static vc_status gl_render(void *state, const vcv_frames *fr, int t0, int t1, float *y, size_t n) {
    gl_state *g = state;
    const int F = g->F, hop = g->hop, T = vcd_stft_n_frames(n, hop);
    const int w1 = fr->first + fr->T < T ? fr->first + fr->T : T;
    int g0 = t0 - GL_MARGIN > fr->first ? t0 - GL_MARGIN : fr->first;
    int g1 = t1 + GL_MARGIN < w1 ? t1 + GL_MARGIN : w1, Tg = g1 - g0;
    /* a continuation (t0 > 0) needs frames before t0 to hold the prefix over */
    if (F != fr->F || Tg > g->max_frames || (t0 > 0 && g0 == t0)) return VC_ERR_ARG;
    memcpy(g->mag, fr->log_env + (size_t)(g0 - fr->first) * F, sizeof(float) * (size_t)Tg * F);
    vcm_magnitude(g->mag, (size_t)Tg * F);
    if (g->harmonic)
        vcd_excitation_shape(g->mag, Tg, F, fr->f0 + (g0 - fr->first),
                             fr->voicing + (g0 - fr->first), g->bin_hz, g->exc);
    size_t s0 = (size_t)g0 * hop, nw = g1 == T ? n - s0 : (size_t)(Tg - 1) * hop;
    size_t fixed = (size_t)(t0 - g0) * hop;
    if (fixed) memcpy(g->audio, y + s0, fixed * sizeof(float));
    vc_status st =
        vcd_griffin_lim_prefix_ws(&g->stft, g->audio, nw, g->mag, Tg, &g->gl, fixed, g->gl_ws);
    if (st != VC_OK) return st;
    size_t fade_n = fixed < (size_t)CHUNK_FADE * hop ? fixed : (size_t)CHUNK_FADE * hop;
    for (size_t i = fixed - fade_n; i < nw; i++) {
        size_t s = s0 + i;
        if (i < fixed) {
            float w = vcv_fade_in(i - (fixed - fade_n), fade_n);
            y[s] = (1.0f - w) * y[s] + w * g->audio[i];
        } else {
            y[s] = g->audio[i];
        }
    }
    return VC_OK;
}

const vcv_impl vcv_spectrum_impl = {VCV_SPECTRUM, "spectrum", spectrum_init, gl_render, gl_free};
const vcv_impl vcv_harmonic_impl = {VCV_HARMONIC, "harmonic", harmonic_init, gl_render, gl_free};
