/* WORLD-style synthesis: a stateful renderer from envelope, band aperiodicity and F0 (units and
 * conventions: dsp/world.h).
 *
 * The output is a sequence of excitation "periods". A period has a pulse at an exact (real)
 * instant tau and the noise of the L = floor(tau + P) - floor(tau) samples up to the next
 * instant, P = fs / F0 (fs / VCD_WORLD_UNVOICED_F0 when unvoiced):
 *
 *   voiced:   S(f) = Hp(f) exp(-j 2 pi f d) + N(f) Hn(f)
 *   unvoiced: S(f) = N(f) He(f)
 *
 * with Hp, Hn, He the minimum-phase responses (from the real cepstrum, folded) of the
 * magnitudes exp(env) sqrt(1 - a), exp(env) sqrt(a) and exp(env), a the bands interpolated to
 * bins, N the spectrum of the period's Gaussian noise of variance 1 / P (so a period holds unit
 * expected energy whether it is a pulse or noise), and d = VCD_WORLD_PRE + (tau - floor(tau))
 * the band-limited delay that puts the pulse at its exact instant (rounding pulses to the
 * sample is jitter that reads as noise at high frequencies). The inverse transform of S (n_fft
 * samples) is added to the stream from sample p = floor(tau) - VCD_WORLD_PRE on. Minimum phase
 * puts each period's energy at its start, as a glottal closure does. The pulse train's DC term
 * is removed.
 *
 * Parameters: a period takes the envelope and aperiodicity of the frame whose hop holds p,
 * t = floor(p / hop); responses are made once per frame (four FFTs) and reused by every period
 * in it (two FFTs each). Its F0 is the line through the previous frame's F0 and frame t's,
 * centred on frame t's at mid-hop and kept between the two, so a glide rises smoothly rather
 * than in one step per frame, and no later frame is needed.
 *
 * Causality is what makes the renderer stateful: render(frames t0..t0+n-1) writes stream
 * samples [t0 hop, (t0 + n) hop) and keeps the next pulse instant, the overlap tail (up to n_fft
 * samples of responses that reach past the block), the last frame's F0 and the noise generator.
 * Rendering a signal in blocks of any sizes therefore gives the same bits as rendering it
 * whole. Frame t, analysed centred on sample t hop, governs the stream's hop starting at t hop,
 * whose pulses lie PRE samples later: the stream is the signal delayed by vcd_world_latency =
 * hop / 2 + PRE samples, and a caller that wants it aligned drops that many at the start and
 * renders the last frame once more at the end (frontend.c's resynthesis does).
 *
 * One renderer per stream and per thread: plans made once in init, scratch allocated once.
 */
#ifndef VC_DSP_WORLD_SYNTH_H
#define VC_DSP_WORLD_SYNTH_H

#include "dsp/world.h"

#include <fftw3.h>

typedef struct vcd_world_synth {
    int sample_rate, n_fft, hop, F;
    float f0_floor;
    float *buf;             /* (n_fft) time-domain scratch; fftwf_malloc'd */
    fftwf_complex *spec;    /* (F) frequency-domain scratch */
    fftwf_complex *h_pulse; /* (F) Hp of the cached frame */
    fftwf_complex *h_noise; /* (F) Hn (voiced) or He (unvoiced) of the cached frame */
    float *tail;            /* (n_fft) responses already started, for the samples after the block */
    float *band_w;          /* (VCD_WORLD_BANDS, F) band weights at each bin */
    fftwf_plan r2c, c2r;    /* on buf <-> spec */
    /* Stream state. */
    long long cached_frame; /* absolute frame index of h_pulse/h_noise, -1: none */
    long long frames_done;  /* frames rendered so far: the block starts at sample frames_done hop */
    double next_pulse;      /* absolute instant (samples) of the next period */
    double prev_f0;         /* F0 the last rendered frame rendered at, 0: unvoiced */
    vc_rng rng;
} vcd_world_synth;

/* VC_ERR_ARG unless sample_rate >= 1000, n_fft >= 64 is even, 1 <= hop <= n_fft; VC_ERR_NOMEM;
 * VC_ERR_INTERNAL if FFTW cannot plan. The stream starts at sample 0 with the noise seed. */
VC_WARN_UNUSED vc_status vcd_world_synth_init(vcd_world_synth *s, int sample_rate, int n_fft,
                                              int hop, uint64_t seed);
void vcd_world_synth_free(vcd_world_synth *s); /* safe on a zeroed or freed struct */
/* Forget the stream: the next render starts at sample 0 again, with this seed. */
void vcd_world_synth_reset(vcd_world_synth *s, uint64_t seed);

/* The next T frames of the stream -> out (T hop samples), continuing what earlier calls wrote.
 * log_env (T, F); ap (T, VCD_WORLD_BANDS) or NULL (voiced frames then fully periodic, up to
 * VCD_WORLD_AP_MIN); f0 (T) Hz; voicing (T) or NULL. Hostile values are tolerated: a non-finite
 * or out-of-range envelope is clamped to [VCD_WORLD_LOG_FLOOR, VCD_WORLD_LOG_CEIL] (NaN reads as
 * the floor), aperiodicity to [VCD_WORLD_AP_MIN, 1] (NaN: 1), F0 per dsp/world.h.
 * VC_ERR_ARG on NULL pointers or T < 1. */
VC_WARN_UNUSED vc_status vcd_world_render(vcd_world_synth *s, const float *log_env, const float *ap,
                                          const float *f0, const float *voicing, int T, float *out);

#endif
