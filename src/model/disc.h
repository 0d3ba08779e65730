/* A spectrogram discriminator for adversarial training of the decoder's linear output.
 *
 * Why: a decoder trained only on L1 regresses to the conditional mean of the spectrum, and the
 * mean of many plausible spectra is a smooth one: harmonics and formant edges blur. A
 * discriminator learns what real (target) spectrograms look like; its loss rewards the decoder
 * for sharp, speech-like spectra rather than the average. We use the least-squares GAN loss
 * (LSGAN, Mao et al. 2017: stable gradients, no saturating sigmoid) plus feature matching, the
 * L1 distance between the discriminator's hidden features on real and generated inputs, as in
 * MelGAN (Kumar et al. 2019) and HiFi-GAN (Kong et al. 2020), whose 2:1 ratio of feature
 * matching to adversarial loss we keep.
 *
 * Architecture: the frequency bins are the channels of time convolutions (the model's own
 * layout, (B, F, T)), so each first-layer filter sees the whole spectrum over 5 frames:
 *
 *   conv0 F -> C  K 5 stride 1 pad 2,  leaky ReLU 0.2   (h[0], (B, C, T))
 *   conv1 C -> C  K 5 stride 2 pad 2,  leaky ReLU 0.2   (h[1], (B, C, T1),  T1 = ceil(T / 2))
 *   conv2 C -> C  K 5 stride 2 pad 2,  leaky ReLU 0.2   (h[2], (B, C, T2),  T2 = ceil(T1 / 2))
 *   conv3 C -> 1  K 3 stride 1 pad 1                    (a[3], the score map (B, 1, T2))
 *
 * so the score map has vcm_disc_score_len(T) = ceil(ceil(T / 2) / 2) frames (T / 4 for T a
 * multiple of 4); each score judges a window of 25 input frames.
 *
 * The discriminator owns one parameter slab (and one gradient slab) built from its own table
 * (names "disc.conv<i>.w", "disc.conv<i>.b"), apart from the model's: it is a training-time
 * object, never saved in the model file. Its workspace holds every activation and activation
 * gradient, sized up front; forward and backward never allocate. Results are deterministic for
 * a fixed thread count: the convolutions are conv1d's, and every loss sum runs in double in a
 * fixed order.
 *
 * A training step (the trainer's):
 *   vcm_disc_forward(d, real, target, B, T);      real spectrogram (B, F, T)
 *   vcm_disc_forward(d, fake, decoder_out, B, T); the decoder's output (B, F, T)
 *   vcm_disc_generator_backward(d, real, fake, w, ddecoder_out, &l);  adds into the decoder's
 *   vcm_disc_backward_loss(d, real, fake, &l);    adds into d's gradients; then d's optimiser
 * The generator's gradient uses the discriminator as it was in both forwards, so it must be
 * taken before the discriminator's parameters change.
 */
#ifndef VC_MODEL_DISC_H
#define VC_MODEL_DISC_H

#include "common.h"
#include "model/model.h"
#include "nn/conv1d.h"
#include "nn/params.h"

#define VCM_DISC_LAYERS 4
#define VCM_DISC_SLOPE 0.2f     /* leaky ReLU's negative slope (MelGAN, HiFi-GAN) */
#define VCM_DISC_FM_WEIGHT 2.0f /* feature matching : adversarial (HiFi-GAN's 2 : 1) */
#define VCM_DISC_CHANNELS 128   /* the trainer's width C */
/* its AdamW moments (HiFi-GAN's): shorter memories than the model's, for a target that moves
 * with the decoder */
#define VCM_DISC_BETA1 0.8f
#define VCM_DISC_BETA2 0.99f

typedef struct vcm_disc {
    int F, C;                                /* input channels (the model's n_bins), hidden */
    conv1d conv[VCM_DISC_LAYERS];            /* see the table above */
    vc_param_spec spec[2 * VCM_DISC_LAYERS]; /* "disc.conv<i>.w" (OC, C, K), "disc.conv<i>.b" */
    vc_params params;                        /* one slab, one gradient slab with with_grad */
} vcm_disc;

/* Builds the table and the slabs (zeroed; see vcm_disc_randomize). VC_ERR_ARG for d NULL,
 * F < 1 or C < 1; VC_ERR_NOMEM. */
VC_WARN_UNUSED vc_status vcm_disc_init(vcm_disc *d, int F, int C, int with_grad);
/* Weights U(+-1 / sqrt(fan_in)) (fan_in = C K), biases 0, drawn from rng in table order. */
void vcm_disc_randomize(vcm_disc *d, vc_rng *rng);
void vcm_disc_free(vcm_disc *d); /* NULL or a zeroed struct: no-op */

