/* The voice-conversion model: content encoder + VQ, speaker encoder, AdaIN decoder + postnet.
 *
 * Tensors are (B, C, T) as everywhere (time contiguous); T is even (the content path runs at
 * T/2). Inputs are normalized log-mel, channel-major: x (B, M, T), not the front end's (T, M).
 *
 *   content   x (B,M,T) -> conv_in k5 -> IN -> ReLU -> res_blocks x [h += ReLU(IN(conv k5 h))]
 *             -> down k4 s2 (T/2) -> IN -> ReLU -> conv_out k1 -> z (B,D,T/2) -> VQ -> zq, codes
 *             (IN: instance norm without affine; it strips per-utterance statistics)
 *   speaker   xs (B,M,Ts) -> 3 x [conv k5 + ReLU] (Cs) -> mean+std pool (B,2Cs) -> linear -> spk
 *             (B,S); no instance norm: the speaker lives in the statistics
 *   decoder   upsample zq x2 -> concat pitch p (B,2,T) -> conv_in k5 (C) [+ retrieval k5 (C)]
 *             -> dec_blocks x [h += ReLU(AdaIN(conv k5 h, gamma_i(spk), beta_i(spk)))]
 *             -> mel_out k1 -> mel (B,M,T);  h -> postnet conv k5 (P) -> ReLU -> k1 -> lin (B,F,T)
 *   loss      L1(mel, mel_target) + L1(lin, lin_target) + beta mean ||z - sg(zq)||^2
 *
 * Retrieval input (cfg.retrieval = 1): the decoder also reads r (B, M + 1, T), for each frame
 * the mean normalised log-mel of the k reference frames nearest in content (model/retrieval.h)
 * and a flag channel (1 where frames were retrieved, 0 where r holds none), through its own
 * k5 conv added to conv_in's output. That conv starts at zero, so a model warm-started from
 * one without retrieval begins by computing what that model computed. No gradient flows into
 * r (the frames are data).
 *
 * Phone head (cfg.phone_head = 1; off in both presets): a k1 conv from z to VCM_PHONES logits
 * (model/phones.h), trained with a softmax cross-entropy against time-aligned phone labels
 * (vcm_forward_phones), so the content encoder's output must separate the phones linearly,
 * whoever speaks them. Conversion never reads it; the gradient reaches the content encoder
 * through z alone.
 *
 * The parameter table is built from the config (vcm_model_init) in one walk that also records
 * which layer field each row binds to, so the table is the only list of tensors: it sizes the
 * slab, initialises it, names it in files and enumerates it in tests. Names:
 *   content.conv_in.{w,b} content.res<i>.{w,b} content.down.{w,b} content.conv_out.{w,b}
 *   vq.codebook (N, D)
 *   speaker.conv<0..2>.{w,b} speaker.proj.{w,b}
 *   decoder.conv_in.{w,b} decoder.block<i>.conv.{w,b} decoder.block<i>.gamma.{w,b}
 *   decoder.block<i>.beta.{w,b} decoder.mel_out.{w,b} postnet.conv0.{w,b} postnet.conv1.{w,b}
 *   decoder.retrieval.{w,b} (with cfg.retrieval) phone.classifier.{w,b} (with cfg.phone_head)
 * Weights U(+-1/sqrt(fan_in)) (decoder.retrieval.w 0), biases 0, AdaIN gamma biases 1 (gamma starts
 * at 1), codebook N(0, 1). The VQ's EMA state (ema_count, ema_sum) is training state outside the
 * slab.
 *
 * Model files (vcm_model_save / vcm_model_load): the parameters under their table names plus
 * __metadata__: the config ("vconv.<field>", config.h), the normalisation statistics
 *   vconv.norm_mean, vconv.norm_std          log-mel mean / std, M values
 *   vconv.norm_lin_mean, vconv.norm_lin_std  log-magnitude mean / std, F values
 * (comma-separated "%.9g"; absent keys load as 0 / 1), and the caller's own pairs.
 */
