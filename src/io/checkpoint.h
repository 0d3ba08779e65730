/* Training checkpoints: everything a stopped run needs to continue bit for bit.
 *
 * One safetensors file (F32, written atomically through vci_safetensors_write), layout in
 * docs/checkpoint.md. Tensors:
 *   "params"        (P)     the whole parameter slab, padding included (P = params.total)
 *   "adam.m"        (P)     AdamW first moment, same layout
 *   "adam.v"        (P)     AdamW second moment, same layout
 *   "vq.ema_count"  (N)     the codebook's EMA counts
 *   "vq.ema_sum"    (N, D)  the codebook's EMA sums
 *   "norm.mel_mean", "norm.mel_std"   (M)  log-mel statistics
 *   "norm.lin_mean", "norm.lin_std"   (F)  log-magnitude statistics
 * __metadata__:
 *   the model config as in a model file ("vconv.<field>", model/config.h), so the file alone
 *   rebuilds the parameter table;
 *   "vconv.ckpt_version" = VCI_CKPT_VERSION;
 *   training state: "vconv.step", "vconv.adam_step", "vconv.rng" (the training stream's state),
 *   all unsigned decimal;
 *   run settings (vci_run below), one key each: "vconv.seed", "vconv.batch",
 *   "vconv.segment_frames", "vconv.val_share" (every checkpoint), and, written since the run
 *   settings moved into the checkpoint (absent from older files, which still load):
 *   "vconv.steps", "vconv.lr", "vconv.warmup", "vconv.clip", "vconv.val_every",
 *   "vconv.checkpoint_every", "vconv.log_every", and the training-data options
 *   "vconv.speaker_utterance", "vconv.augment_warp", "vconv.augment_pitch",
 *   "vconv.augment_eq_db", "vconv.denoise", "vconv.continuous_content", "vconv.cycle_content",
 *   "vconv.cycle_speaker", "vconv.adversarial" (absent: off, which is what older runs did).
 * With adversarial training on, the discriminator's state too:
 *   "disc.params", "disc.adam.m", "disc.adam.v"  its parameter slab and AdamW moments (it
 *                                                  steps with the model: one adam_step)
 * Floats are "%.9g", which reads back to the same float.
 */
#ifndef VC_IO_CHECKPOINT_H
#define VC_IO_CHECKPOINT_H

#include "io/safetensors.h"
#include "model/model.h"
#include "nn/adam.h"

#define VCI_CKPT_VERSION "1"

/* The settings that fix a run's result, which a resume takes from the checkpoint. */
typedef struct vci_run {
    uint64_t seed;
    int batch, segment_frames;
    float val_share;
    long steps;
    float lr;
    int warmup;
    float clip;
    int val_every, checkpoint_every, log_every;
    int speaker_utterance;    /* 1: the speaker branch reads another utterance of the speaker */
    float augment_warp;       /* frequency warp: factor drawn in [1 - w, 1 + w]; 0 off */
    float augment_pitch;      /* pitch-like shift: up to +-this many semitones; 0 off */
    float augment_eq_db;      /* random smooth EQ: up to +-this many dB; 0 off */
    float denoise;            /* probability that an encoder input is corrupted; 0 off */
    float continuous_content; /* probability that the decoder reads blended content; 0 off */
    float cycle_content;      /* conversion consistency weights (content, speaker); 0 off */
    float cycle_speaker;
    float adversarial; /* adversarial training's weight; 0 off (no discriminator) */
    float phone_loss;  /* the phone loss's weight; 0 off */
} vci_run;

/* Which vci_run fields a file held (bit per field, in the order above: VCI_RUN_<FIELD>). */
enum {
    VCI_RUN_SEED = 1u << 0,
    VCI_RUN_BATCH = 1u << 1,
    VCI_RUN_SEGMENT = 1u << 2,
    VCI_RUN_VAL_SHARE = 1u << 3,
    VCI_RUN_STEPS = 1u << 4,
    VCI_RUN_LR = 1u << 5,
    VCI_RUN_WARMUP = 1u << 6,
    VCI_RUN_CLIP = 1u << 7,
    VCI_RUN_VAL_EVERY = 1u << 8,
    VCI_RUN_CKPT_EVERY = 1u << 9,
    VCI_RUN_LOG_EVERY = 1u << 10,
    VCI_RUN_SPK_UTT = 1u << 11,
    VCI_RUN_AUG_WARP = 1u << 12,
    VCI_RUN_AUG_PITCH = 1u << 13,
    VCI_RUN_AUG_EQ = 1u << 14,
    VCI_RUN_DENOISE = 1u << 15,
    VCI_RUN_CONTINUOUS = 1u << 16,
    VCI_RUN_CYCLE_CONTENT = 1u << 17,
    VCI_RUN_CYCLE_SPEAKER = 1u << 18,
    VCI_RUN_ADVERSARIAL = 1u << 19,
    VCI_RUN_PHONE_LOSS = 1u << 20,
    /* every checkpoint since version 1 has these */
    VCI_RUN_REQUIRED = VCI_RUN_SEED | VCI_RUN_BATCH | VCI_RUN_SEGMENT | VCI_RUN_VAL_SHARE
};

/* Training state besides the tensors. */
typedef struct vci_ckpt_state {
    long step;      /* optimiser steps done */
    long adam_step; /* AdamW's own count (a skipped step does not advance it) */
    uint64_t rng;   /* the training stream's state */
    vci_run run;
    unsigned have; /* VCI_RUN_* bits of the run settings the file held (on read) */
} vci_ckpt_state;

/* Writes the checkpoint of model m (with its EMA state and statistics) and optimiser opt, and,
 * when disc is not NULL, the discriminator's slab and its optimiser disc_opt. */
VC_WARN_UNUSED vc_status vci_checkpoint_write(const char *path, const vcm_model *m,
                                              const adamw *opt, const vc_params *disc,
                                              const adamw *disc_opt, const vci_ckpt_state *s);

/* Opens a checkpoint: checks the version (VC_ERR_VERSION with a HINT for other files, a model
 * file among them) and reads its model config. On success *f stays open for the calls below
 * (vci_safetensors_free it); on failure it is freed. */
VC_WARN_UNUSED vc_status vci_checkpoint_open(const char *path, st_file *f, vcm_config *cfg);

/* Reads the training state and whichever run settings the file holds (s->have); the others
 * are left as they were. VC_ERR_FORMAT when a required key is missing or malformed. */
VC_WARN_UNUSED vc_status vci_checkpoint_read_state(const st_file *f, const char *path,
                                                   vci_ckpt_state *s);

/* Reads the tensors into m (built from the file's config, with gradients) and opt (sized for
 * m's slab), and, when disc is not NULL, the discriminator's into disc and disc_opt.
 * VC_ERR_SHAPE names a missing or misfitting tensor. */
VC_WARN_UNUSED vc_status vci_checkpoint_restore(const st_file *f, const char *path, vcm_model *m,
                                                adamw *opt, vc_params *disc, adamw *disc_opt);

#endif