/* Frames of layer l's output for T input frames (vcn_conv1d_out_len of each conv in turn). */
int vcm_disc_layer_len(const vcm_disc *d, int l, int T);
/* Frames of the score map: vcm_disc_layer_len(d, VCM_DISC_LAYERS - 1, T). */
int vcm_disc_score_len(const vcm_disc *d, int T);

typedef struct vcm_disc_ws {
    int B, T;                       /* capacity */
    int Bc, Tc;                     /* sizes of the last forward */
    int Tl[VCM_DISC_LAYERS];        /* frames of each layer's output in the last forward */
    vcm_act a[VCM_DISC_LAYERS];     /* conv outputs (B, OC_l, Tl[l]); a[L-1] the score map */
    vcm_act h[VCM_DISC_LAYERS - 1]; /* leaky ReLU outputs: the features feature matching uses */
    const float *x;                 /* input of the last forward (B, F, T), the caller's */
    float *vslab, *dslab, *scratch; // (n_act), (n_act), (n_scratch)
    size_t n_act, n_scratch;
} vcm_disc_ws;

/* Activations and their gradients for inputs up to (B, F, T); a workspace serves any smaller
 * B and T too. VC_ERR_ARG for NULLs, B < 1, T < 1; VC_ERR_NOMEM. */
VC_WARN_UNUSED vc_status vcm_disc_ws_init(vcm_disc_ws *ws, const vcm_disc *d, int B, int T);
void vcm_disc_ws_free(vcm_disc_ws *ws); /* NULL or a zeroed struct: no-op */

/* Clears every activation gradient of ws. */
void vcm_disc_ws_zero_grad(vcm_disc_ws *ws);

/* x (B, F, T), B <= ws->B, T <= ws->T; x must stay valid until the backward (it is read by the
 * first conv's weight gradient). Fills ws->a[*].v, ws->h[*].v. */
void vcm_disc_forward(const vcm_disc *d, vcm_disc_ws *ws, const float *x, int B, int T);

/* Backward of the last forward from the activation gradients the caller set: ws->a[L-1].d (the
 * score map's) and any ws->h[l].d (features'; both are inputs and are added into along the
 * way, so clear them with vcm_disc_ws_zero_grad before setting what you need). The hidden
 * ws->a[l].d, l < L-1, are overwritten. Adds into dx (B, F, T) if non-NULL, and into d's
 * parameter gradients only if param_grads (which needs d built with_grad); with param_grads 0
 * the discriminator is only read. */
void vcm_disc_backward(const vcm_disc *d, vcm_disc_ws *ws, float *dx, int param_grads);

typedef struct vcm_adv_losses {
    double d_real, d_fake; /* discriminator: mean (D(real) - 1)^2, mean D(fake)^2 */
    double g_adv, g_fm;    /* generator: mean (D(fake) - 1)^2, feature matching (below) */
} vcm_adv_losses;

/* After vcm_disc_forward on the real (target) and fake (decoder output) spectrograms of the
 * same (B, T): the generator's loss
 *   w (g_adv + VCM_DISC_FM_WEIGHT g_fm),
 * g_fm the mean over the L-1 feature layers of mean |h_fake - h_real| (the real features are
 * constants), its gradient ADDED into dfake (B, F, T). The discriminator's parameters are only
 * read. Clears and uses fake's activation gradients. Fills out->g_adv and out->g_fm
 * (unweighted); leaves out->d_real, out->d_fake as they were. */
void vcm_disc_generator_backward(const vcm_disc *d, vcm_disc_ws *real, vcm_disc_ws *fake, float w,
                                 float *dfake, vcm_adv_losses *out);

/* The discriminator's loss d_real + d_fake on the same two forwards, its gradient ADDED into d's
 * parameter gradients (zeroing them is the caller's; d built with_grad). Clears and uses both
 * workspaces' activation gradients. Fills out->d_real and out->d_fake. */
void vcm_disc_backward_loss(const vcm_disc *d, vcm_disc_ws *real, vcm_disc_ws *fake,
                            vcm_adv_losses *out);

/* A training step's discriminator work in the order above: d's gradients cleared, both
 * forwards (x_real the targets, x_fake the decoder's output, (B, F, T) each), the generator's
 * gradient ADDED into dfake, the discriminator's into d's gradients; all four losses into *out.
 * The caller steps d's optimiser afterwards. */
void vcm_disc_pass(vcm_disc *d, vcm_disc_ws *real, vcm_disc_ws *fake, const float *x_real,
                   const float *x_fake, int B, int T, float w, float *dfake, vcm_adv_losses *out);

#endif