#ifndef VC_MODEL_MODEL_H
#define VC_MODEL_MODEL_H

#include "model/config.h"
#include "model/phones.h"
#include "nn/conv1d.h"
#include "nn/linear.h"
#include "nn/norm.h"
#include "nn/params.h"
#include "nn/vq.h"

#define VCM_NORM_EPS 1e-5f /* instance norm, AdaIN and pooling variance floor */
#define VCM_SPK_CONVS 3
#define VCM_TRAIN_FRAMES 128 /* the default training segment: the inference norm_window */

typedef struct vcm_dec_block {
    conv1d conv;        /* C -> C, k5 */
    linear gamma, beta; /* S -> C each: AdaIN scale and shift from the speaker embedding */
} vcm_dec_block;

/* Which layer field a table row fills (recorded while the table is built). */
typedef struct vcm_binding {
    float **data, **grad; /* the layer's value and gradient pointers */
} vcm_binding;

typedef struct vcm_model {
    vcm_config cfg;
    vc_param_spec *spec; // (n_spec) the table built from cfg
    vcm_binding *bind;   // (n_spec) row i binds into *bind[i].data / *bind[i].grad
    int n_spec;
    vc_params params; /* slab from the table; params.grad NULL without gradients */

    /* content encoder */
    conv1d c_in;    /* M -> C, k5 */
    conv1d *c_res;  // (res_blocks) C -> C, k5
    conv1d c_down;  /* C -> C, k4 stride 2 */
    conv1d c_out;   /* C -> D, k1 */
    instnorm inorm; /* non-affine, C channels: shared by every content IN (it has no parameters) */
    vq vq;          /* codebook in the slab; EMA state below */
    float *ema_count; // (N)
    float *ema_sum;   // (N, D)

    /* speaker encoder */
    conv1d s_conv[VCM_SPK_CONVS]; /* M -> Cs, then Cs -> Cs; k5 */
    linear s_proj;                /* 2 Cs -> S */

    /* decoder */
    conv1d d_in;            /* D + 2 -> C, k5 */
    conv1d d_ret;           /* M + 1 -> C, k5: the retrieval input (cfg.retrieval), else unbound */
    vcm_dec_block *d_block; // (dec_blocks)
    conv1d d_mel;           /* C -> M, k1 */
    conv1d post0;           /* C -> P, k5 */
    conv1d post1;           /* P -> F, k1 */
    conv1d phone;           /* D -> VCM_PHONES, k1: the phone head (cfg.phone_head), else unbound */

    /* normalisation statistics of the data (travel in the model file) */
    float *mel_mean, *mel_std; // (M), (M)
    float *lin_mean, *lin_std; // (F), (F)

    /* the file's other metadata pairs (training provenance) as vcm_model_load found them:
     * key0, value0, key1, ... each malloc'd; NULL for a model that was not loaded */
    char **meta_kv; // (2 n_meta)
    int n_meta;
} vcm_model;

/* Builds the table and slab (zeroed; call vcm_model_randomize) and binds every layer.
 * VC_ERR_ARG for an invalid config, VC_ERR_NOMEM. On failure *m frees cleanly. */
VC_WARN_UNUSED vc_status vcm_model_init(vcm_model *m, const vcm_config *cfg, int with_grad);
void vcm_model_free(vcm_model *m); /* zeroed or NULL: no-op */

/* Initialises the parameters from the table (draws from rng in table order) and clears the
 * EMA state. Same seed, same parameters. */
void vcm_model_randomize(vcm_model *m, vc_rng *rng);

/* Number of table rows with no layer pointer bound, plus layer pointers left NULL (0 when the
 * model is wired completely; a test checks it). */
int vcm_model_unbound(const vcm_model *m);

/* Parameter count (floats, padding excluded). */
size_t vcm_model_n_params(const vcm_model *m);

/* An activation and its gradient (d is NULL in a workspace without gradients). */
typedef struct vcm_act {
    float *v, *d;
} vcm_act;

