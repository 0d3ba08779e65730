/* The WORLD vocoder behind vocoder.h: the frames' envelope, aperiodicity and F0 rendered by the
 * source-filter renderer of dsp/world_synth.h.
 *
 * The frames' log_env is the model's linear log-magnitude (an STFT's scale, at the frame's F0);
 * the renderer reads a pitch-period envelope: vcd_world_stft_offset (dsp/world.h) converts.
 * Without aperiodicity, each band's is derived from the voicing: 1 - voicing (a fully voiced
 * frame periodic up to VCD_WORLD_AP_MIN, an unvoiced one noise).
 *
 * The renderer is causal and stateful, so chunks join by themselves: render(t0, t1) continues
 * the stream exactly where the previous call (t1 of the last chunk) stopped, and a conversion's
 * first call (t0 = 0) starts it again with the seed. The stream lags the frames by
 * vcd_world_latency samples: they are dropped, and the last call renders its last frame once
 * more so the stream covers the output to its end (as frontend.c's resynthesis does). */
#include "dsp/stft.h"
#include "dsp/world_synth.h"
#include "vocoder/impl.h"

#include <string.h>

typedef struct world_state {
    int F, hop, sample_rate, n_fft, max_frames;
    uint64_t seed;
    vcd_world_synth syn;
    float *env;   // (max_frames + 1, F) the pitch-period envelope of the frames being rendered
    float *ap;    // (max_frames + 1, VCD_WORLD_BANDS)
    float *f0;    // (max_frames + 1)
    float *voic;  // (max_frames + 1)
    float *audio; // ((max_frames + 1) hop) the rendered stream
} world_state;

static void world_free(void *state) {
    world_state *w = state;
    if (!w) return;
    vcd_world_synth_free(&w->syn);
    free(w->env);
    free(w);
}

static vc_status world_init(const vcv_setup *s, void **state) {
    world_state *w = calloc(1, sizeof *w);
    if (!w) return VC_ERR_NOMEM;
    w->F = s->n_fft / 2 + 1;
    w->hop = s->hop;
    w->sample_rate = s->sample_rate;
    w->n_fft = s->n_fft;
    w->max_frames = s->max_frames;
    w->seed = s->gl.seed;
    size_t T = (size_t)s->max_frames + 1, F = (size_t)w->F;
    w->env = malloc(sizeof(float) * T * (F + VCD_WORLD_BANDS + 2 + (size_t)s->hop));
    vc_status st = VC_ERR_NOMEM;
    if (w->env) st = vcd_world_synth_init(&w->syn, s->sample_rate, s->n_fft, s->hop, w->seed);
    if (st != VC_OK) {
        world_free(w);
        return st;
    }
    w->ap = w->env + T * F;
    w->f0 = w->ap + T * VCD_WORLD_BANDS;
    w->voic = w->f0 + T;
    w->audio = w->voic + T;
    *state = w;
    return VC_OK;
}

/* Frame t of fr (absolute) into row i of the renderer's arrays. */
static void world_frame(world_state *w, const vcv_frames *fr, int t, int i) {
    const int F = w->F, r = t - fr->first;
    w->f0[i] = fr->f0[r];
    w->voic[i] = fr->voicing[r];
    float off = vcd_world_stft_offset(w->f0[i], w->voic, i, w->sample_rate, w->n_fft);
    const float *l = fr->log_env + (size_t)r * F;
    float *e = w->env + (size_t)i * F;
    for (int f = 0; f < F; f++) e[f] = l[f] - off;
    float *a = w->ap + (size_t)i * VCD_WORLD_BANDS;
    for (int b = 0; b < VCD_WORLD_BANDS; b++) {
        float v = fr->aperiodicity ? fr->aperiodicity[(size_t)r * fr->n_bands +
                                                      (b < fr->n_bands ? b : fr->n_bands - 1)]
                                   : 1.0f - fr->voicing[r];
        a[b] = v < VCD_WORLD_AP_MIN ? VCD_WORLD_AP_MIN : v > 1.0f ? 1.0f : v;
    }
}

static vc_status world_render(void *state, const vcv_frames *fr, int t0, int t1, float *y,
                              size_t n) {
    world_state *w = state;
    const int T = t1 - t0, hop = w->hop, last = t1 >= vcd_stft_n_frames(n, hop);
    if (fr->F != w->F || T > w->max_frames) return VC_ERR_ARG;
    if (t0 == 0) vcd_world_synth_reset(&w->syn, w->seed);
    if (w->syn.frames_done != t0) return VC_ERR_ARG; /* not the continuation of the last call */
    for (int t = t0; t < t1; t++) world_frame(w, fr, t, t - t0);
    if (last) world_frame(w, fr, t1 - 1, T); /* once more: the stream's lag */
    vc_status st = vcd_world_render(&w->syn, w->env, w->ap, w->f0, w->voic, T + last, w->audio);
    if (st != VC_OK) return st;
    const long long lag = vcd_world_latency(hop), s0 = (long long)t0 * hop;
    for (long long i = 0; i < (long long)(T + last) * hop; i++) {
        long long s = s0 + i - lag;
        if (s >= 0 && s < (long long)n) y[s] = w->audio[i];
    }
    return VC_OK;
}

const vcv_impl vcv_world_impl = {VCV_WORLD, "world", world_init, world_render, world_free};
