/* Hyperparameters of the voice-conversion model (content encoder, VQ, speaker encoder, decoder).
 *
 * A config comes from a named preset, optionally overridden by JSON, and travels inside the
 * model file as __metadata__ pairs "vconv.<field>" = decimal string (every field, see
 * vcm_config_to_meta), so a model file alone is enough to rebuild its parameter table.
 *
 * Presets:
 *   "tiny"     C 32, 1 res block, D 16, N 32, Cs 32, S 16, 2 dec blocks, postnet 32
 *              (trains in seconds; tests)
 *   "default"  C 256, 2 res blocks, D 64, N 512, Cs 256, S 128, 4 dec blocks, postnet 256
 * Both take the front end from vc_frontend_default_params (16 kHz, n_fft 1024, hop 256, 80 mels,
 * mel range 0-8000 Hz, F0 range 60-500 Hz) and beta 0.25, ema_decay 0.99, activation ReLU.
 *
 * The front-end fields are what the model hears (model/audio_contract.h builds the front end
 * from them). fmin, fmax, f0_min and f0_max may be absent from a model file written before
 * they were stored: such a file loads with the values its training used, fmin 0, fmax
 * vcm_default_fmax(sample_rate), F0 60-500 Hz. A file without retrieval, phone_head or envelope
 * has none (0).
 */
#ifndef VC_MODEL_CONFIG_H
#define VC_MODEL_CONFIG_H

#include "common.h"
#include "io/safetensors.h"

/* Activation of every hidden layer. ReLU is the model's; GELU exists so that the whole-model
 * gradient check can run on a smooth network (a weight moves hundreds of ReLU inputs, so a
 * finite difference almost always crosses a kink). */
enum { VCM_ACT_RELU = 0, VCM_ACT_GELU = 1 };

typedef struct vcm_config {
    int sample_rate, n_fft, hop;
    int n_mels;           /* M */
    float fmin, fmax;     /* the mel bands' range in Hz (the front end's, vc_frontend_params) */
    float f0_min, f0_max; /* the F0 tracker's search range in Hz */
    int n_bins;           /* F = n_fft / 2 + 1 */
    int channels;         /* C: content encoder and decoder width */
    int res_blocks;       /* residual blocks of the content encoder */
    int code_dim;         /* D */
    int codebook_size;    /* N */
    int spk_channels;     /* Cs: speaker encoder width */
    int spk_dim;          /* S */
    int dec_blocks;       /* AdaIN residual blocks of the decoder */
    int postnet_channels; /* P */
    int activation;       /* VCM_ACT_RELU (DESIGN's choice, the presets) or VCM_ACT_GELU */
    float beta;           /* commitment weight */
    float ema_decay;      /* codebook EMA decay */
    int retrieval;        /* 1: the decoder also reads reference frames retrieved by content
                             (model.h, "retrieval input"); 0 in both presets */
    int phone_head;       /* 1: a phone classifier reads z, for training's phone loss
                             (model.h, "phone head"); 0 in both presets */
    int envelope;         /* what the postnet predicts: 0 the STFT log-magnitude, 1 the WORLD
                             spectral envelope (dsp/world_analysis.h, pitch-period scale) */
} vcm_config;

/* The mel range's top when none is given: 8000 Hz, or the Nyquist rate below 16 kHz (what
 * training has always used). */
float vcm_default_fmax(int sample_rate);

/* VC_ERR_ARG (with a log line) for an unknown name. */
VC_WARN_UNUSED vc_status vcm_config_preset(const char *name, vcm_config *c);

/* VC_OK, or VC_ERR_ARG with a log line naming the first bad field: every size positive and
 * below a sanity bound, n_bins == n_fft / 2 + 1, 0 <= fmin < fmax <= sample_rate / 2,
 * 0 < f0_min < f0_max < sample_rate / 2, beta >= 0, 0 <= ema_decay < 1. */
VC_WARN_UNUSED vc_status vcm_config_validate(const vcm_config *c);

/* Parses a JSON object: an optional "preset" (default "default") gives the starting values,
 * then every other key must name a field (integers for the int fields). n_bins follows n_fft
 * and fmax follows sample_rate (vcm_default_fmax) unless given. Unknown keys, wrong types,
 * malformed JSON: VC_ERR_FORMAT with a log line; an invalid result: VC_ERR_ARG. *c is written only
 * on success. */
VC_WARN_UNUSED vc_status vcm_config_from_json(const char *text, vcm_config *c);

/* Every field as one JSON object (no "preset" key); *out is malloc'd, free with free(). */
VC_WARN_UNUSED vc_status vcm_config_to_json(const vcm_config *c, char **out);

/* Metadata pairs of a config: kv = key0, value0, key1, ... (n pairs), pointing into the struct
 * itself. */
#define VCM_CONFIG_META_MAX 24
typedef struct vcm_config_meta {
    char key[VCM_CONFIG_META_MAX][32];
    char value[VCM_CONFIG_META_MAX][32];
    const char *kv[2 * VCM_CONFIG_META_MAX];
    int n;
} vcm_config_meta;

void vcm_config_to_meta(const vcm_config *c, vcm_config_meta *out);

/* Reads every "vconv.<field>" key of a parsed model file (the front-end ranges may be absent:
 * see above). A missing key, a value that is not
 * a complete decimal number, or an invalid config: VC_ERR_FORMAT with a log line naming
 * `what` (the file) and the key. *c is written only on success. */
VC_WARN_UNUSED vc_status vcm_config_from_meta(const st_file *f, const char *what, vcm_config *c);

#endif