typedef struct vcm_res_ws {
    vcm_act a, n, r, h; /* conv out, IN out, ReLU out, block output h_in + r; (B, C, T) */
    float *mean, *rstd; // (B, C) IN statistics
} vcm_res_ws;

typedef struct vcm_dec_ws {
    vcm_act a, b, r, h; /* conv out, AdaIN out, ReLU out, block output h_in + r; (B, C, T) */
    vcm_act g, be;      /* AdaIN gamma, beta (B, C) */
    float *mean, *rstd; // (B, C)
} vcm_dec_ws;

typedef struct vcm_losses {
    double mel, lin, commit, total; /* total = mel + lin + commit */
} vcm_losses;

/* Every activation and its gradient for (B, T, Ts), sized up front: forward and backward never
 * allocate. A workspace for (B, T, Ts) also serves any smaller batch or lengths (inference). */
typedef struct vcm_workspace {
    int B, T, Ts;         /* capacity; T even */
    int quantize;         /* of the last vcm_forward_train */
    int Bc, Tc, Tsc;      /* sizes of the last forward */
    float *vslab, *dslab; /* the value and gradient arenas (dslab NULL without gradients) */
    size_t vn, dn;        /* floats in each */
    float *scratch;       // (n_scratch) GEMM / VQ scratch
    size_t n_scratch;
    /* Inference: 0 (the default, and training's) normalises each row over all its frames;
     * N > 0 uses statistics over a sliding window of N frames at the frame rate (N / 2 at the
     * content encoder's half rate), the length the model was trained on (VCM_TRAIN_FRAMES), so
     * long inputs are normalised as training segments were (norm.h, vcn_norm_local_forward). */
    int norm_window;
    double *norm_scratch; // (2 (T + 1))
    /* inputs of the last forward (the caller's arrays) and their gradients */
    const float *x, *p, *xs, *mel_t, *lin_t; /* (B,M,T) (B,2,T) (B,M,Ts) (B,M,T) (B,F,T) */
    const float *r;                          /* (B,M+1,T) retrieval input, or NULL: none */
    float *dx, *dp, *dxs;                    // (B,M,T) (B,2,T) (B,M,Ts)
    /* content encoder */
    vcm_act c_a, c_n, c_h;    /* conv_in, IN, ReLU; (B, C, T) */
    float *c_mean, *c_rstd;   // (B, C)
    vcm_res_ws *res;          // (res_blocks)
    vcm_act dn_a, dn_n, dn_h; /* down conv, IN, ReLU; (B, C, T/2) */
    float *dn_mean, *dn_rstd; // (B, C)
    vcm_act z, zq;            /* (B, D, T/2) */
    float *zmix;              /* (B, D, T/2) the decoder's content when training blends it */
    const float *zin;         /* the decoder's content input of the last vcm_forward_train */
    int *idx;                 // (B, T/2) codes
    /* speaker encoder */
    vcm_act s_a[VCM_SPK_CONVS], s_h[VCM_SPK_CONVS]; /* conv, ReLU; (B, Cs, Ts) */
    vcm_act pool;                                   /* (B, 2 Cs) */
    vcm_act spk;                                    /* (B, S) */
    /* decoder */
    vcm_act up;      /* (B, D, T) */
    vcm_act cat;     /* (B, D + 2, T) */
    vcm_act d_h0;    /* conv_in out (B, C, T), plus the retrieval conv's */
    vcm_act ret;     /* the retrieval conv's output (B, C, T) (cfg.retrieval) */
    vcm_dec_ws *blk; // (dec_blocks)
    vcm_act mel;     /* (B, M, T) */
    vcm_act pa, pr;  /* postnet conv0, ReLU; (B, P, T) */
    vcm_act lin;     /* (B, F, T) */
    /* the phone head (cfg.phone_head): logits (B, VCM_PHONES, T/2) of the last
     * vcm_forward_phones, its labels (B, T/2) and weight; labels NULL: no phone loss */
    vcm_act ph;
    const int *ph_labels;
    float ph_weight;
    /* the last vcm_forward_cycle's voice (B, S), content target (B, D, T/2) and weights */
    const float *spk_in, *z_target;
    float w_content, w_speaker;
} vcm_workspace;

