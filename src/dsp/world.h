/* Source-filter analysis and synthesis of the WORLD family (Morise, Yokomori & Ozawa 2016),
 * written here from the published method descriptions, not from any implementation:
 *
 *   dsp/world_analysis.h  pitch-adaptive spectral envelope (CheapTrick, Morise 2015) and a band
 *                         aperiodicity from the band-limited autocorrelation at one period,
 *   dsp/world_synth.h     a stateful renderer: one minimum-phase response per pulse period plus
 *                         shaped noise, continuing the audio already written.
 *
 * What the parameters mean, shared by both sides (this header is their one owner):
 *
 * - Frames are the front end's: frame t is centred on sample t*hop, T = 1 + n/hop.
 * - Envelope, (T, F) on the n_fft/2 + 1 bin grid of the model's linear spectrum: the natural log
 *   of the *magnitude* response of one pitch period. A periodic signal whose every period is
 *   the impulse response h has envelope ln|H(f)| at every F0; white noise of variance s^2 has
 *   envelope ln(s) + 0.5 ln(P) with P = fs / F0 the period used by the analysis. The renderer
 *   inverts exactly this convention. (A Hann n_fft STFT of the same periodic signal has, on
 *   average over frequency, power |H|^2 * (3 n_fft / 8) / P: the envelope is F0-independent,
 *   the STFT is not.)
 * - Aperiodicity, (T, VCD_WORLD_BANDS): the share of power that is noise, 0..1, per band. Band
 *   b is a triangle over frequency peaking at vcd_world_band_hz[b] and reaching 0 at its
 *   neighbours' centres (the first band is flat below its centre, the last flat above): the
 *   triangles sum to 1 at every frequency, and the same functions weight the analysis and
 *   interpolate the bands to bins in synthesis.
 * - F0 in Hz and voicing 0..1 per frame: a frame is voiced when its F0 is finite and inside
 *   [vcd_world_f0_floor, VCD_WORLD_F0_CEIL] and its voicing is at least 0.5; anything else
 *   (0, NaN, a voicing below 0.5) is unvoiced and rendered as noise with the envelope.
 */
#ifndef VC_DSP_WORLD_H
#define VC_DSP_WORLD_H

#include "common.h"

/* Five coarse bands: periodicity in speech falls off above a few kHz, and five numbers per frame
 * are what a model can predict reliably. Centres in Hz; bands above Nyquist get no weight. */
enum { VCD_WORLD_BANDS = 5 };
extern const float vcd_world_band_hz[VCD_WORLD_BANDS];

/* F0 above which a frame is not treated as voiced speech. */
#define VCD_WORLD_F0_CEIL 1000.0f
/* F0 the analysis window is sized for in unvoiced frames (three periods: 20 ms, about the hop
 * plus its taper, the span a frame's noise is rendered over; a 6 ms window, 500 Hz, gave
 * envelopes so noisy that analysis-synthesis lost 1.5 dB of MCD and 8 points of speaker
 * identification), and the rate of the noise "periods" the renderer lays in unvoiced stretches.
 * The two must be the same number: the envelope of noise is defined through this period. */
#define VCD_WORLD_UNVOICED_F0 150.0f
/* Lowest aperiodicity: keeps a trace of noise in every voiced band (-30 dB), as breath does. */
#define VCD_WORLD_AP_MIN 0.001f
/* Natural-log magnitude floor of the envelope (about -200 dB): log of an empty spectrum. */
#define VCD_WORLD_LOG_FLOOR (-23.0f)
#define VCD_WORLD_LOG_CEIL 23.0f

/* The lowest F0 whose analysis window (three periods) fits in n_fft: 3 fs / n_fft (47 Hz at
 * 16 kHz, n_fft 1024). Lower F0 is analysed and rendered at this floor. */
float vcd_world_f0_floor(int sample_rate, int n_fft);

/* Weight of band b at frequency hz (the triangles above). */
float vcd_world_band_weight(int b, float hz);

/* The weights of every band at the F = n_fft/2 + 1 bins of an n_fft-point spectrum at
 * sample_rate: w[b F + k]. Analysis and synthesis share it. */
void vcd_world_band_table(float *w, int F, int n_fft, int sample_rate);

/* Samples each pulse's response starts before the pulse itself: room for the band-limited
 * fractional delay that puts pulses at exact (not sample-rounded) instants. Its sinc tails are
 * 1/(pi k) at k samples; past 32 samples they would wrap, and speech has little energy near
 * Nyquist where they come from. */
#define VCD_WORLD_PRE 32

/* Samples by which the rendered stream lags the frames, hop/2 + VCD_WORLD_PRE: frame t (centred
 * on sample t hop of the analysed signal) governs the periods whose responses start in the
 * stream's samples [t hop, (t + 1) hop), i.e. whose pulses fall in [t hop, (t + 1) hop) +
 * PRE, so the stream is the signal delayed by that much, each frame's parameters centred on
 * the samples they rule (dsp/world_synth.h). */
int vcd_world_latency(int hop);

/* True when the frame is rendered as voiced (see above); f0 may be anything, voicing may be NULL
 * (then every frame with a usable F0 is voiced). */
int vcd_world_is_voiced(float f0, const float *voicing, int t, float f0_floor);

/* The one conversion between the model's linear log-magnitude (a Hann n_fft STFT, unnormalised)
 * and this envelope: STFT log-magnitude = envelope + vcd_world_stft_offset, with
 *   offset = 0.5 ln((3 n_fft / 8) / P),  P = fs / F0 the period the frame is rendered at
 * (F0 floored at vcd_world_f0_floor; VCD_WORLD_UNVOICED_F0 in unvoiced frames, where the
 * envelope of noise is defined through that period). Both sides of the conversion call this. */
float vcd_world_stft_offset(float f0, const float *voicing, int t, int sample_rate, int n_fft);

#endif