/* Gradients are allocated when the model has them. VC_ERR_ARG for B < 1, T < 2 or odd,
 * Ts < 1; VC_ERR_NOMEM. */
VC_WARN_UNUSED vc_status vcm_workspace_init(vcm_workspace *ws, const vcm_model *m, int B, int T,
                                            int Ts);
void vcm_workspace_free(vcm_workspace *ws);

/* Training forward over the workspace's (B, T, Ts): x, mel_target (B, M, T), p (B, 2, T),
 * xs (B, M, Ts), lin_target (B, F, T), r (B, M + 1, T) the retrieval input (models with
 * cfg.retrieval; NULL there means no frames retrieved for any item, ignored without). quantize = 0
 * bypasses the VQ (zq = z, commitment 0): the gradient check needs it, since the straight-through
 * estimator is not the derivative of the quantized forward. blend (B values, or NULL: all 0):
 * with quantize, item b's decoder reads code + blend[b] (z - code), between its codes (0) and the
 * continuous content (1), as vcm_decode does at conversion; the commitment loss still measures
 * z against the codes, and the gradient into z is the straight-through one whatever the blend.
 * The arrays must stay alive until vcm_backward. Losses into *out (may be NULL). */
void vcm_forward_train(const vcm_model *m, vcm_workspace *ws, const float *x, const float *p,
                       const float *xs, const float *r, const float *mel_target,
                       const float *lin_target, int quantize, const float *blend, vcm_losses *out);

/* The phone loss (cfg.phone_head), after vcm_forward_train: the head reads ws->z (the
 * content encoder's output on x) and labels (B, T/2) give each code position's class in
 * [0, VCM_PHONES), or -1 where none is known. The loss is weight times the cross-entropy summed
 * over the labelled positions, divided by all B T/2 positions (so a batch's share of
 * unlabelled positions lowers its weight, and the sum over a cluster's ranks of their shares is
 * the one-process loss). vcm_backward then adds its gradient (into the head and, through z, the
 * content encoder); the next vcm_forward_train forgets it. labels must stay alive until
 * vcm_backward. Into *out (may be NULL): the mean cross-entropy and accuracy over the labelled
 * positions and their count (0: both means 0). */
typedef struct vcm_phone_losses {
    double xent, accuracy, loss; /* loss: what joins the total (weighted, over all positions) */
    long labelled;
} vcm_phone_losses;
void vcm_forward_phones(const vcm_model *m, vcm_workspace *ws, const int *labels, float weight,
                        vcm_phone_losses *out);

/* Backward of the total loss of the last forward: ADDS into the parameter gradients (zero them
 * with vcn_params_zero_grad) and writes ws->dx, dp, dxs. Activation gradients are cleared here. */
void vcm_backward(const vcm_model *m, vcm_workspace *ws);
/* The same with dlin (B, F, T), the gradient of a further loss on the log-magnitude output
 * (adversarial training's), added to the L1 loss's; NULL is vcm_backward. */
void vcm_backward_with(const vcm_model *m, vcm_workspace *ws, const float *dlin);

/* The same from given output gradients dmel (B, M, T) and dlin (B, F, T) instead of the L1
 * losses (the commitment gradient is still added; it is 0 when quantize was 0). For gradient
 * checks with a smooth projection loss. */
void vcm_backward_from_outputs(const vcm_model *m, vcm_workspace *ws, const float *dmel,
                               const float *dlin);

/* Conversion consistency (training, vc_train_params.cycle_content / cycle_speaker). In training
 * the decoder only ever renders content in the voice it came from; at conversion it renders it
 * in another. This pass decodes content zin (B, D, T/2) in voices spk (B, S) taken from other
 * items, with pitch p (B, 2, T), and reads the decoded mel back through both encoders:
 *   content  w_content mean ||E_c(mel) - z_target||^2   (z_target: the content to keep, B,D,T/2)
 *   speaker  w_speaker mean ||E_s(mel) - spk||^2        (the voice asked for)
 * so the decoder learns to keep the words and take the voice it is given. The encoders are
 * only read: vcm_backward_cycle adds into the decoder's parameter gradients alone, and no
 * gradient reaches zin, spk or z_target (data here). ws is a workspace of its own, with
 * Ts == T (the speaker encoder reads the T decoded frames); the decoder reads no retrieval input.
 * The arrays must stay alive until vcm_backward_cycle. */
typedef struct vcm_cycle_losses {
    double content, speaker, total; /* total = w_content content + w_speaker speaker */
} vcm_cycle_losses;
void vcm_forward_cycle(const vcm_model *m, vcm_workspace *ws, const float *zin, const float *spk,
                       const float *p, const float *z_target, float w_content, float w_speaker,
                       vcm_cycle_losses *out);
void vcm_backward_cycle(const vcm_model *m, vcm_workspace *ws);
/* The voices that pass decodes a batch in: item b takes spk of item b ^ 1, its partner (the last
 * item of an odd batch keeps its own). spk, out (B, S), distinct arrays. */
void vcm_cycle_voices(const float *spk, int B, int S, float *out);

/* Inference, batch 1, with a workspace of B >= 1 (gradients unused):
 *   vcm_encode_content  x (M, T), T even and <= ws->T  -> codes (T/2)
 *   vcm_encode_speaker  xs (M, Ts), Ts <= ws->Ts       -> spk (S)
 *   vcm_decode          codes (T2), 2 T2 <= ws->T, spk (S), p (2, T), r (M + 1, T) or NULL
 *                       (the retrieval input; NULL: none retrieved) -> mel (M, T), lin (F, T);
 *                       with z (D, T2), the content encoder's continuous output for the same
 *                       frames (ws->z after vcm_encode_content), the decoder reads
 *                       code + blend (z - code) instead of the code (NULL: the codes alone)
 * VC_ERR_ARG for sizes beyond the workspace or a code outside [0, N). */
VC_WARN_UNUSED vc_status vcm_encode_content(const vcm_model *m, vcm_workspace *ws, const float *x,
                                            int T, int *codes);
VC_WARN_UNUSED vc_status vcm_encode_speaker(const vcm_model *m, vcm_workspace *ws, const float *xs,
                                            int Ts, float *spk);
VC_WARN_UNUSED vc_status vcm_decode(const vcm_model *m, vcm_workspace *ws, const int *codes,
                                    const float *z, float blend, int T2, const float *spk,
                                    const float *p, const float *r, float *mel, float *lin);

/* The content encoder alone over a batch, x (B, M, T), T even, B and T within the workspace:
 * ws->z and the hidden states, for reading features (retrieval.h); nothing is quantized. */
void vcm_content_forward(const vcm_model *m, vcm_workspace *ws, const float *x, int B, int T);

/* Writes the parameters (F32, or F16 when f16) with the config, the normalisation statistics
 * and the caller's meta_kv pairs (n_meta, which must not use the keys written here). Temp file
 * + rename. */
VC_WARN_UNUSED vc_status vcm_model_save(const char *path, const vcm_model *m,
                                        const char *const *meta_kv, int n_meta, int f16);

/* Reads the config from the file's metadata, builds the model (with_grad as in
 * vcm_model_init), then reads the parameters and statistics. Statuses: VC_ERR_IO, VC_ERR_FORMAT
 * (not safetensors, a missing or bad config key, bad statistics), VC_ERR_VERSION, VC_ERR_SHAPE
 * (tensors that do not fit the config), each with a log line. The file's other metadata pairs
 * are kept in m->meta_kv. *m is zeroed on failure. */
VC_WARN_UNUSED vc_status vcm_model_load(const char *path, vcm_model *m, int with_grad);
/* The same from a parsed file (a buffer, for fuzzing); what names it in log lines. */
VC_WARN_UNUSED vc_status vcm_model_read(const st_file *f, const char *what, vcm_model *m,
                                        int with_grad);

#endif
